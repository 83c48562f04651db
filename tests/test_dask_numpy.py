"""One kernel, numpy and dask paths: identical results at any chunk size."""

import numpy as np
import pytest
import xarray as xr

from carbonbudget.fluxes import compute_carbon_fluxes
from carbonbudget.trends import PIXEL_STATS, trend_statistics


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
    got = trend_statistics(xr.DataArray(stack, dims=("year", "y", "x")).chunk({"y": chunks, "x": chunks}),
                    range(2001, 2011))
    for v in PIXEL_STATS:
        np.testing.assert_array_equal(got[v].values, ref[v].values)
    assert np.isfinite(ref["hurst"].values).mean() > 0.9
