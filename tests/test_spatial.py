"""Spatial statistics (docs/method.md, "Spatial statistics"): Gini forms by hand, esda wiring, Gi*
sign, islands, tables."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from carbonbudget.core.config import validate_config
from carbonbudget.core.errors import ConfigError
from carbonbudget.science import spatial
from carbonbudget.science.spatial import (
    gini_ctr_bs,
    gini_ordinary,
    gini_rsv,
    gini_segmented,
    gini_table,
)

AEA = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m +no_defs"


def lattice(nrow: int, ncol: int, size: float = 1000.0) -> gpd.GeoDataFrame:
    """nrow × ncol square regions, codes 'r{row:02d}c{col:02d}' (row-major = sorted order)."""
    rows = [
        (f"r{r:02d}c{c:02d}", box(c * size, -r * size, (c + 1) * size, -(r - 1) * size))
        for r in range(nrow)
        for c in range(ncol)
    ]
    return gpd.GeoDataFrame({"code": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=AEA)


# ---------------------------------------------------------------- Gini by hand


def test_ordinary_gini_hand_value():
    # ΣΣ|yi-yj| = 2(1+2+3+1+2+1) = 20; 2 n² μ = 2·16·2.5 = 80
    assert gini_ordinary([1, 2, 3, 4]) == pytest.approx(0.25, abs=1e-15)
    assert gini_ordinary([5.0]) == 0.0
    with pytest.raises(ValueError):
        gini_ordinary([-1.0, 2.0])


def test_ctr_bs_and_rsv_hand_worked_with_negative_values():
    # y = (-2, 1, 3): numerator ΣΣ|yi-yj|/(2n²) = 20/18 = 10/9.
    # CTR-BS: k = 2 members keep the cumulated sum negative (-2, -1), y_(k+1) = 3, μ = 2/3:
    #   den = μ + (2/n²)(-2·1 + 1·2) + (1/n²)(-1)((-1)/3 - 2·2) - (1/n²)(-2 + 1) = 34/27
    #   G = (10/9)/(34/27) = 15/17.
    assert gini_ctr_bs([3, -2, 1]) == pytest.approx(15 / 17, abs=1e-14)
    # RSV: (10/9) / ((T+ + |T-|)/n) = (10/9)/(6/3) = 5/9
    assert gini_rsv([3, -2, 1]) == pytest.approx(5 / 9, abs=1e-14)


def test_segmented_gini_hand_worked():
    # deficit |y| = (4, 2): 4/(2·4·3) = 1/6; surplus (3, 5, 10): 28/(2·9·6) = 7/27; one neutral
    out = gini_segmented([-4, -2, 0, 3, 5, 10])
    assert out["g_deficit"] == pytest.approx(1 / 6, abs=1e-15)
    assert out["g_surplus"] == pytest.approx(7 / 27, abs=1e-15)
    assert out["gini_segmented"] == pytest.approx(1 / 6 + 7 / 27, abs=1e-15)
    assert (out["p_deficit"], out["p_surplus"], out["p_neutral"]) == (2 / 6, 3 / 6, 1 / 6)
    # a tolerance makes small values neutral
    assert gini_segmented([-0.005, 1.0, 3.0], tolerance=0.01)["p_neutral"] == pytest.approx(1 / 3)


def test_segmented_gini_can_exceed_one_as_eq16_writes_it():
    y = [-100, -1e-3, -1e-3, -1e-3, 1e-3, 1e-3, 1e-3, 100]
    assert gini_segmented(y)["gini_segmented"] > 1.0


@pytest.mark.parametrize("values", [[3.0] * 5, [-2.0] * 4, [0.0, 0.0], [7.5]])
def test_all_equal_values_give_zero(values):
    assert gini_ctr_bs(values) == 0.0
    assert gini_rsv(values) == 0.0
    assert gini_segmented(values)["gini_segmented"] == 0.0


def test_ctr_bs_reduces_to_ordinary_gini_without_negatives_and_is_one_for_negative_total():
    rng = np.random.default_rng(3)
    y = rng.gamma(2.0, 3.0, 25)
    assert gini_ctr_bs(y) == pytest.approx(gini_ordinary(y), rel=1e-12)
    assert gini_ctr_bs([-5.0, -1.0, 2.0]) == 1.0  # total < 0: normalisation undefined -> 1


def test_weights_equal_replication():
    y = np.array([-3.0, -1.0, 0.5, 2.0, 7.0])
    w = np.array([2, 1, 3, 1, 2])
    rep = np.repeat(y, w)
    assert gini_ctr_bs(y, w) == pytest.approx(gini_ctr_bs(rep), rel=1e-12)
    assert gini_rsv(y, w) == pytest.approx(gini_rsv(rep), rel=1e-12)


def test_normalised_ginis_stay_in_unit_interval_for_mixed_signs():
    rng = np.random.default_rng(20220101)
    for _ in range(3000):
        n = int(rng.integers(2, 40))
        y = rng.normal(rng.normal(0.0, 2.0), rng.uniform(0.1, 5.0), n)
        if rng.random() < 0.3:
            y = np.round(y)  # ties and zeros
        for g in (gini_ctr_bs(y), gini_rsv(y)):
            assert 0.0 <= g <= 1.0, y


def test_gini_table_counts_members_and_missing():
    df = pd.DataFrame(
        {
            "parent": ["A"] * 4 + ["B"] * 2,
            "code": list("abcdef"),
            "period": "mean",
            "value": [-2.0, 1.0, 3.0, np.nan, 4.0, 4.0],
        }
    )
    tab = gini_table(df, parent_col="parent", value_col="value")
    a = tab.set_index("parent").loc["A"]
    assert (a["n_members"], a["n_missing"]) == (3, 1)
    assert a["gini_ctr_bs"] == pytest.approx(15 / 17)
    assert tab.set_index("parent").loc["B", "gini_rsv"] == 0.0


# ---------------------------------------------------------------- esda wiring


def test_queen_weights_match_libpysal_lattice():
    from libpysal.weights import lat2W

    w, report = spatial.queen_weights(lattice(5, 6), "code")
    ref = lat2W(5, 6, rook=False)
    ids = w.id_order
    for i, code in enumerate(ids):
        assert sorted(ids.index(n) for n in w.neighbors[code]) == sorted(ref.neighbors[i])
    assert report == {}


def test_queen_weights_match_libpysal_queen_on_an_irregular_coverage():
    import shapely
    from libpysal.weights import Queen

    rng = np.random.default_rng(9)
    pts = shapely.MultiPoint(rng.uniform(0, 100_000, (80, 2)))
    frame = box(0, 0, 100_000, 100_000)
    cells = [
        c.intersection(frame)
        for c in shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame))
    ]
    gdf = gpd.GeoDataFrame(
        {"code": [f"c{i:03d}" for i in range(len(cells))]}, geometry=cells, crs=AEA
    )
    ours, _ = spatial.queen_weights(gdf, "code")
    ref = Queen.from_dataframe(gdf, use_index=False, ids=gdf["code"].tolist())
    assert ours.id_order == ref.id_order
    for code in ref.id_order:
        assert sorted(ours.neighbors[code]) == sorted(ref.neighbors[code]), code


def test_moran_and_lisa_equal_esda_and_detect_patterns():
    import esda

    grid = lattice(8, 8)
    w, _ = spatial.queen_weights(grid, "code")
    r, c = np.divmod(np.arange(64), 8)
    checker = ((r + c) % 2).astype(float)
    gradient = r + 0.5 * c + np.random.default_rng(1).normal(0, 0.1, 64)
    for y in (checker, gradient):
        ours = spatial.global_moran(y, w, permutations=199, seed=7)
        ref = esda.Moran(y, w, transformation="r", permutations=0)
        assert ours["moran_i"] == pytest.approx(ref.I, abs=1e-12)
        assert ours["z_norm"] == pytest.approx(ref.z_norm, abs=1e-10)
        loc = spatial.local_moran(y, w, permutations=199, seed=7, alpha=0.05)
        ref_l = esda.Moran_Local(y, w, transformation="r", permutations=0)
        np.testing.assert_allclose(loc["lisa_i"], ref_l.Is, atol=1e-12)
    assert spatial.global_moran(checker, w, permutations=99, seed=1)["moran_i"] < 0
    assert spatial.global_moran(gradient, w, permutations=99, seed=1)["moran_i"] > 0.5


def test_permutation_p_values_repeat_with_the_same_seed_and_leave_global_rng_alone():
    grid = lattice(6, 6)
    w, _ = spatial.queen_weights(grid, "code")
    y = np.random.default_rng(5).normal(size=36)
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    a = spatial.global_moran(y, w, permutations=999, seed=42)
    assert np.random.random() == before  # the caller's global RNG stream is untouched
    b = spatial.global_moran(y, w, permutations=999, seed=42)
    assert a["p_sim"] == b["p_sim"]
    la = spatial.local_moran(y, w, permutations=999, seed=42, alpha=0.05)
    lb = spatial.local_moran(y, w, permutations=999, seed=42, alpha=0.05)
    np.testing.assert_array_equal(la["lisa_p_sim"], lb["lisa_p_sim"])
    ga = spatial.getis_ord_star(y, w, permutations=999, seed=42)
    gb = spatial.getis_ord_star(y, w, permutations=999, seed=42)
    np.testing.assert_array_equal(ga["gi_p_sim"], gb["gi_p_sim"])


def test_lisa_labels_planted_clusters():
    grid = lattice(8, 8)
    w, _ = spatial.queen_weights(grid, "code")
    r, c = np.divmod(np.arange(64), 8)
    y = np.random.default_rng(2).normal(0, 0.2, 64)
    y[(r < 3) & (c < 3)] += 5.0  # high block top-left
    y[(r > 4) & (c > 4)] -= 5.0  # low block bottom-right
    loc = spatial.local_moran(y, w, permutations=999, seed=3, alpha=0.05)
    assert loc["lisa_cluster"][(r == 1) & (c == 1)].item() == "HH"
    assert loc["lisa_cluster"][(r == 6) & (c == 6)].item() == "LL"


def ord_getis_z(y, neighbours: dict, ids: list) -> np.ndarray:
    """Closed-form Gi* z (Ord & Getis 1995) with binary weights including the region itself:
    (Σ_j w_ij x_j − x̄ W_i) / (S √((n Σ_j w_ij² − W_i²)/(n − 1))), S the population SD.
    The reference of :func:`carbonbudget.science.spatial.getis_ord_star`."""
    y = np.asarray(y, dtype="float64")
    n = len(y)
    pos = {c: i for i, c in enumerate(ids)}
    mean, sd = y.mean(), y.std()
    z = np.empty(n)
    for i, c in enumerate(ids):
        members = [i] + [pos[j] for j in neighbours[c]]
        wi = len(members)
        z[i] = (y[members].sum() - mean * wi) / (sd * math.sqrt((n * wi - wi**2) / (n - 1)))
    return z


def test_gi_star_is_the_ord_getis_z_and_keeps_its_sign_for_negative_means():
    import esda

    grid = lattice(8, 8)
    w, _ = spatial.queen_weights(grid, "code")
    r, c = np.divmod(np.arange(64), 8)
    y = -10.0 + np.random.default_rng(4).normal(0, 0.5, 64)  # a deficit everywhere (mean < 0)
    y[(r < 3) & (c < 3)] += 4.0  # ... but less so here: a hot spot
    gi = spatial.getis_ord_star(y, w, permutations=99, seed=1)
    ref = ord_getis_z(y, w.neighbors, w.id_order)
    np.testing.assert_allclose(gi["gi_z"], ref, rtol=1e-10)
    centre = (r == 1) & (c == 1)
    assert gi["gi_z"][centre].item() > 2.576
    assert gi["gi_class"][centre].item() == "hot spot 99%"
    # esda on the raw (negative-mean) values would call the same region a cold spot
    raw = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    assert raw.Zs[centre].item() < 0


def test_gi_star_classes():
    z = np.array([3.0, 2.0, 1.7, 0.0, -1.7, -2.0, -3.0])
    assert list(spatial.gi_star_class(z)) == [
        "hot spot 99%",
        "hot spot 95%",
        "hot spot 90%",
        "not significant",
        "cold spot 90%",
        "cold spot 95%",
        "cold spot 99%",
    ]


def test_islands_joined_to_nearest_or_dropped():
    grid = lattice(3, 3)
    island = gpd.GeoDataFrame(
        {"code": ["z_island"]}, geometry=[box(10_000, 0, 11_000, 1000)], crs=AEA
    )
    gdf = pd.concat([grid, island], ignore_index=True)
    w, report = spatial.queen_weights(gdf, "code", islands="nearest")
    assert report == {"z_island": "r00c02"}  # the nearest region (right end of the top row)
    assert w.neighbors["z_island"] == ["r00c02"] and not w.islands
    _, report = spatial.queen_weights(gdf, "code", islands="drop")
    assert report == {"z_island": None}


def _budget(codes, years, values):
    return pd.DataFrame(
        [
            {"code": c, "name": c.upper(), "year": y, "cnc_tgco2": v}
            for (c, y), v in zip([(c, y) for c in codes for y in years], values)
        ]
    )


def test_spatial_level_excludes_incomplete_regions_from_the_mean_and_skips_small_levels():
    grid = lattice(4, 4)
    codes = sorted(grid["code"])
    years = [2001, 2002]
    rng = np.random.default_rng(0)
    vals = rng.normal(size=len(codes) * len(years))
    vals[1] = np.nan  # first region, 2002
    local, moran = spatial.spatial_level(
        grid,
        _budget(codes, years, vals),
        level="county",
        variables=["cnc_tgco2"],
        permutations=99,
        seed=1,
        lisa_p=0.05,
        islands="nearest",
        min_regions=8,
    )
    m = moran.set_index("period")
    assert list(m.index) == ["mean", "2001", "2002"]
    assert m.loc["mean", "n_excluded"] == 1 and m.loc["2001", "n_excluded"] == 0
    assert m.loc["2002", "n_excluded"] == 1
    first = local.set_index("code").loc[codes[0]]
    assert first["lisa_cluster"] == "not computed" and np.isnan(first["value_mean"])
    assert local.set_index("code").loc[codes[1], "value_mean"] == pytest.approx(vals[2:4].mean())
    _, small = spatial.spatial_level(
        grid,
        _budget(codes, years, vals),
        level="county",
        variables=["cnc_tgco2"],
        permutations=99,
        seed=1,
        lisa_p=0.05,
        islands="nearest",
        min_regions=20,
    )
    assert small["note"].str.startswith("skipped: 15 regions").iloc[0]
    assert small["moran_i"].isna().all()


def test_unknown_variable_is_a_clear_error():
    from carbonbudget.core.errors import RegionError

    grid = lattice(3, 3)
    with pytest.raises(RegionError, match="spatial.variables.*'cnc_typo'.*Fix"):
        spatial.spatial_level(
            grid,
            _budget(sorted(grid["code"]), [2001], np.arange(9.0)),
            level="county",
            variables=["cnc_typo"],
            permutations=99,
            seed=1,
            lisa_p=0.05,
            islands="nearest",
            min_regions=3,
        )


def test_config_spatial_levels_are_checked(tmp_path):
    import yaml

    base = yaml.safe_load(open("config/config.yaml"))
    cfg = validate_config(base)
    assert cfg["spatial"]["gini_parent"] == "province"
    with pytest.raises(ConfigError, match="spatial/variables/0"):
        validate_config(dict(base, spatial={"variables": ["cnc_typo"]}))
    bad = dict(base, spatial={"levels": ["district"]})
    with pytest.raises(ConfigError, match="spatial.levels: 'district'"):
        validate_config(bad)
    bad = dict(base, spatial={"gini_parent": "province", "gini_members": "province"})
    with pytest.raises(ConfigError, match="gini_members"):
        validate_config(bad)
    default = validate_config(dict(base, spatial={}))
    assert default["spatial"]["levels"] == ["county", "city", "province"]
    assert default["spatial"]["gini_members"] == "city"


@pytest.mark.slow
def test_local_statistics_and_their_p_values_agree_with_esda():
    """LISA and Gi* as esda computes them: the statistics to 1e-12, the quadrants alike, and
    the conditional-permutation p-values within Monte Carlo error (two independent streams of
    999 draws: their difference has a standard deviation of at most 0.022)."""
    import esda

    grid = lattice(10, 10)
    w, _ = spatial.queen_weights(grid, "code")
    r, c = np.divmod(np.arange(100), 10)
    y = r + 0.5 * c + np.random.default_rng(8).normal(0, 2.0, 100)
    loc = spatial.local_moran(y, w, permutations=999, seed=5, alpha=0.05)
    ref = esda.Moran_Local(y, w, transformation="r", permutations=999, seed=5, n_jobs=1)
    np.testing.assert_allclose(loc["lisa_i"], ref.Is, atol=1e-12)
    assert list(loc["lisa_quadrant"]) == [spatial.LISA_LABELS[q] for q in ref.q]
    diff = np.abs(loc["lisa_p_sim"].to_numpy() - ref.p_sim)
    assert diff.max() < 0.1 and diff.mean() < 0.02, (diff.max(), diff.mean())
    gi = spatial.getis_ord_star(y, w, permutations=999, seed=5)
    shifted = y - y.min() + np.ptp(y)
    ref_g = esda.G_Local(shifted, w, transform="B", star=True, permutations=999, seed=5, n_jobs=1)
    np.testing.assert_allclose(gi["gi_z"], ref_g.Zs, rtol=1e-10)
    diff = np.abs(gi["gi_p_sim"].to_numpy() - ref_g.p_sim)
    assert diff.max() < 0.1 and diff.mean() < 0.02, (diff.max(), diff.mean())


def test_the_permutation_kernels_draw_distinct_neighbours_and_fold_the_p_value():
    """Each draw is k distinct other regions; the p-value of a region is the share of draws at
    least as extreme as what it has (folded: never above 0.5)."""
    ids = spatial._permuted_ids(9, 4, 200, 3)
    assert ids.shape == (200, 4) and ids.min() >= 0 and ids.max() <= 8
    assert all(len(set(row)) == 4 for row in ids.tolist())
    # ten regions on a line, each the neighbour of the next; the statistic is the neighbours'
    # mean, region 0 holds the largest value next to the next largest
    from scipy import sparse

    n = 10
    rows = [(i, j) for i in range(n) for j in (i - 1, i + 1) if 0 <= j < n]
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), ([a for a, _ in rows], [b for _, b in rows])), shape=(n, n)
    )
    matrix = matrix.multiply(1.0 / np.asarray(matrix.sum(axis=1))).tocsr()
    values = np.array([100.0, 99.0, *range(8)])
    observed = matrix @ values
    p = spatial._local_p(values, matrix, np.zeros(n), np.ones(n), observed, 999, 1)
    # region 0's one neighbour holds 99: a draw from the other nine values reaches it with
    # probability 1/9 (only 99 itself does)
    assert p[0] == pytest.approx(1 / 9, abs=0.04)
    assert (p <= 0.5 + 1e-12).all() and (p >= 1 / 1000).all()
