"""The per-pixel fluxes (docs/method.md): numba kernels on plain arrays (RH, RCS, NEP, ECS) and
their xarray/dask wrappers.

Inputs are checked here (dims, shapes, chunk alignment); outputs get ``units`` and ``long_name``
and nothing else: input attributes are never copied. The same kernel serves numpy-backed and
dask-backed inputs; with dask, memory follows the chunk size, not the grid size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import dask.array as da
import numpy as np
import xarray as xr
from numba import njit

from carbonbudget.core.config import FLUX_VARS, RH_PARTS, schema_default
from carbonbudget.core.errors import InputDataError
from carbonbudget.core.grid import Grid
from carbonbudget.core.io import dask_scheduler, gdal_env, open_raster, write_cogs, write_scratch

log = logging.getLogger(__name__)

# --- numba kernels: serial @njit(nogil=True, cache=True) loops over one block; dask maps them over
# chunks (prange inside dask threads gains nothing). No fastmath: NaN handling stays IEEE-exact.
# Accumulation in float64, outputs float32. The wrappers below check inputs and set units.
# --- heterotrophic respiration: docs/method.md, "Heterotrophic respiration" (Pei et al. 2009) ----
RH_COEF = 0.22  # g C m-2 day-1 scale of the regression
RH_TEMP_EXP = 0.0913  # °C-1
RH_PRCP_COEF = 0.3145  # mm-1
DAYS_PER_MONTH = 30.0  # daily rate -> monthly total
CARBON_FRACTION = 0.465  # carbon fraction of respired dry matter
# --- GEM-CO2 rock weathering, F[1e3 mol CO2 km-2 yr-1] = a * Q[mm yr-1] ---
# (docs/method.md, "Rock-weathering sink")
# 1e3 mol km-2 = 1e-3 mol m-2; one mol CO2 fixes one mol C = 12.0 g C  =>  g C m-2 yr-1 = 0.012 a Q
RCS_FACTOR = 0.012

N_FLUX = 4  # rh, nep, rcs, ecs (order of the first axis returned by carbon_fluxes)


# RH of a month (Zhang et al. 2022, Eq. 3) is 0.22 · (exp(0.0913 T_m) + ln(0.3145 P_m + 1)) · 30
# · 0.465; summed over the months it is 0.22 · 30 · 0.465 · (Σ exp(0.0913 T_m) + Σ ln x_m) with
# x_m = 0.3145 P_m + 1. The kernel evaluates Σ ln x_m as ln Π x_m: one logarithm per pixel
# instead of twelve, the same value to float64 rounding (each x_m >= 1, so the product only
# grows; it is folded into a running log before it could overflow). tests/test_py checks
# it against the month-by-month sum; docs/performance.md has the speed. Everything stays in
# float64; outputs are rounded once to float32.
# What the annual form costs (docs/method.md, "Heterotrophic respiration"): exp is convex, so
# 12 · exp(0.0913 · mean T) is below Σ exp(0.0913 · T_m), more so the larger the seasonal cycle;
# the log term errs the other way, by less. tests/test_real_data.py measures it on the normals.
ANNUAL_RH_BIAS = (
    "climate.timestep: annual: RH from the annual mean temperature and total precipitation "
    "underestimates the monthly form of Zhang et al. (2022) where seasons are strong: over "
    "China (1991-2020 normals) by 11 % at the median pixel, 27 % at the 5th percentile, and "
    "by 18 % where the seasonal temperature range exceeds 35 °C (docs/method.md); NEP and "
    "ECS are overstated by the same amount of carbon"
)
_PRODUCT_FOLD = 1e250  # x_m <= ~1e38 (float32 max): folding above 1e250 never overflows


@njit(nogil=True, cache=True)
def rh_from_sums(exp_sum: float, log_sum: float) -> float:
    """RH (g C m-2 per period) from Σ exp(0.0913 T_m) and Σ ln(0.3145 P_m + 1)."""
    return RH_COEF * (exp_sum + log_sum) * DAYS_PER_MONTH * CARBON_FRACTION


@njit(nogil=True, cache=True)
def rcs_pixel(a: float, q: float) -> float:
    """Rock-weathering sink, g C m-2 yr-1, for GEM-CO2 coefficient a and runoff q (mm yr-1)."""
    return RCS_FACTOR * a * q


@njit(nogil=True, cache=True)
def rock_weathering(q: np.ndarray, a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RCS alone, for runs without NPP and climate (docs/method.md, "Rock-weathering sink"; same
    formula as :func:`carbon_fluxes`). q, a: float32 (ny, nx); mask: uint8 (ny, nx), 0 = outside
    every region. Returns float32 (1, ny, nx). Raises ValueError on negative runoff."""
    ny, nx = q.shape
    out = np.empty((1, ny, nx), dtype=np.float32)
    for i in range(ny):
        for j in range(nx):
            if mask[i, j] == 0:
                out[0, i, j] = np.nan
                continue
            qv = q[i, j]
            if qv < 0.0:
                raise ValueError("negative runoff in a block passed to rock_weathering")
            out[0, i, j] = rcs_pixel(a[i, j], qv)
    return out


@njit(nogil=True, cache=True)
def _rh_row(t, p, mask, i, p_scale, exp_row, prod_row, log_row):
    """Fill the RH sums of image row ``i``: exp_row = Σ exp(0.0913 T_m), log_row + ln(prod_row)
    = Σ ln(0.3145 P_m + 1) (the product folded into log_row before it could overflow).
    Raises ValueError on negative precipitation (an input error, never a silent NaN)."""
    nt, _, nx = t.shape
    # months outer, pixels inner: each month's row is read contiguously (the (month, y, x)
    # layout puts a pixel's 12 months ny*nx apart); the sum still runs over months in order
    exp_row[:] = 0.0
    prod_row[:] = 1.0
    log_row[:] = 0.0
    for m in range(nt):
        for j in range(nx):
            if mask[i, j] == 0:
                continue
            pm = p[m, i, j]
            if pm < 0.0:
                raise ValueError("negative precipitation in a block passed to carbon_fluxes")
            exp_row[j] += math.exp(RH_TEMP_EXP * t[m, i, j])
            prod_row[j] *= RH_PRCP_COEF * (pm * p_scale) + 1.0
            if prod_row[j] > _PRODUCT_FOLD:
                log_row[j] += math.log(prod_row[j])
                prod_row[j] = 1.0


@njit(nogil=True, cache=True)
def carbon_fluxes(
    t: np.ndarray,
    p: np.ndarray,
    npp: np.ndarray,
    q: np.ndarray,
    a: np.ndarray,
    mask: np.ndarray,
    annual: bool,
) -> np.ndarray:
    """RH, NEP, RCS and ECS of one block.

    t, p : float32 (nt, ny, nx) monthly temperature (°C) and precipitation (mm month-1); with
           ``annual`` true, nt == 1 and they are annual mean T and annual total P (mm yr-1), and
           RH = 12 · RH_month(T, P/12) (docs/method.md, "Heterotrophic respiration", an
           approximation).
    npp  : float32 (ny, nx) g C m-2 yr-1
    q    : float32 (ny, nx) runoff, mm yr-1
    a    : float32 (ny, nx) GEM-CO2 coefficient of the pixel's lithology
    mask : uint8 (ny, nx), 0 = outside every region (all outputs NaN)
    Returns float32 (4, ny, nx): rh, nep, rcs, ecs in g C m-2 yr-1; NaN where an input is NaN.
    Raises ValueError on negative precipitation or runoff (an input error, never a silent NaN).
    """
    nt, ny, nx = t.shape
    out = np.empty((N_FLUX, ny, nx), dtype=np.float32)
    exp_row = np.empty(nx, dtype=np.float64)  # Σ exp(0.0913 T_m)
    prod_row = np.empty(nx, dtype=np.float64)  # Π (0.3145 P_m + 1) not yet folded into log_row
    log_row = np.empty(nx, dtype=np.float64)  # Σ ln(0.3145 P_m + 1) folded so far
    p_scale = 1.0 / 12.0 if annual else 1.0  # annual: RH = 12 · RH_month(T, P / 12)
    for i in range(ny):
        _rh_row(t, p, mask, i, p_scale, exp_row, prod_row, log_row)
        for j in range(nx):
            if mask[i, j] == 0:
                for k in range(N_FLUX):
                    out[k, i, j] = np.nan
                continue
            # NaN in any month propagates through the sum or the product
            rh = rh_from_sums(exp_row[j], log_row[j] + math.log(prod_row[j]))
            if annual:
                rh *= 12.0
            qv = q[i, j]
            if qv < 0.0:
                raise ValueError("negative runoff in a block passed to carbon_fluxes")
            nep = npp[i, j] - rh
            rcs = rcs_pixel(a[i, j], qv)
            out[0, i, j] = rh
            out[1, i, j] = nep
            out[2, i, j] = rcs
            out[3, i, j] = nep + rcs
    return out


@njit(nogil=True, cache=True)
def respiration(t: np.ndarray, p: np.ndarray, mask: np.ndarray, annual: bool) -> np.ndarray:
    """RH alone (g C m-2 yr-1), for climate normals that serve every year: the same sums as
    :func:`carbon_fluxes`. Returns float32 (1, ny, nx)."""
    nt, ny, nx = t.shape
    out = np.empty((1, ny, nx), dtype=np.float32)
    exp_row = np.empty(nx, dtype=np.float64)
    prod_row = np.empty(nx, dtype=np.float64)
    log_row = np.empty(nx, dtype=np.float64)
    p_scale = 1.0 / 12.0 if annual else 1.0
    for i in range(ny):
        _rh_row(t, p, mask, i, p_scale, exp_row, prod_row, log_row)
        for j in range(nx):
            if mask[i, j] == 0:
                out[0, i, j] = np.nan
                continue
            rh = rh_from_sums(exp_row[j], log_row[j] + math.log(prod_row[j]))
            out[0, i, j] = rh * 12.0 if annual else rh
    return out


@njit(nogil=True, cache=True)
def respiration_parts(t: np.ndarray, p: np.ndarray, mask: np.ndarray, annual: bool) -> np.ndarray:
    """The two terms of RH (g C m-2 yr-1): RH = RH_T + RH_P with RH_T = k · Σ exp(0.0913 T_m)
    and RH_P = k · Σ ln(0.3145 P_m + 1) (k = 0.22 · 30 · 0.465; annual: 12 · k with P / 12),
    the same sums as :func:`respiration`. RH of Eq. 3 is additively separable, so a change of
    RH splits exactly into the change of each term: the temperature and the precipitation
    part (docs/method.md, "Decomposition"). Returns float32 (2, ny, nx): RH_T, RH_P."""
    nt, ny, nx = t.shape
    out = np.empty((2, ny, nx), dtype=np.float32)
    exp_row = np.empty(nx, dtype=np.float64)
    prod_row = np.empty(nx, dtype=np.float64)
    log_row = np.empty(nx, dtype=np.float64)
    p_scale = 1.0 / 12.0 if annual else 1.0
    scale = 12.0 if annual else 1.0
    for i in range(ny):
        _rh_row(t, p, mask, i, p_scale, exp_row, prod_row, log_row)
        for j in range(nx):
            if mask[i, j] == 0:
                out[0, i, j] = np.nan
                out[1, i, j] = np.nan
                continue
            out[0, i, j] = rh_from_sums(exp_row[j], 0.0) * scale
            out[1, i, j] = rh_from_sums(0.0, log_row[j] + math.log(prod_row[j])) * scale
    return out


@njit(nogil=True, cache=True)
def sink_balance(npp: np.ndarray, rh: np.ndarray, rcs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """NEP = NPP − RH and ECS = NEP + RCS of one block from RH and RCS already computed (e.g.
    once from climatologies). All float32 (ny, nx); returns float32 (2, ny, nx), NaN outside
    the regions and where an input is NaN."""
    ny, nx = npp.shape
    out = np.empty((2, ny, nx), dtype=np.float32)
    for i in range(ny):
        for j in range(nx):
            if mask[i, j] == 0:
                out[0, i, j] = np.nan
                out[1, i, j] = np.nan
                continue
            nep = np.float64(npp[i, j]) - np.float64(rh[i, j])
            out[0, i, j] = nep
            out[1, i, j] = nep + np.float64(rcs[i, j])
    return out


FLUX_UNITS = "g C m-2 yr-1"
LONG_NAMES = {
    "rh": "heterotrophic respiration (Pei et al. 2009)",
    "nep": "net ecosystem productivity, NPP - RH",
    "rcs": "rock-weathering carbon sink, 0.012 * a * Q (GEM-CO2)",
    "ecs": "ecosystem carbon sink, NEP + RCS",
    "rh_temperature": "temperature term of RH, 0.22 * sum exp(0.0913 T) * 30 * 0.465",
    "rh_precipitation": "precipitation term of RH, 0.22 * sum ln(0.3145 P + 1) * 30 * 0.465",
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
    if annual:
        log.warning(ANNUAL_RH_BIAS)

    t = temperature_c.data.astype(np.float32)
    p = precipitation_mm.data.astype(np.float32)
    yx_chunks = t.chunks[1:] if isinstance(t, da.Array) else None
    npp, q, a, m = _fields(npp_gc, runoff_mm, gem_coefficient, mask=region_mask, chunks=yx_chunks)

    if yx_chunks is not None:
        t = t.rechunk({0: -1})
        p = p.rechunk({0: -1, 1: yx_chunks[0], 2: yx_chunks[1]})
        out = da.blockwise(
            carbon_fluxes,
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
            new_axes={"v": N_FLUX},
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
        )
    else:
        out = carbon_fluxes(
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
            rock_weathering,
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
        out = rock_weathering(
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
    return _climate_kernel(
        respiration, ("rh",), temperature_c, precipitation_mm, region_mask, timestep
    )


def compute_respiration_parts(
    temperature_c: xr.DataArray,
    precipitation_mm: xr.DataArray,
    region_mask: xr.DataArray,
    timestep: str = "monthly",
) -> xr.Dataset:
    """Per-pixel temperature and precipitation terms of RH (``rh_temperature``,
    ``rh_precipitation``, g C m-2 yr-1; :func:`respiration_parts`) from (month, y, x)
    climate: they add up to the RH of :func:`compute_respiration`."""
    return _climate_kernel(
        respiration_parts, RH_PARTS, temperature_c, precipitation_mm, region_mask, timestep
    )


def _climate_kernel(kernel, names, temperature_c, precipitation_mm, region_mask, timestep):
    """Run a kernel of (month, y, x) temperature and precipitation, the region mask and the
    timestep, returning ``len(names)`` layers, on numpy or dask blocks."""
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
            kernel,
            "vyx",
            t,
            "myx",
            p,
            "myx",
            m,
            "yx",
            annual,
            None,
            new_axes={"v": len(names)},
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
        )
    else:
        out = kernel(
            np.ascontiguousarray(t), np.ascontiguousarray(p), np.ascontiguousarray(m), annual
        )
    return _flux_dataset(out, names, temperature_c)


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
            sink_balance,
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
        out = sink_balance(*(np.ascontiguousarray(v) for v in (n, r, c, m)))
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
    then: Callable[[dict[str, str]], object] | None = None,
) -> None:
    """Stage entry point: per-pixel fluxes of one year (or of the climatologies) -> COGs.

    ``inputs`` maps names to aligned rasters: ``temperature``, ``precipitation``, ``npp``,
    ``runoff`` (those the run has), ``coefficient`` (GEM-CO2 a) and ``fraction`` (inside the
    regions), and ``rh``/``rcs`` when they were computed once from climatologies. ``outputs``
    maps each flux to write (of rh, nep, rcs, ecs) to its path; :func:`plan_fluxes` picks the
    kernel. Reads lazily in ``chunk_size`` blocks, runs the numba kernel per block under dask,
    writes every output in one pass. ``period``: the year, or "climatology". ``then`` is called
    with {output path: an uncompressed raster of the same values} while those exist
    (:func:`carbonbudget.core.io.write_cogs`)."""
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
                then=then,
            )


def write_respiration_parts(
    *,
    grid_spec: dict,
    timestep: str,
    inputs: dict,
    outputs: dict,
    period: int,
    chunk_size: int = schema_default("processing", "chunk_size"),
    threads: int = 1,
    dask_spec: dict | None = None,
) -> None:
    """The temperature and precipitation terms of one year's RH (:func:`respiration_parts`)
    -> rasters the calling job reads back itself (tiled, uncompressed GeoTIFFs without
    overviews: :func:`carbonbudget.core.io.write_scratch`): ``inputs`` the aligned
    ``temperature``, ``precipitation`` and ``fraction``, ``outputs`` maps ``rh_temperature`` and
    ``rh_precipitation`` to their paths."""
    grid = Grid.from_config(grid_spec)
    with gdal_env():
        mask = (open_raster(inputs["fraction"], chunk_size).isel(band=0, drop=True) > 0).astype(
            "uint8"
        )
        ds = compute_respiration_parts(
            open_raster(inputs["temperature"], chunk_size, "month"),
            open_raster(inputs["precipitation"], chunk_size, "month"),
            mask,
            timestep=timestep,
        )
        with (
            dask_scheduler(dask_spec, threads),
            _name_kernel_errors(inputs["precipitation"], None),
        ):
            write_scratch({outputs[v]: ds[v] for v in RH_PARTS}, grid, label=f"RH terms {period}")


def _climate_timestep(timestep: str | None) -> str:
    """The climate section's timestep, which every plan reading temperature and precipitation
    needs."""
    if timestep is None:
        raise ValueError("temperature and precipitation are read without climate.timestep")
    return timestep


# what the kernels' errors on a negative input say, by which _name_kernel_errors knows them
KERNEL_ERROR = "in a block passed to"


class _name_kernel_errors:
    """Turn the kernel's bare ValueError on negative inputs into an InputDataError naming files.
    Only the kernels' own errors: a caller's ``then`` (the year's zonal totals) runs inside this
    context too, and its errors are its own."""

    def __init__(self, path_precipitation, path_runoff):
        self.paths = {"precipitation": path_precipitation, "runoff": path_runoff}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is ValueError and "negative" in str(exc) and KERNEL_ERROR in str(exc):
            var = "precipitation" if "precipitation" in str(exc) else "runoff"
            raise InputDataError(
                f"negative {var} values found while computing fluxes",
                path=self.paths[var],
                variable=var,
                fix=f"{var} cannot be negative: check nodata and scale/offset of the source file",
            ) from exc
        return False
