"""OLS trends (seed 003 Eq. 9) per pixel and per region."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from carbonbudget.trends import ols_trend, region_trends

YEARS = np.arange(2001, 2011)


def _stack(series):
    return xr.DataArray(np.asarray(series, "float64")[:, None, None], dims=("year", "y", "x"))


def test_linear_series_exact_slope_and_tiny_p():
    ds = ols_trend(_stack(3.5 * (YEARS - 2001) + 100.0), YEARS)
    assert ds["slope"].item() == pytest.approx(3.5, rel=1e-12)
    assert ds["p"].item() < 1e-3


def test_constant_series_slope_zero_p_one():
    ds = ols_trend(_stack(np.full(10, 7.0)), YEARS)
    assert ds["slope"].item() == 0.0 and ds["p"].item() == 1.0


def test_equals_eq9_and_scipy_linregress_with_noise():
    rng = np.random.default_rng(3)
    y = 2.0 * np.arange(10) + rng.normal(0, 3, 10)
    i = np.arange(1, 11)
    n = 10
    eq9 = (n * (i * y).sum() - i.sum() * y.sum()) / (n * (i ** 2).sum() - i.sum() ** 2)
    ds = ols_trend(_stack(y), YEARS)
    ref = stats.linregress(YEARS, y)
    assert ds["slope"].item() == pytest.approx(eq9, rel=1e-10)
    assert ds["p"].item() == pytest.approx(ref.pvalue, rel=1e-8)


def test_nan_years_skipped_and_min_valid():
    y = 2.0 * (YEARS - 2001) + 1
    y = y.astype(float)
    y[[1, 4]] = np.nan
    assert ols_trend(_stack(y), YEARS)["slope"].item() == pytest.approx(2.0, rel=1e-12)
    y2 = np.full(10, np.nan)
    y2[:2] = [1, 2]
    assert np.isnan(ols_trend(_stack(y2), YEARS, min_valid_years=3)["slope"].item())


def test_region_trends_table():
    rows = [{"code": c, "name": c, "year": y, "cnc_tgco2": k * (y - 2001) + 5}
            for c, k in (("a", -1.5), ("b", 0.25)) for y in YEARS]
    out = region_trends(pd.DataFrame(rows), ["cnc_tgco2"])
    assert list(out["code"]) == ["a", "b"]
    np.testing.assert_allclose(out["cnc_tgco2_slope_per_yr"], [-1.5, 0.25], rtol=1e-12)
