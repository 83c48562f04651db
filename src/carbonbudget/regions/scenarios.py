"""The emission model and its scenarios applied to the regions of one level (docs/method.md,
"Scenarios"; Zhang et al. 2022, §2.2.4): CE history per region summed from the emission table,
the model of :mod:`carbonbudget.science.forecast` fitted per region, CE projected to the
horizon under each scenario, ECS from the observed budget and the scenario rasters' zonal
totals, and CNC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.io import read_table
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.regions.emissions import sum_emissions
from carbonbudget.science.forecast import (
    SCENARIO_COLUMNS,
    fit_emission_model,
    peak_year,
    project_drivers,
    scenario_ecs,
)


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
    (:func:`carbonbudget.regions.emissions.emissions_by_region`, the budget's own path; a
    region-year without a value is unknown under ``gaps: missing``); ``budget``: the level's
    budget table; ``scenario_zonal``: {scenario: finest-level zonal totals of its rasters, with
    a year column}. Returns (table, skill per region, summary per scenario and region)."""
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
    summ = _cnc_change(pd.DataFrame(summary), table, horizon)
    return table, pd.DataFrame(skill), summ


def _cnc_change(summ: pd.DataFrame, table: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """CNC of the last observed year with ECS and at the horizon, and its change in per cent,
    per scenario and region (Zhang et al. 2022: -44.6 % / +15.5 %)."""
    for i, r in summ.iterrows():
        sel = table[(table["region"] == r["region"])]
        obs = sel[(sel["scenario"] == "observed") & sel["cnc_tgco2"].notna()]
        fut = sel[(sel["scenario"] == r["scenario"]) & (sel["year"] == horizon)]
        if len(obs) and len(fut):
            c0, c1 = float(obs["cnc_tgco2"].iloc[-1]), float(fut["cnc_tgco2"].iloc[0])
            summ.loc[i, "cnc_last_observed_tgco2"] = c0
            summ.loc[i, f"cnc_{horizon}_tgco2"] = c1
            summ.loc[i, "cnc_change_pct"] = 100.0 * (c1 - c0) / abs(c0) if c0 else np.nan
    return summ
