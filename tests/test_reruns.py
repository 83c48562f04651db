"""Reruns: the same inputs give the same bytes, a new year reruns only its jobs, a failed or
killed rerun keeps the last complete results, and two runs never share a results folder."""

import subprocess

import pytest
import rasterio
from helpers import (
    REPO,
    copy_workflow,
    planned_jobs,
    run_snakemake,
    snakemake_bin,
)

pytestmark = pytest.mark.workflow


def _digests(root, pattern):
    import hashlib

    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob(pattern))
    }


def test_failure_keeps_results_then_fix_reruns_only_affected_jobs(demo_run, tmp_path):
    import shutil

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    before = _digests(work, "results/**/*.tif") | _digests(work, "results/tables/*")
    bad = work / "data/demo/runoff/runoff_2002.tif"
    good_bytes = bad.read_bytes()
    bad.write_bytes(good_bytes[: len(good_bytes) // 3])  # truncated GeoTIFF
    proc = run_snakemake(work)
    assert proc.returncode != 0
    seen = proc.stdout + proc.stderr
    # one block a person reads (file, variable, problem, fix, log); the traceback in the log only
    assert seen.count("  file:     data/demo/runoff/runoff_2002.tif") == 1, seen[-3000:]
    assert seen.count("  fix:      ") == 1 and "Traceback" not in seen
    # the failed job's block says which job failed, though jobs start as one line each
    assert "Error in rule process_year:" in seen
    assert "log: results/logs/process_year/2002.log (check log" in seen
    assert "Traceback" in (work / "results/logs/process_year/2002.log").read_text()
    after = _digests(work, "results/**/*.tif") | _digests(work, "results/tables/*")
    published = {k: v for k, v in before.items() if not k.startswith("results/.work/")}
    assert {k: v for k, v in after.items() if not k.startswith("results/.work/")} == published
    assert all(after[k] == before[k] for k in after)  # nothing half-written
    # Snakemake removes a job's outputs before running it: the failed process_year 2002 lost
    # its own staged files (rebuilt by the rerun) and nothing else (CE and CNC of 2002 are
    # grid_budget's, which never ran)
    assert set(before) - set(after) == {
        k
        for k in before
        if k.startswith("results/.work/")
        and "2002" in k
        and not k.startswith(
            (
                "results/.work/pixels/ce/",
                "results/.work/pixels/cnc/",
                "results/.work/pixels/status/",
            )
        )
    }

    # fix it with corrected data (runoff 2 % higher): only 2002 and the all-years jobs rerun
    bad.write_bytes(good_bytes)
    with rasterio.open(bad, "r+") as ds:
        ds.write(ds.read() * 1.02)
    jobs = planned_jobs(work)
    assert jobs.get("process_year") == 1  # check, align, fluxes, zonal totals of 2002
    for rule in ("check_static", "align_lithology", "build_regions", "build_demo"):
        assert rule not in jobs, jobs
    # run what the assertion needs (every year's pixels): the all-year jobs were planned above
    proc = run_snakemake(
        work,
        *(k for k in sorted(before) if k.startswith("results/.work/pixels/")),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = _digests(work, "results/.work/pixels/**/*.tif")
    changed = {k for k in final if final[k] != before[k.replace(".work/", "")]}
    # runoff changes RCS, hence ECS, CNC = ECS - CE and its sign; CE does not depend on it
    assert changed == {
        f"results/.work/pixels/{v}/{v}_2002.tif" for v in ("rcs", "ecs", "cnc", "status")
    }
    # the deliverables stay those of the last complete run until rule publish runs
    assert _digests(work, "results/pixels/**/*.tif") == {
        k: v for k, v in before.items() if k.startswith("results/pixels/")
    }


# One target of each all-year stage: forcing these reruns each rule once (not the whole DAG).
# The per-year stages (alignment, fluxes, zonal totals) are checked for the same bytes from a
# second run in test_new_year_reruns_only_its_jobs_and_the_all_year_ones.
ONE_JOB_PER_RULE = [
    "results/.work/tables/budget_county.csv",  # budget
    "results/.work/tables/budget.xlsx",  # budget_workbook
    "results/.work/tables/trends_county.csv",  # region_trends
    "results/.work/interim/zonal/county_rh_parts.parquet",  # rh_attribution
    "results/.work/tables/spatial_county.csv",  # spatial_statistics
    "results/.work/gis/carbon_budget.gpkg",  # geopackage
    "results/.work/web/map.html",  # web_map
    "results/.work/tables/scenarios_study_area.csv",  # scenario_projection
    "results/.work/tables/tier1_comparison_province.csv",  # tier1_emissions
]


def test_rerun_with_same_inputs_gives_identical_outputs(demo_run, tmp_path):
    """The all-year stages are deterministic: one job of each rerun (--force) on unchanged inputs
    writes byte-identical files (a whole-DAG --forceall took as long as the demo run)."""
    import shutil

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    patterns = (
        "results/.work/tables/*",
        "results/.work/pixels/**/*.tif",
        "results/.work/trends/*.tif",
        "results/.work/interim/**/*.tif",
        "results/.work/interim/**/*.parquet",
        "results/.work/interim/**/*.npz",
        "results/.work/gis/*.gpkg",
        "results/.work/web/*.html",
    )
    before = {}
    for pat in patterns:
        before |= _digests(work, pat)
    stamp = {t: (work / t).stat().st_mtime_ns for t in ONE_JOB_PER_RULE}
    proc = run_snakemake(work, "--force", *ONE_JOB_PER_RULE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for t in ONE_JOB_PER_RULE:  # each was rewritten ...
        assert (work / t).stat().st_mtime_ns != stamp[t], t
    after = {}
    for pat in patterns:
        after |= _digests(work, pat)
    assert after == before  # ... with the same bytes


def test_new_year_reruns_only_its_jobs_and_the_all_year_ones(demo_run, tmp_path):
    """Yearly update: with years: {discover: true}, dropping the next year's rasters into the
    input folders runs only that year's per-pixel and zonal jobs plus the jobs that combine all
    years; earlier years are not recomputed."""
    import shutil

    import yaml

    from carbonbudget.inputs.demo_files import demo_paths

    work = copy_workflow(tmp_path / "w")
    src_paths, mine = demo_paths(str(demo_run / "data/demo")), demo_paths(str(work / "data/mine"))

    def add_year(year):
        for key in ("temperature", "precipitation", "npp", "runoff"):
            dst = mine[key].format(year=year)
            (work / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src_paths[key].format(year=year), dst)

    for year in (2007, 2008, 2009):
        add_year(year)
    for key in ("lithology", "regions", "basins", "emissions", "socioeconomic", "population"):
        (work / mine[key]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src_paths[key], mine[key])
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["years"] = {"discover": True}
    del cfg["scenarios"], cfg["emissions_accounting"]  # not part of a yearly update
    cfg["climate"]["temperature"] = mine["temperature"]
    cfg["climate"]["precipitation"] = mine["precipitation"]
    cfg["npp"]["path"], cfg["runoff"]["path"] = mine["npp"], mine["runoff"]
    for key in ("lithology", "regions", "emissions", "socioeconomic"):
        cfg[key]["path"] = mine[key]
    cfg["emissions"]["downscale"]["weights"] = mine["population"]
    cfg["region_layers"]["basin"]["path"] = mine["basins"]
    (work / "mine.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))  # levels: finest first
    # the per-year chains of 2007-2009 (the all-year jobs would only be planned again below)
    zonal = [f"results/.work/interim/zonal/county_{y}.parquet" for y in (2007, 2008, 2009)]
    proc = run_snakemake(work, *zonal, "--configfile", str(work / "mine.yaml"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    # same inputs in another place give the same bytes as the 10-year demo run
    for y in (2007, 2008, 2009):
        for rel in (
            f"results/.work/pixels/ecs/ecs_{y}.tif",
            f"results/.work/interim/zonal/county_{y}.parquet",
        ):
            assert (work / rel).read_bytes() == (demo_run / rel).read_bytes(), rel

    add_year(2010)
    jobs = planned_jobs(work, "--configfile", str(work / "mine.yaml"))
    assert jobs.get("process_year") == 1, jobs  # check, align, fluxes, zonal totals of 2010
    for rule in ("check_static", "align_lithology", "build_regions", "build_demo"):
        assert rule not in jobs, (rule, jobs)
    assert jobs.get("budget") == 1 and jobs.get("pixel_trends") == 4
    assert jobs.get("budget_workbook") == 1
    assert jobs.get("grid_budget") == 1  # every year's CE on the grid: one job
    assert jobs.get("spatial_statistics") == 1 and jobs.get("plot_spatial_maps") == 2


def _published(work):
    """Digests of everything a user sees in results/ (not the working tree, not the logs)."""
    import hashlib

    root = work / "results"
    return {
        p.relative_to(work).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.relative_to(root).parts[0] not in (".work", "logs")
        and p.name not in (".carbonbudget.lock", ".published.json")
    }


def _wait_for(predicate, timeout=300.0, proc=None):
    import time

    t0 = time.monotonic()
    while not predicate():
        if proc is not None and proc.poll() is not None:
            return False
        if time.monotonic() - t0 > timeout:
            return False
        time.sleep(0.005)
    return True


def test_a_rerun_killed_mid_write_keeps_the_last_results(demo_run, tmp_path):
    """Issue 15.8: after a complete run, change one year's runoff and kill the rerun while that
    year's fluxes are being written: every published file is still there with the same bytes;
    the next run clears the leftovers, takes over the dead run's lock and completes."""
    import os
    import shutil
    import signal

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    before = _published(work)
    assert len(before) > 100
    with rasterio.open(work / "data/demo/runoff/runoff_2002.tif", "r+") as ds:
        ds.write(ds.read() * 1.02)
    pixels = work / "results/.work/pixels"
    proc = subprocess.Popen(
        [snakemake_bin(), "--cores", "2", "--directory", str(work), "-s", str(work / "Snakefile")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # a flux layer of 2002 being written: its blocks in a temporary file (a large grid) or its
    # COG copy under a temporary name (a small grid's blocks wait in memory)
    patterns = (".*_2002.*.blocks.tif", ".*_2002.*.partial*")
    try:
        writing = _wait_for(
            lambda: any(p for pat in patterns for p in pixels.rglob(pat)), proc=proc
        )
        assert writing, "the rerun ended before process_year 2002 wrote a flux layer"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _published(work) == before  # nothing lost, nothing half-new
    assert (work / "results/.carbonbudget.lock").exists()  # the killed run's lock

    # Snakemake's own lock of the working directory outlives a kill -9: it says so and asks for
    # --unlock once (documented in docs/reliability.md); ours on the results folder is taken over
    assert run_snakemake(work).returncode != 0
    assert run_snakemake(work, "--unlock").returncode == 0
    proc = run_snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no longer running" in proc.stderr  # the stale lock was taken over
    assert not (work / "results/.carbonbudget.lock").exists()
    leftovers = [
        p
        for pat in (".*.partial*", ".*.blocks.tif", ".*.publish-*")
        for p in (work / "results").rglob(pat)
    ]
    assert not leftovers, leftovers
    after = _published(work)
    assert set(after) == set(before)
    changed = {k for k in after if after[k] != before[k]}
    assert {"results/pixels/rcs/rcs_2002.tif", "results/pixels/ecs/ecs_2002.tif"} <= changed
    rasters = {
        "results/pixels/rcs/rcs_2002",
        "results/pixels/ecs/ecs_2002",
        "results/pixels/cnc/cnc_2002",  # CNC = ECS - CE
        "results/pixels/status/status_2002",  # its sign
    }
    # each raster with its QGIS style (whose colour range follows the raster's values)
    assert not {k for k in changed if k.startswith("results/pixels/")} - {
        f"{r}.{ext}" for r in rasters for ext in ("tif", "qml")
    }


def test_a_second_run_on_the_same_results_refuses_to_start(demo_run, tmp_path):
    """Issue 15.9: a second snakemake from another working directory, writing into the same
    outputs.dir while a first run is going, stops at once and names the running one."""
    import shutil

    import yaml

    first = tmp_path / "first"
    shutil.copytree(demo_run, first, symlinks=True)
    with rasterio.open(first / "data/demo/runoff/runoff_2003.tif", "r+") as ds:
        ds.write(ds.read() * 1.01)
    second = copy_workflow(tmp_path / "second")
    (second / "data").symlink_to(first / "data")
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["outputs"]["dir"] = str(first / "results")
    (second / "same_results.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    lock = first / "results/.carbonbudget.lock"
    proc = subprocess.Popen(
        [
            snakemake_bin(),
            "--cores",
            "2",
            "--directory",
            str(first),
            "-s",
            str(first / "Snakefile"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert _wait_for(lock.exists, proc=proc), "the first run never took the lock"
    other = run_snakemake(second, "--configfile", str(second / "same_results.yaml"))
    assert other.returncode != 0
    msg = other.stdout + other.stderr
    assert "is being written by another run" in msg and f"pid {proc.pid}" in msg, msg[-3000:]
    assert f"rm {lock}" in msg
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    assert not lock.exists()


# Each input file of the demo and the rules that read it: touching the file must rerun them
# (a table passed to a rule only through params would leave its outputs stale).
READERS = {
    "data/demo/socioeconomic/county_socioeconomic.csv": {"budget"},
    "data/demo/emissions/county_co2.csv": {"check_emissions", "budget", "scenario_projection"},
    "data/demo/energy/province_fuel_consumption.csv": {"tier1_emissions"},
    "data/demo/scenarios/drivers.csv": {"scenario_projection"},
    "config/scenarios/growth_rates.csv": {"scenario_projection"},
    "data/demo/population/population_density.tif": {"align_weights", "grid_budget"},
    "config/gem_co2_coefficients.csv": {"check_static", "align_lithology", "process_year"},
    "config/groupings/demo_city_zones.csv": {"check_static", "build_regions"},
    "data/demo/regions/basins.gpkg": {"level_polygons", "layer_budget"},
}


@pytest.mark.parametrize("path", sorted(READERS))
def test_an_edited_input_reruns_every_rule_that_reads_it(demo_run, tmp_path, path):
    import os
    import shutil
    import time

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    assert set(planned_jobs(work)) <= {"publish"}  # the copy is up to date
    target = work / path
    # an edit: new content (Snakemake compares the checksums of small inputs, so a touch alone
    # is no change) and a time newer than every output (a config file keeps the time of the
    # checkout, older than the run); the dry run reads neither file
    with open(target, "ab") as fh:
        fh.write(b"\n")
    now = time.time() + 60
    os.utime(target, (now, now))
    planned = set(planned_jobs(work))
    assert READERS[path] <= planned, sorted(READERS[path] - planned)


def test_a_cover_fraction_reaches_every_job_that_sums_fluxes_per_region(tmp_path):
    """npp.cover_fraction is put on the grid by build_regions and read by every job that sums
    fluxes per region (each year's, the region layers', the split of ΔRH): the dry run lists it
    as their input, so a changed fraction reruns them."""
    import yaml

    work = copy_workflow(tmp_path / "w")
    cfg = yaml.safe_load((work / "config/config.yaml").read_text())
    cfg["npp"]["cover_fraction"] = {"path": "data/demo/population/population_density.tif"}
    (work / "cover.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = run_snakemake(work, "-n", "--configfile", str(work / "cover.yaml"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = proc.stdout.split("rule ")[1:]
    share = "interim/regions/npp_cover_fraction.tif"
    reading = {j.split(":")[0] for j in jobs if share in j.split("output:")[0]}
    writing = {j.split(":")[0] for j in jobs if share in j.split("output:")[1].split("\n")[0]}
    assert writing == {"build_regions"}
    assert reading == {
        "process_year",
        "process_scenario_year",
        "layer_budget",
        "rh_attribution",
    }, reading
    assert sum(j.startswith("process_year:") for j in jobs) == 10
