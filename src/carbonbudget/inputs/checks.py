"""Checks of every input before any compute (docs/data.md), with errors a researcher can act on.

:func:`check_year_inputs` (one job per year), :func:`check_static_inputs` (lithology, regions)
and :func:`check_emission_inputs` open every configured file, check CRS, grid coverage, declared
units against the values, signs, lithology classes, region codes and emission codes, and write
JSON reports; the pipeline schedules them before any compute. :func:`check_inputs` runs them all.
Pixel-exact sign checks are repeated by the flux kernel, which raises if a negative value slips
through a sampled check.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import tempfile
from typing import TYPE_CHECKING

import numpy as np
import rasterio
import scipy.sparse as sp
from rasterio.enums import Resampling
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from carbonbudget.core import units as units_mod
from carbonbudget.core.config import (
    climatology_inputs,
    downscale_weights,
    inventory_files,
    is_climatology,
    month_paths,
)
from carbonbudget.core.errors import CarbonBudgetError, InputChecksFailed, InputDataError, UnitError
from carbonbudget.core.grid import Grid
from carbonbudget.core.io import atomic_output, gdal_env, write_cogs
from carbonbudget.inputs.align import (
    CONTINUOUS,
    align_weights,
    block_reader,
    gdal_source,
    grid_coverage,
    lattice_shape,
    open_source,
    source_crs,
)
from carbonbudget.inputs.inventory import require_band
from carbonbudget.inputs.lithology import load_coefficient_lookup, mapped_codes
from carbonbudget.regions.codes import match_report, match_summary
from carbonbudget.regions.emissions import (
    load_crosswalk_config,
    load_emissions_config,
    match_emission_codes,
    report_gaps,
)
from carbonbudget.regions.hierarchy import (
    read_checked_regions,
    read_config_regions,
    write_checked_regions,
)
from carbonbudget.regions.layers import read_layer
from carbonbudget.regions.zonal import finest_coverage, in_region_fraction, inside_grid_share

if TYPE_CHECKING:
    from collections.abc import Callable

    import geopandas as gpd
    from rasterio.crs import CRS
    from rasterio.io import DatasetReader

log = logging.getLogger(__name__)

KELVIN_THRESHOLD = 100.0  # a median above this cannot be a near-surface °C temperature
CUT_TOLERANCE = 1e-3  # a region losing less of its area at the grid edge is not reported
KELVIN_MIN = 150.0  # no near-surface temperature is below 150 K (-123 °C)
SAMPLE_SIZE = 512  # rasters up to 512² pixels are read whole for the value checks
SAMPLE_WINDOWS = 8  # else 8 × 8 windows of 64² pixels on a lattice


def _sample(src, path: str, variable: str, scale=1.0, offset=0.0, valid_range=None) -> np.ndarray:
    """A sample of all bands of the open ``src``: the whole raster when it has at most
    SAMPLE_SIZE² pixels, else SAMPLE_WINDOWS² windows of 64 × 64 pixels on a regular lattice
    that includes the last rows and columns (a decimated read of the whole file costs a full
    read; the lattice reads ~5 % of a large raster and still reaches the end of a truncated
    file). Nodata and raw values outside ``valid_range`` are NaN,
    the result is scaled and has shape (bands, pixels)."""
    try:
        if src.height * src.width <= SAMPLE_SIZE**2:
            data = src.read(masked=True).astype("float64").filled(np.nan)
            data = data.reshape(src.count, -1)
        else:
            hw, ww = min(64, src.height), min(64, src.width)
            rows = np.unique(np.linspace(0, src.height - hw, SAMPLE_WINDOWS).astype(int))
            cols = np.unique(np.linspace(0, src.width - ww, SAMPLE_WINDOWS).astype(int))
            parts = [
                src.read(window=Window(c, r, ww, hw), masked=True)
                .astype("float64")
                .filled(np.nan)
                .reshape(src.count, -1)
                for r in rows
                for c in cols
            ]
            data = np.concatenate(parts, axis=1)
    except rasterio.errors.RasterioIOError as exc:
        raise InputDataError(
            f"cannot read pixel data ({exc})",
            path=path,
            variable=variable,
            fix="the file is truncated or corrupt: re-download or re-export it",
        ) from exc
    if valid_range is not None:
        data[(data < valid_range[0]) | (data > valid_range[1])] = np.nan
    return data * scale + offset


def check_temperature_units(values: np.ndarray, declared: str, path: str) -> None:
    """A median above 100 cannot be a near-surface temperature in °C: Kelvin, or tenths of a
    degree (int16 products); the reverse for values declared in K."""
    unit = units_mod.normalise_unit("temperature", declared)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return
    med, low = float(np.median(finite)), float(finite.min())
    if unit == "degC" and med > KELVIN_THRESHOLD:
        if low >= KELVIN_MIN:
            raise UnitError(
                f"median temperature {med:.1f} looks like Kelvin but °C is declared",
                path=path,
                variable="temperature",
                fix="set climate.temperature_units: K (converted at alignment); if "
                "the values are tenths of a degree Celsius, set "
                "climate.temperature_scale: 0.1 instead",
            )
        raise UnitError(
            f"median temperature {med:.1f} (min {low:.1f}) looks like tenths of a degree Celsius",
            path=path,
            variable="temperature",
            fix="set climate.temperature_scale: 0.1",
        )
    if unit == "K" and med < KELVIN_THRESHOLD:
        raise UnitError(
            f"median temperature {med:.1f} looks like °C but K is declared",
            path=path,
            variable="temperature",
            fix="set climate.temperature_units: degC",
        )


def check_plausible(
    values: np.ndarray, variable: str, path: str, timestep: str | None = None
) -> None:
    """``values`` (canonical units) hold no ±inf and nothing outside the physically possible
    range of ``variable`` (:data:`carbonbudget.core.units.PLAUSIBLE`: an error); values outside the
    usual range are a warning (real products can reach them)."""
    rng = units_mod.plausible(variable, timestep)
    unit = units_mod.CANONICAL[variable] + (
        " per month" if variable == "precipitation" and timestep != "annual" else ""
    )
    n_inf = int(np.isinf(values).sum())
    if n_inf:
        raise InputDataError(
            f"{n_inf} infinite value(s) in the sample of pixels read",
            path=path,
            variable=variable,
            fix="an infinity is never a measurement: declare the file's nodata "
            "value (gdal_edit.py -a_nodata) or set the valid_range of this "
            "input; " + units_mod.units_fix(variable),
        )
    finite = values[np.isfinite(values)]
    if not finite.size:
        return
    low, high = float(finite.min()), float(finite.max())
    (hlo, hhi), (slo, shi) = rng.hard, rng.soft
    if (hhi is not None and high > hhi) or (hlo is not None and low < hlo):
        hint = ""
        if variable == "temperature" and max(abs(low), abs(high)) <= 600:
            hint = " (tenths of a degree? then set climate.temperature_scale: 0.1)"
        raise InputDataError(
            f"values from {low:.4g} to {high:.4g} {unit} after scale and unit conversion: "
            f"outside the physically possible range {_span(rng.hard)} {unit}{hint}",
            path=path,
            variable=variable,
            fix=units_mod.units_fix(variable),
        )
    if (shi is not None and high > shi) or (slo is not None and low < slo):
        outside = ((finite > shi) if shi is not None else False) | (
            (finite < slo) if slo is not None else False
        )
        log.warning(
            "%s: %s values from %.4g to %.4g %s, %.1f %% of the sampled pixels outside the usual "
            "range %s %s (%s): if this is not expected, %s",
            path,
            variable,
            low,
            high,
            unit,
            100 * float(np.mean(outside)),
            _span(rng.soft),
            unit,
            rng.source,
            units_mod.units_fix(variable),
        )


def _span(bounds) -> str:
    lo, hi = bounds
    return f"{lo if lo is not None else '-inf'} .. {hi if hi is not None else 'inf'}"


def check_precipitation_magnitude(
    annual_mm: np.ndarray, path: str, minimum: float, maximum: float = np.inf
) -> None:
    """A study-area median annual precipitation outside [``minimum``, ``maximum``] mm (defaults
    10 and 5,000: drier than any region but the core of the Atacama, wetter than any country)
    means the values are not in the declared unit or scale: metres declared as mm (RH about
    halved, ECS too high), or tenths of a millimetre (RH a third too high, NEP too low)."""
    finite = annual_mm[np.isfinite(annual_mm)]
    if not finite.size:
        return
    median = float(np.median(finite))
    if median < minimum:
        raise UnitError(
            f"median annual precipitation {median:.3g} mm: the "
            "values look like metres (or another unit) declared as mm",
            path=path,
            variable="precipitation",
            fix="set climate.precipitation_units (m, cm, mm day-1) or "
            "climate.precipitation_scale to what the file holds; for a "
            "hyper-arid study area lower "
            "checks.min_median_annual_precipitation_mm",
        )
    if median > maximum:
        raise UnitError(
            f"median annual precipitation {median:,.0f} mm over the study area, more than any "
            f"country receives (checks.max_median_annual_precipitation_mm = {maximum:,.0f}): the "
            "values look like tenths of a millimetre, or centimetres declared as mm",
            path=path,
            variable="precipitation",
            fix="set climate.precipitation_scale: 0.1 for tenths of a millimetre (or "
            "climate.precipitation_units to what the file holds); for a small study area on a "
            "wet mountain slope raise checks.max_median_annual_precipitation_mm",
        )


def check_weights_coverage(
    weights: np.ndarray,
    coverage: sp.spmatrix,
    area_km2: np.ndarray,
    codes: list[str],
    *,
    path: str,
    min_share: float,
) -> None:
    """Each region's share of its area where the aligned weight raster (per pixel, NaN = no
    value) holds a value must reach ``min_share`` (``checks.min_valid_share.weights``): where
    the raster has no value (a missing tile, an undeclared nodata) the region's emissions
    would be spread over the rest of it, and its per-pixel CE, CNC and status would be wrong
    while its total stays right."""
    area = coverage @ area_km2
    known = coverage @ (area_km2 * np.isfinite(weights))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, known / area, 1.0)
    short = np.flatnonzero(share < min_share)
    if not len(short):
        return
    worst = short[np.argsort(share[short])]
    listed = ", ".join(f"{codes[i]} ({100 * share[i]:.1f} %)" for i in worst[:10])
    raise InputDataError(
        f"the weight raster holds values on less than {100 * min_share:.0f} % of the area of "
        f"{len(short)} regions: {listed}{' ...' if len(short) > 10 else ''}; their emissions "
        "would move onto the rest of each region",
        path=path,
        variable="emissions.downscale.weights",
        fix="use a weight raster that covers every region (a missing tile? declare its nodata "
        "or fill it), or lower checks.min_valid_share.weights if these regions have no value "
        "by design",
    )


def check_non_negative(
    values: np.ndarray, variable: str, path: str, tolerance: float | None = None
) -> None:
    """Values below -``tolerance`` are an error (a tolerance admits regridding artefacts, which
    the alignment sets to 0; ``None``: the variable has no tolerance key)."""
    if np.nanmin(values, initial=0.0) < -(tolerance or 0.0):
        key = {"runoff": "runoff.negative_tolerance"}.get(variable)
        raise InputDataError(
            f"negative {variable} values (min {np.nanmin(values):.3g})",
            path=path,
            variable=variable,
            fix=f"{variable} cannot be negative: check the nodata value "
            "(declare it in the file) and "
            + units_mod.units_fix(variable)
            + (f"; if tiny negatives are regridding artefacts of zero, set {key}" if key else ""),
        )


def check_grid_coverage(
    src: DatasetReader,
    path: str,
    variable: str,
    grid: Grid,
    min_share: float,
    crs: CRS | None = None,
    weights: np.ndarray | None = None,
) -> float:
    """Share of the target grid (with ``weights``, the lattice's fractions inside the regions:
    of the study area) covered by the open raster's extent; below ``min_share`` is an error."""
    share = grid_coverage(src, grid, source_crs(src, crs), weights=weights)
    where = "the target grid" if weights is None else "the study area (the region polygons)"
    if share == 0.0:
        raise InputDataError(
            f"the raster does not overlap {where}",
            path=path,
            variable=variable,
            fix="check the raster's CRS and the grid bounds/CRS in the config",
        )
    if share < min_share:
        raise InputDataError(
            f"the raster covers only {share:.1%} of {where} "
            f"(checks.min_grid_coverage = {min_share:.0%})",
            path=path,
            variable=variable,
            fix="use a raster covering the study area, shrink grid.bounds, or "
            "lower checks.min_grid_coverage",
        )
    return share


def lattice_weights(fraction: DatasetReader, grid: Grid) -> np.ndarray:
    """The fraction inside the regions at the lattice points of :func:`grid_coverage` (a
    decimated read: the study-area raster has overviews)."""
    return fraction.read(1, out_shape=lattice_shape(grid), resampling=Resampling.nearest)


def grid_windows(grid: Grid) -> list[Window]:
    """Windows of the target grid read by the value checks: the whole grid when it has at most
    SAMPLE_SIZE² pixels, else SAMPLE_WINDOWS² windows of 64 × 64 pixels on a regular lattice."""
    if grid.height * grid.width <= SAMPLE_SIZE**2:
        return [Window(0, 0, grid.width, grid.height)]
    hw, ww = min(64, grid.height), min(64, grid.width)
    rows = np.unique(np.linspace(0, grid.height - hw, SAMPLE_WINDOWS).astype(int))
    cols = np.unique(np.linspace(0, grid.width - ww, SAMPLE_WINDOWS).astype(int))
    return [Window(int(c), int(r), ww, hw) for r in rows for c in cols]


def valid_share_in_regions(
    src: DatasetReader,
    grid: Grid,
    fraction: DatasetReader,
    *,
    crs: CRS | None = None,
    valid_range: tuple[float, float] | None = None,
    variable: str,
) -> float:
    """Share of the study area (pixels weighted by the fraction inside the region polygons,
    ``fraction`` an open raster on the grid) where every band of ``src``, put on the grid as
    the alignment puts it, holds a value: exact on grids up to SAMPLE_SIZE² pixels, else from
    the windows of :func:`grid_windows`. NaN when the windows hold no region."""
    weight = known = 0.0
    with contextlib.ExitStack() as stack:
        read = block_reader(
            src,
            source_crs(src, crs),
            grid,
            kind=CONTINUOUS,
            valid_range=valid_range,
            stack=stack,
        )
        for win in grid_windows(grid):
            w = np.nan_to_num(fraction.read(1, window=win).astype("float64"))
            valid = np.isfinite(read(win)).all(axis=0)
            weight += w.sum()
            known += w[valid].sum()
    return known / weight if weight > 0 else float("nan")


def expected_bands(variable: str, pattern: str, timestep: str) -> tuple[int, str]:
    """Bands one input file must have, and why."""
    if variable in ("temperature", "precipitation"):
        if "{month}" in pattern:
            return 1, "one file per month ({month} in the path) holds one band"
        if timestep == "annual":
            return 1, "annual climate (climate.timestep: annual) holds one band per year"
        return 12, "monthly climate in one file holds 12 bands, January first"
    return 1, (
        f"{variable} holds one band per year (or one for a climatology); choose the band of a "
        f"multi-band file with {variable}.band"
    )


def check_year_inputs(
    *,
    config: dict,
    year: int | None,
    path_report: str | None = None,
    path_fraction: str | None = None,
    failures: list[CarbonBudgetError] | None = None,
) -> dict:
    """Check one year's rasters (climate, NPP, runoff or ET), or with ``year`` None the
    climatologies (inputs without ``{year}`` in their path, checked once): files present and
    readable, band counts, CRS, coverage of the grid, declared units against the values,
    physically possible values, non-negative water fluxes, and (with ``path_fraction``, the
    study area's fraction raster) the share of the study area where each file holds values.
    With ``failures`` (a list) each variable's error is kept there and the next still checked."""
    names = climatology_inputs(config)
    if year is not None:
        names = {"temperature", "precipitation", "npp", "runoff"} - names
    with gdal_env(), contextlib.ExitStack() as stack:
        fraction = stack.enter_context(rasterio.open(path_fraction)) if path_fraction else None
        check = _YearCheck(config, year, fraction)
        steps: list[Callable[[], None]] = [
            functools.partial(check.climate, var)
            for var in (("temperature", "precipitation") if config.get("climate") else ())
            if var in names
        ]
        if config.get("npp") and "npp" in names:
            steps.append(check.npp)
        if "runoff" in names:
            steps.append(check.runoff)
        for step in steps:
            _attempt(step, failures)
    _write_report(check.report, path_report)
    return check.report


def _attempt(step, failures: list[CarbonBudgetError] | None, **kwargs) -> dict:
    """Run one check: its error raised, or with ``failures`` (a list) kept there so that the
    next checks still run (``make check`` lists every problem)."""
    try:
        return step(**kwargs) or {}
    except CarbonBudgetError as err:
        if failures is None:
            raise
        failures.append(err)
        return {}


class _YearCheck:
    """The checks of one year's (or the climatologies') rasters, with the report they fill."""

    def __init__(self, config: dict, year: int | None, fraction) -> None:
        self.config, self.year, self.fraction = config, year, fraction
        self.grid = Grid.from_config(config)
        self.checks = config["checks"]
        self.weights = lattice_weights(fraction, self.grid) if fraction is not None else None
        self.report: dict = {
            "year": year if year is not None else "climatology",
            "files": {},
            "grid_coverage": {},
            "valid_share_in_regions": {},
        }

    def raster(
        self,
        path,
        variable,
        sec,
        *,
        pattern,
        scale=1.0,
        offset=0.0,
        subdataset=None,
        timestep="monthly",
    ) -> np.ndarray:
        """Open once: bands, coverage of the grid and of the study area, a scaled sample."""
        _require(path, variable, self.year)
        self.report["files"][path] = variable
        band = sec.get("band") if variable in ("npp", "runoff") else None
        source = gdal_source(path, subdataset, band, key=f"{variable}.band")
        with open_source(source, variable, sec.get("crs")) as src:
            bands, why = expected_bands(variable, pattern, timestep)
            if src.count != bands:
                raise InputDataError(
                    f"the file has {src.count} band(s): {why}",
                    path=path,
                    variable=variable,
                    fix="give the expected bands, or change the path pattern "
                    "or climate.timestep in the config",
                )
            self.report["grid_coverage"][path] = round(
                check_grid_coverage(
                    src,
                    path,
                    variable,
                    self.grid,
                    self.checks["min_grid_coverage"],
                    sec.get("crs"),
                    weights=self.weights,
                ),
                4,
            )
            if self.fraction is not None:
                self._valid_share(src, path, variable, sec)
            return _sample(src, path, variable, scale, offset, sec.get("valid_range"))

    def _valid_share(self, src, path, variable, sec) -> None:
        share = valid_share_in_regions(
            src,
            self.grid,
            self.fraction,
            crs=sec.get("crs"),
            valid_range=sec.get("valid_range"),
            variable=variable,
        )
        self.report["valid_share_in_regions"][path] = round(share, 4)
        need = self.checks["min_valid_share"][variable]
        if not share >= need:
            raise InputDataError(
                f"values exist on only {share:.1%} of the study area (the area inside the "
                f"region polygons; checks.min_valid_share.{variable} = {need:.0%})",
                path=path,
                variable=variable,
                fix="check the file's nodata value and valid_range and that the file covers "
                "every region (an empty year, a missing tile); if the product leaves such "
                "pixels empty by design (MOD17A3 has no NPP over water, built-up and barren "
                f"land) lower checks.min_valid_share.{variable}",
            )

    def climate(self, var: str) -> None:
        """Temperature or precipitation: units against the values, plausible values, and the
        year's precipitation total against what any large region receives."""
        clim, year = self.config["climate"], self.year
        units, timestep = clim[f"{var}_units"], clim["timestep"]
        units_mod.normalise_unit(var, units)
        pattern, annual, n_bands = clim[var], None, 0
        for p in month_paths(pattern, year):
            vals = self.raster(
                p,
                var,
                clim,
                pattern=pattern,
                timestep=timestep,
                scale=clim[f"{var}_scale"],
                offset=clim[f"{var}_offset"],
                subdataset=clim.get(f"{var}_subdataset"),
            )
            if var == "temperature":
                check_temperature_units(vals, units, p)
            else:
                check_non_negative(vals, var, p)
            conv = np.array(
                units_mod.band_conversions(
                    var,
                    units,
                    len(vals),
                    timestep=timestep,
                    year=None if is_climatology(pattern) else year,
                )
            )
            vals = vals * conv[:, :1] + conv[:, 1:]
            check_plausible(vals, var, p, timestep)
            if var == "precipitation":  # the year's total per sampled pixel
                n_bands += len(vals)
                total = vals.sum(axis=0)
                same = annual is None or annual.shape == total.shape
                annual = (total if annual is None else annual + total) if same else None
        if annual is not None and (timestep == "annual" or n_bands == 12):
            check_precipitation_magnitude(
                annual,
                pattern,
                self.checks["min_median_annual_precipitation_mm"],
                self.checks["max_median_annual_precipitation_mm"],
            )

    def npp(self) -> None:
        """NPP: plausible values in the canonical units."""
        npp = self.config["npp"]
        units_mod.normalise_unit("npp", npp["units"])
        p = npp["path"].format(year=self.year)
        vals = self.raster(
            p, "npp", npp, pattern=npp["path"], scale=npp["scale"], offset=npp["offset"]
        )
        factor, off = units_mod.conversion("npp", npp["units"])
        check_plausible(vals * factor + off, "npp", p)

    def runoff(self) -> None:
        """Runoff (or ET for a water balance): non-negative and plausible values."""
        runoff = self.config["runoff"]
        if runoff["source"] == "water_balance":
            var, path, scale, offset, units = (
                "et",
                runoff["et"],
                runoff["et_scale"],
                0.0,
                runoff["et_units"],
            )
            subdataset, tolerance = None, None
        else:
            var, path, scale, offset, units = (
                "runoff",
                runoff["path"],
                runoff["scale"],
                runoff["offset"],
                runoff["units"],
            )
            subdataset, tolerance = runoff.get("subdataset"), runoff["negative_tolerance"]
        units_mod.normalise_unit(var, units)
        p = path.format(year=self.year)
        vals = self.raster(
            p, var, runoff, pattern=path, scale=scale, offset=offset, subdataset=subdataset
        )
        check_non_negative(vals, var, p, tolerance)
        factor, off = units_mod.conversion(var, units)
        check_plausible(vals * factor + off, var, p)


def check_static_inputs(
    *,
    config: dict,
    path_report: str | None = None,
    path_regions: str | None = None,
    failures: list[CarbonBudgetError] | None = None,
) -> dict:
    """Check the inputs shared by all years: lithology raster and class tables, region polygons
    (unique codes, nesting, geometries, on the grid). Does not depend on the years. With
    ``path_regions`` the checked polygons are stored there (:func:`_check_regions`). With
    ``failures`` (a list) the lithology's error is kept there and the regions still checked."""
    report: dict = {"files": {}, "grid_coverage": {}}
    report.update(_attempt(_check_lithology, failures, config=config))
    report.update(_attempt(_check_regions, failures, config=config, path_regions=path_regions))
    _write_report(report, path_report)
    return report


def _check_lithology(*, config: dict) -> dict:
    """The lithology raster (its band, CRS and coverage of the grid) and its class tables."""
    grid = Grid.from_config(config)
    lith = config["lithology"]
    with gdal_env():
        lookup = load_coefficient_lookup(lith["classes"], lith["coefficients"])
        source = gdal_source(lith["path"], None, lith.get("band"), key="lithology.band")
        with open_source(source, "lithology", lith.get("crs")) as src:
            codes = src.read(1, masked=True)  # its own type: a float copy costs 0.5 s
            share = check_grid_coverage(
                src,
                lith["path"],
                "lithology",
                grid,
                config["checks"]["min_grid_coverage"],
                lith.get("crs"),
            )
        mapped_codes(codes, lookup, path=lith["path"])
    return {
        "files": {lith["path"]: "lithology"},
        "grid_coverage": {lith["path"]: round(share, 4)},
    }


def _check_regions(*, config: dict, path_regions: str | None = None) -> dict:
    """The region polygons: codes, nesting, geometries, and their place on the grid. They are
    read in the grid's CRS, overlaps resolved there, as the coverage of the pixels needs them:
    with ``path_regions`` they are stored there for ``build_regions``
    (:func:`carbonbudget.regions.hierarchy.write_checked_regions`), which would otherwise read,
    check and cut them again on the run's critical path."""
    grid = Grid.from_config(config)
    regions, levels, _ = read_config_regions(config["regions"], crs=grid.crs.to_wkt())
    report = {
        "regions": {lv: int(regions[f"{lv}_code"].nunique()) for lv in levels},
        "regions_outside_grid": check_regions_inside_grid(
            regions,
            f"{levels[0]}_code",
            grid,
            config["regions"]["path"],
            config["checks"],
            template="template" in config["grid"],
        ),
    }
    if path_regions:
        write_checked_regions(regions, path_regions)
    return report


def check_regions_inside_grid(
    regions: gpd.GeoDataFrame,
    code_col: str,
    grid: Grid,
    path: str,
    checks: dict,
    *,
    variable: str = "regions",
    template: bool = False,
) -> dict[str, float]:
    """Share of each region's polygon outside the grid's bounds (in the grid CRS): regions cut by
    the grid edge are a warning naming them (their sinks cover only the part inside, while their
    emissions are the whole region's); a region more than ``checks.max_outside_grid_share``
    outside (unless listed in ``checks.outside_grid_allowed``), or a layer that misses the grid,
    is an error (its fix names grid.template when the grid comes from one). Returns {code: share
    outside} of the cut regions."""
    max_share, allowed = checks["max_outside_grid_share"], set(checks["outside_grid_allowed"])
    outside = 1.0 - inside_grid_share(regions, grid)
    widen = (
        "use a grid.template that covers the study area (the grid takes its extent)"
        if template
        else "widen grid.bounds to cover the study area"
    )
    if (outside >= 1.0).all():
        raise InputDataError(
            "no polygon overlaps the target grid",
            path=path,
            variable=variable,
            fix=f"{widen}; check grid.crs and the CRS of the polygons ({variable}.crs for a file "
            "whose coordinates are not in the CRS it declares)",
        )
    cut = {
        str(c): round(float(o), 4) for c, o in zip(regions[code_col], outside) if o > CUT_TOLERANCE
    }
    if cut:
        log.warning(
            "%s (%s): %d regions reach past the grid edge; the share of their area outside "
            "the grid (no sink computed there): %s",
            path,
            variable,
            len(cut),
            ", ".join(
                f"{c} {100 * o:.1f} %" for c, o in sorted(cut.items(), key=lambda kv: -kv[1])[:20]
            ),
        )
    over = {c: o for c, o in cut.items() if o > max_share and c not in allowed}
    if over:
        raise InputDataError(
            f"{len(over)} regions lie more than {max_share:.0%} outside the "
            f"grid: {dict(list(over.items())[:10])}",
            path=path,
            variable=variable,
            fix=f"{widen}, drop those regions from the layer, or list the codes of those left "
            "out on purpose in checks.outside_grid_allowed",
        )
    return cut


def read_checked_layer(
    name: str, cfg: dict, grid: Grid, checks: dict, *, template: bool
) -> tuple[gpd.GeoDataFrame, dict[str, float]]:
    """The region layer ``name`` (``region_layers.<name>``) in the grid CRS, read and checked as
    the regions are (codes, geometries, overlaps, its CRS, not empty), and its place on the
    grid (:func:`check_regions_inside_grid`): (polygons, {code: share outside} of cut regions)."""
    polys = read_layer(name, cfg, crs=grid.crs.to_wkt())
    cut = check_regions_inside_grid(
        polys,
        f"{name}_code",
        grid,
        cfg["path"],
        checks,
        variable=f"region_layers.{name}",
        template=template,
    )
    return polys, cut


def check_layer_inputs(*, config: dict) -> dict:
    """Every independent region layer (``region_layers``), by :func:`read_checked_layer`.
    Returns {layer: {regions, outside_grid}}."""
    grid = Grid.from_config(config)
    out = {}
    for name, cfg in sorted(config.get("region_layers", {}).items()):
        polys, cut = read_checked_layer(
            name, cfg, grid, config["checks"], template="template" in config["grid"]
        )
        out[name] = {"regions": len(polys), "outside_grid": cut}
    return out


def check_weights_inputs(
    *, config: dict, coverage: tuple | None = None, aligned: dict[str, str] | None = None
) -> dict:
    """The weight rasters of ``emissions.downscale``: each opens with its band and a CRS (or the
    one declared), covers the grid and holds no negative weight in the sampled windows. With
    ``coverage`` (the finest regions' codes and coverage matrix) and ``aligned`` (weight file
    -> where to write it on the grid), each is put on the grid and must hold values on each
    region's area as :func:`check_weights_coverage` requires. Returns {file: share of the
    grid covered}."""
    ds = config["emissions"].get("downscale")
    if not ds:
        return {}
    grid = Grid.from_config(config)
    key = "emissions.downscale.weights"
    out = {}
    for path in sorted(set(downscale_weights(config).values())):
        _require(path, key, None)
        source = gdal_source(
            path, ds.get("subdataset"), ds.get("band"), key="emissions.downscale.band"
        )
        with open_source(source, key, ds.get("crs")) as src:
            share = check_grid_coverage(
                src, path, key, grid, config["checks"]["min_grid_coverage"], ds.get("crs")
            )
            check_non_negative(_sample(src, path, key), key, path)
        out[path] = round(share, 4)
        if coverage is not None and aligned is not None:
            codes, matrix = coverage
            check_weights_coverage(
                align_weights(path, aligned[path], grid, ds),
                matrix,
                np.repeat(grid.row_areas_m2() / 1e6, grid.width),
                codes,
                path=path,
                min_share=config["checks"]["min_valid_share"]["weights"],
            )
    return out


def check_emission_inputs(
    *,
    config: dict,
    path_report: str | None = None,
    path_crosswalk: str | None = None,
    path_match: str | None = None,
) -> dict:
    """Check the emission table against the years and the region codes (units, duplicates,
    missing years, codes that reach no region). Reports how the codes reach the polygons:
    directly, through the crosswalk (``path_crosswalk``, when the config has one) or not at all
    (rolled up by their own code, or dropped), with their share of the emissions of all years;
    the per-code table goes to ``path_match`` (CSV)."""
    years = config["years"]
    regions, levels, derive = read_config_regions(config["regions"], check_overlaps=False)
    em_cfg = config["emissions"]
    em = load_emissions_config(em_cfg, years)
    crosswalk = load_crosswalk_config(em_cfg, path_crosswalk)
    finest = f"{levels[0]}_code"
    rep = match_report(em, regions[finest], crosswalk)
    summary = match_summary(rep)
    select = config["regions"].get("select")
    matched = match_emission_codes(
        em,
        regions.drop(columns="geometry"),
        levels,
        derive_parents=derive,
        unmatched=em_cfg["unmatched"],
        path=em_cfg["path"],
        crosswalk=crosswalk,
        select=select,
    )
    if select:  # codes whose region lies outside regions.select
        rep.loc[~rep["code"].isin(matched["code"]), "match"] = "outside_selection"
        rep.loc[rep["match"] == "outside_selection", "region_code"] = ""
        summary = match_summary(rep)
    gaps = report_gaps(matched, years, em_cfg, finest)
    report = {
        "emissions": {
            "codes": int(em["code"].nunique()),
            "matches": summary,
            "unmatched_codes": rep.loc[rep["match"] == "unmatched", "code"].tolist(),
            "gaps": {
                "count": len(gaps),
                "rule": em_cfg["gaps"],
                "region_years": [f"{c} {y}" for c, y in gaps.itertuples(index=False)][:1000],
            },
        }
    }

    log.info(
        "emission codes: %s",
        "; ".join(
            f"{k} {v['codes']} codes ({100 * v['share']:.1f} % of emissions)"
            for k, v in summary.items()
        ),
    )
    if path_match:
        with atomic_output(path_match) as tmp:
            rep.to_csv(tmp, index=False)
    _write_report(report, path_report)
    return report


def check_inventory_inputs(*, config: dict) -> dict:
    """A gridded inventory (``emissions.source: raster``): every year's file opens, has a CRS
    (or one declared), the band the year needs, and a footprint that covers the grid."""
    inv = config["emissions_raster"]
    grid = Grid.from_config(config)
    out = {}
    for year, (path, band) in sorted(inventory_files(config).items()):
        with open_source(path, "emissions", inv.get("crs")) as src:
            require_band(src, band, year, path)
            west, south, east, north = transform_bounds(
                grid.crs, source_crs(src, inv.get("crs")), *grid.bounds, densify_pts=21
            )
            b = src.bounds
            if west < b.left or east > b.right or south < b.bottom or north > b.top:
                raise InputDataError(
                    f"the inventory ({b.left:g}, {b.bottom:g}, {b.right:g}, {b.top:g}) does "
                    f"not cover the grid ({west:g}, {south:g}, {east:g}, {north:g} in its CRS)",
                    path=path,
                    variable="emissions",
                    fix="use an inventory that covers the study area (or a smaller grid)",
                )
        out[str(year)] = {"file": path, "band": band}
    return {"inventory": out}


def check_inputs(
    *,
    config: dict,
    path_report: str | None = None,
    path_crosswalk: str | None = None,
    cache_dir: str | None = None,
    collect: bool = False,
) -> dict:
    """Every check of every input: each year's and the climatologies' rasters (with the share of
    the study area where they hold values), the lithology, the regions, the region layers, the
    emission weights (with each region's share where they hold values) and the emission table
    or gridded inventory. Raise the first failure, or with ``collect`` run them all and raise
    :class:`InputChecksFailed` listing every failure, one per input and check (what ``make
    check`` does, so one run shows everything to fix). The study area's coverage comes from
    ``cache_dir`` when the run has already computed it, and is stored there otherwise."""
    failures: list[CarbonBudgetError] | None = [] if collect else None
    with tempfile.TemporaryDirectory(prefix="carbonbudget-check-") as tmp:
        # the polygons as checked (in the grid's CRS, overlaps cut) serve the study area's
        # coverage too, as in the run: read, checked and cut once
        checked = os.path.join(tmp, "checked.parquet")
        report: dict = check_static_inputs(config=config, path_regions=checked, failures=failures)
        report.setdefault("grid_coverage", {})
        area = _attempt(
            _study_area,
            failures,
            config=config,
            cache_dir=cache_dir,
            directory=tmp,
            path_regions=checked,
        )
        fraction, coverage = area.get("fraction"), area.get("coverage")
        report["years"] = {
            y: check_year_inputs(config=config, year=y, path_fraction=fraction, failures=failures)
            for y in config["years"]
        }
        report["climatology"] = check_year_inputs(
            config=config, year=None, path_fraction=fraction, failures=failures
        )
        report["region_layers"] = _attempt(check_layer_inputs, failures, config=config)
        report["weights"] = _attempt(
            check_weights_inputs,
            failures,
            config=config,
            coverage=coverage,
            aligned={
                p: os.path.join(tmp, f"weights_{i}.tif")
                for i, p in enumerate(sorted(set(downscale_weights(config).values())))
            },
        )
    if config.get("emissions_raster"):  # the emission table is made from it in the run
        report.update(_attempt(check_inventory_inputs, failures, config=config))
    else:
        report.update(
            _attempt(check_emission_inputs, failures, config=config, path_crosswalk=path_crosswalk)
        )
    if failures and len(failures) == 1:
        raise failures[0]
    if failures:
        raise InputChecksFailed(failures)
    report["grid_coverage"].update(
        {k: v for y in report["years"].values() for k, v in y["grid_coverage"].items()}
    )
    _write_report(report, path_report)
    return report


def _study_area(
    *, config: dict, cache_dir: str | None, directory: str, path_regions: str | None = None
) -> dict:
    """The finest regions' coverage of the grid (from the cache the run shares) and the raster of
    the fraction of each pixel inside them, written in ``directory``: what the checks of
    the study area's share need before the run has made them. The polygons are those the
    regions' check stored at ``path_regions``, else (none given, or the check failed before
    storing them) read again."""
    grid = Grid.from_config(config)
    regions = None
    if path_regions and os.path.exists(path_regions):
        regions = read_checked_regions(path_regions, grid.crs.to_wkt())
    _, codes, matrix, _ = finest_coverage(config["regions"], grid, cache_dir, regions=regions)
    path = os.path.join(directory, "region_fraction.tif")
    write_cogs({path: in_region_fraction(matrix, grid)}, grid)
    return {"fraction": path, "coverage": (codes, matrix)}


def _write_report(report: dict, path: str | None) -> None:
    if path is None:
        return
    with atomic_output(path) as tmp:
        with open(tmp, "w") as fh:
            json.dump(report, fh, indent=2, sort_keys=True, default=str)


def _require(path: str, variable: str, year: int | None) -> None:
    if not os.path.exists(path):
        what = f"file for year {year}" if year is not None else "climatology file"
        raise InputDataError(
            f"{what} not found",
            path=path,
            variable=variable,
            fix="add the file, fix the path pattern, or drop the year from "
            "'years' (or use years: {discover: true})",
        )
