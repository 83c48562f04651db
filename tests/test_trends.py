"""Time-series statistics (docs/method.md, "Trends") per pixel and per region."""

import numpy as np
import pandas as pd
import pymannkendall as pmk
import pytest
import xarray as xr
from scipy import stats

from carbonbudget.science import trends as trend_kernels
from carbonbudget.science.trends import (
    abrupt_change_years,
    classify_trend,
    hurst_block_sizes,
    region_trends,
    trend_statistics,
)
from carbonbudget.science.trends import logvar_bias as trends_logvar_bias

YEARS = np.arange(2001, 2011)


def _stack(series):
    return xr.DataArray(
        np.asarray(series, "float64").T[:, None, ...].reshape(len(series), 1, -1)
        if np.ndim(series) == 1
        else np.asarray(series, "float64")[:, None, :],
        dims=("year", "y", "x"),
    )


def _one(series, years=YEARS, **kw):
    ds = trend_statistics(_stack(series), years, **kw)
    return {k: ds[k].values[0, 0] for k in ds.data_vars}


def test_linear_series_exact_slope_sen_and_tiny_p():
    out = _one(3.5 * (YEARS - 2001) + 100.0)
    assert out["slope"] == pytest.approx(3.5, rel=1e-12)
    assert out["sen"] == pytest.approx(3.5, rel=1e-12)
    assert out["p"] < 1e-3 and out["mk_p"] < 1e-3 and out["mk_z"] > 0


def test_constant_series_slope_zero_z_zero_no_division_errors():
    with np.errstate(all="raise"):
        out = _one(np.full(10, 7.0))
    assert out["slope"] == 0.0 and out["p"] == 1.0 and out["sen"] == 0.0
    assert out["mk_z"] == 0.0 and out["mk_p"] == 1.0
    assert np.isnan(out["hurst"])  # no variance: H undefined, not a division error


def test_ols_equals_eq9_and_scipy_linregress():
    rng = np.random.default_rng(3)
    y = 2.0 * np.arange(10) + rng.normal(0, 3, 10)
    i = np.arange(1, 11)
    n = 10
    eq9 = (n * (i * y).sum() - i.sum() * y.sum()) / (n * (i**2).sum() - i.sum() ** 2)
    out = _one(y)
    assert out["slope"] == pytest.approx(eq9, rel=1e-10)
    assert out["p"] == pytest.approx(stats.linregress(YEARS, y).pvalue, rel=1e-8)


def test_agrees_with_pymannkendall_on_200_random_series():
    rng = np.random.default_rng(2024)
    years = np.arange(1997, 2018)  # 21 years, as in Zhang et al. 2022
    for case in range(200):
        y = rng.normal(0, 1, 21) + rng.uniform(-0.2, 0.2) * np.arange(21)
        if case % 2:
            y = np.round(y, 0)  # ties
        if case % 3 == 0:
            y[rng.choice(21, size=rng.integers(1, 5), replace=False)] = np.nan
        out = _one(y, years)
        ref = pmk.original_test(y)
        assert out["mk_z"] == pytest.approx(ref.z, abs=1e-9), case
        assert out["mk_p"] == pytest.approx(ref.p, abs=1e-9), case
        assert out["sen"] == pytest.approx(pmk.sens_slope(y).slope, abs=1e-9), case


def test_nan_years_skipped_and_min_valid():
    y = (2.0 * (YEARS - 2001) + 1).astype(float)
    y[[1, 4]] = np.nan
    out = _one(y)
    assert out["slope"] == pytest.approx(2.0, rel=1e-12) and out["sen"] == pytest.approx(2.0)
    y2 = np.full(10, np.nan)
    y2[:2] = [1, 2]
    assert all(np.isnan(v) for v in _one(y2, min_valid_years=3).values())


def test_hurst_white_noise_and_persistent_series():
    rng = np.random.default_rng(7)
    n = 128
    white = rng.normal(size=(n, 300))
    # fractional Gaussian noise with H = 0.85 by Cholesky of its autocovariance
    h = 0.85
    k = np.arange(n)
    gamma = 0.5 * (np.abs(k + 1) ** (2 * h) - 2 * np.abs(k) ** (2 * h) + np.abs(k - 1) ** (2 * h))
    cov = gamma[np.abs(k[:, None] - k[None, :])]
    fgn = np.linalg.cholesky(cov) @ rng.normal(size=(n, 300))
    years = np.arange(n)
    h_white = trend_statistics(_stack(white), years)["hurst"].values
    h_fgn = trend_statistics(_stack(fgn), years)["hurst"].values
    h_plain = trend_statistics(_stack(white), years, hurst_bias_correction=False)["hurst"].values
    # n = 128, m = 1..42, on the detrended series. Measured over 1000 series: corrected white
    # noise mean 0.48 (sd 0.16, so the mean of 300 has sd 0.01, none outside [0, 1]); fGn(0.85)
    # 0.70 (3 % outside [0, 1]); the plain form 0.33 (biased low by the detrending and the few
    # blocks of the large m).
    assert 0.44 < np.nanmean(h_white) < 0.56 and np.isnan(h_white).mean() < 0.02
    assert np.nanmean(h_fgn) > 0.64 and np.nanmean(h_fgn) - np.nanmean(h_white) > 0.15
    assert 0.27 < np.nanmean(h_plain) < 0.39
    assert hurst_block_sizes(21) == list(range(1, 8))


def test_hurst_of_a_trend_plus_noise_is_that_of_the_noise():
    """A linear trend is not long memory: the estimate is that of the noise around it (the
    aggregated variance of the raw series would put H at or above 1), and nothing outside
    [0, 1] reaches the raster."""
    rng = np.random.default_rng(3)
    n = 128
    t = np.arange(n, dtype=float)
    noise = rng.normal(size=(n, 300))
    trended = 0.5 * t[:, None] + noise
    h_noise = trend_statistics(_stack(noise), t)["hurst"].values
    h_trend = trend_statistics(_stack(trended), t)["hurst"].values
    np.testing.assert_allclose(h_trend, h_noise, atol=1e-9)  # the trend is removed exactly
    assert 0.44 < np.nanmean(h_trend) < 0.56
    short = trend_statistics(_stack(0.5 * t[:21, None] + noise[:21]), t[:21])["hurst"].values
    finite = short[np.isfinite(short)]
    assert finite.size > 250 and ((finite >= 0) & (finite <= 1)).all()


def test_region_hurst_outside_the_unit_interval_is_nan_with_a_note():
    rng = np.random.default_rng(5)
    years = np.arange(2001, 2011)
    rows = [
        {"code": f"r{i}", "name": f"r{i}", "year": y, "v": 2.0 * (y - 2000) + e}
        for i in range(40)
        for y, e in zip(years, rng.normal(size=10))
    ]
    stats, _ = region_trends(pd.DataFrame(rows), ["v"])
    out = stats["v_hurst"].isna() & stats["v_hurst_note"].str.len().gt(0)
    assert out.sum() >= 3  # a quarter of 10-year series fall outside
    assert stats.loc[out, "v_hurst_note"].str.contains(r"outside \[0, 1\]").all()
    inside = stats["v_hurst"].notna()
    assert stats.loc[inside, "v_hurst"].between(0, 1).all()
    assert (stats.loc[inside, "v_hurst_note"] == "").all()


def test_sequential_mk_definition_and_step_change():
    y = np.array([1.0, 3.0, 2.0, 5.0])
    uf, ub = trend_kernels.sequential_mk(y)
    # s_2 = 1 (3 > 1): E = 0.5, Var = 2·1·9/72 = 0.25 -> UF_2 = 1.0
    assert uf[0] == 0.0 and uf[1] == pytest.approx(1.0)
    # s_3 = 1 + 1 (2 > 1): E = 1.5, Var = 3·2·11/72 -> UF_3 = 0.5 / sqrt(66/72)
    assert uf[2] == pytest.approx(0.5 / np.sqrt(66 / 72))
    years = np.arange(1997, 2018)
    wiggle = np.where(np.arange(21) % 2 == 0, 0.0, 1.0) + np.tile([0.0, 0.3, 0.1, 0.4, 0.2], 5)[:21]
    for step in (2003, 2008, 2012):
        uf, ub = trend_kernels.sequential_mk(np.where(years >= step, 10.0, 0.0) + wiggle)
        assert any(abs(f - step) <= 1 for f in abrupt_change_years(years, uf, ub)), step
    # in white noise the (rank-based) crossing wanders: measured 72-77 % within ±1 year over
    # 500 series per step year; require 60 % of 100
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(100):
        uf, ub = trend_kernels.sequential_mk(
            np.where(years >= 2008, 10.0, 0.0) + rng.normal(0, 1, 21)
        )
        hits += any(abs(f - 2008) <= 1 for f in abrupt_change_years(years, uf, ub))
    assert hits >= 60


def test_trend_classes_as_zhang_et_al_2022_define_them():
    got = classify_trend([5.0, 0.0, -3.0, -10.0, -15.0, -25.0, np.nan])
    assert list(got) == [
        "increase",
        "no change",
        "slight decrease",
        "significant decrease",
        "significant decrease",
        "sharp decrease",
        "undetermined",
    ]


def test_region_trends_table_and_sqmk():
    rows = [
        {"code": c, "name": c, "year": y, "cnc_tgco2": k * (y - 2001) + 5}
        for c, k in (("a", -1.5), ("b", -12.0))
        for y in YEARS
    ]
    st, sq = region_trends(pd.DataFrame(rows), ["cnc_tgco2"])
    assert list(st["code"]) == ["a", "b"]
    np.testing.assert_allclose(st["cnc_tgco2_slope_per_yr"], [-1.5, -12.0], rtol=1e-12)
    np.testing.assert_allclose(st["cnc_tgco2_sen_per_yr"], [-1.5, -12.0], rtol=1e-12)
    assert list(st["cnc_tgco2_trend_class"]) == ["slight decrease", "significant decrease"]
    assert st["hurst_block_sizes"].iloc[0] == "1 2 3"
    assert len(sq) == 20 and set(sq.columns) == {"code", "variable", "year", "uf", "ub"}


def test_median_of_the_sen_slope_equals_numpy_with_ties_and_nan():
    from numba import njit

    @njit
    def median(values):
        return trend_kernels._median_in_place(values.copy(), values.size)

    rng = np.random.default_rng(11)
    for size in [1, 2, 3, 6, 10, 45, 190, 209, 210]:
        for scale in (None, 1.0, 0.2, 0.0):  # distinct values, ties, many ties, all equal
            v = rng.normal(size=size)
            if scale is not None:
                v = np.round(v * scale)
            assert median(v) == np.median(v), (size, scale)
    v = rng.normal(size=10)
    v[3] = np.nan
    assert np.isnan(median(v))


def test_each_pixel_of_a_block_gets_the_statistics_it_gets_alone():
    """The detrending correction of complete series is computed once per block; a series with
    gaps gets its own. Complete, gappy and tied series side by side give what each gives alone."""
    rng = np.random.default_rng(5)
    years = np.arange(1997, 2018, dtype=float)
    block = rng.normal(size=(21, 1, 6)) + 0.3 * np.arange(21)[:, None, None]
    block[[2, 9], 0, 1] = np.nan  # gaps
    block[:, 0, 3] = np.round(block[:, 0, 3])  # ties
    block[::3, 0, 4] = np.nan
    bias = trends_logvar_bias(21)
    together = trend_kernels.trend_stats(block, years, 3, 3, bias, True)
    for j in range(6):
        alone = trend_kernels.trend_stats(
            np.ascontiguousarray(block[:, :, j : j + 1]), years, 3, 3, bias, True
        )
        np.testing.assert_array_equal(together[:, :, j : j + 1], alone)
    assert np.isfinite(together[6]).all()


def test_trend_class_limits_scale_with_the_level_mean_area():
    """A province's limits (Zhang et al. 2022, provinces of 310,000 km2 on average) judge a
    level of 3,100 km2 regions at one hundredth: the same slope per unit area."""
    from carbonbudget.science.trends import classify_trend, level_thresholds

    limits = level_thresholds((-10.0, -20.0), 3_100.0, 310_000.0)
    assert limits == pytest.approx((-0.1, -0.2))
    assert level_thresholds((-10.0, -20.0), 3_100.0, None) == (-10.0, -20.0)
    # -0.15 Tg/yr2 is nothing for a province but a significant decrease for such a county
    assert classify_trend([-0.15], (-10.0, -20.0))[0] == "slight decrease"
    assert classify_trend([-0.15], limits)[0] == "significant decrease"
