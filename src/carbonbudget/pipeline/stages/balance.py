"""Regional budgets of every level and of the independent region layers
(workflow/rules/balance.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

import pandas as pd

from carbonbudget.core.config import CLIMATOLOGY
from carbonbudget.core.io import write_table
from carbonbudget.outputs.workbook import write_workbook
from carbonbudget.pipeline.job import Job, Stages, optional
from carbonbudget.regions import layers
from carbonbudget.regions.budget import EmissionMatch, RegionTree, build_budget
from carbonbudget.regions.compare import compare_sources
from carbonbudget.regions.emissions import load_crosswalk_config, load_crosswalk_names
from carbonbudget.regions.hierarchy import config_derive_parents
from carbonbudget.science.uncertainty import add_intervals

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def layer_budget(job: Job) -> None:
    """Budget table of one independent region layer (region_layers) from the per-pixel fluxes
    of every year, and CE from the grid where the run has it."""
    p = job.params
    fluxes = dict(zip(p.flux_keys, job.input.fluxes))  # "var year" -> raster
    flux_paths = {
        int(y): {v: fluxes.get(f"{v} {y}") or fluxes[f"{v} {CLIMATOLOGY}"] for v in p.fluxes}
        for y in p.years
    }
    ce = dict(zip(p.years, job.input.ce)) if len(job.input.ce) else None
    table = layers.layer_budget(
        name=job.wildcards.layer,
        layer_cfg=p.layer,
        grid_spec=p.grid,
        flux_paths=flux_paths,
        ce_paths=ce,
        balance_cfg=p.balance,
        cache_dir=p.cache_dir,
        share=job.input.get("cover_fraction"),
    )
    write_table(table, job.output.csv, job.output.parquet)


@stage()
def budget(job: Job) -> None:
    """Budget tables per level (CSV and Parquet), one row per region-year; with a second
    emission source, the two side by side per level."""
    p = job.params
    regions = RegionTree.read(job.input.regions, p.regions)
    match = EmissionMatch(
        derive_parents=config_derive_parents(p.regions),
        crosswalk=load_crosswalk_config(p.emissions, optional(job.input.crosswalk)),
        select=p.regions.get("select"),
        names=load_crosswalk_names(p.emissions, optional(job.input.crosswalk)),
    )
    tables = build_budget(
        zonal_paths=list(job.input.zonal),
        years=p.years,
        regions=regions,
        emissions_cfg=p.emissions,
        socio_cfg=p.socioeconomic,
        balance_cfg=p.balance,
        match=match,
        fluxes=tuple(p.fluxes),
        statistics_paths=list(job.input.uncertainty) or None,
    )
    if p.compare:
        sources = compare_sources(tables, p.compare, regions, match)
        for level, path in zip(p.levels, job.output.sources):
            write_table(sources[level], path)
    if p.uncertainty:
        tables, trend_intervals = add_intervals(
            tables,
            p.uncertainty,
            tolerance_tgco2=float(p.balance["tolerance_tgco2"]),
            min_years=int(p.trends["min_valid_years"]),
        )
        for level, path in zip(p.levels, job.output.trend_intervals):
            write_table(trend_intervals[level], path)
    for level, csv, parquet in zip(p.levels, job.output.csv, job.output.parquet):
        write_table(tables[level], csv, parquet)


@stage()
def budget_workbook(job: Job) -> None:
    """The budget tables of every summed level (their Parquet files) as one Excel workbook."""
    p = job.params
    years = f"{p.years[0]}–{p.years[-1]}" if len(p.years) > 1 else str(p.years[0])
    write_workbook(
        {level: pd.read_parquet(path) for level, path in zip(p.levels, job.input.parquet)},
        job.output.workbook,
        f"Carbon budget by region, {years}",
        language=p.language,
    )
