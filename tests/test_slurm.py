"""The demo through the SLURM profile on a real one-node SLURM cluster (ci/slurm-up.sh), against
a local run: every job submitted, the same bytes, and a job SLURM kills reported and rerun
(docs/cluster.md)."""

import re
import shutil
import subprocess
import time

import pytest
from helpers import copy_workflow, run_snakemake, snakemake_bin


def _slurm_up() -> str | None:
    """Why the SLURM tests cannot run here, or None when a node is up."""
    if not shutil.which("sinfo") or not shutil.which("sbatch"):
        return "no SLURM on this machine (ci/slurm-up.sh installs and starts a one-node cluster)"
    proc = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    if proc.returncode != 0 or not {"idle", "mix", "alloc"} & set(proc.stdout.split()):
        why = proc.stderr.strip() or proc.stdout.strip()
        return f"SLURM is installed but no node is up ({why}): run ci/slurm-up.sh"
    return None


pytestmark = [
    pytest.mark.workflow,
    pytest.mark.rare,
    pytest.mark.skipif(_slurm_up() is not None, reason=str(_slurm_up())),
]

# the demo's first two years, up to the budget tables of every level
YEARS = "years: [2001, 2002]\n"
TARGETS = [
    "results/.work/interim/zonal/county_2001.parquet",
    "results/.work/interim/zonal/county_2002.parquet",
    "results/.work/tables/budget_county.csv",
]
# what a user of this one-node cluster adds to the shipped profile (docs/cluster.md): its
# partition, no
# account, squeue for the job states (no accounting database), at most its 2 cores per job
SLURM_ARGS = [
    "--profile",
    "workflow/profiles/slurm",
    "--default-resources",
    "slurm_partition=debug",
    "mem_mb=1000",
    "runtime=10",
    "--slurm-no-account",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--max-threads",
    "2",
]


def _slurm(work, *args):
    """Snakemake through the SLURM profile in ``work`` (its own Snakefile)."""
    return subprocess.run(
        [snakemake_bin(), "--directory", str(work), "-s", str(work / "Snakefile"), *SLURM_ARGS]
        + ["--configfile", str(work / "config/config.yaml"), str(work / "years.yaml")]
        + [*args, "--", *TARGETS],
        capture_output=True,
        text=True,
        timeout=900,
    )


def _tables(work):
    return {
        p.name: p.read_bytes() for p in sorted((work / "results/.work/tables").glob("budget_*"))
    }


def test_demo_through_slurm_equals_a_local_run_and_a_killed_job_is_reported_and_rerun(tmp_path):
    local = copy_workflow(tmp_path / "local")
    (local / "years.yaml").write_text(YEARS)
    t0 = time.perf_counter()
    proc = run_snakemake(
        local,
        *TARGETS,
        "--configfile",
        str(local / "config/config.yaml"),
        str(local / "years.yaml"),
    )
    t_local = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]

    # first through SLURM with a memory request the per-year jobs exceed: SLURM kills them and
    # the run stops naming the rule, the year (in the log path) and both logs, with SLURM's
    # reason in its log
    work = copy_workflow(tmp_path / "slurm")
    (work / "years.yaml").write_text(YEARS)
    t0 = time.perf_counter()
    proc = _slurm(work, "--set-resources", "process_year:mem_mb=50", "--retries", "0")
    t_first = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Error in rule process_year" in out and "SLURM status is: 'FAILED'" in out
    log = r"log: results/logs/process_year/200[12]\.log, \S+/rule_process_year/200[12]/\d+\.log"
    assert re.search(log, out), out[-3000:]
    # and carbonbudget says what SLURM said and what to raise (Snakemake stops printing logs at
    # the rule's log, which a job killed before it starts writing does not have)
    said = re.search(
        r"rule process_year \(results/logs/process_year/200[12]\.log\) was stopped by "
        r"SLURM: .*exceeded memory limit.*raise its mem_mb",
        out,
    )
    assert said, out[-3000:]
    first = _submitted(out)
    assert "Rule: build_regions" in out  # the jobs before it ran through SLURM too

    # with the usual resources a rerun redoes what was killed, every job through sbatch, and
    # gives the local run's bytes
    t0 = time.perf_counter()
    proc = _slurm(work)
    t_rerun = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    ids = _submitted(out)
    n_jobs = int(re.search(r"(\d+) of (\d+) steps \(100%\) done", out).group(2))
    assert len(ids) == n_jobs >= 3 and "Rule: process_year" in out
    states = subprocess.run(
        ["squeue", "--states=all", "-h", "-o", "%i %T", "-j", ",".join(ids)],
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    assert sorted(s for s in states if s) == sorted(f"{i} COMPLETED" for i in ids)
    assert _tables(work) == _tables(local) and len(_tables(local)) == 10
    print(
        f"demo, 2 years to the budget tables: local {t_local:.0f} s; through SLURM "
        f"{t_first:.0f} s until the kill ({len(first)} jobs) + {t_rerun:.0f} s ({len(ids)} jobs)"
    )


def _submitted(out: str) -> list[str]:
    """The SLURM job ids Snakemake reports having submitted."""
    return re.findall(r"has been submitted with SLURM jobid (\d+)", out)
