"""One function per rule of the workflow, named after the rule, in the order of the DAG.

Every rule runs the one shim ``workflow/scripts/stage.py``, which calls :func:`run`; ``run``
calls the function of this module that has the rule's name with the job (Snakemake's
``snakemake`` object, or any object with ``input``, ``output``, ``params``, ``wildcards``,
``threads``, ``log`` and ``rule``). A stage reads the files its rule names, calls the domain
modules, which compute, and writes the rule's outputs (through :mod:`carbonbudget.io`). So a
reader goes from a rule to its code in one hop: rule ``budget`` is :func:`budget`.

The method each stage implements is described in docs/method.md; the files in docs/data.md.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
from collections.abc import Callable
from typing import Any, Protocol

import pandas as pd

from .config import CLIMATOLOGY

log = logging.getLogger(__name__)


class Job(Protocol):
    """What a stage reads of a job: Snakemake's ``snakemake`` object has these attributes."""

    rule: str
    input: Any
    output: Any
    params: Any
    wildcards: Any
    threads: int
    log: Any


STAGES: dict[str, Callable[[Job], object]] = {}


def stage(*rules: str) -> Callable[[Callable], Callable]:
    """Register a function as the stage of the rule of its name (and of ``rules``: the
    scenario rules, defined by the same rule definition as the observed ones)."""

    def register(fn):
        for name in (fn.__name__, *rules):
            STAGES[name] = fn
        return fn

    return register


def run(job: Job) -> None:
    """Run the stage of ``job.rule`` with its log file (timings, and the error once, as one
    block, if it fails)."""
    from .io import configure_gdal_cache
    from .logs import log_to

    label = job.rule + "".join(f" {v}" for v in dict(job.wildcards.items()).values())
    config = getattr(job, "config", None) or {}
    configure_gdal_cache(config.get("processing", {}).get("gdal_cachemax_mb"))
    with log_to(job.log[0] if job.log else None, label):
        STAGES[job.rule](job)


def _optional(value):
    """A Snakemake input that may be an empty list: the path, or None."""
    return value if value else None


# --- demo and inputs ------------------------------------------------------------------------
@stage()
def build_demo(job: Job) -> None:
    """The synthetic demo inputs under data/demo (same bytes every run)."""
    from .demo import build_demo as build

    build(root=job.params.root)


@stage()
def check_climatology(job: Job) -> None:
    """Check the climatologies (inputs without {year}), once for every year."""
    _check(job.params.config, None, job.output.report, job.input.fraction)


def _check(config: dict, year: int | None, path_report: str, path_fraction: str) -> None:
    """Check one year's rasters (``year`` None: the climatologies)."""
    from .checks import check_year_inputs

    check_year_inputs(
        config=config, year=year, path_report=path_report, path_fraction=path_fraction
    )


@stage()
def check_static(job: Job) -> None:
    """Check the lithology, its class tables and the region polygons."""
    from .checks import check_static_inputs

    check_static_inputs(config=job.params.config, path_report=job.output.report)


@stage()
def check_inputs(job: Job) -> None:
    """Every check of every input, every failure reported (``make check``)."""
    from .checks import check_inputs as check_all

    check_all(
        config=job.params.config,
        path_report=job.output.report,
        path_fraction=job.input.fraction,
        path_crosswalk=_optional(job.input.crosswalk),
        collect=True,
    )


@stage()
def check_emissions(job: Job) -> None:
    """Check the emission table against the years and the region codes."""
    from .checks import check_emission_inputs

    check_emission_inputs(
        config=job.params.config,
        path_report=job.output.report,
        path_crosswalk=_optional(job.input.crosswalk),
        path_match=job.output.match,
    )


@stage()
def build_crosswalk(job: Job) -> pd.DataFrame:
    """Old official code list -> finest-level regions (codes and names), as CSV."""
    from .codes import build_crosswalk as crosswalk
    from .codes import read_code_list
    from .errors import InputDataError
    from .io import write_table
    from .regions import read_config_regions

    cw_cfg, regions_cfg = job.params.crosswalk, job.params.regions
    old = read_code_list(job.input.old_codes, cw_cfg["code_col"], cw_cfg["name_col"])
    reg, levels, _ = read_config_regions(regions_cfg)
    finest = levels[0]
    if not regions_cfg["names"].get(finest):
        raise InputDataError(
            "a crosswalk from a code list matches names, but regions.names has "
            f"no name column for '{finest}'",
            path=regions_cfg["path"],
            variable="regions.names",
            fix=f"set regions.names.{finest}",
        )
    new = pd.DataFrame({"code": reg[f"{finest}_code"], "name": reg[f"{finest}_name"]})
    cw = crosswalk(old, new)
    log.info(
        "crosswalk %s -> %s: %s",
        job.input.old_codes,
        regions_cfg["path"],
        cw["method"].value_counts().sort_index().to_dict(),
    )
    write_table(cw, job.output[0])
    return cw


@stage()
def convert_lithology(job: Job) -> None:
    """A headerless ASCII lithology matrix -> GeoTIFF with the configured geometry."""
    from .lithology import ascii_matrix_to_geotiff

    g = job.params.geometry
    ascii_matrix_to_geotiff(
        job.input[0],
        job.output[0],
        west=g["west"],
        north=g["north"],
        resolution=g["resolution"],
        nodata=g["nodata"],
        crs=job.params.crs,
    )


# --- alignment and regions --------------------------------------------------------------------
@stage()
def align_climatology(job: Job) -> None:
    """Put the climatologies on the grid, once for every year."""
    p = job.params
    _align(
        {"grid": p.grid, "climate": p.climate, "npp": p.npp, "runoff": p.runoff},
        None,
        dict(job.output.items()),
        None,
    )


def _align(config: dict, year: int | None, outputs: dict, path_precipitation: str | None) -> None:
    """Put one year's inputs (``year`` None: the climatologies) named in ``outputs`` on the
    grid; inputs already on it in the pipeline's units are read in place."""
    from .align import align_inputs
    from .grid import Grid

    align_inputs(
        grid=Grid.from_config(config["grid"]),
        year=year,
        climate=config.get("climate"),
        npp=config.get("npp"),
        runoff=config["runoff"],
        outputs=outputs,
        path_precipitation=path_precipitation,
    )


@stage()
def align_lithology(job: Job) -> None:
    """Lithology codes on the grid (nearest or mode) and the GEM-CO2 coefficient a."""
    from .grid import Grid
    from .lithology import align_lithology as align

    align(
        grid=Grid.from_config(job.params.grid),
        path_lithology=job.input.lithology,
        classes_csv=job.input.classes,
        coefficients_csv=job.input.coefficients,
        path_codes=job.output.codes,
        path_coefficient=job.output.coefficient,
        crs=job.params.crs,
    )


@stage()
def build_regions(job: Job) -> None:
    """Region polygons in the grid CRS (with the share of each inside the grid), the
    finest-level coverage matrix (from the digest-keyed cache when polygons and grid are
    unchanged) and a raster of the fraction of each pixel inside the study area."""
    from .errors import GridError
    from .grid import Grid
    from .io import atomic_output, write_cogs, write_gpkg_layer
    from .regions import read_config_regions
    from .zonal import cached_coverage, in_region_fraction, inside_grid_share, save_coverage

    grid = Grid.from_config(job.params.grid)
    regions_cfg, cache_dir = job.params.regions, job.params.cache_dir
    regions, levels, _ = read_config_regions(regions_cfg, crs=grid.crs.to_wkt())
    codes, matrix, key, _ = cached_coverage(
        regions, f"{levels[0]}_code", grid, cache_dir, regions_cfg["simplify_to_pixel"]
    )
    if matrix.nnz == 0:
        raise GridError(
            f"{regions_cfg['path']}: no region overlaps the target grid; check "
            "grid.bounds and the CRS of the polygons"
        )
    cached = os.path.join(cache_dir, f"coverage_{key}.npz") if cache_dir else None
    if cached and os.path.exists(cached):
        with atomic_output(job.output.coverage) as tmp:  # the same bytes: copy, not re-encode
            shutil.copyfile(cached, tmp)
    else:
        save_coverage(job.output.coverage, codes, matrix, grid, key)
    regions = regions.assign(inside_grid_share=inside_grid_share(regions, grid))
    with atomic_output(job.output.regions) as tmp:
        write_gpkg_layer(regions, tmp, "regions")
    path = job.output.fraction
    write_cogs(
        {path: in_region_fraction(matrix, grid)},
        grid,
        descriptions={path: "fraction of the pixel inside the study area"},
        units={path: "1"},
    )


@stage()
def level_polygons(job: Job) -> None:
    """The finest-level polygons (layer ``regions``), the polygons of every level
    (``level_<level>``: dissolved once, each level from the next finer one; a grouping from the
    level it groups) and their drawing shapes (``display_<level>``), for the spatial
    statistics, maps and GeoPackage."""
    import geopandas as gpd

    from .grid import Grid
    from .io import atomic_output, write_gpkg_layer
    from .layers import read_layer
    from .regions import (
        display_geometries,
        display_layer,
        dissolve_level,
        level_layer,
        level_table,
        read_finest,
    )

    levels = job.params.levels
    groupings = job.params.groupings  # name -> the level it groups
    grid = Grid.from_config(job.params.grid)
    resolution = abs(grid.transform.a)
    regions = read_finest(job.input.regions)
    done: dict[str, gpd.GeoDataFrame] = {}
    with atomic_output(job.output[0]) as tmp:
        for name, cfg in job.params.layers.items():  # independent layers, as they are
            polys = read_layer(name, cfg, crs=grid.crs.to_wkt())
            write_gpkg_layer(polys, tmp, level_layer(name))
            write_gpkg_layer(display_geometries(polys, resolution), tmp, display_layer(name))
            log.info("region layer %s: %d polygons", name, len(polys))
        write_gpkg_layer(regions, tmp, "regions")
        for i, level in enumerate([*levels, *groupings]):
            if i == 0:
                polys = level_table(regions, levels, level).merge(
                    regions[[f"{level}_code", "geometry"]], on=f"{level}_code"
                )
            elif level in levels:  # from the next finer level, which carries its code
                polys = dissolve_level(regions, levels, level, members=done[levels[i - 1]])
            else:  # a grouping: from the level it groups, with the group of each member
                grouped = groupings[level]
                members = done[grouped].merge(
                    regions[[f"{grouped}_code", f"{level}_code"]].drop_duplicates(),
                    on=f"{grouped}_code",
                )
                polys = dissolve_level(regions, levels, level, members=members)
            polys = gpd.GeoDataFrame(polys, geometry="geometry", crs=regions.crs)
            done[level] = polys
            write_gpkg_layer(polys, tmp, level_layer(level))
            write_gpkg_layer(display_geometries(polys, resolution), tmp, display_layer(level))
            log.info("level %s: %d polygons", level, len(polys))


# --- per-pixel fluxes and zonal totals --------------------------------------------------------
@stage()
def fluxes_climatology(job: Job) -> None:
    """Per-pixel fluxes whose inputs are all climatologies, once for every year."""
    p = job.params
    _fluxes(
        p.grid,
        p.timestep,
        dict(job.input.items()),
        {v: job.output[v] for v in p.fluxes},
        CLIMATOLOGY,
        p.chunk_size,
        job.threads,
        p.dask,
    )


def _fluxes(
    grid: dict,
    timestep: str | None,
    inputs: dict,
    outputs: dict,
    period: int | str,
    chunk_size: int,
    threads: int,
    dask_spec: dict,
) -> None:
    """Per-pixel fluxes of one year (or of the climatologies) -> COGs."""
    from .fluxes import compute_fluxes

    compute_fluxes(
        grid_spec=grid,
        timestep=timestep,
        inputs=inputs,
        outputs=outputs,
        period=period,
        chunk_size=chunk_size,
        threads=threads,
        dask_spec=dask_spec,
    )


@stage()
def zonal_climatology(job: Job) -> None:
    """Finest-level totals of the fluxes that are the same every year (no year column: the
    budget gives them to every year), when no flux changes from year to year."""
    p = job.params
    _zonal(
        p.grid,
        job.input.coverage,
        {v: job.input[v] for v in p.fluxes},
        None,
        job.output.zonal,
        _uncertainty_statistics(job),
    )


def _uncertainty_statistics(job: Job) -> tuple[str, str, str] | None:
    """(output, coefficient raster, coefficient table) of the uncertainty statistics when the
    job writes them (``uncertainty`` output), else None."""
    out = dict(job.output.items()).get("uncertainty")
    if out is None:
        return None
    return (out, job.input.coefficient, job.params.coefficients)


def _zonal(
    grid_spec: dict,
    path_coverage: str,
    fluxes: dict,
    year: int | None,
    path: str,
    statistics: tuple[str, str, str] | None = None,
) -> None:
    """Finest-level totals of each flux (name -> raster) -> Parquet, with a year column unless
    ``year`` is None; with ``statistics`` (output, coefficient raster, coefficient table) the
    uncertainty model's statistics over the same pixels too (docs/method.md, "Uncertainty")."""
    from .grid import Grid
    from .io import atomic_output
    from .zonal import load_coverage, zonal_totals

    grid = Grid.from_config(grid_spec)
    codes, matrix = load_coverage(path_coverage, grid)
    if statistics is None:
        tables = {path: zonal_totals(matrix, codes, grid, fluxes)}
    else:  # the uncertainty statistics in the same read of the rasters
        from .uncertainty import coefficient_groups, zonal_totals_and_statistics

        out, coefficient, table = statistics
        tables = dict(
            zip(
                (path, out),
                zonal_totals_and_statistics(
                    matrix, codes, grid, fluxes, coefficient, coefficient_groups(table)
                ),
            )
        )
    for target, df in tables.items():
        if year is not None:
            df.insert(1, "year", int(year))
        with atomic_output(target) as tmp:
            df.to_parquet(tmp, index=False)


@stage("process_scenario_year")
def process_year(job: Job) -> None:
    """The work of one year (or of a scenario raster year) in one job: check its rasters, put
    them on the grid, compute the per-pixel fluxes, sum them per finest region. Each step's
    time goes to the log; the checks run before anything is computed from the inputs."""
    import time

    p, out = job.params, job.output
    year = int(job.wildcards.year)
    cfg = p.config
    aligned = {name: out[f"aligned_{name}"] for name in p.aligned}
    t0 = time.perf_counter()

    def done(step: str) -> None:
        nonlocal t0
        log.info("step %s: %.1f s", step, time.perf_counter() - t0)
        t0 = time.perf_counter()

    _check(cfg, year, out.report, job.input.fraction)
    done("check")
    _align(cfg, year, aligned, job.input.get("precipitation_aligned"))
    done("align")
    flux_inputs = {k: aligned[k] if k in aligned else job.input[k] for k in p.flux_inputs}
    flux_inputs |= {"coefficient": job.input.coefficient, "fraction": job.input.fraction}
    climate = cfg.get("climate")
    _fluxes(
        cfg["grid"],
        climate["timestep"] if climate else None,
        flux_inputs,
        {v: out[v] for v in p.fluxes},
        year,
        p.chunk_size,
        job.threads,
        p.dask,
    )
    done("fluxes")
    zonal = {v: out[v] if v in p.fluxes else job.input[f"climatology_{v}"] for v in p.zonal_fluxes}
    _zonal(cfg["grid"], job.input.coverage, zonal, year, out.zonal, _uncertainty_statistics(job))
    done("zonal")


# --- emissions on the grid ---------------------------------------------------------------------
# Per-pixel status: the sign of CNC, as the regions' status (ColorBrewer RdYlBu ends and middle)
PIXEL_STATUS = {1: "deficit (CNC < 0)", 2: "balanced (CNC = 0)", 3: "surplus (CNC > 0)"}
PIXEL_STATUS_COLOURS = {1: (215, 25, 28), 2: (255, 255, 191), 3: (44, 123, 182)}


def _write_grid_year(job: Job, grid, year: int, ce, *, how: str, tags: dict) -> None:
    """CE of a year on the grid (t CO2 km-2 yr-1) as a COG, with CNC = ECS x 44/12 - CE and
    the per-pixel status when the job has ECS (outputs ``ce``, ``cnc``, ``status`` and input
    ``ecs``, one per year of ``job.params.years``)."""
    import numpy as np
    import rasterio

    from .io import dask_scheduler, write_class_cog, write_cogs
    from .units import CO2_PER_C

    p, out = job.params, job.output
    i = list(p.years).index(year)
    layers = {out.ce[i]: ce}
    units = {out.ce[i]: "t CO2 km-2 yr-1"}
    descriptions = {out.ce[i]: f"carbon emissions CE {year}, {how}"}
    with_cnc = "cnc" in out.keys()
    if with_cnc:
        with rasterio.open(job.input.ecs[i]) as src:
            ecs = src.read(1, masked=True).filled(np.nan).astype("float64")
        layers[out.cnc[i]] = cnc = ecs * CO2_PER_C - ce  # ECS g C m-2 yr-1 = t C km-2 yr-1
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
            np.select([cnc < 0, cnc == 0, cnc > 0], [1, 2, 3], 0),
            grid,
            colours=PIXEL_STATUS_COLOURS,
            labels=PIXEL_STATUS,
            description=f"carbon budget status {year} (sign of CNC per pixel)",
            tags={"year": str(year), **tags},
        )


@stage()
def emission_raster(job: Job) -> None:
    """A gridded inventory put on the grid conserving mass (:mod:`carbonbudget.inventory`):
    CE per pixel (with CNC and status where ECS is computed), CE per finest region summed with
    the regions' exact coverage (the table every stage reads as the emission table), and what
    the alignment kept of the inventory's mass."""
    import numpy as np
    import pandas as pd

    from .errors import InputDataError
    from .grid import Grid
    from .inventory import align_inventory
    from .io import gdal_env, write_table
    from .zonal import load_coverage

    p, out = job.params, job.output
    inv = p.inventory
    grid = Grid.from_config(p.grid)
    codes, regions = load_coverage(job.input.coverage, grid)
    pix_km2 = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    in_regions = np.asarray(regions.sum(axis=0)).ravel() > 0
    rows, report, cells = [], [], None
    with gdal_env():
        for year in p.years:
            path, band = p.files[year]
            aligned, cells = align_inventory(
                path,
                grid,
                units=inv["units"],
                year=year,
                band=band,
                crs=inv.get("crs"),
                coverage=cells,
            )
            density = aligned.density.ravel()
            missing = in_regions & ~np.isfinite(density)
            if missing.any():
                raise InputDataError(
                    f"year {year}: the inventory does not reach {int(missing.sum())} pixels of "
                    "the regions",
                    path=path,
                    variable="emissions",
                    fix="use an inventory that covers the whole study area",
                )
            ce_t = regions @ (pix_km2 * np.nan_to_num(density))
            rows.append(pd.DataFrame({"code": codes, "year": year, "ce_tgco2": ce_t / 1e6}))
            report.append(
                {
                    "year": year,
                    "inventory_cells_tgco2": aligned.cells_total_t / 1e6,
                    "inventory_inside_grid_tgco2": aligned.inventory_inside_t / 1e6,
                    "grid_total_tgco2": aligned.inside_total_t / 1e6,
                    "relative_difference": abs(aligned.inside_total_t - aligned.inventory_inside_t)
                    / aligned.inventory_inside_t
                    if aligned.inventory_inside_t > 0
                    else 0.0,
                    "regions_total_tgco2": ce_t.sum() / 1e6,
                    "cells_without_value": aligned.nodata_cells,
                }
            )
            log.info(
                "%d: %.6g Tg CO2 in the inventory cells that reach the grid, %.9g inside the "
                "grid before alignment, %.9g on the grid after, %.6g in the regions; %d cells "
                "without a value counted as no emission",
                year,
                aligned.cells_total_t / 1e6,
                aligned.inventory_inside_t / 1e6,
                aligned.inside_total_t / 1e6,
                ce_t.sum() / 1e6,
                aligned.nodata_cells,
            )
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
def grid_budget(job: Job) -> None:
    """Every year's CE spread over the finest regions' pixels by the weight raster, conserving
    each region's total (:mod:`carbonbudget.downscale`), and CNC = ECS - CE per pixel, both in
    t CO2 km-2 yr-1; the table of what each region's CE became on the grid."""
    import numpy as np
    import pandas as pd
    import rasterio

    from .align import CONTINUOUS, align_raster, gdal_source
    from .downscale import spread_emissions, spread_report
    from .grid import Grid
    from .io import gdal_env, write_table
    from .zonal import load_coverage

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
    with gdal_env():
        for period, (path, aligned) in sorted(p.weights.items()):
            align_raster(
                gdal_source(path, ds.get("subdataset")),
                aligned,
                grid,
                variable="emission weights",
                kind=CONTINUOUS,
                crs=ds.get("crs"),
            )
            with rasterio.open(aligned) as src:
                weights[period] = src.read(1, masked=True).filled(np.nan).astype("float64").ravel()
    totals, spreads = {}, {}
    for year in p.years:
        rows = budget[budget["year"] == year].set_index("code")["ce_tgco2"]
        totals[year] = rows.reindex(codes).to_numpy(dtype="float64") * 1e6  # Tg -> t
        w = weights[str(year)] if str(year) in weights else weights[p.climatology]
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
            tags={"weights": ds["weights"]},
        )
        log.info(
            "%d: CE of %d regions on the grid (%d iterations), grid total %.6g Tg CO2 of %.6g",
            year,
            int(np.isfinite(totals[year]).sum()),
            spreads[year].iterations,
            np.nansum(spreads[year].placed_t) / 1e6,
            np.nansum(totals[year]) / 1e6,
        )
    write_table(spread_report(codes, list(p.years), totals, spreads), out.report)


# --- budgets and trends -----------------------------------------------------------------------
@stage()
def layer_budget(job: Job) -> None:
    """Budget table of one independent region layer (region_layers) from the per-pixel fluxes
    of every year, and CE from the grid where the run has it."""
    from .io import write_table
    from .layers import layer_budget as build

    p = job.params
    fluxes = dict(zip(p.flux_keys, job.input.fluxes))  # "var year" -> raster
    flux_paths = {
        int(y): {v: fluxes.get(f"{v} {y}") or fluxes[f"{v} {CLIMATOLOGY}"] for v in p.fluxes}
        for y in p.years
    }
    ce = dict(zip(p.years, job.input.ce)) if len(job.input.ce) else None
    table = build(
        name=job.wildcards.layer,
        layer_cfg=p.layer,
        grid_spec=p.grid,
        flux_paths=flux_paths,
        ce_paths=ce,
        balance_cfg=p.balance,
        cache_dir=p.cache_dir,
    )
    write_table(table, job.output.csv, job.output.parquet)


@stage()
def budget(job: Job) -> None:
    """Budget tables per level (CSV and Parquet), one row per region-year."""
    from .balance import build_budget
    from .emissions import load_crosswalk_config
    from .io import write_table
    from .regions import config_derive_parents, grouping_levels, read_finest_table

    p = job.params
    tables = build_budget(
        zonal_paths=list(job.input.zonal),
        years=p.years,
        regions_table=read_finest_table(job.input.regions),
        levels=list(p.regions["levels"]),
        emissions_cfg=p.emissions,
        socio_cfg=p.socioeconomic,
        balance_cfg=p.balance,
        derive_parents=config_derive_parents(p.regions),
        fluxes=tuple(p.fluxes),
        crosswalk=load_crosswalk_config(p.emissions, _optional(job.input.crosswalk)),
        select=p.regions.get("select"),
        statistics_paths=list(job.input.uncertainty) or None,
        groupings=grouping_levels(p.regions),
    )
    if p.uncertainty:
        from .uncertainty import add_intervals

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
def pixel_trends(job: Job) -> None:
    """Per-pixel trend statistic COGs of one flux over the years."""
    import rasterio
    import xarray as xr

    from .grid import Grid
    from .io import dask_scheduler, gdal_env, open_raster, write_cogs
    from .trends import PIXEL_STATS, hurst_block_sizes, trend_statistics

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
def region_trends(job: Job) -> None:
    """Per-region statistics of CNC, ECS and CE for each level -> CSV, and the sequential
    Mann–Kendall UF/UB series in long format."""
    from .io import write_table
    from .trends import level_thresholds, region_trend_columns
    from .trends import region_trends as statistics

    p = job.params
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
        stats, sqmk = statistics(
            table, columns, p.min_valid_years, p.hurst_min_blocks, limits, p.hurst_bias_correction
        )
        stats["trend_class_limits_tgco2"] = f"{limits[0]:.4g};{limits[1]:.4g}"
        stats.insert(0, "level", level)
        sqmk.insert(0, "level", level)
        write_table(stats, out)
        write_table(sqmk, out_sqmk)


@stage()
def plot_region_trends(job: Job) -> None:
    """One figure per region of the coarsest level: series, trend, UF/UB."""
    from .plots import plot_region_trends as plot

    plot(
        budget_path=job.input.budget,
        trends_path=job.input.trends,
        sqmk_path=job.input.sqmk,
        out_dir=job.output[0],
        variable=job.params.variable,
    )


# --- spatial statistics and deliverables ------------------------------------------------------
@stage()
def spatial_statistics(job: Job) -> None:
    """spatial_<level>.csv and moran_<level>.csv per spatial level, and gini_<parent>.csv."""
    from .io import write_table
    from .regions import read_finest, read_level_polygons
    from .spatial import cache_esda_kernels, gini_by_parent, spatial_level

    cache_esda_kernels()
    p, cfg = job.params, job.params.spatial
    budgets = dict(zip(p.levels, job.input.budget))
    for level, out_local, out_moran in zip(p.spatial_levels, job.output.local, job.output.moran):
        log.info("spatial statistics: level %s", level)
        polys = read_level_polygons(job.input.regions, level)
        table = pd.read_parquet(budgets[level])
        if "in_region_layer" in table:  # emission codes without polygon have no neighbours
            table = table[table["in_region_layer"]]
        local, moran = spatial_level(
            polys,
            table,
            level=level,
            variables=cfg["variables"],
            permutations=cfg["permutations"],
            seed=cfg["seed"],
            lisa_p=cfg["lisa_p"],
            islands=cfg["islands"],
            min_regions=cfg["min_regions"],
        )
        write_table(local, out_local, digits=10)
        write_table(moran, out_moran, digits=10)
    if job.output.gini:
        parent, members = cfg["gini_parent"], cfg["gini_members"]
        table = gini_by_parent(
            read_finest(job.input.regions),
            p.hierarchy,
            pd.read_parquet(budgets[members]),
            parent=parent,
            members=members,
            variables=cfg["variables"],
            tolerance=p.tolerance_tgco2,
        )
        write_table(table, job.output.gini[0], digits=10)


@stage()
def plot_spatial_maps(job: Job) -> None:
    """LISA cluster and Gi* hot-spot maps of one variable and level."""
    from .plots import plot_spatial_maps as plot

    plot(
        path_regions=job.input.regions,
        level=job.wildcards.level,
        local_path=job.input.local,
        moran_path=job.input.moran,
        variable=job.wildcards.variable,
        path_lisa=job.output.lisa,
        path_gi=job.output.gi,
        lisa_p=job.params.lisa_p,
        maps=job.params.maps,
        outline_level=job.params.outline_level,
    )


@stage()
def geopackage(job: Job) -> None:
    """The GeoPackage: one layer per level, column units and metadata."""
    from .outputs import write_geopackage

    levels = job.params.budget_levels
    write_geopackage(
        path_regions=job.input.regions,
        levels=job.params.levels,
        budget_paths=dict(zip(levels, job.input.budget)),
        trend_paths=dict(zip(levels, job.input.trends)),
        spatial_paths=dict(zip(job.params.spatial_levels, job.input.spatial)),
        run_info=job.params.run_info,
        series=job.params.series,
        path_out=job.output[0],
    )


@stage()
def provenance(job: Job) -> None:
    """Package version, config digest, input digests and the run time (the only timestamp)."""
    import datetime as dt

    import numba
    import numpy
    import rasterio

    from . import __version__
    from .balance import STUDY_AREA
    from .config import config_digest, skipped_stages
    from .io import atomic_output, file_digests
    from .paths import climatology_note

    config = job.params.config
    record = {
        "carbonbudget_version": __version__,
        "run_time_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config_digest": config_digest(config),
        "config": config,
        "skipped_stages": skipped_stages(config),
        "climatologies": climatology_note(config),
        "inputs": file_digests(sorted(set(job.input.raw)), job.params.digest_cache),
        "software": {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "numba": numba.__version__,
            "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__,
        },
        "levels_note": f"'{STUDY_AREA}' is the sum of all regions",
    }
    with atomic_output(job.output[0]) as tmp:
        with open(tmp, "w") as fh:
            json.dump(record, fh, indent=2, sort_keys=True, default=str)


@stage("plot_layer_maps")
def plot_budget_maps(job: Job) -> None:
    """Period-mean maps of one level (ECS, CE, CNC, CER, trend class)."""
    from .plots import plot_budget_maps as plot

    plot(
        path_regions=job.input.regions,
        level=job.wildcards.level,
        budget_path=job.input.budget,
        trends_path=job.input.trends,
        out_paths={k: job.output[k] for k in job.params.kinds},
        min_valid_fraction=job.params.min_valid_fraction,
        maps=job.params.maps,
        outline_level=job.params.outline_level,
    )


@stage()
def report_items(job: Job) -> None:
    """Headline tables and quick-look maps of the HTML report."""
    from .report import build_report_items

    build_report_items(
        budget_study_area=job.input.study_area,
        budget_finest=job.input.finest,
        finest=job.params.finest,
        regions=job.input.regions,
        outline_level=job.params.outline_level,
        rasters=job.params.rasters,
        model_skill=_optional(job.input.skill),
        out=dict(job.output.items()),
    )


# --- emissions accounting and scenarios -------------------------------------------------------
@stage()
def tier1_emissions(job: Job) -> pd.DataFrame:
    """IPCC Tier 1 CO2 per region, year and fuel from the fuel-use table, and its comparison
    with the inventory the section names, or else with the emission table rolled up to the
    same level (the level's budget table), for the years of the fuel-use table."""
    from .emissions import load_emissions
    from .io import write_table
    from .tier1 import compare_inventory, read_consumption, read_factors, tier1_co2, tier1_totals

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
    from .emissions import emissions_by_region, load_crosswalk_config
    from .forecast import project_scenarios, read_scenario_tables
    from .io import write_table
    from .regions import config_derive_parents, read_finest_table

    sc, em_cfg, regions_cfg = job.params.scenarios, job.params.emissions, job.params.regions
    drivers, growth = read_scenario_tables(sc)
    regions = read_finest_table(job.input.regions)
    em = emissions_by_region(
        em_cfg,
        sorted(set(drivers["year"])),
        regions,
        list(regions_cfg["levels"]),
        derive_parents=config_derive_parents(regions_cfg),
        crosswalk=load_crosswalk_config(em_cfg, _optional(job.input.crosswalk)),
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
    from .plots import plot_scenarios as plot

    plot(table_path=job.input.table, out_dir=job.output[0])
