"""Raster and table I/O: lazy chunked reads, block-wise COG writes, atomic file replacement.

Every output is written to a temporary name beside its destination and moved into place only
when complete, so a failed run never leaves a half-written file where a previous result was.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import rasterio
import rasterio.shutil
from rasterio.enums import Resampling

from carbonbudget.core.errors import ConfigError, InputDataError

# numpy's switch for huge pages, which its import sets from NUMPY_MADVISE_HUGEPAGE (in
# numpy._core since numpy 2, numpy.core before)
_set_madvise_hugepage = (
    np._core if hasattr(np, "_core") else np.core
).multiarray._set_madvise_hugepage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import geopandas as gpd
    import xarray as xr

    from carbonbudget.core.grid import Grid

log = logging.getLogger(__name__)

DEFAULT_GDAL_CACHEMAX_MB = 256
# COG tile size; overviews are built until the smallest level fits in one tile.
COG_BLOCKSIZE = 256
# A layer of at most this many pixels (16 MiB of float32) waits for its COG copy in a GeoTIFF in
# memory (GDAL's /vsimem/), kept open, rather than in a temporary file: writing, reopening and
# reading that file back (GDAL reads the file's CRS again at each opening) cost more than the
# layer's pixels on a small grid. Larger layers go through
# the temporary file, so that memory follows the chunks, not the grid.
IN_MEMORY_PIXELS = 2048 * 2048


# GeoPackages record a "last change" timestamp; pinning it keeps files byte-identical run to run
# (the real run time goes to provenance.json). pyogrio bundles its own GDAL, so the option is set
# there too, not only in rasterio's environment.
PINNED_OGR_DATE = "2000-01-01T00:00:00.000Z"


def write_gpkg_layer(df: gpd.GeoDataFrame, path: str | os.PathLike, layer: str) -> None:
    """Write (or add) one layer of a GeoPackage with a pinned timestamp; ``df`` may have no
    geometry (an attribute table). The option is set for the write and restored after it."""
    # lazy: pyogrio costs a second of start-up; only jobs that read polygons need it
    import pyogrio

    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": PINNED_OGR_DATE})
    try:
        pyogrio.write_dataframe(_epsg_remembered(df), path, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def _epsg_remembered(df: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``df`` with a CRS whose EPSG code is looked up once per process. pyogrio asks for it at
    every layer it writes (the code is written if there is one, else the WKT), and for a CRS
    with no EPSG twin PROJ searches its whole database each time: ~0.1 s per layer, a dozen
    layers per run. The same CRS is written either way."""
    crs = getattr(df, "crs", None)  # None for a table without geometry
    if crs is None:
        return df
    # lazy: pyproj and geopandas come with the polygons; only jobs that write layers need them
    from geopandas import GeoSeries
    from geopandas.array import GeometryArray
    from pyproj import CRS

    class EpsgRemembered(CRS):
        def to_epsg(self, min_confidence: int = 70) -> int | None:
            key = (self.to_wkt(), min_confidence)
            if key not in _EPSG_CODES:
                _EPSG_CODES[key] = super().to_epsg(min_confidence)
            return _EPSG_CODES[key]

    name = df.geometry.name
    geometry = GeometryArray(np.asarray(df.geometry.values), crs=EpsgRemembered(crs))
    return df.set_geometry(GeoSeries(geometry, index=df.index, name=name))


_EPSG_CODES: dict[tuple[str, int], int | None] = {}  # (WKT, confidence) -> EPSG code, per process


_GDAL_CACHEMAX_MB: list[int] = []  # set once per job process by configure_gdal_cache


def configure_gdal_cache(cachemax_mb: int | None) -> None:
    """The block cache (MB) every :func:`gdal_env` of this process uses: the job's
    ``processing.gdal_cachemax_mb`` (:meth:`carbonbudget.pipeline.job.Stages.run` sets it before
    a stage)."""
    _GDAL_CACHEMAX_MB[:] = [] if cachemax_mb is None else [int(cachemax_mb)]


def configure_huge_pages(enabled: bool) -> None:
    """Whether numpy asks the kernel for transparent huge pages for the arrays of 4 MB or more
    this process allocates from now on: the job's ``processing.huge_pages``
    (:meth:`carbonbudget.pipeline.job.Stages.run` sets it before a stage). numpy reads its
    ``NUMPY_MADVISE_HUGEPAGE`` only when it is imported, before the job server forks a job, so
    the job sets numpy's switch itself (the function numpy's import calls with that variable)."""
    _set_madvise_hugepage(bool(enabled))


def gdal_env(cachemax_mb: int | None = None) -> rasterio.Env:
    """A rasterio/GDAL environment with a bounded block cache (GDAL's default, 5 % of RAM, hides
    real memory use). The size is ``cachemax_mb``, else what :func:`configure_gdal_cache` set
    for this process, else the ``GDAL_CACHEMAX`` environment variable when it is a number of
    MB, else 256 MB."""
    if cachemax_mb is None and _GDAL_CACHEMAX_MB:
        cachemax_mb = _GDAL_CACHEMAX_MB[0]
    if cachemax_mb is None:
        env = os.environ.get("GDAL_CACHEMAX", "")
        cachemax_mb = int(env) if env.isdigit() else DEFAULT_GDAL_CACHEMAX_MB
    return rasterio.Env(GDAL_CACHEMAX=int(cachemax_mb), OGR_CURRENT_DATE=PINNED_OGR_DATE)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.partial{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _significant(df: pd.DataFrame, digits: int) -> pd.DataFrame:
    """Float columns rounded to ``digits`` significant digits. Rounding the values, not
    formatting them: pandas' ``float_format`` turns numbers into text, which
    ``QUOTE_NONNUMERIC`` then quotes like codes."""
    out = df.copy()
    fmt = f"{{:.{digits}g}}".format
    for col in out.columns[[pd.api.types.is_float_dtype(t) for t in out.dtypes]]:
        out[col] = out[col].map(fmt).astype("float64")
    return out


def write_table(
    df: pd.DataFrame,
    path_csv: str | os.PathLike | None = None,
    path_parquet: str | os.PathLike | None = None,
    *,
    digits: int = 12,
) -> None:
    """Write a table as CSV and/or Parquet, atomically, byte-identical for identical input.

    Floats go to the CSV with ``digits`` significant digits (12: at most 5e-12 of the value,
    far below the accuracy of any input, without the binary tail of 0.46944444444444444); the
    Parquet keeps every bit.

    Text fields are quoted in the CSV (numbers are not), so a spreadsheet told to keep quoted
    fields as text keeps region codes such as "010101" as written; pandas and R still guess
    types from the content, hence docs/data.md gives the dtype to ask for."""
    if path_csv is not None:
        with atomic_output(path_csv) as tmp:
            _significant(df, digits).to_csv(
                tmp, index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC
            )
    if path_parquet is not None:
        with atomic_output(path_parquet) as tmp:
            df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def read_table(
    path: str | os.PathLike, variable: str, dtype: dict | str | type | None = None, **csv_options
) -> pd.DataFrame:
    """Read a CSV or Parquet table; errors name the file and the variable.

    ``dtype`` forces column types (region codes are read as strings so that leading zeros and
    6-digit codes survive); ``csv_options`` go to :func:`pandas.read_csv` (e.g. ``sep``)."""
    path = str(path)
    if not os.path.exists(path):
        raise InputDataError(
            "file not found",
            path=path,
            variable=variable,
            fix="check the path in the config (relative paths are relative "
            "to the directory snakemake runs in)",
        )
    try:
        if path.endswith(".parquet"):
            df = pd.read_parquet(path)
            return df.astype(dtype) if dtype else df
        return pd.read_csv(path, dtype=dtype, **csv_options)
    except Exception as exc:  # pandas raises many types; the user needs the file name
        raise InputDataError(
            f"cannot read table ({exc})",
            path=path,
            variable=variable,
            fix="check that the file is a valid CSV or Parquet table",
        ) from exc


def read_text_table(path: str | os.PathLike, variable: str) -> pd.DataFrame:
    """Read a CSV or Parquet table without guessing which cells are missing.

    pandas reads ``n/a``, ``NA``, ``-`` and empty cells as NaN, and a NaN summed with ``sum()``
    counts as 0: a table read that way turns a typo into a silent zero. Here every CSV cell is
    kept as the text the file holds ('' for an empty cell) until :func:`parse_numbers` converts
    the value columns and names every cell that is not a number. The index is the line number
    of each row in the file (header = line 1; blank lines are skipped but counted), or the
    1-based row number of a Parquet table."""
    path = str(path)
    if not path.endswith(".parquet"):
        df = read_table(
            path, variable, dtype=str, keep_default_na=False, na_values=[], skip_blank_lines=False
        )
        df.index = df.index + 2
        return df[(df != "").any(axis=1)]
    df = read_table(path, variable)
    df.index = df.index + 1
    return df


def region_codes(values: pd.Series, *, path: str, variable: str) -> pd.Series:
    """Region codes as stripped text. A column whose every code reads as an integer with a
    decimal point (910101.0: a code column stored as floating point by a spreadsheet or a GIS)
    is read as those integers, with a warning naming the file, so that its codes match the
    same codes written as integers elsewhere; codes with a real fractional part stay as given."""
    text = values.astype(str).str.strip()
    known = values.notna() & text.ne("")
    floats = text[known].str.fullmatch(r"-?\d+\.0+")
    if known.any() and floats.all():
        log.warning(
            "%s: the codes of %s are stored as floating-point numbers (%s); read as the "
            "integers they hold. Store codes as text or integers to keep leading zeros",
            path,
            variable,
            text[known].iloc[0],
        )
        text = text.where(~known, text.str.replace(r"\.0+$", "", regex=True))
    return text


def parse_numbers(
    values: pd.Series,
    context: pd.DataFrame,
    *,
    path: str,
    variable: str,
    fix: str,
    allow_missing: bool = False,
    integer: bool = False,
) -> pd.Series:
    """``values`` (text or numbers, indexed by line as :func:`read_text_table` gives) as float.

    Empty cells, text that is not a number and non-finite numbers are an
    :class:`~carbonbudget.core.errors.InputDataError` listing each cell's line and ``context``
    (e.g. region code and year), or NaN with ``allow_missing`` (the caller reports them).
    ``integer`` also refuses numbers with a fractional part (years)."""
    if not pd.api.types.is_numeric_dtype(values):
        values = values.astype(str).str.strip()
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = ~np.isfinite(num)
    if integer:
        bad |= num.ne(np.round(num))
    if bad.any() and not allow_missing:
        where = "line" if not path.endswith(".parquet") else "row"
        cells = [
            f"{where} {i} ({', '.join(f'{k} {v}' for k, v in ctx.items())}: {raw!r})"
            for i, ctx, raw in zip(
                values.index[bad], context.loc[bad].to_dict("records"), values[bad]
            )
        ]
        kind = "integers" if integer else "numbers"
        raise InputDataError(
            f"{int(bad.sum())} value(s) are empty or not {kind}: "
            + "; ".join(cells[:10])
            + ("; ..." if len(cells) > 10 else ""),
            path=path,
            variable=variable,
            fix=fix,
        )
    return num.where(~bad)


def open_raster(
    path: str | os.PathLike, chunk_size: int | None = 512, band_dim: str = "band"
) -> xr.DataArray:
    """Open a raster lazily as (band, y, x) float with NaN for nodata, chunked spatially only."""
    # dask/xarray/rioxarray are imported here, not at module level: most pipeline jobs never
    # stream rasters through dask, and the import costs each job about a second.
    # lazy: rioxarray costs seconds of start-up; jobs that read only tables never use it
    import rioxarray
    import xarray as xr

    path = str(path)
    if not os.path.exists(path):
        raise InputDataError("file not found", path=path, fix="run the alignment rule first")
    chunks = None if chunk_size is None else {"band": -1, "y": chunk_size, "x": chunk_size}
    # Masking copies every block (xarray's CF decoding; docs/performance.md). A float raster
    # whose nodata is NaN (every aligned raster) or that has no nodata already reads as it
    # should: skip it (integer rasters are still masked, which also makes them float).
    with rasterio.open(path) as src:
        nodata, dtype = src.nodata, np.dtype(src.dtypes[0])
    already_nan = dtype.kind == "f" and (nodata is None or np.isnan(nodata))
    arr = rioxarray.open_rasterio(path, chunks=chunks, masked=not already_nan, lock=False)
    if not isinstance(arr, xr.DataArray):  # a file of several subdatasets
        raise InputDataError("not a single raster", path=path, fix="give one band file")
    return arr.rename({"band": band_dim}) if band_dim != "band" else arr


def _compute_by_row_groups(sources: list, datasets: list, label: str) -> None:
    """Compute the layers one row of chunks at a time and write each row into its dataset,
    logging progress about every 10 % of the rows with the elapsed time."""
    # lazy: dask costs seconds of start-up; jobs that read only tables never use it
    import dask

    rows = sources[0].chunks[0]
    sources = [s if s.chunks[0] == rows else s.rechunk({0: rows}) for s in sources]
    height, width = sources[0].shape
    bounds = np.cumsum((0,) + tuple(rows))
    t0 = time.perf_counter()
    step = max(1, len(rows) // 10)
    for i, (r0, r1) in enumerate(zip(bounds[:-1], bounds[1:])):
        blocks = dask.compute(*[s[r0:r1] for s in sources])
        window = rasterio.windows.Window(0, int(r0), width, int(r1 - r0))
        for ds, block in zip(datasets, blocks):
            ds.write(np.asarray(block, dtype="float32"), 1, window=window)
        if (i + 1) % step == 0 or i + 1 == len(rows):
            log.info(
                "%s: rows %d/%d (%.0f %%) computed in %.1f s",
                label,
                r1,
                height,
                100.0 * r1 / height,
                time.perf_counter() - t0,
            )


class _WindowWriter:
    """A ``dask.array.store`` target writing each block into a rasterio dataset as it is
    computed (under one lock shared by all targets: GDAL datasets are not thread-safe), and
    logging progress about every 10 % of the pixels."""

    def __init__(self, dataset, progress):
        self.dataset, self.progress = dataset, progress

    def __setitem__(self, key, block):
        rows, cols = key
        window = rasterio.windows.Window(
            cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start
        )
        with self.progress.lock:
            self.dataset.write(np.asarray(block, dtype="float32"), 1, window=window)
            self.progress.add(window.width * window.height)


class _Progress:
    """Pixels written so far over all layers; one log line about every 10 %."""

    def __init__(self, label, total, n_layers):
        self.label, self.total = label, total * n_layers
        self.lock = threading.Lock()
        self.done, self.next_log, self.t0 = 0, 0.1, time.perf_counter()

    def add(self, n):
        self.done += n
        fraction = self.done / self.total
        if fraction >= self.next_log or self.done == self.total:
            log.info(
                "%s: %.0f %% of the blocks computed in %.1f s",
                self.label,
                100.0 * fraction,
                time.perf_counter() - self.t0,
            )
            while self.next_log <= fraction:
                self.next_log += 0.1


def _compute_blocks(sources: list, datasets: list, label: str) -> None:
    """Compute the layers with the local (threaded) scheduler in one graph, writing every block
    as soon as it is ready. Unlike row groups there is no barrier after each row of chunks, so
    every core stays busy; memory still follows the chunk size (dask's ordering computes and
    releases chunk by chunk)."""
    # lazy: dask costs seconds of start-up; jobs that read only tables never use it
    import dask.array as da

    progress = _Progress(label, sources[0].size, len(sources))
    targets: list = [_WindowWriter(ds, progress) for ds in datasets]
    da.store(sources, targets, lock=False)


CONNECT_TIMEOUT_S = 10  # a scheduler that does not answer by then is not there: fail fast


@contextlib.contextmanager
def dask_scheduler(spec: dict | None, threads: int = 1) -> Iterator[object]:
    """The dask scheduler of a per-pixel job (config section ``dask``).

    ``threads`` (default): the local threaded scheduler with the job's threads. ``distributed``:
    connect to the cluster at ``address`` (an existing ``dask-scheduler``), or, without an
    address, start a one-worker local cluster with the job's threads for the job's duration.
    Workers read the aligned rasters themselves, so they need the same file paths (a shared
    file system); blocks come back to the job, which writes the outputs. Yields the client
    (None with threads)."""
    # lazy: dask costs seconds of start-up; jobs that read only tables never use it
    import dask

    spec = spec or {}
    if spec.get("scheduler") in (None, "threads"):
        with dask.config.set(scheduler="threads", num_workers=max(1, threads)):
            yield None
        return
    try:
        # lazy: optional dependency (the cluster extra), needed only with dask.address
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            "dask.scheduler: distributed needs the 'distributed' package: "
            "pip install 'carbonbudget[cluster]' (or set dask.scheduler: threads)"
        ) from exc
    address = spec.get("address")
    if address:
        try:
            client = Client(address, set_as_default=True, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"dask.address: no dask scheduler answers at {address} within "
                f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__}). Start one where the jobs run "
                "(dask scheduler; dask worker <address>), correct dask.address, or set "
                "dask.scheduler: threads"
            ) from exc
        with client:
            log.info(
                "dask: connected to %s (%d workers)",
                address,
                len(client.scheduler_info().get("workers", {})),
            )
            yield client
        return
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=max(1, threads), processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        log.info("dask: local distributed cluster, 1 worker × %d threads", threads)
        yield client


def overview_factors(width: int, height: int, blocksize: int = COG_BLOCKSIZE) -> list[int]:
    """Overview decimation factors 2, 4, 8, ... until the coarsest level fits in one tile (what
    the COG driver's OVERVIEWS=AUTO makes); none for a grid that fits in one tile."""
    factors, f = [], 1
    while -(-max(width, height) // f) > blocksize:
        f *= 2
        factors.append(f)
    return factors


def _distributed_active() -> bool:
    """True when a dask.distributed client is the active scheduler (see :func:`dask_scheduler`):
    its workers cannot receive the open output datasets, so blocks come back row by row."""
    # lazy: dask costs seconds of start-up; jobs that read only tables never use it
    import dask

    return dask.config.get("scheduler", None) == "dask.distributed"


def _copy_to_cog(source, path: str, **options) -> None:
    """Copy an open raster (:func:`_intermediate`) with its overviews to a COG at
    ``path``, atomically: ZSTD level 1 (about the size of level 3 and faster to write; DEFLATE is
    slower still, docs/performance.md), the overviews as built; ``options`` add creation
    options."""
    with atomic_output(path) as cog_tmp:
        rasterio.shutil.copy(
            source,
            cog_tmp,
            driver="COG",
            COMPRESS="ZSTD",
            LEVEL=1,
            BLOCKSIZE=COG_BLOCKSIZE,
            OVERVIEWS="FORCE_USE_EXISTING",
            **options,
        )


def write_cogs(
    layers: dict,
    grid: Grid,
    *,
    descriptions: dict | None = None,
    units: dict | None = None,
    tags: dict | None = None,
    threads: int = 1,
    label: str | None = None,
    then: Callable[[dict[str, str]], object] | None = None,
) -> None:
    """Write several (y, x) arrays (numpy or dask) as float32 Cloud-Optimised GeoTIFFs.

    All layers are computed together (their dask graphs share the kernel call): with the local
    threaded scheduler in one graph, each block written as it is ready; under a distributed
    client (see :func:`dask_scheduler`) one row of chunks at a time, the blocks coming back to
    this process. Blocks go into tiled uncompressed temporary GeoTIFFs (memory bounded by the
    chunks in flight), then each is copied to
    COG with ZSTD compression (level 1: about the size of level 3 and faster to write; DEFLATE
    is slower still; docs/performance.md), a floating-point predictor and averaged
    overviews, using ``threads`` threads, and moved into place atomically.
    ``layers`` maps output path -> array; ``descriptions``/``units``/``tags`` are keyed by path.
    ``then``, if given, is called with {output path: a raster of the same values} once the COGs
    are written, before those uncompressed temporary GeoTIFFs are deleted: a caller that reads
    the layers back (the zonal totals of a year) reads them without decompressing the COGs.
    """
    descriptions = descriptions or {}
    units = units or {}
    tags = tags or {}
    datasets, sources = [], []
    try:
        for path, data in _float32_layers(layers, grid).items():
            # intermediate tiled GeoTIFF; never moved into place, always deleted
            tmp = Path(path).with_name(f".{Path(path).stem}.{os.getpid()}.blocks.tif")
            datasets.append((path, tmp, _intermediate(tmp, grid, "float32")))
            sources.append(data)
        _compute(sources, [ds for _, _, ds in datasets], label or "layers")
        for path, _, ds in datasets:
            _set_description(ds, descriptions.get(path), units.get(path), tags.get(path))
        _blocks_to_cogs([(ds, path) for path, _, ds in datasets], grid, threads)
        if then is not None:
            for _, _, ds in datasets:
                ds.close()  # its blocks written out, for a reader of its own
            then({path: ds.name for path, _, ds in datasets})
    finally:
        for _, tmp, ds in datasets:
            _discard(ds, tmp)


def _float32_layers(layers: dict, grid: Grid) -> dict:
    """``layers`` (path -> (y, x) numpy, dask or xarray array on ``grid``) as float32 dask
    arrays, their folders made."""
    # lazy: dask costs seconds of start-up; jobs that read only tables never use it
    import dask.array as da
    import xarray as xr

    out = {}
    for path, arr in layers.items():
        data = arr.data if isinstance(arr, xr.DataArray) else arr
        if data.shape != grid.shape:
            raise ValueError(f"{path}: array shape {data.shape} != grid {grid.shape}")
        if not isinstance(data, da.Array):
            data = da.from_array(np.asarray(data), chunks=(1024, 1024))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        out[path] = data.astype("float32")
    return out


def _compute(sources: list, datasets: list, label: str) -> None:
    """Compute the layers into the open ``datasets``: block by block with the local scheduler,
    a row of chunks at a time under a distributed client."""
    compute = _compute_by_row_groups if _distributed_active() else _compute_blocks
    compute(sources, datasets, label)


def write_scratch(layers: dict, grid: Grid, *, label: str | None = None) -> None:
    """Several (y, x) arrays as tiled, uncompressed float32 GeoTIFFs without overviews, written
    in place: rasters a job writes only to read them back itself (in its temporary folder), for
    which a COG's compression and overviews (:func:`write_cogs`) cost time no reader uses. The
    values are those :func:`write_cogs` writes."""
    sources, datasets = [], []
    try:
        for path, data in _float32_layers(layers, grid).items():
            datasets.append(rasterio.open(path, "w", **grid.profile(compress=None)))
            sources.append(data)
        _compute(sources, datasets, label or "layers")
    finally:
        for ds in datasets:
            ds.close()


def _intermediate(tmp: Path, grid: Grid, dtype: str, **profile):
    """A dataset open for writing that holds a layer until its COG copy: the tiled,
    uncompressed GeoTIFF ``tmp``, or the same GeoTIFF in GDAL's memory file system
    (IN_MEMORY_PIXELS); either stays open until the copy. Not GDAL's MEM driver: it builds each
    overview level from the full resolution where the GeoTIFF driver builds it from the level
    before, so a grid with two levels or more would get other coarse levels."""
    p = grid.profile(dtype=dtype, compress=None, **profile)
    if grid.width * grid.height > IN_MEMORY_PIXELS:
        return rasterio.open(tmp, "w", **p)
    return rasterio.open(f"/vsimem/carbonbudget/{os.getpid()}/{uuid.uuid4().hex}.tif", "w", **p)


def _discard(ds, tmp: Path) -> None:
    """Close an intermediate of :func:`_intermediate` and delete it (from memory or disk)."""
    ds.close()
    if ds.name.startswith("/vsimem/"):
        rasterio.shutil.delete(ds.name)
    elif tmp.exists():
        tmp.unlink()


def _set_description(ds, description: str | None, unit: str | None, tags: dict | None) -> None:
    """Band description, units (as GDAL's and as a band tag) and dataset tags of an open
    raster."""
    if description is not None:
        ds.set_band_description(1, description)
    if unit is not None:
        ds.units = (unit,)
        ds.update_tags(1, units=unit)
    if tags is not None:
        ds.update_tags(**tags)


def _blocks_to_cogs(pairs: list[tuple], grid: Grid, threads: int) -> None:
    """Each (open intermediate of :func:`_intermediate`, COG path) with averaged overviews,
    copied to COG. Layers are copied side by side, one thread each: GDAL builds overviews in
    one thread per copy, so several copies at once use every core."""
    workers = max(1, min(threads, len(pairs)))
    per_copy = max(1, threads // workers)
    factors = overview_factors(grid.width, grid.height)

    def to_cog(pair: tuple) -> None:
        source, path = pair
        # Overviews are built in the uncompressed intermediate and copied as they are: the COG
        # driver's own (OVERVIEWS=AUTO) goes through a temporary file and costs more
        # (docs/performance.md). Same averages of valid pixels; a level's size is rounded up
        # (5,000 / 16 -> 313 columns, AUTO made 312), so the coarse levels cover the last
        # partial block of pixels too.
        if factors:
            source.build_overviews(factors, Resampling.average)
        _copy_to_cog(source, path, PREDICTOR="YES", NUM_THREADS=per_copy)

    if workers == 1:
        for pair in pairs:
            to_cog(pair)
    else:
        with gdal_env(), ThreadPoolExecutor(workers) as pool:
            list(pool.map(to_cog, pairs))


def write_class_cog(
    path: str,
    classes: np.ndarray,
    grid,
    *,
    colours: dict[int, tuple[int, int, int]],
    labels: dict[int, str],
    description: str,
    tags: dict | None = None,
) -> None:
    """A categorical (y, x) uint8 layer as a Cloud-Optimised GeoTIFF with a colour table, so a
    GIS opens it styled; 0 is nodata, the class labels go into the ``classes`` tag (GeoTIFF
    has no place for category names), overviews by mode (a class, never an average)."""
    tmp = Path(path).with_name(f".{Path(path).stem}.{os.getpid()}.classes.tif")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ds = _intermediate(tmp, grid, "uint8", nodata=0)
    try:
        with ds:
            ds.write(classes.astype("uint8"), 1)
            ds.write_colormap(
                1, {0: (255, 255, 255, 0), **{k: (*v, 255) for k, v in colours.items()}}
            )
            ds.set_band_description(1, description)
            ds.update_tags(
                classes="; ".join(f"{k} {v}" for k, v in sorted(labels.items())), **(tags or {})
            )
            factors = overview_factors(grid.width, grid.height)
            if factors:
                ds.build_overviews(factors, Resampling.mode)
            _copy_to_cog(ds, path)
    finally:
        _discard(ds, tmp)


def file_digest(path: str) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# A file larger than SAMPLED_ABOVE is digested from DIGEST_SAMPLES blocks of DIGEST_BLOCK bytes
# (the first, the last and evenly spaced ones between) unless the full digest is asked for:
# hashing every byte of a country's inputs costs more than computing a year of the budget
# (docs/performance.md), while the sampled digest still changes with the file's size, with any
# edit of its header (the first block) and with a rewrite of any block it reads. Smaller files
# are hashed whole: sampling them would save nothing.
SAMPLED_ABOVE = 64 * 2**20
DIGEST_BLOCK = 2**20
DIGEST_SAMPLES = 16
SAMPLED_NOTE = (
    f"SHA-256 of the size and {DIGEST_SAMPLES} blocks of {DIGEST_BLOCK // 2**20} MiB (the "
    "first, the last and evenly spaced ones), not of every byte: outputs.input_digests: full "
    "hashes the whole file"
)


def sampled_digest(path: str) -> str:
    """SHA-256 of a file's size and :data:`DIGEST_SAMPLES` blocks of it (see above)."""
    size = os.path.getsize(path)
    h = hashlib.sha256(str(size).encode())
    last = max(size - DIGEST_BLOCK, 0)
    offsets = sorted({round(last * i / (DIGEST_SAMPLES - 1)) for i in range(DIGEST_SAMPLES)})
    with open(path, "rb") as fh:
        for offset in offsets:
            fh.seek(offset)
            h.update(fh.read(DIGEST_BLOCK))
    return h.hexdigest()


def file_digests(
    paths: list[str], cache_path: str | None = None, full: bool = False
) -> dict[str, dict]:
    """{path: {"sha256", "bytes"}} of each file; a file above :data:`SAMPLED_ABOVE` bytes has
    ``sha256_sampled`` and ``sampled`` (how) instead unless ``full``. With ``cache_path``, a
    file whose size and modification time (ns) match what the cache recorded is not read
    again, so a run that adds a year hashes that year's files only; the cache is rewritten
    with what was found."""
    cache: dict = {}
    if cache_path and os.path.exists(cache_path):
        try:
            with open(cache_path) as fh:
                cache = json.load(fh)
        except (OSError, ValueError):
            cache = {}  # unreadable: hash everything again
    out = {}
    for p in paths:
        st = os.stat(p)
        sampled = st.st_size > SAMPLED_ABOVE and not full
        field = "sha256_sampled" if sampled else "sha256"
        key = os.path.abspath(p)
        hit: dict = cache.get(key) or {}
        fresh = hit.get("bytes") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns
        if not (fresh and field in hit):
            digest = sampled_digest(p) if sampled else file_digest(p)
            hit = {field: digest, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
            cache[key] = hit
        out[p] = {field: hit[field], "bytes": hit["bytes"]}
        if sampled:
            out[p]["sampled"] = SAMPLED_NOTE
    if cache_path:
        with atomic_output(cache_path) as tmp:
            Path(tmp).write_text(json.dumps(cache, indent=1, sort_keys=True))
    return out
