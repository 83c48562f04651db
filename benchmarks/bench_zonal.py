"""Benchmark: zonal sum of one band, carbonbudget's cached coverage vs exactextract.

On the synthetic country (4,000 × 5,000 pixels, ~2,800 counties with a few hundred vertices each,
``country.py``), in one process:

- one-time cost: reading the polygons and computing the exact coverage matrix (exactextract's
  cell coverage fractions, stored sparse), i.e. what ``build_regions`` does once per (regions,
  grid);
- per band: ``zonal_totals`` with that matrix (read the band in row blocks, sparse product),
  called once per band (each call also scales the matrix by the pixel areas) and once for all
  bands together (as ``zonal_year`` does with its four fluxes), vs
  ``exactextract.exact_extract(raster, polygons, "sum")`` on the same file and polygons;
- agreement per county: our total / pixel area vs exactextract's coverage-weighted sum, for
  counties of more than 100 pixels.

    python benchmarks/bench_zonal.py [--data /tmp/carbonbudget_country] [--bands 3]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from country import country_grid, ensure_country

ROWS, COLS = 4000, 5000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/carbonbudget_country")
    ap.add_argument("--bands", type=int, default=4, help="bands timed on each side")
    args = ap.parse_args()
    os.environ.setdefault("GDAL_CACHEMAX", "256")
    p = ensure_country(args.data, [2001, 2002, 2003], ROWS, COLS)
    bands = [p[k].format(year=y) for y in (2001, 2002, 2003) for k in ("npp", "runoff")]
    bands = bands[: args.bands]

    import geopandas as gpd
    from exactextract import exact_extract

    from carbonbudget.regions.zonal import coverage_matrix, zonal_totals

    grid = country_grid(ROWS, COLS)
    t0 = time.perf_counter()
    regions = gpd.read_file(p["regions"], engine="pyogrio")
    codes, matrix = coverage_matrix(regions, "county_code", grid)
    one_time = time.perf_counter() - t0
    n_vertices = int(sum(len(g.exterior.coords) for g in regions.geometry))

    ours, ref = [], []
    t_ours, t_ee = [], []
    for path in bands:
        t0 = time.perf_counter()
        df = zonal_totals(matrix, codes, grid, {"x": path})
        t_ours.append(time.perf_counter() - t0)
        ours.append(df.set_index("code")["x_tgc"])
        t0 = time.perf_counter()
        ee = exact_extract(path, regions, "sum", include_cols=["county_code"], output="pandas")
        t_ee.append(time.perf_counter() - t0)
        ref.append(ee.set_index("county_code")["sum"])

    t0 = time.perf_counter()
    zonal_totals(matrix, codes, grid, {f"b{i}": b for i, b in enumerate(bands)})
    t_all = time.perf_counter() - t0

    # agreement: ours is Σ v·a·f / 1e12 (Tg); exactextract's sum is Σ v·f; a = 1 km² = 1e6 m²
    px = matrix.sum(axis=1).A1
    big = px > 100
    rel = []
    for o, r in zip(ours, ref):
        o_sum = o.reindex(codes).to_numpy() * 1e12 / 1e6
        r_sum = r.reindex(codes).to_numpy()
        rel.append(np.abs(o_sum[big] - r_sum[big]) / np.abs(r_sum[big]))
    rel = np.concatenate(rel)

    print(
        f"\n{len(codes)} counties ({int(big.sum())} of > 100 pixels), {n_vertices:,} vertices, "
        f"grid {ROWS} x {COLS}"
    )
    print(f"{'':32s}{'seconds':>10s}")
    print(f"{'one-time coverage matrix':32s}{one_time:10.1f}   (nnz {matrix.nnz:,})")
    print(
        f"{'carbonbudget, one call per band':32s}{np.mean(t_ours):10.2f}   (bands: "
        f"{', '.join(f'{t:.2f}' for t in t_ours)})"
    )
    print(
        f"{'carbonbudget, all bands at once':32s}{t_all / len(bands):10.2f}   per band "
        f"({t_all:.2f} s for {len(bands)} bands)"
    )
    print(
        f"{'exactextract sum, per band':32s}{np.mean(t_ee):10.2f}   (bands: "
        f"{', '.join(f'{t:.2f}' for t in t_ee)})"
    )
    print(
        f"\nper-band speed-up after the one-time cost: {np.mean(t_ee) / np.mean(t_ours):.1f}x "
        f"one call per band, {np.mean(t_ee) / (t_all / len(bands)):.1f}x all bands at once "
        "(target >= 10x)"
    )
    print(f"break-even after {one_time / max(np.mean(t_ee) - np.mean(t_ours), 1e-9):.1f} bands")
    print(
        f"agreement, counties > 100 px: max rel. diff {rel.max():.2e}, median {np.median(rel):.1e} "
        "(target <= 1e-4)"
    )


if __name__ == "__main__":
    main()
