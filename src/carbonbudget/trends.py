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

from typing import TYPE_CHECKING

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import digamma, stdtr

from . import kernels
from .config import schema_default
from .errors import InputDataError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

PIXEL_STATS = ("slope", "p", "sen", "mk_z", "mk_p", "hurst")
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
    res = kernels.trend_stats(
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
            uf, ub = kernels.sequential_mk(series[ok])
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
INTENSITY_PREFIX = "ce_intensity_kgco2_per_"  # + the GDP currency


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
