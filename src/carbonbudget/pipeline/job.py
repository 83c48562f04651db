"""What a stage is: a function named after its rule that reads a Snakemake job.

Each module of :mod:`carbonbudget.pipeline.stages` holds the stages of one rule file
(``workflow/rules/<name>.smk`` runs ``workflow/scripts/<name>.py``, which runs
``carbonbudget.pipeline.stages.<name>``). A stage reads the files its rule names, calls the
library, which computes, and writes the rule's outputs. ``job`` is Snakemake's ``snakemake``
object, or any object with the same attributes (the tests build one without Snakemake).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from carbonbudget.core.io import configure_gdal_cache, configure_huge_pages
from carbonbudget.core.logs import log_to


class Job(Protocol):
    """What a stage reads of a job: Snakemake's ``snakemake`` object has these attributes."""

    rule: str
    input: Any
    output: Any
    params: Any
    wildcards: Any
    threads: int
    log: Any


class Stages:
    """The stages of one rule file, by rule name: ``stage = Stages()`` in the module, then
    ``@stage()`` over each function (``@stage("other_rule")`` when one function serves a second
    rule built from the same definition)."""

    def __init__(self) -> None:
        self.by_rule: dict[str, Callable[[Job], object]] = {}

    def __call__(self, *rules: str) -> Callable[[Callable], Callable]:
        """Register the decorated function as the stage of its rule and of ``rules``."""

        def register(fn):
            for name in (fn.__name__, *rules):
                self.by_rule[name] = fn
            return fn

        return register

    def run(self, job: Job) -> None:
        """Run the stage of ``job.rule`` with its log file (timings, and the error once, as
        one block, if it fails)."""
        label = job.rule + "".join(f" {v}" for v in dict(job.wildcards.items()).values())
        config = getattr(job, "config", None) or {}
        processing = config.get("processing", {})
        configure_gdal_cache(processing.get("gdal_cachemax_mb"))
        configure_huge_pages(processing.get("huge_pages", False))
        with log_to(job.log[0] if job.log else None, label):
            profile_dir = os.environ.get(PROFILE_ENV)
            if profile_dir:
                _profiled(self.by_rule[job.rule], job, profile_dir, label)
            else:
                self.by_rule[job.rule](job)


# a folder: each stage writes its cProfile statistics there as <rule>[_<wildcards>].prof
# (docs/performance.md, "Profiling a run")
PROFILE_ENV = "CARBONBUDGET_PROFILE"


def _profiled(fn: Callable[[Job], object], job: Job, folder: str, label: str) -> None:
    """Run ``fn(job)`` under cProfile and write its statistics to ``folder``."""
    # lazy: only a profiled run needs the profiler
    import cProfile

    os.makedirs(folder, exist_ok=True)
    profiler = cProfile.Profile()
    try:
        profiler.runcall(fn, job)
    finally:
        profiler.dump_stats(os.path.join(folder, label.replace(" ", "_") + ".prof"))


def optional(value):
    """A Snakemake input that may be an empty list: the path, or None."""
    return value if value else None
