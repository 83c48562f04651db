"""Benchmark: what opening one of the pipeline's GeoTIFFs costs with the grid CRS's name as the
pipeline writes it, as a ratio to the same file under the name written the earlier way (PROJ's
parameter names, with underscores) and to the same file under an EPSG code, all in one process.

GDAL looks a GeoTIFF's CRS name up in PROJ's database each time it opens the file; a name with
"_" takes the slow path of that search. A run opens its rasters hundreds of times (the demo
~800), so the name is part of every job's fixed cost. Each variant is opened ``--opens`` times,
alternating, after a warm-up; the fastest of ``--repeat`` rounds is kept.

    python benchmarks/bench_open.py [--opens 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from carbonbudget.core.grid import named_crs

# the demo's grid (config/config.yaml): an Albers PROJ string with no EPSG twin
DEMO_CRS = (
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)
OLD_NAME = "Albers Equal Area (lat_1 25, lat_2 47, lat_0 0, lon_0 105) on WGS 84 ellipsoid"


def write(path: str, crs: CRS) -> None:
    """A 320 x 240 tiled float32 GeoTIFF (the demo's size) in ``crs``."""
    profile = dict(
        driver="GTiff",
        width=320,
        height=240,
        count=1,
        dtype="float32",
        crs=crs,
        transform=Affine(1000.0, 0, 200000.0, 0, -1000.0, 3140000.0),
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="zstd",
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((1, 240, 320), dtype="float32"))


def per_open_ms(path: str, opens: int) -> float:
    start = time.perf_counter()
    for _ in range(opens):
        with rasterio.open(path):
            pass
    return (time.perf_counter() - start) / opens * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--opens", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    named = named_crs(DEMO_CRS)
    wkt = named.to_wkt()
    old = CRS.from_wkt(wkt.replace(wkt.split('"')[1], OLD_NAME))
    variants = {"as written now": named, "old name": old, "EPSG:4326": CRS.from_epsg(4326)}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {k: os.path.join(tmp, f"{i}.tif") for i, k in enumerate(variants)}
        for k, crs in variants.items():
            write(paths[k], crs)
            per_open_ms(paths[k], 10)  # warm-up: PROJ's database and GDAL's driver loaded
        best = {k: float("inf") for k in variants}
        for _ in range(args.repeat):
            for k in variants:
                best[k] = min(best[k], per_open_ms(paths[k], args.opens))
    print(f"CRS name as written now: {named.to_wkt().split(chr(34))[1]}")
    for k, ms in best.items():
        print(f"{k:>15}: {ms:5.2f} ms per open")
    print(f"old name / as written now: {best['old name'] / best['as written now']:.2f}")
    print(f"as written now / EPSG code: {best['as written now'] / best['EPSG:4326']:.2f}")


if __name__ == "__main__":
    main()
