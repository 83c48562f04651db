"""Running the workflow as a user does: lint, profiles, a user's own config, a misspelt key,
make check, the end-of-run summary, a gridded inventory in place of a table, a dask cluster."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from helpers import (
    REPO,
    copy_workflow,
    planned_jobs,
    run_snakemake,
    snakemake_bin,
)

from carbonbudget.core.grid import Grid
from carbonbudget.inputs.demo_files import DEMO_YEARS

pytestmark = pytest.mark.workflow
OWN_DATA = (REPO / "docs" / "own-data.md").read_text()


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory):
    """The demo's input files (data/demo, as rule build_demo writes them), for the tests that
    run their own DAG on them: they need no results of the demo's run, so they stay off the
    worker that runs it (tests/conftest.py)."""
    from carbonbudget.inputs.demo import build_demo

    root = tmp_path_factory.mktemp("demo_inputs")
    build_demo(str(root / "data/demo"), threads=2)
    return root / "data"


def test_snakemake_lint_passes():
    proc = subprocess.run([snakemake_bin(), "--lint"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_slurm_profile_passes_a_dry_run(tmp_path):
    work = copy_workflow(tmp_path / "w")  # a dry run of every job needs no input yet
    proc = run_snakemake(
        work, "-n", "--forceall", "--profile", str(REPO / "workflow/profiles/slurm")
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = planned_jobs(work, "--forceall", "--profile", str(REPO / "workflow/profiles/slurm"))
    assert jobs["process_year"] == len(DEMO_YEARS) and jobs["pixel_trends"] == 4
    assert jobs["grid_budget"] == 1


def test_the_workstation_profile_is_used_without_being_named(tmp_path):
    """profiles/default sits where Snakemake looks for a workflow profile (beside the Snakefile),
    so its settings (rerun-incomplete, the memory cap) apply to a plain ``snakemake`` run, also
    when it is started from another directory."""
    proc = subprocess.run(
        [snakemake_bin(), "-n", "--cores", "1", "-s", str(REPO / "Snakefile"), "-d", str(REPO)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"workflow specific profile {REPO / 'profiles/default'}" in proc.stdout + proc.stderr


def test_misspelt_config_key_fails_before_running(tmp_path):
    import yaml

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["runoff"]["unitz"] = "mm yr-1"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [snakemake_bin(), "-n", "--cores", "1", "--configfile", str(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "'unitz' was unexpected" in proc.stdout + proc.stderr


def test_a_users_configfile_replaces_the_demo_config(tmp_path):
    """--configfile is complete by itself: no demo section leaks in (here spatial.levels, which the
    demo restricts to county and city; the schema default is every level)."""
    import yaml

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    del cfg["spatial"], cfg["socioeconomic"]
    cfg["balance"]["cv"] = "none"
    cfg["outputs"]["dir"] = str(tmp_path / "out")
    user = tmp_path / "user.yaml"
    user.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = subprocess.run(
        [snakemake_bin(), "-n", "--cores", "1", "--configfile", str(user)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "out/.work/tables/moran_province.csv" in proc.stdout


def test_a_finished_run_ends_by_saying_what_it_made(demo_run):
    """The last lines of the demo run name the outputs and the study area's last year, with the
    numbers of the published table."""
    import pandas as pd

    seen = (demo_run / "run.log").read_text().splitlines()
    start = max(i for i, line in enumerate(seen) if "carbonbudget: finished" in line)
    tail = "\n".join(seen[start:])
    assert (
        "results/gis/carbon_budget.gpkg" in tail and "results/figures/maps/cnc_county.png" in tail
    )
    study = pd.read_csv(demo_run / "results/tables/budget_study_area.csv").iloc[-1]
    assert f"study area {int(study['year'])}: ECS {study['ecs_tgco2']:,.2f} Tg CO2 yr-1" in tail
    # the demo's sink is known on 95 % of the study area (water has no NPP): said in the headline
    share = f"the sink is known on {100 * study['valid_fraction']:.0f} % of the study area"
    assert f"CNC {study['cnc_tgco2']:,.2f} Tg CO2 yr-1 ({study['status']}; {share}" in tail
    assert len(seen) - start < 20  # at the end, not buried


def test_each_line_a_job_logs_names_the_job(demo_run):
    """Jobs run side by side: every line a job logs on the terminal names the job and its year;
    Snakemake's block for each job it starts (every input and output: the publish job's input
    line alone is 8,698 characters) is one line naming the job the same way, and stays whole
    in Snakemake's log."""
    seen = (demo_run / "run.log").read_text().splitlines()
    jobs = [line for line in seen if " INFO [" in line]
    assert any("INFO [process_year 2005] " in line for line in jobs)
    # Snakemake writes a message and its line end in two writes: under load a job's line can
    # come between them, after Snakemake's text ("Finished jobid: 34 (Rule: x)06:25:26 INFO [").
    # What is ours, from its time stamp on, is one whole line naming its job.
    for line in jobs:
        at = re.search(r"\d\d:\d\d:\d\d INFO \[", line)
        assert at and re.match(r"\d\d:\d\d:\d\d INFO \[[a-z_]+[^\]]*\] ", line[at.start() :])
        assert len(re.findall(r"\d\d:\d\d:\d\d INFO ", line)) == 1, line
    started = [line for line in seen if re.fullmatch(r"\d\d:\d\d:\d\d job \d+ \[.+\]", line)]
    years = [line for line in started if "[process_year " in line]
    assert len(years) == 10 and any(line.endswith(" [process_year 2005]") for line in years)
    assert any(line.endswith(" [publish]") for line in started)
    assert not any(line.startswith(("    input:", "    output:", "    reason:")) for line in seen)
    assert max(map(len, seen)) < 1000
    logs = sorted((demo_run / ".snakemake" / "log").glob("*.snakemake.log"))
    assert "    input: " in logs[0].read_text()  # the first run's log: every block


def test_make_check_reports_every_bad_input_and_computes_nothing(demo_inputs, tmp_path):
    """`make check` (rule check_inputs) runs every check and lists every failure in one block;
    no per-year job runs. Fixed inputs pass."""
    import shutil

    import rasterio

    work = copy_workflow(tmp_path / "w")
    shutil.copytree(demo_inputs, work / "data")
    npp = work / "data/demo/npp/npp_2004.tif"
    good_npp = npp.read_bytes()
    npp.write_bytes(good_npp[: len(good_npp) // 4])
    prcp = work / "data/demo/climate/prcp_2007.tif"
    with rasterio.open(prcp, "r+") as ds:
        bad = ds.read()
        bad[0, 10, 10] = -500.0
        ds.write(bad)
    proc = run_snakemake(work, "check_inputs", "--forcerun", "check_inputs")
    seen = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "2 problems to fix" in seen and "(1 of 2)" in seen and "(2 of 2)" in seen, seen[-3000:]
    assert "npp_2004.tif" in seen and "prcp_2007.tif" in seen and "Traceback" not in seen
    assert "process_year" not in seen and "carbonbudget: finished" not in seen
    npp.write_bytes(good_npp)
    with rasterio.open(prcp, "r+") as ds:
        bad[0, 10, 10] = 50.0
        ds.write(bad)
    proc = run_snakemake(work, "check_inputs", "--forcerun", "check_inputs")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the command docs/own-data.md gives for a user's own config, as written there
    documented = re.search(r"^(snakemake check_inputs .*--configfile my\.yaml)$", OWN_DATA, re.M)
    shutil.copy(work / "config/config.yaml", work / "my.yaml")
    args = [str(work / "my.yaml") if a == "my.yaml" else a for a in documented[1].split()[1:]]
    proc = run_snakemake(work, *[a for a in args if a not in ("--cores", "all")])
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_gridded_inventory_instead_of_a_table(demo_inputs, tmp_path):
    """emissions.source: raster: a 0.05° inventory in kg CO2 m-2 s-1 (as EDGAR) of a density
    uniform in space, growing each year. Put on the grid and summed per county, each county's CE
    is that density times its area (hand-computed), every level above sums it, and the CE and
    CNC rasters sum back to the budget: the downstream stages run unchanged."""
    import shutil

    import yaml
    from rasterio.transform import from_origin

    from carbonbudget.regions.zonal import load_coverage

    work = copy_workflow(tmp_path / "w")
    shutil.copytree(demo_inputs, work / "data")
    (work / "inventory").mkdir()
    years = [2008, 2009, 2010]
    flux = {y: 1e-8 * (1 + 0.1 * (y - 2008)) for y in years}  # kg CO2 m-2 s-1
    for y in years:
        with rasterio.open(
            work / f"inventory/co2_{y}.tif",
            "w",
            driver="GTiff",
            width=100,
            height=100,
            count=1,
            dtype="float64",
            crs="EPSG:4326",
            transform=from_origin(106.0, 31.0, 0.05, 0.05),
        ) as ds:
            ds.write(np.full((1, 100, 100), flux[y]))
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["years"] = years
    del cfg["scenarios"], cfg["emissions_accounting"]
    cfg["emissions"] = {
        "source": "raster",
        "path": "inventory/co2_{year}.tif",
        "units": "kg CO2 m-2 s-1",
    }
    cfg["trends"]["variables"] = ["ecs", "ce", "cnc"]
    cfg["spatial"] = {"levels": []}  # not what this test is about: spare the permutations
    cfg["outputs"]["dir"] = "out"
    (work / "inv.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = run_snakemake(work, "--configfile", str(work / "inv.yaml"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    res = work / "out"
    report = pd.read_csv(res / "tables/emission_inventory_county.csv")
    grid = Grid.from_config(cfg)
    grid_km2 = grid.row_areas_m2().sum() * grid.width / 1e6
    for y in years:
        days = 366 if y == 2008 else 365  # kg s-1 over the seconds of that year
        density = flux[y] * 1e3 * days * 86400  # t CO2 km-2 yr-1
        row = report[report["year"] == y].iloc[0]
        assert row["grid_total_tgco2"] == pytest.approx(density * grid_km2 / 1e6, rel=1e-6)
        assert row["relative_difference"] <= 1e-6  # the inventory inside the grid, before
        assert row["cells_without_value"] == 0
        budget = pd.read_parquet(res / "tables/budget_county.parquet")
        b = budget[budget["year"] == y]
        np.testing.assert_allclose(b["ce_tgco2"], density * b["area_km2"] / 1e6, rtol=1e-6)
        assert row["regions_total_tgco2"] == pytest.approx(b["ce_tgco2"].sum(), rel=1e-9)
    province = pd.read_parquet(res / "tables/budget_province.parquet")
    county = pd.read_parquet(res / "tables/budget_county.parquet")
    np.testing.assert_allclose(
        province.groupby("year")["ce_tgco2"].sum(),
        county.groupby("year")["ce_tgco2"].sum(),
        rtol=1e-12,
    )
    codes, cov = load_coverage(str(res / ".work/interim/regions/coverage_county.npz"), grid)
    area = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    table = county[county["year"] == 2010].set_index("code").reindex(codes)
    for var in ("ce", "cnc"):
        with rasterio.open(res / f"pixels/{var}/{var}_2010.tif") as r:
            assert r.tags(1)["units"] == "t CO2 km-2 yr-1"
            x = r.read(1).astype("float64").ravel()
        summed = cov @ (area * np.nan_to_num(x)) / 1e6
        # CNC per pixel is unknown where ECS is (the lake: no NPP), while the inventory puts
        # CE there too: the sums agree where ECS covers the county (docs/method.md)
        whole = (table["valid_fraction"] == 1.0).to_numpy() if var == "cnc" else slice(None)
        assert var == "ce" or 25 <= whole.sum() < len(codes)
        np.testing.assert_allclose(summed[whole], table[f"{var}_tgco2"][whole], rtol=2e-7)
    # CE grows by 10 % of the 2008 flux a year everywhere: its OLS slope is known by hand
    with rasterio.open(res / "trends/ce_slope.tif") as r:
        assert r.tags(1)["units"] == "t CO2 km-2 yr-2"
        slope = r.read(1)
    d = {y: flux[y] * 1e3 * (366 if y == 2008 else 365) * 86400 for y in years}
    expected = np.polyfit(years, [d[y] for y in years], 1)[0]
    np.testing.assert_allclose(slope[np.isfinite(slope)], expected, rtol=1e-5)
    assert (res / "trends/cnc_slope.tif").exists()
    assert (res / "pixels/status/status_2010.tif").exists()


def test_per_pixel_rules_on_a_dask_cluster_started_from_the_command_line(demo_inputs, tmp_path):
    """A cluster user's setup: `dask scheduler` and two `dask worker` processes started from the
    command line, dask.address pointing at the scheduler; the per-year rules give the same bytes
    as a threaded run of the same targets."""
    import json
    import shutil
    import time

    import yaml

    dask_cli = Path(sys.executable).with_name("dask")
    if not dask_cli.exists():
        pytest.skip("the dask command line (distributed) is not installed")
    targets = [
        f"results/.work/pixels/{v}/{v}_{y}.tif" for v in ("nep", "ecs") for y in (2001, 2002)
    ]
    threaded = copy_workflow(tmp_path / "threaded")
    shutil.copytree(demo_inputs, threaded / "data")
    proc = run_snakemake(threaded, *targets)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    work = copy_workflow(tmp_path / "w")
    shutil.copytree(demo_inputs, work / "data")
    info = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [
                str(dask_cli),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(info),
                *common,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.time() + 60
        while not info.exists() and time.time() < deadline:
            time.sleep(0.2)
        procs += [
            subprocess.Popen(
                [
                    str(dask_cli),
                    "worker",
                    "--scheduler-file",
                    str(info),
                    "--nthreads",
                    "1",
                    "--memory-limit",
                    "2GB",
                    *common,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=work,
            )
            for _ in range(2)
        ]
        address = json.loads(info.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
        cfg["dask"] = {"scheduler": "distributed", "address": address}
        (work / "cluster.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        proc = run_snakemake(work, *targets, "--configfile", str(work / "cluster.yaml"))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    log = (work / "results/logs/process_year/2001.log").read_text()
    assert f"dask: connected to {address} (2 workers)" in log
    for rel in targets:
        assert (work / rel).read_bytes() == (threaded / rel).read_bytes(), rel


def test_the_console_prints_one_line_per_job_and_the_log_file_every_block(tmp_path):
    """short_job_blocks changes Snakemake's console formatter only: its log file keeps each
    job's block, and a dry run (keep_blocks) prints the blocks on the console too."""
    import logging

    from carbonbudget.core.logs import short_job_blocks

    class Formatter(logging.Formatter):
        def format_job_info(self, msg):
            return f"rule {msg['rule_name']}:\n    input: a very long list"

    logger = logging.getLogger("test.snakemake")
    console, logfile = logging.StreamHandler(), logging.FileHandler(tmp_path / "snakemake.log")
    for handler in (console, logfile):
        handler.setFormatter(Formatter())
        logger.addHandler(handler)
    dry = []
    try:
        assert short_job_blocks(logger, keep_blocks=lambda: bool(dry))
        msg = {"rule_name": "process_year", "wildcards": {"year": "2005"}, "jobid": 12}
        assert re.fullmatch(
            r"\d\d:\d\d:\d\d job 12 \[process_year 2005\]", console.formatter.format_job_info(msg)
        )
        assert "input:" in logfile.formatter.format_job_info(msg)
        dry.append(True)
        assert "input:" in console.formatter.format_job_info(msg)
    finally:
        for handler in (console, logfile):
            logger.removeHandler(handler)
            handler.close()


def test_a_stage_writes_its_profile_when_asked(tmp_path, monkeypatch):
    """CARBONBUDGET_PROFILE=<folder>: each stage's cProfile statistics, named after its job."""
    import pstats
    import types

    from carbonbudget.pipeline.job import PROFILE_ENV, Stages

    stage = Stages()

    @stage()
    def some_rule(job):
        return sum(range(1000))

    job = types.SimpleNamespace(
        rule="some_rule", wildcards={"year": "2003"}, log=[str(tmp_path / "job.log")]
    )
    stage.run(job)
    assert not (tmp_path / "profiles").exists()  # not asked: nothing written
    monkeypatch.setenv(PROFILE_ENV, str(tmp_path / "profiles"))
    stage.run(job)
    stats = pstats.Stats(str(tmp_path / "profiles" / "some_rule_2003.prof"))
    assert any(name == "some_rule" for _file, _line, name in stats.stats)


def test_a_stage_runs_with_numpy_huge_pages_as_its_config_says(tmp_path):
    """processing.huge_pages (off by default) is numpy's switch in the job's process, whatever
    numpy's import set from NUMPY_MADVISE_HUGEPAGE (a fork of the job server keeps the server's)."""
    import types

    from carbonbudget.core.io import _set_madvise_hugepage
    from carbonbudget.pipeline.job import Stages

    stage = Stages()
    seen = []

    @stage()
    def some_rule(job):
        previous = _set_madvise_hugepage(True)  # returns the switch as the stage found it
        _set_madvise_hugepage(previous)
        seen.append(previous)

    before = _set_madvise_hugepage(True)
    try:
        for config in (
            {},
            {"processing": {"huge_pages": False}},
            {"processing": {"huge_pages": True}},
        ):
            job = types.SimpleNamespace(
                rule="some_rule", wildcards={}, log=[str(tmp_path / "job.log")], config=config
            )
            stage.run(job)
            _set_madvise_hugepage(True)  # as numpy's import leaves it on Linux
    finally:
        _set_madvise_hugepage(before)
    assert seen == [False, False, True]
