"""Pure numba kernels on plain arrays: no I/O, no xarray, no units bookkeeping.

Each kernel is a serial ``@njit(nogil=True, cache=True)`` loop over one block; parallelism comes
from dask mapping the kernel over chunks (``prange`` inside dask threads gains nothing). No
``fastmath``: results must be reproducible and IEEE-exact for NaN handling. Accumulation is in
float64, outputs are float32. Wrappers that set units and check inputs are in
:mod:`carbonbudget.fluxes` and :mod:`carbonbudget.trends`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# --- DESIGN §1.1: heterotrophic respiration (Pei et al. 2009; seed 003 Eq. 3) -------------------
RH_COEF = 0.22          # g C m-2 day-1 scale of the regression
RH_TEMP_EXP = 0.0913    # °C-1
RH_PRCP_COEF = 0.3145   # mm-1
DAYS_PER_MONTH = 30.0   # daily rate -> monthly total
CARBON_FRACTION = 0.465  # carbon fraction of respired dry matter
# --- DESIGN §1.3: GEM-CO2 rock weathering, F[1e3 mol CO2 km-2 yr-1] = a * Q[mm yr-1] ----------
# 1e3 mol km-2 = 1e-3 mol m-2; one mol CO2 fixes one mol C = 12.0 g C  =>  g C m-2 yr-1 = 0.012 a Q
RCS_FACTOR = 0.012

N_FLUX = 4  # rh, nep, rcs, ecs (order of the first axis returned by carbon_fluxes)


@njit(nogil=True, cache=True)
def rh_month(t_c, p_mm):
    """RH of one month, g C m-2 month-1, for temperature t_c (°C) and precipitation p_mm (mm)."""
    return (RH_COEF * (math.exp(RH_TEMP_EXP * t_c) + math.log(RH_PRCP_COEF * p_mm + 1.0))
            * DAYS_PER_MONTH * CARBON_FRACTION)


@njit(nogil=True, cache=True)
def carbon_fluxes(t, p, npp, q, a, mask, annual):
    """RH, NEP, RCS and ECS of one block.

    t, p : float32 (nt, ny, nx) monthly temperature (°C) and precipitation (mm month-1); with
           ``annual`` true, nt == 1 and they are annual mean T and annual total P (mm yr-1), and
           RH = 12 · RH_month(T, P/12) (DESIGN §1.1, an approximation).
    npp  : float32 (ny, nx) g C m-2 yr-1
    q    : float32 (ny, nx) runoff, mm yr-1
    a    : float32 (ny, nx) GEM-CO2 coefficient of the pixel's lithology
    mask : uint8 (ny, nx), 0 = outside every region (all outputs NaN)
    Returns float32 (4, ny, nx): rh, nep, rcs, ecs in g C m-2 yr-1; NaN where an input is NaN.
    Raises ValueError on negative precipitation or runoff (an input error, never a silent NaN).
    """
    nt, ny, nx = t.shape
    out = np.empty((N_FLUX, ny, nx), dtype=np.float32)
    for i in range(ny):
        for j in range(nx):
            if mask[i, j] == 0:
                for k in range(N_FLUX):
                    out[k, i, j] = np.nan
                continue
            rh = 0.0
            for m in range(nt):
                tm = t[m, i, j]
                pm = p[m, i, j]
                if pm < 0.0:
                    raise ValueError("negative precipitation in a block passed to carbon_fluxes")
                if annual:
                    rh += 12.0 * rh_month(tm, pm / 12.0)
                else:
                    rh += rh_month(tm, pm)
            # NaN in any month propagates through the sum
            qv = q[i, j]
            if qv < 0.0:
                raise ValueError("negative runoff in a block passed to carbon_fluxes")
            nep = npp[i, j] - rh
            rcs = RCS_FACTOR * a[i, j] * qv
            out[0, i, j] = rh
            out[1, i, j] = nep
            out[2, i, j] = rcs
            out[3, i, j] = nep + rcs
    return out


@njit(nogil=True, cache=True)
def ols_trend(stack, x, min_valid):
    """Per-pixel ordinary least squares of stack[:, i, j] on x (seed 003 Eq. 9), NaN years skipped.

    stack : float32 (n, ny, nx); x : float64 (n,) (the years, so the slope is per year).
    Returns float64 (3, ny, nx): slope, t statistic of the slope, degrees of freedom (n_valid-2).
    Pixels with fewer than max(min_valid, 3) valid years are NaN. A series with zero residual
    has t = 0 if its slope is 0 and t = ±inf otherwise (p = 1 or 0 downstream).
    """
    n, ny, nx = stack.shape
    out = np.empty((3, ny, nx), dtype=np.float64)
    need = max(min_valid, 3)
    for i in range(ny):
        for j in range(nx):
            cnt = 0
            sx = 0.0
            sy = 0.0
            for k in range(n):
                v = stack[k, i, j]
                if not math.isnan(v):
                    cnt += 1
                    sx += x[k]
                    sy += v
            if cnt < need:
                out[0, i, j] = np.nan
                out[1, i, j] = np.nan
                out[2, i, j] = np.nan
                continue
            mx = sx / cnt
            my = sy / cnt
            sxx = 0.0
            sxy = 0.0
            for k in range(n):
                v = stack[k, i, j]
                if not math.isnan(v):
                    dx = x[k] - mx
                    sxx += dx * dx
                    sxy += dx * (v - my)
            if sxx == 0.0:
                out[0, i, j] = np.nan
                out[1, i, j] = np.nan
                out[2, i, j] = np.nan
                continue
            slope = sxy / sxx
            intercept = my - slope * mx
            ssr = 0.0
            for k in range(n):
                v = stack[k, i, j]
                if not math.isnan(v):
                    r = v - (intercept + slope * x[k])
                    ssr += r * r
            df = cnt - 2
            if ssr <= 0.0:
                tstat = 0.0 if slope == 0.0 else math.copysign(math.inf, slope)
            else:
                se = math.sqrt(ssr / df / sxx)
                tstat = slope / se
            out[0, i, j] = slope
            out[1, i, j] = tstat
            out[2, i, j] = df
    return out
