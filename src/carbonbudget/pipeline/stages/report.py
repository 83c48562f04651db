"""Deliverables: the GeoPackage, the web map, provenance, the budget maps and the report's items
(workflow/rules/report.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import platform

import numba
import numpy
import rasterio

from carbonbudget import __version__
from carbonbudget.core.config import config_digest, skipped_stages
from carbonbudget.core.io import atomic_output, file_digests
from carbonbudget.outputs import maps
from carbonbudget.outputs.factsheet import write_fact_sheets
from carbonbudget.outputs.geopackage import write_geopackage
from carbonbudget.outputs.report import build_report_items
from carbonbudget.outputs.webmap import write_web_map
from carbonbudget.pipeline.job import Job, Stages, optional
from carbonbudget.pipeline.paths import climatology_note
from carbonbudget.science.balance import STUDY_AREA

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def geopackage(job: Job) -> None:
    """The GeoPackage: one layer per level, column units and metadata."""
    levels = job.params.budget_levels
    write_geopackage(
        path_regions=job.input.regions,
        levels=job.params.levels,
        budget_paths=dict(zip(levels, job.input.budget)),
        region_tables={
            "trends": dict(zip(levels, job.input.trends)),
            "spatial": dict(zip(job.params.spatial_levels, job.input.spatial)),
            "decomposition": dict(zip(job.params.decomposition_levels, job.input.decomposition)),
        },
        run_info=job.params.run_info,
        series=job.params.series,
        path_out=job.output[0],
        maps=job.params.maps,
        min_valid_fraction=job.params.min_valid_fraction,
    )


@stage()
def web_map(job: Job) -> None:
    """The web map: the finest and the coarsest level in one offline HTML page."""
    write_web_map(
        path_regions=job.input.regions,
        levels=job.params.levels,
        budget_paths=dict(zip(job.params.levels, job.input.budget)),
        path_out=job.output[0],
        maps=job.params.maps,
        min_valid_fraction=job.params.min_valid_fraction,
    )


@stage()
def fact_sheets(job: Job) -> None:
    """One page per region of the chosen level (outputs.fact_sheets)."""
    write_fact_sheets(
        path_regions=job.input.regions,
        level=job.params.level,
        budget_path=job.input.budget,
        trends_path=job.input.trends,
        out_dir=job.output[0],
    )


@stage()
def provenance(job: Job) -> None:
    """Package version, config digest, input digests and the run time (the only timestamp)."""
    config = job.params.config
    record = {
        "carbonbudget_version": __version__,
        "run_time_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config_digest": config_digest(config),
        "config": config,
        "skipped_stages": skipped_stages(config),
        "climatologies": climatology_note(config),
        "inputs": file_digests(
            sorted(set(job.input.raw)), job.params.digest_cache, job.params.full_digests
        ),
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
    maps.plot_budget_maps(
        path_regions=job.input.regions,
        level=job.wildcards.level,
        budget_path=job.input.budget,
        trends_path=job.input.trends,
        decomposition_path=optional(job.input.decomposition),
        sources_path=optional(job.input.sources),
        out_paths={k: job.output[k] for k in job.params.kinds},
        min_valid_fraction=job.params.min_valid_fraction,
        maps=job.params.maps,
        outline_level=job.params.outline_level,
    )


@stage()
def report_items(job: Job) -> None:
    """Headline tables and quick-look maps of the HTML report."""
    build_report_items(
        budget_study_area=job.input.study_area,
        budget_finest=job.input.finest,
        finest=job.params.finest,
        regions=job.input.regions,
        outline_level=job.params.outline_level,
        rasters=job.params.rasters,
        model_skill=optional(job.input.skill),
        tables={
            "decomposition": (
                (job.input.decomposition, job.params.climatologies)
                if job.input.decomposition
                else None
            ),
            "sources": optional(job.input.sources),
            "by_fuel": optional(job.input.by_fuel),
            "regions_decomposition": (
                (job.input.regions_decomposition, job.params.decomposition_level)
                if job.input.regions_decomposition
                else None
            ),
        },
        out=dict(job.output.items()),
        maps=job.params.maps,
    )
