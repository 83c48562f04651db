"""Logging for pipeline steps: one log file per job, timings, tracebacks kept in the log."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def log_to(path: str | None, step: str = "step") -> Iterator[logging.Logger]:
    """Send the package's logs (logger ``carbonbudget`` and its children) to ``path`` and
    stderr for the duration of a step; log its duration and any exception with its traceback
    before re-raising it. Other loggers are left as they are."""
    root = logging.getLogger("carbonbudget")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if path:
        handlers.append(logging.FileHandler(path, mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    old = root.level
    root.setLevel(logging.INFO)
    log = logging.getLogger("carbonbudget")
    t0 = time.perf_counter()
    log.info("%s: started", step)
    try:
        yield log
        log.info("%s: done in %.1f s", step, time.perf_counter() - t0)
    except Exception:
        log.exception("%s: failed after %.1f s", step, time.perf_counter() - t0)
        raise
    finally:
        for h in handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(old)
