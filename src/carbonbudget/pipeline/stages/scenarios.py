"""IPCC Tier 1 emissions, the emission model's scenarios and their figures
(workflow/rules/scenarios.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

import pandas as pd

from carbonbudget.core.io import write_table
from carbonbudget.outputs import series
from carbonbudget.pipeline.job import Job, Stages, optional
from carbonbudget.regions.emissions import (
    emissions_by_region,
    load_crosswalk_config,
    load_emissions,
)
from carbonbudget.regions.hierarchy import config_derive_parents, read_finest_table
from carbonbudget.regions.scenarios import project_scenarios, read_scenario_tables
from carbonbudget.science.tier1 import (
    compare_inventory,
    read_consumption,
    read_factors,
    tier1_co2,
    tier1_totals,
)

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def tier1_emissions(job: Job) -> pd.DataFrame:
    """IPCC Tier 1 CO2 per region, year and fuel from the fuel-use table, and its comparison
    with the inventory the section names, or else with the emission table rolled up to the
    same level (the level's budget table), for the years of the fuel-use table."""
    acc = job.params.accounting
    cons = read_consumption(acc)
    per_fuel = tier1_co2(cons, read_factors(acc["factors"]), path=acc["consumption"])
    years = sorted(set(cons["year"]))
    if acc.get("inventory"):
        ic = acc["inventory"]
        inv = load_emissions(
            ic["path"],
            region_col=ic["region_col"],
            year_col=ic["year_col"],
            value_col=ic["value_col"],
            units=ic["units"],
            years=years,
            require_all_years=False,
        )
    else:  # the emission table rolled up to the level
        table = pd.read_parquet(job.input.budget)
        inv = table.loc[table["year"].isin(years), ["code", "year", "ce_tgco2"]]
    inv = inv.rename(columns={"code": "region", "ce_tgco2": "co2_tgco2"})
    comparison = compare_inventory(
        tier1_totals(per_fuel), inv, ours_label="tier1", reference_label="inventory"
    )
    # every published table calls its region key "code"
    write_table(per_fuel.rename(columns={"region": "code"}), job.output.per_fuel)
    write_table(comparison.rename(columns={"region": "code"}), job.output.comparison)
    return comparison


@stage()
def scenario_projection(job: Job) -> pd.DataFrame:
    """The emission model per region of ``scenarios.level``, CE to the horizon under each
    scenario, ECS (observed, scenario rasters, interpolated) and CNC -> three CSV tables."""
    sc, em_cfg, regions_cfg = job.params.scenarios, job.params.emissions, job.params.regions
    drivers, growth = read_scenario_tables(sc)
    regions = read_finest_table(job.input.regions)
    em = emissions_by_region(
        em_cfg,
        sorted(set(drivers["year"])),
        regions,
        list(regions_cfg["levels"]),
        derive_parents=config_derive_parents(regions_cfg),
        crosswalk=load_crosswalk_config(em_cfg, optional(job.input.crosswalk)),
        select=regions_cfg.get("select"),
        require_all_years=False,
    )
    zonal = {
        name: pd.concat([pd.read_parquet(p).assign(year=int(y)) for y, p in by_year.items()])
        for name, by_year in job.params.zonal.items()
    }
    table, skill, summary = project_scenarios(
        sc,
        drivers=drivers,
        growth=growth,
        emissions=em,
        gaps=em_cfg["gaps"],
        budget=pd.read_parquet(job.input.budget),
        scenario_zonal=zonal,
        regions=regions,
        levels=list(regions_cfg["levels"]),
    )
    for frame, out in (
        (table, job.output.table),
        (skill, job.output.model),
        (summary, job.output.summary),
    ):
        write_table(frame.rename(columns={"region": "code"}), out)
    return table


@stage()
def plot_scenarios(job: Job) -> None:
    """One figure per region: CE, ECS and CNC per scenario to the horizon."""
    series.plot_scenarios(table_path=job.input.table, out_dir=job.output[0])
