"""Benchmark: spreading one year's county emissions onto the grid at country size.

On the synthetic country (4,000 × 5,000 pixels of 1 km, ~2,800 counties, ``country.py``), in one
process: the coverage matrix once (what ``build_regions`` caches), then per year

- reference: ``zonal_totals`` of one band (what a year's zonal step costs per flux);
- ``spread_emissions`` with lognormal weights (20 % of the pixels empty) and random county
  totals: time, iterations, the largest relative misfit of the totals, and the peak memory of
  the process (``ru_maxrss``).

At 1 km a county covers thousands of pixels and the iteration converges in a few dozen steps, so
the time is the setup's. The same counties on a 10 km grid share a fifth of their pixels and take
~1,600 steps, as the China example's counties on its ~10 km grid take 2,500-3,000 a year: there
the iteration is the time, and it is compared with the two sparse products each step makes (the
least a step can cost), repeated as many times on the same matrices.

    python benchmarks/bench_downscale.py [--data /tmp/carbonbudget_country] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import scipy.sparse as sp
from country import RES, country_grid, ensure_country

ROWS, COLS = 4000, 5000
COARSE = 10  # the many-step case: pixels of COARSE × RES


def products_only(matrix, area, density, steps: int) -> float:
    """Seconds for ``steps`` pairs of the sparse products one step of the fixed point makes
    (``downscale._fixed_point``: placed mass of the shared pixels, and the regions' ratios back
    onto them) on the same shared columns: the reference a step's other work is measured by."""
    cov = sp.csc_matrix(matrix, dtype=np.float64)
    shared = np.flatnonzero(np.diff(cov.indptr) >= 2)
    cs = cov[:, shared]
    cs_area = cs @ sp.diags(area[shared])
    fs = np.nan_to_num(density[shared])
    ratio = np.ones(cov.shape[0])
    t0 = time.perf_counter()
    for _ in range(steps):
        cs_area @ fs
        cs.T @ ratio
    return time.perf_counter() - t0


def inputs(grid, n_regions: int):
    """Lognormal weights (20 % of the pixels empty), county totals and pixel areas on ``grid``,
    from a fixed seed."""
    rng = np.random.default_rng(19)
    weights = rng.lognormal(0.0, 1.5, grid.width * grid.height)
    weights[rng.uniform(size=weights.size) < 0.2] = 0.0
    totals = rng.lognormal(13.0, 1.0, n_regions)  # t CO2, a few Mt per county
    area = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    return weights, totals, area


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

    weights, totals, area = inputs(grid, len(codes))
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

    coarse = country_grid(ROWS, COLS, RES * COARSE)
    codes, matrix = coverage_matrix(regions, "county_code", coarse)
    shared = int((np.diff(sp.csc_matrix(matrix).indptr) >= 2).sum())
    print(
        f"\n{coarse.height} × {coarse.width} pixels of {COARSE} km: {shared:,} of "
        f"{coarse.width * coarse.height:,} pixels shared by two or more counties"
    )
    weights, totals, area = inputs(coarse, len(codes))
    spread, products = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        s = spread_emissions(matrix, area, weights, totals, codes=codes)
        spread.append(time.perf_counter() - t0)
        products.append(products_only(matrix, area, s.density, s.iterations + 1))
    d, r = float(np.median(spread)), float(np.median(products))
    misfit = float(np.nanmax(s.relative_error(totals)))
    print(
        f"spread_emissions: {d:.2f} s ({', '.join(f'{x:.2f}' for x in spread)}), "
        f"{s.iterations} iterations, largest misfit {misfit:.2g}"
    )
    print(
        f"its sparse products alone (reference), {s.iterations + 1} pairs: {r:.2f} s "
        f"({', '.join(f'{x:.2f}' for x in products)})"
    )
    print(f"ratio spread / its sparse products: {d / r:.2f}")


if __name__ == "__main__":
    main()
