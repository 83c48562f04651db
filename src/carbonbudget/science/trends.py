"""Time-series statistics per pixel and per region (docs/method.md, "Trends", Zhang et al. 2022,
§2.2.5–2.2.6).

- OLS slope (Zhang et al. 2022, Eq. 9) regressed on the calendar year, so it is in (unit) per
  year and gaps in the years are handled; with consecutive years it equals Eq. 9 exactly.
  Two-sided t-test p.
- Theil–Sen slope: median of all pairwise slopes (per year).
- Mann–Kendall Z with the tie-corrected variance and the ±1 continuity correction, two-sided
  normal p-value (as ``pymannkendall.original_test``).
- Hurst exponent by aggregated variance (Zhang et al. 2022, Eq. 7–8) of the series minus its
  OLS trend (a trend is not long memory: on a trending series the plain estimator exceeds 1):
  block sizes m = 1 … n // min_blocks (each V(m) from at least ``min_blocks`` blocks), V(m) the
  sample variance (ddof 1) of the block means, H = 1 + slope(log V, log m) / 2. By default
  (``hurst_bias_correction``) V(m) is divided by its expected shrinkage from the detrending and
  ln V(m) corrected by the expected bias of the log of a variance from few blocks
  (ψ(k/2) − ln(k/2)), so white noise gives H ≈ 0.5; off = the plain form. Estimates outside
  [0, 1] are NaN (rasters) or NaN with a note (tables). Short series give noisy H: read it
  with the block sizes reported.
- Sequential Mann–Kendall UF/UB per region; abrupt-change years where UF and UB cross inside ±1.96.
- Trend classes of Zhang et al. 2022 for region series: increase, slight / significant /
  sharp decrease.

NaN years are skipped; a pixel or region with fewer than ``min_valid_years`` valid years is NaN.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from numba import njit
from scipy.special import digamma, stdtr

from carbonbudget.core.config import PIXEL_STATS, schema_default
from carbonbudget.core.errors import InputDataError
from carbonbudget.science.balance import INTENSITY_PREFIX

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike


# --- numba kernels: serial @njit(nogil=True, cache=True) loops over one block; dask maps them over
# chunks (prange inside dask threads gains nothing). No fastmath: NaN handling stays IEEE-exact.
# Accumulation in float64, outputs float32. The wrappers below check inputs and set units.
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


# the defaults of the functions below are the config's (the schema is their one source)
_DEFAULT = {
    k: schema_default("trends", k)
    for k in (
        "min_valid_years",
        "hurst_min_blocks",
        "hurst_bias_correction",
        "class_thresholds_tgco2",
    )
}
CRITICAL_Z = 1.96


def _p_from_t(tstat, df):
    """Two-sided p-value of a t statistic; inf -> 0, NaN stays NaN."""
    with np.errstate(invalid="ignore"):
        p = 2.0 * stdtr(df, -np.abs(tstat))
    return np.where(np.isinf(tstat), 0.0, p)


def logvar_bias(n: int, correct: bool = True) -> np.ndarray:
    """Entry k: E[ln(s²/σ²)] = ψ(k/2) − ln(k/2) for a Gaussian sample variance with k degrees of
    freedom (entry 0 unused). Subtracting it from ln V(m) removes the small-sample bias of the
    log-regression (as in Abry & Veitch 1998 for log-variances); zeros give the plain estimator."""
    k = np.arange(max(n, 2), dtype=np.float64)
    out = np.zeros_like(k)
    if correct:
        out[1:] = digamma(k[1:] / 2.0) - np.log(k[1:] / 2.0)
    return out


def _stats_block(stack, x, min_valid, min_blocks, bias_correction=True, raw_hurst=False):
    """The :data:`PIXEL_STATS` of a (year, y, x) block. A Hurst exponent outside [0, 1] (short
    or non-stationary series: a quarter of white-noise series of 10 years) is NaN; with
    ``raw_hurst`` the unmasked estimate is appended as a last layer, for the notes."""
    res = trend_stats(
        np.ascontiguousarray(stack),
        x,
        min_valid,
        min_blocks,
        logvar_bias(len(x), bias_correction),
        bool(bias_correction),
    )
    out = np.empty((len(PIXEL_STATS) + raw_hurst,) + res.shape[1:], dtype=np.float64)
    out[0] = res[0]
    out[1] = _p_from_t(res[1], res[2])
    out[2:6] = res[3:7]
    with np.errstate(invalid="ignore"):
        out[5] = np.where((res[6] >= 0.0) & (res[6] <= 1.0), res[6], np.nan)
    if raw_hurst:
        out[6] = res[6]
    return out


def hurst_block_sizes(n_valid: int, min_blocks: int = 3) -> list[int]:
    """The block sizes m the Hurst exponent uses for a series of ``n_valid`` values."""
    return list(range(1, n_valid // min_blocks + 1))


def trend_statistics(
    stack: xr.DataArray,
    years: Sequence[int],
    min_valid_years: int = _DEFAULT["min_valid_years"],
    hurst_min_blocks: int = _DEFAULT["hurst_min_blocks"],
    hurst_bias_correction: bool = _DEFAULT["hurst_bias_correction"],
) -> xr.Dataset:
    """OLS slope and p, Sen slope, MK Z and p, Hurst of a (year, y, x) stack (numpy or dask)."""
    x_years = np.asarray(years, dtype=np.float64)
    if stack.ndim != 3 or stack.shape[0] != len(x_years):
        raise InputDataError(
            f"expected a (year, y, x) stack with {len(x_years)} years, got {stack.shape}",
            variable="trend",
            fix="pass one layer per year",
        )
    data = stack.data
    args = (x_years, int(min_valid_years), int(hurst_min_blocks), bool(hurst_bias_correction))
    # the region-trend and plotting jobs that import this module never use dask.array
    # lazy: dask.array costs ~0.4 s of start-up
    import dask.array as da

    if isinstance(data, da.Array):
        data = data.rechunk({0: -1})
        out = da.map_blocks(
            _stats_block,
            data,
            *args,
            dtype=np.float64,
            chunks=((len(PIXEL_STATS),),) + data.chunks[1:],
        )
    else:
        out = _stats_block(np.asarray(data), *args)
    dims = stack.dims[1:]
    coords = {d: stack.coords[d] for d in dims if d in stack.coords}
    units = stack.attrs.get("units", "1")
    meta = {
        "slope": (f"({units}) yr-1", "OLS slope per year"),
        "p": ("1", "two-sided p-value of the OLS slope"),
        "sen": (f"({units}) yr-1", "Theil-Sen slope per year"),
        "mk_z": ("1", "Mann-Kendall Z (tie-corrected)"),
        "mk_p": ("1", "two-sided p-value of Mann-Kendall Z"),
        "hurst": (
            "1",
            "Hurst exponent of the detrended series (aggregated variance; NaN where "
            "the estimate falls outside [0, 1])",
        ),
    }
    return xr.Dataset(
        {
            s: xr.DataArray(out[k], dims=dims, attrs={"units": meta[s][0], "long_name": meta[s][1]})
            for k, s in enumerate(PIXEL_STATS)
        },
        coords=coords,
    )


def classify_trend(
    slope: ArrayLike, thresholds: Sequence[float] = tuple(_DEFAULT["class_thresholds_tgco2"])
) -> np.ndarray:
    """Trend classes of Zhang et al. (2022) for a slope (Tg yr-1): increase (> 0), no change
    (0), slight decrease (t1 < s < 0), significant decrease (t2 ≤ s ≤ t1), sharp decrease
    (s < t2); NaN -> 'undetermined'. A slope exactly at a threshold takes the stronger class."""
    t1, t2 = thresholds
    s = np.asarray(slope, dtype="float64")
    return np.select(
        [np.isnan(s), s > 0, s == 0, s > t1, s >= t2],
        ["undetermined", "increase", "no change", "slight decrease", "significant decrease"],
        "sharp decrease",
    )


def level_thresholds(
    thresholds: Sequence[float], mean_area_km2: float, reference_area_km2: float | None
) -> tuple[float, float]:
    """The trend-class limits of a level whose regions average ``mean_area_km2``: the limits
    set for regions of ``reference_area_km2`` scaled by the ratio of the areas (a slope per unit
    area judged as the reference's), or unchanged with no reference."""
    t1, t2 = (float(t) for t in thresholds)
    if reference_area_km2 is None or not np.isfinite(mean_area_km2) or mean_area_km2 <= 0:
        return t1, t2
    factor = mean_area_km2 / reference_area_km2
    return t1 * factor, t2 * factor


def abrupt_change_years(
    years: Sequence[int], uf: np.ndarray, ub: np.ndarray, critical: float = CRITICAL_Z
) -> list[int]:
    """Years where UF and UB cross inside ±critical.

    The crossing is located by linear interpolation between consecutive years; the year
    reported is the first year at or after the crossing, i.e. the first year of the new regime
    (a step between 2007 and 2008 is reported as 2008)."""
    x_years = np.asarray(years, dtype=float)
    d = np.asarray(uf) - np.asarray(ub)
    found = []
    for k in range(len(d) - 1):
        if d[k] == 0 or d[k] * d[k + 1] < 0:
            frac = 0.0 if d[k] == 0 else d[k] / (d[k] - d[k + 1])
            value = uf[k] + (uf[k + 1] - uf[k]) * frac
            if abs(value) <= critical:
                year = int(np.ceil(x_years[k] + frac * (x_years[k + 1] - x_years[k]) - 1e-9))
                if year not in found:
                    found.append(year)
    if len(d) and d[-1] == 0 and abs(uf[-1]) <= critical and int(x_years[-1]) not in found:
        found.append(int(x_years[-1]))
    return found


def region_trends(
    table: pd.DataFrame,
    columns: list[str],
    min_valid_years: int = _DEFAULT["min_valid_years"],
    hurst_min_blocks: int = _DEFAULT["hurst_min_blocks"],
    class_thresholds: Sequence[float] = tuple(_DEFAULT["class_thresholds_tgco2"]),
    hurst_bias_correction: bool = _DEFAULT["hurst_bias_correction"],
) -> pd.DataFrame:
    """Per-region statistics of each column of a long (code, year) table.

    Returns (stats, sqmk): ``stats`` has one row per region with ``{col}_slope_per_yr``,
    ``{col}_slope_p``, ``{col}_sen_per_yr``, ``{col}_mk_z``, ``{col}_mk_p``, ``{col}_hurst``,
    ``{col}_trend_class``, ``{col}_abrupt_change_years`` and ``hurst_block_sizes``; ``sqmk`` is
    the sequential Mann–Kendall UF/UB series in long format (code, variable, year, uf, ub).
    The same kernel as the pixel statistics is used (regions laid out as a 1 × n grid).
    """
    years = np.array(sorted(table["year"].unique()), dtype=np.float64)
    stats = table.groupby("code", sort=True)["name"].first().reset_index()
    stats["n_years"] = len(years)
    sq_rows = []
    n_valid_max = 0
    for col in columns:
        wide = table.pivot(index="code", columns="year", values=col).reindex(
            index=stats["code"], columns=years.astype(int)
        )
        values = wide.to_numpy(dtype=np.float64)
        res = _stats_block(
            values.T[:, None, :],
            years,
            min_valid_years,
            hurst_min_blocks,
            hurst_bias_correction,
            raw_hurst=True,
        )
        for k, s in enumerate(PIXEL_STATS):
            name = {"slope": "slope_per_yr", "p": "slope_p", "sen": "sen_per_yr"}.get(s, s)
            stats[f"{col}_{name}"] = res[k, 0]
        raw = res[-1, 0]
        stats[f"{col}_hurst_note"] = np.where(
            np.isfinite(raw) & np.isnan(res[5, 0]),
            [
                f"estimate {h:.2f} outside [0, 1]: the series is too short or not stationary"
                for h in raw
            ],
            "",
        )
        # the classes of Zhang et al. are limits in Tg CO2 yr-2: for totals only (an indicator
        # per person or per unit of GDP has no class)
        stats[f"{col}_trend_class"] = (
            classify_trend(res[0, 0], class_thresholds) if col.endswith("_tgco2") else ""
        )
        abrupt = []
        for code, series in zip(stats["code"], values):
            ok = np.isfinite(series)
            n_valid_max = max(n_valid_max, int(ok.sum()))
            if ok.sum() < max(min_valid_years, 3):
                abrupt.append("")
                continue
            uf, ub = sequential_mk(series[ok])
            yrs = years[ok].astype(int)
            abrupt.append(";".join(str(y) for y in abrupt_change_years(yrs, uf, ub)))
            sq_rows += [
                {"code": code, "variable": col, "year": int(y), "uf": a, "ub": b}
                for y, a, b in zip(yrs, uf, ub)
            ]
        stats[f"{col}_abrupt_change_years"] = abrupt
    stats["hurst_block_sizes"] = " ".join(
        map(str, hurst_block_sizes(n_valid_max, hurst_min_blocks))
    )
    sqmk = pd.DataFrame(sq_rows, columns=["code", "variable", "year", "uf", "ub"])
    return stats, sqmk


REGION_TREND_COLUMNS = ["cnc_tgco2", "ecs_tgco2", "ce_tgco2"]
# the intensity indicators (docs/method.md, "Balance indicators") get trends too, without class
INDICATOR_TREND_COLUMNS = ["ce_per_capita_tco2", "ecs_per_capita_tco2"]


def region_trend_columns(table: pd.DataFrame) -> list[str]:
    """The series of a budget table the region trends are computed for: CNC, ECS, CE and the
    intensity indicators, those present."""
    wanted = REGION_TREND_COLUMNS + INDICATOR_TREND_COLUMNS
    return [c for c in wanted if c in table] + [
        c for c in table.columns if c.startswith(INTENSITY_PREFIX)
    ]


def read_region_trends(path: str) -> pd.DataFrame:
    """Read a ``trends_{level}.csv`` back with codes and abrupt-change years as text."""
    header = pd.read_csv(path, nrows=0).columns
    years_cols = [c for c in header if c.endswith(("_abrupt_change_years", "_hurst_note"))]
    df = pd.read_csv(path, dtype={"code": str} | dict.fromkeys(years_cols, str))
    for col in years_cols:
        if col in df:
            df[col] = df[col].fillna("")
    return df
