"""A small, deterministic synthetic region for the demo run and the tests.

Same bytes on every run: fixed seeds, no timestamps (GeoPackage dates pinned via
OGR_CURRENT_DATE). 320 × 240 pixels of 1 km on an Albers equal-area grid; an irregular study
area split into 36 counties, 8 cities and 3 provinces with 6-digit adcode-style codes; years
2001–2010 of monthly temperature (°C) and precipitation (mm), NPP stored as MOD17A3 does
(uint16, scale 0.0001 kg C m-2 yr-1), runoff (mm yr-1), GLiM class codes, county CO2 (Mt) and
GDP/population tables. Values are physically plausible: NPP 100–1,200 g C m-2 yr-1, runoff
20–1,500 mm yr-1, and RH of the same order as NPP so that NEP has both signs.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.warp import Resampling, reproject, transform_bounds

from carbonbudget.core.io import atomic_output, gdal_env, write_gpkg_layer
from carbonbudget.inputs.demo_files import (
    DEMO_YEARS,
    SCENARIO_YEARS,
    SCENARIOS,
    demo_files,
    demo_paths,
)

log = logging.getLogger(__name__)

SEED = 20220101
DEMO_CRS = (
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)
RESOLUTION = 1000.0
WIDTH, HEIGHT = 320, 240
XMIN, YMAX = 200_000.0, 3_140_000.0
BOUNDS = [XMIN, YMAX - HEIGHT * RESOLUTION, XMIN + WIDTH * RESOLUTION, YMAX]
N_COUNTIES, N_CITIES, N_PROVINCES = 36, 8, 3
NPP_SCALE = 0.0001  # kg C m-2 yr-1 per stored count, as MOD17A3
NPP_NODATA = 65535
LITH_NODATA = -9999
PROVINCE_NAMES = ["Lingnan", "Qianbei", "Yunshan"]
HISTORY_YEARS = list(range(1991, 2001))  # emissions and drivers before the raster years
SCENARIO_RES = 0.1
# Demo "inventory" factors, t CO2 per t of fuel: China-like values that differ from the IPCC
# defaults (as national factors do), so a Tier 1 estimate with IPCC defaults is a few % off.
FUEL_SHARES = {
    "coal": 0.66,
    "coke": 0.09,
    "coke_oven_gas": 0.02,
    "blast_furnace_gas": 0.03,
    "converter_gas": 0.005,
    "other_gas": 0.005,
    "crude_oil": 0.01,
    "gasoline": 0.045,
    "kerosene": 0.01,
    "diesel": 0.07,
    "fuel_oil": 0.015,
    "lpg": 0.01,
    "natural_gas": 0.025,
    "lng": 0.005,
}
DEMO_T_CO2_PER_T = {
    "coal": 2.30,
    "coke": 2.90,
    "coke_oven_gas": 1.65,
    "blast_furnace_gas": 0.66,
    "converter_gas": 1.25,
    "other_gas": 1.60,
    "crude_oil": 3.02,
    "gasoline": 2.98,
    "kerosene": 3.05,
    "diesel": 3.10,
    "fuel_oil": 3.17,
    "lpg": 3.05,
    "natural_gas": 2.60,
    "lng": 2.65,
}


# ---------------------------------------------------------------------------- geometry ----
def _outline() -> shapely.Polygon:
    """Irregular study-area outline inside the grid rectangle."""
    cx, cy = XMIN + WIDTH * RESOLUTION / 2, YMAX - HEIGHT * RESOLUTION / 2
    th = np.linspace(0, 2 * np.pi, 181)[:-1]
    r = 1 + 0.10 * np.sin(3 * th + 0.4) + 0.06 * np.cos(5 * th)
    xs = cx + 148_000 * r * np.cos(th)
    ys = cy + 108_000 * r * np.sin(th)
    return shapely.Polygon(np.column_stack([np.round(xs), np.round(ys)]))


def _farthest_points(pts: np.ndarray, k: int) -> np.ndarray:
    """Indices of k points chosen by farthest-point sampling from the north-westernmost one."""
    chosen = [int(np.argmin(pts[:, 0] - pts[:, 1]))]
    d = np.linalg.norm(pts - pts[chosen[0]], axis=1)
    for _ in range(k - 1):
        nxt = int(np.argmax(d))
        chosen.append(nxt)
        d = np.minimum(d, np.linalg.norm(pts - pts[nxt], axis=1))
    return np.array(chosen)


def make_regions() -> gpd.GeoDataFrame:
    """36 counties (Voronoi cells of well-spaced seeds, clipped to the outline) in 8 cities
    and 3 provinces, with nested 6-digit codes and names."""
    rng = np.random.default_rng(SEED)
    outline = _outline()
    minx, miny, maxx, maxy = outline.bounds
    picked: list[np.ndarray] = []
    while len(picked) < N_COUNTIES:
        p = rng.uniform([minx, miny], [maxx, maxy])
        if outline.contains(shapely.Point(p)) and all(np.hypot(*(p - q)) > 26_000 for q in picked):
            picked.append(p)
    seeds = np.array(picked)
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seeds), extend_to=outline.envelope.buffer(1e4)
    )
    polys = []
    for s in seeds:
        cell = next(c for c in cells.geoms if c.contains(shapely.Point(s)))
        geom = shapely.set_precision(cell.intersection(outline), 1.0)
        polys.append(geom)
    cent = np.array([[g.centroid.x, g.centroid.y] for g in polys])
    city_seed = _farthest_points(cent, N_CITIES)
    city_of = np.argmin(np.linalg.norm(cent[:, None] - cent[city_seed][None], axis=2), axis=1)
    city_cent = np.array([cent[city_of == c].mean(axis=0) for c in range(N_CITIES)])
    prov_seed = _farthest_points(city_cent, N_PROVINCES)
    prov_of_city = np.argmin(
        np.linalg.norm(city_cent[:, None] - city_cent[prov_seed][None], axis=2), axis=1
    )
    # codes: provinces ordered west to east, cities and counties north-west to south-east
    prov_order = np.argsort(city_cent[prov_seed][:, 0])
    rows = []
    for pi, p in enumerate(prov_order, start=1):
        pcode = f"{90 + pi}0000"
        cities = [
            c for c in np.argsort(-city_cent[:, 1] + 1e-3 * city_cent[:, 0]) if prov_of_city[c] == p
        ]
        for ci, c in enumerate(cities, start=1):
            ccode = f"{90 + pi}{ci:02d}00"
            members = [i for i in np.argsort(-cent[:, 1] + 1e-3 * cent[:, 0]) if city_of[i] == c]
            for di, i in enumerate(members, start=1):
                rows.append(
                    {
                        "county_code": f"{90 + pi}{ci:02d}{di:02d}",
                        "county_name": f"{PROVINCE_NAMES[pi - 1]} {ci}-{di}",
                        "city_code": ccode,
                        "city_name": f"{PROVINCE_NAMES[pi - 1]} city {ci}",
                        "province_code": pcode,
                        "province_name": PROVINCE_NAMES[pi - 1],
                        "geometry": polys[i],
                    }
                )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=DEMO_CRS)
    return gdf.sort_values("county_code").reset_index(drop=True)


def make_basins(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Four river basins over the study area that do not nest with the counties: Voronoi cells
    of four seeds on a diagonal band, clipped to the counties' union (so the CE spread on the
    grid is known on every pixel of a basin)."""
    union = shapely.union_all(regions.geometry.values)
    minx, miny, maxx, maxy = union.bounds
    fx = np.array([0.15, 0.42, 0.62, 0.88])
    fy = np.array([0.70, 0.35, 0.80, 0.40])
    seeds = np.column_stack([minx + fx * (maxx - minx), miny + fy * (maxy - miny)])
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=union.envelope)
    rows = []
    for i, s in enumerate(seeds, start=1):
        cell = next(c for c in cells.geoms if c.contains(shapely.Point(s)))
        rows.append(
            {
                "basin_code": f"B{i}",
                "basin_name": f"Basin {i}",
                "geometry": shapely.set_precision(cell.intersection(union), 1.0),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=regions.crs)


# ------------------------------------------------------------------------------ fields ----
def _coords():
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype("float64")
    return x / (WIDTH - 1), 1.0 - y / (HEIGHT - 1)  # x: 0 west -> 1 east; y: 0 south -> 1 north


def _static_fields():
    rng = np.random.default_rng(SEED + 1)
    xn, yn = _coords()
    elev = np.zeros_like(xn)
    for cx, cy, h, w in [
        (0.15, 0.35, 1800, 0.18),
        (0.35, 0.8, 1200, 0.15),
        (0.8, 0.3, 700, 0.2),
        (0.6, 0.65, 900, 0.1),
    ]:
        elev += h * np.exp(-((xn - cx) ** 2 + (yn - cy) ** 2) / (2 * w * w))
    # vegetation condition (cropland, towns, degraded land lower NPP): smooth random blobs
    veg = np.ones_like(xn)
    for _ in range(14):
        cx, cy = rng.uniform(0, 1, 2)
        veg -= rng.uniform(0.25, 0.55) * np.exp(
            -((xn - cx) ** 2 + (yn - cy) ** 2) / (2 * rng.uniform(0.03, 0.07) ** 2)
        )
    veg = np.clip(veg, 0.3, 1.0)
    # lithology: nearest of 60 seeds, class weights as in south China; karst in the south-west
    glim = np.array([1, 3, 5, 6, 2, 8, 9, 7, 11])
    weights = np.array([0.18, 0.2, 0.17, 0.2, 0.04, 0.08, 0.08, 0.03, 0.02])
    sx, sy = rng.uniform(0, 1, 60), rng.uniform(0, 1, 60)
    cls = rng.choice(glim, size=60, p=weights)
    cls[(sx < 0.4) & (sy < 0.5)] = 6
    nearest = np.argmin((xn[..., None] - sx) ** 2 + (yn[..., None] - sy) ** 2, axis=-1)
    lith = cls[nearest].astype("int16")
    return elev, veg, lith


def _climate(year: int, elev):
    xn, yn = _coords()
    rng = np.random.default_rng(SEED + year)
    t_mean = 22.0 - 12.0 * yn - 6.5 * elev / 1000.0 + 0.03 * (year - 2001) + rng.normal(0, 0.3)
    amp = 7.0 + 6.0 * yn
    p_ann = (400.0 + 1300.0 * (1 - yn) * (0.6 + 0.4 * xn) + 0.25 * elev) * (1 + rng.normal(0, 0.08))
    months = np.arange(1, 13)
    shape_t = np.sin(2 * np.pi * (months - 4) / 12.0)
    w = 1.0 + 2.0 * np.clip(np.sin(2 * np.pi * (months - 3) / 12.0), 0, None)
    w = w / w.sum()
    tm = t_mean[None] + amp[None] * shape_t[:, None, None]
    pm = p_ann[None] * w[:, None, None] * rng.uniform(0.85, 1.15, size=(12, 1, 1))
    return tm.astype("float32"), pm.astype("float32"), t_mean, pm.sum(axis=0)


def _npp_g(t_mean, p_ann, veg, year):
    """Miami-model NPP (Lieth 1975; g dry matter -> g C with 0.45) times vegetation condition."""
    rng = np.random.default_rng(SEED + 100 + year)
    f_t = 3000.0 / (1.0 + np.exp(1.315 - 0.119 * t_mean))
    f_p = 3000.0 * (1.0 - np.exp(-0.000664 * p_ann))
    npp = (
        0.45 * np.minimum(f_t, f_p) * veg * (1 + 0.006 * (year - 2001)) * (1 + rng.normal(0, 0.03))
    )
    return np.clip(npp, 100.0, 1200.0)


def _write(path, data, dtype, nodata, descriptions=None, tags=None, band_tags=None):
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    profile = dict(
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=data.shape[0],
        dtype=dtype,
        nodata=nodata,
        crs=DEMO_CRS,
        transform=Affine(RESOLUTION, 0, XMIN, 0, -RESOLUTION, YMAX),
        tiled=True,
        blockxsize=256,
        blockysize=256,
        # DEFLATE level 1: the same size as the default level 6 for these fields (within 1 %),
        # in half the time; the demo's inputs are written at the start of every fresh demo run
        compress="deflate",
        zlevel=1,
        interleave="band",
    )
    with atomic_output(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data.astype(dtype))
        if descriptions:
            for i, d in enumerate(descriptions, start=1):
                dst.set_band_description(i, d)
        if tags:
            dst.update_tags(**tags)
        for i in range(1, data.shape[0] + 1):
            if band_tags:
                dst.update_tags(i, **band_tags)


def build_demo(root: str = "data/demo", threads: int = 1) -> list[str]:
    """Write every demo input under ``root`` (the years on ``threads`` threads: numpy and
    GDAL's compression release the GIL, and the job runs alone at the start of a demo run);
    returns the list of files written. The files are the same whatever ``threads``: each year
    draws from its own seeded generator."""
    paths = demo_paths(root)
    for f in demo_files(root):
        os.makedirs(os.path.dirname(f), exist_ok=True)
    elev, veg, lith = _static_fields()

    def one_year(year: int) -> None:
        with gdal_env():  # rasterio's environment is per thread
            _write_year(paths, year, elev, veg, lith)

    def static_and_scenarios() -> None:
        with gdal_env():
            _write(paths["lithology"], lith, "int16", LITH_NODATA, ["GLiM class code"])
            _write(
                paths["population"],
                _population(lith),
                "float32",
                np.nan,
                ["population density"],
                band_tags={"units": "people km-2"},
            )
            _write_scenarios(paths, elev, veg, lith)

    with ThreadPoolExecutor(max(1, threads)) as pool:
        tasks = [pool.submit(static_and_scenarios)]
        tasks += [pool.submit(one_year, year) for year in DEMO_YEARS]
        for task in tasks:
            task.result()
    with gdal_env():
        regions = make_regions()
        with atomic_output(paths["regions"]) as tmp:
            write_gpkg_layer(regions, tmp, "counties")
        with atomic_output(paths["basins"]) as tmp:
            write_gpkg_layer(make_basins(regions), tmp, "basins")

    _write_tables(regions, paths)
    log.info("demo inputs written under %s", root)
    return demo_files(root)


def _write_year(paths: dict, year: int, elev, veg, lith) -> None:
    """The climate, NPP and runoff rasters of one demo year."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    tm, pm, t_mean, p_ann = _climate(year, elev)
    for key, monthly, units in (("temperature", tm, "degC"), ("precipitation", pm, "mm")):
        _write(
            paths[key].format(year=year),
            monthly,
            "float32",
            np.nan,
            months,
            band_tags={"units": units},
        )
    npp = _npp_g(t_mean, p_ann, veg, year)
    counts = np.round(npp / 1000.0 / NPP_SCALE)
    counts[lith == 11] = NPP_NODATA  # water bodies carry no NPP, as in MOD17A3
    _write(
        paths["npp"].format(year=year),
        counts,
        "uint16",
        NPP_NODATA,
        ["Npp_1km"],
        tags={"scale_factor": NPP_SCALE, "units": "kg C m-2 yr-1"},
    )
    _write(
        paths["runoff"].format(year=year),
        _runoff(p_ann),
        "float32",
        np.nan,
        ["runoff"],
        band_tags={"units": "mm yr-1"},
    )


def _population(lith):
    """People per km²: three cities and a dozen towns over a thin rural population, none on
    water (the weights that spread the county emissions onto the grid)."""
    rng = np.random.default_rng(SEED + 9)
    xn, yn = _coords()
    wkm, hkm = WIDTH * RESOLUTION / 1000.0, HEIGHT * RESOLUTION / 1000.0  # distances in km
    pop = np.full(xn.shape, 40.0) * rng.uniform(0.7, 1.3, xn.shape)
    cities = [(0.7, 0.35, 6000.0, 6.0), (0.35, 0.55, 4000.0, 5.0), (0.55, 0.75, 3000.0, 4.0)]
    towns = [
        (*rng.uniform(0.08, 0.92, 2), rng.uniform(500, 1500), rng.uniform(1.5, 3.0))
        for _ in range(12)
    ]
    for cx, cy, peak, sigma in cities + towns:
        d2 = ((xn - cx) * wkm) ** 2 + ((yn - cy) * hkm) ** 2
        pop += peak * np.exp(-d2 / (2 * sigma * sigma))
    pop[lith == 11] = 0.0
    return pop


def _runoff(p_ann):
    coef = np.clip(0.15 + 0.45 * (p_ann - 400.0) / 1600.0, 0.15, 0.6)
    return np.clip(p_ann * coef, 20.0, 1500.0)


def _scenario_grid():
    """(transform, width, height) of a 0.1° WGS84 grid covering the demo region with a margin."""
    w, s, e, n = transform_bounds(DEMO_CRS, "EPSG:4326", *BOUNDS, densify_pts=21)
    r = SCENARIO_RES
    w, s = np.floor(w / r) * r - r, np.floor(s / r) * r - r
    e, n = np.ceil(e / r) * r + r, np.ceil(n / r) * r + r
    return Affine(r, 0, w, 0, -r, n), int(round((e - w) / r)), int(round((n - s) / r))


def _write_scenarios(paths: dict, elev, veg, lith) -> None:
    """Scenario climate, NPP and runoff for SCENARIO_YEARS on a 0.1° WGS84 grid: the 2010 demo
    fields with a warming, precipitation and NPP change per year after 2010 (placeholders),
    averaged to the coarse grid as a scenario product would come."""
    transform, width, height = _scenario_grid()
    src_tr = Affine(RESOLUTION, 0, XMIN, 0, -RESOLUTION, YMAX)

    def coarse(data):
        data = np.asarray(data, dtype="float32")
        data = data[None] if data.ndim == 2 else data
        out = np.full((data.shape[0], height, width), np.nan, dtype="float32")
        # every band in one warp: the same averages as band by band, without setting the warper
        # up once per band (~5 ms each, 104 bands, on the critical path of every fresh demo run)
        reproject(
            data,
            out,
            src_transform=src_tr,
            src_crs=DEMO_CRS,
            src_nodata=np.nan,
            dst_transform=transform,
            dst_crs="EPSG:4326",
            dst_nodata=np.nan,
            resampling=Resampling.average,
        )
        return out

    def write(path, data, band_tags, descriptions):
        profile = dict(
            driver="GTiff",
            width=width,
            height=height,
            count=data.shape[0],
            dtype="float32",
            nodata=np.nan,
            crs="EPSG:4326",
            transform=transform,
            compress="deflate",
            interleave="band",
        )
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_output(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            for i, d in enumerate(descriptions, start=1):
                dst.set_band_description(i, d)
                dst.update_tags(i, **band_tags)

    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    tm, pm, t_mean, p_ann = _climate(2010, elev)
    for name, d in SCENARIOS.items():
        for year in SCENARIO_YEARS:
            k = year - 2010
            fp = 1 + d["dp_per_yr"] * k
            npp = _npp_g(t_mean + d["dt_per_yr"] * k, p_ann * fp, veg, 2010)
            npp = npp * (1 + d["dnpp_per_yr"] * k)
            npp[lith == 11] = np.nan
            fmt = {"scenario": name, "year": year}
            write(
                paths["scenario_temperature"].format(**fmt),
                coarse(tm + d["dt_per_yr"] * k),
                {"units": "degC"},
                months,
            )
            write(
                paths["scenario_precipitation"].format(**fmt),
                coarse(pm * fp),
                {"units": "mm"},
                months,
            )
            write(
                paths["scenario_npp"].format(**fmt),
                coarse(npp / 1000.0),
                {"units": "kg C m-2 yr-1"},
                ["npp"],
            )
            write(
                paths["scenario_runoff"].format(**fmt),
                coarse(_runoff(p_ann * fp)),
                {"units": "mm yr-1"},
                ["runoff"],
            )


def _write_tables(regions: gpd.GeoDataFrame, paths: dict) -> None:
    rng = np.random.default_rng(SEED + 7)
    cent = regions.geometry.centroid
    xn = (cent.x.values - XMIN) / (WIDTH * RESOLUTION)
    yn = (cent.y.values - (YMAX - HEIGHT * RESOLUTION)) / (HEIGHT * RESOLUTION)
    # three urban centres; emissions and population fall off with distance from them
    urban = np.zeros(len(regions))
    for cx, cy in [(0.7, 0.35), (0.35, 0.55), (0.55, 0.75)]:
        urban += np.exp(-((xn - cx) ** 2 + (yn - cy) ** 2) / (2 * 0.08**2))
    e0 = 0.15 + 9.0 * urban * rng.uniform(0.7, 1.3, len(regions))  # Mt CO2 in 2001
    growth = rng.uniform(0.03, 0.09, len(regions))
    pop0 = 150.0 + 1500.0 * urban * rng.uniform(0.8, 1.2, len(regions))  # thousand people
    gdppc0 = 8.0 + 20.0 * urban  # thousand CNY/person
    em_rows, se_rows = [], []
    for i, code in enumerate(regions["county_code"]):
        for year in DEMO_YEARS:
            k = year - DEMO_YEARS[0]
            noise = 1 + rng.normal(0, 0.02)
            em_rows.append(
                {
                    "county_code": code,
                    "year": year,
                    "co2_mt": round(float(e0[i] * (1 + growth[i]) ** k * noise), 6),
                }
            )
            pop = pop0[i] * 1.005**k
            se_rows.append(
                {
                    "county_code": code,
                    "year": year,
                    "population_thousand": round(float(pop), 3),
                    "gdp_billion_cny": round(float(pop * gdppc0[i] * 1.08**k / 1000), 4),
                }
            )
    # emissions before the raster years (a separate stream: the 2001-2010 values stay as they were)
    rng_h = np.random.default_rng(SEED + 8)
    hist = [
        {
            "county_code": code,
            "year": year,
            "co2_mt": round(
                float(
                    e0[i] * (1 + growth[i]) ** (year - DEMO_YEARS[0]) * (1 + rng_h.normal(0, 0.02))
                ),
                6,
            ),
        }
        for i, code in enumerate(regions["county_code"])
        for year in HISTORY_YEARS
    ]
    em = pd.DataFrame(hist + em_rows).sort_values(["county_code", "year"], kind="stable")
    se = pd.DataFrame(se_rows)
    for frame, key in ((em, "emissions"), (se, "socioeconomic")):
        with atomic_output(paths[key]) as tmp:
            frame.to_csv(tmp, index=False, lineterminator="\n")
    _write_fuel_consumption(em, regions, paths["fuel_consumption"])
    _write_drivers(em, se, paths["drivers"])


def _write_fuel_consumption(em: pd.DataFrame, regions: gpd.GeoDataFrame, path: str) -> None:
    """Province fuel use (kt) that the demo's own factors turn into the county table's province
    totals within a few per cent: what a Tier 1 check with IPCC defaults is compared against."""
    rng = np.random.default_rng(SEED + 9)
    prov = em.merge(pd.DataFrame(regions[["county_code", "province_code"]]), on="county_code")
    prov = prov[prov["year"].isin(DEMO_YEARS)].groupby(["province_code", "year"])["co2_mt"].sum()
    bias = dict(zip(sorted(prov.index.get_level_values(0).unique()), rng.normal(0, 0.03, 3)))
    rows = []
    for (code, year), co2 in prov.items():
        for fuel, share in FUEL_SHARES.items():
            kt = co2 * 1e3 * share * (1 + bias[code] + rng.normal(0, 0.02)) / DEMO_T_CO2_PER_T[fuel]
            rows.append(
                {
                    "province_code": code,
                    "year": year,
                    "fuel": fuel,
                    "amount": round(float(kt), 3),
                    "unit": "kt",
                }
            )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_output(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, lineterminator="\n")


def _write_drivers(em: pd.DataFrame, se: pd.DataFrame, path: str) -> None:
    """Study-area drivers of the emission model (docs/method.md, "Scenarios"), 1991-2010:
    population and GDP from
    the county table (extended back at 0.5 % and 8 % a year), energy use consistent with the
    emissions through a slowly falling coal share, smooth urbanisation and industry shares."""
    rng = np.random.default_rng(SEED + 10)
    years = np.array(HISTORY_YEARS + DEMO_YEARS)
    ce = em.groupby("year")["co2_mt"].sum().reindex(years).to_numpy()
    tot = se.groupby("year")[["population_thousand", "gdp_billion_cny"]].sum()
    k = years - DEMO_YEARS[0]
    pop = tot["population_thousand"].iloc[0] * 1.005**k / 1e3  # million people
    gdp = tot["gdp_billion_cny"].iloc[0] * 1.08**k  # billion CNY
    coal = 76.0 - 0.45 * (years - years[0]) + rng.normal(0, 0.3, len(years))  # % of energy
    energy = ce / (2.1 * coal / 76.0 + 0.35)  # Mt coal equivalent
    out = pd.DataFrame(
        {
            "region": "all",
            "year": years,
            "population": np.round(pop, 4),
            "urbanisation_rate": np.round(
                28.0 + 1.15 * (years - years[0]) + rng.normal(0, 0.2, len(years)), 3
            ),
            "gdp": np.round(gdp, 3),
            "secondary_share": np.round(
                44.0 + 2.0 * np.sin((years - 1991) / 4.0) - 0.1 * (years - 1991), 3
            ),
            "energy_intensity": np.round(energy / gdp, 6),
            "energy_use": np.round(energy, 3),
            "energy_structure": np.round(coal, 3),
        }
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_output(path) as tmp:
        out.to_csv(tmp, index=False, lineterminator="\n")
