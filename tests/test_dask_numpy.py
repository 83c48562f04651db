"""One kernel, numpy and dask paths: identical results at any chunk size."""

import numpy as np
import pytest
import xarray as xr

from carbonbudget.core.config import PIXEL_STATS
from carbonbudget.science.fluxes import compute_carbon_fluxes
from carbonbudget.science.trends import trend_statistics


def _inputs(chunks=None):
    rng = np.random.default_rng(42)
    ny, nx = 97, 131
    t = rng.uniform(-15, 30, (12, ny, nx)).astype("float32")
    p = rng.uniform(0, 300, (12, ny, nx)).astype("float32")
    npp = rng.uniform(100, 1200, (ny, nx)).astype("float32")
    q = rng.uniform(20, 1500, (ny, nx)).astype("float32")
    a = rng.choice([0.0, 0.095, 0.152, 1.586], (ny, nx)).astype("float32")
    m = (rng.uniform(size=(ny, nx)) > 0.1).astype("uint8")
    t[3, 10:20, 10:20] = np.nan
    arrs = [xr.DataArray(t, dims=("month", "y", "x")), xr.DataArray(p, dims=("month", "y", "x"))]
    arrs += [xr.DataArray(v, dims=("y", "x")) for v in (npp, q, a, m)]
    if chunks:
        arrs = [x.chunk({"y": chunks, "x": chunks}) for x in arrs]
    return arrs


@pytest.mark.parametrize("chunks", [16, 50])
def test_fluxes_dask_equals_numpy(chunks):
    ref = compute_carbon_fluxes(*_inputs())
    got = compute_carbon_fluxes(*_inputs(chunks))
    for v in ("rh", "nep", "rcs", "ecs"):
        assert got[v].attrs["units"] == "g C m-2 yr-1"
        np.testing.assert_array_equal(got[v].values, ref[v].values)
    assert np.isnan(ref["rh"].values[10:20, 10:20]).all()


@pytest.mark.parametrize("chunks", [7, 40])
def test_trend_dask_equals_numpy(chunks):
    rng = np.random.default_rng(1)
    stack = rng.normal(0, 1, (10, 45, 52)).astype("float32")
    stack[2, :5] = np.nan
    ref = trend_statistics(xr.DataArray(stack, dims=("year", "y", "x")), range(2001, 2011))
    got = trend_statistics(
        xr.DataArray(stack, dims=("year", "y", "x")).chunk({"y": chunks, "x": chunks}),
        range(2001, 2011),
    )
    for v in PIXEL_STATS:
        np.testing.assert_array_equal(got[v].values, ref[v].values)
    # 10 years of white noise: about a quarter of the Hurst estimates fall outside [0, 1] and
    # are NaN; the rest are computed
    assert 0.6 < np.isfinite(ref["hurst"].values).mean() < 0.85


@pytest.mark.parametrize("chunks", [16, 50])
def test_rock_weathering_alone_equals_the_full_kernel(chunks):
    """A run without NPP and climate computes RCS with its own kernel: numpy and dask paths agree,
    and both equal the RCS of the full kernel bit for bit (one formula, kernels.rcs_pixel)."""
    from carbonbudget.science.fluxes import compute_rock_weathering

    full = compute_carbon_fluxes(*_inputs())
    _, _, _, q, a, m = _inputs()
    ref = compute_rock_weathering(q, a, m)
    _, _, _, q, a, m = _inputs(chunks)
    got = compute_rock_weathering(q, a, m)
    assert list(ref.data_vars) == ["rcs"] and got["rcs"].attrs["units"] == "g C m-2 yr-1"
    np.testing.assert_array_equal(got["rcs"].values, ref["rcs"].values)
    np.testing.assert_array_equal(ref["rcs"].values, full["rcs"].values)
    # hand value: a = 1.586 (carbonate), Q = 500 mm/yr -> 0.012 * 1.586 * 500 = 9.516 g C m-2 yr-1
    one = compute_rock_weathering(
        *(
            xr.DataArray(np.full((1, 1), v, dtype=d), dims=("y", "x"))
            for v, d in ((500.0, "float32"), (1.586, "float32"), (1, "uint8"))
        )
    )
    assert one["rcs"].values[0, 0] == pytest.approx(9.516, rel=1e-6)


def test_rock_weathering_refuses_negative_runoff():
    from carbonbudget.science.fluxes import rock_weathering

    q = np.array([[10.0, -1.0]], dtype="float32")
    with pytest.raises(ValueError, match="negative runoff"):
        rock_weathering(q, np.ones_like(q), np.ones(q.shape, dtype="uint8"))
