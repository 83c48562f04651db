"""The synthetic demo inputs (rule file workflow/rules/demo.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

from carbonbudget.inputs import demo
from carbonbudget.pipeline.job import Job, Stages

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def build_demo(job: Job) -> None:
    """The synthetic demo inputs under data/demo (same bytes every run)."""
    demo.build_demo(root=job.params.root, threads=job.threads)
