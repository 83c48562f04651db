"""Heterogeneous inputs: the same fields in three CRSs and resolutions, aligned to one grid,
give per-region results close to the pre-aligned originals.

Tolerance: 0.1 % per region for the continuous fields (bilinear resampling of a smooth field
from ~1 km sources onto a 1 km grid); categorical codes must come out unchanged.
"""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from helpers import AEA
from rasterio.warp import transform as warp_transform

from carbonbudget.core.grid import Grid
from carbonbudget.inputs.align import CATEGORICAL, Values, align_raster
from carbonbudget.regions.zonal import coverage_matrix, zonal_totals

MODIS_SINU = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
TARGET = Grid.from_bounds(AEA, 1000.0, [-40000, 2960000, 40000, 3020000])


def field_gc(lon, lat):
    """A smooth NPP-like field, g C m-2 yr-1."""
    return 500.0 + 150.0 * np.sin(np.deg2rad(lon - 105.0) * 40) + 80.0 * (lat - 28.0)


def lith_class(lon, lat):
    """0.5° blocks of three GLiM codes."""
    k = (np.floor(lon * 2).astype(int) + np.floor(lat * 2).astype(int)) % 3
    return np.array([1, 3, 6])[k]


def centres_lonlat(grid, crs):
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    xs, ys = grid.transform @ (cols.ravel(), rows.ravel())
    lon, lat = warp_transform(crs, "EPSG:4326", xs, ys)
    return np.reshape(lon, grid.shape), np.reshape(lat, grid.shape)


def write(path, data, crs, transform, dtype, nodata):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as d:
        d.write(data.astype(dtype), 1)
    return str(path)


@pytest.fixture(scope="module")
def regions():
    boxes = [
        shapely.box(-38000, 2962000, 0, 2990000),
        shapely.box(0, 2962000, 38000, 2990000),
        shapely.box(-38000, 2990000, 0, 3018000),
        shapely.box(0, 2990000, 38000, 3018000),
    ]
    gdf = gpd.GeoDataFrame({"code": ["a", "b", "c", "d"]}, geometry=boxes, crs=AEA)
    return coverage_matrix(gdf, "code", TARGET)


def _totals(regions, path):
    codes, m = regions
    return zonal_totals(m, codes, TARGET, {"x": path}).set_index("code")["x_tgc"]


def test_wgs84_and_sinusoidal_sources_match_originals(regions, tmp_path):
    lon, lat = centres_lonlat(TARGET, TARGET.crs)
    original = write(
        tmp_path / "orig.tif", field_gc(lon, lat), TARGET.crs, TARGET.transform, "float32", np.nan
    )
    ref = _totals(regions, original)

    # (a) geographic WGS84 at 0.01°
    res = 0.01
    w0, s0, e0, n0 = 104.4, 27.9, 105.6, 28.9  # target spans 104.59-105.41 E, 28.11-28.65 N
    ny, nx = int(round((n0 - s0) / res)), int(round((e0 - w0) / res))
    glon = w0 + (np.arange(nx) + 0.5) * res
    glat = n0 - (np.arange(ny) + 0.5) * res
    a = write(
        tmp_path / "wgs84.tif",
        field_gc(*np.meshgrid(glon, glat)),
        "EPSG:4326",
        Affine(res, 0, w0, 0, -res, n0),
        "float32",
        np.nan,
    )
    align_raster(
        a, str(tmp_path / "a.tif"), TARGET, variable="npp", values=Values(units="g C m-2 yr-1")
    )

    # (b) MODIS sinusoidal, ~926.6 m, uint16 counts of 0.0001 kg C m-2 yr-1
    px = 926.625433
    xs0, ys0 = warp_transform("EPSG:4326", MODIS_SINU, [104.3], [28.8])
    x0, y0 = np.floor(xs0[0] / px) * px, np.ceil(ys0[0] / px) * px
    nx, ny = 220, 130  # wide enough in x: sinusoidal metres per degree grow southwards
    sx, sy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * px, y0 - (np.arange(ny) + 0.5) * px)
    slon, slat = warp_transform(MODIS_SINU, "EPSG:4326", sx.ravel(), sy.ravel())
    counts = np.round(
        field_gc(np.reshape(slon, sx.shape), np.reshape(slat, sx.shape)) / 1000 / 1e-4
    )
    b = write(
        tmp_path / "sinu.tif", counts, MODIS_SINU, Affine(px, 0, x0, 0, -px, y0), "uint16", 65535
    )
    align_raster(
        b,
        str(tmp_path / "b.tif"),
        TARGET,
        variable="npp",
        values=Values(scale=1e-4, units="kg C m-2 yr-1"),
    )

    for path in (tmp_path / "a.tif", tmp_path / "b.tif"):
        got = _totals(regions, str(path))
        np.testing.assert_allclose(got.values, ref.values, rtol=1e-3)  # measured: 9e-5


def test_half_degree_categorical_keeps_codes(tmp_path):
    res = 0.5
    w0, n0 = 103.0, 29.0
    glon = w0 + (np.arange(8) + 0.5) * res
    glat = n0 - (np.arange(8) + 0.5) * res
    codes = lith_class(*np.meshgrid(glon, glat))
    src = write(
        tmp_path / "lith05.tif", codes, "EPSG:4326", Affine(res, 0, w0, 0, -res, n0), "int16", -9999
    )
    align_raster(
        src,
        str(tmp_path / "lith.tif"),
        TARGET,
        variable="lithology",
        values=Values(kind=CATEGORICAL),
    )
    with rasterio.open(tmp_path / "lith.tif") as r:
        got = r.read(1)
    assert np.isfinite(got).all()
    assert set(np.unique(got).astype(int)) <= {1, 3, 6}
    lon, lat = centres_lonlat(TARGET, TARGET.crs)
    assert (got == lith_class(lon, lat)).mean() > 0.99
