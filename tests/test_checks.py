"""Checks before compute: each bad input gives a typed error naming file, variable and fix."""

import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from helpers import REPO, demo_config
from shapely.affinity import translate

from carbonbudget.core.config import validate_config
from carbonbudget.core.errors import InputDataError, RegionError, UnitError
from carbonbudget.inputs.align import Values
from carbonbudget.inputs.checks import check_inputs
from carbonbudget.inputs.demo import build_demo


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_src")
    build_demo(str(root / "data/demo"))
    shutil.copytree(REPO / "config", root / "config")
    return root


@pytest.fixture
def setup(demo_root, tmp_path, monkeypatch):
    """A private copy of the demo inputs and a validated config pointing at it."""
    shutil.copytree(demo_root, tmp_path / "w")
    monkeypatch.chdir(tmp_path / "w")
    return validate_config(demo_config())


def _add(path, delta):
    """Add ``delta`` to every value of a raster in place."""
    with rasterio.open(path, "r+") as ds:
        ds.write(ds.read() + delta)


def test_demo_inputs_pass(setup, tmp_path):
    rep = check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert rep["emissions"]["matches"]["direct"] == {
        "codes": rep["emissions"]["codes"],
        "share": 1.0,
    }
    assert rep["regions"] == {"county": 36, "city": 8, "province": 3}


def test_make_check_reads_and_cuts_the_polygons_once(setup, tmp_path, monkeypatch):
    """``make check`` computes the study area's coverage from the polygons its regions check
    read and cut in the grid's CRS (as the run does): one reading that tests the overlaps (the
    emission check reads the codes and names on their own, as its rule does in the run, without
    testing them), and the same coverage as reading the polygons again."""
    from carbonbudget.core.grid import Grid
    from carbonbudget.inputs import checks
    from carbonbudget.regions import zonal

    calls = []
    read = checks.read_config_regions

    def counted(*args, **kwargs):
        if kwargs.get("check_overlaps", True):  # the overlaps tested (and cut) there
            calls.append(args)
        return read(*args, **kwargs)

    monkeypatch.setattr(checks, "read_config_regions", counted)
    monkeypatch.setattr(zonal, "read_config_regions", counted)
    check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert len(calls) == 1
    # the coverage from the stored polygons is the one from the config's
    _, codes, matrix, key = zonal.finest_coverage(setup["regions"], Grid.from_config(setup), None)
    stored = str(tmp_path / "checked.parquet")
    checks.check_static_inputs(config=setup, path_regions=stored)
    calls.clear()
    area = checks._study_area(
        config=setup, cache_dir=None, directory=str(tmp_path), path_regions=stored
    )
    assert not calls  # from the stored polygons, not the config's
    assert area["coverage"][0] == codes and (area["coverage"][1] != matrix).nnz == 0


def test_kelvin_declared_as_celsius(setup, tmp_path):
    _add(setup["climate"]["temperature"].format(year=2003), 273.15)
    with pytest.raises(UnitError, match="looks like Kelvin") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "tmean_2003.tif" in str(exc.value) and "temperature_units: K" in str(exc.value)


def test_negative_precipitation(setup, tmp_path):
    _add(setup["climate"]["precipitation"].format(year=2005), -1000.0)
    with pytest.raises(InputDataError, match="negative precipitation") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "prcp_2005.tif" in str(exc.value) and "Fix:" in str(exc.value)


def test_unmapped_lithology_code(setup, tmp_path):
    with rasterio.open(setup["lithology"]["path"], "r+") as ds:
        a = ds.read(1)
        a[0, 0] = 42
        ds.write(a, 1)
    with pytest.raises(InputDataError, match=r"codes \[42\] have no mapping") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "glim_codes.tif" in str(exc.value)


def test_lithology_codes_present_and_mapped_by_hand():
    """The distinct codes of a raster (NaN = nodata) whether counted (small non-negative codes)
    or sorted (others), the unmapped ones named in order, and the coefficients they map to."""
    import numpy as np

    from carbonbudget.inputs.lithology import codes_to_coefficient, mapped_codes

    codes = np.array([[3.0, np.nan, 1.0], [3.0, 7.0, 1.0]])
    lookup = {1: 0.5, 3: 0.25, 7: 1.0, 9: 2.0}
    assert mapped_codes(codes, lookup).tolist() == [1, 3, 7]
    np.testing.assert_array_equal(
        codes_to_coefficient(codes, lookup),
        np.array([[0.25, np.nan, 0.5], [0.25, 1.0, 0.5]], dtype="float32"),
    )
    big = np.array([2.0**21, -4.0, 1.0, np.nan])  # outside the counted range: sorted
    assert mapped_codes(big, {2**21: 1.0, -4: 1.0, 1: 1.0}).tolist() == [-4, 1, 2**21]
    with pytest.raises(InputDataError, match=r"codes \[5, 8\] have no mapping"):
        mapped_codes(np.array([8.0, 1.0, 5.0, 8.0]), lookup)
    with pytest.raises(InputDataError, match=r"codes \[-4\] have no mapping"):
        mapped_codes(big, {2**21: 1.0, 1: 1.0})
    assert mapped_codes(np.full(3, np.nan), lookup).tolist() == []
    # a band as rasterio reads it: its own integer type, nodata masked
    band = np.ma.masked_equal(np.array([[3, 255, 1], [7, 255, 1]], dtype=np.uint8), 255)
    assert mapped_codes(band, lookup).tolist() == [1, 3, 7]
    with pytest.raises(InputDataError, match=r"codes \[255\] have no mapping"):
        mapped_codes(band.data, lookup)  # the same band without its nodata


def test_duplicate_region_codes(setup, tmp_path):
    path = setup["regions"]["path"]
    gdf = gpd.read_file(path)
    gdf.loc[1, "county_code"] = gdf.loc[0, "county_code"]
    gdf.to_file(path, driver="GPKG")
    with pytest.raises(RegionError, match="duplicate county codes") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "counties.gpkg" in str(exc.value)


def test_unmatched_emission_codes(setup, tmp_path):
    path = setup["emissions"]["path"]
    df = pd.read_csv(path, dtype={"county_code": str})
    df.loc[df["county_code"] == df["county_code"].iloc[0], "county_code"] = "123456"
    df.to_csv(path, index=False)
    with pytest.raises(RegionError, match="not in the region layer") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "123456" in str(exc.value) and "% of total emissions" in str(exc.value)


def test_missing_year_file(setup, tmp_path):
    import os

    os.remove(setup["npp"]["path"].format(year=2007))
    with pytest.raises(InputDataError, match="year 2007 not found") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "npp_2007.tif" in str(exc.value)


def test_corrupt_geotiff(setup, tmp_path):
    path = setup["runoff"]["path"].format(year=2002)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 3])
    with pytest.raises(InputDataError) as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "runoff_2002.tif" in str(exc.value) and "Fix:" in str(exc.value)


def test_missing_crs(setup, tmp_path):
    path = setup["runoff"]["path"].format(year=2004)
    with rasterio.open(path) as src:
        data, profile = src.read(), src.profile
    profile.pop("crs")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(InputDataError, match="no CRS") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "runoff_2004.tif" in str(exc.value) and "gdal_edit" in str(exc.value)


def test_celsius_declared_as_kelvin(setup, tmp_path):
    setup["climate"]["temperature_units"] = "K"
    with pytest.raises(UnitError, match="looks like °C but K is declared") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "tmean_2001.tif" in str(exc.value) and "degC" in str(exc.value)


def test_unknown_declared_units(setup, tmp_path):
    setup["npp"]["units"] = "bushels per acre"
    with pytest.raises(UnitError, match="unknown units 'bushels per acre'") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "kg C m-2 yr-1" in str(exc.value)


def test_negative_runoff(setup, tmp_path):
    _add(setup["runoff"]["path"].format(year=2006), -5000.0)
    with pytest.raises(InputDataError, match="negative runoff") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "runoff_2006.tif" in str(exc.value)


def test_runoff_negative_tolerance_admits_regridding_artefacts_only(setup, tmp_path):
    """Tiny negatives (a bilinear regridding of zero runoff) pass with runoff.negative_tolerance
    and are set to 0 at alignment; anything more negative is still refused."""
    from carbonbudget.core.grid import Grid
    from carbonbudget.inputs.align import align_raster

    setup["years"] = [2005, 2006]  # four full checks: the years the test is not about left out
    path = setup["runoff"]["path"].format(year=2006)
    with rasterio.open(path, "r+") as ds:
        data = ds.read()
        data[0, :3, :3] = -0.0005
        ds.write(data)
    with pytest.raises(InputDataError, match="negative runoff") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "negative_tolerance" in str(exc.value)
    setup["runoff"]["negative_tolerance"] = 0.001
    check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    grid = Grid.from_config(setup["grid"])
    align_raster(
        path,
        str(tmp_path / "q.tif"),
        grid,
        variable="runoff",
        values=Values(units="mm yr-1", negative_tolerance=0.001),
    )
    with rasterio.open(tmp_path / "q.tif") as ds:
        q = ds.read(1)
    assert (q[:3, :3] == 0.0).all() and np.nanmin(q) >= 0.0
    _add(path, -5000.0)
    with pytest.raises(InputDataError, match="negative runoff"):
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))


def _shift_raster(path, dx, dy):
    with rasterio.open(path) as src:
        data, profile = src.read(), src.profile
    t = profile["transform"]
    profile["transform"] = rasterio.Affine(t.a, t.b, t.c + dx, t.d, t.e, t.f + dy)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)


def test_raster_not_overlapping_grid(setup, tmp_path):
    path = setup["npp"]["path"].format(year=2008)
    _shift_raster(path, 5_000_000, 0)
    with pytest.raises(InputDataError, match="does not overlap") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "npp_2008.tif" in str(exc.value)


def test_raster_covering_too_little_of_grid(setup, tmp_path):
    setup["years"] = [2008, 2009]  # three full checks: the years the test is not about left out
    path = setup["npp"]["path"].format(year=2009)
    _shift_raster(path, 160_000, 0)  # half of the 320 km wide grid
    with pytest.raises(InputDataError, match=r"covers only \d\d\.\d% of the study area") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "min_grid_coverage" in str(exc.value)
    setup["checks"]["min_grid_coverage"] = 0.4
    with pytest.raises(InputDataError, match=r"values exist on only 4\d\.\d% of the study area"):
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    setup["checks"]["min_valid_share"]["npp"] = 0.4
    rep = check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert 0.45 < rep["grid_coverage"][path] < 0.55


def _bowtie_first_county(path):
    import shapely

    gdf = gpd.read_file(path)
    x0, y0, x1, y1 = gdf.geometry.iloc[0].bounds
    gdf.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    gdf.to_file(path, driver="GPKG")


def test_invalid_geometry_repaired_with_warning(setup, tmp_path, caplog):
    _bowtie_first_county(setup["regions"]["path"])
    setup["regions"]["overlaps"] = "first"  # the bowtie spans its bounding box, over neighbours
    with caplog.at_level("WARNING", logger="carbonbudget"):
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "repaired 1 invalid geometries" in caplog.text


def test_invalid_geometry_refused(setup, tmp_path):
    _bowtie_first_county(setup["regions"]["path"])
    setup["regions"]["invalid_geometries"] = "error"
    with pytest.raises(RegionError, match="1 invalid geometries") as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"))
    assert "counties.gpkg" in str(exc.value) and "make_valid" in str(exc.value)


# --- make check: every problem listed, none hiding another ----------------------------------------
def _collected(setup, tmp_path):
    from carbonbudget.core.errors import InputChecksFailed

    with pytest.raises(InputChecksFailed) as exc:
        check_inputs(config=setup, path_report=str(tmp_path / "r.json"), collect=True)
    return [(e.variable, e.path, str(e)) for e in exc.value.errors]


def test_make_check_lists_every_problem_each_under_its_own_input(setup, tmp_path):
    """Five faults at once: a temperature file off the study area, negative precipitation of
    the same year, NPP of another year read from a band described as elevation, a county moved
    far outside the grid and a weight raster with a missing tile. Each is its own failure:
    none stops the checks of the others (a coverage error of one variable used to hide the
    rest of its year, and a region error every valid-share check)."""
    _shift_raster(setup["climate"]["temperature"].format(year=2006), 5_000_000, 0)
    _add(setup["climate"]["precipitation"].format(year=2006), -500.0)
    with rasterio.open(setup["npp"]["path"].format(year=2008), "r+") as ds:
        ds.set_band_description(1, "elevation")
    regions = gpd.read_file(setup["regions"]["path"])
    regions.loc[0, "geometry"] = translate(regions.geometry.iloc[0], 0, 2_000_000)
    regions.to_file(setup["regions"]["path"], driver="GPKG")
    weights = setup["emissions"]["downscale"]["weights"]
    with rasterio.open(weights, "r+") as ds:
        w = ds.read()
        w[:, :, :60] = np.nan  # the west 60 km have no value
        ds.write(w)
    found = _collected(setup, tmp_path)
    variables = [v for v, _, _ in found]
    assert variables.count("temperature") == 1
    assert any(v == "temperature" and "does not overlap" in m for v, _, m in found)
    assert any(v == "precipitation" and "negative" in m for v, _, m in found)
    assert any(v == "npp" and "elevation" in m and "2008" in p for v, p, m in found)
    assert any(v == "regions" and "outside the grid" in m for v, _, m in found)
    assert any(v == "emissions.downscale.weights" and "weight raster" in m for v, _, m in found)
    assert len(found) == 5, found


def test_a_grid_from_a_template_names_the_template_and_lets_named_regions_lie_outside(
    setup, tmp_path
):
    """With grid.template the grid-edge error's fix names the template (grid.bounds does not
    apply), and checks.outside_grid_allowed lets the named regions lie outside while every
    other region is still checked."""
    from carbonbudget.inputs.checks import check_static_inputs

    regions = gpd.read_file(setup["regions"]["path"])
    code = regions["county_code"].iloc[0]
    regions.loc[0, "geometry"] = translate(regions.geometry.iloc[0], 0, 2_000_000)
    regions.to_file(setup["regions"]["path"], driver="GPKG")
    template = setup["npp"]["path"].format(year=2005)
    cfg = dict(setup, grid={"template": template})
    with pytest.raises(InputDataError, match="outside the grid") as exc:
        check_static_inputs(config=cfg)
    assert "grid.template" in exc.value.fix and "grid.bounds" not in exc.value.fix
    assert "checks.outside_grid_allowed" in exc.value.fix
    cfg["checks"] = dict(setup["checks"], outside_grid_allowed=[code])
    rep = check_static_inputs(config=cfg)
    assert rep["regions_outside_grid"][code] == 1.0
    cfg["checks"]["outside_grid_allowed"] = ["999999"]  # another code: the check still applies
    with pytest.raises(InputDataError, match=code):
        check_static_inputs(config=cfg)


def test_the_lithology_band_of_a_multi_band_file(setup, tmp_path):
    """lithology.band picks the class codes out of a multi-band file, by number or description;
    without it the first band is read, and one described as elevation is refused by name."""
    from carbonbudget.inputs.checks import check_static_inputs

    path = setup["lithology"]["path"]
    with rasterio.open(path) as src:
        codes, profile = src.read(1), src.profile
    stacked = tmp_path / "stack.tif"
    profile.update(count=2)
    with rasterio.open(stacked, "w", **profile) as dst:
        dst.write(np.full_like(codes, 7), 1)
        dst.write(codes, 2)
        dst.set_band_description(1, "elevation")
        dst.set_band_description(2, "glim class")
    lith = dict(setup["lithology"], path=str(stacked))
    with pytest.raises(InputDataError, match="described 'elevation'.*read as lithology") as exc:
        check_static_inputs(config=dict(setup, lithology=lith))
    assert "lithology.band" in exc.value.fix
    for band in (2, "glim class"):
        rep = check_static_inputs(config=dict(setup, lithology=dict(lith, band=band)))
        assert rep["files"] == {str(stacked): "lithology"}


def test_the_regions_checked_once_are_the_regions_the_coverage_is_built_from(setup, tmp_path):
    """check_static keeps the polygons it checked (grid CRS, overlaps cut, groupings added) for
    build_regions, which no longer reads and cuts them again: the stored polygons give the
    same coverage cache key (codes, WKB and CRS text) and the same matrix as reading the
    config's polygons, also where an overlap was cut."""
    from carbonbudget.core.grid import Grid
    from carbonbudget.inputs.checks import check_static_inputs
    from carbonbudget.regions.hierarchy import read_checked_regions, read_config_regions
    from carbonbudget.regions.zonal import finest_coverage, regions_digest

    _bowtie_first_county(setup["regions"]["path"])  # spans its box, over its neighbours
    setup["regions"]["overlaps"] = "first"
    grid = Grid.from_config(setup)
    path = tmp_path / "checked.parquet"
    check_static_inputs(config=setup, path_regions=str(path))
    checked = read_checked_regions(str(path), grid.crs.to_wkt())
    direct, _, _ = read_config_regions(setup["regions"], crs=grid.crs.to_wkt())
    assert list(checked.columns) == list(direct.columns)
    assert checked.drop(columns="geometry").equals(direct.drop(columns="geometry"))
    assert regions_digest(checked, "county_code") == regions_digest(direct, "county_code")
    _, codes, matrix, key = finest_coverage(setup["regions"], grid, None, checked)
    _, codes_direct, matrix_direct, key_direct = finest_coverage(setup["regions"], grid, None)
    assert codes == codes_direct and key == key_direct
    assert (matrix != matrix_direct).nnz == 0
    assert {"zone_code", "zone_name"} <= set(checked.columns)  # the demo's grouping
