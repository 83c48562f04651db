"""How sure each region's balance is: intervals and the probability of a surplus
(docs/method.md, "Uncertainty").

The uncertain pieces are relative errors of NPP, the RH model, each GEM-CO2 coefficient, runoff
and the emission table, each systematic (one error shared by every pixel, region and year) or
independent (between pixels, or finest regions, and years). A region's budget is linear in them:

    NPP_r (1 + e_N) − RH_r (1 + e_H) + Σ_g R_rg (1 + e_g)(1 + e_Q) − CE_r (1 + e_E) · 12/44

(R_rg: the region's RCS on lithology group g), so a few sums per region and year are a
sufficient statistic: no pixel is recomputed per draw. Errors independent between pixels add
the variance σ² Σ_p (w·a·x)² per region, whose sums of squares the zonal stage writes next to
the totals. The sums (RH, NEP, RCS, ECS, CE, CNC) get their intervals analytically (Gaussian,
first order in the product of the coefficient and runoff errors); the ratios (source/sink ratio,
CER) by Monte Carlo over the same model. Two layers as elsewhere: kernels on plain arrays
(:func:`linear_variances`, :func:`draw_balance`), and :func:`budget_intervals` /
:func:`slope_intervals`, which read and write the budget's columns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from carbonbudget.core.config import NPP_SD_REQUIRED
from carbonbudget.core.errors import ConfigError
from carbonbudget.core.io import read_table
from carbonbudget.core.units import CO2_PER_C

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
ROBUST_LEVEL = 0.95  # status_robust: the central 95 % interval of CNC stays on the status's side
# the budget columns with intervals: sums (analytic) and ratios (Monte Carlo)
LINEAR_COLUMNS = ("rh_tgc", "nep_tgc", "rcs_tgc", "ecs_tgco2", "ce_tgco2", "cnc_tgco2")
RATIO_COLUMNS = ("source_sink_ratio", "cer")
SQUARE_VARS = ("npp", "rh", "rcs")  # per-pixel variables with sums of squares (independent errors)
ROW_CHUNK = 4096  # region-years per block of Monte Carlo draws: memory is ROW_CHUNK × draws


@dataclass(frozen=True)
class UncertaintyModel:
    """Relative standard deviations and whether each error is independent (else systematic)."""

    npp_sd: float = 0.0
    npp_independent: bool = False
    rh_sd: float = 0.0
    rh_independent: bool = False
    coefficient_sd: float = 0.0
    runoff_sd: float = 0.0
    runoff_independent: bool = False
    ce_sd: float = 0.0
    ce_independent: bool = False
    draws: int = 1000
    seed: int = 0

    @classmethod
    def from_config(cls, cfg: dict) -> UncertaintyModel:
        """The model of a validated ``uncertainty`` section."""
        if cfg["npp"]["relative_sd"] is None:
            raise ConfigError(NPP_SD_REQUIRED)

        def ind(key: str) -> bool:
            return cfg[key].get("correlation") == "independent"

        return cls(
            npp_sd=float(cfg["npp"]["relative_sd"]),
            npp_independent=ind("npp"),
            rh_sd=float(cfg["rh"]["relative_sd"]),
            rh_independent=ind("rh"),
            coefficient_sd=float(cfg["gem_coefficient"]["relative_sd"]),
            runoff_sd=float(cfg["runoff"]["relative_sd"]),
            runoff_independent=ind("runoff"),
            ce_sd=float(cfg["emissions"]["relative_sd"]),
            ce_independent=ind("emissions"),
            draws=int(cfg["draws"]),
            seed=int(cfg["seed"]),
        )


# --- sufficient statistics per finest region (the zonal stage) --------------------------------
def coefficient_groups(coefficients_csv: str) -> list[tuple[str, float]]:
    """The lithology groups of the coefficient errors: one per distinct coefficient *a* of the
    table (classes with the same *a* cannot be told apart on the coefficient raster, so they
    share an error), named by their classes, in the table's order."""
    coefs = read_table(coefficients_csv, "lithology.coefficients")
    names: dict[float, list[str]] = {}
    for cls, a in zip(coefs["gem_class"], coefs["a"].astype(float)):
        names.setdefault(float(np.float32(a)), []).append(str(cls))
    return [("+".join(v), a) for a, v in names.items()]


def group_column(name: str) -> str:
    """The column of a lithology group's RCS total."""
    return f"rcs_group_{name}_tgc"


def square_column(var: str) -> str:
    """The column of a variable's sum of squares Σ (w·a·x)² per region (Tg C² yr-2)."""
    return f"{var}_sq_tgc2"


# --- kernels on plain arrays -------------------------------------------------------------------
@dataclass
class Components:
    """The sufficient statistics of n region-years (Tg C yr-1 unless said; squares in Tg²)."""

    npp: np.ndarray
    rh: np.ndarray
    rcs_groups: np.ndarray  # (n, n_groups)
    ce: np.ndarray  # Tg CO2 yr-1
    npp_sq: np.ndarray
    rh_sq: np.ndarray
    rcs_sq: np.ndarray
    ce_sq: np.ndarray  # Σ over the finest members of CE² (Tg CO2²)

    def take(self, rows: np.ndarray) -> Components:
        """The statistics of some of the region-years."""
        return Components(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @property
    def rcs(self) -> np.ndarray:
        """RCS of every group together."""
        return self.rcs_groups.sum(axis=1)

    @property
    def ecs(self) -> np.ndarray:
        """ECS = NPP − RH + RCS."""
        return self.npp - self.rh + self.rcs


def linear_variances(c: Components, m: UncertaintyModel) -> dict[str, np.ndarray]:
    """Variance of each sum (RH, NEP, RCS, ECS in Tg C², CE and CNC in Tg CO2²): the errors
    are independent of each other, so their variances add; first order in the product of the
    coefficient and runoff errors (exact when either is zero)."""
    v_npp = m.npp_sd**2 * (c.npp_sq if m.npp_independent else c.npp**2)
    v_rh = m.rh_sd**2 * (c.rh_sq if m.rh_independent else c.rh**2)
    v_coef = m.coefficient_sd**2 * (c.rcs_groups**2).sum(axis=1)
    v_q = m.runoff_sd**2 * (c.rcs_sq if m.runoff_independent else c.rcs**2)
    v_ce = m.ce_sd**2 * (c.ce_sq if m.ce_independent else c.ce**2)
    v_ecs = v_npp + v_rh + v_coef + v_q
    return {
        "rh_tgc": v_rh,
        "nep_tgc": v_npp + v_rh,
        "rcs_tgc": v_coef + v_q,
        "ecs_tgco2": v_ecs * CO2_PER_C**2,
        "ce_tgco2": v_ce,
        "cnc_tgco2": v_ecs * CO2_PER_C**2 + v_ce,
    }


def independent_ecs_variance(c: Components, m: UncertaintyModel) -> np.ndarray:
    """The variance of ECS (Tg C²) from the errors independent between pixels."""
    return np.broadcast_to(
        (m.npp_sd**2 * c.npp_sq if m.npp_independent else 0.0)
        + (m.rh_sd**2 * c.rh_sq if m.rh_independent else 0.0)
        + (m.runoff_sd**2 * c.rcs_sq if m.runoff_independent else 0.0),
        c.npp.shape,
    )


def shared_errors(m: UncertaintyModel, n_groups: int) -> dict[str, np.ndarray]:
    """The standard normal draws of the systematic errors, (draws,) each and (n_groups, draws)
    for the coefficients: one set per run, shared by every level, region and year. Always drawn
    in the same order, so a change of one sd does not reshuffle the others."""
    rng = np.random.default_rng([m.seed, 0])
    d = m.draws
    return {
        "npp": rng.standard_normal(d),
        "rh": rng.standard_normal(d),
        "runoff": rng.standard_normal(d),
        "ce": rng.standard_normal(d),
        "coefficient": rng.standard_normal((n_groups, d)),
    }


def draw_balance(
    c: Components,
    m: UncertaintyModel,
    shared: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo draws (n, draws) of ECS (Tg C yr-1) and CE (Tg CO2 yr-1) of n region-years:
    the systematic errors from ``shared``, the independent ones as one Gaussian per region-year
    and draw with the variance their sums of squares give."""
    col = lambda x: np.asarray(x, dtype=np.float64)[:, None]  # noqa: E731
    ecs = col(c.ecs)
    if not m.npp_independent:
        ecs = ecs + col(c.npp) * (m.npp_sd * shared["npp"])
    if not m.rh_independent:
        ecs = ecs - col(c.rh) * (m.rh_sd * shared["rh"])
    runoff = 1.0 if m.runoff_independent else 1.0 + m.runoff_sd * shared["runoff"]
    coef = 1.0 + m.coefficient_sd * shared["coefficient"]  # (n_groups, draws)
    ecs = ecs + c.rcs_groups @ (coef * runoff - 1.0)
    v_ind = independent_ecs_variance(c, m)
    z = rng.standard_normal((len(c.npp), m.draws))
    ecs = ecs + col(np.sqrt(v_ind)) * z
    z = rng.standard_normal((len(c.npp), m.draws))
    if m.ce_independent:
        ce = col(c.ce) + col(m.ce_sd * np.sqrt(c.ce_sq)) * z
    else:
        ce = col(c.ce) * (1.0 + m.ce_sd * shared["ce"])
    return ecs, ce


def ratio_draws(ecs_tgc: np.ndarray, ce_tgco2: np.ndarray) -> np.ndarray:
    """Source/sink ratio of each draw: CE / ECS in CO2, +inf where the draw's ECS <= 0 (the
    budget's rule for the point estimate)."""
    ecs = ecs_tgc * CO2_PER_C
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ecs > 0, ce_tgco2 / ecs, np.inf)


# --- wrappers on the budget tables ---------------------------------------------------------------
def _components(t: pd.DataFrame, groups: list[str]) -> Components:
    f = lambda c: t[c].to_numpy(dtype="float64")  # noqa: E731
    return Components(
        npp=f("nep_tgc") + f("rh_tgc"),
        rh=f("rh_tgc"),
        rcs_groups=np.column_stack([f(group_column(g)) for g in groups])
        if groups
        else np.zeros((len(t), 0)),
        ce=f("ce_tgco2"),
        npp_sq=f(square_column("npp")),
        rh_sq=f(square_column("rh")),
        rcs_sq=f(square_column("rcs")),
        ce_sq=f("ce_sq_tgco2"),
    )


def budget_intervals(
    t: pd.DataFrame,
    groups: list[str],
    m: UncertaintyModel,
    shared: dict[str, np.ndarray],
    rng: np.random.Generator,
    tolerance_tgco2: float = 0.0,
) -> pd.DataFrame:
    """``<col>_p05``, ``_p50``, ``_p95`` of the sums and ratios, ``p_surplus`` = P(CNC > 0) and
    ``status_robust`` for the rows of one budget level (same index as ``t``).

    ``t`` has the budget's columns and the statistics (group RCS, sums of squares,
    ``ce_sq_tgco2``). Rows without CNC (status missing or incomplete) get no interval."""
    c = _components(t, groups)
    known = np.isfinite(t["cnc_tgco2"].to_numpy(dtype="float64"))
    var = linear_variances(c, m)
    out = pd.DataFrame(index=t.index)
    for column in LINEAR_COLUMNS:
        x = t[column].to_numpy(dtype="float64")
        sd = np.sqrt(var[column])
        for name, q in QUANTILES.items():
            out[f"{column}_{name}"] = np.where(known, x + ndtri(q) * sd, np.nan)
    cnc = t["cnc_tgco2"].to_numpy(dtype="float64")
    sd = np.sqrt(var["cnc_tgco2"])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(sd > 0, ndtr(cnc / sd), (cnc > 0).astype(float))
    out["p_surplus"] = np.where(known, p, np.nan)
    # ratios by Monte Carlo, in blocks of rows so memory is bounded by ROW_CHUNK × draws
    cv = t["cv"].to_numpy(dtype="float64") if "cv" in t else np.ones(len(t))
    ratio_q = np.full((len(t), len(RATIO_COLUMNS), len(QUANTILES)), np.nan)
    idx = np.flatnonzero(known)
    qs = list(QUANTILES.values())
    for start in range(0, idx.size, ROW_CHUNK):
        rows = idx[start : start + ROW_CHUNK]
        sub = c.take(rows)
        ecs_d, ce_d = draw_balance(sub, m, shared, rng)
        ratio = ratio_draws(ecs_d, ce_d)
        # order statistics (no interpolation): a draw with ECS <= 0 has an infinite ratio
        ratio_q[rows, 0] = np.quantile(ratio, qs, axis=1, method="inverted_cdf").T
        with np.errstate(invalid="ignore"):
            cer = ratio * cv[rows, None]
        ratio_q[rows, 1] = np.quantile(cer, qs, axis=1, method="inverted_cdf").T
    for i, column in enumerate(RATIO_COLUMNS):
        for j, name in enumerate(QUANTILES):
            out[f"{column}_{name}"] = ratio_q[:, i, j]
    z = ndtri(0.5 + ROBUST_LEVEL / 2)
    lo, hi = cnc - z * sd, cnc + z * sd
    status = t["status"].to_numpy() if "status" in t else np.where(cnc > 0, "surplus", "deficit")
    robust = np.select(
        [status == "surplus", status == "deficit", status == "neutral"],
        [lo > 0, hi < 0, (lo >= -tolerance_tgco2) & (hi <= tolerance_tgco2)],
        default=False,
    )
    out["status_robust"] = pd.array(np.where(known, robust, False), dtype="boolean")
    out.loc[~known, "status_robust"] = pd.NA
    first = [c for c in out.columns if c not in ("p_surplus", "status_robust")]
    return out[first + ["p_surplus", "status_robust"]]


def slope_intervals(
    t: pd.DataFrame,
    groups: list[str],
    m: UncertaintyModel,
    min_years: int = 3,
) -> pd.DataFrame:
    """OLS trend (Tg CO2 yr-2) of ECS, CE and CNC per region of one budget level with the
    standard deviation and 5th/95th percentiles its inputs' errors give (analytic: the slope is
    linear in the series; a systematic error scales the slope of its component, an independent
    one adds Σ_t w_t² var_t with w the OLS weights). Over the years where CNC is known, at least
    ``min_years``; this is the uncertainty of the trend from the inputs, not the OLS p-value's
    year-to-year variability."""
    rows = []
    z = ndtri(QUANTILES["p95"])
    z_robust = ndtri(0.5 + ROBUST_LEVEL / 2)
    for code, g in t.groupby("code", sort=True):
        g = g[np.isfinite(g["cnc_tgco2"].to_numpy(dtype="float64"))].sort_values("year")
        years = g["year"].to_numpy(dtype="float64")
        base = {"code": code, "name": g["name"].iloc[0] if len(g) else "", "n_years": len(g)}
        if len(g) < min_years:
            for v in ("ecs_tgco2", "ce_tgco2", "cnc_tgco2"):
                rows.append(base | {"variable": v})
            continue
        w = (years - years.mean()) / ((years - years.mean()) ** 2).sum()
        c = _components(g, groups)

        def s(x: np.ndarray, w: np.ndarray = w) -> float:
            return float(w @ x)

        K2 = CO2_PER_C**2
        syst_ecs = (
            (0.0 if m.npp_independent else m.npp_sd**2 * s(c.npp) ** 2)
            + (0.0 if m.rh_independent else m.rh_sd**2 * s(c.rh) ** 2)
            + m.coefficient_sd**2 * sum(s(c.rcs_groups[:, i]) ** 2 for i in range(len(groups)))
            + (0.0 if m.runoff_independent else m.runoff_sd**2 * s(c.rcs) ** 2)
        )
        ind_ecs = independent_ecs_variance(c, m)
        var_ecs = K2 * (syst_ecs + float((w**2) @ ind_ecs))
        var_ce = (
            m.ce_sd**2 * float((w**2) @ c.ce_sq) if m.ce_independent else m.ce_sd**2 * s(c.ce) ** 2
        )
        for v, var in (
            ("ecs_tgco2", var_ecs),
            ("ce_tgco2", var_ce),
            ("cnc_tgco2", var_ecs + var_ce),
        ):
            slope = s(g[v].to_numpy(dtype="float64"))
            sd = float(np.sqrt(var))
            rows.append(
                base
                | {
                    "variable": v,
                    "slope_per_yr": slope,
                    "slope_sd": sd,
                    "slope_p05": slope - z * sd,
                    "slope_p95": slope + z * sd,
                    "sign_robust": bool(abs(slope) > z_robust * sd),
                }
            )
    cols = [
        "code",
        "name",
        "variable",
        "n_years",
        "slope_per_yr",
        "slope_sd",
        "slope_p05",
        "slope_p95",
        "sign_robust",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    out["sign_robust"] = out["sign_robust"].astype("boolean")
    return out


def statistic_columns(columns) -> list[str]:
    """The uncertainty statistics among a budget table's columns (dropped once used)."""
    return [
        c
        for c in columns
        if (c.startswith("rcs_group_") and c.endswith("_tgc"))
        or c.endswith("_sq_tgc2")
        or c == "ce_sq_tgco2"
    ]


def add_intervals(
    tables: dict[str, pd.DataFrame],
    cfg: dict,
    *,
    tolerance_tgco2: float = 0.0,
    min_years: int = 3,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The budget tables (level -> table carrying the statistics of
    :func:`carbonbudget.science.balance.build_budget`) with the interval columns, ``p_surplus`` and
    ``status_robust`` instead of the statistics; and per level the trend intervals of
    :func:`slope_intervals`. One set of systematic draws serves every level; each level's
    independent draws come from its own stream of the seed, so the tables do not depend on
    the order the levels are computed in."""
    m = UncertaintyModel.from_config(cfg)
    out, trends = {}, {}
    # every level carries the same lithology groups: one set of shared draws
    stats = statistic_columns(next(iter(tables.values())).columns)
    groups = [c[len("rcs_group_") : -len("_tgc")] for c in stats if c.startswith("rcs_group_")]
    shared = shared_errors(m, len(groups))
    for i, (level, t) in enumerate(tables.items()):
        rng = np.random.default_rng([m.seed, 1 + i])
        iv = budget_intervals(t, groups, m, shared, rng, tolerance_tgco2)
        trends[level] = slope_intervals(t, groups, m, min_years)
        out[level] = pd.concat([t.drop(columns=stats), iv], axis=1)
        log.info(
            "%s: intervals of %d region-years (%d draws for the ratios), %d robust of %d with a "
            "status",
            level,
            int(np.isfinite(iv["p_surplus"]).sum()),
            m.draws,
            int(iv["status_robust"].sum()),
            int(iv["status_robust"].notna().sum()),
        )
    return out, trends
