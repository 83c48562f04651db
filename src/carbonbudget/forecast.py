"""Emission model and driver scenarios to 2060 (docs/method.md, "Scenarios"; Zhang et al.
2022, §2.2.4).

The back-propagation network of Zhang et al. (2022): CE from seven drivers, one hidden layer of
four ReLU units,
a linear output (scikit-learn ``MLPRegressor``), inputs standardised on the training years, an
ensemble over fixed seeds (the mean is the forecast, the spread is reported). Its skill is
measured on held-out years (the last ``holdout`` years: a forecast, not an interpolation) with R²
and relative errors, then the ensemble is refitted on every year for the projection. With fewer
usable years than inputs the network is not identified and fitting is refused.

Scenarios give annual growth rates of each driver per period; drivers grow from their last
observed value, the ensemble turns them into CE per year, and the peak year is the year of the
largest CE (``None`` when CE still rises in the last year: no peak within the horizon).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import schema_default
from .errors import InputDataError
from .io import read_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

DRIVERS = (
    "population",
    "urbanisation_rate",
    "gdp",
    "secondary_share",
    "energy_intensity",
    "energy_use",
    "energy_structure",
)
DEFAULT_SEEDS = tuple(range(schema_default("scenarios", "n_seeds")))


class InsufficientDataError(InputDataError):
    """Too few usable years to fit the emission model."""


@dataclass
class EmissionModel:
    """A fitted ensemble of networks: standardisation, members, skill (``metrics``)."""

    drivers: tuple[str, ...]
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float
    members: list = field(repr=False)
    metrics: dict = field(default_factory=dict)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """CE (Tg CO2) per row of ``frame`` (columns = drivers): ensemble mean, min and max."""
        x = (frame[list(self.drivers)].to_numpy(dtype="float64") - self.x_mean) / self.x_std
        pred = np.stack([m.predict(x) for m in self.members]) * self.y_std + self.y_mean
        return pd.DataFrame(
            {
                "ce_tgco2": pred.mean(axis=0),
                "ce_tgco2_min": pred.min(axis=0),
                "ce_tgco2_max": pred.max(axis=0),
            },
            index=frame.index,
        )


def _fit_members(x, y, seeds, max_iter):
    # scikit-learn's MLPRegressor is the network the design names; lbfgs suits ~20 samples
    from sklearn.neural_network import MLPRegressor

    members = []
    for seed in seeds:
        m = MLPRegressor(
            hidden_layer_sizes=(4,),
            activation="relu",
            solver="lbfgs",
            alpha=1e-4,
            max_iter=max_iter,
            random_state=seed,
        )
        m.fit(x, y)
        members.append(m)
    return members


def _standardise(x):
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def fit_emission_model(
    history: pd.DataFrame,
    *,
    drivers: Sequence[str] = DRIVERS,
    holdout: int = schema_default("scenarios", "holdout"),
    seeds: Sequence[int] = DEFAULT_SEEDS,
    max_iter: int = 5000,
    label: str = "",
) -> EmissionModel:
    """Fit the ensemble on ``history`` (columns year, ce_tgco2 and the drivers).

    Years with a missing driver or CE are not usable. The last ``holdout`` usable years are held
    out for ``metrics`` (r2_holdout, rel_error per year, mean_abs_rel_error), then the members
    are refitted on every usable year."""
    from sklearn.metrics import r2_score

    drivers = tuple(drivers)
    missing = [c for c in ("year", "ce_tgco2", *drivers) if c not in history.columns]
    if missing:
        raise InputDataError(
            f"{label} driver table lacks columns {missing}",
            variable="scenarios.drivers",
            fix=f"give year, ce_tgco2 and {drivers}",
        )
    h = history.sort_values("year")
    usable = h.dropna(subset=["ce_tgco2", *drivers])
    n_in = len(drivers)
    if len(usable) - holdout <= n_in:
        raise InsufficientDataError(
            f"{label}: {len(usable)} usable years ({len(usable) - holdout} for training after "
            f"{holdout} held out) for {n_in} inputs: the network cannot be fitted",
            variable="scenarios.drivers",
            fix=f"give at least {n_in + holdout + 1} years with every driver and CE, use fewer "
            "drivers, or fit a larger region (e.g. national instead of one province)",
        )
    x_all = usable[list(drivers)].to_numpy(dtype="float64")
    y_all = usable["ce_tgco2"].to_numpy(dtype="float64")
    train = slice(0, len(usable) - holdout)
    test = slice(len(usable) - holdout, len(usable))

    def fit(x, y):
        xm, xs = _standardise(x)
        ym, ys = float(y.mean()), float(y.std()) or 1.0
        members = _fit_members((x - xm) / xs, (y - ym) / ys, seeds, max_iter)
        return EmissionModel(drivers, xm, xs, ym, ys, members)

    trial = fit(x_all[train], y_all[train])
    metrics = {
        "n_years": len(usable),
        "n_train": len(usable) - holdout,
        "holdout": holdout,
        "seeds": list(seeds),
    }
    if holdout:
        pred = trial.predict(usable.iloc[test])["ce_tgco2"].to_numpy()
        obs = y_all[test]
        rel = (pred - obs) / obs
        metrics.update(
            {
                "r2_holdout": float(r2_score(obs, pred)) if holdout > 1 else float("nan"),
                "holdout_years": usable["year"].iloc[test].astype(int).tolist(),
                "rel_error": rel.tolist(),
                "mean_abs_rel_error": float(np.mean(np.abs(rel))),
            }
        )
    model = fit(x_all, y_all)
    model.metrics = metrics
    return model


def project_drivers(
    last: pd.Series,
    growth: pd.DataFrame,
    *,
    start_year: int,
    end_year: int = schema_default("scenarios", "horizon"),
) -> pd.DataFrame:
    """Drivers per year from ``start_year`` + 1 to ``end_year``: each grows from its value in
    ``last`` (the last observed year, ``start_year``) by the annual rate of the period the year
    falls in. ``growth``: columns driver, start_year, end_year (inclusive), rate (fraction per
    year, e.g. 0.05). A driver or year without a rate is an error (no silent zero growth)."""
    years = np.arange(start_year + 1, end_year + 1)
    out = pd.DataFrame({"year": years})
    for driver, value in last.items():
        g = growth[growth["driver"] == driver]
        rates = np.full(len(years), np.nan)
        for _, row in g.iterrows():
            sel = (years >= row["start_year"]) & (years <= row["end_year"])
            rates[sel] = row["rate"]
        if np.isnan(rates).any():
            gap = years[np.isnan(rates)]
            raise InputDataError(
                f"no growth rate for driver '{driver}' in years {gap.min()}-{gap.max()}",
                variable="scenarios.growth",
                fix="give a rate for every driver and every year to the horizon",
            )
        out[driver] = float(value) * np.cumprod(1.0 + rates)
    return out


def peak_year(years: ArrayLike, values: ArrayLike) -> int | None:
    """The year of the largest value; None if the series still rises at its last year (no
    peak within the horizon) or is empty. Ties: the first year of the maximum."""
    v = np.asarray(values, dtype="float64")
    y = np.asarray(years)
    if v.size == 0 or not np.isfinite(v).any():
        return None
    i = int(np.nanargmax(v))
    if i == v.size - 1 and v.size > 1 and v[-1] > v[-2]:
        return None
    return int(y[i])


SCENARIO_COLUMNS = [
    "scenario",
    "region",
    "year",
    "ce_tgco2",
    "ce_tgco2_min",
    "ce_tgco2_max",
    "ecs_tgco2",
    "ecs_source",
    "cnc_tgco2",
    "ecs_ce_ratio",
]


def scenario_ecs(observed: pd.Series, raster_years: dict[int, float], horizon: int) -> pd.DataFrame:
    """ECS per year from the last observed year to ``horizon``: observed values, the values of
    the scenario raster years, and linear interpolation between them (``ecs_source`` says
    which). Years after the last raster year stay NaN: no extrapolation."""
    last = int(observed.index.max())
    known = {last: float(observed.loc[last])} | {int(y): float(v) for y, v in raster_years.items()}
    xs = np.array(sorted(known))
    ys = np.array([known[x] for x in xs])
    years = np.arange(last + 1, horizon + 1)
    val = np.where(years <= xs.max(), np.interp(years, xs, ys), np.nan)
    src = np.where(
        np.isin(years, xs), "scenario_raster", np.where(years <= xs.max(), "interpolated", "none")
    )
    return pd.DataFrame({"year": years, "ecs_tgco2": val, "ecs_source": src})


def _level_totals(
    zonal: pd.DataFrame, regions: pd.DataFrame, level: str, finest: str, column: str
) -> pd.Series:
    """Sum of a finest-level column by (level code, year); the study area is code 'all'."""
    if level == "study_area":
        return zonal.assign(region="all").groupby(["region", "year"])[column].sum()
    hier = regions[[f"{finest}_code", f"{level}_code"]].drop_duplicates(f"{finest}_code")
    z = zonal.merge(hier, left_on="code", right_on=f"{finest}_code", how="left")
    return z.rename(columns={f"{level}_code": "region"}).groupby(["region", "year"])[column].sum()


def read_scenario_tables(sc_cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The drivers and growth-rate tables of the ``scenarios`` section; a scenario without
    growth rates is an error."""
    drivers = read_table(sc_cfg["drivers"], "scenarios.drivers", dtype={"region": str})
    growth = read_table(sc_cfg["growth"], "scenarios.growth")
    for name in sc_cfg["names"]:
        if name not in set(growth["scenario"]):
            raise InputDataError(
                f"scenario '{name}' has no rows in the growth table",
                path=sc_cfg["growth"],
                variable="scenarios.growth",
                fix="add its growth rates, or remove it from scenarios.names",
            )
    return drivers, growth


def project_scenarios(
    sc_cfg: dict,
    *,
    drivers: pd.DataFrame,
    growth: pd.DataFrame,
    emissions: pd.DataFrame,
    gaps: str,
    budget: pd.DataFrame,
    scenario_zonal: dict[str, pd.DataFrame],
    regions: pd.DataFrame,
    levels: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fit the emission model per region of ``sc_cfg['level']`` on the drivers and the emission
    table's CE history, project CE to the horizon under each scenario, add ECS (observed, the
    scenario rasters' zonal totals and interpolation) and CNC.

    ``emissions``: the emission table matched to the regions
    (:func:`carbonbudget.emissions.emissions_by_region`, the budget's own path; a region-year
    without a value is unknown under ``gaps: missing``); ``budget``: the level's budget table;
    ``scenario_zonal``: {scenario: finest-level zonal totals of its rasters, with a year
    column}. Returns (table, skill per region, summary per scenario and region)."""
    from .emissions import sum_emissions
    from .units import CO2_PER_C

    level = sc_cfg["level"]
    finest = levels[0]
    em = emissions.assign(region="all" if level == "study_area" else emissions[f"{level}_code"])
    ce_hist = sum_emissions(em, "region", gaps).set_index(["region", "year"])["ce_tgco2"]

    budget = budget.assign(region=budget["code"])
    ecs_obs = budget.set_index(["region", "year"])["ecs_tgco2"]
    ecs_sc = {
        name: _level_totals(z, regions, level, finest, "ecs_tgc") * CO2_PER_C
        for name, z in scenario_zonal.items()
    }

    rows, skill, summary = [], [], []
    seeds = tuple(range(sc_cfg["n_seeds"]))
    horizon = sc_cfg["horizon"]
    for region, dr in drivers.groupby("region", sort=True):
        hist = dr.merge(
            ce_hist.loc[region].rename("ce_tgco2")
            if region in ce_hist.index.get_level_values(0)
            else pd.Series(dtype=float, name="ce_tgco2"),
            left_on="year",
            right_index=True,
            how="left",
        )
        model = fit_emission_model(
            hist, holdout=sc_cfg["holdout"], seeds=seeds, label=f"{level} {region}"
        )
        m = model.metrics
        skill.append(
            {
                "region": region,
                "n_years": m["n_years"],
                "n_train": m["n_train"],
                "holdout_years": ";".join(map(str, m.get("holdout_years", []))),
                "r2_holdout": m.get("r2_holdout"),
                "mean_abs_rel_error": m.get("mean_abs_rel_error"),
                "rel_error": ";".join(f"{e:.4f}" for e in m.get("rel_error", [])),
                "n_seeds": len(seeds),
            }
        )
        obs_ecs = ecs_obs.loc[region] if region in ecs_obs.index.get_level_values(0) else None
        last_obs = int(hist.dropna(subset=["ce_tgco2"])["year"].max())
        observed = hist[["year", "ce_tgco2"]].dropna().assign(scenario="observed", region=region)
        if obs_ecs is not None:
            observed = observed.merge(
                obs_ecs.rename("ecs_tgco2"), left_on="year", right_index=True, how="left"
            )
            observed["ecs_source"] = np.where(observed["ecs_tgco2"].notna(), "observed", "none")
        rows.append(observed)
        last = dr.set_index("year").loc[last_obs, list(model.drivers)]
        for name in sc_cfg["names"]:
            fut = project_drivers(
                last, growth[growth["scenario"] == name], start_year=last_obs, end_year=horizon
            )
            ce = model.predict(fut)
            t = pd.concat([fut[["year"]], ce], axis=1).assign(scenario=name, region=region)
            if obs_ecs is not None and name in ecs_sc:
                raster = (
                    ecs_sc[name].loc[region]
                    if region in ecs_sc[name].index.get_level_values(0)
                    else pd.Series(dtype=float)
                )
                ecs = scenario_ecs(obs_ecs.dropna(), raster.to_dict(), horizon)
                t = t.merge(ecs, on="year", how="left")
            rows.append(t)
            series = pd.concat([observed[["year", "ce_tgco2"]], t[["year", "ce_tgco2"]]])
            summary.append(
                {
                    "scenario": name,
                    "region": region,
                    "peak_year": peak_year(series["year"], series["ce_tgco2"]),
                    "ce_last_observed_tgco2": float(observed["ce_tgco2"].iloc[-1]),
                    f"ce_{horizon}_tgco2": float(t["ce_tgco2"].iloc[-1]),
                    f"ecs_{horizon}_tgco2": float(t["ecs_tgco2"].iloc[-1])
                    if "ecs_tgco2" in t
                    else np.nan,
                }
            )
    table = pd.concat(rows, ignore_index=True)
    if "ecs_tgco2" not in table:
        table["ecs_tgco2"], table["ecs_source"] = np.nan, "none"
    table["cnc_tgco2"] = table["ecs_tgco2"] - table["ce_tgco2"]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ecs_ce_ratio"] = table["ecs_tgco2"] / table["ce_tgco2"]
    for col in SCENARIO_COLUMNS:
        if col not in table:
            table[col] = np.nan
    table = (
        table[SCENARIO_COLUMNS].sort_values(["region", "scenario", "year"]).reset_index(drop=True)
    )
    summ = pd.DataFrame(summary)
    # CNC change from the last observed year with ECS to the horizon (Zhang et al. 2022: -44.6 % /
    # +15.5 %)
    for i, r in summ.iterrows():
        sel = table[(table["region"] == r["region"])]
        obs = sel[(sel["scenario"] == "observed") & sel["cnc_tgco2"].notna()]
        fut = sel[(sel["scenario"] == r["scenario"]) & (sel["year"] == horizon)]
        if len(obs) and len(fut):
            c0, c1 = float(obs["cnc_tgco2"].iloc[-1]), float(fut["cnc_tgco2"].iloc[0])
            summ.loc[i, "cnc_last_observed_tgco2"] = c0
            summ.loc[i, f"cnc_{horizon}_tgco2"] = c1
            summ.loc[i, "cnc_change_pct"] = 100.0 * (c1 - c0) / abs(c0) if c0 else np.nan
    return table, pd.DataFrame(skill), summ
