"""xarray/dask wrappers around :func:`carbonbudget.kernels.carbon_fluxes` (docs/method.md).

Inputs are checked here (dims, shapes, chunk alignment); outputs get ``units`` and ``long_name``
and nothing else: input attributes are never copied. The same kernel serves numpy-backed and
dask-backed inputs; with dask, memory follows the chunk size, not the grid size.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

from . import kernels
from .config import FLUX_VARS, schema_default
from .errors import InputDataError

FLUX_UNITS = "g C m-2 yr-1"
LONG_NAMES = {
    "rh": "heterotrophic respiration (Pei et al. 2009)",
    "nep": "net ecosystem productivity, NPP - RH",
    "rcs": "rock-weathering carbon sink, 0.012 * a * Q (GEM-CO2)",
    "ecs": "ecosystem carbon sink, NEP + RCS",
}


def _check(name, arr, ndim, spatial_shape=None):
    if not isinstance(arr, xr.DataArray):
        raise TypeError(f"{name} must be an xarray.DataArray, got {type(arr).__name__}")
    if arr.ndim != ndim:
        raise InputDataError(
            f"expected {ndim} dimensions, got {arr.ndim} {arr.dims}",
            variable=name,
            fix="pass (month, y, x) climate and (y, x) fields",
        )
    if spatial_shape is not None and arr.shape[-2:] != spatial_shape:
        raise InputDataError(
            f"spatial shape {arr.shape[-2:]} differs from {spatial_shape}",
            variable=name,
            fix="align all inputs to the same grid first",
        )


def compute_carbon_fluxes(
    temperature_c: xr.DataArray,
    precipitation_mm: xr.DataArray,
    npp_gc: xr.DataArray,
    runoff_mm: xr.DataArray,
    gem_coefficient: xr.DataArray,
    region_mask: xr.DataArray,
    timestep: str = "monthly",
) -> xr.Dataset:
    """Per-pixel RH, NEP, RCS, ECS in g C m-2 yr-1 (docs/method.md).

    temperature_c, precipitation_mm: (month, y, x), 12 monthly values in °C and mm month-1,
    or with ``timestep='annual'`` a single annual mean T and annual total P (mm yr-1).
    npp_gc (g C m-2 yr-1), runoff_mm (mm yr-1), gem_coefficient (a), region_mask (0 outside
    every region): (y, x). Dask-backed inputs must share their (y, x) chunks.
    """
    if timestep not in ("monthly", "annual"):
        raise InputDataError(
            f"unknown climate timestep '{timestep}'",
            variable="climate.timestep",
            fix="use 'monthly' or 'annual'",
        )
    _check("temperature", temperature_c, 3)
    shape = temperature_c.shape[-2:]
    _check("precipitation", precipitation_mm, 3, shape)
    for name, arr in (
        ("npp", npp_gc),
        ("runoff", runoff_mm),
        ("gem_coefficient", gem_coefficient),
        ("region_mask", region_mask),
    ):
        _check(name, arr, 2, shape)
    nt = temperature_c.shape[0]
    if precipitation_mm.shape[0] != nt:
        raise InputDataError(
            f"temperature has {nt} time steps, precipitation {precipitation_mm.shape[0]}",
            variable="precipitation",
            fix="give the same months for both",
        )
    expected = 12 if timestep == "monthly" else 1
    if nt != expected:
        raise InputDataError(
            f"{timestep} climate needs {expected} band(s) per year, got {nt}",
            variable="climate",
            fix="check climate.timestep in the config",
        )
    annual = timestep == "annual"

    t = temperature_c.data.astype(np.float32)
    p = precipitation_mm.data.astype(np.float32)
    yx_chunks = t.chunks[1:] if isinstance(t, da.Array) else None
    npp, q, a, m = _fields(npp_gc, runoff_mm, gem_coefficient, mask=region_mask, chunks=yx_chunks)

    if yx_chunks is not None:
        t = t.rechunk({0: -1})
        p = p.rechunk({0: -1, 1: yx_chunks[0], 2: yx_chunks[1]})
        out = da.blockwise(
            kernels.carbon_fluxes,
            "vyx",
            t,
            "myx",
            p,
            "myx",
            npp,
            "yx",
            q,
            "yx",
            a,
            "yx",
            m,
            "yx",
            annual,
            None,
            new_axes={"v": kernels.N_FLUX},
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
        )
    else:
        out = kernels.carbon_fluxes(
            np.ascontiguousarray(t),
            np.ascontiguousarray(p),
            np.ascontiguousarray(npp),
            np.ascontiguousarray(q),
            np.ascontiguousarray(a),
            np.ascontiguousarray(m),
            annual,
        )

    return _flux_dataset(out, FLUX_VARS, temperature_c)


def _fields(*arrays: xr.DataArray, mask: xr.DataArray, chunks=None) -> list:
    """The (y, x) inputs of a kernel as float32 arrays and the mask as uint8; with dask
    ``chunks`` ((y, x) chunks of the reference input) all on those chunks."""
    out = [v.data.astype(np.float32) for v in arrays] + [mask.data.astype(np.uint8)]
    if chunks is not None:
        out = [da.asarray(v).rechunk(chunks) for v in out]
    return out


def _flux_dataset(out, names, ref: xr.DataArray) -> xr.Dataset:
    """Kernel output (variable, y, x) as a Dataset on ``ref``'s (y, x) dims and coords, with
    units and long names set here (input attributes are never copied)."""
    dims = ref.dims[-2:]
    coords = {d: ref.coords[d] for d in dims if d in ref.coords}
    return xr.Dataset(
        {
            var: xr.DataArray(
                out[k], dims=dims, attrs={"units": FLUX_UNITS, "long_name": LONG_NAMES[var]}
            )
            for k, var in enumerate(names)
        },
        coords=coords,
    )


def compute_rock_weathering(
    runoff_mm: xr.DataArray, gem_coefficient: xr.DataArray, region_mask: xr.DataArray
) -> xr.Dataset:
    """Per-pixel RCS alone (g C m-2 yr-1), for runs without NPP and climate (docs/method.md,
    "Rock-weathering sink").
    Same kernel layer and formula as :func:`compute_carbon_fluxes`; (y, x) inputs."""
    _check("runoff", runoff_mm, 2)
    shape = runoff_mm.shape
    for name, arr in (("gem_coefficient", gem_coefficient), ("region_mask", region_mask)):
        _check(name, arr, 2, shape)
    lazy = isinstance(runoff_mm.data, da.Array)
    q, a, m = _fields(
        runoff_mm, gem_coefficient, mask=region_mask, chunks=runoff_mm.data.chunks if lazy else None
    )
    if lazy:
        out = da.blockwise(
            kernels.rock_weathering,
            "vyx",
            q,
            "yx",
            a,
            "yx",
            m,
            "yx",
            new_axes={"v": 1},
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
        )
    else:
        out = kernels.rock_weathering(
            np.ascontiguousarray(q), np.ascontiguousarray(a), np.ascontiguousarray(m)
        )
    return _flux_dataset(out, ("rcs",), runoff_mm)


def compute_respiration(
    temperature_c: xr.DataArray,
    precipitation_mm: xr.DataArray,
    region_mask: xr.DataArray,
    timestep: str = "monthly",
) -> xr.Dataset:
    """Per-pixel RH alone (g C m-2 yr-1) from (month, y, x) climate: the RH of
    :func:`compute_carbon_fluxes` (same kernel code), for climate normals that serve every
    year and are computed once."""
    _check("temperature", temperature_c, 3)
    _check("precipitation", precipitation_mm, 3, temperature_c.shape[-2:])
    _check("region_mask", region_mask, 2, temperature_c.shape[-2:])
    t = temperature_c.data.astype(np.float32)
    p = precipitation_mm.data.astype(np.float32)
    annual = timestep == "annual"
    lazy = isinstance(t, da.Array)
    (m,) = _fields(mask=region_mask, chunks=t.chunks[1:] if lazy else None)
    if lazy:
        t = t.rechunk({0: -1})
        p = p.rechunk({0: -1, 1: t.chunks[1], 2: t.chunks[2]})
        out = da.blockwise(
            kernels.respiration,
            "vyx",
            t,
            "myx",
            p,
            "myx",
            m,
            "yx",
            annual,
            None,
            new_axes={"v": 1},
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
        )
    else:
        out = kernels.respiration(
            np.ascontiguousarray(t), np.ascontiguousarray(p), np.ascontiguousarray(m), annual
        )
    return _flux_dataset(out, ("rh",), temperature_c)


def compute_sink_balance(
    npp_gc: xr.DataArray, rh: xr.DataArray, rcs: xr.DataArray, region_mask: xr.DataArray
) -> xr.Dataset:
    """Per-pixel NEP = NPP − RH and ECS = NEP + RCS (g C m-2 yr-1) from RH and RCS computed
    before (once, from climatologies); (y, x) inputs."""
    _check("npp", npp_gc, 2)
    for name, arr in (("rh", rh), ("rcs", rcs), ("region_mask", region_mask)):
        _check(name, arr, 2, npp_gc.shape)
    lazy = isinstance(npp_gc.data, da.Array)
    n, r, c, m = _fields(
        npp_gc, rh, rcs, mask=region_mask, chunks=npp_gc.data.chunks if lazy else None
    )
    if lazy:
        out = da.blockwise(
            kernels.sink_balance,
            "vyx",
            n,
            "yx",
            r,
            "yx",
            c,
            "yx",
            m,
            "yx",
            new_axes={"v": 2},
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
        )
    else:
        out = kernels.sink_balance(*(np.ascontiguousarray(v) for v in (n, r, c, m)))
    return _flux_dataset(out, ("nep", "ecs"), npp_gc)


def plan_fluxes(inputs: set[str], wanted: set[str]) -> str:
    """Which kernel gives the ``wanted`` fluxes from the ``inputs`` at hand (names of
    :func:`compute_fluxes`): ``fused`` (RH, NEP, RCS, ECS from climate, NPP and runoff),
    ``respiration`` (RH from climate, with RCS from runoff if wanted), ``balance`` (NEP and ECS
    from a year's NPP and RH, and RCS, computed before) or ``rock_weathering`` (RCS alone)."""
    climate = {"temperature", "precipitation"} <= inputs
    if climate and wanted & {"nep", "ecs"}:
        return "fused"
    if climate:
        return "respiration"
    if wanted & {"nep", "ecs"}:
        if "rh" not in inputs or "npp" not in inputs:
            raise ValueError(f"NEP and ECS need NPP and RH (climate or an RH raster): {inputs}")
        return "balance"
    if wanted - {"rcs"}:
        raise ValueError(f"cannot compute {sorted(wanted)} from {sorted(inputs)}")
    return "rock_weathering"


def compute_fluxes(
    *,
    grid_spec: dict,
    timestep: str | None,
    inputs: dict,
    outputs: dict,
    period: int | str,
    chunk_size: int = schema_default("processing", "chunk_size"),
    threads: int = 1,
    dask_spec: dict | None = None,
) -> None:
    """Stage entry point: per-pixel fluxes of one year (or of the climatologies) -> COGs.

    ``inputs`` maps names to aligned rasters: ``temperature``, ``precipitation``, ``npp``,
    ``runoff`` (those the run has), ``coefficient`` (GEM-CO2 a) and ``fraction`` (inside the
    regions), and ``rh``/``rcs`` when they were computed once from climatologies. ``outputs``
    maps each flux to write (of rh, nep, rcs, ecs) to its path; :func:`plan_fluxes` picks the
    kernel. Reads lazily in ``chunk_size`` blocks, runs the numba kernel per block under dask,
    writes every output in one pass. ``period``: the year, or "climatology"."""
    from .grid import Grid
    from .io import dask_scheduler, gdal_env, open_raster, write_cogs

    grid = Grid.from_config(grid_spec)
    unknown = set(outputs) - set(FLUX_VARS)
    if unknown:
        raise ValueError(f"outputs must be among {FLUX_VARS}, got {sorted(outputs)}")
    plan = plan_fluxes(set(inputs), set(outputs))

    def field(name):
        return open_raster(inputs[name], chunk_size).isel(band=0, drop=True)

    def stack(name):
        return open_raster(inputs[name], chunk_size, "month")

    with gdal_env():
        mask = (field("fraction") > 0).astype("uint8")
        if plan == "fused":
            ds = compute_carbon_fluxes(
                stack("temperature"),
                stack("precipitation"),
                field("npp"),
                field("runoff"),
                field("coefficient"),
                mask,
                timestep=_climate_timestep(timestep),
            )
        else:
            rcs = None
            if "rcs" in outputs or plan == "balance":
                rcs = (
                    field("rcs")
                    if "rcs" in inputs
                    else compute_rock_weathering(field("runoff"), field("coefficient"), mask)["rcs"]
                )
            if plan == "respiration":
                ds = compute_respiration(
                    stack("temperature"),
                    stack("precipitation"),
                    mask,
                    timestep=_climate_timestep(timestep),
                )
            elif plan == "balance":
                assert rcs is not None  # computed above for every balance plan
                ds = compute_sink_balance(field("npp"), field("rh"), rcs, mask)
            else:
                ds = xr.Dataset()
            if "rcs" in outputs:
                ds = ds.assign(rcs=rcs)
        layers = {outputs[v]: ds[v] for v in outputs}
        when = "climatology (the same every year)" if period == "climatology" else str(period)
        with (
            dask_scheduler(dask_spec, threads),
            _name_kernel_errors(inputs.get("precipitation"), inputs.get("runoff")),
        ):
            write_cogs(
                layers,
                grid,
                descriptions={outputs[v]: f"{v} {when} ({LONG_NAMES[v]})" for v in outputs},
                units={outputs[v]: FLUX_UNITS for v in outputs},
                tags={outputs[v]: {"variable": v, "year": str(period)} for v in outputs},
                threads=threads,
                label=f"fluxes {period}",
            )


def _climate_timestep(timestep: str | None) -> str:
    """The climate section's timestep, which every plan reading temperature and precipitation
    needs."""
    if timestep is None:
        raise ValueError("temperature and precipitation are read without climate.timestep")
    return timestep


class _name_kernel_errors:
    """Turn the kernel's bare ValueError on negative inputs into an InputDataError naming files."""

    def __init__(self, path_precipitation, path_runoff):
        self.paths = {"precipitation": path_precipitation, "runoff": path_runoff}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is ValueError and "negative" in str(exc):
            var = "precipitation" if "precipitation" in str(exc) else "runoff"
            raise InputDataError(
                f"negative {var} values found while computing fluxes",
                path=self.paths[var],
                variable=var,
                fix=f"{var} cannot be negative: check nodata and scale/offset of the source file",
            ) from exc
        return False
