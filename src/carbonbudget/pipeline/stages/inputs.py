"""Checks of every input before any compute, the code crosswalk and the lithology matrix
(workflow/rules/inputs.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

import pandas as pd

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.io import write_table
from carbonbudget.inputs import checks
from carbonbudget.inputs.checks import check_emission_inputs, check_static_inputs
from carbonbudget.inputs.lithology import ascii_matrix_to_geotiff
from carbonbudget.pipeline.job import Job, Stages, optional
from carbonbudget.pipeline.stages.year import check_step
from carbonbudget.regions import codes
from carbonbudget.regions.codes import read_code_list
from carbonbudget.regions.hierarchy import read_config_regions

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def check_climatology(job: Job) -> None:
    """Check the climatologies (inputs without {year}), once for every year."""
    check_step(job.params.config, None, job.output.report, job.input.fraction)


@stage()
def check_static(job: Job) -> None:
    """Check the lithology, its class tables and the region polygons; keep the polygons as
    checked, in the grid CRS, for ``build_regions``."""
    check_static_inputs(
        config=job.params.config, path_report=job.output.report, path_regions=job.output.regions
    )


@stage()
def check_inputs(job: Job) -> None:
    """Every check of every input, every failure reported (``make check``)."""
    checks.check_inputs(
        config=job.params.config,
        path_report=job.output.report,
        path_crosswalk=optional(job.input.crosswalk),
        cache_dir=job.params.cache_dir,
        collect=True,
    )


@stage()
def check_emissions(job: Job) -> None:
    """Check the emission table against the years and the region codes."""
    check_emission_inputs(
        config=job.params.config,
        path_report=job.output.report,
        path_crosswalk=optional(job.input.crosswalk),
        path_match=job.output.match,
    )


@stage()
def build_crosswalk(job: Job) -> pd.DataFrame:
    """Old official code list -> finest-level regions (codes and names), as CSV."""
    cw_cfg, regions_cfg = job.params.crosswalk, job.params.regions
    old = read_code_list(job.input.old_codes, cw_cfg["code_col"], cw_cfg["name_col"])
    reg, levels, _ = read_config_regions(regions_cfg, check_overlaps=False)
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
    cw = codes.build_crosswalk(old, new)
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
