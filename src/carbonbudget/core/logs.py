"""Logging for pipeline steps: one log file per job, timings, tracebacks kept in the log.

A step that fails on a :class:`~carbonbudget.core.errors.CarbonBudgetError` (an input or a setting
to fix) prints one block on the terminal (file, variable, problem, fix, where the log is) and ends
the job with status 1; the traceback goes to the job's log only. Any other exception is a bug: its
traceback is printed once, on the terminal and in the log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from carbonbudget.core.errors import CarbonBudgetError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


class _ConsoleFormatter(logging.Formatter):
    """Leaves out the traceback of records marked ``brief`` (kept in the log file)."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "brief", False):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


def console_format(step: str) -> str:
    """The format of a job's console lines: time, level, the job in brackets, the message (the
    log file keeps the full date and the logger's name)."""
    return f"%(asctime)s %(levelname)s [{step.replace('%', '%%')}] %(message)s"


def job_line(msg: dict) -> str:
    """Snakemake's block for a job it starts (rule, every input and output, reason, resources:
    the demo's ``publish`` job alone is 8,698 characters) as one console line: the time, the
    job's id, its rule and wildcards, named as the job's own lines name it."""
    what = " ".join([msg["rule_name"], *map(str, (msg.get("wildcards") or {}).values())])
    if msg.get("rule_msg"):  # a rule's own message: directive says what it does
        what = f"{what}: {msg['rule_msg']}"
    return f"{time.strftime('%H:%M:%S')} job {msg['jobid']} [{what}]"


def short_job_blocks(logger: logging.Logger, keep_blocks: Callable[[], bool] = bool) -> bool:
    """Snakemake's console prints each starting job as :func:`job_line` instead of its block,
    except while ``keep_blocks()`` (a dry run, which is read for its blocks: what would run,
    from which input, and why); its log file (``.snakemake/log/``, copied to the run's logs)
    keeps the blocks, and a failed job's error block is printed as before (``--quiet rules``
    would hide that too). Returns whether Snakemake's console handler was found."""
    found = False
    for handler in logger.handlers:
        formatter = handler.formatter
        if isinstance(handler, logging.FileHandler) or not hasattr(formatter, "format_job_info"):
            continue
        # Snakemake's DefaultFormatter formats each event by a method of its own; replacing that
        # of the console's formatter leaves the log file's formatter (another instance) as it is
        block = formatter.format_job_info  # type: ignore[union-attr]

        def format_job_info(msg: dict, block=block) -> str:
            return block(msg) if keep_blocks() else job_line(msg)

        formatter.format_job_info = format_job_info  # type: ignore[union-attr]
        found = True
    return found


def _peak_mib() -> int:
    """The peak resident memory of this process (MiB)."""
    # lazy: Unix only (the job's peak; Windows has no resource module)
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


@contextlib.contextmanager
def log_to(path: str | None, step: str = "step") -> Iterator[logging.Logger]:
    """Send the package's logs (logger ``carbonbudget`` and its children) to ``path`` and
    stderr for the duration of a step; log its duration. On an exception the step ends with
    ``SystemExit(1)`` after the error was reported once (see the module's docstring). Other
    loggers are left as they are."""
    root = logging.getLogger("carbonbudget")
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    console = logging.StreamHandler()
    # jobs run side by side: every console line says which job (and year) wrote it
    console.setFormatter(_ConsoleFormatter(console_format(step), datefmt="%H:%M:%S"))
    handlers: list[logging.Handler] = [console]
    if path:
        handlers.append(logging.FileHandler(path, mode="w"))
        handlers[-1].setFormatter(logging.Formatter(fmt))
    for h in handlers:
        root.addHandler(h)
    old = root.level
    root.setLevel(logging.INFO)
    log = logging.getLogger("carbonbudget")
    t0, cpu0 = time.perf_counter(), time.process_time()
    log.info("started")  # the console line names the job, the log file is the job's
    try:
        yield log
        # Snakemake's benchmark files cannot see the memory of a job the job server ran; the CPU
        # time (every thread) against the wall time says whether a job computed or waited (for
        # the disk, for a lock)
        log.info(
            "done in %.1f s (CPU %.1f s, peak memory %d MiB)",
            time.perf_counter() - t0,
            time.process_time() - cpu0,
            _peak_mib(),
        )
    except CarbonBudgetError as err:
        where = f"\n  log:      {path} (with the traceback)" if path else ""
        log.error(
            "%s: stopped after %.1f s: %s\n%s%s",
            step,
            time.perf_counter() - t0,
            err.headline,
            "\n".join(err.block()),
            where,
            exc_info=True,
            extra={"brief": True},
        )
        raise SystemExit(1) from None
    except Exception:
        log.exception(
            "%s: failed after %.1f s (a bug: please report it)", step, time.perf_counter() - t0
        )
        raise SystemExit(1) from None
    finally:
        for h in handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(old)


def keep_run_log(log_paths: list[str], logs_dir: str) -> list[str]:
    """Snakemake's own log of this run, also under ``<logs_dir>/snakemake/``: Snakemake writes
    it to ``.snakemake/log/`` beside the Snakefile, away from the results and the job logs. A
    hard link (a symbolic link across file systems) rather than a copy, so it holds the run's
    last lines too. Returns the paths made."""
    made = []
    for src in log_paths:
        dst = os.path.join(logs_dir, "snakemake", os.path.basename(src))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            continue
        try:
            os.link(src, dst)
        except OSError:
            os.symlink(os.path.abspath(src), dst)
        made.append(dst)
    return made


# What SLURM writes into a job's log when it stops the job, and the setting that fixes it
_CLUSTER_KILLS = (
    ("exceeded memory limit", "mem_mb"),
    ("out of memory", "mem_mb"),
    ("oom-kill", "mem_mb"),
    ("due to time limit", "runtime"),
)


def cluster_failures(snakemake_logs: list[str] | str | None) -> list[str]:
    """For each job of a run that the cluster stopped (a SLURM log beside its rule's log in an
    "Error in rule" block of Snakemake's logs of the run, ``log`` in ``onerror``): the rule, its
    log (which names the year), SLURM's own reason and the resource to raise. Snakemake prints
    the rule's log first and stops at one that does not exist, which is the case when SLURM
    kills a job before it starts writing: then SLURM's reason would not be on the screen."""
    if isinstance(snakemake_logs, str):
        snakemake_logs = [snakemake_logs]
    text = "".join(
        Path(p).read_text(errors="replace") for p in snakemake_logs or [] if Path(p).exists()
    )
    out = []
    for m in re.finditer(r"Error in rule (\S+):\n((?:    .*\n)+)", text):
        rule, block = m.group(1), m.group(2)
        logs = re.search(r"^    log: (.*?) \(check log", block, re.M)
        paths = logs.group(1).split(", ") if logs else []
        cluster = [p for p in paths if "slurm_logs" in p and Path(p).exists()]
        if not cluster:
            continue
        reasons = [
            line.split("error: ", 1)[-1].strip()
            for line in Path(cluster[0]).read_text(errors="replace").splitlines()
            if "error" in line.lower()
        ]
        reason = next(iter(dict.fromkeys(reasons)), "no reason in the SLURM log")
        fix = next((f for key, f in _CLUSTER_KILLS if key in " ".join(reasons).lower()), None)
        own = [p for p in paths if p not in cluster]
        out.append(
            f"carbonbudget: rule {rule} ({', '.join(own) or 'no log'}) was stopped by SLURM: "
            f"{reason} (SLURM log {cluster[0]})"
            + (
                f"; fix: raise its {fix} (set-resources in the profile, or --set-resources "
                f"{rule}:{fix}=...)"
                if fix
                else ""
            )
        )
    return out
