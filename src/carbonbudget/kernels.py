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

# --- heterotrophic respiration: docs/method.md, "Heterotrophic respiration" (Pei et al. 2009) ----
RH_COEF = 0.22  # g C m-2 day-1 scale of the regression
RH_TEMP_EXP = 0.0913  # °C-1
RH_PRCP_COEF = 0.3145  # mm-1
DAYS_PER_MONTH = 30.0  # daily rate -> monthly total
CARBON_FRACTION = 0.465  # carbon fraction of respired dry matter
# --- GEM-CO2 rock weathering, F[1e3 mol CO2 km-2 yr-1] = a * Q[mm yr-1] ---
# (docs/method.md, "Rock-weathering sink")
# 1e3 mol km-2 = 1e-3 mol m-2; one mol CO2 fixes one mol C = 12.0 g C  =>  g C m-2 yr-1 = 0.012 a Q
RCS_FACTOR = 0.012

N_FLUX = 4  # rh, nep, rcs, ecs (order of the first axis returned by carbon_fluxes)


# RH of a month (Zhang et al. 2022, Eq. 3) is 0.22 · (exp(0.0913 T_m) + ln(0.3145 P_m + 1)) · 30
# · 0.465; summed over the months it is 0.22 · 30 · 0.465 · (Σ exp(0.0913 T_m) + Σ ln x_m) with
# x_m = 0.3145 P_m + 1. The kernel evaluates Σ ln x_m as ln Π x_m: one logarithm per pixel
# instead of twelve, the same value to float64 rounding (each x_m >= 1, so the product only
# grows; it is folded into a running log before it could overflow). tests/test_kernels.py checks
# it against the month-by-month sum; docs/performance.md has the speed. Everything stays in
# float64; outputs are rounded once to float32.
_PRODUCT_FOLD = 1e250  # x_m <= ~1e38 (float32 max): folding above 1e250 never overflows


@njit(nogil=True, cache=True)
def rh_from_sums(exp_sum: float, log_sum: float) -> float:
    """RH (g C m-2 per period) from Σ exp(0.0913 T_m) and Σ ln(0.3145 P_m + 1)."""
    return RH_COEF * (exp_sum + log_sum) * DAYS_PER_MONTH * CARBON_FRACTION


@njit(nogil=True, cache=True)
def rcs_pixel(a: float, q: float) -> float:
    """Rock-weathering sink, g C m-2 yr-1, for GEM-CO2 coefficient a and runoff q (mm yr-1)."""
    return RCS_FACTOR * a * q


@njit(nogil=True, cache=True)
def rock_weathering(q: np.ndarray, a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RCS alone, for runs without NPP and climate (docs/method.md, "Rock-weathering sink"; same
    formula as :func:`carbon_fluxes`). q, a: float32 (ny, nx); mask: uint8 (ny, nx), 0 = outside
    every region. Returns float32 (1, ny, nx). Raises ValueError on negative runoff."""
    ny, nx = q.shape
    out = np.empty((1, ny, nx), dtype=np.float32)
    for i in range(ny):
        for j in range(nx):
            if mask[i, j] == 0:
                out[0, i, j] = np.nan
                continue
            qv = q[i, j]
            if qv < 0.0:
                raise ValueError("negative runoff in a block passed to rock_weathering")
            out[0, i, j] = rcs_pixel(a[i, j], qv)
    return out


@njit(nogil=True, cache=True)
def _rh_row(t, p, mask, i, p_scale, exp_row, prod_row, log_row):
    """Fill the RH sums of image row ``i``: exp_row = Σ exp(0.0913 T_m), log_row + ln(prod_row)
    = Σ ln(0.3145 P_m + 1) (the product folded into log_row before it could overflow).
    Raises ValueError on negative precipitation (an input error, never a silent NaN)."""
    nt, _, nx = t.shape
    # months outer, pixels inner: each month's row is read contiguously (the (month, y, x)
    # layout puts a pixel's 12 months ny*nx apart); the sum still runs over months in order
    exp_row[:] = 0.0
    prod_row[:] = 1.0
    log_row[:] = 0.0
    for m in range(nt):
        for j in range(nx):
            if mask[i, j] == 0:
                continue
            pm = p[m, i, j]
            if pm < 0.0:
                raise ValueError("negative precipitation in a block passed to carbon_fluxes")
            exp_row[j] += math.exp(RH_TEMP_EXP * t[m, i, j])
            prod_row[j] *= RH_PRCP_COEF * (pm * p_scale) + 1.0
            if prod_row[j] > _PRODUCT_FOLD:
                log_row[j] += math.log(prod_row[j])
                prod_row[j] = 1.0


@njit(nogil=True, cache=True)
def carbon_fluxes(
    t: np.ndarray,
    p: np.ndarray,
    npp: np.ndarray,
    q: np.ndarray,
    a: np.ndarray,
    mask: np.ndarray,
    annual: bool,
) -> np.ndarray:
    """RH, NEP, RCS and ECS of one block.

    t, p : float32 (nt, ny, nx) monthly temperature (°C) and precipitation (mm month-1); with
           ``annual`` true, nt == 1 and they are annual mean T and annual total P (mm yr-1), and
           RH = 12 · RH_month(T, P/12) (docs/method.md, "Heterotrophic respiration", an
           approximation).
    npp  : float32 (ny, nx) g C m-2 yr-1
    q    : float32 (ny, nx) runoff, mm yr-1
    a    : float32 (ny, nx) GEM-CO2 coefficient of the pixel's lithology
    mask : uint8 (ny, nx), 0 = outside every region (all outputs NaN)
    Returns float32 (4, ny, nx): rh, nep, rcs, ecs in g C m-2 yr-1; NaN where an input is NaN.
    Raises ValueError on negative precipitation or runoff (an input error, never a silent NaN).
    """
    nt, ny, nx = t.shape
    out = np.empty((N_FLUX, ny, nx), dtype=np.float32)
    exp_row = np.empty(nx, dtype=np.float64)  # Σ exp(0.0913 T_m)
    prod_row = np.empty(nx, dtype=np.float64)  # Π (0.3145 P_m + 1) not yet folded into log_row
    log_row = np.empty(nx, dtype=np.float64)  # Σ ln(0.3145 P_m + 1) folded so far
    p_scale = 1.0 / 12.0 if annual else 1.0  # annual: RH = 12 · RH_month(T, P / 12)
    for i in range(ny):
        _rh_row(t, p, mask, i, p_scale, exp_row, prod_row, log_row)
        for j in range(nx):
            if mask[i, j] == 0:
                for k in range(N_FLUX):
                    out[k, i, j] = np.nan
                continue
            # NaN in any month propagates through the sum or the product
            rh = rh_from_sums(exp_row[j], log_row[j] + math.log(prod_row[j]))
            if annual:
                rh *= 12.0
            qv = q[i, j]
            if qv < 0.0:
                raise ValueError("negative runoff in a block passed to carbon_fluxes")
            nep = npp[i, j] - rh
            rcs = rcs_pixel(a[i, j], qv)
            out[0, i, j] = rh
            out[1, i, j] = nep
            out[2, i, j] = rcs
            out[3, i, j] = nep + rcs
    return out


@njit(nogil=True, cache=True)
def respiration(t: np.ndarray, p: np.ndarray, mask: np.ndarray, annual: bool) -> np.ndarray:
    """RH alone (g C m-2 yr-1), for climate normals that serve every year: the same sums as
    :func:`carbon_fluxes`. Returns float32 (1, ny, nx)."""
    nt, ny, nx = t.shape
    out = np.empty((1, ny, nx), dtype=np.float32)
    exp_row = np.empty(nx, dtype=np.float64)
    prod_row = np.empty(nx, dtype=np.float64)
    log_row = np.empty(nx, dtype=np.float64)
    p_scale = 1.0 / 12.0 if annual else 1.0
    for i in range(ny):
        _rh_row(t, p, mask, i, p_scale, exp_row, prod_row, log_row)
        for j in range(nx):
            if mask[i, j] == 0:
                out[0, i, j] = np.nan
                continue
            rh = rh_from_sums(exp_row[j], log_row[j] + math.log(prod_row[j]))
            out[0, i, j] = rh * 12.0 if annual else rh
    return out


@njit(nogil=True, cache=True)
def sink_balance(npp: np.ndarray, rh: np.ndarray, rcs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """NEP = NPP − RH and ECS = NEP + RCS of one block from RH and RCS already computed (e.g.
    once from climatologies). All float32 (ny, nx); returns float32 (2, ny, nx), NaN outside
    the regions and where an input is NaN."""
    ny, nx = npp.shape
    out = np.empty((2, ny, nx), dtype=np.float32)
    for i in range(ny):
        for j in range(nx):
            if mask[i, j] == 0:
                out[0, i, j] = np.nan
                out[1, i, j] = np.nan
                continue
            nep = np.float64(npp[i, j]) - np.float64(rh[i, j])
            out[0, i, j] = nep
            out[1, i, j] = nep + np.float64(rcs[i, j])
    return out


# --- docs/method.md, "Zonal totals": zonal totals from the sparse coverage matrix ----------------
@njit(nogil=True, cache=True)
def zonal_accumulate(
    indptr: np.ndarray,
    indices: np.ndarray,
    fractions: np.ndarray,
    row_area_m2: np.ndarray,
    width: int,
    first_pixel: int,
    x: np.ndarray,
    acc: np.ndarray,
) -> np.ndarray:
    """Add one block of pixels to the per-region sums (one pass over the stored coverages).

    indptr, indices, fractions: the coverage matrix (regions × pixels) in CSC form, pixel p =
    row · width + col; fractions in [0, 1]. row_area_m2: float64 (height,) area of a pixel of
    each grid row. x: float32 values of pixels first_pixel … first_pixel + x.size − 1 (a block of
    whole rows, ravelled). acc: float64 (n_regions, 2), updated in place with
    Σ w·a·x and Σ w·a over the pixels where x is finite (NaN and ±inf are left out)."""
    for jj in range(x.size):
        v = x[jj]
        if not math.isfinite(v):
            continue
        p = first_pixel + jj
        a = row_area_m2[p // width]
        for k in range(indptr[p], indptr[p + 1]):
            wa = fractions[k] * a
            r = indices[k]
            acc[r, 0] += wa * v
            acc[r, 1] += wa
    return acc


@njit(nogil=True, cache=True)
def zonal_accumulate_uncertainty(
    indptr: np.ndarray,
    indices: np.ndarray,
    fractions: np.ndarray,
    row_area_m2: np.ndarray,
    width: int,
    first_pixel: int,
    values: np.ndarray,
    group: np.ndarray,
    acc_group: np.ndarray,
    acc_sq: np.ndarray,
) -> None:
    """Add one block of pixels to the sufficient statistics of the uncertainty model
    (docs/method.md, "Uncertainty"), in one pass over the stored coverages.

    values: float32 (n_vars, n) per-pixel fluxes, the last one RCS; group: int64 (n,) the
    lithology group of each pixel (0 … n_groups − 1), −1 where the pixel is left out (not
    every flux known). acc_group: float64 (n_regions, n_groups) += w·a·RCS of the pixel's
    group; acc_sq: float64 (n_regions, n_vars) += (w·a·x)² of every variable, the variance
    weights of errors independent between pixels."""
    n_vars = values.shape[0]
    for jj in range(group.size):
        g = group[jj]
        if g < 0:
            continue
        p = first_pixel + jj
        a = row_area_m2[p // width]
        for k in range(indptr[p], indptr[p + 1]):
            wa = fractions[k] * a
            r = indices[k]
            acc_group[r, g] += wa * values[n_vars - 1, jj]
            for v in range(n_vars):
                t = wa * values[v, jj]
                acc_sq[r, v] += t * t


@njit(nogil=True, cache=True)
def zonal_area(
    indptr: np.ndarray,
    indices: np.ndarray,
    fractions: np.ndarray,
    row_area_m2: np.ndarray,
    width: int,
    n_regions: int,
) -> np.ndarray:
    """Σ w·a (m²) per region over all its pixels (see :func:`zonal_accumulate`)."""
    out = np.zeros(n_regions, dtype=np.float64)
    for p in range(indptr.size - 1):
        a = row_area_m2[p // width]
        for k in range(indptr[p], indptr[p + 1]):
            out[indices[k]] += fractions[k] * a
    return out


# --- docs/method.md, "Trends": time-series statistics --------------------------------------------
N_TREND = 7  # slope, t, df, sen, mk_z, mk_p, hurst (order of the first axis of trend_stats)


# The helpers of _series_stats are inlined in numba's IR (inline="always"), so splitting the
# series statistics into them costs no speed; scratch arrays are allocated once per block and
# passed down, since an allocation per pixel costs as much as a statistic (docs/performance.md).
@njit(nogil=True, cache=True, inline="always")
def _ols(xv, yv, n):
    """OLS fit of yv[:n] on xv[:n] (Zhang et al. 2022, Eq. 9 with x = year): slope, intercept,
    mean of x, Σ(x − x̄)² and the t statistic of the slope (NaN slope when x is constant)."""
    mx = 0.0
    my = 0.0
    for k in range(n):
        mx += xv[k]
        my += yv[k]
    mx /= n
    my /= n
    sxx = 0.0
    sxy = 0.0
    for k in range(n):
        sxx += (xv[k] - mx) * (xv[k] - mx)
        sxy += (xv[k] - mx) * (yv[k] - my)
    if sxx == 0.0:
        return np.nan, np.nan, mx, sxx, np.nan
    slope = sxy / sxx
    icpt = my - slope * mx
    ssr = 0.0
    for k in range(n):
        r = yv[k] - (icpt + slope * xv[k])
        ssr += r * r
    if ssr <= 0.0:
        tstat = 0.0 if slope == 0.0 else math.copysign(math.inf, slope)
    else:
        tstat = slope / math.sqrt(ssr / (n - 2) / sxx)
    return slope, icpt, mx, sxx, tstat


@njit(nogil=True, cache=True, inline="always")
def _kth_smallest(a, n, k):
    """The k-th smallest of a[:n] (0-based) by quickselect, reordering a[:n] in place, and
    whether the (k − 1)-th smallest equals it.

    numba's np.median copies its input and partitions with a branch per comparison, which
    mispredicts half the time on data like pairwise slopes; this partition is branchless
    (Lomuto's scheme with an unconditional swap) with a median-of-three pivot, and counts the
    values equal to the pivot so that ties end the search (all-equal input is one pass).
    Unless the flag is set, a[:k] holds the k smallest values on return."""
    lo = 0
    hi = n - 1
    while hi > lo:
        mid = (lo + hi) // 2
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[mid] < a[hi]:
            a[mid], a[hi] = a[hi], a[mid]
        pivot = a[hi]
        store = lo
        equal = 0
        for i in range(lo, hi):
            v = a[i]
            a[i] = a[store]
            a[store] = v
            store += v < pivot
            equal += v == pivot
        a[hi] = a[store]
        a[store] = pivot
        if k == store:
            return pivot, False
        if store < k <= store + equal:
            return pivot, True
        if k < store:
            hi = store - 1
        else:
            lo = store + 1
    return a[k], False


@njit(nogil=True, cache=True, inline="always")
def _median_in_place(a, n):
    """Median of a[:n] (reordered in place), equal to np.median's: NaN if a value is NaN, the
    mean of the two middle values for even n (tested against np.median)."""
    for k in range(n):
        if math.isnan(a[k]):
            return np.nan
    half = n // 2
    upper, lower_is_equal = _kth_smallest(a, n, half)
    if n % 2 == 1 or lower_is_equal:
        return upper
    lower = a[0]  # the largest of the half smallest values
    for k in range(1, half):
        if a[k] > lower:
            lower = a[k]
    return (lower + upper) / 2


@njit(nogil=True, cache=True, inline="always")
def _sen_slope_and_mk_s(xv, yv, n, pair):
    """Theil-Sen slope (median of the pairwise slopes, in the scratch ``pair``), the
    Mann-Kendall S of yv[:n] and the number of tied pairs."""
    idx = 0
    s_mk = 0.0
    tied = 0
    for i in range(n - 1):
        for j in range(i + 1, n):
            d = yv[j] - yv[i]
            pair[idx] = d / (xv[j] - xv[i])
            idx += 1
            s_mk += (d > 0) - (d < 0)  # sign(d) without a branch to mispredict
            tied += yv[j] == yv[i]
    return _median_in_place(pair, idx), s_mk, tied


@njit(nogil=True, cache=True, inline="always")
def _mk_z(yv, n, s_mk, tied, srt):
    """Mann-Kendall Z of S with the tie-corrected variance (Kendall 1975) and the ±1 continuity
    correction, and its two-sided normal p-value. The tie groups are found by sorting a copy
    (``srt``: scratch) only when some pair is tied."""
    ties = 0.0
    if tied > 0:
        for k in range(n):
            srt[k] = yv[k]
        srt[:n].sort()
        run = 1
        for k in range(1, n + 1):
            if k < n and srt[k] == srt[k - 1]:
                run += 1
            else:
                if run > 1:
                    ties += run * (run - 1.0) * (2.0 * run + 5.0)
                run = 1
    var_s = (n * (n - 1.0) * (2.0 * n + 5.0) - ties) / 18.0
    if s_mk > 0:
        z = (s_mk - 1.0) / math.sqrt(var_s)
    elif s_mk < 0:
        z = (s_mk + 1.0) / math.sqrt(var_s)
    else:
        z = 0.0
    return z, math.erfc(abs(z) / math.sqrt(2.0))


@njit(nogil=True, cache=True, inline="always")
def _block_mean_ss(y, n, m, means):
    """Σ (μ_b − mean μ)² over the means μ_b of the n // m leading blocks of length m of y
    (``means``: scratch)."""
    nb = n // m
    for b in range(nb):
        acc = 0.0
        for k in range(b * m, (b + 1) * m):
            acc += y[k]
        means[b] = acc / m
    mu = 0.0
    for b in range(nb):
        mu += means[b]
    mu /= nb
    ss = 0.0
    for b in range(nb):
        ss += (means[b] - mu) * (means[b] - mu)
    return ss


@njit(nogil=True, cache=True, inline="always")
def _detrending_kappas(q2, n, min_blocks, correct, means, kappa):
    """κ(m) of :func:`_hurst` for m = 1 .. n // min_blocks into kappa[m] (1 without
    ``correct``). It depends on the years only, so a block computes it once for its complete
    series."""
    for m in range(1, n // min_blocks + 1):
        nb = n // m
        kappa[m] = 1.0 - m * _block_mean_ss(q2, n, m, means) / (nb - 1) if correct else 1.0


@njit(nogil=True, cache=True, inline="always")
def _hurst(y, n, min_blocks, logvar_bias, kappa, means, lm, lv):
    """Hurst exponent of the OLS residuals y[:n] by aggregated variance (Zhang et al. 2022,
    Eq. 7-8): block sizes m = 1 .. n // min_blocks, V(m) = sample variance (ddof 1) of the
    means of the n // m leading blocks of length m, H = 1 + slope(log V, log m) / 2.

    Removing the trend takes variance from the block means, the more the longer the blocks:
    for white noise E[V(m)] = σ²/m · κ(m) with κ(m) = 1 − m·S(m)/(nb − 1), S(m) the sum of
    squares of the centred block means of q2 (the centred, unit-norm regressor; the constant
    falls out with the centring). V(m) is divided by κ(m) (so white noise gives H ≈ 0.5) and
    ln V(m) corrected by logvar_bias[nb − 1], the expected bias of the log of a sample variance
    with that many degrees of freedom; κ = 1 and zero bias give the plain form. NaN with fewer
    than two usable block sizes. means, lm, lv: scratch."""
    npt = 0
    for m in range(1, n // min_blocks + 1):
        nb = n // m
        v = _block_mean_ss(y, n, m, means) / (nb - 1)
        if v > 0.0 and kappa[m] > 0.0:
            lm[npt] = math.log(m)
            lv[npt] = math.log(v / kappa[m]) - logvar_bias[nb - 1]
            npt += 1
    if npt < 2:
        return np.nan
    a = 0.0
    b = 0.0
    for k in range(npt):
        a += lm[k]
        b += lv[k]
    a /= npt
    b /= npt
    num = 0.0
    den = 0.0
    for k in range(npt):
        num += (lm[k] - a) * (lv[k] - b)
        den += (lm[k] - a) * (lm[k] - a)
    return 1.0 + 0.5 * num / den


@njit(nogil=True, cache=True)
def trend_stats(
    stack: np.ndarray,
    x: np.ndarray,
    min_valid: int,
    min_blocks: int,
    logvar_bias: np.ndarray,
    correct: bool,
) -> np.ndarray:
    """Per-pixel trend statistics of stack[:, i, j] against x (years), NaN years skipped.

    stack : (n, ny, nx) float; x : float64 (n,); logvar_bias : float64 (n,), entry k the bias
    E[ln(s²/σ²)] of a sample variance with k degrees of freedom (zeros for the plain estimator).
    Returns float64 (7, ny, nx): OLS slope per unit x, its t statistic, degrees of freedom,
    Theil-Sen slope, Mann-Kendall Z (tie-corrected variance, continuity correction) and its
    two-sided p-value, Hurst exponent (aggregated variance) of the detrended series (with
    ``correct`` divided by the detrending's shrinkage and bias-corrected). Pixels with fewer
    than max(min_valid, 3) valid years are NaN; the Hurst exponent needs 2 * min_blocks valid
    years.
    """
    n, ny, nx = stack.shape
    out = np.empty((N_TREND, ny, nx), dtype=np.float64)
    need = max(min_valid, 3)
    xv = np.empty(n, dtype=np.float64)
    yv = np.empty(n, dtype=np.float64)
    resid = np.empty(n, dtype=np.float64)
    q2 = np.empty(n, dtype=np.float64)
    srt = np.empty(n, dtype=np.float64)
    means = np.empty(n, dtype=np.float64)
    pair = np.empty(max(n * (n - 1) // 2, 1), dtype=np.float64)
    mmax = max(n // max(min_blocks, 1), 1)
    lm = np.empty(mmax, dtype=np.float64)
    lv = np.empty(mmax, dtype=np.float64)
    kappa = np.empty(mmax + 1, dtype=np.float64)
    kappa_full = np.empty(mmax + 1, dtype=np.float64)
    have_full = False
    for i in range(ny):
        for j in range(nx):
            cnt = 0
            for k in range(n):
                v = stack[k, i, j]
                if not math.isnan(v):
                    xv[cnt] = x[k]
                    yv[cnt] = v
                    cnt += 1
            slope, icpt, mx, sxx, tstat = (
                _ols(xv, yv, cnt) if cnt >= need else (0.0, 0.0, 0.0, 0.0, 0.0)
            )
            if cnt < need or sxx == 0.0:
                for k in range(N_TREND):
                    out[k, i, j] = np.nan
                continue
            out[0, i, j] = slope
            out[1, i, j] = tstat
            out[2, i, j] = cnt - 2
            sen, s_mk, tied = _sen_slope_and_mk_s(xv, yv, cnt, pair)
            out[3, i, j] = sen
            z, p = _mk_z(yv, cnt, s_mk, tied, srt)
            out[4, i, j] = z
            out[5, i, j] = p
            # Hurst exponent of the detrended series: a trend is not long memory, and the
            # aggregated variance of a trending series grows like m^2 (H near or above 1 for any
            # linear trend)
            for k in range(cnt):
                resid[k] = yv[k] - (icpt + slope * xv[k])
            if cnt < n or not have_full:
                for k in range(cnt):
                    q2[k] = (xv[k] - mx) / math.sqrt(sxx)
                _detrending_kappas(q2, cnt, min_blocks, correct, means, kappa)
                if cnt == n:
                    kappa_full[:] = kappa
                    have_full = True
            k_used = kappa_full if cnt == n else kappa
            out[6, i, j] = _hurst(resid, cnt, min_blocks, logvar_bias, k_used, means, lm, lv)
    return out


@njit(nogil=True, cache=True)
def _uf(y):
    n = y.shape[0]
    uf = np.zeros(n, dtype=np.float64)
    s = 0.0
    for k in range(1, n):
        for j in range(k):
            if y[k] > y[j]:
                s += 1.0
        kk = k + 1.0
        e = kk * (kk - 1.0) / 4.0
        var = kk * (kk - 1.0) * (2.0 * kk + 5.0) / 72.0
        uf[k] = (s - e) / math.sqrt(var)
    return uf


@njit(nogil=True, cache=True)
def sequential_mk(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sequential Mann-Kendall statistics (Sneyers 1990) of a series without NaNs.

    UF_k = (s_k − k(k−1)/4) / sqrt(k(k−1)(2k+5)/72), s_k = Σ_{i≤k} #{j < i : y_i > y_j}, UF_1 = 0;
    UB is the same statistic of the reversed series, negated and reversed back.
    Returns (uf, ub), float64 arrays of the series length.
    """
    uf = _uf(y)
    ub = -_uf(y[::-1].copy())[::-1].copy()
    return uf, ub
