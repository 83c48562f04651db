"""Emissions on the grid (docs/method.md, "Emissions on the grid"): each finest region's CE spread
over its pixels by a weight raster, conserving every region's total under the same exact
coverage the zonal sums use.

A pixel cut by a region boundary belongs to several regions (coverage fractions ``c[r, p]``),
but a raster holds one value per pixel: the emission density ``f[p]`` (t CO2 km-2 yr-1) must
satisfy, for every region with a known total ``E[r]`` (t CO2 yr-1),

    Σ_p c[r, p] · a[p] · f[p] = E[r]            (a: pixel area, km²)

so that the zonal sum of the raster returns the table. Proportional spreading
(``f = w · E[r] / Σ c·a·w`` inside each region) satisfies this exactly where no pixel is shared;
at shared pixels the regions' densities mix, and the totals drift. The densities are therefore
the closest (in the sense of relative entropy) to the weights that meet every region's total:
the fixed point of the EM iteration for non-negative linear systems (Shepp & Vardi 1982;
Darroch & Ratcliff 1972),

    f[p] ← f[p] · Σ_r c[r, p] · (E[r] / S[r]) / Σ_r c[r, p],   S = C · (a ⊙ f),

started from proportional spreading. It keeps every density non-negative and zero where the
weight is zero. A pixel in one region only is scaled by that region's ratio, so the iteration
runs on the shared pixels and one multiplier per region: a few hundred thousand values for a
country at 1 km, not every pixel. scipy has no solver for this (``scipy.optimize.nnls`` is dense
least squares, and an exact linear solve can go negative where a small region sits inside
another's boundary pixels), hence the few lines here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numba import njit

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.grid import pixel_cover

log = logging.getLogger(__name__)

# The iteration stops when every total is met to TOLERANCE (relative; a region without emissions
# against the mean regional total), when it stalls, or after MAX_ITER; a region still off by more
# than UNMET is reported (it is small against the pixel: no raster of this grid can hold it).
TOLERANCE = 1e-12
UNMET = 1e-9
MAX_ITER = 5000
STALL_WINDOW = 500  # iterations over which a misfit that fell by less than 0.1 % has stalled


@dataclass
class Spread:
    """The result of :func:`spread_emissions`: ``density`` (t CO2 km-2 yr-1 per pixel, NaN
    outside every region with a known total), ``method`` per region (``weights``, ``area``,
    ``no emissions``, ``missing``), ``placed_t`` (Σ c·a·f per region), ``iterations``."""

    density: np.ndarray
    method: np.ndarray
    placed_t: np.ndarray
    iterations: int

    def relative_error(self, totals_t: np.ndarray) -> np.ndarray:
        """|placed − total| / total per region (NaN without a positive total)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(totals_t > 0, np.abs(self.placed_t - totals_t) / totals_t, np.nan)


def spread_emissions(
    coverage: sp.spmatrix,
    area_km2: np.ndarray,
    weights: np.ndarray,
    totals_t: np.ndarray,
    *,
    codes: list[str],
    zero_weight: str = "error",
    weights_path: str = "",
) -> Spread:
    """Densities (t CO2 km-2 yr-1) per pixel from regional totals ``totals_t`` (t CO2 yr-1,
    NaN = unknown) and ``weights`` per pixel (NaN = 0), conserving every known total under
    ``coverage`` (regions × pixels) and ``area_km2`` per pixel (module docstring).

    A region with emissions but no weight on any of its pixels is an error naming it
    (``zero_weight='error'``), or spread by area (``'area'``: its zero-weight pixels get
    weight 1). Negative weights are an error."""
    cov = sp.csc_matrix(coverage, dtype=np.float64)
    n_regions, n_pix = cov.shape
    totals = np.asarray(totals_t, dtype=np.float64)
    if totals.shape != (n_regions,) or area_km2.shape != (n_pix,) or weights.shape != (n_pix,):
        raise ValueError("coverage, area, weights and totals do not match in size")
    if (totals < 0).any():
        bad = [codes[i] for i in np.flatnonzero(totals < 0)[:10]]
        raise ValueError(f"negative emission totals cannot be spread by weights: {bad}")
    w = _checked_weights(weights, weights_path)
    known = np.isfinite(totals)
    method = np.where(known, np.where(totals > 0, "weights", "no emissions"), "missing")
    # a region with an unknown total takes no part: its pixels get no density from it
    cov = sp.csc_matrix(sp.diags(known.astype(np.float64)) @ cov)
    cov.eliminate_zeros()
    e = np.where(known, totals, 0.0)
    mass = _weighted_mass(cov, area_km2, w, e, method, codes, zero_weight, weights_path)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(e > 0, e / mass, 0.0)
    cover = pixel_cover(cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        f0 = np.where(cover > 0, w * (cov.T @ kappa) / cover, np.nan)
    density, iterations = _fixed_point(cov, area_km2, f0, cover, e, known)
    placed = cov @ (area_km2 * np.where(np.isfinite(density), density, 0.0))
    _warn_unmet(placed, e, known, codes)
    return Spread(density, method, placed, iterations)


def _checked_weights(weights: np.ndarray, weights_path: str) -> np.ndarray:
    """The weights as float64 with NaN as 0; infinite or negative weights are errors."""
    w = np.asarray(weights, dtype=np.float64)
    if np.isinf(w).any():
        raise InputDataError(
            f"{int(np.isinf(w).sum())} pixels have an infinite weight",
            path=weights_path,
            variable="emissions.downscale.weights",
            fix="the file is corrupt or its nodata value is not declared: re-export it, or "
            "set its nodata (gdal_edit.py -a_nodata)",
        )
    if (w < 0).any():
        raise InputDataError(
            f"{int((w < 0).sum())} pixels have a negative weight",
            path=weights_path,
            variable="emissions.downscale.weights",
            fix="weights must be zero or positive (population, lights, built-up area)",
        )
    return np.where(np.isfinite(w), w, 0.0)


def _weighted_mass(
    cov: sp.csc_matrix,
    area_km2: np.ndarray,
    w: np.ndarray,
    e: np.ndarray,
    method: np.ndarray,
    codes: list[str],
    zero_weight: str,
    weights_path: str,
) -> np.ndarray:
    """Σ coverage · area · weight per region. A region with emissions and no weight is an error,
    or (``zero_weight: area``) its zero-weight pixels get weight 1 in ``w`` and its ``method``
    becomes ``area``."""
    mass = cov @ (area_km2 * w)
    empty = (mass <= 0) & (e > 0)
    if not empty.any():
        return mass
    names = [codes[i] for i in np.flatnonzero(empty)]
    if zero_weight != "area":
        raise InputDataError(
            f"{len(names)} regions with emissions have no weight on any of their pixels: "
            f"{', '.join(names[:20])}{' ...' if len(names) > 20 else ''}",
            path=weights_path,
            variable="emissions.downscale.weights",
            fix="check the weight raster covers these regions, or set "
            "emissions.downscale.zero_weight: area to spread their CE by area",
        )
    pixels = np.unique(sp.csr_matrix(cov)[np.flatnonzero(empty)].indices)
    w[pixels] = np.where(w[pixels] > 0, w[pixels], 1.0)
    method[empty] = "area"
    log.warning("%d regions without weight spread by area: %s", len(names), names[:20])
    return cov @ (area_km2 * w)


def _fixed_point(
    cov: sp.csc_matrix,
    area_km2: np.ndarray,
    f0: np.ndarray,
    cover: np.ndarray,
    e: np.ndarray,
    known: np.ndarray,
) -> tuple[np.ndarray, int]:
    """The EM fixed point of the module docstring, started from proportional spreading ``f0``:
    one multiplier per region on its own pixels, the shared pixels' densities updated by the
    regions' ratios of target to placed mass. Returns the densities and the iterations."""
    n_regions = cov.shape[0]
    counts = np.diff(cov.indptr)
    single = np.flatnonzero(counts == 1)
    shared = np.flatnonzero(counts >= 2)
    owner = cov.indices[cov.indptr[single]]
    part = cov.data[cov.indptr[single]] * area_km2[single] * f0[single]
    inner = np.bincount(owner, weights=part, minlength=n_regions)
    cs = cov[:, shared]
    cs_area = cs @ sp.diags(area_km2[shared])
    fs = f0[shared].copy()
    share = cover[shared]
    mult = np.ones(n_regions)
    scale = float(e[e > 0].mean()) if (e > 0).any() else 1.0
    history: list[float] = []
    known_at = np.flatnonzero(known)
    misfit = np.empty(len(known_at))
    ratio = np.empty(n_regions)
    iterations = 0
    for iterations in range(MAX_ITER + 1):  # noqa: B007 - the count is reported
        placed = cs_area @ fs
        err, total = _place(placed, inner, mult, e, known_at, scale, misfit)
        history.append(total)
        if err <= TOLERANCE or not len(shared) or _stalled(history):
            break
        _ratios(placed, inner, e, mult, ratio)
        fs *= (cs.T @ ratio) / share
    density = f0.copy()
    density[single] = f0[single] * mult[owner]
    density[shared] = fs
    return density, iterations


# The steps of the iteration between its two sparse products, in numba: in numpy they are ~15
# calls a step on arrays of a few thousand values, whose overhead rivals the products over
# ~3,000 steps a year (the products stay scipy's: numba's loops over the stored entries are
# slower, docs/performance.md). Each value is computed as numpy computes it (the same operations
# in the same order), so the densities are the same bits (tests/test_downscale.py).
@njit(nogil=True, cache=True)
def _place(placed, inner, mult, e, known_at, scale, misfit):  # pragma: no cover - numba
    """``placed`` (the shared pixels' product, per region) += ``inner`` · ``mult``, in place;
    returns the largest relative misfit of the known totals (a zero total against ``scale``;
    numpy's max, NaN kept) and their summed absolute misfit (``misfit`` is scratch)."""
    for r in range(placed.shape[0]):
        placed[r] = inner[r] * mult[r] + placed[r]
    worst = 0.0
    for k in range(known_at.shape[0]):
        r = known_at[k]
        misfit[k] = abs(placed[r] - e[r])
        relative = misfit[k] / (e[r] if e[r] > 0 else scale)
        if k == 0 or relative > worst or relative != relative:
            worst = relative
    return worst, 0.0 + _pairwise_sum(misfit, 0, misfit.shape[0])


@njit(nogil=True, cache=True)
def _ratios(placed, inner, e, mult, ratio):  # pragma: no cover - numba
    """Each region's ratio of target to placed mass (1 where nothing is placed) into ``ratio``,
    and its multiplier times that ratio (1 for a region without pixels of its own)."""
    for r in range(placed.shape[0]):
        ratio[r] = e[r] / placed[r] if placed[r] > 0 else 1.0
        mult[r] = mult[r] * ratio[r] if inner[r] > 0 else 1.0


_PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit(nogil=True, cache=True)
def _pairwise_sum(a, start, n):  # pragma: no cover - numba
    """The pairwise summation of ``a[start:start + n]`` that numpy's ``np.sum`` does (eight
    accumulators over blocks of up to 128 values, halves above): the same bits. Written here
    because numba's own ``sum`` adds in sequence (other bits, and the summed misfit decides when
    the iteration has stalled); the halving is a loop over a stack rather than a recursion,
    which numba's cache cannot hold."""
    if n <= _PAIRWISE_BLOCK:
        return _block_sum(a, start, n)
    # a depth-first walk: first value, count and whether the left half is summed, per level
    starts = np.empty(64, np.int64)
    counts = np.empty(64, np.int64)
    left_done = np.zeros(64, np.bool_)
    left = np.empty(64)
    top = 0
    starts[0], counts[0] = start, n
    while True:
        m = counts[top]
        if m > _PAIRWISE_BLOCK:  # descend into the left half
            half = m // 2 - (m // 2) % 8
            left_done[top] = False
            top += 1
            starts[top], counts[top] = starts[top - 1], half
            continue
        value = _block_sum(a, starts[top], m)
        while top > 0:  # hand the value up: a left half waits for its right half
            top -= 1
            half = counts[top] // 2 - (counts[top] // 2) % 8
            if not left_done[top]:
                left[top], left_done[top] = value, True
                top += 1
                starts[top], counts[top] = starts[top - 1] + half, counts[top - 1] - half
                break
            value = left[top] + value
        else:
            return value


@njit(nogil=True, cache=True, inline="always")
def _block_sum(a, start, n):  # pragma: no cover - numba
    """The sum numpy makes of at most 128 values: in order below 8, else eight accumulators."""
    if n < 8:
        res = -0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i, end = 8, n - n % 8
    while i < end:
        b = start + i
        r0 += a[b]
        r1 += a[b + 1]
        r2 += a[b + 2]
        r3 += a[b + 3]
        r4 += a[b + 4]
        r5 += a[b + 5]
        r6 += a[b + 6]
        r7 += a[b + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


def _warn_unmet(placed: np.ndarray, e: np.ndarray, known: np.ndarray, codes: list[str]) -> None:
    """A warning naming the regions whose total the grid cannot keep to 1e-9."""
    scale = e[e > 0].mean() if (e > 0).any() else 1.0
    unmet = np.flatnonzero(known & (_relative(placed, e, scale) > UNMET))
    if len(unmet):
        moved = np.abs(placed - e)[unmet].sum() / 2 / e.sum()
        log.warning(
            "%d regions keep their total only to more than 1e-9 on this grid: regions small "
            "against the pixel share their pixels with neighbours in proportions their totals "
            "contradict, and their neighbours converge slowly; %.3g %% of the CE moves between "
            "neighbours, the grand total is kept (tables/downscale_<finest>.csv: "
            "relative_difference). A finer grid resolves them: %s",
            len(unmet),
            100 * moved,
            ", ".join(codes[i] for i in unmet[:20]),
        )


def _relative(placed: np.ndarray, e: np.ndarray, scale: float) -> np.ndarray:
    """|placed − e| relative to e (a zero total against ``scale``)."""
    return np.abs(placed - e) / np.where(e > 0, e, scale)


def _stalled(history: list[float], window: int = STALL_WINDOW) -> bool:
    """The summed misfit fell by less than 0.1 % over the last ``window`` iterations: the
    totals are not all reachable (a region small against the pixel), and more iterations
    change next to nothing."""
    return len(history) > window and history[-1] > 0.999 * history[-1 - window]


def spread_report(
    codes: list[str], years: list[int], totals: dict[int, np.ndarray], spreads: dict[int, Spread]
) -> pd.DataFrame:
    """One row per region and year: the table's CE, the CE on the grid, their relative
    difference and how the region's CE was spread (tables/downscale_<finest>.csv)."""
    rows = []
    for year in years:
        s, t = spreads[year], totals[year]
        rows.append(
            pd.DataFrame(
                {
                    "code": codes,
                    "year": year,
                    "ce_table_tgco2": t / 1e6,
                    "ce_on_grid_tgco2": np.where(np.isfinite(t), s.placed_t / 1e6, np.nan),
                    "relative_difference": s.relative_error(t),
                    "method": s.method,
                    "iterations": s.iterations,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).sort_values(["code", "year"], ignore_index=True)
