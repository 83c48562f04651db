"""RH, NEP, RCS, ECS against hand-computed values (docs/method.md)."""

import math

import numpy as np
import pytest
import xarray as xr

from carbonbudget.science import fluxes as flux_kernels
from carbonbudget.science.fluxes import compute_carbon_fluxes


def rh_by_hand(t, p):
    """Zhang et al. (2022), Eq. 3 written out: both terms in the bracket, × 30 × 0.465, summed."""
    return sum(
        0.22 * (math.exp(0.0913 * tm) + math.log(0.3145 * pm + 1.0)) * 30 * 0.465
        for tm, pm in zip(t, p)
    )


def one_pixel(t, p, npp=500.0, q=300.0, a=0.152, timestep="monthly"):
    nt = len(t)
    da = lambda v, shape: xr.DataArray(np.asarray(v, dtype="float32").reshape(shape))  # noqa: E731
    ds = compute_carbon_fluxes(
        da(t, (nt, 1, 1)),
        da(p, (nt, 1, 1)),
        da([npp], (1, 1)),
        da([q], (1, 1)),
        da([a], (1, 1)),
        xr.DataArray(np.ones((1, 1), "uint8")),
        timestep=timestep,
    )
    return {k: float(ds[k].values[0, 0]) for k in ds.data_vars}


def test_rh_constant_months_literal_value():
    # T = 10 °C, P = 50 mm every month:
    # exp(0.913) = 2.4917867, ln(0.3145*50 + 1) = ln(16.725) = 2.8169046, sum 5.3086913
    # × 0.22 = 1.1679121 g C m-2 day-1 × 30 × 0.465 = 16.292374 per month, × 12 = 195.50848
    out = one_pixel([10.0] * 12, [50.0] * 12)
    assert out["rh"] == pytest.approx(195.50848, rel=1e-6)


def test_rh_twelve_different_months_matches_formula():
    t = [-8.5, -5.0, 1.2, 8.0, 14.5, 19.0, 22.3, 21.0, 16.2, 9.1, 1.0, -6.4]
    p = [3.0, 5.5, 12.0, 30.0, 60.0, 110.0, 150.0, 130.0, 70.0, 25.0, 8.0, 0.0]
    out = one_pixel(t, p)
    t32 = np.float32(t).astype(float)
    p32 = np.float32(p).astype(float)
    assert out["rh"] == pytest.approx(rh_by_hand(t32, p32), rel=1e-6)
    # the known public bug (30·0.465 on the log term only) gives a clearly different value
    buggy = sum(
        0.22 * (math.exp(0.0913 * a) + math.log(0.3145 * b + 1) * 30 * 0.465)
        for a, b in zip(t32, p32)
    )
    assert abs(out["rh"] - buggy) > 10


def test_nep_rcs_ecs_known_inputs():
    out = one_pixel([10.0] * 12, [50.0] * 12, npp=500.0, q=500.0, a=1.586)
    assert out["nep"] == pytest.approx(500.0 - 195.50848, rel=1e-6)
    # RCS = 0.012 · a · Q = 0.012 × 1.586 × 500 = 9.516 g C m-2 yr-1
    assert out["rcs"] == pytest.approx(9.516, rel=1e-6)
    assert out["ecs"] == pytest.approx(500.0 - 195.50848 + 9.516, rel=1e-6)


def test_annual_timestep_is_twelve_times_mean_month():
    # annual T = 10 °C, annual P = 600 mm -> 12 · RH_month(10, 50) = 195.50848
    out = one_pixel([10.0], [600.0], timestep="annual")
    assert out["rh"] == pytest.approx(195.50848, rel=1e-6)


def test_the_annual_timestep_underestimates_a_seasonal_climate_and_says_so(caplog):
    """A continental cycle (the months of the test above): the annual form falls short of the
    monthly one by hand (exp is convex), and the run's log says so."""
    t = [-8.5, -5.0, 1.2, 8.0, 14.5, 19.0, 22.3, 21.0, 16.2, 9.1, 1.0, -6.4]
    p = [3.0, 5.5, 12.0, 30.0, 60.0, 110.0, 150.0, 130.0, 70.0, 25.0, 8.0, 0.0]
    monthly = one_pixel(t, p)["rh"]
    annual = one_pixel(
        [float(np.mean(np.float32(t)))], [float(np.sum(np.float32(p)))], timestep="annual"
    )["rh"]
    t32, p32 = np.float32(t).astype(float), np.float32(p).astype(float)
    by_hand = 12 * rh_by_hand([t32.mean()], [p32.sum() / 12])
    assert annual == pytest.approx(by_hand, rel=1e-6)
    assert annual / monthly - 1 == pytest.approx(by_hand / rh_by_hand(t32, p32) - 1, abs=1e-6)
    assert -0.25 < annual / monthly - 1 < -0.05  # 30.8 °C seasonal range: a clear shortfall
    assert (
        "underestimates the monthly form" in caplog.text
        and "climate.timestep: annual" in caplog.text
    )


def test_nan_month_gives_nan_not_a_partial_sum():
    t = [10.0] * 12
    t[5] = float("nan")
    out = one_pixel(t, [50.0] * 12)
    assert math.isnan(out["rh"]) and math.isnan(out["ecs"])


def test_mask_outside_regions_is_nan():
    t = np.full((12, 1, 2), 10.0, "float32")
    p = np.full((12, 1, 2), 50.0, "float32")
    f = np.ones((1, 2), "float32")
    out = flux_kernels.carbon_fluxes(
        t, p, f * 500, f * 300, f * 0.1, np.array([[1, 0]], "uint8"), False
    )
    assert np.isfinite(out[:, 0, 0]).all() and np.isnan(out[:, 0, 1]).all()


def test_negative_precipitation_raises():
    with pytest.raises(ValueError, match="negative precipitation"):
        one_pixel([10.0] * 12, [50.0] * 11 + [-1.0])


def test_wrong_band_count_is_an_input_error():
    from carbonbudget.core.errors import InputDataError

    with pytest.raises(InputDataError, match="12 band"):
        one_pixel([10.0] * 11, [50.0] * 11)


def test_rh_log_of_product_equals_month_by_month_sum():
    """The kernel takes Σ ln(0.3145 P + 1) as ln of the product (kernels.rh_from_sums): over the
    whole plausible climate range the float32 RH is the month-by-month float64 sum rounded
    once (relative error <= 2**-24), and absurd precipitation, whose product of twelve terms
    overflows float64, still gives the finite month-by-month value."""
    rng = np.random.default_rng(3)
    n = 20_000
    t = rng.uniform(-45.0, 50.0, (12, 1, n)).astype("float32")
    p = rng.uniform(0.0, 2000.0, (12, 1, n)).astype("float32")
    p[:, 0, :200] = 0.0
    p[:, 0, 200:300] = 1e30  # (0.3145e30)**12 = 1e354 > float64 max
    ones = np.ones((1, n), "float32")
    out = flux_kernels.carbon_fluxes(t, p, ones, ones, ones, np.ones((1, n), "uint8"), False)
    t64, p64 = t.astype("float64"), p.astype("float64")
    ref = (0.22 * (np.exp(0.0913 * t64) + np.log(0.3145 * p64 + 1.0)) * 30 * 0.465).sum(axis=0)
    assert np.isfinite(out[0]).all() and out.dtype == np.float32
    rel = np.abs(out[0].astype("float64") / ref - 1.0)
    assert rel.max() <= 2.0**-24 + 1e-12


def test_nan_precipitation_month_gives_nan():
    p = [50.0] * 12
    p[3] = float("nan")
    out = one_pixel([10.0] * 12, p)
    assert math.isnan(out["rh"]) and math.isnan(out["nep"]) and math.isnan(out["ecs"])
    assert out["rcs"] == pytest.approx(0.012 * 0.152 * 300.0, rel=1e-6)
