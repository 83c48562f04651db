"""Per-pixel fluxes of the climatologies (workflow/rules/fluxes.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

from carbonbudget.core.config import CLIMATOLOGY
from carbonbudget.pipeline.job import Job, Stages
from carbonbudget.pipeline.stages.year import fluxes_step

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def fluxes_climatology(job: Job) -> None:
    """Per-pixel fluxes whose inputs are all climatologies, once for every year."""
    p = job.params
    fluxes_step(
        p.grid,
        p.timestep,
        dict(job.input.items()),
        {v: job.output[v] for v in p.fluxes},
        CLIMATOLOGY,
        p.chunk_size,
        job.threads,
        p.dask,
    )
