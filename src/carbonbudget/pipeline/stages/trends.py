"""Trends per pixel and per region, and their figures (workflow/rules/trends.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pandas as pd
import rasterio
import xarray as xr

from carbonbudget.core.config import PIXEL_STATS, RH_PARTS
from carbonbudget.core.grid import Grid
from carbonbudget.core.io import dask_scheduler, gdal_env, open_raster, write_cogs, write_table
from carbonbudget.outputs import series
from carbonbudget.pipeline.job import Job, Stages, optional
from carbonbudget.regions.budget import RegionTree
from carbonbudget.regions.changes import decomposition_tables, fuel_table, rh_parts_by_level
from carbonbudget.regions.drivers import read_co2_by_fuel
from carbonbudget.regions.zonal import load_coverage, weighted_coverage, zonal_totals
from carbonbudget.science import trends
from carbonbudget.science.fluxes import FLUX_UNITS, LONG_NAMES, write_respiration_parts
from carbonbudget.science.trends import (
    hurst_block_sizes,
    level_thresholds,
    region_trend_columns,
    trend_statistics,
)

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def pixel_trends(job: Job) -> None:
    """Per-pixel trend statistic COGs of one flux over the years."""
    p, variable = job.params, job.wildcards.var
    grid = Grid.from_config(p.grid)
    paths = dict(zip(p.years, job.input))
    years = sorted(int(y) for y in paths)
    outputs = {s: job.output[s] for s in PIXEL_STATS}
    with gdal_env():
        with rasterio.open(paths[years[0]]) as src:  # g C m-2 yr-1, or t CO2 km-2 yr-1 (CE, CNC)
            unit = src.tags(1).get("units") or "g C m-2 yr-1"
        layers = [open_raster(paths[y], p.chunk_size).isel(band=0, drop=True) for y in years]
        stack = xr.concat(layers, dim="year").assign_attrs(units=unit)
        ds = trend_statistics(
            stack, years, p.min_valid_years, p.hurst_min_blocks, p.hurst_bias_correction
        )
        span = f"{years[0]}-{years[-1]}"
        blocks = " ".join(map(str, hurst_block_sizes(len(years), p.hurst_min_blocks)))
        with dask_scheduler(p.dask, job.threads):
            write_cogs(
                {outputs[s]: ds[s] for s in PIXEL_STATS},
                grid,
                descriptions={
                    outputs[s]: f"{ds[s].attrs['long_name']} of {variable}, {span}"
                    for s in PIXEL_STATS
                },
                units={
                    outputs[s]: ds[s]
                    .attrs["units"]
                    .replace(f"({unit}) yr-1", unit.removesuffix("yr-1") + "yr-2")
                    for s in PIXEL_STATS
                },
                tags={
                    outputs[s]: {"variable": variable, "years": span, "hurst_block_sizes": blocks}
                    for s in PIXEL_STATS
                },
                threads=job.threads,
                label=f"trends of {variable}",
            )


@stage()
def rh_attribution(job: Job) -> None:
    """The temperature and precipitation terms of RH (docs/method.md, "Decomposition") for
    the first and the last year of the decomposition period, summed per finest region over
    the pixels where that year's fluxes are known (as its zonal totals are), and their change
    per pixel over the period. Each year's terms go to a temporary raster only."""
    p = job.params
    n = len(p.years)
    flux_paths = list(job.input.fluxes)  # flux-major: every year of the first flux, ...
    grid = Grid.from_config(p.grid)
    # each year's terms summed with the same weighted coverage as its zonal totals
    codes, matrix = load_coverage(job.input.coverage, grid)
    matrix = weighted_coverage(matrix, grid, job.input.get("cover_fraction"))
    rows = []
    with tempfile.TemporaryDirectory(dir=Path(job.output.parts).parent) as tmp:
        terms = {}
        for i, year in enumerate(p.years):
            terms[year] = {part: f"{tmp}/{part}_{year}.tif" for part in RH_PARTS}
            write_respiration_parts(
                grid_spec=p.grid,
                timestep=p.timestep,
                inputs={
                    "temperature": job.input.temperature[i],
                    "precipitation": job.input.precipitation[i],
                    "fraction": job.input.fraction,
                },
                outputs=terms[year],
                period=year,
                chunk_size=p.chunk_size,
                threads=job.threads,
                dask_spec=p.dask,
            )
            fluxes = {v: flux_paths[k * n + i] for k, v in enumerate(p.fluxes)}
            table = zonal_totals(matrix, codes, grid, {**fluxes, **terms[year]})
            rows.append(table[["code", *(f"{v}_tgc" for v in ("rh", *RH_PARTS))]].assign(year=year))
            log.info("RH of %d split into its temperature and precipitation terms", year)
        first, last = p.years[0], p.years[-1]
        with gdal_env(), dask_scheduler(p.dask, job.threads):
            write_cogs(
                {
                    job.output[part]: (
                        open_raster(terms[last][part], p.chunk_size)
                        - open_raster(terms[first][part], p.chunk_size)
                    ).isel(band=0, drop=True)
                    for part in RH_PARTS
                },
                grid,
                descriptions={
                    job.output[part]: f"change of the {LONG_NAMES[part]}, {first} to {last}"
                    for part in RH_PARTS
                },
                units={job.output[part]: FLUX_UNITS for part in RH_PARTS},
                tags={
                    job.output[part]: {"variable": f"delta_{part}", "years": f"{first}-{last}"}
                    for part in RH_PARTS
                },
                threads=job.threads,
                label="change of the RH terms",
            )
    write_table(pd.concat(rows, ignore_index=True), None, job.output.parts)


@stage()
def region_trends(job: Job) -> None:
    """Per-region statistics of CNC, ECS and CE for each level -> CSV, the sequential
    Mann–Kendall UF/UB series in long format, and the emission decomposition of each summed
    level where population and GDP are given."""
    p = job.params
    budgets = dict(zip(p.levels, job.input.budget))
    rh_parts = None
    if "rh_parts" in dict(job.input.items()):  # ΔRH split into its two terms
        tree = RegionTree.read(job.input.regions, p.regions)
        rh_parts = rh_parts_by_level(
            pd.read_parquet(job.input.rh_parts), tree, p.decomposition_levels
        )
    tables = decomposition_tables(
        budgets, p.decomposition_levels, p.currency, p.decomposition, p.years, rh_parts
    )
    for level, out in zip(p.decomposition_levels, job.output.get("decomposition", [])):
        write_table(tables[level], out)
    if p.fuel_level:
        given = p.decomposition.get("co2_by_fuel")
        by_fuel = (
            read_co2_by_fuel(given, p.decomposition["drivers"].get("names"), p.years)
            if given
            else pd.read_csv(job.input.by_fuel, dtype={"code": str})
        )
        table = fuel_table(budgets[p.fuel_level], by_fuel, p.currency, p.decomposition, p.years)
        write_table(table, job.output.by_fuel)
        log.info("%s: CO2 by fuel decomposed (LMDI)", p.fuel_level)
    for level, path, out, out_sqmk in zip(
        p.levels, job.input.budget, job.output.trends, job.output.sqmk
    ):
        table = pd.read_parquet(path)
        columns = region_trend_columns(table)  # no CNC/ECS without NPP
        mean_area = float(table.groupby("code")["area_km2"].first().mean())
        limits = level_thresholds(p.class_thresholds, mean_area, p.class_thresholds_area_km2)
        log.info(
            "%s: trend-class limits %.4g and %.4g Tg CO2 yr-2 (mean region area %.0f km2)",
            level,
            *limits,
            mean_area,
        )
        stats, sqmk = trends.region_trends(
            table, columns, p.min_valid_years, p.hurst_min_blocks, limits, p.hurst_bias_correction
        )
        stats["trend_class_limits_tgco2"] = f"{limits[0]:.4g};{limits[1]:.4g}"
        stats.insert(0, "level", level)
        sqmk.insert(0, "level", level)
        write_table(stats, out)
        write_table(sqmk, out_sqmk)


@stage()
def plot_region_trends(job: Job) -> None:
    """One figure per region of the coarsest level: series, trend, UF/UB; and its waterfall
    where the run decomposes the change of its balance."""
    series.plot_region_trends(
        budget_path=job.input.budget,
        trends_path=job.input.trends,
        sqmk_path=job.input.sqmk,
        out_dir=job.output[0],
        variable=job.params.variable,
        decomposition_path=optional(job.input.decomposition),
    )
