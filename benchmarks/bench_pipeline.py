"""Benchmark (issue 4c): the whole DAG on the synthetic country with 1 and with 3 years.

Runs ``snakemake --cores N`` twice from the repository (fresh output folders, so each run pays
the one-time costs: checks, lithology alignment, coverage matrix), after an untimed run on a
400 × 500 copy that fills numba's on-disk caches (compilation happens once per installation, not
per run), on the country-size inputs of
``country.py`` (4,000 × 5,000 pixels, 12-month climate, ~2,800 counties). Reports wall time, time
per year of input, the peak resident memory of the whole process tree (Snakemake and its jobs,
sampled every 0.2 s) and of the largest single job (Snakemake's benchmark files), and the
3-year / 1-year time ratio.

    python benchmarks/bench_pipeline.py [--data /tmp/carbonbudget_country] [--cores 2]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import yaml
from country import country_config, paths, write_static, write_year

ROWS, COLS = 4000, 5000
YEARS = [2001, 2002, 2003]
REPO = Path(__file__).resolve().parents[1]


class TreeRSS(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.proc, self.interval, self.peak, self.stop = psutil.Process(pid), interval, 0, False

    def run(self):
        while not self.stop:
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, rss)
            except psutil.Error:
                return
            time.sleep(self.interval)


def run(
    data: str, years: list[int], out: str, cores: int, rows: int = ROWS, cols: int = COLS
) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    cfg_path = os.path.join(out, "config.yaml")
    with open(cfg_path, "w") as fh:
        yaml.safe_dump(country_config(data, years, rows, cols, out), fh, sort_keys=False)
    env = dict(os.environ, GDAL_CACHEMAX="256")
    os.sync()  # write back dirty pages (inputs, the previous run) before the clock starts
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [snakemake, "--cores", str(cores), "--configfile", cfg_path, "-q"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler = TreeRSS(proc.pid)
    sampler.start()
    log, _ = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop = True
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed ({out}):\n{log[-5000:]}")
    jobs = []
    for f in glob.glob(os.path.join(out, "logs/benchmarks/**/*.tsv"), recursive=True):
        b = pd.read_csv(f, sep="\t")
        jobs.append(
            (
                os.path.relpath(f, os.path.join(out, "logs/benchmarks")),
                b["s"].iloc[0],
                b["max_rss"].iloc[0],
            )
        )
    jobs = pd.DataFrame(jobs, columns=["job", "s", "max_rss_mib"])
    return {"years": len(years), "wall": wall, "tree_peak_mib": sampler.peak / 2**20, "jobs": jobs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/carbonbudget_country")
    ap.add_argument("--out", default="/tmp/carbonbudget_country_runs")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    args = ap.parse_args()
    p = paths(args.data)
    t0 = time.perf_counter()
    if not os.path.exists(p["regions"]):
        write_static(args.data, ROWS, COLS, YEARS)
    for y in YEARS:
        if not os.path.exists(p["npp"].format(year=y)):
            write_year(args.data, y, ROWS, COLS)
    print(f"inputs ready in {time.perf_counter() - t0:.0f} s under {args.data}")

    # Numba compiles each kernel once per installation (and after the source changes) into its
    # on-disk cache; a first run pays ~10 s for that. A small country (same code paths, same
    # kernel signatures, 3 years so the trend kernels run too) warms the caches untimed.
    small = f"{args.data}_warmup"
    if not os.path.exists(paths(small)["regions"]):
        write_static(small, 400, 500, YEARS)
        for y in YEARS:
            write_year(small, y, 400, 500)
    t0 = time.perf_counter()
    run(small, YEARS, f"{args.out}/warmup", args.cores, rows=400, cols=500)
    print(
        f"numba caches warmed by a 400 x 500 run in {time.perf_counter() - t0:.0f} s (not counted)"
    )

    results = [
        run(args.data, YEARS[:1], f"{args.out}/y1", args.cores),
        run(args.data, YEARS, f"{args.out}/y3", args.cores),
    ]
    print(
        f"\n{'years':>5s} {'wall s':>8s} {'s/year':>8s} {'tree peak RSS MiB':>18s} "
        f"{'largest job RSS MiB':>20s}"
    )
    for r in results:
        j = r["jobs"].sort_values("max_rss_mib").iloc[-1]
        print(
            f"{r['years']:5d} {r['wall']:8.0f} {r['wall'] / r['years']:8.0f} "
            f"{r['tree_peak_mib']:18.0f} {j['max_rss_mib']:14.0f} ({j['job']})"
        )
    print(
        f"\n3-year / 1-year time ratio: {results[1]['wall'] / results[0]['wall']:.2f} "
        "(target <= 3.3); targets: <= 90 s per year, peak RSS < 3 GB"
    )
    slow = results[1]["jobs"].groupby(results[1]["jobs"]["job"].str.split("/").str[0])["s"].sum()
    print("\n3-year run, seconds by rule (summed over jobs; 2 jobs can run at once):")
    print(slow.sort_values(ascending=False).round(1).to_string())


if __name__ == "__main__":
    main()
