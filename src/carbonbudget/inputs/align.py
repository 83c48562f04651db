"""Put every input raster on the target grid, once, with the right resampling and units.

Continuous fields (temperature, precipitation, NPP, runoff) are resampled bilinearly, or
averaged when the source is finer than the grid; categorical fields (lithology) use nearest
neighbour, or the mode when coarsening, and are never interpolated. The product's scale factor
and offset and the unit conversion to the canonical units of :mod:`carbonbudget.core.units` are
applied here and nowhere else. Outputs are float32 tiled GeoTIFFs with NaN nodata, written
block by block (memory bounded by ``block_rows`` × grid width × bands).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import MaskFlags, Resampling
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform
from rasterio.warp import transform as warp_transform
from rasterio.windows import Window

from carbonbudget.core import units as units_mod
from carbonbudget.core.config import is_climatology, month_paths
from carbonbudget.core.errors import ConfigError, InputDataError
from carbonbudget.core.io import atomic_output, gdal_env

if TYPE_CHECKING:
    from collections.abc import Callable

    from rasterio.crs import CRS
    from rasterio.io import DatasetReader

    from carbonbudget.core.grid import Grid

log = logging.getLogger(__name__)

CONTINUOUS = "continuous"
CATEGORICAL = "categorical"


def open_source(path: str, variable: str, crs: str | None = None) -> rasterio.io.DatasetReader:
    """Open an input raster; a missing, truncated or corrupt file becomes an InputDataError.

    ``crs`` (from the config) declares the CRS of a file that has none (e.g. a NetCDF
    climatology); it never overrides a CRS the file does carry."""
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputDataError(
            f"cannot open raster ({exc})",
            path=path,
            variable=variable,
            fix="check the path pattern in the config and that the file is a "
            "complete GeoTIFF (re-download or re-export it)",
        ) from exc
    if str(path).lower().endswith((".tif", ".tiff")) and src.driver not in ("GTiff", "COG"):
        driver = src.driver
        src.close()
        raise InputDataError(
            f"the file is a {driver} file, not a GeoTIFF",
            path=path,
            variable=variable,
            fix="point the config at the GeoTIFF, or convert the file to one "
            "with its georeferencing (gdal_translate -of GTiff)",
        )
    try:
        check_band_description(src, variable, path)
    except InputDataError:
        src.close()
        raise
    if src.crs is None and crs is None:
        src.close()
        raise InputDataError(
            "the raster has no CRS",
            path=path,
            variable=variable,
            fix="assign the CRS the data is in (gdal_edit.py -a_srs EPSG:4326), "
            "or declare it with 'crs:' in this input's config section",
        )
    return src


def gdal_source(
    path: str,
    subdataset: str | None = None,
    band: int | str | None = None,
    *,
    key: str = "band",
) -> str:
    """What GDAL opens for an input file: the file itself, one variable of a NetCDF file
    (``NETCDF:"file.nc":var``), or one band of a multi-band file (``band``: its number, or its
    description; GDAL's ``vrt://`` connection, so every reader sees a one-band raster). The
    config names the file, the variable and the band separately so that Snakemake can track
    the file. ``key`` is the config key of ``band``, for the error of a band not found."""
    source = path
    if subdataset:
        if not str(path).endswith((".nc", ".nc4")):
            raise InputDataError(
                f"'subdataset: {subdataset}' is given for a file that is not NetCDF",
                path=path,
                variable="subdataset",
                fix="remove 'subdataset' or point 'path' at the .nc file",
            )
        source = f'NETCDF:"{path}":{subdataset}'
    if band is None:
        return source
    return f"vrt://{source}?bands={_band_index(source, band, path, key)}"


def _band_index(source: str, band: int | str, path: str, key: str) -> int:
    """The number of the band ``band`` names: a number within the file's bands, or the
    description of exactly one band (case and spaces ignored)."""
    try:
        with rasterio.open(source) as src:
            count, descriptions = src.count, list(src.descriptions)
    except RasterioIOError as exc:
        raise InputDataError(
            f"cannot open raster ({exc})",
            path=path,
            variable=key,
            fix="check the path pattern in the config",
        ) from exc
    named = ", ".join(f"{i} '{d}'" for i, d in enumerate(descriptions, 1) if d) or "none"
    if isinstance(band, int) and not isinstance(band, bool):
        if 1 <= band <= count:
            return band
        raise InputDataError(
            f"band {band} asked for, the file has {count} (described: {named})",
            path=path,
            variable=key,
            fix=f"set {key} to a number from 1 to {count}, or to a band's description",
        )
    wanted = str(band).strip().lower()
    found = [i for i, d in enumerate(descriptions, 1) if d and d.strip().lower() == wanted]
    if len(found) == 1:
        return found[0]
    raise InputDataError(
        f"{'no band' if not found else f'{len(found)} bands'} described '{band}' "
        f"(the file's bands: {named})",
        path=path,
        variable=key,
        fix=f"set {key} to one of the descriptions or to a band number",
    )


# Words a band description uses for what the band holds. A description naming another quantity
# and not the variable it is read for (NPP read from a band described "elev") is an error: the
# band was chosen wrong. Descriptions naming nothing known ("Band 1") are not judged.
BAND_WORDS = {
    "npp": ("npp", "net primary", "productivity"),
    "runoff": ("runoff", "ro", "discharge", "qs"),
    "temperature": ("temperature", "tmp", "tmean", "tas", "t2m", "temp"),
    "precipitation": ("precipitation", "prcp", "precip", "pre", "pr", "rain", "tp"),
    "et": ("et", "evapotranspiration", "evaporation", "aet"),
    "lithology": ("lithology", "lith", "glim", "rock"),
    "elevation": ("elev", "elevation", "dem", "height", "altitude", "srtm"),
    "human footprint": ("footprint", "hfp"),
    "population": ("population", "pop", "popdensity"),
    "land cover": ("landcover", "land cover", "lc", "lulc"),
}


# the inputs whose band the config can choose (npp.band, runoff.band, lithology.band)
BAND_KEYS = ("npp", "runoff", "lithology")


def _words_of(description: str) -> set[str]:
    text = description.strip().lower()
    tokens = set(re.split(r"[^a-z0-9]+", text))
    return {
        what
        for what, words in BAND_WORDS.items()
        if any((w in tokens) if " " not in w else (w in text) for w in words)
    }


def check_band_description(src: DatasetReader, variable: str, path: str) -> None:
    """Each band's description (where the file has one) against the variable it feeds."""
    if variable not in BAND_WORDS:
        return
    for i, description in enumerate(src.descriptions, 1):
        if not description:
            continue
        named = _words_of(description)
        if named and variable not in named:
            raise InputDataError(
                f"band {i} is described '{description}' ({', '.join(sorted(named))}), but is "
                f"read as {variable}",
                path=path,
                variable=variable,
                fix=(
                    f"choose the band that holds {variable} with {variable}.band (its number, or "
                    "its description)"
                    if variable in BAND_KEYS
                    else "point the config at the file that holds it"
                ),
            )


def source_crs(src: DatasetReader, declared: str | None) -> CRS:
    """The CRS to read ``src`` in: its own, else the declared one."""
    return src.crs if src.crs is not None else CRS.from_user_input(declared)


def source_resolution_on_grid(src: DatasetReader, grid: Grid, crs: CRS | None = None) -> float:
    """Approximate source pixel size expressed in the grid CRS units."""
    crs = crs or src.crs
    if crs == grid.crs:
        return abs(src.transform.a)
    transform, _, _ = calculate_default_transform(crs, grid.crs, src.width, src.height, *src.bounds)
    return abs(transform.a)


def on_grid(src: DatasetReader, crs: CRS, grid: Grid) -> bool:
    """True when ``src`` is exactly on the target grid (CRS, pixel size, origin, shape)."""
    return (
        crs == grid.crs
        and (src.height, src.width) == grid.shape
        and src.transform.almost_equals(grid.transform, precision=1e-9 * abs(grid.transform.a))
    )


def _read_valid(src, window, valid_range) -> np.ndarray:
    """All bands of ``window`` (None: the whole raster) as float32 with the file's nodata and
    values outside ``valid_range`` set to NaN (what the warped path gets from GDAL and
    _masked_source)."""
    if all(flags in ([MaskFlags.all_valid], [MaskFlags.nodata]) for flags in src.mask_flag_enums):
        # No mask band, at most a nodata value: compare with it in the band's own type (as GDAL's
        # nodata mask does). A masked array would copy every band several times, which made up
        # most of the alignment's time at country scale (docs/performance.md).
        raw = src.read(window=window)
        data = raw.astype("float32", copy=False)
        nodata = src.nodata
        if nodata is not None and not np.isnan(nodata):
            if raw.dtype.kind == "f":
                data[raw == np.asarray(nodata).astype(raw.dtype)] = np.nan
            elif (
                nodata == int(nodata)
                and np.iinfo(raw.dtype).min <= nodata <= np.iinfo(raw.dtype).max
            ):
                data[raw == int(nodata)] = np.nan  # (else it can never match)
    else:  # an internal/external mask band or alpha: let GDAL apply it
        data = src.read(window=window, masked=True).astype("float32").filled(np.nan)
    if valid_range:
        data[(data < valid_range[0]) | (data > valid_range[1])] = np.nan
    return data


def choose_resampling(kind: str, src_res: float, dst_res: float) -> Resampling:
    """Bilinear/nearest when refining or matching; average/mode when the source is finer."""
    coarsening = src_res < dst_res / 1.5
    if kind == CATEGORICAL:
        return Resampling.mode if coarsening else Resampling.nearest
    if kind == CONTINUOUS:
        return Resampling.average if coarsening else Resampling.bilinear
    raise ValueError(f"unknown variable kind {kind!r}")


@dataclass(frozen=True)
class Values:
    """How a source's raw values become the pipeline's (:func:`align_raster`).

    The result is ``(raw * scale + offset) * factor + unit_offset`` where factor/unit_offset
    convert the declared ``units`` to the canonical units of the variable (per band: a daily
    precipitation rate is multiplied by the days of each band's month of ``year``, or of an
    average month for a climatology, ``year`` None; ``timestep`` says whether bands are months).
    Raw values outside ``valid_range`` (e.g. MOD17A3's fill codes 32761–32767) are nodata: they
    are masked in the source before resampling, so they never leak into neighbours. Values in
    [-negative_tolerance, 0) (in the declared units: e.g. the -0.0007 mm/yr a bilinear
    regridding leaves where runoff is zero) become 0; the checks refuse anything more negative
    before alignment runs. ``limits`` (canonical units, :func:`carbonbudget.core.units.plausible`)
    are checked on every pixel as it passes: an infinite value or one outside them is an error
    naming the file (the input checks look at a sample; this catches what the sample missed
    before any flux is computed). ``kind``: :data:`CONTINUOUS` or :data:`CATEGORICAL` (codes,
    never converted)."""

    kind: str = CONTINUOUS
    scale: float = 1.0
    offset: float = 0.0
    units: str | None = None
    valid_range: tuple[float, float] | None = None
    negative_tolerance: float = 0.0
    timestep: str = "monthly"
    year: int | None = None
    limits: tuple[float | None, float | None] | None = None

    def conversions(self, variable: str, count: int) -> list[tuple[float, float]]:
        """(factor, offset) of each band from the declared units to the canonical ones."""
        if self.units is None:
            return [(1.0, 0.0)] * count
        return units_mod.band_conversions(
            variable, self.units, count, timestep=self.timestep, year=self.year
        )


def align_raster(
    src_paths: str | list[str],
    dst_path: str,
    grid: Grid,
    *,
    variable: str,
    values: Values = Values(),
    crs: str | None = None,
    band_descriptions: list[str] | None = None,
    block_rows: int = 512,
) -> None:
    """Resample one raster (or several single-band rasters stacked as bands) onto ``grid``,
    its values converted as ``values`` says (:class:`Values`). ``crs`` declares the CRS of
    files that carry none. A source already on the grid, in float32 and in the pipeline's units
    is read in place through a small VRT instead of being copied."""
    paths = [src_paths] if isinstance(src_paths, str) else list(src_paths)
    with gdal_env(), contextlib.ExitStack() as stack:
        sources = [open_source(p, variable, crs) for p in paths]
        try:
            conv = values.conversions(variable, sum(s.count for s in sources))
            if _pass_through(
                paths,
                sources,
                dst_path,
                grid,
                variable,
                values,
                conv,
                crs,
                band_descriptions,
                block_rows,
            ):
                return
            with (
                atomic_output(dst_path) as tmp,
                rasterio.open(tmp, "w", **grid.profile(count=len(conv))) as dst,
            ):
                band = 0
                for path, src in zip(paths, sources):
                    indexes = list(range(band + 1, band + src.count + 1))
                    read = block_reader(
                        src,
                        source_crs(src, crs),
                        grid,
                        kind=values.kind,
                        valid_range=values.valid_range,
                        stack=stack,
                    )
                    if on_grid(src, source_crs(src, crs), grid):
                        log.info(
                            "%s: %s is on the target grid, copied without resampling",
                            variable,
                            path,
                        )
                    _resample_bands(
                        dst, read, indexes, conv, values, grid, path, variable, block_rows
                    )
                    band += src.count
                dst.update_tags(
                    variable=variable,
                    source=";".join(paths),
                    units=units_mod.CANONICAL.get(variable, "class code"),
                )
                for i, desc in enumerate((band_descriptions or [])[: len(conv)], start=1):
                    dst.set_band_description(i, desc)
        finally:
            for s in sources:
                s.close()
    log.info("aligned %s -> %s (%s, %s)", variable, dst_path, values.kind, ", ".join(paths))


def _pass_through(
    paths: list[str],
    sources: list[DatasetReader],
    dst_path: str,
    grid: Grid,
    variable: str,
    values: Values,
    conv: list[tuple[float, float]],
    crs: str | None,
    band_descriptions: list[str] | None,
    block_rows: int,
) -> bool:
    """Write a VRT that reads the sources in place, when they are on the grid, in float32, in
    the pipeline's units and their values pass the checks alignment makes; True if written."""
    identity = values.scale == 1.0 and values.offset == 0.0 and all(c == (1.0, 0.0) for c in conv)
    if not (
        identity
        and all(_readable_in_place(src, source_crs(src, crs), grid) for src in sources)
        and _values_as_aligned(
            sources,
            paths,
            grid,
            variable=variable,
            kind=values.kind,
            valid_range=values.valid_range,
            negative_tolerance=values.negative_tolerance,
            limits=values.limits,
            block_rows=block_rows,
        )
    ):
        return False
    _write_pass_through_vrt(
        paths,
        sources,
        dst_path,
        grid,
        variable=variable,
        units=units_mod.CANONICAL.get(variable, "class code"),
        band_descriptions=band_descriptions,
    )
    log.info(
        "%s: %s on the target grid in the pipeline's units: read in place (%s)",
        variable,
        ", ".join(paths),
        dst_path,
    )
    return True


def _resample_bands(
    dst: rasterio.io.DatasetWriter,
    read,
    indexes: list[int],
    conv: list[tuple[float, float]],
    values: Values,
    grid: Grid,
    path: str,
    variable: str,
    block_rows: int,
) -> None:
    """The bands ``indexes`` of ``dst`` from one source (``read``: its block reader), block by
    block: converted to the canonical units, small negatives cleared, limits checked."""
    factor = np.array([conv[i - 1][0] for i in indexes])[:, None, None]
    unit_offset = np.array([conv[i - 1][1] for i in indexes])[:, None, None]
    continuous = values.kind == CONTINUOUS
    identity = (
        values.scale == 1.0
        and values.offset == 0.0
        and (factor == 1.0).all()
        and (unit_offset == 0.0).all()
    )
    for r0 in range(0, grid.height, block_rows):
        win = Window(0, r0, grid.width, min(block_rows, grid.height - r0))
        data = read(win)
        if continuous and not identity:
            data = (data.astype("float64") * values.scale + values.offset) * factor + unit_offset
        if continuous and values.negative_tolerance > 0:
            data[(data < 0) & (data >= -values.negative_tolerance * factor)] = 0.0
        if continuous and values.limits is not None:
            _check_limits(data, values.limits, path=path, variable=variable)
        dst.write(data.astype("float32"), indexes=indexes, window=win)


def _readable_in_place(src: DatasetReader, crs: CRS, grid: Grid) -> bool:
    """True when the flux stage can read ``src`` as it is: a float32 GeoTIFF exactly on the
    grid, without a mask band (nodata, if any, is a value; see :func:`_read_valid`)."""
    return (
        src.driver in ("GTiff", "COG")
        and on_grid(src, crs, grid)
        and all(dt == "float32" for dt in src.dtypes)
        and all(
            flags in ([MaskFlags.all_valid], [MaskFlags.nodata]) for flags in src.mask_flag_enums
        )
    )


def _values_as_aligned(
    sources: list,
    paths: list[str],
    grid: Grid,
    *,
    variable: str,
    kind: str,
    valid_range: tuple[float, float] | None,
    negative_tolerance: float,
    limits: tuple[float | None, float | None] | None,
    block_rows: int,
) -> bool:
    """Read every pixel of on-grid, float32 sources in the pipeline's units once: check them
    against ``limits`` (an error, as for a copy), and say whether alignment would leave every
    value as it is (no value outside ``valid_range``, none in [−negative_tolerance, 0)), so
    that a copy would hold the same numbers as the file."""
    for path, src in zip(paths, sources):
        for r0 in range(0, grid.height, block_rows):
            win = Window(0, r0, grid.width, min(block_rows, grid.height - r0))
            data = _read_valid(src, win, None)
            if valid_range and ((data < valid_range[0]) | (data > valid_range[1])).any():
                return False
            if kind == CONTINUOUS and negative_tolerance > 0:
                if ((data < 0) & (data >= -negative_tolerance)).any():
                    return False
            if kind == CONTINUOUS and limits is not None:
                _check_limits(data, limits, path=path, variable=variable)
    return True


def _write_pass_through_vrt(
    paths: list[str],
    sources: list,
    dst_path: str,
    grid: Grid,
    *,
    variable: str,
    units: str,
    band_descriptions: list[str] | None,
) -> None:
    """A GDAL VRT at ``dst_path`` that stacks the bands of ``sources`` unchanged, as float32
    with NaN for nodata (a source's nodata value becomes NaN, as in an aligned copy) and the
    grid's CRS (a source without one was declared to be in it). Source
    paths are stored relative to the VRT when the config gave them relative, so the run
    directory can move as a whole."""
    gt = grid.transform.to_gdal()
    wkt = grid.crs.to_wkt()
    vrt_dir = os.path.dirname(os.path.abspath(dst_path))
    bands = []
    index = 0
    for path, src in zip(paths, sources):
        relative = not os.path.isabs(path)
        name = os.path.relpath(os.path.abspath(path), vrt_dir) if relative else path
        for b in range(1, src.count + 1):
            index += 1
            nodata = src.nodata
            skip = (
                f"<NODATA>{nodata!r}</NODATA>"
                if nodata is not None and not np.isnan(nodata)
                else ""
            )
            desc = (
                band_descriptions[index - 1]
                if band_descriptions and index <= len(band_descriptions)
                else ""
            )
            bands.append(
                f'  <VRTRasterBand dataType="Float32" band="{index}">\n'
                f"    <NoDataValue>nan</NoDataValue>\n"
                f"    <Description>{escape(desc)}</Description>\n"
                f'    <ComplexSource>\n      <SourceFilename relativeToVRT="{int(relative)}">'
                f"{escape(name)}</SourceFilename>\n      <SourceBand>{b}</SourceBand>\n"
                f'      <SrcRect xOff="0" yOff="0" xSize="{src.width}" ySize="{src.height}"/>\n'
                f'      <DstRect xOff="0" yOff="0" xSize="{src.width}" ySize="{src.height}"/>\n'
                f"      {skip}\n    </ComplexSource>\n  </VRTRasterBand>"
            )
    xml = (
        f'<VRTDataset rasterXSize="{grid.width}" rasterYSize="{grid.height}">\n'
        f"  <SRS>{escape(wkt)}</SRS>\n"
        f"  <GeoTransform>{', '.join(repr(v) for v in gt)}</GeoTransform>\n"
        f'  <Metadata>\n    <MDI key="variable">{escape(variable)}</MDI>\n'
        f'    <MDI key="source">{escape(";".join(paths))}</MDI>\n'
        f'    <MDI key="units">{escape(units)}</MDI>\n  </Metadata>\n'
        + "\n".join(bands)
        + "\n</VRTDataset>\n"
    )
    with atomic_output(dst_path) as tmp:
        Path(tmp).write_text(xml)


def _check_limits(data: np.ndarray, limits, *, path: str, variable: str) -> None:
    """Raise when ``data`` holds ±inf or finite values outside ``limits`` (NaN is nodata)."""
    lo, hi = limits
    top, bottom = np.fmax.reduce(data, axis=None), np.fmin.reduce(data, axis=None)
    if not (
        np.isinf(top)
        or np.isinf(bottom)
        or (hi is not None and top > hi)
        or (lo is not None and bottom < lo)
    ):
        return
    inf = int(np.isinf(data).sum())
    finite = data[np.isfinite(data)]
    out = (np.count_nonzero(finite > hi) if hi is not None else 0) + (
        np.count_nonzero(finite < lo) if lo is not None else 0
    )
    units = units_mod.CANONICAL[variable]
    raise InputDataError(
        f"{inf} infinite value(s) and {out} value(s) outside the physically possible range "
        f"{lo if lo is not None else '-inf'} .. {hi if hi is not None else 'inf'} {units} "
        f"after scale and unit conversion (min {finite.min() if finite.size else np.nan:.4g}, "
        f"max {finite.max() if finite.size else np.nan:.4g})",
        path=path,
        variable=variable,
        fix=units_mod.units_fix(variable),
    )


def block_reader(
    src: DatasetReader,
    s_crs: CRS,
    grid: Grid,
    *,
    kind: str,
    valid_range: tuple[float, float] | None,
    stack: contextlib.ExitStack,
) -> Callable[[Window | None], np.ndarray]:
    """A function window -> float32 (bands, rows, cols) of ``src`` on ``grid``, NaN as nodata.

    A source already on the grid is read directly (pre-aligned products: no resampling);
    otherwise through a WarpedVRT (kept open on ``stack``) with the resampling of ``kind``."""
    if on_grid(src, s_crs, grid):
        return lambda window: _read_valid(src, window, valid_range)
    res = choose_resampling(
        kind, source_resolution_on_grid(src, grid, s_crs), abs(grid.transform.a)
    )
    reader = _masked_source(src, valid_range, stack) if valid_range else src
    # A float raster that marks nodata with NaN but declares no nodata value (a common Earth
    # Engine export) would have GDAL average and interpolate the NaN as a value, so one NaN
    # source pixel blanks every target pixel it touches: NaN is declared its nodata here.
    src_nodata = reader.nodata
    if src_nodata is None and np.dtype(reader.dtypes[0]).kind == "f":
        src_nodata = np.nan
    vrt = stack.enter_context(
        WarpedVRT(
            reader,
            src_crs=s_crs,
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=res,
            dtype="float32",
            nodata=np.nan,
            src_nodata=src_nodata,
        )
    )
    return lambda window: vrt.read(window=window)


def _masked_source(src, valid_range, stack):
    """An in-memory float32 copy of ``src`` with raw values outside ``valid_range`` set to NaN.

    Coarse-to-fine products with fill codes (MOD17A3) are masked before warping; the copy is one
    source file, not the target grid (GDAL's warper has no valid-range option of its own)."""
    data = _read_valid(src, None, valid_range)
    profile = src.profile | {"driver": "GTiff", "dtype": "float32", "nodata": np.nan}
    mem = stack.enter_context(MemoryFile())
    with mem.open(**profile) as dst:
        dst.write(data)
    return stack.enter_context(mem.open())


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def lattice_shape(grid: Grid, n: int = 64) -> tuple[int, int]:
    """Rows and columns of the lattice of grid points :func:`grid_coverage` looks at."""
    return min(n, grid.height), min(n, grid.width)


def grid_coverage(
    src: DatasetReader,
    grid: Grid,
    crs: CRS | None = None,
    n: int = 64,
    weights: np.ndarray | None = None,
) -> float:
    """Share of the target grid inside the raster's extent, from a lattice of n × n grid points
    (the centres of an n × n decimation of the grid) transformed to the raster's CRS (robust for
    global sources and regional grids). ``weights`` (the lattice's shape, e.g. the fraction of
    each point inside the regions) makes it the share of the study area instead."""
    nr, nc = lattice_shape(grid, n)
    rows = (np.arange(nr) + 0.5) * grid.height / nr
    cols = (np.arange(nc) + 0.5) * grid.width / nc
    cc, rr = np.meshgrid(cols, rows)
    # affine's type hints cover single points; it maps arrays of points the same way
    pts = grid.transform @ (cc.ravel(), rr.ravel())  # type: ignore[operator]
    crs = crs or src.crs
    if crs != grid.crs:
        pts = warp_transform(grid.crs, crs, *pts)
    xs, ys = np.asarray(pts[0]), np.asarray(pts[1])
    left, bottom, right, top = src.bounds
    inside = (xs >= left) & (xs <= right) & (ys >= bottom) & (ys <= top) & np.isfinite(xs)
    if weights is None:
        return float(inside.mean())
    w = np.nan_to_num(np.asarray(weights, dtype="float64").ravel())
    return float((w * inside).sum() / w.sum()) if w.sum() > 0 else float(inside.mean())


def water_balance_runoff(
    path_precipitation: str, path_et: str, path_out: str, grid: Grid, block_rows: int = 512
) -> None:
    """Q = max(P_annual − ET_annual, 0) in mm yr-1 from aligned precipitation (all bands summed)
    and aligned annual ET (docs/method.md, "Rock-weathering sink", ``runoff.source:
    water_balance``). NaN stays NaN."""
    with (
        gdal_env(),
        rasterio.open(path_precipitation) as pr,
        rasterio.open(path_et) as et,
        atomic_output(path_out) as tmp,
        rasterio.open(tmp, "w", **grid.profile()) as dst,
    ):
        for r0 in range(0, grid.height, block_rows):
            win = Window(0, r0, grid.width, min(block_rows, grid.height - r0))
            p_annual = pr.read(window=win).astype("float64").sum(axis=0)
            diff = p_annual - et.read(1, window=win)
            q = np.where(np.isnan(diff), np.nan, np.maximum(diff, 0.0))
            dst.write(q.astype("float32"), 1, window=win)
        dst.set_band_description(1, "runoff from the water balance max(P - ET, 0)")
        dst.update_tags(1, units="mm yr-1")


def climate_sources(climate: dict, var: str, year: int | None) -> list[str]:
    """What GDAL opens for one year's ``var`` (temperature or precipitation): the files of
    :func:`month_paths`, or one variable of a NetCDF file (``{var}_subdataset``)."""
    return [
        gdal_source(p, climate.get(f"{var}_subdataset")) for p in month_paths(climate[var], year)
    ]


def align_inputs(
    *,
    grid: Grid,
    year: int | None,
    climate: dict | None,
    npp: dict | None,
    runoff: dict,
    outputs: dict,
    path_precipitation: str | None = None,
) -> None:
    """Align the inputs named in ``outputs`` (of temperature, precipitation, npp, runoff: name ->
    aligned path) for one ``year``, or, ``year`` None, the climatologies (paths without
    ``{year}``, aligned once for every year). Config sections as in the config.

    With ``runoff.source: water_balance`` the ET raster is aligned and runoff is computed as
    max(P_annual − ET_annual, 0) from the aligned precipitation (``outputs['precipitation']``,
    or ``path_precipitation`` when precipitation is a climatology aligned before). Every pixel
    is checked against the physically possible range of its variable
    (:func:`carbonbudget.core.units.plausible`)."""
    if climate:
        timestep = climate["timestep"]
        desc = MONTHS if timestep == "monthly" else ["annual"]
        for var in ("temperature", "precipitation"):
            if var not in outputs:
                continue
            align_raster(
                climate_sources(climate, var, year),
                outputs[var],
                grid,
                variable=var,
                band_descriptions=desc,
                crs=climate.get("crs"),
                values=Values(
                    units=climate[f"{var}_units"],
                    scale=climate[f"{var}_scale"],
                    offset=climate[f"{var}_offset"],
                    timestep=timestep,
                    year=None if is_climatology(climate[var]) else year,
                    limits=units_mod.plausible(var, timestep).hard,
                ),
            )
    if npp and "npp" in outputs:
        align_raster(
            gdal_source(npp["path"].format(year=year), band=npp.get("band"), key="npp.band"),
            outputs["npp"],
            grid,
            variable="npp",
            crs=npp.get("crs"),
            values=Values(
                scale=npp["scale"],
                offset=npp["offset"],
                units=npp["units"],
                valid_range=npp.get("valid_range"),
                limits=units_mod.plausible("npp").hard,
            ),
        )
    if "runoff" not in outputs:
        return
    path_runoff = outputs["runoff"]
    if runoff["source"] == "water_balance":
        path_et = f"{path_runoff}.et.tif"
        try:
            align_raster(
                runoff["et"].format(year=year),
                path_et,
                grid,
                variable="et",
                crs=runoff.get("crs"),
                values=Values(
                    scale=runoff["et_scale"],
                    units=runoff["et_units"],
                    limits=units_mod.plausible("et").hard,
                ),
            )
            path_p = outputs.get("precipitation") or path_precipitation
            if path_p is None:
                raise ConfigError(
                    "runoff.source: water_balance needs the aligned precipitation; "
                    "set climate.precipitation"
                )
            water_balance_runoff(path_p, path_et, path_runoff, grid)
        finally:
            if os.path.exists(path_et):
                os.remove(path_et)
        return
    align_raster(
        gdal_source(
            runoff["path"].format(year=year),
            runoff.get("subdataset"),
            runoff.get("band"),
            key="runoff.band",
        ),
        path_runoff,
        grid,
        variable="runoff",
        crs=runoff.get("crs"),
        values=Values(
            scale=runoff["scale"],
            offset=runoff["offset"],
            units=runoff["units"],
            valid_range=runoff.get("valid_range"),
            negative_tolerance=runoff["negative_tolerance"],
            limits=units_mod.plausible("runoff").hard,
        ),
    )


def align_weights(path: str, dst_path: str, grid: Grid, downscale: dict) -> np.ndarray:
    """The weight raster of ``emissions.downscale`` (its band, subdataset and CRS as the section
    says) put on ``grid`` at ``dst_path``; returns its values per pixel, ravelled (NaN where
    it holds none)."""
    align_raster(
        gdal_source(
            path,
            downscale.get("subdataset"),
            downscale.get("band"),
            key="emissions.downscale.band",
        ),
        dst_path,
        grid,
        variable="emission weights",
        crs=downscale.get("crs"),
        values=Values(kind=CONTINUOUS),
    )
    with rasterio.open(dst_path) as src:
        return src.read(1, masked=True).filled(np.nan).astype("float64").ravel()


def align_cover_fraction(cfg: dict, dst_path: str, grid: Grid, study_area: np.ndarray) -> None:
    """``npp.cover_fraction`` put on the grid (averaged) as the share of each pixel, 0 to 1, at
    ``dst_path``. ``study_area`` is the fraction of each pixel inside the regions: the share
    must be known wherever it is above 0 (an unknown share would drop the pixel from every sum
    without a word) and lie within [0, 1] after ``scale`` (a percentage without ``scale: 0.01``
    is refused)."""
    key = "npp.cover_fraction"
    path = cfg["path"]
    align_raster(
        gdal_source(path, None, cfg.get("band"), key=f"{key}.band"),
        dst_path,
        grid,
        variable="land-cover fraction",
        crs=cfg.get("crs"),
        values=Values(kind=CONTINUOUS, scale=cfg.get("scale", 1.0)),
    )
    with rasterio.open(dst_path) as src:
        share = src.read(1, masked=True).filled(np.nan).astype("float64")
    inside = study_area > 0
    unknown = inside & ~np.isfinite(share)
    if unknown.any():
        raise InputDataError(
            f"no value on {unknown.sum()} pixels of the study area "
            f"({100 * unknown.sum() / inside.sum():.1f} % of its pixels)",
            path=path,
            variable=key,
            fix="use a fraction raster that covers every region (0 where the class is absent), "
            "or declare its nodata",
        )
    values = share[inside]
    lo, hi = (values.min(), values.max()) if values.size else (0.0, 0.0)
    if lo < -1e-6 or hi > 1.0 + 1e-6:
        raise InputDataError(
            f"shares from {lo:.4g} to {hi:.4g} after npp.cover_fraction.scale "
            f"({cfg.get('scale', 1.0):g}); a share lies between 0 and 1",
            path=path,
            variable=key,
            fix="set npp.cover_fraction.scale (0.01 for a percentage)",
        )
