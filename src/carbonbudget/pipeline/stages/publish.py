"""The last step of a run (rule ``publish`` of the Snakefile).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

from carbonbudget.pipeline import publish as results
from carbonbudget.pipeline.job import Job, Stages

stage = Stages()


@stage()
def publish(job: Job) -> None:
    """Link the run's deliverables from the working tree into the results folder."""
    results.publish(list(job.input), results_dir=job.params.results)
