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
import math
import os
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import rasterio
import scipy.sparse as sp
import shapely
from numba import njit
from rasterio.windows import Window

from carbonbudget.core.errors import GridError
from carbonbudget.core.grid import pixel_cover
from carbonbudget.core.io import atomic_output, gdal_env
from carbonbudget.regions.hierarchy import read_config_regions
from carbonbudget.science.uncertainty import SQUARE_VARS, group_column, square_column

if TYPE_CHECKING:
    from collections.abc import Iterator

    import geopandas as gpd

    from carbonbudget.core.grid import Grid


# --- numba kernels: serial @njit(nogil=True, cache=True) loops over one block; dask maps them over
# chunks (prange inside dask threads gains nothing). No fastmath: NaN handling stays IEEE-exact.
# Accumulation in float64, outputs float32. The wrappers below check inputs and set units.
# --- docs/method.md, "Zonal totals": zonal totals from the sparse coverage matrix ----------------
@njit(nogil=True, cache=True)
def zonal_accumulate(
    indptr: np.ndarray,
    indices: np.ndarray,
    fractions: np.ndarray,
    row_area_m2: np.ndarray,
    width: int,
    first_pixel: int,
    x: np.ndarray,
    acc: np.ndarray,
) -> np.ndarray:
    """Add one block of pixels to the per-region sums (one pass over the stored coverages).

    indptr, indices, fractions: the coverage matrix (regions × pixels) in CSC form, pixel p =
    row · width + col; fractions in [0, 1]. row_area_m2: float64 (height,) area of a pixel of
    each grid row. x: float32 values of pixels first_pixel … first_pixel + x.size − 1 (a block of
    whole rows, ravelled). acc: float64 (n_regions, 2), updated in place with
    Σ w·a·x and Σ w·a over the pixels where x is finite (NaN and ±inf are left out)."""
    for jj in range(x.size):
        v = x[jj]
        if not math.isfinite(v):
            continue
        p = first_pixel + jj
        a = row_area_m2[p // width]
        for k in range(indptr[p], indptr[p + 1]):
            wa = fractions[k] * a
            r = indices[k]
            acc[r, 0] += wa * v
            acc[r, 1] += wa
    return acc


@njit(nogil=True, cache=True)
def zonal_accumulate_uncertainty(
    indptr: np.ndarray,
    indices: np.ndarray,
    fractions: np.ndarray,
    row_area_m2: np.ndarray,
    width: int,
    first_pixel: int,
    values: np.ndarray,
    group: np.ndarray,
    acc_group: np.ndarray,
    acc_sq: np.ndarray,
) -> None:
    """Add one block of pixels to the sufficient statistics of the uncertainty model
    (docs/method.md, "Uncertainty"), in one pass over the stored coverages.

    values: float32 (n_vars, n) per-pixel fluxes, the last one RCS; group: int64 (n,) the
    lithology group of each pixel (0 … n_groups − 1), −1 where the pixel is left out (not
    every flux known). acc_group: float64 (n_regions, n_groups) += w·a·RCS of the pixel's
    group; acc_sq: float64 (n_regions, n_vars) += (w·a·x)² of every variable, the variance
    weights of errors independent between pixels."""
    n_vars = values.shape[0]
    for jj in range(group.size):
        g = group[jj]
        if g < 0:
            continue
        p = first_pixel + jj
        a = row_area_m2[p // width]
        for k in range(indptr[p], indptr[p + 1]):
            wa = fractions[k] * a
            r = indices[k]
            acc_group[r, g] += wa * values[n_vars - 1, jj]
            for v in range(n_vars):
                t = wa * values[v, jj]
                acc_sq[r, v] += t * t


@njit(nogil=True, cache=True)
def zonal_area(
    indptr: np.ndarray,
    indices: np.ndarray,
    fractions: np.ndarray,
    row_area_m2: np.ndarray,
    width: int,
    n_regions: int,
) -> np.ndarray:
    """Σ w·a (m²) per region over all its pixels (see :func:`zonal_accumulate`)."""
    out = np.zeros(n_regions, dtype=np.float64)
    for p in range(indptr.size - 1):
        a = row_area_m2[p // width]
        for k in range(indptr[p], indptr[p + 1]):
            out[indices[k]] += fractions[k] * a
    return out


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
    # lazy: the per-year zonal jobs only read the cached matrix and need no exactextract
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
    vec = _wkb_features(regions.geometry.values, regions.crs.to_wkt())
    res = exact_extract(dummy, vec, ["cell_id", "coverage"], include_cols=["_row"], output="pandas")
    n_pix = grid.width * grid.height
    # the index type scipy would choose for the matrix, from the start: a COO matrix built from
    # 64-bit indices copies and checks both arrays again (0.6 s for 12.7 M entries)
    big = max(len(regions), n_pix) > np.iinfo(np.int32).max
    index = np.int64 if big else np.int32
    row_parts: list[np.ndarray] = []
    col_parts: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    for r, ids, cov in zip(res["_row"], res["cell_id"], res["coverage"]):
        cov = np.asarray(cov, dtype=np.float64)
        keep = cov > 0
        row_parts.append(np.full(int(keep.sum()), r, dtype=index))
        col_parts.append(np.asarray(ids)[keep].astype(index))
        val_parts.append(cov[keep])
    rows = np.concatenate(row_parts) if row_parts else np.empty(0, index)
    cols = np.concatenate(col_parts) if col_parts else np.empty(0, index)
    vals = np.concatenate(val_parts) if val_parts else np.empty(0, np.float64)
    m = sp.coo_matrix((vals, (rows, cols)), shape=(len(regions), n_pix)).tocsc()
    m.sum_duplicates()
    return [str(c) for c in regions[code_col]], m


def _wkb_features(geometries, crs_wkt: str):
    """The polygons as an exactextract feature source (attribute ``_row``: their position)
    that hands each one over as WKB. exactextract's own GeoDataFrame source hands them over as
    GeoJSON text, written by ``json.dumps`` and parsed again by GEOS: three times the cost of the
    whole extraction for 2,800 counties with 1.5 M vertices (docs/performance.md), for the same
    coverages."""
    # lazy: the per-year zonal jobs only read the cached matrix and need no exactextract
    from exactextract.feature import Feature, FeatureSource

    class WKBFeature(Feature):
        def __init__(self, row: int, wkb: bytes):
            Feature.__init__(self)
            self.row, self.wkb = row, wkb

        def geometry(self) -> bytes:
            return self.wkb

        def get(self, name: str) -> int:
            return self.row

        def fields(self) -> list[str]:
            return ["_row"]

    class WKBFeatures(FeatureSource):
        def __init__(self) -> None:
            FeatureSource.__init__(self)
            self.wkb = shapely.to_wkb(np.asarray(geometries))

        def count(self) -> int:
            return len(self.wkb)

        def __iter__(self):
            return (WKBFeature(i, wkb) for i, wkb in enumerate(self.wkb))

        def srs_wkt(self) -> str:
            return crs_wkt

    return WKBFeatures()


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


def finest_coverage(
    regions_cfg: dict,
    grid: Grid,
    cache_dir: str | None,
    regions: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, list[str], sp.csc_matrix, str]:
    """The finest regions of the ``regions`` section in the grid CRS and their coverage matrix
    (:func:`cached_coverage`, so the run and ``make check`` share one cache entry): (regions,
    codes, matrix, cache key). ``regions``: the polygons as the checks read them in the grid
    CRS (:func:`carbonbudget.regions.hierarchy.read_checked_regions`), else read here."""
    if regions is None:
        regions, _, _ = read_config_regions(regions_cfg, crs=grid.crs.to_wkt())
    finest = list(regions_cfg["levels"])[0]
    codes, matrix, key, _ = cached_coverage(
        regions, f"{finest}_code", grid, cache_dir, regions_cfg["simplify_to_pixel"]
    )
    return regions, codes, matrix, key


def weighted_coverage(matrix: sp.spmatrix, grid: Grid, path_share: str | None) -> sp.csc_matrix:
    """The coverage matrix with each pixel's column scaled by its share of a land-cover class
    (``npp.cover_fraction``, aligned to the grid, 0 to 1): every zonal sum, area and valid
    fraction from it counts only that share of each pixel. Without ``path_share``, ``matrix``
    as it is."""
    if path_share is None:
        return matrix
    with rasterio.open(path_share) as src:
        if (src.height, src.width) != grid.shape or src.transform != grid.transform:
            raise GridError(f"{path_share}: raster is not on the target grid; align it first")
        share = src.read(1, masked=True).filled(0.0).astype("float64").ravel()
    # NaN outside the study area only (npp.cover_fraction is refused where it has no value
    # inside), where no region's column has an entry
    return sp.csc_matrix(matrix @ sp.diags(np.nan_to_num(share)))


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
    frac = pixel_cover(matrix).reshape(grid.shape)
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

        m = matrix if sp.isspmatrix_csc(matrix) else matrix.tocsc()
        self.codes, self.variables, self.width = codes, variables, grid.width
        self.indptr, self.indices = m.indptr, m.indices
        self.fractions = np.asarray(m.data, dtype=np.float64)
        self.row_area = np.ascontiguousarray(grid.row_areas_m2(), dtype=np.float64)
        self.area_m2 = zonal_area(
            self.indptr, self.indices, self.fractions, self.row_area, self.width, len(codes)
        )
        self.acc = {var: np.zeros((len(codes), 2)) for var in variables}  # Σ w·a·x and Σ w·a
        # Σ w·a where a variable is known but another is not: its own coverage is the common
        # one plus this (a region whose fluxes another input's gap cuts says so)
        self.lost = {var: np.zeros((len(codes), 2)) for var in variables}

    def add(self, r0: int, blocks: dict[str, np.ndarray]) -> np.ndarray:
        """Add one block (rows from ``r0``) of every variable; returns where all are known."""
        known = np.logical_and.reduce([np.isfinite(blocks[v]) for v in self.variables])

        def accumulate(values: np.ndarray, into: np.ndarray) -> None:
            zonal_accumulate(
                self.indptr,
                self.indices,
                self.fractions,
                self.row_area,
                self.width,
                r0 * self.width,
                values,
                into,
            )

        for var in self.variables:
            x = blocks[var]
            if not known.all():
                lost = np.where(np.isfinite(x) & ~known, np.float32(1), np.float32(np.nan))
                accumulate(lost, self.lost[var])
                x = np.where(known, x, np.float32(np.nan))
            accumulate(x, self.acc[var])
        return known

    def table(self) -> pd.DataFrame:
        """One row per region: ``code``, ``area_km2``, ``{var}_tgc`` and ``{var}_valid_fraction``
        over the pixels where every variable is known, and ``{var}_own_fraction``: the share of
        the area where the variable itself is known."""
        out = {"code": self.codes, "area_km2": self.area_m2 / M2_PER_KM2}
        for var in self.variables:
            acc = self.acc[var]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(self.area_m2 > 0, acc[:, 1] / self.area_m2, np.nan)
            # a region without one known pixel has no total: NaN, never a sink of 0
            out[f"{var}_tgc"] = np.where(acc[:, 1] > 0, acc[:, 0] / G_PER_TG, np.nan)
            out[f"{var}_valid_fraction"] = frac
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"{var}_own_fraction"] = np.where(
                    self.area_m2 > 0, (acc[:, 1] + self.lost[var][:, 1]) / self.area_m2, np.nan
                )
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
    (:func:`zonal_accumulate`), the pixel area taken from its row: no
    weighted copy of the matrix and no per-block temporaries.
    """
    sums = ZonalSums(matrix, codes, grid, list(rasters))
    for r0, blocks in row_blocks(grid, rasters, block_rows):
        sums.add(r0, blocks)
    return sums.table()


def zonal_statistics(
    matrix: sp.spmatrix,
    codes: list[str],
    grid: Grid,
    rasters: dict[str, str],
    path_coefficient: str,
    groups: list[tuple[str, float]],
    block_rows: int = 512,
) -> pd.DataFrame:
    """Per region: RCS of each lithology group and the sums of squares of NPP, RH and RCS
    (:data:`carbonbudget.science.uncertainty.SQUARE_VARS`: the uncertainty model's sufficient
    statistics, docs/method.md "Uncertainty"), over the pixels where every flux of ``rasters``
    (rh, nep, rcs, ecs) is known: the same pixels as the totals of
    :func:`carbonbudget.regions.zonal.zonal_totals`."""
    return zonal_totals_and_statistics(
        matrix, codes, grid, rasters, path_coefficient, groups, block_rows
    )[1]


def zonal_totals_and_statistics(
    matrix: sp.spmatrix,
    codes: list[str],
    grid: Grid,
    rasters: dict[str, str],
    path_coefficient: str,
    groups: list[tuple[str, float]],
    block_rows: int = 512,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The zonal totals of ``rasters`` (:func:`carbonbudget.regions.zonal.zonal_totals`) and the
    statistics of :func:`zonal_statistics`, in one read of the rasters: the statistics are
    over the pixels where the totals' fluxes are all known, block by block."""
    sums = ZonalSums(matrix, codes, grid, list(rasters))
    values_of = np.array([a for _, a in groups], dtype=np.float32)
    order = np.argsort(values_of)
    acc_group = np.zeros((len(codes), len(groups)))
    acc_sq = np.zeros((len(codes), len(SQUARE_VARS)))
    for r0, b in row_blocks(grid, dict(rasters, coefficient=path_coefficient), block_rows):
        known = sums.add(r0, b)
        coef = b["coefficient"]
        pos = np.clip(np.searchsorted(values_of[order], coef), 0, len(groups) - 1)
        group = order[pos]
        wrong = known & (values_of[group] != coef)
        if wrong.any():
            raise GridError(
                f"{path_coefficient}: coefficient {float(coef[wrong][0])!r} is not one of "
                f"the table's {sorted(set(values_of.tolist()))}: the coefficient raster is "
                "from another lithology.coefficients table; rerun its alignment"
            )
        group = np.where(known, group, -1).astype(np.int64)
        npp = b["nep"] + b["rh"]
        values = np.ascontiguousarray(np.stack([npp, b["rh"], b["rcs"]]), dtype=np.float32)
        zonal_accumulate_uncertainty(
            sums.indptr,
            sums.indices,
            sums.fractions,
            sums.row_area,
            sums.width,
            r0 * sums.width,
            values,
            group,
            acc_group,
            acc_sq,
        )
    out: dict[str, object] = {"code": codes}
    for i, (name, _) in enumerate(groups):
        out[group_column(name)] = acc_group[:, i] / G_PER_TG
    for i, var in enumerate(SQUARE_VARS):
        out[square_column(var)] = acc_sq[:, i] / G_PER_TG**2
    return sums.table(), pd.DataFrame(out)


def density_totals(coverage: sp.spmatrix, grid: Grid, density: np.ndarray) -> np.ndarray:
    """Per region: Σ density · pixel area (km²) · coverage fraction, a density per km² summed
    to a total per region (t km⁻² → t); pixels without a value count as zero."""
    pixel_km2 = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    return coverage @ (pixel_km2 * np.nan_to_num(np.asarray(density).ravel()))
