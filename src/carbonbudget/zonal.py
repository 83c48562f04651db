"""Exact zonal totals from a cached sparse region × pixel coverage matrix (docs/method.md, "Zonal
totals").

The fraction of every pixel covered by every region is computed once per (region layer, grid)
with exactextract (exact at polygon edges) and stored as a sparse matrix. Totals of any variable
in any year are then one pass over the stored coverages per block of rows (a numba kernel):

    X_tgc[r] = Σ_p X[p] · a_pix[p] · w[r, p] / 1e12     (X in g C m-2 yr-1, a_pix in m²)

Pixels where X is NaN are left out of the sum and reported through ``valid_fraction``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import rasterio
import scipy.sparse as sp
import shapely
from rasterio.windows import Window

from .errors import GridError
from .io import atomic_output, gdal_env

if TYPE_CHECKING:
    from collections.abc import Iterator

    import geopandas as gpd

    from .grid import Grid

log = logging.getLogger(__name__)

G_PER_TG = 1e12
M2_PER_KM2 = 1e6


def regions_digest(regions: gpd.GeoDataFrame, code_col: str) -> str:
    """Digest of the region codes and geometries (WKB), for cache keys."""
    h = hashlib.sha256()
    h.update(str(regions.crs.to_wkt() if regions.crs else "").encode())
    for code, geom in zip(regions[code_col], regions.geometry):
        h.update(str(code).encode())
        h.update(shapely.to_wkb(geom, hex=False, output_dimension=2, byte_order=1))
    return h.hexdigest()[:16]


def in_grid_crs(regions: gpd.GeoDataFrame, grid: Grid) -> gpd.GeoDataFrame:
    """The regions reprojected to the grid CRS (unchanged if they already are in it)."""
    if regions.crs is None or not regions.crs.equals(grid.crs.to_wkt()):
        return regions.to_crs(grid.crs.to_wkt())
    return regions


def coverage_matrix(
    regions: gpd.GeoDataFrame, code_col: str, grid: Grid
) -> tuple[list[str], sp.csc_matrix]:
    """Fraction of each pixel inside each region: (codes, CSC matrix n_regions × n_pixels).

    Stored by pixel (CSC) so a block of image rows is a contiguous slice of the matrix: the
    zonal sums then stream the raster in row blocks without re-indexing.

    Uses exactextract's ``cell_id``/``coverage`` on a dummy raster of the grid's extent, so the
    fractions are exact at polygon edges. Pixel ids are row-major from the top-left pixel.
    """
    # imported here: the per-year zonal jobs only read the cached matrix and need neither
    import geopandas as gpd
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    regions = in_grid_crs(regions, grid)
    xmin, ymin, xmax, ymax = grid.bounds
    dummy = NumPyRasterSource(
        np.zeros(grid.shape, dtype=np.uint8),
        xmin=xmin,
        ymin=ymin,
        xmax=xmax,
        ymax=ymax,
        srs_wkt=grid.crs.to_wkt(),
    )
    vec = gpd.GeoDataFrame(
        {"_row": np.arange(len(regions))}, geometry=regions.geometry.values, crs=regions.crs
    )
    res = exact_extract(dummy, vec, ["cell_id", "coverage"], include_cols=["_row"], output="pandas")
    row_parts: list[np.ndarray] = []
    col_parts: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    for r, ids, cov in zip(res["_row"], res["cell_id"], res["coverage"]):
        ids = np.asarray(ids, dtype=np.int64)
        row_parts.append(np.full(len(ids), r, dtype=np.int64))
        col_parts.append(ids)
        val_parts.append(np.asarray(cov, dtype=np.float64))
    n_pix = grid.width * grid.height
    rows = np.concatenate(row_parts) if row_parts else np.empty(0, np.int64)
    cols = np.concatenate(col_parts) if col_parts else np.empty(0, np.int64)
    vals = np.concatenate(val_parts) if val_parts else np.empty(0, np.float64)
    keep = vals > 0
    m = sp.coo_matrix((vals[keep], (rows[keep], cols[keep])), shape=(len(regions), n_pix)).tocsc()
    m.sum_duplicates()
    return [str(c) for c in regions[code_col]], m


COVERAGE_FORMAT = "csc"  # part of the cache key: a format change never reuses an old file


def save_coverage(
    path: str, codes: list[str], matrix: sp.spmatrix, grid: Grid, digest: str
) -> None:
    """Store a coverage matrix with the digests of its grid and regions (uncompressed)."""
    matrix = matrix.tocsc()
    with atomic_output(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            # uncompressed: zlib costs more time than the file saves (docs/performance.md)
            np.savez(
                fh,
                codes=np.array(codes, dtype=str),
                data=matrix.data,
                indices=matrix.indices,
                indptr=matrix.indptr,
                shape=np.array(matrix.shape),
                grid_digest=grid.digest(),
                regions_digest=digest,
                format=COVERAGE_FORMAT,
            )


def load_coverage(path: str, grid: Grid) -> tuple[list[str], sp.csc_matrix]:
    """A stored coverage matrix; one of another grid or format version is refused."""
    with np.load(path, allow_pickle=False) as z:
        if str(z["grid_digest"]) != grid.digest():
            raise GridError(
                f"{path}: coverage was computed for another grid; delete it and "
                "rerun so it is rebuilt for the current grid"
            )
        if "format" not in z or str(z["format"]) != COVERAGE_FORMAT:
            raise GridError(
                f"{path}: coverage file of an older carbonbudget version; delete it "
                "and rerun so it is rebuilt"
            )
        m = sp.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        return [str(c) for c in z["codes"]], m


def simplify_to_pixel(
    regions: gpd.GeoDataFrame, grid: Grid, factor: float = 0.5
) -> gpd.GeoDataFrame:
    """Simplify polygons to about the pixel scale (tolerance = factor × pixel size) while keeping
    shared boundaries shared (``shapely.coverage_simplify``), so no gaps or overlaps appear.
    exactextract's cost grows with vertex count; this is applied only when the user asks."""
    tol = factor * min(abs(grid.transform.a), abs(grid.transform.e))
    out = regions.copy()
    out["geometry"] = shapely.coverage_simplify(regions.geometry.values, tol)
    return out


def cached_coverage(
    regions: gpd.GeoDataFrame,
    code_col: str,
    grid: Grid,
    cache_dir: str | None,
    simplify: bool = False,
) -> tuple[list[str], sp.csc_matrix, str, bool]:
    """Coverage matrix from the on-disk cache, or computed and stored there.

    The key is a digest of the region codes and geometries (in the grid CRS), the grid and the
    simplification setting, so any change to polygons or grid gives a new entry; identical
    inputs reuse the matrix for every variable, year and level. Returns
    (codes, matrix, key, from_cache)."""
    regions = in_grid_crs(regions, grid)
    key = hashlib.sha256(
        f"{regions_digest(regions, code_col)}|{grid.digest()}|"
        f"simplify={bool(simplify)}|{COVERAGE_FORMAT}".encode()
    ).hexdigest()[:20]
    path = os.path.join(cache_dir, f"coverage_{key}.npz") if cache_dir else None
    if path and os.path.exists(path):
        codes, matrix = load_coverage(path, grid)
        log.info("coverage matrix from cache %s", path)
        return codes, matrix, key, True
    geoms = simplify_to_pixel(regions, grid) if simplify else regions
    codes, matrix = coverage_matrix(geoms, code_col, grid)
    if path:
        save_coverage(path, codes, matrix, grid, key)
        log.info("coverage matrix computed and cached as %s", path)
    return codes, matrix, key, False


def inside_grid_share(regions: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """Share of each region's polygon area inside the grid's bounds (in the grid CRS; 1.0 when
    less than a millionth is outside). A region cut by the grid edge gets sinks for its inside
    part only; the budget counts the rest as area without a known sink."""
    geoms = in_grid_crs(regions, grid).geometry.values
    area = shapely.area(geoms)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(
            area > 0, shapely.area(shapely.clip_by_rect(geoms, *grid.bounds)) / area, 0.0
        )
    return np.where(share > 1.0 - 1e-6, 1.0, share)


def in_region_fraction(matrix: sp.spmatrix, grid: Grid) -> np.ndarray:
    """Fraction of each pixel covered by any region, (height, width) float32."""
    frac = np.asarray(matrix.sum(axis=0)).ravel().reshape(grid.shape)
    return np.minimum(frac, 1.0).astype("float32")


def row_blocks(
    grid: Grid, rasters: dict[str, str], block_rows: int = 512
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(first row, {name: float32 values of the block, ravelled}) for each block of whole rows
    of single-band rasters on ``grid``; a raster on another grid is refused before any read."""
    with gdal_env(), contextlib.ExitStack() as stack:
        sources = {var: stack.enter_context(rasterio.open(path)) for var, path in rasters.items()}
        for var, src in sources.items():
            if (src.height, src.width) != grid.shape or src.transform != grid.transform:
                raise GridError(f"{rasters[var]}: raster is not on the target grid; align it first")
        for r0 in range(0, grid.height, block_rows):
            window = Window(0, r0, grid.width, min(block_rows, grid.height - r0))
            yield (
                r0,
                {
                    var: src.read(1, window=window, out_dtype="float32").ravel()
                    for var, src in sources.items()
                },
            )


class ZonalSums:
    """Per-region totals of flux rasters, fed block by block (:func:`row_blocks`): what
    :func:`zonal_totals` computes, for a caller that also does other work with the same blocks
    (the uncertainty statistics), so the rasters are read once."""

    def __init__(self, matrix: sp.spmatrix, codes: list[str], grid: Grid, variables: list[str]):
        from .kernels import zonal_area

        m = matrix if sp.isspmatrix_csc(matrix) else matrix.tocsc()
        self.codes, self.variables, self.width = codes, variables, grid.width
        self.indptr, self.indices = m.indptr, m.indices
        self.fractions = np.asarray(m.data, dtype=np.float64)
        self.row_area = np.ascontiguousarray(grid.row_areas_m2(), dtype=np.float64)
        self.area_m2 = zonal_area(
            self.indptr, self.indices, self.fractions, self.row_area, self.width, len(codes)
        )
        self.acc = {var: np.zeros((len(codes), 2)) for var in variables}  # Σ w·a·x and Σ w·a

    def add(self, r0: int, blocks: dict[str, np.ndarray]) -> np.ndarray:
        """Add one block (rows from ``r0``) of every variable; returns where all are known."""
        from .kernels import zonal_accumulate

        known = np.logical_and.reduce([np.isfinite(blocks[v]) for v in self.variables])
        for var in self.variables:
            x = blocks[var]
            if not known.all():
                x = np.where(known, x, np.float32(np.nan))
            zonal_accumulate(
                self.indptr,
                self.indices,
                self.fractions,
                self.row_area,
                self.width,
                r0 * self.width,
                x,
                self.acc[var],
            )
        return known

    def table(self) -> pd.DataFrame:
        """One row per region: ``code``, ``area_km2``, ``{var}_tgc``, ``{var}_valid_fraction``."""
        out = {"code": self.codes, "area_km2": self.area_m2 / M2_PER_KM2}
        for var in self.variables:
            acc = self.acc[var]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(self.area_m2 > 0, acc[:, 1] / self.area_m2, np.nan)
            # a region without one known pixel has no total: NaN, never a sink of 0
            out[f"{var}_tgc"] = np.where(acc[:, 1] > 0, acc[:, 0] / G_PER_TG, np.nan)
            out[f"{var}_valid_fraction"] = frac
        return pd.DataFrame(out)


def zonal_totals(
    matrix: sp.spmatrix,
    codes: list[str],
    grid: Grid,
    rasters: dict[str, str],
    block_rows: int = 512,
) -> pd.DataFrame:
    """Totals (Tg C yr-1) of each flux raster per region, with area and valid fraction.

    ``rasters`` maps a variable name to a single-band raster in g C m-2 yr-1 on ``grid``.
    Returns one row per region: ``code``, ``area_km2``, ``{var}_tgc``, ``{var}_valid_fraction``.
    Every variable is summed over the same pixels, those where all of them are known: RH is
    known over water where NPP, and so NEP, is not, and summing each over its own pixels would
    break NPP = NEP + RH and ECS = NEP + RCS in the tables. The rasters are read in blocks of
    rows and added to the sums by one numba pass over the stored coverages
    (:func:`carbonbudget.kernels.zonal_accumulate`), the pixel area taken from its row: no
    weighted copy of the matrix and no per-block temporaries.
    """
    sums = ZonalSums(matrix, codes, grid, list(rasters))
    for r0, blocks in row_blocks(grid, rasters, block_rows):
        sums.add(r0, blocks)
    return sums.table()
