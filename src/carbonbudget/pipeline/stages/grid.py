"""Emissions on the grid: a gridded inventory, or the table spread by weights
(workflow/rules/grid.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import rasterio

from carbonbudget.core.grid import Grid
from carbonbudget.core.io import dask_scheduler, gdal_env, write_class_cog, write_cogs, write_table
from carbonbudget.inputs.checks import check_weights_inputs
from carbonbudget.inputs.inventory import inventory_years
from carbonbudget.outputs.palette import PIXEL_STATUS_COLOURS
from carbonbudget.pipeline.job import Job, Stages
from carbonbudget.regions.zonal import load_coverage
from carbonbudget.science.balance import PIXEL_STATUS, pixel_cnc, pixel_status
from carbonbudget.science.downscale import spread_emissions, spread_report

log = logging.getLogger(__name__)
stage = Stages()


def _write_grid_year(job: Job, grid, year: int, ce, *, how: str, tags: dict) -> None:
    """CE of a year on the grid (t CO2 km-2 yr-1) as a COG, with CNC = ECS x 44/12 - CE and
    the per-pixel status when the job has ECS (outputs ``ce``, ``cnc``, ``status`` and input
    ``ecs``, one per year of ``job.params.years``)."""
    p, out = job.params, job.output
    i = list(p.years).index(year)
    layers = {out.ce[i]: ce}
    units = {out.ce[i]: "t CO2 km-2 yr-1"}
    descriptions = {out.ce[i]: f"carbon emissions CE {year}, {how}"}
    with_cnc = "cnc" in out.keys()
    if with_cnc:
        with rasterio.open(job.input.ecs[i]) as src:
            ecs = src.read(1, masked=True).filled(np.nan).astype("float64")
        layers[out.cnc[i]] = cnc = pixel_cnc(ecs, ce)
        units[out.cnc[i]] = "t CO2 km-2 yr-1"
        descriptions[out.cnc[i]] = f"carbon neutral capacity CNC = ECS - CE {year}"
    with dask_scheduler(p.dask, job.threads):
        write_cogs(
            layers,
            grid,
            descriptions=descriptions,
            units=units,
            tags={path: {"year": str(year), **tags} for path in layers},
            threads=job.threads,
            label=f"emissions on the grid {year}",
        )
    if with_cnc:
        write_class_cog(
            out.status[i],
            pixel_status(cnc),
            grid,
            colours=PIXEL_STATUS_COLOURS,
            labels=PIXEL_STATUS,
            description=f"carbon budget status {year} (sign of CNC per pixel)",
            tags={"year": str(year), **tags},
        )


@stage()
def emission_raster(job: Job) -> None:
    """A gridded inventory put on the grid conserving mass (:mod:`carbonbudget.inputs.inventory`):
    CE per pixel (with CNC and status where ECS is computed), CE per finest region summed with
    the regions' exact coverage (the table every stage reads as the emission table), and what
    the alignment kept of the inventory's mass."""
    p, out = job.params, job.output
    inv = p.inventory
    grid = Grid.from_config(p.grid)
    rows, report = [], []
    with gdal_env():
        for year, path, aligned, table, row in inventory_years(
            p.files, inv, grid, load_coverage(job.input.coverage, grid)
        ):
            rows.append(table)
            report.append(row)
            _write_grid_year(
                job,
                grid,
                year,
                aligned.density,
                how="gridded inventory",
                tags={"inventory": path, "inventory_units": inv["units"]},
            )
    write_table(pd.concat(rows, ignore_index=True), out.table)
    write_table(pd.DataFrame(report), out.report)


@stage()
def compare_raster(job: Job) -> None:
    """A gridded second emission source (emission_compare) put on the grid conserving mass
    and summed per finest region as the emission inventory is: the table the comparison reads,
    and what the alignment kept of its mass."""
    p, out = job.params, job.output
    grid = Grid.from_config(p.grid)
    with gdal_env():
        years = list(
            inventory_years(p.files, p.inventory, grid, load_coverage(job.input.coverage, grid))
        )
    write_table(pd.concat([y[3] for y in years], ignore_index=True), out.table)
    write_table(pd.DataFrame([y[4] for y in years]), out.report)


@stage()
def align_weights(job: Job) -> None:
    """The weight rasters of ``emissions.downscale`` checked and put on the grid
    (:func:`carbonbudget.inputs.checks.check_weights_inputs`)."""
    config = job.params.config
    grid = Grid.from_config(config)
    check_weights_inputs(
        config=config,
        coverage=load_coverage(job.input.coverage, grid),
        aligned=job.params.aligned,
    )


@stage()
def grid_budget(job: Job) -> None:
    """Every year's CE spread over the finest regions' pixels by the weight raster, conserving
    each region's total (:mod:`carbonbudget.science.downscale`), and CNC = ECS - CE per pixel,
    both in t CO2 km-2 yr-1; the table of what each region's CE became on the grid."""
    p, out = job.params, job.output
    ds = p.downscale
    grid = Grid.from_config(p.grid)
    codes, coverage = load_coverage(job.input.coverage, grid)
    area_km2 = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    budget = pd.read_parquet(job.input.budget)
    elsewhere = budget.loc[~budget["in_region_layer"], "ce_tgco2"].sum()
    if elsewhere > 0:
        log.warning(
            "%.4g Tg CO2 (%.3g %% of all years' CE) belong to emission codes without a polygon "
            "(tables/emission_code_match.csv): they are in the tables but not on the grid",
            elsewhere,
            100 * elsewhere / budget["ce_tgco2"].sum(),
        )
    budget = budget[budget["in_region_layer"]]
    weights: dict[str, np.ndarray] = {}
    for period, aligned in zip(p.periods, job.input.aligned):
        with rasterio.open(aligned) as src:
            weights[period] = src.read(1, masked=True).filled(np.nan).astype("float64").ravel()
    totals, spreads = {}, {}
    for year in p.years:
        rows = budget[budget["year"] == year].set_index("code")["ce_tgco2"]
        totals[year] = rows.reindex(codes).to_numpy(dtype="float64") * 1e6  # Tg -> t
        w = weights[p.period_of[year]]
        spreads[year] = spread_emissions(
            coverage,
            area_km2,
            w,
            totals[year],
            codes=codes,
            zero_weight=ds["zero_weight"],
            weights_path=ds["weights"],
        )
        _write_grid_year(
            job,
            grid,
            year,
            spreads[year].density.reshape(grid.shape),
            how="spread by weights",
            tags={"weights": ds["weights"].replace("{year}", p.period_of[year])},
        )
        log.info(
            "%d: CE of %d regions on the grid (%d iterations, weights of %s), grid total %.6g "
            "Tg CO2 of %.6g",
            year,
            int(np.isfinite(totals[year]).sum()),
            spreads[year].iterations,
            p.period_of[year],
            np.nansum(spreads[year].placed_t) / 1e6,
            np.nansum(totals[year]) / 1e6,
        )
    write_table(spread_report(codes, list(p.years), totals, spreads), out.report)
