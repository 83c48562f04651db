"""Benchmark: one year of RH + NEP + RCS + ECS, carbonbudget vs plain numpy.

Inputs are written once per grid size (block by block, uncompressed tiled GeoTIFFs): 12-band
temperature and precipitation, NPP, runoff, GEM-CO2 coefficient, region mask. Then, each in a
fresh child process so its peak RSS is its own:

- ``carbonbudget``: ``compute_fluxes`` (numba kernel over dask chunks, reads lazily,
  writes four COGs with overviews);
- ``numpy``: the same formulas on whole float32 arrays read with rasterio, written as four
  plain GeoTIFFs (no overviews) — what a user's script would do.

Each method runs ``--repeat`` times (alternating, dirty pages flushed before each run); the
median run is reported: seconds, throughput, peak RSS and the ratios. Not part of ``make test``.

    python benchmarks/bench_fluxes.py --sizes 2000x2500 4000x5000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import rasterio
from rasterio.windows import Window

AEA = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m +no_defs"
NAMES = ("tmean", "prcp", "npp", "runoff", "coef", "fraction")


def grid_spec(rows, cols):
    return {
        "crs": AEA,
        "resolution": 1000.0,
        "bounds": [0.0, 3_000_000.0, cols * 1000.0, 3_000_000.0 + rows * 1000.0],
    }


def write_inputs(folder, rows, cols, block=500):
    from carbonbudget.core.grid import Grid

    grid = Grid.from_config(grid_spec(rows, cols))
    prof = grid.profile(compress=None)
    paths = {n: os.path.join(folder, f"{n}.tif") for n in NAMES}
    rng = np.random.default_rng(0)
    dsts = {
        n: rasterio.open(paths[n], "w", **(prof | {"count": 12 if n in ("tmean", "prcp") else 1}))
        for n in NAMES
    }
    months = np.arange(12)[:, None, None]
    for r0 in range(0, rows, block):
        for c0 in range(0, cols, block):
            h, w = min(block, rows - r0), min(block, cols - c0)
            win = Window(c0, r0, w, h)
            base = rng.uniform(-5, 25, (1, h, w)).astype("float32")
            dsts["tmean"].write(base + 8 * np.sin(2 * np.pi * (months - 3) / 12), window=win)
            dsts["prcp"].write(rng.uniform(0, 250, (12, h, w)).astype("float32"), window=win)
            dsts["npp"].write(rng.uniform(100, 1200, (1, h, w)).astype("float32"), window=win)
            dsts["runoff"].write(rng.uniform(20, 1500, (1, h, w)).astype("float32"), window=win)
            dsts["coef"].write(
                rng.choice([0.095, 0.152, 0.672, 1.586], (1, h, w)).astype("float32"), window=win
            )
            dsts["fraction"].write(np.ones((1, h, w), "float32"), window=win)
    for d in dsts.values():
        d.close()
    return paths


def run_ours(folder, rows, cols, threads):
    from carbonbudget.science.fluxes import compute_fluxes

    p = {n: os.path.join(folder, f"{n}.tif") for n in NAMES}
    out = {v: os.path.join(folder, f"ours_{v}.tif") for v in ("rh", "nep", "rcs", "ecs")}
    inputs = {
        "temperature": p["tmean"],
        "precipitation": p["prcp"],
        "npp": p["npp"],
        "runoff": p["runoff"],
        "coefficient": p["coef"],
        "fraction": p["fraction"],
    }
    compute_fluxes(
        grid_spec=grid_spec(rows, cols),
        timestep="monthly",
        inputs=inputs,
        outputs=out,
        period=2000,
        chunk_size=1000,
        threads=threads,
    )


def run_numpy(folder, rows, cols):
    """The plain-numpy reference: whole arrays, float32, same formulas (docs/method.md)."""
    p = {n: os.path.join(folder, f"{n}.tif") for n in NAMES}
    read = lambda n: rasterio.open(p[n]).read()  # noqa: E731
    t, pr = read("tmean"), read("prcp")
    rh = (
        np.float32(0.22)
        * (np.exp(np.float32(0.0913) * t) + np.log(np.float32(0.3145) * pr + 1))
        * np.float32(30 * 0.465)
    ).sum(axis=0)
    del t, pr
    nep = read("npp")[0] - rh
    rcs = np.float32(0.012) * read("coef")[0] * read("runoff")[0]
    ecs = nep + rcs
    mask = read("fraction")[0] > 0
    with rasterio.open(p["npp"]) as src:
        prof = src.profile
    for name, arr in (("rh", rh), ("nep", nep), ("rcs", rcs), ("ecs", ecs)):
        arr = np.where(mask, arr, np.nan).astype("float32")
        with rasterio.open(os.path.join(folder, f"numpy_{name}.tif"), "w", **prof) as dst:
            dst.write(arr, 1)


def child(method, folder, rows, cols, threads):
    os.environ["GDAL_CACHEMAX"] = "256"
    if method == "carbonbudget":
        import carbonbudget.science.fluxes  # noqa: F401  (imports are not timed, for either side)
    t0 = time.perf_counter()
    if method == "carbonbudget":
        run_ours(folder, rows, cols, threads)
    else:
        run_numpy(folder, rows, cols)
    dt = time.perf_counter() - t0
    print(json.dumps({"seconds": dt, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's own peak RSS. VmHWM is reset at exec; ru_maxrss is not (on Linux it keeps
    the parent's peak from before the fork, which inflated the first measurements)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["2000x2500", "4000x5000"])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3, help="runs of each method (median shown)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        method, folder, rows, cols = a.child
        return child(method, folder, int(rows), int(cols), a.threads)

    rows_out = []
    for size in a.sizes:
        rows, cols = (int(v) for v in size.split("x"))
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
            t0 = time.perf_counter()
            write_inputs(folder, rows, cols)
            print(f"{size}: inputs written in {time.perf_counter() - t0:.0f} s", flush=True)

            def child_run(method, rows=rows, cols=cols):
                # Flush dirty pages first (the inputs just written, the previous run's outputs):
                # their write-back would otherwise land in whichever run comes next.
                os.sync()
                return json.loads(
                    subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--threads",
                            str(a.threads),
                            "--child",
                            method,
                            folder,
                            str(rows),
                            str(cols),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )

            child_run("carbonbudget")  # warm numba's on-disk cache: compilation is not timed
            # the two methods alternate, a.repeat times; the median run of each is reported
            runs = {m: [] for m in ("numpy", "carbonbudget")}
            for _ in range(a.repeat):
                for m in runs:
                    runs[m].append(child_run(m))
            res = {m: sorted(r, key=lambda x: x["seconds"])[len(r) // 2] for m, r in runs.items()}
            for m, r in runs.items():
                print(
                    f"{size} {m}: " + " ".join(f"{x['seconds']:.1f}" for x in r) + " s", flush=True
                )
            rows_out.append((size, rows * cols, res))

    print(f"\n{'grid':>10s} {'method':>13s} {'seconds':>8s} {'Mpix/s':>7s} {'peak RSS MiB':>13s}")
    for size, npix, res in rows_out:
        for m, r in res.items():
            print(
                f"{size:>10s} {m:>13s} {r['seconds']:8.1f} {npix / r['seconds'] / 1e6:7.2f} "
                f"{r['peak_rss_mib']:13.0f}"
            )
    print()
    for size, _npix, res in rows_out:
        ratio = res["numpy"]["seconds"] / res["carbonbudget"]["seconds"]
        print(f"{size}: throughput carbonbudget / numpy = {ratio:.2f}x")
    if len(rows_out) >= 2:
        small, big = rows_out[0][2]["carbonbudget"], rows_out[-1][2]["carbonbudget"]
        print(
            f"peak RSS {rows_out[-1][0]} / {rows_out[0][0]} (carbonbudget) = "
            f"{big['peak_rss_mib'] / small['peak_rss_mib']:.2f}"
        )


if __name__ == "__main__":
    main()
