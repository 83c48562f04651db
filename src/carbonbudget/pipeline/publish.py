"""The results directory a user reads: published only from complete runs, written by one run at
a time.

Snakemake deletes a job's outputs before it runs the job, so a rerun that fails would leave the
results of the last good run half-deleted. Every rule therefore writes into a working tree
(``<outputs.dir>/.work``) and the last step, rule ``publish``, hard-links the deliverables into
``<outputs.dir>`` only once every job has succeeded: each file is replaced atomically, files an
earlier publish put there and the run no longer makes are removed, and nothing else in the
folder is touched. Hard links cost no space; a rerun that rewrites a working file gives it a new
inode and leaves the published one as it was until the next publish.

A lock file in ``<outputs.dir>`` makes a second run on the same results refuse to start while
the first one runs; a lock whose process is gone (a crashed or killed run) is taken over.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
import socket
import sys
from pathlib import Path

from carbonbudget.core.config import WORK_DIR
from carbonbudget.core.errors import CarbonBudgetError

log = logging.getLogger(__name__)

LOCK_FILE = ".carbonbudget.lock"  # under outputs.dir: the run writing it now
MANIFEST = ".published.json"  # under outputs.dir: what the last publish put there
# temporary names of io.atomic_output and io.write_cogs, left behind by a killed job
STALE_PATTERNS = (".*.partial*", ".*.blocks.tif", ".*.publish-*")


class ResultsLockedError(CarbonBudgetError):
    """Another run is writing the same results directory."""


def work_dir(results_dir: str) -> str:
    """The working tree every job writes into: <results_dir>/.work."""
    return f"{results_dir}/{WORK_DIR}"


def _published_files(paths: list[str], work: Path) -> dict[str, Path]:
    """{path relative to the working tree: file} of every file of ``paths`` (a directory output
    stands for the files in it)."""
    out = {}
    for p in map(Path, paths):
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            rel = f.relative_to(work).as_posix()
            if not any(part.startswith(".") for part in Path(rel).parts):
                out[rel] = f
    return out


def _raster_styles(files: dict[str, Path]) -> dict[str, Path]:
    """The QGIS style sidecar of every published raster, written beside it in the working tree
    (:mod:`carbonbudget.outputs.raster_styles`), so it is published and removed with it."""
    # lazy: rasterio costs start-up the Snakefile, which imports this module, must not pay
    from carbonbudget.outputs.raster_styles import write_raster_style

    out = {}
    for rel, src in files.items():
        if src.suffix == ".tif":
            style = write_raster_style(src)
            if style is not None:
                out[str(Path(rel).with_suffix(".qml").as_posix())] = style
    return out


def _place(src: Path, dst: Path) -> bool:
    """Put ``src`` at ``dst`` atomically (a hard link, or a copy across file systems); False if
    ``dst`` already is ``src``."""
    if dst.exists() and os.path.samefile(src, dst):
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.publish-{os.getpid()}")
    if tmp.exists():
        tmp.unlink()
    try:
        os.link(src, tmp)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)
    return True


def _stamp_finished(path: Path) -> None:
    """Replace the published provenance.json (a link into the working tree) by a copy that
    records when the run finished: the working tree's copy is written early in the run, by a
    job that cannot know."""
    record = json.loads(path.read_text())
    record["run_finished_utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    tmp = path.with_name(f".{path.name}.publish-{os.getpid()}")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    os.replace(tmp, path)


def publish(paths: list[str], *, results_dir: str) -> dict:
    """Link the deliverables ``paths`` (files or directories inside the working tree of
    ``results_dir``) into ``results_dir`` at the same relative place, remove the files the
    previous publish placed there that are no longer among them, and record the set in
    ``results_dir/.published.json``. Returns counts of placed, unchanged and removed files."""
    results = Path(results_dir)
    work = Path(work_dir(results_dir))
    files = _published_files(paths, work)
    files |= _raster_styles(files)
    manifest = results / MANIFEST
    before = set(json.loads(manifest.read_text())["files"]) if manifest.exists() else set()
    placed = sum(_place(src, results / rel) for rel, src in files.items())
    if "provenance.json" in files:
        _stamp_finished(results / "provenance.json")
    removed = 0
    for rel in sorted(before - set(files)):
        target = results / rel
        if target.is_file():
            target.unlink()
            removed += 1
            _prune_empty(target.parent, results)
    tmp = manifest.with_name(f"{MANIFEST}.{os.getpid()}.partial")
    tmp.write_text(json.dumps({"files": sorted(files)}, indent=1))
    os.replace(tmp, manifest)
    counts = {"placed": placed, "unchanged": len(files) - placed, "removed": removed}
    log.info(
        "published %d files into %s (%d new or changed, %d removed)",
        len(files),
        results,
        placed,
        removed,
    )
    return counts


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def remove_stale_temporaries(results_dir: str) -> list[str]:
    """Delete the temporary files a killed job left in the results (and working) tree; called at
    the start of a run, once it holds the lock, so no running job owns them."""
    root = Path(results_dir)
    gone = []
    if root.is_dir():
        for pattern in STALE_PATTERNS:
            for f in root.rglob(pattern):
                if f.is_file():
                    f.unlink()
                    gone.append(str(f))
    if gone:
        log.warning(
            "removed %d temporary files of an earlier run that did not finish: %s",
            len(gone),
            ", ".join(gone[:5]),
        )
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_lock(results_dir: str) -> Path:
    """Take the results directory for this process (``<results_dir>/.carbonbudget.lock``).

    A lock held by a live process raises :class:`ResultsLockedError` naming it; a lock of a
    process that no longer exists on this host is taken over with a warning. A lock written on
    another host cannot be checked and is refused with the command that removes it."""
    results = Path(results_dir)
    results.mkdir(parents=True, exist_ok=True)
    path = results / LOCK_FILE
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "cwd": os.getcwd(),
        "command": " ".join(sys.argv),
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                other = json.loads(path.read_text())
            except (OSError, ValueError):  # being written this instant, or garbage
                other = {}
            same_host = other.get("host") == me["host"]
            if other and same_host and not _alive(int(other.get("pid", -1))):
                log.warning(
                    "%s: taking over the lock of run %s (started %s), which is no longer running",
                    results,
                    other.get("pid"),
                    other.get("started"),
                )
                path.unlink(missing_ok=True)
                continue
            where = "" if same_host else f" on host {other.get('host')}"
            raise ResultsLockedError(  # noqa: B904 (the open failed: another run holds the lock)
                f"{results} is being written by another run: pid {other.get('pid')}{where}, "
                f"started {other.get('started')} in {other.get('cwd')} "
                f"({other.get('command')}). Wait for it to finish, or give this run another "
                f"outputs.dir. If no such run is active any more, remove the lock: rm {path}"
            )
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        return path
    raise ResultsLockedError(f"{path}: could not take the lock; remove it if no run is active")


def release_lock(results_dir: str) -> None:
    """Remove the lock if this process holds it."""
    path = Path(results_dir) / LOCK_FILE
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def start_run(results_dir: str) -> None:
    """What a run does before its first job: take the lock, then clear what a killed run left."""
    acquire_lock(results_dir)
    remove_stale_temporaries(results_dir)
