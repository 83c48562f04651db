"""A gridded inventory on the grid: units converted (EDGAR's kg m-2 s-1, totals per cell), mass
conserved through reprojection, refused where a unit or CRS cannot be right."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.grid import Grid, ellipsoid_row_areas_m2
from carbonbudget.inputs.inventory import align_inventory, seconds_in_year, to_flux_factor

AEA = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"
# 60 x 40 km of 1 km pixels near 30° N, 110° E
GRID = Grid.from_bounds(AEA, 1000.0, [480_000.0, 3_400_000.0, 540_000.0, 3_440_000.0])


def _inventory(path, values, west=109.0, north=34.0, res=0.1, crs="EPSG:4326"):
    values = np.asarray(values, dtype="float32")
    bands = values if values.ndim == 3 else values[None]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=bands.shape[2],
        height=bands.shape[1],
        count=bands.shape[0],
        dtype="float32",
        crs=crs,
        nodata=np.nan,
        transform=from_origin(west, north, res, res),
    ) as ds:
        ds.write(bands)
    return str(path)


def test_edgar_units_are_annual_totals_over_the_seconds_of_their_year():
    assert seconds_in_year(2001) == 365 * 86400 and seconds_in_year(2004) == 366 * 86400
    factor, kind = to_flux_factor("kg CO2 m-2 s-1", 2001)
    assert kind == "flux" and factor == pytest.approx(1e3 * 31_536_000)  # kg m-2 = 1e3 t km-2
    assert to_flux_factor("t C cell-1 yr-1", 2001) == (pytest.approx(44 / 12), "cell")
    assert to_flux_factor("Tg C cell-1 yr-1", 2001) == (pytest.approx(1e6 * 44 / 12), "cell")
    assert to_flux_factor("kt C cell-1 yr-1", 2001) == (pytest.approx(1e3 * 44 / 12), "cell")


def test_a_uniform_flux_stays_uniform_and_the_grid_total_is_density_times_area(tmp_path):
    flux = 2e-9  # kg CO2 m-2 s-1
    path = _inventory(tmp_path / "edgar.tif", np.full((40, 40), flux))
    a, _ = align_inventory(path, GRID, units="kg CO2 m-2 s-1", year=2004)
    expected = float(np.float32(flux)) * 1e3 * 366 * 86400  # t CO2 km-2 yr-1, a leap year
    # exactextract's coverage fractions carry single precision: 1e-7
    np.testing.assert_allclose(a.density, expected, rtol=1e-7)
    area_km2 = GRID.row_areas_m2().sum() * GRID.width / 1e6
    assert a.inside_total_t == pytest.approx(expected * area_km2, rel=1e-7)
    assert a.nodata_cells == 0


def test_totals_per_cell_keep_the_mass_of_every_cell(tmp_path):
    """0.01° cells (about 1 km, not aligned with the pixels): each cell's total reaches the grid
    whole when the cell lies inside it; a cell without a value is counted."""
    rng = np.random.default_rng(3)
    cells = np.zeros((400, 400))
    # cells well inside the grid (110.3-110.7 E, 31.95-32.2 N) carry emissions
    inner = np.s_[180:205, 130:170]
    cells[inner] = rng.lognormal(3.0, 1.5, cells[inner].shape)
    cells[190, 150] = np.nan
    path = _inventory(tmp_path / "cells.tif", cells, res=0.01)
    a, cov = align_inventory(path, GRID, units="t CO2 cell-1 yr-1", year=2001)
    grid_total = np.nansum(a.density * (GRID.row_areas_m2() / 1e6)[:, None])
    assert grid_total == pytest.approx(np.nansum(cells), rel=1e-7)
    assert a.inventory_inside_t == pytest.approx(np.nansum(cells), rel=1e-7)  # (nearly) all inside
    assert a.inside_total_t == pytest.approx(grid_total, rel=1e-12) and a.nodata_cells == 1
    assert np.isfinite(a.density).all() and (a.density >= 0).all()
    # the same field given as a flux (totals over the cells' ellipsoidal areas) is the same
    top = 34.0 - 0.01 * np.arange(400)
    areas = ellipsoid_row_areas_m2(top, top - 0.01, 0.01, 6378137.0, 298.257223563) / 1e6
    flux = _inventory(tmp_path / "flux.tif", np.nan_to_num(cells) / areas[:, None], res=0.01)
    b, _ = align_inventory(flux, GRID, units="t CO2 km-2 yr-1", year=2001, coverage=cov)
    np.testing.assert_allclose(b.density, a.density, rtol=1e-6, atol=1e-9)


def test_the_mass_inside_the_grid_before_and_after_agree_with_cells_cut_by_its_edge(tmp_path):
    """Emissions everywhere, cells cut by the grid's edges: the mass of the cells' parts inside
    the grid (their outlines clipped to it) equals the grid total after alignment to 1e-6."""
    rng = np.random.default_rng(8)
    path = _inventory(tmp_path / "all.tif", rng.lognormal(3.0, 1.0, (60, 80)), res=0.05)
    a, cov = align_inventory(path, GRID, units="t CO2 cell-1 yr-1", year=2001)
    share = cov.inside_share
    assert ((share > 0) & (share < 1)).any() and share.max() == pytest.approx(1.0)
    assert a.inside_total_t == pytest.approx(a.inventory_inside_t, rel=1e-6)
    assert a.cells_total_t > a.inside_total_t  # the cut cells' parts outside are not on the grid


def test_the_cell_coverage_is_reused_for_files_of_the_same_layout_only(tmp_path):
    one = _inventory(tmp_path / "2001.tif", np.full((40, 40), 1.0))
    two = _inventory(tmp_path / "2002.tif", np.full((40, 40), 2.0))
    moved = _inventory(tmp_path / "2003.tif", np.full((40, 40), 3.0), west=109.05)
    a, cov = align_inventory(one, GRID, units="t CO2 km-2 yr-1", year=2001)
    b, same = align_inventory(two, GRID, units="t CO2 km-2 yr-1", year=2002, coverage=cov)
    c, other = align_inventory(moved, GRID, units="t CO2 km-2 yr-1", year=2003, coverage=cov)
    assert same is cov and other is not cov
    np.testing.assert_allclose(b.density, 2 * a.density, rtol=1e-12)
    np.testing.assert_allclose(c.density, 3.0, rtol=1e-7)


def test_a_band_per_year_and_refusals(tmp_path):
    stack = np.stack([np.full((40, 40), v) for v in (1.0, 2.0, 3.0)])
    path = _inventory(tmp_path / "stack.tif", stack)
    third, _ = align_inventory(path, GRID, units="t CO2 km-2 yr-1", year=2003, band=3)
    np.testing.assert_allclose(third.density, 3.0, rtol=1e-7)
    with pytest.raises(InputDataError, match="needs band 4"):
        align_inventory(path, GRID, units="t CO2 km-2 yr-1", year=2004, band=4)
    broken = np.full((40, 40), 1.0)
    broken[20, 15] = np.inf  # inside the grid's window: never counted as "no emission"
    bad = _inventory(tmp_path / "inf.tif", broken)
    with pytest.raises(InputDataError, match="1 cells hold an infinite value"):
        align_inventory(bad, GRID, units="t CO2 km-2 yr-1", year=2001)
    merc = _inventory(
        tmp_path / "merc.tif",
        np.full((40, 40), 1.0),
        west=1.2e7,
        north=3.9e6,
        res=2000.0,
        crs="EPSG:3857",
    )
    with pytest.raises(InputDataError, match="not keep areas"):
        align_inventory(merc, GRID, units="t CO2 cell-1 yr-1", year=2001)


def test_make_check_opens_every_year_of_an_inventory(tmp_path):
    """``make check`` with a gridded inventory: each year's file, its band and its cover of the
    grid, before anything is computed (the emission table is made from it during the run)."""
    import copy

    import yaml
    from helpers import REPO

    from carbonbudget.core.config import validate_config
    from carbonbudget.inputs.checks import check_inventory_inputs

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    del cfg["emissions"]["downscale"]
    cfg["years"] = [2001, 2002]
    cfg["emissions"] = {
        "source": "raster",
        "path": str(tmp_path / "co2.tif"),
        "first_year": 2001,
        "units": "t CO2 km-2 yr-1",
    }
    # the demo's grid lies within 107-110.5 E, 27.4-29.7 N
    _inventory(tmp_path / "co2.tif", np.ones((2, 100, 100)), west=106.0, north=31.0, res=0.05)
    report = check_inventory_inputs(config=validate_config(cfg))
    assert report["inventory"]["2002"] == {"file": str(tmp_path / "co2.tif"), "band": 2}
    short = copy.deepcopy(cfg)
    short["years"] = [2001, 2002, 2003]
    with pytest.raises(InputDataError, match="year 2003 needs band 3"):
        check_inventory_inputs(config=validate_config(short))
    _inventory(tmp_path / "small.tif", np.ones((2, 40, 40)), west=106.0, north=31.0, res=0.05)
    cfg["emissions"]["path"] = str(tmp_path / "small.tif")
    with pytest.raises(InputDataError, match="does not cover the grid"):
        check_inventory_inputs(config=validate_config(cfg))


def test_an_inventory_a_thousand_times_too_large_is_refused_with_its_numbers(tmp_path):
    """kg declared as t: the regions' CE a thousand times what they emit. The study area's
    density is checked against what any country has, naming the numbers and emissions.units."""
    import scipy.sparse as sp

    from carbonbudget.inputs.inventory import regional_inventory

    n = GRID.width * GRID.height
    halves = np.arange(n) % GRID.width < GRID.width // 2  # two regions: west and east halves
    coverage = sp.csr_matrix(np.vstack([halves, ~halves]).astype("float64"))
    dense = 6e4  # t CO2 km-2 yr-1: a dense city all over
    path = _inventory(tmp_path / "city.tif", np.full((40, 40), dense))
    a, _ = align_inventory(path, GRID, units="t CO2 km-2 yr-1", year=2001)
    table, report = regional_inventory(a, 2001, ["w", "e"], coverage, GRID, path=path)
    assert table["ce_tgco2"].sum() == pytest.approx(report["regions_total_tgco2"])
    path = _inventory(tmp_path / "kg.tif", np.full((40, 40), dense * 1000))  # kg, declared t
    b, _ = align_inventory(path, GRID, units="t CO2 km-2 yr-1", year=2001)
    with pytest.raises(InputDataError, match="more than any country") as exc:
        regional_inventory(b, 2001, ["w", "e"], coverage, GRID, path=path)
    assert "emissions.units" in str(exc.value) and "km²" in str(exc.value)


def test_regions_beyond_the_inventorys_extent_are_an_error_or_counted_as_zero(tmp_path):
    """An inventory box that misses the east of the grid (CDIAC's China box misses the South
    China Sea islands): an error naming the pixels and the fix, or with outside: zero no
    emission there, the count in the mass report, and the west's total unchanged."""
    import scipy.sparse as sp

    from carbonbudget.inputs.inventory import regional_inventory

    n = GRID.width * GRID.height
    halves = np.arange(n) % GRID.width < GRID.width // 2
    coverage = sp.csr_matrix(np.vstack([halves, ~halves]).astype("float64"))
    # 0.1° cells from 109 E: the box ends at 110.4 E, inside the grid
    path = _inventory(tmp_path / "box.tif", np.full((40, 14), 100.0))
    a, _ = align_inventory(path, GRID, units="t CO2 km-2 yr-1", year=2001)
    assert np.isnan(a.density).any()
    with pytest.raises(InputDataError, match="does not reach \\d+ pixels") as exc:
        regional_inventory(a, 2001, ["w", "e"], coverage, GRID, path=path)
    assert "outside: zero" in str(exc.value)
    table, report = regional_inventory(
        a, 2001, ["w", "e"], coverage, GRID, path=path, outside="zero"
    )
    assert report["pixels_outside_inventory"] == int(np.isnan(a.density).sum())
    density = np.nan_to_num(a.density).ravel()
    pixel_km2 = np.repeat(GRID.row_areas_m2() / 1e6, GRID.width)
    expected = [
        (density * pixel_km2)[halves].sum() / 1e6,
        (density * pixel_km2)[~halves].sum() / 1e6,
    ]
    np.testing.assert_allclose(table["ce_tgco2"], expected, rtol=1e-9)
