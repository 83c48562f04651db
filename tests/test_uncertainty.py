"""Uncertainty intervals and the probability of a surplus (docs/method.md, "Uncertainty")."""

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import AEA, demo_config, write_raster

from carbonbudget.core.config import fill_section
from carbonbudget.core.errors import ConfigError, GridError
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.regions.zonal import coverage_matrix, zonal_statistics, zonal_totals
from carbonbudget.science.uncertainty import (
    Components,
    UncertaintyModel,
    add_intervals,
    budget_intervals,
    coefficient_groups,
    draw_balance,
    linear_variances,
    ratio_draws,
    shared_errors,
    slope_intervals,
)

K = CO2_PER_C


def _components(n=1, **kw):
    base = dict(
        npp=np.full(n, 10.0),
        rh=np.full(n, 6.0),
        rcs_groups=np.tile([1.0, 2.0], (n, 1)),
        ce=np.full(n, 20.0),
        npp_sq=np.full(n, 0.5),
        rh_sq=np.full(n, 0.2),
        rcs_sq=np.full(n, 0.1),
        ce_sq=np.full(n, 150.0),
    )
    base.update(kw)
    return Components(**base)


MODEL = UncertaintyModel(npp_sd=0.1, rh_sd=0.04, coefficient_sd=0.0625, ce_sd=0.05, draws=1000)
# every error at once, systematic (NPP, coefficients) and independent (RH, emissions), with
# draws enough to compare Monte Carlo with the analytic variance
MIXED = replace(MODEL, rh_independent=True, ce_independent=True, draws=20000)


def test_linear_variances_by_hand():
    """NPP 10, RH 6, RCS 1 + 2 on two lithology groups, CE 20 Tg CO2; all systematic."""
    v = linear_variances(_components(), MODEL)
    v_npp, v_rh = (0.1 * 10) ** 2, (0.04 * 6) ** 2
    v_rcs = 0.0625**2 * (1**2 + 2**2)  # one error per group, independent between groups
    assert v["rh_tgc"][0] == pytest.approx(v_rh, rel=1e-12)
    assert v["nep_tgc"][0] == pytest.approx(v_npp + v_rh, rel=1e-12)
    assert v["rcs_tgc"][0] == pytest.approx(v_rcs, rel=1e-12)
    v_ecs = (v_npp + v_rh + v_rcs) * K**2
    assert v["ecs_tgco2"][0] == pytest.approx(v_ecs, rel=1e-12)
    assert v["ce_tgco2"][0] == pytest.approx((0.05 * 20) ** 2, rel=1e-12)
    assert v["cnc_tgco2"][0] == pytest.approx(v_ecs + 1.0, rel=1e-12)
    # independent between pixels: the sums of squares replace the squared totals
    ind = UncertaintyModel(npp_sd=0.1, npp_independent=True, ce_sd=0.05, ce_independent=True)
    v = linear_variances(_components(), ind)
    assert v["nep_tgc"][0] == pytest.approx(0.01 * 0.5, rel=1e-12)
    assert v["ce_tgco2"][0] == pytest.approx(0.0025 * 150.0, rel=1e-12)


def _budget_rows(c, years=None, cnc=None):
    n = len(c.npp)
    ecs = c.npp - c.rh + c.rcs
    t = pd.DataFrame(
        {
            "code": ["r"] * n,
            "name": ["region"] * n,
            "year": years if years is not None else np.arange(2001, 2001 + n),
            "rh_tgc": c.rh,
            "nep_tgc": c.npp - c.rh,
            "rcs_tgc": c.rcs,
            "ecs_tgco2": ecs * K,
            "ce_tgco2": c.ce,
            "cnc_tgco2": ecs * K - c.ce if cnc is None else cnc,
            "cv": np.ones(n),
            "rcs_group_a_tgc": c.rcs_groups[:, 0],
            "rcs_group_b_tgc": c.rcs_groups[:, 1],
            "npp_sq_tgc2": c.npp_sq,
            "rh_sq_tgc2": c.rh_sq,
            "rcs_sq_tgc2": c.rcs_sq,
            "ce_sq_tgco2": c.ce_sq,
        }
    )
    t["status"] = np.where(t["cnc_tgco2"] > 0, "surplus", "deficit")
    t["source_sink_ratio"] = t["ce_tgco2"] / t["ecs_tgco2"]
    t["cer"] = t["source_sink_ratio"]
    return t


def test_zero_uncertainty_collapses_every_interval_to_the_point_estimate():
    c = _components(3, ce=np.array([20.0, 30.0, 10.0]))
    t = _budget_rows(c)
    zero = UncertaintyModel(draws=200)
    iv = budget_intervals(t, ["a", "b"], zero, shared_errors(zero, 2), np.random.default_rng(0))
    for col in ("rh_tgc", "nep_tgc", "rcs_tgc", "ecs_tgco2", "ce_tgco2", "cnc_tgco2"):
        for q in ("p05", "p50", "p95"):
            np.testing.assert_allclose(iv[f"{col}_{q}"], t[col], rtol=1e-12)
    for q in ("p05", "p50", "p95"):
        np.testing.assert_allclose(iv[f"source_sink_ratio_{q}"], t["source_sink_ratio"], rtol=1e-12)
    # ECS = 7 Tg C = 25.7 Tg CO2: surplus against CE 20 and 10, deficit against 30; certain
    assert iv["p_surplus"].tolist() == [1.0, 0.0, 1.0]
    assert iv["status_robust"].tolist() == [True, True, True]


def test_monte_carlo_agrees_with_the_analytic_variance_of_the_linear_parts():
    """Every error at once, systematic and independent; runoff exact (sd 0) so the model is
    linear: the sample variance of CNC is within 4 standard errors of the analytic one."""
    m = replace(MIXED, seed=7)
    c = _components(2, npp=np.array([10.0, 3.0]), ce=np.array([20.0, 12.0]))
    ecs_d, ce_d = draw_balance(c, m, shared_errors(m, 2), np.random.default_rng(1))
    cnc_d = ecs_d * K - ce_d
    var = linear_variances(c, m)
    se = np.sqrt(2.0 / m.draws)  # relative standard error of a sample variance
    np.testing.assert_allclose(cnc_d.var(axis=1), var["cnc_tgco2"], rtol=4 * se)
    np.testing.assert_allclose((ecs_d * K).var(axis=1), var["ecs_tgco2"], rtol=4 * se)
    np.testing.assert_allclose(ce_d.var(axis=1), var["ce_tgco2"], rtol=4 * se)
    # the median of the draws is the point estimate, within its sampling error
    point = c.ecs * K - c.ce
    assert np.all(
        np.abs(np.median(cnc_d, axis=1) - point) < 4 * 1.253 * np.sqrt(var["cnc_tgco2"] / m.draws)
    )
    # P(CNC > 0) from the draws against the analytic one
    from scipy.special import ndtr

    p = ndtr(point / np.sqrt(var["cnc_tgco2"]))
    np.testing.assert_allclose((cnc_d > 0).mean(axis=1), p, atol=4 * np.sqrt(0.25 / m.draws))


def test_doubling_a_relative_sd_doubles_the_interval_of_a_quantity_linear_in_it():
    c = _components(1)
    t = _budget_rows(c)
    widths = []
    for sd in (0.04, 0.08):
        m = UncertaintyModel(rh_sd=sd, draws=100)
        iv = budget_intervals(t, ["a", "b"], m, shared_errors(m, 2), np.random.default_rng(0))
        widths.append((iv["rh_tgc_p95"] - iv["rh_tgc_p05"]).iloc[0])
        # 90 % interval of a Gaussian: ± 1.6449 sd around the point estimate
        assert widths[-1] == pytest.approx(2 * 1.6448536269514722 * sd * 6.0, rel=1e-12)
    assert widths[1] == pytest.approx(2 * widths[0], rel=1e-12)


def test_ratio_of_a_draw_whose_sink_turns_negative_is_infinite_never_negative():
    r = ratio_draws(np.array([[2.0, -1.0, 0.0]]), np.array([[11.0, 11.0, 11.0]]))
    assert r[0, 0] == pytest.approx(11.0 / (2.0 * K)) and np.isinf(r[0, 1:]).all()


def test_same_seed_same_bytes_another_seed_other_draws(tmp_path):
    c = _components(4, ce=np.array([20.0, 25.0, 26.0, 30.0]))
    tables = {"county": _budget_rows(c), "study_area": _budget_rows(c)}
    cfg = fill_section("uncertainty", {"npp": {"relative_sd": 0.1}, "draws": 500})
    a, ta = add_intervals(tables, cfg)
    b, tb = add_intervals(tables, cfg)
    pd.testing.assert_frame_equal(a["county"], b["county"])
    pd.testing.assert_frame_equal(ta["county"], tb["county"])
    assert "npp_sq_tgc2" not in a["county"] and "rcs_group_a_tgc" not in a["county"]
    from carbonbudget.core.io import write_table

    for i, out in enumerate((a, b)):
        write_table(out["county"], tmp_path / f"run{i}.csv", tmp_path / f"run{i}.parquet")
    for ext in ("csv", "parquet"):
        assert (tmp_path / f"run0.{ext}").read_bytes() == (tmp_path / f"run1.{ext}").read_bytes()
    c2, _ = add_intervals(tables, dict(cfg, seed=cfg["seed"] + 1))
    assert not np.array_equal(a["county"]["cer_p95"], c2["county"]["cer_p95"])
    # the analytic columns do not depend on the draws
    pd.testing.assert_series_equal(a["county"]["cnc_tgco2_p05"], c2["county"]["cnc_tgco2_p05"])


def test_status_robust_means_the_95_percent_interval_stays_on_the_status_side():
    c = _components(3, ce=np.array([25.0, 25.9, 40.0]))  # ECS 25.67 Tg CO2
    t = _budget_rows(c)
    iv = budget_intervals(t, ["a", "b"], MODEL, shared_errors(MODEL, 2), np.random.default_rng(0))
    sd = np.sqrt(linear_variances(c, MODEL)["cnc_tgco2"])
    lo, hi = t["cnc_tgco2"] - 1.959963984540054 * sd, t["cnc_tgco2"] + 1.959963984540054 * sd
    assert (iv["status_robust"].to_numpy() == ((lo > 0) | (hi < 0)).to_numpy()).all()
    assert iv["status_robust"].tolist() == [False, False, True]
    assert ((iv["p_surplus"] >= 0.975) | (iv["p_surplus"] <= 0.025)).tolist() == [
        False,
        False,
        True,
    ]


def test_rows_without_cnc_get_no_interval():
    c = _components(2)
    t = _budget_rows(c, cnc=np.array([np.nan, 5.0]))
    iv = budget_intervals(t, ["a", "b"], MODEL, shared_errors(MODEL, 2), np.random.default_rng(0))
    assert iv.loc[0, ["cnc_tgco2_p05", "p_surplus", "cer_p50"]].isna().all()
    assert pd.isna(iv.loc[0, "status_robust"]) and iv.loc[1, "p_surplus"] > 0.5


def test_trend_interval_of_a_linear_series_and_against_monte_carlo():
    """CE grows by exactly 2 Tg CO2 a year; a systematic 5 % error scales the slope: sd = 0.05
    × 2. With every error, the analytic slope sd agrees with the sd of the slopes of Monte
    Carlo series (systematic errors shared by the years, independent ones drawn per year)."""
    years = np.arange(2001, 2011)
    n = len(years)
    ce = 20.0 + 2.0 * (years - 2001)
    c = _components(n, ce=ce, npp=10.0 + 0.3 * (years - 2001), ce_sq=ce**2 / 3)
    t = _budget_rows(c, years=years)
    only_ce = UncertaintyModel(ce_sd=0.05)
    tr = slope_intervals(t, ["a", "b"], only_ce).set_index("variable")
    assert tr.loc["ce_tgco2", "slope_per_yr"] == pytest.approx(2.0, rel=1e-12)
    assert tr.loc["ce_tgco2", "slope_sd"] == pytest.approx(0.1, rel=1e-12)
    assert tr.loc["ecs_tgco2", "slope_sd"] == 0.0
    assert bool(tr.loc["ce_tgco2", "sign_robust"])

    m = replace(MIXED, seed=3)
    tr = slope_intervals(t, ["a", "b"], m).set_index("variable")
    # the same systematic draws for every year, independent draws per year
    ecs_d, ce_d = draw_balance(c, m, shared_errors(m, 2), np.random.default_rng(2))
    w = (years - years.mean()) / ((years - years.mean()) ** 2).sum()
    slopes = w @ (ecs_d * K - ce_d)
    se = np.sqrt(1.0 / (2 * m.draws))  # relative standard error of a sample sd
    assert slopes.std() == pytest.approx(tr.loc["cnc_tgco2", "slope_sd"], rel=4 * se)
    assert tr.loc["cnc_tgco2", "slope_per_yr"] == pytest.approx(
        w @ t["cnc_tgco2"].to_numpy(), rel=1e-12
    )


def test_zonal_statistics_by_hand(small_grid, tmp_path):
    """Two regions on the 5 × 4 km grid; the lithology groups from the coefficients of the
    table; sums over the pixels where every flux is known, as the totals."""
    regions = gpd.GeoDataFrame(
        {"code": ["a", "b"]},
        geometry=[shapely.box(0, 0, 2500, 4000), shapely.box(2500, 0, 5000, 4000)],
        crs=AEA,
    )
    codes, mat = coverage_matrix(regions, "code", small_grid)
    table = tmp_path / "coef.csv"
    table.write_text("gem_class,a\ncarbonate,1.586\nshale,0.672\nsand,0.152\nnone,0.0\nice,0.0\n")
    groups = coefficient_groups(str(table))
    assert [g for g, _ in groups] == ["carbonate", "shale", "sand", "none+ice"]
    coef = np.full(small_grid.shape, 0.152, dtype="float32")
    coef[:, 0] = 1.586  # column 0: carbonate, in a
    coef[:, 2] = 0.672  # column 2: shale, half in a, half in b
    coef[0, 4] = 0.0  # one pixel without a sink, in b
    rh = np.full(small_grid.shape, 300.0)
    nep = np.full(small_grid.shape, 200.0)
    rcs = (0.012 * coef * 100.0).astype("float64")  # Q = 100 mm
    nep[3, 1] = np.nan  # a pixel of a left out of every sum
    ecs = nep + rcs
    paths = {
        v: write_raster(tmp_path / f"{v}.tif", x, small_grid)
        for v, x in {"rh": rh, "nep": nep, "rcs": rcs, "ecs": ecs}.items()
    }
    cpath = write_raster(tmp_path / "coef.tif", coef, small_grid)
    st = zonal_statistics(mat, codes, small_grid, paths, cpath, groups).set_index("code")
    tot = zonal_totals(mat, codes, small_grid, paths).set_index("code")
    groups_cols = [c for c in st.columns if c.startswith("rcs_group_")]
    # the groups add up to the region's RCS total, over the same pixels
    np.testing.assert_allclose(st[groups_cols].sum(axis=1), tot["rcs_tgc"], rtol=1e-6)
    rcs_of = {a: 0.012 * np.float32(a) * 100.0 for a in (1.586, 0.672, 0.152)}
    # a: column 0 (4 pixels carbonate), column 1 (3 known pixels sand), half of column 2 shale
    assert st.loc["a", "rcs_group_carbonate_tgc"] == pytest.approx(
        4 * rcs_of[1.586] * 1e6 / 1e12, rel=1e-6
    )
    assert st.loc["a", "rcs_group_sand_tgc"] == pytest.approx(
        3 * rcs_of[0.152] * 1e6 / 1e12, rel=1e-6
    )
    assert st.loc["a", "rcs_group_shale_tgc"] == pytest.approx(
        4 * 0.5 * rcs_of[0.672] * 1e6 / 1e12, rel=1e-6
    )
    assert st.loc["b", "rcs_group_none+ice_tgc"] == 0.0
    # sums of squares Σ (w·a·x)²: a has 4 + 3 whole pixels and 4 half pixels of NPP 500
    npp_sq = (7 * (1e6 * 500) ** 2 + 4 * (0.5e6 * 500) ** 2) / 1e24
    assert st.loc["a", "npp_sq_tgc2"] == pytest.approx(npp_sq, rel=1e-6)
    assert st.loc["a", "rh_sq_tgc2"] == pytest.approx(npp_sq * (300 / 500) ** 2, rel=1e-6)


def test_coefficient_raster_of_another_table_is_an_error(small_grid, tmp_path):
    regions = gpd.GeoDataFrame({"code": ["a"]}, geometry=[shapely.box(0, 0, 5000, 4000)], crs=AEA)
    codes, mat = coverage_matrix(regions, "code", small_grid)
    table = tmp_path / "coef.csv"
    table.write_text("gem_class,a\ncarbonate,1.586\nnone,0.0\n")
    ones = np.ones(small_grid.shape)
    paths = {
        v: write_raster(tmp_path / f"{v}.tif", ones, small_grid)
        for v in ("rh", "nep", "rcs", "ecs")
    }
    cpath = write_raster(tmp_path / "coef.tif", np.full(small_grid.shape, 0.5), small_grid)
    with pytest.raises(GridError, match="coef.tif.*0.5.*another lithology.coefficients"):
        zonal_statistics(mat, codes, small_grid, paths, cpath, coefficient_groups(str(table)))


def test_npp_error_has_no_default_and_an_rcs_only_run_has_no_interval():
    from carbonbudget.core.config import validate_config

    demo = demo_config()
    cfg = dict(demo, uncertainty={})
    with pytest.raises(ConfigError, match="uncertainty.npp.relative_sd.*validation"):
        validate_config(cfg)
    rcs_only = {
        k: v
        for k, v in demo.items()
        if k not in ("npp", "climate", "scenarios", "trends", "spatial")
    }
    rcs_only["uncertainty"] = {"npp": {"relative_sd": 0.1}}
    with pytest.raises(ConfigError, match="uncertainty: needs NPP and climate"):
        validate_config(rcs_only)


# --- the demo run (config/config.yaml switches the model on) -----------------------------------
def test_demo_writes_intervals_for_every_level_and_year(demo_run):
    levels = ["county", "city", "province", "study_area"]
    for level in levels:
        t = pd.read_csv(
            demo_run / "results" / "tables" / f"budget_{level}.csv", dtype={"code": str}
        )
        t = t[t["in_region_layer"]]
        assert len(t) and t["p_surplus"].notna().all(), level
        for col in ("rh_tgc", "nep_tgc", "rcs_tgc", "ecs_tgco2", "ce_tgco2", "cnc_tgco2"):
            assert (t[f"{col}_p05"] < t[f"{col}_p50"]).all() and (
                t[f"{col}_p50"] < t[f"{col}_p95"]
            ).all()
            np.testing.assert_allclose(t[f"{col}_p50"], t[col], rtol=5e-12)
        for col in ("source_sink_ratio", "cer"):
            assert (t[f"{col}_p05"] <= t[f"{col}_p50"]).all() and (
                t[f"{col}_p50"] <= t[f"{col}_p95"]
            ).all()
            # the median of 1,000 draws is near the point estimate (the ratio is almost linear
            # at these errors)
            np.testing.assert_allclose(t[f"{col}_p50"], t[col], rtol=0.05)
        surplus, deficit = t["status"] == "surplus", t["status"] == "deficit"
        robust = t["status_robust"].astype(bool)
        assert (t.loc[surplus & robust, "p_surplus"] >= 0.975).all()
        assert (t.loc[deficit & robust, "p_surplus"] <= 0.025).all()
        assert (t.loc[surplus & ~robust, "p_surplus"] < 0.975).all()
        tr = pd.read_csv(
            demo_run / "results" / "tables" / f"uncertainty_trends_{level}.csv", dtype={"code": str}
        )
        ref = pd.read_csv(
            demo_run / "results" / "tables" / f"trends_{level}.csv", dtype={"code": str}
        )
        cnc = tr[tr["variable"] == "cnc_tgco2"].set_index("code")["slope_per_yr"]
        np.testing.assert_allclose(
            cnc, ref.set_index("code").loc[cnc.index, "cnc_tgco2_slope_per_yr"], rtol=1e-9
        )


def test_demo_study_area_interval_recomputed_from_the_county_statistics(demo_run):
    """The study area's CNC interval of 2005 from the finest-level statistics the zonal stage
    wrote and the county CE, with the demo's model (NPP 10 %, RH 4 %, coefficients 6.25 %,
    all systematic; emissions 5 % independent between counties), by hand."""
    st = pd.read_parquet(
        demo_run / "results" / ".work" / "interim" / "zonal_uncertainty" / "county_2005.parquet"
    )
    county = pd.read_csv(demo_run / "results" / "tables" / "budget_county.csv", dtype={"code": str})
    county = county[county["year"] == 2005]
    area = pd.read_csv(demo_run / "results" / "tables" / "budget_study_area.csv")
    area = area[area["year"] == 2005].iloc[0]
    npp = area["nep_tgc"] + area["rh_tgc"]
    groups = st[[c for c in st.columns if c.startswith("rcs_group_")]].sum()
    assert groups.sum() == pytest.approx(area["rcs_tgc"], rel=1e-9)
    var_ecs = (0.1 * npp) ** 2 + (0.04 * area["rh_tgc"]) ** 2 + 0.0625**2 * (groups**2).sum()
    var_ce = 0.05**2 * (county["ce_tgco2"] ** 2).sum()
    sd = np.sqrt(var_ecs * K**2 + var_ce)
    assert area["cnc_tgco2_p95"] - area["cnc_tgco2"] == pytest.approx(
        1.6448536269514722 * sd, rel=1e-9
    )
    from scipy.special import ndtr

    assert area["p_surplus"] == pytest.approx(ndtr(area["cnc_tgco2"] / sd), rel=1e-9, abs=1e-15)
