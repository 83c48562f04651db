"""Benchmark: all per-pixel trend statistics of one variable vs pymannkendall.

Synthetic (year, y, x) float32 stack, generated block by block inside the dask graph (a trend,
noise and 2 % NaN years), so memory follows the chunk size. Times ``trend_statistics`` (OLS slope
and p, Theil–Sen, Mann–Kendall Z and p, Hurst) on the threaded scheduler, and
``pymannkendall.original_test`` (MK + Sen only) on a random sample of pixels, extrapolated to
the grid. Prints a table with the ratio. Not part of ``make test``.

    python benchmarks/bench_trends.py --rows 4000 --cols 5000 --years 21
"""

from __future__ import annotations

import argparse
import os
import time

import dask
import dask.array as da
import numpy as np
import psutil
import xarray as xr

from carbonbudget.core.config import PIXEL_STATS
from carbonbudget.science.trends import trend_statistics


def synthetic_block(block_id=None, chunk=512, years=21):
    rng = np.random.default_rng(abs(hash(block_id)) % (2**32))
    t = np.arange(years, dtype=np.float32)[:, None, None]
    slope = rng.normal(0, 2, (1, chunk, chunk)).astype(np.float32)
    out = 300 + slope * t + rng.normal(0, 20, (years, chunk, chunk)).astype(np.float32)
    out[rng.random(out.shape) < 0.02] = np.nan
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--cols", type=int, default=5000)
    ap.add_argument("--years", type=int, default=21)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--sample", type=int, default=2000, help="pixels timed with pymannkendall")
    a = ap.parse_args()

    ny, nx = a.rows // a.chunk, a.cols // a.chunk
    stack = da.map_blocks(
        synthetic_block,
        chunk=a.chunk,
        years=a.years,
        dtype=np.float32,
        chunks=((a.years,), (a.chunk,) * ny, (a.chunk,) * nx),
    )
    years = np.arange(2000, 2000 + a.years)
    ds = trend_statistics(xr.DataArray(stack, dims=("year", "y", "x")), years)
    summary = da.stack([da.nanmean(ds[s].data) for s in PIXEL_STATS])

    # warm the numba cache on a small block so compile time is not counted
    trend_statistics(
        xr.DataArray(synthetic_block(chunk=8, years=a.years), dims=("year", "y", "x")), years
    )
    proc = psutil.Process()
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=a.threads):
        means = summary.compute()
    ours = time.perf_counter() - t0
    rss = proc.memory_info().rss / 2**20

    import pymannkendall as pmk

    sample = synthetic_block(
        block_id=(0, 0, 0), chunk=int(np.ceil(np.sqrt(a.sample))), years=a.years
    ).reshape(a.years, -1)[:, : a.sample]
    t0 = time.perf_counter()
    for j in range(sample.shape[1]):
        pmk.original_test(sample[:, j].astype(np.float64))
    per_pixel = (time.perf_counter() - t0) / sample.shape[1]
    n_pix = a.rows * a.cols
    ref = per_pixel * n_pix

    print(f"grid {a.rows} x {a.cols} x {a.years} years, chunk {a.chunk}, {a.threads} threads")
    print(f"{'what':48s} {'seconds':>10s}")
    print(f"{'carbonbudget trend_statistics (6 stats, all pixels)':48s} {ours:10.1f}")
    print(f"{'pymannkendall.original_test per pixel (MK+Sen)':48s} {per_pixel * 1e6:9.1f}us")
    print(f"{'pymannkendall extrapolated to all pixels':48s} {ref:10.1f}")
    print(f"speed-up over pymannkendall (which computes 2 of the 6 statistics): {ref / ours:,.0f}x")
    print(f"throughput: {n_pix / ours / 1e6:.2f} Mpixel/s; peak RSS (process) {rss:,.0f} MiB")
    print("means:", dict(zip(PIXEL_STATS, np.round(means, 4))))


if __name__ == "__main__":
    main()
