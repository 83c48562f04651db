"""Checks of every input before any compute (DESIGN §7), with errors a researcher can act on.

:func:`check_year_inputs` (one job per year), :func:`check_static_inputs` (lithology, regions)
and :func:`check_emission_inputs` open every configured file, check CRS, grid coverage, declared
units against the values, signs, lithology classes, region codes and emission codes, and write
JSON reports; the pipeline schedules them before any compute. :func:`check_inputs` runs them all. Pixel-exact
sign checks are repeated by the flux kernel, which raises if a negative value slips through a
sampled check.
"""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import rasterio
from rasterio.windows import Window

from . import units as units_mod
from .align import gdal_source, grid_coverage, month_paths, open_source, source_crs
from .balance import (load_crosswalk_config, load_emissions_config, match_emission_codes,
                      report_gaps)
from .errors import InputDataError, UnitError
from .grid import Grid
from .io import atomic_output, gdal_env
from .lithology import codes_to_coefficient, load_coefficient_lookup
from .regions import read_config_regions

log = logging.getLogger(__name__)

KELVIN_THRESHOLD = 100.0   # a median above this cannot be a near-surface °C temperature
SAMPLE_SIZE = 512          # rasters up to 512² pixels are read whole for the value checks
SAMPLE_WINDOWS = 8         # else 8 × 8 windows of 64² pixels on a lattice


def _sample(src, path: str, variable: str, scale=1.0, offset=0.0,
            valid_range=None) -> np.ndarray:
    """A sample of all bands of the open ``src``: the whole raster when it has at most
    SAMPLE_SIZE² pixels, else SAMPLE_WINDOWS² windows of 64 × 64 pixels on a regular lattice
    that includes the last rows and columns (a decimated read of the whole file costs a full
    read: ~10 s per year at 4,000 × 5,000 × 24 bands; the lattice reads ~5 % of it and still
    reaches the end of a truncated file). Nodata and raw values outside ``valid_range`` are NaN,
    the result is scaled and has shape (bands, pixels)."""
    try:
        if src.height * src.width <= SAMPLE_SIZE ** 2:
            data = src.read(masked=True).astype("float64").filled(np.nan)
            data = data.reshape(src.count, -1)
        else:
            hw, ww = min(64, src.height), min(64, src.width)
            rows = np.unique(np.linspace(0, src.height - hw, SAMPLE_WINDOWS).astype(int))
            cols = np.unique(np.linspace(0, src.width - ww, SAMPLE_WINDOWS).astype(int))
            parts = [src.read(window=Window(c, r, ww, hw), masked=True).astype("float64")
                     .filled(np.nan).reshape(src.count, -1) for r in rows for c in cols]
            data = np.concatenate(parts, axis=1)
    except rasterio.errors.RasterioIOError as exc:
        raise InputDataError(f"cannot read pixel data ({exc})", path=path, variable=variable,
                             fix="the file is truncated or corrupt: re-download or "
                                 "re-export it") from exc
    if valid_range is not None:
        data[(data < valid_range[0]) | (data > valid_range[1])] = np.nan
    return data * scale + offset


def check_temperature_units(values: np.ndarray, declared: str, path: str) -> None:
    unit = units_mod.normalise_unit("temperature", declared)
    med = float(np.nanmedian(values)) if np.isfinite(values).any() else np.nan
    if unit == "degC" and med > KELVIN_THRESHOLD:
        raise UnitError(f"median temperature {med:.1f} looks like Kelvin but °C is declared",
                        path=path, variable="temperature",
                        fix="set climate.temperature_units: K (converted at alignment)")
    if unit == "K" and med < KELVIN_THRESHOLD:
        raise UnitError(f"median temperature {med:.1f} looks like °C but K is declared",
                        path=path, variable="temperature",
                        fix="set climate.temperature_units: degC")


def check_non_negative(values: np.ndarray, variable: str, path: str,
                       tolerance: float = 0.0) -> None:
    """Values below -``tolerance`` are an error (a tolerance admits regridding artefacts, which
    the alignment sets to 0)."""
    if np.nanmin(values, initial=0.0) < -tolerance:
        raise InputDataError(f"negative {variable} values (min {np.nanmin(values):.3g})",
                             path=path, variable=variable,
                             fix=f"{variable} cannot be negative: check the nodata value "
                                 "(declare it in the file) and the scale/offset in the config; "
                                 "if tiny negatives are regridding artefacts of zero, set "
                                 f"{variable}.negative_tolerance")


def check_grid_coverage(src, path: str, variable: str, grid, min_share: float,
                        crs=None) -> float:
    """Share of the target grid covered by the open raster's extent; below ``min_share`` is an
    error."""
    share = grid_coverage(src, grid, source_crs(src, crs))
    if share == 0.0:
        raise InputDataError("the raster does not overlap the target grid", path=path,
                             variable=variable,
                             fix="check the raster's CRS and the grid bounds/CRS in the config")
    if share < min_share:
        raise InputDataError(f"the raster covers only {share:.1%} of the target grid "
                             f"(checks.min_grid_coverage = {min_share:.0%})", path=path,
                             variable=variable,
                             fix="use a raster covering the study area, shrink grid.bounds, or "
                                 "lower checks.min_grid_coverage")
    return share


def check_year_inputs(*, config: dict, year: int, path_report: str | None = None) -> dict:
    """Check one year's rasters (climate, NPP, runoff or ET): files present and readable, CRS,
    coverage of the grid, declared units against the values, non-negative water fluxes."""
    clim, npp, runoff = config.get("climate"), config.get("npp"), config["runoff"]
    grid = Grid.from_config(config)
    min_share = _min_share(config)
    report = {"year": year, "files": {}, "grid_coverage": {}}

    def raster(path, variable, sec, scale=1.0, offset=0.0, subdataset=None):
        """Open once: coverage of the grid and a scaled sample of the values."""
        _require(path, variable, year)
        report["files"][path] = variable
        with open_source(gdal_source(path, subdataset), variable, sec.get("crs")) as src:
            report["grid_coverage"][path] = round(
                check_grid_coverage(src, path, variable, grid, min_share, sec.get("crs")), 4)
            return _sample(src, path, variable, scale, offset, sec.get("valid_range"))

    with gdal_env():
        for var in ("temperature", "precipitation") if clim else ():
            units = clim[f"{var}_units"]
            units_mod.normalise_unit(var, units)
            for p in month_paths(clim[var], year):
                vals = raster(p, var, clim)
                if var == "temperature":
                    check_temperature_units(vals, units, p)
                else:
                    check_non_negative(vals, var, p)
        if npp:
            units_mod.normalise_unit("npp", npp["units"])
            raster(npp["path"].format(year=year), "npp", npp, npp["scale"], npp["offset"])
        if runoff["source"] == "water_balance":
            var, path, scale, offset, units = ("et", runoff["et"], runoff["et_scale"], 0.0,
                                               runoff["et_units"])
            subdataset, tolerance = None, 0.0
        else:
            var, path, scale, offset, units = ("runoff", runoff["path"], runoff["scale"],
                                               runoff["offset"], runoff["units"])
            subdataset, tolerance = runoff.get("subdataset"), runoff.get("negative_tolerance", 0.0)
        units_mod.normalise_unit(var, units)
        p = path.format(year=year)
        check_non_negative(raster(p, var, runoff, scale, offset, subdataset), var, p, tolerance)
    _write_report(report, path_report)
    return report


def check_static_inputs(*, config: dict, path_report: str | None = None) -> dict:
    """Check the inputs shared by all years: lithology raster and class tables, region polygons
    (unique codes, nesting, geometries). Does not depend on the years."""
    grid = Grid.from_config(config)
    report = {"files": {}, "grid_coverage": {}}
    with gdal_env():
        lith = config["lithology"]
        lookup = load_coefficient_lookup(lith["classes"], lith["coefficients"])
        with open_source(lith["path"], "lithology", lith.get("crs")) as src:
            codes = src.read(1, masked=True).astype("float64").filled(np.nan)
            report["grid_coverage"][lith["path"]] = round(check_grid_coverage(
                src, lith["path"], "lithology", grid, _min_share(config), lith.get("crs")), 4)
        codes_to_coefficient(codes, lookup, path=lith["path"])
        report["files"][lith["path"]] = "lithology"

    regions, levels, _ = read_config_regions(config["regions"])
    report["regions"] = {lv: int(regions[f"{lv}_code"].nunique()) for lv in levels}
    _write_report(report, path_report)
    return report


def _min_share(config: dict) -> float:
    return config.get("checks", {}).get("min_grid_coverage", 0.95)


def check_emission_inputs(*, config: dict, path_report: str | None = None,
                          path_crosswalk: str | None = None, path_match: str | None = None) -> dict:
    """Check the emission table against the years and the region codes (units, duplicates,
    missing years, codes that reach no region). Reports how the codes reach the polygons:
    directly, through the crosswalk (``path_crosswalk``, when the config has one) or not at all
    (rolled up by their own code, or dropped), with their share of the emissions of all years;
    the per-code table goes to ``path_match`` (CSV)."""
    from .codes import match_report, match_summary

    years = config["years"]
    regions, levels, derive = read_config_regions(config["regions"])
    em_cfg = config["emissions"]
    em = load_emissions_config(em_cfg, years)
    crosswalk = load_crosswalk_config(em_cfg, path_crosswalk)
    finest = f"{levels[0]}_code"
    rep = match_report(em, regions[finest], crosswalk)
    summary = match_summary(rep)
    matched = match_emission_codes(em, regions.drop(columns="geometry"), levels,
                                   derive_parents=derive, unmatched=em_cfg["unmatched"],
                                   path=em_cfg["path"], crosswalk=crosswalk)
    gaps = report_gaps(matched, years, em_cfg, finest)
    report = {"emissions": {
        "codes": int(em["code"].nunique()),
        "matches": summary,
        "unmatched_codes": rep.loc[rep["match"] == "unmatched", "code"].tolist(),
        "gaps": {"count": len(gaps), "rule": em_cfg.get("gaps", "missing"),
                 "region_years": [f"{c} {y}" for c, y in gaps.itertuples(index=False)][:1000]},
    }}

    log.info("emission codes: %s", "; ".join(
        f"{k} {v['codes']} codes ({100 * v['share']:.1f} % of emissions)"
        for k, v in summary.items()))
    if path_match:
        with atomic_output(path_match) as tmp:
            rep.to_csv(tmp, index=False)
    _write_report(report, path_report)
    return report


def check_inputs(*, config: dict, path_report: str | None = None) -> dict:
    """Every check of every year and of the shared inputs; raise the first failure."""
    report = {"years": {y: check_year_inputs(config=config, year=y) for y in config["years"]}}
    report.update(check_static_inputs(config=config))
    report.update(check_emission_inputs(config=config))
    report["grid_coverage"].update({k: v for y in report["years"].values()
                                    for k, v in y["grid_coverage"].items()})
    _write_report(report, path_report)
    return report


def _write_report(report: dict, path: str | None) -> None:
    if path is None:
        return
    with atomic_output(path) as tmp:
        with open(tmp, "w") as fh:
            json.dump(report, fh, indent=2, sort_keys=True, default=str)


def _require(path: str, variable: str, year: int) -> None:
    if not os.path.exists(path):
        raise InputDataError(f"file for year {year} not found", path=path, variable=variable,
                             fix="add the file, fix the path pattern, or drop the year from "
                                 "'years' (or use years: {discover: true})")
