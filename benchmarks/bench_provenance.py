"""Benchmark: what provenance.json costs for six fresh country-years of inputs, as a ratio to
the I/O floor of a country-year measured in the same process (machines differ up to 3×).

The digests are those rule provenance writes (``carbonbudget.core.io.file_digests`` of every
raw input of the years, no cache: a fresh results folder), once with the default sampled
digest of large files and once with ``outputs.input_digests: full``. Target (issue 32): the
provenance job at most one floor at six fresh country-years.

    python benchmarks/bench_provenance.py --data /tmp/carbonbudget_country
"""

from __future__ import annotations

import argparse
import os
import time

from bench_pipeline import COLS, FIRST_YEAR, ROWS, io_floor
from country import ensure_country

from carbonbudget.core.io import file_digests

TARGET_OVER_FLOOR = 1.0


def year_inputs(p: dict, years: list[int]) -> list[str]:
    """The raw inputs of the years that provenance digests: climate, NPP and runoff."""
    keys = ("temperature", "precipitation", "npp", "runoff")
    return sorted({p[k].format(year=y) for k in keys for y in years})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/carbonbudget_country")
    ap.add_argument("--out", default="/tmp/carbonbudget_country_runs")
    args = ap.parse_args()
    years = list(range(FIRST_YEAR, FIRST_YEAR + 6))
    p = ensure_country(args.data, years, ROWS, COLS)
    files = year_inputs(p, years) + [p["regions"], p["lithology"], p["emissions"]]
    size = sum(os.path.getsize(f) for f in files) / 2**30
    floors = sorted(io_floor(args.data, FIRST_YEAR, f"{args.out}/floor") for _ in range(3))
    floor = floors[1]
    timings = {}
    for mode in ("sampled", "full"):
        t0 = time.perf_counter()
        file_digests(files, None, full=mode == "full")
        timings[mode] = time.perf_counter() - t0
    print(f"inputs of 6 country-years: {len(files)} files, {size:.1f} GiB")
    print(f"floor of a country-year (median of 3): {floor:.1f} s")
    for mode, seconds in timings.items():
        print(
            f"provenance digests, {mode:7s}: {seconds:6.2f} s = {seconds / floor:5.2f} floors "
            f"(target <= {TARGET_OVER_FLOOR:.0f})"
        )


if __name__ == "__main__":
    main()
