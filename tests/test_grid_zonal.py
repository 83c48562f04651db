"""Pixel areas from the CRS and exact zonal totals with edge fractions (docs/method.md, "Zonal
totals")."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import AEA, write_raster
from pyproj import Geod

from carbonbudget.core.errors import GridError
from carbonbudget.core.grid import Grid, ellipsoid_row_areas_m2, pixel_cover
from carbonbudget.regions.zonal import coverage_matrix, in_region_fraction, zonal_totals


def test_equal_area_pixel_area_constant(small_grid):
    assert small_grid.kind == "equal_area"
    np.testing.assert_array_equal(small_grid.row_areas_m2(), np.full(4, 1e6))


def test_non_equal_area_projection_refused_unless_allowed():
    with pytest.raises(GridError, match="equal-area"):
        Grid.from_bounds("EPSG:3857", 1000, [0, 0, 5000, 4000])
    g = Grid.from_bounds("EPSG:3857", 1000, [0, 0, 5000, 4000], allow_non_equal_area=True)
    assert g.row_areas_m2()[0] == 1e6


def test_ellipsoid_areas_whole_earth_and_small_cell():
    # WGS84 total surface area 510,065,621.7 km² (Moritz 1980 / WGS84 derived constants)
    g = Grid.from_bounds("EPSG:4326", 1.0, [-180, -90, 180, 90])
    total = g.row_areas_m2().sum() * g.width
    assert total / 1e6 == pytest.approx(510_065_621.7, rel=1e-9)
    # a 0.01° cell: the geodesic polygon area converges to the parallel-bounded cell area
    a = ellipsoid_row_areas_m2(np.array([40.01]), np.array([40.0]), 0.01, 6378137.0, 298.257223563)
    geod_area, _ = Geod(ellps="WGS84").polygon_area_perimeter(
        [100, 100.01, 100.01, 100], [40, 40, 40.01, 40.01]
    )
    assert a[0] == pytest.approx(abs(geod_area), rel=1e-7)


def test_zonal_hand_case_with_edge_fractions(small_grid, tmp_path):
    # region a: x 500..2250 m, y 500..3000 m -> 1.75 km × 2.5 km = 4.375 km²
    # region b: x 2250..5000, whole height -> 2.75 × 4 = 11 km²
    regions = gpd.GeoDataFrame(
        {"code": ["a", "b"]},
        geometry=[shapely.box(500, 500, 2250, 3000), shapely.box(2250, 0, 5000, 4000)],
        crs=AEA,
    )
    codes, m = coverage_matrix(regions, "code", small_grid)
    assert codes == ["a", "b"]
    # pixel (row 1, col 0) spans x 0..1000, y 2000..3000 -> half inside a
    assert m[0, 1 * 5 + 0] == pytest.approx(0.5)
    assert m[0, 3 * 5 + 2] == pytest.approx(0.25 * 0.5)  # x 2000..2250, y 500..1000
    data = np.full(small_grid.shape, 100.0)  # g C m-2 yr-1
    data[0, 4] = np.nan  # a missing pixel inside b
    path = write_raster(tmp_path / "x.tif", data, small_grid)
    df = zonal_totals(m, codes, small_grid, {"ecs": path}).set_index("code")
    np.testing.assert_allclose(df["area_km2"], [4.375, 11.0])
    # total = 100 g m-2 × area (m²) / 1e12; b loses its missing 1 km² pixel
    assert df.loc["a", "ecs_tgc"] == pytest.approx(100 * 4.375e6 / 1e12)
    assert df.loc["b", "ecs_tgc"] == pytest.approx(100 * 10.0e6 / 1e12)
    assert df.loc["b", "ecs_valid_fraction"] == pytest.approx(10.0 / 11.0)
    frac = in_region_fraction(m, small_grid)
    # (row 0, col 0) is x 0..1000, y 3000..4000: outside both; (row 3, col 0) is a quarter in a
    assert frac[0, 0] == 0.0 and frac[3, 0] == pytest.approx(0.25) and frac[0, 4] == 1.0


def test_coverage_equals_exactextracts_own_reading_of_the_polygons(small_grid):
    """The polygons go to exactextract as WKB (its GeoDataFrame source sends GeoJSON text, three
    times slower): the same cells and coverages, in the regions' order, for a triangle, a
    polygon with a hole and a multipolygon."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    square = shapely.box(0, 0, 3000, 3000)
    geoms = [
        shapely.Polygon([(250, 250), (4750, 500), (2000, 3900)]),
        square.difference(shapely.box(1100, 1100, 1900, 1700)),
        shapely.MultiPolygon(
            [shapely.box(3100, 100, 3900, 900), shapely.box(4100, 2100, 4900, 3700)]
        ),
    ]
    regions = gpd.GeoDataFrame({"code": ["t", "h", "m"]}, geometry=geoms, crs=AEA)
    codes, m = coverage_matrix(regions, "code", small_grid)
    xmin, ymin, xmax, ymax = small_grid.bounds
    dummy = NumPyRasterSource(
        np.zeros(small_grid.shape, np.uint8), xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax
    )
    ref = exact_extract(dummy, regions, ["cell_id", "coverage"], output="pandas")
    assert codes == ["t", "h", "m"]
    for row, (ids, cov) in enumerate(zip(ref["cell_id"], ref["coverage"])):
        got = m[row].toarray().ravel()
        expected = np.zeros(small_grid.width * small_grid.height)
        expected[np.asarray(ids, dtype=int)] = cov
        np.testing.assert_array_equal(got, expected)
        assert got.sum() > 0


def _west_east(small_grid):
    regions = gpd.GeoDataFrame(
        {"code": ["w", "e"]},
        geometry=[shapely.box(0, 0, 2000, 4000), shapely.box(2000, 0, 5000, 4000)],
        crs=AEA,
    )
    return coverage_matrix(regions, "code", small_grid)


def test_a_cover_fraction_counts_its_share_of_each_pixel_in_every_sum(small_grid, tmp_path):
    """npp.cover_fraction 25 % on the west region (8 km²), 50 % on column 2 and 100 % on
    columns 3-4 (east, 12 km²): the west's area and totals are a quarter of its own, the east's
    4 x 0.5 + 8 = 10 km²; with a share of 1 everywhere the sums are those without one."""
    from carbonbudget.inputs.align import align_cover_fraction
    from carbonbudget.regions.zonal import weighted_coverage

    codes, m = _west_east(small_grid)
    data = np.full(small_grid.shape, 100.0)  # g C m-2 yr-1
    data[3, 0] = np.nan  # a pixel without NPP in the west: left out of the valid share
    flux = {"npp": write_raster(tmp_path / "npp.tif", data, small_grid)}
    share = np.ones(small_grid.shape)
    share[:, :2], share[:, 2] = 0.25, 0.5
    raw = write_raster(tmp_path / "cropland_percent.tif", 100 * share, small_grid)
    aligned = str(tmp_path / "share.tif")
    study = in_region_fraction(m, small_grid)
    align_cover_fraction({"path": raw, "scale": 0.01}, aligned, small_grid, study)
    df = zonal_totals(weighted_coverage(m, small_grid, aligned), codes, small_grid, flux)
    df = df.set_index("code")
    np.testing.assert_allclose(df.loc[["w", "e"], "area_km2"], [2.0, 10.0])
    assert df.loc["w", "npp_tgc"] == pytest.approx(100 * 7 * 0.25e6 / 1e12)
    assert df.loc["w", "npp_valid_fraction"] == pytest.approx(7 / 8)
    assert df.loc["e", "npp_tgc"] == pytest.approx(100 * 10e6 / 1e12)
    whole = write_raster(tmp_path / "one.tif", np.ones(small_grid.shape), small_grid)
    align_cover_fraction({"path": whole}, aligned, small_grid, study)
    same = zonal_totals(weighted_coverage(m, small_grid, aligned), codes, small_grid, flux)
    plain = zonal_totals(m, codes, small_grid, flux)
    np.testing.assert_allclose(same["npp_tgc"], plain["npp_tgc"], rtol=1e-12)
    assert weighted_coverage(m, small_grid, None) is m


def test_a_cover_fraction_in_percent_or_with_a_hole_is_refused(small_grid, tmp_path):
    from carbonbudget.core.errors import InputDataError
    from carbonbudget.inputs.align import align_cover_fraction

    codes, m = _west_east(small_grid)
    study = in_region_fraction(m, small_grid)
    percent = write_raster(tmp_path / "p.tif", np.full(small_grid.shape, 40.0), small_grid)
    with pytest.raises(InputDataError, match="shares from 40 to 40") as exc:
        align_cover_fraction({"path": percent}, str(tmp_path / "a.tif"), small_grid, study)
    assert exc.value.variable == "npp.cover_fraction" and "scale (0.01" in exc.value.fix
    hole = np.full(small_grid.shape, 0.4)
    hole[1, 1] = np.nan
    holed = write_raster(tmp_path / "h.tif", hole, small_grid)
    with pytest.raises(InputDataError, match=r"no value on 1 pixels of the study area \(5.0 %"):
        align_cover_fraction({"path": holed}, str(tmp_path / "a.tif"), small_grid, study)


def test_every_flux_is_summed_over_the_same_pixels_and_no_data_is_nan(small_grid, tmp_path):
    """RH known over a lake where NPP, NEP and ECS are not: each total is over the pixels where
    every flux is known, so NPP = NEP + RH holds for the totals; a region without one known
    pixel has NaN totals, never 0."""
    regions = gpd.GeoDataFrame(
        {"code": ["a", "b"]},
        geometry=[shapely.box(0, 0, 3000, 4000), shapely.box(3000, 0, 5000, 4000)],
        crs=AEA,
    )
    codes, m = coverage_matrix(regions, "code", small_grid)
    rh = np.full(small_grid.shape, 300.0)
    npp = np.full(small_grid.shape, 500.0)
    npp[1, 1] = np.nan  # the lake of region a
    npp[:, 3:] = np.nan  # region b: no NPP anywhere
    paths = {
        "rh": write_raster(tmp_path / "rh.tif", rh, small_grid),
        "nep": write_raster(tmp_path / "nep.tif", npp - rh, small_grid),
        "npp": write_raster(tmp_path / "npp.tif", npp, small_grid),
    }
    df = zonal_totals(m, codes, small_grid, paths).set_index("code")
    a = df.loc["a"]
    assert a["rh_tgc"] == pytest.approx(300 * 11e6 / 1e12)  # 11 of the 12 km²
    assert a["npp_tgc"] == pytest.approx(a["nep_tgc"] + a["rh_tgc"], rel=1e-12)
    assert a["rh_valid_fraction"] == a["npp_valid_fraction"] == pytest.approx(11 / 12)
    b = df.loc["b"]
    assert np.isnan(b["rh_tgc"]) and np.isnan(b["npp_tgc"]) and b["rh_valid_fraction"] == 0


def test_zonal_geographic_grid_rows_differ(tmp_path):
    g = Grid.from_bounds("EPSG:4326", 1.0, [100, 40, 103, 44])  # 3 × 4 one-degree cells
    rows = g.row_areas_m2()
    assert rows[0] < rows[-1]  # northern rows are smaller
    regions = gpd.GeoDataFrame(
        {"code": ["n", "s"]},
        geometry=[shapely.box(100, 43, 103, 44), shapely.box(100, 40, 103, 41)],
        crs="EPSG:4326",
    )
    codes, m = coverage_matrix(regions, "code", g)
    path = write_raster(tmp_path / "ones.tif", np.ones(g.shape), g)
    df = zonal_totals(m, codes, g, {"ecs": path}).set_index("code")
    assert df.loc["n", "area_km2"] == pytest.approx(3 * rows[0] / 1e6)
    assert df.loc["s", "area_km2"] == pytest.approx(3 * rows[-1] / 1e6)
    assert df.loc["s", "area_km2"] / df.loc["n", "area_km2"] == pytest.approx(
        (np.sin(np.deg2rad(41)) - np.sin(np.deg2rad(40)))
        / (np.sin(np.deg2rad(44)) - np.sin(np.deg2rad(43))),
        rel=1e-2,
    )
    assert df.loc["n", "ecs_tgc"] == pytest.approx(3 * rows[0] / 1e12)


def test_zonal_kernel_equals_sparse_product_on_random_matrix(tmp_path):
    """The numba pass over the coverages (kernels.zonal_accumulate) against the plain sparse
    algebra Σ_p w[r,p]·a[p]·x[p] (scipy), on a geographic grid (areas differ by row), with
    overlapping regions, NaN and inf pixels and blocks of rows that do not divide the height."""
    import scipy.sparse as sp

    g = Grid.from_bounds("EPSG:4326", 0.5, [100, 30, 115, 41])  # 22 × 30 cells
    rng = np.random.default_rng(5)
    n_regions, n_pix = 7, g.height * g.width
    dense = rng.uniform(0, 1, (n_regions, n_pix)) * (rng.uniform(size=(n_regions, n_pix)) < 0.3)
    m = sp.csr_matrix(dense)
    x = rng.uniform(-50, 400, g.shape)
    x[rng.uniform(size=g.shape) < 0.1] = np.nan
    x[0, 0], x[5, 7] = np.inf, -np.inf
    path = write_raster(tmp_path / "x.tif", x, g)
    codes = [f"r{i}" for i in range(n_regions)]
    df = zonal_totals(m, codes, g, {"x": path}, block_rows=5)
    x32 = x.astype("float32").astype("float64").ravel()
    ok = np.isfinite(x32)
    wa = dense * g.pixel_areas_m2().ravel()[None, :]
    np.testing.assert_allclose(df["x_tgc"], wa @ np.where(ok, x32, 0.0) / 1e12, rtol=1e-12)
    np.testing.assert_allclose(df["area_km2"], wa.sum(axis=1) / 1e6, rtol=1e-12)
    np.testing.assert_allclose(
        df["x_valid_fraction"], (wa * ok).sum(axis=1) / wa.sum(axis=1), rtol=1e-12
    )


def _layer():
    boxes = [shapely.box(500, 500, 2250, 3000), shapely.box(2250, 0, 5000, 4000)]
    return gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=boxes, crs=AEA)


def test_coverage_cache_identical_and_invalidated(small_grid, tmp_path):
    from carbonbudget.regions.zonal import cached_coverage

    cache = str(tmp_path / "cache")
    codes0, m0 = coverage_matrix(_layer(), "code", small_grid)  # uncached
    codes1, m1, key1, hit1 = cached_coverage(_layer(), "code", small_grid, cache)
    codes2, m2, key2, hit2 = cached_coverage(_layer(), "code", small_grid, cache)
    assert (hit1, hit2) == (False, True) and key1 == key2
    assert codes0 == codes1 == codes2
    for m in (m1, m2):
        assert (m != m0).nnz == 0 and m.shape == m0.shape
    # polygons changed -> new key, recomputed, different matrix
    moved = _layer()
    moved.loc[0, "geometry"] = shapely.box(600, 500, 2250, 3000)
    _, m3, key3, hit3 = cached_coverage(moved, "code", small_grid, cache)
    assert not hit3 and key3 != key1 and (m3 != m0).nnz > 0
    # grid changed -> new key
    other = Grid.from_bounds(AEA, 500.0, [0.0, 0.0, 5000.0, 4000.0])
    _, m4, key4, hit4 = cached_coverage(_layer(), "code", other, cache)
    assert not hit4 and key4 != key1 and m4.shape[1] == 10 * 8  # 500 m pixels
    # simplification is part of the key
    _, _, key5, hit5 = cached_coverage(_layer(), "code", small_grid, cache, simplify=True)
    assert not hit5 and key5 != key1


def test_simplify_keeps_shared_edges(small_grid):
    from carbonbudget.regions.zonal import simplify_to_pixel

    wiggly = shapely.Polygon(
        [(0, 0)] + [(2500 + 40 * (i % 2), 400 * i) for i in range(11)] + [(0, 4000)]
    )
    right = shapely.box(0, 0, 5000, 4000).difference(wiggly)
    layer = gpd.GeoDataFrame({"code": ["l", "r"]}, geometry=[wiggly, right], crs=AEA)
    simple = simplify_to_pixel(layer, small_grid)
    assert (
        shapely.get_num_coordinates(simple.geometry.values).sum()
        < shapely.get_num_coordinates(layer.geometry.values).sum()
    )
    # no gap and no overlap between the two simplified regions
    assert simple.geometry.union_all().area == pytest.approx(20e6)
    assert simple.geometry.iloc[0].intersection(simple.geometry.iloc[1]).area == pytest.approx(
        0, abs=1e-6
    )


def test_gdal_cache_bounded_from_the_config_or_the_environment(monkeypatch):
    import rasterio

    from carbonbudget.core.io import configure_gdal_cache, gdal_env

    monkeypatch.setenv("GDAL_CACHEMAX", "64")
    configure_gdal_cache(None)
    with gdal_env():
        assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == 64
    monkeypatch.setenv("GDAL_CACHEMAX", "5%")  # not a number of MB: the bounded default
    with gdal_env():
        assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == 256
    configure_gdal_cache(32)  # processing.gdal_cachemax_mb of a job
    try:
        with gdal_env():
            assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == 32
    finally:
        configure_gdal_cache(None)


@pytest.mark.parametrize(
    "dtype,nodata",
    [("float32", np.nan), ("float32", None), ("float32", -9999.0), ("uint8", 255), ("uint8", None)],
)
def test_open_raster_reads_nodata_as_nan_and_returns_float(small_grid, tmp_path, dtype, nodata):
    """Float rasters with NaN or no nodata are read without CF masking (it copies every block);
    the values seen are the same either way: NaN where nodata, float, never the fill value."""
    from carbonbudget.core.io import open_raster

    data = (
        np.arange(small_grid.height * small_grid.width, dtype="float64").reshape(small_grid.shape)
        % 200
    )
    fill = 255 if dtype == "uint8" else -9999.0
    data[0, 0] = fill if nodata is not None and not np.isnan(nodata) else data[0, 0]
    if dtype == "float32" and nodata is not None and np.isnan(nodata):
        data[0, 1] = np.nan
    path = write_raster(tmp_path / "r.tif", data, small_grid, dtype=dtype, nodata=nodata)
    got = open_raster(path, chunk_size=4).isel(band=0).values
    assert got.dtype.kind == "f"
    expected = data.astype(dtype).astype("float64")
    if nodata is not None and not np.isnan(nodata):
        expected[0, 0] = np.nan
    np.testing.assert_array_equal(got, expected)


def test_overview_factors_until_one_tile():
    from carbonbudget.core.io import overview_factors

    assert overview_factors(5000, 4000) == [2, 4, 8, 16, 32]  # 5000/32 = 156.25 <= 256
    assert overview_factors(256, 100) == []
    assert overview_factors(100, 257) == [2]
    assert overview_factors(512, 512) == [2]
    assert overview_factors(513, 10) == [2, 4]  # ceil(513/2) = 257 > 256


def test_level_polygons_from_finer_levels_and_display_shapes(tmp_path):
    """Each level is dissolved from the next finer one (same union as from the finest level);
    drawing shapes are simplified within their tolerance and never vanish."""
    import geopandas as gpd
    import shapely
    from helpers import job

    from carbonbudget.core.io import write_gpkg_layer
    from carbonbudget.inputs.demo import DEMO_CRS, make_regions
    from carbonbudget.pipeline.stages.align import level_polygons
    from carbonbudget.regions.hierarchy import (
        display_geometries,
        dissolve_level,
        read_display_polygons,
        read_level_polygons,
    )

    regions = make_regions()
    levels = ["county", "city", "province"]
    # densify so that simplification has something to remove
    regions["geometry"] = shapely.segmentize(regions.geometry.values, 200.0)
    write_gpkg_layer(regions, str(tmp_path / "r.gpkg"), "regions")
    grid = {
        "crs": DEMO_CRS,
        "resolution": 1000.0,
        "bounds": [200000.0, 2900000.0, 520000.0, 3140000.0],
    }
    level_polygons(
        job(
            "level_polygons",
            input={"regions": str(tmp_path / "r.gpkg")},
            output=[str(tmp_path / "l.gpkg")],
            params={"levels": levels, "groupings": {}, "layers": {}, "grid": grid},
        )
    )
    prov = read_level_polygons(str(tmp_path / "l.gpkg"), "province").set_index("code")
    direct = dissolve_level(regions, levels, "province").set_index("province_code")
    sym = prov.geometry.symmetric_difference(direct.geometry.reindex(prov.index))
    assert float(sym.area.max()) < 1e-3 * float(prov.area.min())
    shown = read_display_polygons(str(tmp_path / "l.gpkg"), "county")
    assert len(shown) == len(regions) and not shown.geometry.is_empty.any()
    n_before = shapely.get_num_coordinates(regions.geometry.values).sum()
    assert shapely.get_num_coordinates(shown.geometry.values).sum() < n_before / 3
    tol = 500.0  # half a 1 km pixel (> width / 1500 here)
    orig = regions.set_index("county_code").geometry
    for code, geom in zip(shown["code"], shown.geometry):
        assert shapely.hausdorff_distance(geom, orig[code]) <= tol + 1e-6
    tiny = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)], crs=DEMO_CRS)
    assert not display_geometries(tiny, 1000.0).geometry.is_empty.any()  # kept, not dropped


@pytest.mark.parametrize(
    "given,epsg,name",
    [
        ("EPSG:6933", 6933, "WGS 84 / NSIDC EASE-Grid 2.0 Global"),
        ("+proj=longlat +datum=WGS84 +no_defs", 4326, "WGS 84"),
        ("+proj=utm +zone=50 +datum=WGS84", 32650, "WGS 84 / UTM zone 50N"),
        (
            "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=krass",
            None,
            "Albers Equal Area (standard parallels 25 and 47, latitude of origin 0, central "
            "meridian 105) on Krassovsky, 1942 ellipsoid",
        ),
    ],
)
def test_grid_crs_gets_its_epsg_code_or_a_descriptive_name(given, epsg, name):
    """What GIS software shows for the grid's CRS (GeoTIFF, GeoPackage): the EPSG code where the
    definition is an EPSG one, otherwise a name saying what it is, never "unknown"; the
    definition itself is unchanged. The name has no "_": GDAL searches PROJ's database for a
    GeoTIFF's CRS name at every open, three times slower for a name with one."""
    from pyproj import CRS

    from carbonbudget.core.grid import named_crs

    crs = named_crs(given)
    assert crs.to_epsg() == epsg
    assert named_crs(given) == crs  # the second time from memory (PROJ's search is slow)
    got = CRS.from_user_input(crs.to_wkt())
    assert got.name == name and "_" not in name
    assert got.to_proj4() == CRS.from_user_input(given).to_proj4()


def test_a_geopackage_layer_is_written_as_pyogrio_writes_it(tmp_path):
    """write_gpkg_layer looks a CRS's EPSG code up once per process (pyogrio asks at every
    layer, ~0.1 s each for a CRS with none) and writes the same file pyogrio writes; an
    attribute table and a CRS with an EPSG code are written as before too."""
    import pandas as pd
    import pyogrio

    from carbonbudget.core import io as cio
    from carbonbudget.core.grid import named_crs

    def pinned(df, path, layer):
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": cio.PINNED_OGR_DATE})
        try:
            pyogrio.write_dataframe(df, path, layer=layer, driver="GPKG")
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})

    for crs in (named_crs(AEA).to_wkt(), "EPSG:4326"):
        polys = gpd.GeoDataFrame(
            {"code": ["a", "b"]},
            geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
            crs=crs,
        )
        table = pd.DataFrame({"code": ["a"], "x": [1.0]})
        cio._EPSG_CODES.clear()
        for layer in ("polys", "again"):
            cio.write_gpkg_layer(polys, tmp_path / "ours.gpkg", layer)
            pinned(polys, tmp_path / "theirs.gpkg", layer)
        cio.write_gpkg_layer(table, tmp_path / "ours.gpkg", "table")
        pinned(table, tmp_path / "theirs.gpkg", "table")
        assert (tmp_path / "ours.gpkg").read_bytes() == (tmp_path / "theirs.gpkg").read_bytes()
        assert len(cio._EPSG_CODES) == 1  # one lookup for two layers
        assert gpd.read_file(tmp_path / "ours.gpkg", layer="polys").crs == polys.crs
        for f in ("ours.gpkg", "theirs.gpkg"):
            (tmp_path / f).unlink()


@pytest.mark.parametrize("fmt", ["csc", "csr", "coo"])
def test_pixel_cover_sums_each_pixel_over_its_regions(fmt):
    """The share of each pixel its regions cover: hand-computed on 3 regions × 5 pixels (pixel
    1 covered by none, pixel 3 by three), whatever the storage, and on a random matrix with
    empty columns and up to 7 regions in a pixel equal to scipy's column sums of the CSC matrix
    bit for bit (the order of the additions kept)."""
    import scipy.sparse as sp

    dense = np.array(
        [
            [0.25, 0.0, 0.5, 0.1, 0.0],
            [0.75, 0.0, 0.0, 0.2, 0.0],
            [0.0, 0.0, 0.5, 0.3, 1.0],
        ]
    )
    m = sp.csc_matrix(dense).asformat(fmt)
    cover = pixel_cover(m)
    assert cover.dtype == np.float64
    np.testing.assert_allclose(cover, [1.0, 0.0, 1.0, 0.6, 1.0], rtol=1e-15, atol=0)
    rng = np.random.default_rng(7)
    r = sp.random(40, 3000, density=0.05, random_state=rng, format=fmt)
    assert np.diff(r.tocsc().indptr).max() >= 5
    assert np.array_equal(pixel_cover(r), np.asarray(r.tocsc().sum(axis=0)).ravel())
    assert not pixel_cover(sp.csc_matrix((3, 4))).any()
