"""A gridded emission inventory put on the target grid conserving mass (docs/method.md,
"Emissions on the grid"): EDGAR, ODIAC, MEIC or a national inventory, as a flux or as a total
per cell, in any CRS and resolution.

Values become a flux density (t CO2 km-2 yr-1) on the source grid (a total per cell divided by
the cell's area on the ellipsoid, for geographic cells), the density is put onto the grid
with the exact share of every pixel in every cell (exactextract on the cells' outlines in the
grid CRS, as the region coverage): a pixel takes the densities of the cells it lies in, weighted
by its share in each, never interpolated. The mass of every cell inside the grid is kept to the
single precision of the coverage fractions (1e-7); GDAL's ``average`` resampling approximates
cell footprints and misses it by about 1e-4, more than the method's 1e-6 allows.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from rasterio.warp import transform_geom
from rasterio.windows import Window, from_bounds

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.grid import Grid, crs_kind, ellipsoid_row_areas_m2, pixel_cover
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.inputs.align import open_source, source_crs
from carbonbudget.regions.emissions import check_emission_magnitude
from carbonbudget.regions.zonal import coverage_matrix, density_totals

if TYPE_CHECKING:
    from collections.abc import Iterator

log = logging.getLogger(__name__)

# unit -> (factor to t CO2 per km² per year, or per cell per year; "flux" or "cell"); "s-1"
# units are multiplied by the seconds of the year
RASTER_UNITS: dict[str, tuple[float, str]] = {
    "t CO2 km-2 yr-1": (1.0, "flux"),
    "g CO2 m-2 yr-1": (1.0, "flux"),  # 1 g m-2 = 1 t km-2
    "kg CO2 m-2 s-1": (1e3, "flux"),  # 1 kg m-2 = 1,000 t km-2; x seconds per year
    "t C km-2 yr-1": (CO2_PER_C, "flux"),
    "g C m-2 yr-1": (CO2_PER_C, "flux"),
    "kg C m-2 s-1": (1e3 * CO2_PER_C, "flux"),
    "t CO2 cell-1 yr-1": (1.0, "cell"),
    "kt CO2 cell-1 yr-1": (1e3, "cell"),
    "Mt CO2 cell-1 yr-1": (1e6, "cell"),
    "t C cell-1 yr-1": (CO2_PER_C, "cell"),
    "kt C cell-1 yr-1": (1e3 * CO2_PER_C, "cell"),
    "Tg C cell-1 yr-1": (1e6 * CO2_PER_C, "cell"),  # = Mt C: CDIAC's NDP-058 grids
}


def seconds_in_year(year: int) -> float:
    """Seconds of the calendar year (a leap year has 366 days): EDGAR's kg m-2 s-1 fluxes are
    annual totals divided by the seconds of their year."""
    return 86400.0 * (366 if calendar.isleap(year) else 365)


def to_flux_factor(units: str, year: int) -> tuple[float, str]:
    """(factor, kind): values x factor are t CO2 km-2 yr-1 ("flux") or t CO2 per cell and year
    ("cell")."""
    factor, kind = RASTER_UNITS[units]
    return (factor * seconds_in_year(year) if units.endswith("s-1") else factor), kind


@dataclass
class Aligned:
    """A year of the inventory on the grid: ``density`` (t CO2 km-2 yr-1, grid shape; NaN
    where no inventory cell reaches a pixel), the total of the inventory cells that reach the
    grid, the grid total (Σ density × pixel area), the cells without a value (counted as no
    emission), and the inventory's mass inside the grid before alignment (each cell's total
    times the share of its outline inside the grid's rectangle: the check of the grid total)."""

    density: np.ndarray
    cells_total_t: float
    inside_total_t: float
    nodata_cells: int
    inventory_inside_t: float = np.nan


@dataclass
class CellCoverage:
    """The fraction of every grid pixel inside every inventory cell that reaches the grid
    (cells × pixels, exact at cell edges: exactextract on the cells' outlines in the grid CRS),
    the window of the inventory those cells come from, each cell's area (km²) and share inside
    the grid, and the inventory's ``layout`` (:func:`_layout`) they hold for."""

    window: Window
    matrix: sp.csc_matrix
    cell_km2: np.ndarray
    inside_share: np.ndarray
    layout: tuple


def _layout(src, src_crs) -> tuple:
    """What the cell coverage depends on: the file's size, transform and CRS (the years of an
    inventory share them, whether in one file or one file per year)."""
    return (src.width, src.height, tuple(src.transform), src_crs.to_wkt())


def require_band(src, band: int, year: int, path: str) -> None:
    """The inventory file ``src`` has the band ``year`` needs (emissions.first_year)."""
    if band > src.count:
        raise InputDataError(
            f"the inventory has {src.count} bands, year {year} needs band {band}",
            path=path,
            variable="emissions",
            fix="check emissions.first_year (the year of band 1), or give one file per "
            "year with {year} in emissions.path",
        )


def _cell_areas_km2(src_crs, transform, rows: int, cols: int) -> np.ndarray:
    """Area of every source cell (km²): on the ellipsoid for geographic cells, the nominal
    cell area for an equal-area projection, NaN otherwise (unknown)."""
    kind = crs_kind(src_crs)
    if kind == "geographic":
        # lazy: only jobs that read polygons need pyproj
        from pyproj import CRS as PCRS

        e = PCRS.from_wkt(src_crs.to_wkt()).ellipsoid
        if e is None:
            raise InputDataError(
                "the inventory's geographic CRS has no ellipsoid: its cells' areas are unknown",
                path="",
                variable="emissions",
                fix="declare the CRS with emissions.crs (e.g. EPSG:4326)",
            )
        tops = transform.f + transform.e * np.arange(rows)
        areas = ellipsoid_row_areas_m2(
            tops, tops + transform.e, abs(transform.a), e.semi_major_metre, e.inverse_flattening
        )
        return np.repeat((areas / 1e6)[:, None], cols, axis=1)
    if kind == "equal_area":
        return np.full((rows, cols), abs(transform.a * transform.e) / 1e6)
    return np.full((rows, cols), np.nan)


def cell_coverage(src, src_crs, grid: Grid) -> CellCoverage:
    """:class:`CellCoverage` of the inventory ``src`` (an open dataset) on ``grid``: computed
    once for all years of a file layout (exactextract, as the region coverage)."""
    # lazy: geopandas costs a second of start-up; only jobs that read polygons need it
    import geopandas as gpd
    import shapely
    from shapely.geometry import box, mapping, shape

    # the grid's footprint in the source CRS (a vertex per pixel: a straight edge in one CRS
    # is curved in the other), read with a margin of one cell
    footprint = box(*grid.bounds).segmentize(min(abs(grid.transform.a), abs(grid.transform.e)))
    fp_src = shape(transform_geom(grid.crs, src_crs, mapping(footprint)))
    win = from_bounds(*fp_src.bounds, transform=src.transform).round_offsets().round_lengths()
    win = Window(win.col_off - 1, win.row_off - 1, win.width + 2, win.height + 2)
    win = win.intersection(Window(0, 0, src.width, src.height))
    t = src.window_transform(win)
    rows, cols = int(win.height), int(win.width)
    r, c = np.mgrid[0:rows, 0:cols]
    x0, y0 = t.c + t.a * c.ravel(), t.f + t.e * r.ravel()
    cells = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
    cells = shapely.segmentize(cells, max(abs(t.a), abs(t.e)) / 8)  # curved in the grid CRS
    frame = gpd.GeoDataFrame(
        {"cell": np.arange(rows * cols).astype(str)}, geometry=cells, crs=src_crs.to_wkt()
    )
    _, matrix = coverage_matrix(frame, "cell", grid)
    outlines = frame.to_crs(grid.crs.to_wkt()).geometry.values
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = shapely.area(shapely.clip_by_rect(outlines, *grid.bounds)) / shapely.area(outlines)
    return CellCoverage(
        win,
        matrix,
        _cell_areas_km2(src_crs, t, rows, cols).ravel(),
        np.nan_to_num(inside),
        _layout(src, src_crs),
    )


def align_inventory(
    path: str,
    grid: Grid,
    *,
    units: str,
    year: int,
    band: int = 1,
    crs: str | None = None,
    coverage: CellCoverage | None = None,
) -> tuple[Aligned, CellCoverage]:
    """One year of a gridded inventory as a flux density on ``grid``: each pixel takes the
    densities of the cells it lies in, weighted by the share of the pixel in each, so the mass
    of every cell is kept (Σ over pixels of density × area = Σ over cells of density × the
    cell's area inside the grid). ``coverage`` from an earlier year is reused when the file
    has the same layout, computed afresh otherwise. Returns the year and the coverage."""
    factor, kind = to_flux_factor(units, year)
    with open_source(path, "emissions", crs) as src:
        scrs = source_crs(src, crs)
        require_band(src, band, year, path)
        if kind == "cell" and crs_kind(scrs) not in ("geographic", "equal_area"):
            raise InputDataError(
                "totals per cell on a projection that does not keep areas: the cells' areas "
                "are unknown",
                path=path,
                variable="emissions",
                fix="give the inventory as a flux (per km² or m²), or on a geographic or "
                "equal-area grid",
            )
        if coverage is None or coverage.layout != _layout(src, scrs):
            coverage = cell_coverage(src, scrs, grid)
        raw = src.read(band, window=coverage.window, masked=True)
    values = raw.astype("float64").filled(np.nan).ravel() * factor
    if np.isinf(values).any():
        raise InputDataError(
            f"year {year}: {int(np.isinf(values).sum())} cells hold an infinite value",
            path=path,
            variable="emissions",
            fix="the file is corrupt or its nodata value is not declared: re-export it, or "
            "set its nodata (gdal_edit.py -a_nodata)",
        )
    nodata = ~np.isfinite(values)
    values[nodata] = 0.0  # a cell without a value reports no emission: counted, and reported
    density = values / coverage.cell_km2 if kind == "cell" else values
    m = coverage.matrix
    covered = pixel_cover(m)
    pix_km2 = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    with np.errstate(invalid="ignore"):
        out = np.where(covered > 0, m.T @ density, np.nan)  # fractions are shares of the pixel
    inside = float(np.nansum(out * pix_km2))
    touching = np.asarray(m.sum(axis=1)).ravel() > 0
    mass = density * coverage.cell_km2
    cells_total = float(mass[touching].sum())
    before = float((mass * coverage.inside_share).sum())
    return (
        Aligned(out.reshape(grid.shape), cells_total, inside, int(nodata[touching].sum()), before),
        coverage,
    )


def regional_inventory(
    aligned: Aligned,
    year: int,
    codes: list[str],
    coverage: sp.spmatrix,
    grid: Grid,
    *,
    path: str,
    outside: str = "error",
) -> tuple[pd.DataFrame, dict]:
    """One year of an aligned inventory summed per finest region with the regions' exact
    coverage: the emission table's rows (code, year, ce_tgco2) and the year's row of the mass
    report (what the alignment kept of the inventory's mass). A pixel of the regions that the
    inventory does not reach is an error naming the file, or with ``outside: zero`` no
    emission, counted in the report (``pixels_outside_inventory``) and the log."""
    density = aligned.density.ravel()
    in_regions = pixel_cover(coverage) > 0
    missing = in_regions & ~np.isfinite(density)
    if missing.any() and outside != "zero":
        raise InputDataError(
            f"year {year}: the inventory does not reach {int(missing.sum())} pixels of the regions",
            path=path,
            variable="emissions",
            fix="use an inventory that covers the whole study area, or set outside: zero to "
            "count the regions' pixels beyond its extent as no emission",
        )
    if missing.any():  # counted in the report; inventory_years warns once for all years
        density = np.where(missing, 0.0, density)
    ce_t = density_totals(coverage, grid, density)
    check_emission_magnitude(
        pd.Series(ce_t / 1e6, index=codes),
        pd.Series(density_totals(coverage, grid, np.ones_like(density)), index=codes),
        year=year,
        path=path,
        units_key="emissions.units",
    )
    inside, before = aligned.inside_total_t, aligned.inventory_inside_t
    report = {
        "year": year,
        "inventory_cells_tgco2": aligned.cells_total_t / 1e6,
        "inventory_inside_grid_tgco2": before / 1e6,
        "grid_total_tgco2": inside / 1e6,
        "relative_difference": abs(inside - before) / before if before > 0 else 0.0,
        "regions_total_tgco2": ce_t.sum() / 1e6,
        "cells_without_value": aligned.nodata_cells,
        "pixels_outside_inventory": int(missing.sum()),
    }
    log.info(
        "%d: %.6g Tg CO2 in the inventory cells that reach the grid, %.9g inside the grid before "
        "alignment, %.9g on the grid after, %.6g in the regions; %d cells without a value "
        "counted as no emission",
        year,
        aligned.cells_total_t / 1e6,
        before / 1e6,
        inside / 1e6,
        ce_t.sum() / 1e6,
        aligned.nodata_cells,
    )
    return pd.DataFrame({"code": codes, "year": year, "ce_tgco2": ce_t / 1e6}), report


def inventory_years(
    files: dict, inventory: dict, grid: Grid, coverage: tuple[list[str], sp.spmatrix]
) -> Iterator[tuple[int, str, Aligned, pd.DataFrame, dict]]:
    """Each year of a gridded inventory (``files``: year -> (path, band); ``inventory``: its
    section, with units and crs) put on the grid and summed per finest region (``coverage``:
    their codes and exact coverage): (year, path, the aligned year, its table rows, its row of
    the mass report). The cells' coverage of the grid is computed once for files of one
    layout."""
    codes, regions = coverage
    cells = None
    outside: dict[int, int] = {}
    for year in sorted(files):
        path, band = files[year]
        aligned, cells = align_inventory(
            path,
            grid,
            units=inventory["units"],
            year=year,
            band=band,
            crs=inventory.get("crs"),
            coverage=cells,
        )
        table, row = regional_inventory(
            aligned,
            year,
            codes,
            regions,
            grid,
            path=path,
            outside=inventory.get("outside", "error"),
        )
        if row["pixels_outside_inventory"]:
            outside[year] = row["pixels_outside_inventory"]
        yield year, path, aligned, table, row
    if outside:
        log.warning(
            "%d of %d years: up to %d pixels of the regions lie beyond the inventory's extent "
            "and count as no emission (outside: zero; pixels_outside_inventory in the mass "
            "report)",
            len(outside),
            len(files),
            max(outside.values()),
        )
