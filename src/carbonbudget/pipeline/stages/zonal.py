"""Zonal totals of the climatologies (workflow/rules/zonal.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

from carbonbudget.pipeline.job import Job, Stages
from carbonbudget.pipeline.stages.year import uncertainty_statistics, zonal_step

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def zonal_climatology(job: Job) -> None:
    """Finest-level totals of the fluxes that are the same every year (no year column: the
    budget gives them to every year), when no flux changes from year to year."""
    p = job.params
    zonal_step(
        p.grid,
        job.input.coverage,
        {v: job.input[v] for v in p.fluxes},
        None,
        job.output.zonal,
        uncertainty_statistics(job),
        share=job.input.get("cover_fraction"),
    )
