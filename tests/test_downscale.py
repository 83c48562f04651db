"""Emissions spread onto the grid: each region's total conserved under exact coverage, densities
non-negative and following the weights, unknown totals and zero weights handled out loud."""

import logging

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from shapely.geometry import box

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.grid import Grid
from carbonbudget.regions.zonal import coverage_matrix
from carbonbudget.science import downscale
from carbonbudget.science.downscale import spread_emissions, spread_report


def _spread(cov, area, w, e, **kw):
    codes = [f"r{i}" for i in range(len(cov))]
    return spread_emissions(
        sp.csc_matrix(cov),
        np.asarray(area, float),
        np.asarray(w, float),
        np.asarray(e, float),
        codes=codes,
        **kw,
    )


def test_regions_without_shared_pixels_get_their_total_in_proportion_to_the_weights():
    # r0: pixels 0, 1 (the second half covered); r1: pixels 2, 3
    cov = [[1.0, 0.5, 0, 0], [0, 0, 1.0, 1.0]]
    s = _spread(cov, [2.0, 2.0, 1.0, 1.0], [1.0, 3.0, 0.0, 5.0], [100.0, 50.0])
    # r0: Σ c·a·w = 1·2·1 + 0.5·2·3 = 5, so 20 t per unit weight and km²
    np.testing.assert_allclose(s.density, [20.0, 60.0, 0.0, 50.0], rtol=1e-15)
    np.testing.assert_allclose(s.placed_t, [100.0, 50.0], rtol=1e-15)
    assert list(s.method) == ["weights", "weights"] and s.iterations == 0


def test_a_shared_pixel_still_gives_each_region_its_total():
    # pixel 1 is half r0, half r1; r1 is dense, r0 sparse: proportional spreading would mix
    cov = [[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]
    area = [1.0, 1.0, 1.0]
    s = _spread(cov, area, [1.0, 1.0, 1.0], [10.0, 1000.0])
    np.testing.assert_allclose(
        np.asarray(cov) @ (np.asarray(area) * s.density), [10.0, 1000.0], rtol=1e-12
    )
    assert (s.density >= 0).all() and s.iterations > 0
    assert s.density[0] < s.density[1] < s.density[2]  # between its two regions' densities


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:6933"])
def test_conserved_on_voronoi_regions_of_a_projected_and_a_geographic_grid(crs):
    """Irregular regions cut pixels everywhere: Σ over each region's pixels of coverage × area
    × density equals its total to 1e-12 (the zonal sum the budget uses), on a grid of equal
    areas and on one of areas varying by row."""
    rng = np.random.default_rng(5)
    if crs == "EPSG:4326":
        grid = Grid.from_bounds(crs, 0.05, [100.0, 30.0, 102.0, 31.5], allow_non_equal_area=True)
    else:
        grid = Grid.from_bounds(crs, 5000.0, [0.0, 3.6e6, 2.0e5, 3.75e6])
    x0, y0, x1, y1 = grid.bounds
    seeds = shapely.MultiPoint(np.column_stack([rng.uniform(x0, x1, 30), rng.uniform(y0, y1, 30)]))
    cells = shapely.voronoi_polygons(seeds, extend_to=box(x0, y0, x1, y1))
    inner = box(x0 + 0.1 * (x1 - x0), y0 + 0.1 * (y1 - y0), x1 - 0.05 * (x1 - x0), y1)
    geoms = [g.intersection(inner) for g in shapely.get_parts(cells)]
    regions = gpd.GeoDataFrame(
        {"code": [f"{i:02d}" for i in range(len(geoms))]}, geometry=geoms, crs=crs
    )
    codes, cov = coverage_matrix(regions, "code", grid)
    area = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    weights = rng.lognormal(0.0, 1.5, grid.width * grid.height)
    weights[rng.uniform(size=weights.size) < 0.2] = 0.0  # empty land
    totals = rng.uniform(1e3, 1e6, len(codes))
    assert (np.diff(cov.indptr) >= 2).sum() > 50  # many shared pixels
    s = spread_emissions(cov, area, weights, totals, codes=codes)
    np.testing.assert_allclose(cov @ (area * np.nan_to_num(s.density)), totals, rtol=1e-12)
    inside = np.asarray(cov.sum(axis=0)).ravel() > 0
    assert np.isnan(s.density[~inside]).all()  # outside every region: no value, not zero
    assert (s.density[inside] >= 0).all() and (s.density[inside & (weights == 0)] == 0).all()
    assert s.relative_error(totals).max() <= 1e-12


def test_a_region_with_emissions_and_no_weight_is_named_or_spread_by_area(caplog):
    cov = [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    with pytest.raises(InputDataError, match="r1") as err:
        _spread(cov, [1.0, 1.0, 1.0], [1.0, 2.0, 0.0], [3.0, 5.0], weights_path="pop.tif")
    assert "zero_weight: area" in str(err.value) and "pop.tif" in str(err.value)
    caplog.set_level(logging.WARNING)
    s = _spread(cov, [1.0, 1.0, 4.0], [1.0, 2.0, 0.0], [3.0, 5.0], zero_weight="area")
    assert list(s.method) == ["weights", "area"]
    np.testing.assert_allclose(s.density, [1.0, 2.0, 1.25])  # 5 t over 4 km²
    assert "spread by area" in caplog.text


def test_an_unknown_total_leaves_its_own_pixels_without_value():
    cov = [[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]
    s = _spread(cov, [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [np.nan, 8.0])
    assert np.isnan(s.density[0]) and list(s.method) == ["missing", "weights"]
    np.testing.assert_allclose(s.placed_t[1], 8.0, rtol=1e-12)


def test_a_region_without_emissions_keeps_zero_on_every_pixel_it_touches():
    """The only non-negative densities that give it zero: its shared pixel gets none, and the
    neighbour's total goes onto its other pixels."""
    cov = [[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]
    s = _spread(cov, [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 8.0])
    np.testing.assert_allclose(s.placed_t, [0.0, 8.0], atol=1e-9)
    assert s.density[0] == 0 and s.density[1] < 1e-9 and s.density[2] == pytest.approx(8.0)
    assert list(s.method) == ["no emissions", "weights"]


def test_negative_and_infinite_weights_are_refused():
    with pytest.raises(InputDataError, match="negative weight"):
        _spread([[1.0, 1.0]], [1.0, 1.0], [1.0, -1.0], [3.0])
    with pytest.raises(InputDataError, match="1 pixels have an infinite weight"):
        _spread([[1.0, 1.0]], [1.0, 1.0], [1.0, np.inf], [3.0], weights_path="pop.tif")


def test_totals_no_raster_can_hold_are_reported_and_the_grand_total_kept(caplog):
    """Two regions share both their pixels in the same proportions but have different totals
    per area: no raster of this grid meets both. Reported, with the grand total kept."""
    cov = [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
    caplog.set_level(logging.WARNING)
    totals = np.array([1.0, 3.0, 5.0])
    s = _spread(cov, [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], totals)
    assert s.placed_t.sum() == pytest.approx(totals.sum(), rel=1e-12)
    assert s.placed_t[2] == pytest.approx(5.0, rel=1e-12)
    assert "2 regions keep their total only to more than 1e-9" in caplog.text
    report = spread_report(["a", "b", "c"], [2001], {2001: totals}, {2001: s})
    assert (report["relative_difference"] > 0.1).sum() == 2


def test_report_lists_every_region_and_year():
    cov = sp.csc_matrix(np.eye(2))
    spreads, totals = {}, {}
    for year, e in ((2001, [1e6, 2e6]), (2002, [np.nan, 4e6])):
        totals[year] = np.array(e)
        spreads[year] = spread_emissions(
            cov, np.ones(2), np.ones(2), totals[year], codes=["a", "b"]
        )
    r = spread_report(["a", "b"], [2001, 2002], totals, spreads)
    assert list(zip(r["code"], r["year"])) == [("a", 2001), ("a", 2002), ("b", 2001), ("b", 2002)]
    assert r.loc[1, "method"] == "missing" and np.isnan(r.loc[1, "ce_on_grid_tgco2"])
    np.testing.assert_allclose(r.loc[[0, 2, 3], "ce_on_grid_tgco2"], [1.0, 2.0, 4.0])


def test_a_weight_raster_with_a_missing_tile_is_refused_naming_the_regions():
    """Spread as it is, a region with no weight on part of its area puts that part's CE on the
    rest: its total stays right and its pixels are wrong. The coverage check names it."""
    from carbonbudget.inputs.checks import check_weights_coverage

    # r0: pixels 0, 1; r1: pixels 2, 3, 4 (pixel 2 half covered); the tile of pixels 3-4 is lost
    cov = sp.csc_matrix([[1.0, 1.0, 0, 0, 0], [0, 0, 0.5, 1.0, 1.0]])
    area = np.array([1.0, 1.0, 2.0, 1.0, 1.0])
    weights = np.array([1.0, 0.0, 2.0, np.nan, np.nan])  # 0 is a value, NaN is none
    s = _spread(cov.toarray(), area, weights, [10.0, 30.0])
    assert s.density[2] == pytest.approx(30.0)  # all of r1's CE on its one pixel with a value
    with pytest.raises(InputDataError, match=r"2 \(33.3 %\)") as exc:
        check_weights_coverage(
            weights, cov, area, ["1", "2"], path="pop.tif", min_share=0.95
        )  # r1: 0.5·2 of 3 km² has a value
    message = str(exc.value)
    assert "pop.tif" in message and "checks.min_valid_share.weights" in message
    assert "1 (" not in message  # r0 has a value on all of its area (a 0 counts)
    check_weights_coverage(weights, cov, area, ["1", "2"], path="pop.tif", min_share=0.3)


def test_five_yearly_weights_serve_the_nearest_years():
    """A census grid every five years (GPW: 2000 ... 2020) for a run of 1997-2017: each year
    takes the nearest file, the earlier on a tie; yearly weights are their own year's."""
    from carbonbudget.core.config import CLIMATOLOGY, downscale_weights, weight_periods

    cfg = {
        "years": list(range(1997, 2018)),
        "emissions": {
            "downscale": {"weights": "gpw_{year}.asc", "weights_years": [2000, 2005, 2010, 2020]}
        },
    }
    assert downscale_weights(cfg) == {str(y): f"gpw_{y}.asc" for y in (2000, 2005, 2010, 2020)}
    periods = weight_periods(cfg)
    assert [periods[y] for y in (1997, 2002, 2003, 2007, 2008, 2015, 2016, 2017)] == [
        "2000",
        "2000",
        "2005",
        "2005",
        "2010",
        "2010",
        "2020",
        "2020",
    ]
    cfg["emissions"]["downscale"] = {"weights": "pop_{year}.tif"}
    assert weight_periods(cfg)[2005] == "2005"
    cfg["emissions"]["downscale"] = {"weights": "pop.tif"}
    assert set(weight_periods(cfg).values()) == {CLIMATOLOGY}


def _numpy_fixed_point(cov, area_km2, f0, cover, e, known):
    """The fixed point as numpy and scipy compute it, step by step (what downscale's numba
    steps between the two sparse products replace): the reference for the same bits."""
    n_regions = cov.shape[0]
    counts = np.diff(cov.indptr)
    single, shared = np.flatnonzero(counts == 1), np.flatnonzero(counts >= 2)
    owner = cov.indices[cov.indptr[single]]
    part = cov.data[cov.indptr[single]] * area_km2[single] * f0[single]
    inner = np.bincount(owner, weights=part, minlength=n_regions)
    cs = cov[:, shared]
    cs_area = cs @ sp.diags(area_km2[shared])
    fs, share, mult = f0[shared].copy(), cover[shared], np.ones(n_regions)
    scale = e[e > 0].mean() if (e > 0).any() else 1.0
    history, iterations = [], 0
    for iterations in range(downscale.MAX_ITER + 1):  # noqa: B007
        placed = inner * mult + cs_area @ fs
        relative = np.abs(placed - e) / np.where(e > 0, e, scale)
        err = float(relative[known].max()) if known.any() else 0.0
        history.append(float(np.abs(placed - e)[known].sum()))
        window = downscale.STALL_WINDOW
        stalled = len(history) > window and history[-1] > 0.999 * history[-1 - window]
        if err <= downscale.TOLERANCE or not len(shared) or stalled:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(placed > 0, e / placed, 1.0)
        mult = np.where(inner > 0, mult * ratio, 1.0)
        fs *= (cs.T @ ratio) / share
    density = f0.copy()
    density[single] = f0[single] * mult[owner]
    density[shared] = fs
    return density, iterations


@pytest.mark.parametrize("case", ["voronoi", "unknown and zero totals", "unreachable totals"])
def test_the_fixed_point_gives_the_bits_of_numpy_and_scipy(case, monkeypatch):
    """The densities, placed totals and iterations of the numba steps equal, bit for bit, those
    of the numpy and scipy steps they replace: 300 Voronoi regions (more than numpy's block of
    128 values, so its pairwise summation halves), unknown and zero totals among them, and two
    regions whose totals no raster holds (the iteration stalls)."""
    rng = np.random.default_rng(11)
    grid = Grid.from_bounds("EPSG:6933", 2000.0, [0.0, 3.6e6, 1.6e5, 3.72e6])
    x0, y0, x1, y1 = grid.bounds
    seeds = shapely.MultiPoint(
        np.column_stack([rng.uniform(x0, x1, 300), rng.uniform(y0, y1, 300)])
    )
    cells = shapely.voronoi_polygons(seeds, extend_to=box(x0, y0, x1, y1))
    geoms = [g.intersection(box(x0, y0, x1, y1)) for g in shapely.get_parts(cells)]
    regions = gpd.GeoDataFrame(
        {"code": [f"{i:03d}" for i in range(len(geoms))]}, geometry=geoms, crs="EPSG:6933"
    )
    codes, cov = coverage_matrix(regions, "code", grid)
    area = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    weights = rng.lognormal(0.0, 1.5, grid.width * grid.height)
    totals = rng.uniform(1e3, 1e6, len(codes))
    if case == "unknown and zero totals":
        totals[::17] = np.nan
        totals[5::23] = 0.0
    if case == "unreachable totals":  # region 0 split in two halves of each of its pixels,
        # with totals of other densities: no raster holds both, the iteration stalls
        half = sp.csr_matrix(cov)[[0]] * 0.5
        cov = sp.vstack([sp.csr_matrix(cov)[1:], half, half]).tocsc()
        totals = np.concatenate([totals[1:], [1e3, 3e3]])
        codes = [*codes[1:], "a", "b"]
    got = spread_emissions(cov, area, weights, totals, codes=codes)
    monkeypatch.setattr(downscale, "_fixed_point", _numpy_fixed_point)
    expected = spread_emissions(cov, area, weights, totals, codes=codes)
    assert got.iterations == expected.iterations > 0
    if case == "unreachable totals":
        assert downscale.STALL_WINDOW < got.iterations < downscale.MAX_ITER  # stalled
    assert got.density.tobytes() == expected.density.tobytes()
    assert got.placed_t.tobytes() == expected.placed_t.tobytes()


def test_numpys_pairwise_summation_to_the_bit():
    """The summed misfit that decides whether the iteration stalled is numpy's sum, to the bit,
    at every length around its blocks of 8 and 128 values and its halving above them."""
    rng = np.random.default_rng(3)
    for n in [*range(0, 300), 1000, 1023, 2875, 8192, 8193, 40001]:
        a = rng.random(n + 5) * 10.0 ** rng.integers(-6, 6, n + 5)
        assert downscale._pairwise_sum(a, 5, n) == np.sum(a[5:]), n
        assert downscale._pairwise_sum(a, 0, n) == np.sum(a[:n]), n
