"""Synthetic country-size inputs for the benchmarks: China-like 4,000 × 5,000 pixels.

Writes, block by block (memory stays at a few hundred MB whatever the size):

- per year: 12-band monthly temperature (°C) and precipitation (mm), NPP (g C m-2 yr-1) and
  runoff (mm yr-1), float32 tiled GeoTIFFs (band-interleaved, uncompressed: the benchmarks time
  the pipeline, not the decompression of synthetic data);
- GLiM class codes (int16) on 20 km patches, karst in the south-west;
- about 2,800 county polygons (Voronoi cells of random points inside an irregular outline, edges
  densified to 500 m so a county has a few hundred vertices like real boundaries), nested in
  ~340 cities and 31 provinces with 6-digit adcode-style codes, on an Albers equal-area CRS;
- a county emission table for the years.

``country_config`` returns a pipeline config pointing at them.

    python benchmarks/country.py /tmp/country --years 2001 2002 2003
"""

from __future__ import annotations

import argparse
import os
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.windows import Window

CRS = (
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)
RES = 1000.0
XMIN, YMAX = -2_500_000.0, 5_900_000.0
SEED = 4000


def _bounds(rows, cols):
    return [XMIN, YMAX - rows * RES, XMIN + cols * RES, YMAX]


def country_grid(rows: int, cols: int, resolution: float = RES):
    """The target grid of the synthetic country (the benchmarks' one definition of it): its
    bounds are those of ``rows`` × ``cols`` pixels of RES, its pixels ``resolution`` wide."""
    from carbonbudget.core.grid import Grid

    return Grid.from_bounds(CRS, resolution, _bounds(rows, cols))


def paths(root: str) -> dict:
    return {
        "temperature": f"{root}/climate/tmean_{{year}}.tif",
        "precipitation": f"{root}/climate/prcp_{{year}}.tif",
        "npp": f"{root}/npp/npp_{{year}}.tif",
        "runoff": f"{root}/runoff/runoff_{{year}}.tif",
        "lithology": f"{root}/lithology/glim.tif",
        "regions": f"{root}/regions/counties.gpkg",
        "emissions": f"{root}/emissions/county_co2.csv",
    }


def outline(rows: int, cols: int) -> shapely.Polygon:
    """An irregular country outline filling most of the grid."""
    cx, cy = XMIN + cols * RES / 2, YMAX - rows * RES / 2
    th = np.linspace(0, 2 * np.pi, 721)[:-1]
    r = 1 + 0.08 * np.sin(3 * th + 0.4) + 0.05 * np.cos(7 * th) + 0.03 * np.sin(13 * th)
    xs = cx + 0.44 * cols * RES * r * np.cos(th)
    ys = cy + 0.44 * rows * RES * r * np.sin(th)
    return shapely.Polygon(np.column_stack([np.round(xs), np.round(ys)]))


def make_counties(
    rows: int,
    cols: int,
    n_counties: int = 2800,
    n_cities: int = 340,
    n_provinces: int = 31,
    densify_m: float = 500.0,
) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(SEED)
    shape = outline(rows, cols)
    xmin, ymin, xmax, ymax = shape.bounds

    def points_inside(n):
        out = []
        while len(out) < n:
            p = np.column_stack([rng.uniform(xmin, xmax, 4 * n), rng.uniform(ymin, ymax, 4 * n)])
            ok = shapely.contains_xy(shape, p[:, 0], p[:, 1])
            out.extend(p[ok].tolist())
        return np.array(out[:n])

    pts = points_inside(n_counties)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=shape.buffer(1e5))
    cells = [shapely.intersection(c, shape) for c in shapely.get_parts(cells)]
    cells = [c for c in cells if not c.is_empty and c.area > 0]
    geoms = shapely.segmentize(np.array(cells, dtype=object), densify_m)
    cent = shapely.centroid(geoms)
    cx, cy = shapely.get_x(cent), shapely.get_y(cent)
    city_pts, prov_pts = points_inside(n_cities), points_inside(n_provinces)
    city_of = np.argmin(
        (cx[:, None] - city_pts[:, 0]) ** 2 + (cy[:, None] - city_pts[:, 1]) ** 2, 1
    )
    prov_of_city = np.argmin(
        (city_pts[:, 0, None] - prov_pts[:, 0]) ** 2 + (city_pts[:, 1, None] - prov_pts[:, 1]) ** 2,
        1,
    )
    rows_out = []
    city_no, county_no = {}, {}
    for i in np.lexsort((cx, city_of)):
        c = int(city_of[i])
        p = int(prov_of_city[c])
        city_no.setdefault(c, sum(1 for k in city_no if prov_of_city[k] == p) + 1)
        county_no[c] = county_no.get(c, 0) + 1
        prov_code = f"{11 + p:02d}0000"
        city_code = f"{11 + p:02d}{city_no[c]:02d}00"
        rows_out.append(
            {
                "county_code": f"{city_code[:4]}{county_no[c]:02d}",
                "city_code": city_code,
                "province_code": prov_code,
                "geometry": geoms[i],
            }
        )
    gdf = gpd.GeoDataFrame(rows_out, geometry="geometry", crs=CRS)
    return gdf.sort_values("county_code").reset_index(drop=True)


def _fields(r0, h, cols, rows, year):
    """Smooth climate fields of rows r0 .. r0+h (plus deterministic per-block noise)."""
    rng = np.random.default_rng([SEED, year, r0])
    yy = 1.0 - (np.arange(r0, r0 + h, dtype="float32")[:, None] + 0.5) / rows  # 0 south, 1 north
    xx = (np.arange(cols, dtype="float32")[None, :] + 0.5) / cols  # 0 west, 1 east
    elev = 3500.0 * np.exp(-((xx - 0.2) ** 2 + (yy - 0.35) ** 2) / 0.03)
    t_mean = 24.0 - 26.0 * yy - 6.5 * elev / 1000.0 + 0.03 * (year - 2001)
    p_ann = np.clip(1900.0 * (1 - yy) * (0.3 + 0.7 * xx) + 60.0, 30.0, None)
    p_ann = p_ann * (1 + rng.normal(0, 0.05, (h, cols))).astype("float32")
    return t_mean.astype("float32"), p_ann.astype("float32"), elev


def write_year(root: str, year: int, rows: int, cols: int, block: int = 256) -> None:
    p = paths(root)
    profile = dict(
        driver="GTiff",
        width=cols,
        height=rows,
        dtype="float32",
        nodata=np.nan,
        crs=CRS,
        transform=Affine(RES, 0, XMIN, 0, -RES, YMAX),
        tiled=True,
        blockxsize=256,
        blockysize=256,
        interleave="band",
    )
    for key in ("temperature", "precipitation", "npp", "runoff"):
        os.makedirs(os.path.dirname(p[key]), exist_ok=True)
    months = np.arange(12, dtype="float32")[:, None, None]
    shape_t = np.sin(2 * np.pi * (months - 3) / 12).astype("float32")
    w = 1.0 + 2.0 * np.clip(np.sin(2 * np.pi * (months - 3) / 12), 0, None)
    w = (w / w.sum()).astype("float32")
    with (
        rasterio.open(p["temperature"].format(year=year), "w", count=12, **profile) as t_ds,
        rasterio.open(p["precipitation"].format(year=year), "w", count=12, **profile) as p_ds,
        rasterio.open(p["npp"].format(year=year), "w", count=1, **profile) as n_ds,
        rasterio.open(p["runoff"].format(year=year), "w", count=1, **profile) as q_ds,
    ):
        for r0 in range(0, rows, block):
            h = min(block, rows - r0)
            win = Window(0, r0, cols, h)
            t_mean, p_ann, _ = _fields(r0, h, cols, rows, year)
            t_ds.write(t_mean[None] + 10.0 * shape_t, window=win)
            p_ds.write(p_ann[None] * w, window=win)
            f_t = 3000.0 / (1.0 + np.exp(1.315 - 0.119 * t_mean))
            f_p = 3000.0 * (1.0 - np.exp(-0.000664 * p_ann))
            npp = np.clip(0.45 * np.minimum(f_t, f_p), 20.0, 1300.0).astype("float32")
            n_ds.write(npp[None], window=win)
            q_ds.write(np.clip(p_ann * 0.4, 5.0, 2000.0)[None].astype("float32"), window=win)


def write_static(root: str, rows: int, cols: int, years: list[int], block: int = 256) -> None:
    p = paths(root)
    for key in ("lithology", "regions", "emissions"):
        os.makedirs(os.path.dirname(p[key]), exist_ok=True)
    profile = dict(
        driver="GTiff",
        width=cols,
        height=rows,
        dtype="int16",
        nodata=-9999,
        count=1,
        crs=CRS,
        transform=Affine(RES, 0, XMIN, 0, -RES, YMAX),
        tiled=True,
        blockxsize=256,
        blockysize=256,
    )
    glim = np.array([1, 3, 5, 6, 2, 8, 9, 7, 11], dtype="int16")
    prob = np.array([0.18, 0.2, 0.17, 0.2, 0.04, 0.08, 0.08, 0.03, 0.02])
    patch = 20  # km
    rng = np.random.default_rng(SEED + 1)
    classes = rng.choice(glim, size=(rows // patch + 1, cols // patch + 1), p=prob)
    pr, pc = np.mgrid[0 : classes.shape[0], 0 : classes.shape[1]]
    classes[(pc < classes.shape[1] * 0.45) & (pr > classes.shape[0] * 0.55)] = 6  # karst SW
    with rasterio.open(p["lithology"], "w", **profile) as dst:
        for r0 in range(0, rows, block):
            h = min(block, rows - r0)
            rr = (np.arange(r0, r0 + h) // patch)[:, None]
            cc = (np.arange(cols) // patch)[None, :]
            dst.write(classes[rr, cc][None], window=Window(0, r0, cols, h))
    counties = make_counties(rows, cols)
    counties.to_file(p["regions"], layer="counties", engine="pyogrio")
    rng = np.random.default_rng(SEED + 2)
    base = rng.lognormal(0.0, 1.0, len(counties))
    growth = rng.uniform(0.02, 0.09, len(counties))
    em = [
        {"county_code": c, "year": y, "co2_mt": round(float(b * (1 + g) ** (y - years[0])), 6)}
        for c, b, g in zip(counties["county_code"], base, growth)
        for y in years
    ]
    pd.DataFrame(em).to_csv(p["emissions"], index=False)


def country_config(root: str, years: list[int], rows: int, cols: int, outdir: str) -> dict:
    p = paths(root)
    return {
        "grid": {"crs": CRS, "resolution": RES, "bounds": _bounds(rows, cols)},
        "years": list(years),
        "climate": {
            "timestep": "monthly",
            "temperature": p["temperature"],
            "precipitation": p["precipitation"],
        },
        "npp": {"path": p["npp"], "units": "g C m-2 yr-1"},
        "runoff": {"source": "raster", "path": p["runoff"], "units": "mm yr-1"},
        "lithology": {
            "path": p["lithology"],
            "classes": "config/glim_classes.csv",
            "coefficients": "config/gem_co2_coefficients.csv",
        },
        "regions": {
            "path": p["regions"],
            "levels": {"county": "county_code", "city": "city_code", "province": "province_code"},
        },
        "emissions": {
            "path": p["emissions"],
            "region_col": "county_code",
            "year_col": "year",
            "value_col": "co2_mt",
            "units": "Mt CO2",
        },
        "balance": {"tolerance_tgco2": 0.01, "cv": "none"},
        "spatial": {"levels": ["county", "city", "province"]},
        "processing": {"chunk_size": 1024, "gdal_cachemax_mb": 256},
        "outputs": {"dir": outdir},
    }


def ensure_country(root: str, years: list[int], rows: int, cols: int) -> dict:
    """The synthetic country's files under ``root`` (written where missing: the polygons,
    lithology and emissions once, each year's rasters); returns :func:`paths`."""
    p = paths(root)
    if not os.path.exists(p["regions"]):
        write_static(root, rows, cols, years)
    for y in years:
        if not os.path.exists(p["npp"].format(year=y)):
            write_year(root, y, rows, cols)
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root")
    ap.add_argument("--years", nargs="+", type=int, default=[2001])
    ap.add_argument("--size", default="4000x5000", help="rows x cols")
    args = ap.parse_args()
    rows, cols = map(int, args.size.split("x"))
    t0 = time.perf_counter()
    write_static(args.root, rows, cols, args.years)
    for y in args.years:
        write_year(args.root, y, rows, cols)
    print(f"written under {args.root} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
