"""Benchmark: the uncertainty model of one year against that year's fluxes and zonal
totals, at country size.

On the synthetic country (4,000 × 5,000 pixels of 1 km, ~2,800 counties in cities and
provinces, ``country.py``), in one process, after the one-time work (coverage matrix, lithology
coefficients, in-region fraction):

- reference: ``compute_fluxes`` of one year (RH, NEP, RCS, ECS from the year's climate, NPP and
  runoff) and ``zonal_totals`` of the four fluxes: the deterministic fluxes + zonal stage;
- uncertainty: what it adds to the year, as the pipeline runs it: ``zonal_totals_and_statistics``
  (the totals and, in the same read of the rasters, RCS per lithology group and the sums of
  squares) less ``zonal_totals``, plus ``add_intervals`` on the year's county, city, province
  and study-area tables with 1,000 draws (the demo's model: NPP and RH systematic, coefficients
  per class, emissions independent between counties).

Prints both times and their ratio (the target: at most 1) and the peak memory of the process.

    python benchmarks/bench_uncertainty.py [--data /tmp/carbonbudget_country] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

import numpy as np
import pandas as pd
from country import country_grid, ensure_country

ROWS, COLS = 4000, 5000
YEAR = 2001
COEFFICIENTS = "config/gem_co2_coefficients.csv"
MODEL = {
    "draws": 1000,
    "npp": {"relative_sd": 0.10},
    "emissions": {"relative_sd": 0.05, "correlation": "independent"},
}


def level_tables(zonal: pd.DataFrame, stats: pd.DataFrame, regions, ce: pd.Series) -> dict:
    """County, city, province and study-area tables of one year with the statistics, as the
    budget stage hands them to ``add_intervals`` (parents: sums of their counties)."""
    from carbonbudget.core.units import CO2_PER_C

    t = zonal.merge(stats, on="code")
    t = t.merge(
        regions[["county_code", "city_code", "province_code"]].rename(
            columns={"county_code": "code"}
        ),
        on="code",
    )
    t["ce_tgco2"] = t["code"].map(ce).to_numpy()
    t["ce_sq_tgco2"] = t["ce_tgco2"] ** 2
    t["study_area_code"] = "all"
    sums = [c for c in t.columns if c.endswith(("_tgc", "_tgc2", "_tgco2"))]
    out = {}
    for level, key in (
        ("county", "code"),
        ("city", "city_code"),
        ("province", "province_code"),
        ("study_area", "study_area_code"),
    ):
        g = t.groupby(key, sort=True)[sums].sum().reset_index().rename(columns={key: "code"})
        g["name"] = g["code"]
        g["year"] = YEAR
        g["ecs_tgco2"] = g["ecs_tgc"] * CO2_PER_C
        g["cnc_tgco2"] = g["ecs_tgco2"] - g["ce_tgco2"]
        g["status"] = np.where(g["cnc_tgco2"] > 0, "surplus", "deficit")
        g["cv"] = 1.0
        out[level] = g
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/carbonbudget_country")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("GDAL_CACHEMAX", "256")
    p = ensure_country(args.data, [YEAR], ROWS, COLS)

    import geopandas as gpd
    import rasterio

    from carbonbudget.core.config import fill_section
    from carbonbudget.inputs.lithology import align_lithology
    from carbonbudget.regions.zonal import (
        coverage_matrix,
        in_region_fraction,
        zonal_totals,
        zonal_totals_and_statistics,
    )
    from carbonbudget.science.fluxes import compute_fluxes
    from carbonbudget.science.uncertainty import add_intervals, coefficient_groups

    grid = country_grid(ROWS, COLS)
    work = tempfile.mkdtemp(prefix="bench_uncertainty_")
    t0 = time.perf_counter()
    regions = gpd.read_file(p["regions"], engine="pyogrio")
    codes, matrix = coverage_matrix(regions, "county_code", grid)
    coef = os.path.join(work, "coefficient.tif")
    align_lithology(
        grid=grid,
        path_lithology=p["lithology"],
        classes_csv="config/glim_classes.csv",
        coefficients_csv=COEFFICIENTS,
        path_codes=os.path.join(work, "codes.tif"),
        path_coefficient=coef,
    )
    fraction = os.path.join(work, "fraction.tif")
    with rasterio.open(fraction, "w", **grid.profile()) as dst:
        dst.write(in_region_fraction(matrix, grid), 1)
    print(f"one-time (coverage, coefficients, fraction): {time.perf_counter() - t0:.1f} s")

    inputs = {
        "temperature": p["temperature"].format(year=YEAR),
        "precipitation": p["precipitation"].format(year=YEAR),
        "npp": p["npp"].format(year=YEAR),
        "runoff": p["runoff"].format(year=YEAR),
        "coefficient": coef,
        "fraction": fraction,
    }
    fluxes = {v: os.path.join(work, f"{v}.tif") for v in ("rh", "nep", "rcs", "ecs")}
    emissions = pd.read_csv(p["emissions"], dtype={"county_code": str})
    ce = emissions[emissions["year"] == YEAR].set_index("county_code")["co2_mt"]
    cfg = fill_section("uncertainty", MODEL)
    groups = coefficient_groups(COEFFICIENTS)
    t_ref, t_unc, t_stats = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        compute_fluxes(
            grid_spec={"crs": grid.crs.to_wkt(), "resolution": 1000.0, "bounds": grid.bounds},
            timestep="monthly",
            inputs=inputs,
            outputs=fluxes,
            period=YEAR,
            chunk_size=1024,
            threads=2,
        )
        t1 = time.perf_counter()
        zonal_totals(matrix, codes, grid, fluxes)
        t_zonal = time.perf_counter() - t1
        t_ref.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        zonal, stats = zonal_totals_and_statistics(matrix, codes, grid, fluxes, coef, groups)
        t_stats.append(time.perf_counter() - t0 - t_zonal)
        tables = level_tables(zonal, stats, regions, ce)
        out, _ = add_intervals(tables, cfg, tolerance_tgco2=0.01)
        t_unc.append(time.perf_counter() - t0 - t_zonal)
    n_rows = sum(len(t) for t in out.values())
    robust = int(out["county"]["status_robust"].sum())
    ref, unc = min(t_ref), min(t_unc)
    print(f"reference, fluxes + zonal totals of one year: {ref:.2f} s ({t_ref})")
    print(
        f"uncertainty of that year: {unc:.2f} s ({t_unc}); of which the statistics beside "
        "the totals "
        f"{min(t_stats):.2f} s; {n_rows} region-years, {cfg['draws']} draws"
    )
    print(f"ratio uncertainty / reference: {unc / ref:.2f} (target <= 1)")
    print(f"counties with a robust status: {robust} of {len(out['county'])}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
