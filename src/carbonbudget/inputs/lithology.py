"""Lithology classes to GEM-CO2 coefficients (docs/method.md, "Rock-weathering sink").

Two shipped tables, both data, not code: ``config/glim_classes.csv`` maps the integer codes of a
lithology raster to GLiM classes and GEM-CO2 classes; ``config/gem_co2_coefficients.csv`` gives
the coefficient ``a`` of each GEM-CO2 class with its source.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.windows import Window

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.io import atomic_output, gdal_env, read_table
from carbonbudget.inputs.align import CATEGORICAL, Values, align_raster, gdal_source, open_source

if TYPE_CHECKING:
    from collections.abc import Sequence

    from carbonbudget.core.grid import Grid


def load_coefficient_lookup(classes_csv: str, coefficients_csv: str) -> dict[int, float]:
    """Map lithology raster code -> GEM-CO2 coefficient a (mmol CO2 L-1 of runoff)."""
    classes = read_table(classes_csv, "lithology.classes")
    coefs = read_table(coefficients_csv, "lithology.coefficients")
    for col in ("code", "gem_class"):
        if col not in classes.columns:
            raise InputDataError(
                f"missing column '{col}'",
                path=classes_csv,
                variable="lithology.classes",
                fix="the class table needs columns code, gem_class",
            )
    for col in ("gem_class", "a"):
        if col not in coefs.columns:
            raise InputDataError(
                f"missing column '{col}'",
                path=coefficients_csv,
                variable="lithology.coefficients",
                fix="the coefficient table needs columns gem_class, a, source",
            )
    if coefs["gem_class"].duplicated().any():
        dup = sorted(coefs.loc[coefs["gem_class"].duplicated(), "gem_class"])
        raise InputDataError(
            f"duplicate GEM-CO2 classes {dup}",
            path=coefficients_csv,
            variable="lithology.coefficients",
            fix="keep one row per class",
        )
    a_of = dict(zip(coefs["gem_class"], coefs["a"].astype(float)))
    unknown = sorted(set(classes["gem_class"]) - set(a_of))
    if unknown:
        raise InputDataError(
            f"GEM-CO2 classes {unknown} have no coefficient",
            path=classes_csv,
            variable="lithology.classes",
            fix=f"use classes from {coefficients_csv}: {sorted(a_of)}",
        )
    if classes["code"].duplicated().any():
        dup = sorted(classes.loc[classes["code"].duplicated(), "code"].tolist())
        raise InputDataError(
            f"duplicate lithology codes {dup}",
            path=classes_csv,
            variable="lithology.classes",
            fix="keep one row per code",
        )
    return {int(c): a_of[g] for c, g in zip(classes["code"], classes["gem_class"])}


def codes_to_coefficient(
    codes: np.ndarray, lookup: dict[int, float], *, path: str = ""
) -> np.ndarray:
    """Map a float array of class codes (NaN = nodata) to coefficients; unmapped codes raise."""
    out = np.full(codes.shape, np.nan, dtype="float32")
    for c in mapped_codes(codes, lookup, path=path):
        out[codes == c] = lookup[int(c)]
    return out


def mapped_codes(codes: np.ndarray, lookup: dict[int, float], *, path: str = "") -> np.ndarray:
    """The class codes present in ``codes`` (a float array with NaN as nodata, or a masked
    array as rasterio reads a band) as integers, sorted; an error naming those ``lookup`` has no
    coefficient for."""
    valid = codes.compressed() if np.ma.isMaskedArray(codes) else np.asarray(codes).ravel()
    if valid.dtype.kind == "f":
        valid = valid[np.isfinite(valid)].astype(np.int64)
    elif valid.dtype.kind == "u" and valid.dtype.itemsize >= 8:
        valid = valid.astype(np.int64)  # np.bincount takes no uint64
    if valid.size and valid.min() >= 0 and valid.max() < 1 << 20:
        # a count per code: linear in the pixels, where np.unique sorts them all (1 s for a
        # country's 20 M pixels)
        present = np.flatnonzero(np.bincount(valid))
    else:
        present = np.unique(valid).astype(np.int64)
    missing = [int(c) for c in present if int(c) not in lookup]
    if missing:
        raise InputDataError(
            f"lithology codes {missing} have no mapping",
            path=path,
            variable="lithology",
            fix="add them to the lithology class table (lithology.classes) with a gem_class",
        )
    return present


def align_lithology(
    *,
    grid: Grid,
    path_lithology: str,
    classes_csv: str,
    coefficients_csv: str,
    path_codes: str,
    path_coefficient: str,
    nodata_codes: Sequence[int] = (),
    block_rows: int = 512,
    crs: str | None = None,
    band: int | str | None = None,
) -> None:
    """Align the lithology raster (categorical; ``band``: the band of a multi-band file, as
    ``lithology.band`` names it) and write the GEM-CO2 coefficient raster."""
    lookup = load_coefficient_lookup(classes_csv, coefficients_csv)
    with gdal_env():
        source = gdal_source(path_lithology, None, band, key="lithology.band")
        open_source(source, "lithology", crs).close()
    align_raster(
        source,
        path_codes,
        grid,
        variable="lithology",
        band_descriptions=["lithology class code"],
        crs=crs,
        values=Values(kind=CATEGORICAL),
    )
    with gdal_env(), rasterio.open(path_codes) as src, atomic_output(path_coefficient) as tmp:
        profile = grid.profile()
        with rasterio.open(tmp, "w", **profile) as dst:
            for r0 in range(0, grid.height, block_rows):
                win = Window(0, r0, grid.width, min(block_rows, grid.height - r0))
                codes = src.read(1, window=win)
                for nd in nodata_codes:
                    codes[codes == nd] = np.nan
                dst.write(codes_to_coefficient(codes, lookup, path=path_lithology), 1, window=win)
            dst.set_band_description(1, "GEM-CO2 coefficient a")
            dst.update_tags(1, units="mmol CO2 L-1")


def ascii_matrix_to_geotiff(
    path_txt: str,
    path_out: str,
    *,
    west: float,
    north: float,
    resolution: float,
    nodata: float = -9999,
    crs: str = "EPSG:4326",
    dtype: str = "int16",
) -> None:
    """Convert a headerless ASCII matrix (first row northernmost, first column westernmost), such
    as the 0.5° GLiM class grid (360 × 720, -9999 = ocean), into a GeoTIFF the pipeline can
    align. The geometry is not in the file, so it must be given: ``west``/``north`` are the outer
    edges of the first column and row."""
    # lazy: only the ASCII lithology conversion needs it
    from affine import Affine

    if not os.path.exists(path_txt):
        raise InputDataError(
            "file not found",
            path=path_txt,
            variable="lithology",
            fix="check the path of the ASCII grid",
        )
    try:
        data = np.loadtxt(path_txt, ndmin=2)
    except ValueError as exc:
        raise InputDataError(
            f"not a plain numeric matrix ({exc})",
            path=path_txt,
            variable="lithology",
            fix="give a headerless whitespace-separated matrix of class codes",
        ) from exc
    profile = dict(
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=dtype,
        nodata=nodata,
        crs=crs,
        transform=Affine(resolution, 0, west, 0, -resolution, north),
        tiled=False,
        compress="deflate",
    )
    with atomic_output(path_out) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data.astype(dtype), 1)
        dst.set_band_description(1, "lithology class code")
