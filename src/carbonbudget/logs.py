"""Logging for pipeline steps: one log file per job, timings, tracebacks kept in the log.

A step that fails on a :class:`~carbonbudget.errors.CarbonBudgetError` (an input or a setting to
fix) prints one block on the terminal (file, variable, problem, fix, where the log is) and ends
the job with status 1; the traceback goes to the job's log only. Any other exception is a bug:
its traceback is printed once, on the terminal and in the log.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


class _ConsoleFormatter(logging.Formatter):
    """Leaves out the traceback of records marked ``brief`` (kept in the log file)."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "brief", False):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


@contextlib.contextmanager
def log_to(path: str | None, step: str = "step") -> Iterator[logging.Logger]:
    """Send the package's logs (logger ``carbonbudget`` and its children) to ``path`` and
    stderr for the duration of a step; log its duration. On an exception the step ends with
    ``SystemExit(1)`` after the error was reported once (see the module's docstring). Other
    loggers are left as they are."""
    from .errors import CarbonBudgetError

    root = logging.getLogger("carbonbudget")
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    console = logging.StreamHandler()
    console.setFormatter(_ConsoleFormatter(fmt))
    handlers: list[logging.Handler] = [console]
    if path:
        handlers.append(logging.FileHandler(path, mode="w"))
        handlers[-1].setFormatter(logging.Formatter(fmt))
    for h in handlers:
        root.addHandler(h)
    old = root.level
    root.setLevel(logging.INFO)
    log = logging.getLogger("carbonbudget")
    t0 = time.perf_counter()
    log.info("%s: started", step)
    try:
        yield log
        log.info("%s: done in %.1f s", step, time.perf_counter() - t0)
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
    import os

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
