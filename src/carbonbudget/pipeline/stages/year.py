"""The work of one year in one job: check, align, fluxes, zonal totals (workflow/rules/year.smk);
its steps also serve the climatology rules.

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from carbonbudget.core.grid import Grid
from carbonbudget.core.io import atomic_output
from carbonbudget.inputs.align import align_inputs
from carbonbudget.inputs.checks import check_year_inputs
from carbonbudget.pipeline.job import Job, Stages
from carbonbudget.regions.zonal import (
    load_coverage,
    weighted_coverage,
    zonal_totals,
    zonal_totals_and_statistics,
)
from carbonbudget.science.fluxes import compute_fluxes
from carbonbudget.science.uncertainty import coefficient_groups

log = logging.getLogger(__name__)
stage = Stages()


def check_step(config: dict, year: int | None, path_report: str, path_fraction: str) -> None:
    """Check one year's rasters (``year`` None: the climatologies)."""
    check_year_inputs(
        config=config, year=year, path_report=path_report, path_fraction=path_fraction
    )


def align_step(
    config: dict, year: int | None, outputs: dict, path_precipitation: str | None
) -> None:
    """Put one year's inputs (``year`` None: the climatologies) named in ``outputs`` on the
    grid; inputs already on it in the pipeline's units are read in place."""
    align_inputs(
        grid=Grid.from_config(config["grid"]),
        year=year,
        climate=config.get("climate"),
        npp=config.get("npp"),
        runoff=config["runoff"],
        outputs=outputs,
        path_precipitation=path_precipitation,
    )


def fluxes_step(
    grid: dict,
    timestep: str | None,
    inputs: dict,
    outputs: dict,
    period: int | str,
    chunk_size: int,
    threads: int,
    dask_spec: dict,
    then: Callable[[dict[str, str]], object] | None = None,
) -> None:
    """Per-pixel fluxes of one year (or of the climatologies) -> COGs; ``then`` as in
    :func:`carbonbudget.science.fluxes.compute_fluxes`."""
    compute_fluxes(
        grid_spec=grid,
        timestep=timestep,
        inputs=inputs,
        outputs=outputs,
        period=period,
        chunk_size=chunk_size,
        threads=threads,
        dask_spec=dask_spec,
        then=then,
    )


def uncertainty_statistics(job: Job) -> tuple[str, str, str] | None:
    """(output, coefficient raster, coefficient table) of the uncertainty statistics when the
    job writes them (``uncertainty`` output), else None."""
    out = dict(job.output.items()).get("uncertainty")
    if out is None:
        return None
    return (out, job.input.coefficient, job.input.coefficients)


def zonal_step(
    grid_spec: dict,
    path_coverage: str,
    fluxes: dict,
    year: int | None,
    path: str,
    statistics: tuple[str, str, str] | None = None,
    share: str | None = None,
) -> None:
    """Finest-level totals of each flux (name -> raster) -> Parquet, with a year column unless
    ``year`` is None; with ``statistics`` (output, coefficient raster, coefficient table) the
    uncertainty model's statistics over the same pixels too (docs/method.md, "Uncertainty");
    with ``share`` (the aligned npp.cover_fraction) over that share of each pixel."""
    grid = Grid.from_config(grid_spec)
    codes, matrix = load_coverage(path_coverage, grid)
    matrix = weighted_coverage(matrix, grid, share)
    if statistics is None:
        tables = {path: zonal_totals(matrix, codes, grid, fluxes)}
    else:  # the uncertainty statistics in the same read of the rasters
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
    p, out = job.params, job.output
    year = int(job.wildcards.year)
    cfg = p.config
    aligned = {name: out[f"aligned_{name}"] for name in p.aligned}
    t0 = time.perf_counter()

    def done(step: str) -> None:
        nonlocal t0
        log.info("step %s: %.1f s", step, time.perf_counter() - t0)
        t0 = time.perf_counter()

    check_step(cfg, year, out.report, job.input.fraction)
    done("check")
    align_step(cfg, year, aligned, job.input.get("precipitation_aligned"))
    done("align")
    flux_inputs = {k: aligned[k] if k in aligned else job.input[k] for k in p.flux_inputs}
    flux_inputs |= {"coefficient": job.input.coefficient, "fraction": job.input.fraction}
    climate = cfg.get("climate")

    def zonal(written: dict[str, str]) -> None:
        """The zonal totals, reading the year's fluxes from the uncompressed rasters their COGs
        were copied from (the same values, without decompressing the COGs again)."""
        done("fluxes")
        zonal_step(
            cfg["grid"],
            job.input.coverage,
            {
                v: written.get(out[v], out[v]) if v in p.fluxes else job.input[f"climatology_{v}"]
                for v in p.zonal_fluxes
            },
            year,
            out.zonal,
            uncertainty_statistics(job),
            share=job.input.get("cover_fraction"),
        )
        done("zonal")

    fluxes_step(
        cfg["grid"],
        climate["timestep"] if climate else None,
        flux_inputs,
        {v: out[v] for v in p.fluxes},
        year,
        p.chunk_size,
        job.threads,
        p.dask,
        then=zonal,
    )
