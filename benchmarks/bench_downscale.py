"""Benchmark: spreading one year's county emissions onto the grid at country size.

On the synthetic country (4,000 × 5,000 pixels of 1 km, ~2,800 counties, ``country.py``), in one
process: the coverage matrix once (what ``build_regions`` caches), then per year

- reference: ``zonal_totals`` of one band (what a year's zonal step costs per flux);
- ``spread_emissions`` with lognormal weights (20 % of the pixels empty) and random county
  totals: time, iterations, the largest relative misfit of the totals, and the peak memory of
  the process (``ru_maxrss``).

    python benchmarks/bench_downscale.py [--data /tmp/carbonbudget_country] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
from country import country_grid, ensure_country

ROWS, COLS = 4000, 5000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/carbonbudget_country")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("GDAL_CACHEMAX", "256")
    p = ensure_country(args.data, [2001], ROWS, COLS)

    import geopandas as gpd

    from carbonbudget.regions.zonal import coverage_matrix, zonal_totals
    from carbonbudget.science.downscale import spread_emissions

    grid = country_grid(ROWS, COLS)
    t0 = time.perf_counter()
    regions = gpd.read_file(p["regions"], engine="pyogrio")
    codes, matrix = coverage_matrix(regions, "county_code", grid)
    print(f"coverage matrix (one-time): {time.perf_counter() - t0:.1f} s, {len(codes)} counties")
    shared = int((np.diff(matrix.indptr) >= 2).sum())
    print(f"pixels shared by two or more counties: {shared:,} of {grid.width * grid.height:,}")

    rng = np.random.default_rng(19)
    weights = rng.lognormal(0.0, 1.5, grid.width * grid.height)
    weights[rng.uniform(size=weights.size) < 0.2] = 0.0
    totals = rng.lognormal(13.0, 1.0, len(codes))  # t CO2, a few Mt per county
    area = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    band = {"npp": p["npp"].format(year=2001)}
    ref, spread = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        zonal_totals(matrix, codes, grid, band)
        ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        s = spread_emissions(matrix, area, weights, totals, codes=codes)
        spread.append(time.perf_counter() - t0)
    misfit = float(np.nanmax(s.relative_error(totals)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    r, d = float(np.median(ref)), float(np.median(spread))
    print(f"zonal_totals, one band (reference): {r:.2f} s ({', '.join(f'{x:.2f}' for x in ref)})")
    print(
        f"spread_emissions: {d:.2f} s ({', '.join(f'{x:.2f}' for x in spread)}), "
        f"{s.iterations} iterations, largest misfit {misfit:.2g}"
    )
    print(f"ratio spread / zonal band: {d / r:.2f}; peak RSS of the process {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
