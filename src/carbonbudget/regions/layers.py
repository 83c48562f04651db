"""Region layers that do not nest with the administrative tree: river basins, ecological zones
(docs/method.md, "Regional budgets").

A layer gets its own exact coverage matrix (cached like the finest regions') and the zonal sums
of every per-pixel flux, year by year, over the same pixels as the regions' totals (those where
every flux is known). Emission tables are per administrative region and cannot be split
between basins, so emissions reach a layer only from the grid: the CE raster of
``emissions.downscale`` or of a gridded inventory, summed with the same coverage. Without one
the layer's table carries the sinks alone and says so in a ``note`` column.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from carbonbudget.core.errors import RegionError
from carbonbudget.core.grid import Grid
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.regions.hierarchy import read_regions, resolve_overlaps
from carbonbudget.regions.zonal import (
    cached_coverage,
    inside_grid_share,
    weighted_coverage,
    zonal_totals,
)
from carbonbudget.science.balance import PARTIAL_NOTE_END, balance_indicators

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

# A region with less of its area outside the grid is not noted as cut (polygons drawn at another
# scale than the grid's edge).
EDGE_TOLERANCE = 1e-3
SINKS_ONLY = (
    "sinks only: emissions reach a region layer only from the grid (emissions.downscale or a "
    "gridded inventory), since the emission table's regions do not nest in it"
)


def read_layer(name: str, cfg: dict, crs: Any = None) -> gpd.GeoDataFrame:
    """The polygons of the region layer ``name`` (``region_layers.<name>``) with
    ``{name}_code`` and ``{name}_name`` columns, checked as the regions are (unique codes,
    geometries repaired, empty ones refused), in ``crs`` if given."""
    key = f"region_layers.{name}"
    polys = read_regions(
        cfg["path"],
        {name: cfg["code_col"]},
        {name: cfg["name_col"]} if cfg.get("name_col") else None,
        crs=crs,
        layer=cfg.get("layer"),
        source_crs=cfg.get("crs"),
        key=key,
    )
    if polys.empty:  # else every table of the layer would be empty
        raise RegionError(
            "the layer has no features",
            path=cfg["path"],
            variable=key,
            fix=f"point {key}.path (and .layer) at the layer's polygons, or remove the layer",
        )
    return resolve_overlaps(
        polys,
        f"{name}_code",
        policy=cfg.get("overlaps", "error"),
        max_share=cfg.get("max_overlap_share", 0.005),
        path=cfg["path"],
        variable=key,
    )


def layer_budget(
    *,
    name: str,
    layer_cfg: dict,
    grid_spec: dict,
    flux_paths: dict[int, dict[str, str]],
    ce_paths: dict[int, str] | None,
    balance_cfg: dict,
    cache_dir: str | None,
    share: str | None = None,
) -> pd.DataFrame:
    """The budget table of one region layer: per region and year the area, the flux totals
    (Tg C yr-1) and their valid fractions, RCS and ECS in CO2, and with ``ce_paths`` (CE per
    pixel, t CO2 km-2 yr-1, per year) CE and the balance indicators. A region whose CE is known
    on only part of its area (a basin reaching beyond the regions of the emission table) gets
    no CE: a partial sum would read as a smaller emission. With ``share`` (the aligned
    npp.cover_fraction) the fluxes are summed over that share of each pixel, CE over all of it."""
    grid = Grid.from_config(grid_spec)
    regions = read_layer(name, layer_cfg, crs=grid.crs.to_wkt())
    codes, matrix, _, _ = cached_coverage(regions, f"{name}_code", grid, cache_dir)
    flux_matrix = weighted_coverage(matrix, grid, share)
    inside = dict(zip(regions[f"{name}_code"], inside_grid_share(regions, grid)))
    names = dict(zip(regions[f"{name}_code"], regions[f"{name}_name"]))
    parts = []
    for year, rasters in sorted(flux_paths.items()):
        z = zonal_totals(flux_matrix, codes, grid, rasters)
        z = z.drop(columns=[c for c in z if c.endswith("_own_fraction")])
        z.insert(1, "year", int(year))
        if ce_paths is not None:
            c = zonal_totals(matrix, codes, grid, {"ce": ce_paths[year]})
            # of the part inside the grid, where the sinks are summed too: a region cut by the
            # grid edge has the budget of that part (its valid_fraction and note say so)
            known = c["ce_valid_fraction"].to_numpy() >= 1.0 - 1e-9
            # t CO2 km-2 is g CO2 m-2: the zonal sum (g m-2 x m2 / 1e12) is in Tg CO2
            z["ce_tgco2"] = np.where(known, c["ce_tgc"], np.nan)
            z["ce_known_fraction"] = c["ce_valid_fraction"]
        parts.append(z)
    t = pd.concat(parts, ignore_index=True)
    in_grid = t["code"].map(inside).astype("float64")
    fluxes = [c[: -len("_tgc")] for c in t.columns if c.endswith("_tgc")]
    last = "ecs" if "ecs" in fluxes else fluxes[-1]
    # shares of the whole region (the part outside the grid has no known sink), as the budget
    t["valid_fraction"] = t[f"{last}_valid_fraction"] * in_grid
    for v in fluxes:
        t[f"{v}_valid_fraction"] = t[f"{v}_valid_fraction"] * in_grid
    t["outside_grid_share"] = 1.0 - in_grid
    t["in_region_layer"] = True
    if "rcs" in fluxes:
        t["rcs_tgco2"] = t["rcs_tgc"] * CO2_PER_C
    if "ecs" in fluxes:
        t["ecs_tgco2"] = t["ecs_tgc"] * CO2_PER_C
    if ce_paths is not None and "ecs" in fluxes:
        ind = balance_indicators(
            t["ecs_tgco2"],
            t["ce_tgco2"],
            t["area_km2"],
            1.0,
            float(balance_cfg["tolerance_tgco2"]),
            valid_fraction=t["valid_fraction"],
            min_valid_fraction=balance_cfg["min_valid_fraction"],
        )
        t = pd.concat([t, ind], axis=1)
        partial = ~np.isfinite(t["ce_tgco2"]) & (t["ce_known_fraction"] > 0)
        t.loc[partial, "status_note"] = [
            f"CE known on {100 * f:.1f} % of the area inside the grid: emissions on the grid "
            "cover only the regions of the emission table"
            for f in t.loc[partial, "ce_known_fraction"]
        ]
    elif ce_paths is None:
        t["note"] = SINKS_ONLY
    cut = t["outside_grid_share"] > EDGE_TOLERANCE
    if cut.any():  # the grid edge, not the emission table, leaves these without a full sum
        col = "status_note" if "status_note" in t else "note"
        before = t.loc[cut, col].fillna("").astype(str)
        edge = [
            f"{100 * o:.1f} % of the region lies outside the grid: "
            + ("its sink and emissions are" if ce_paths is not None else "its sink is")
            + " those of the part inside"
            for o in t.loc[cut, "outside_grid_share"]
        ]
        # the edge note replaces the one that a part of the sink is set against all of CE
        # (here CE is the same part's)
        t.loc[cut, col] = [
            f"{e}; {b}" if b and not b.endswith(PARTIAL_NOTE_END) else e
            for b, e in zip(before, edge)
        ]
    t["name"] = t["code"].map(names)
    t.insert(0, "level", name)
    front = ["level", "code", "name", "year", "area_km2", "valid_fraction", "outside_grid_share"]
    rest = [c for c in t.columns if c not in front]
    out = t[front + rest].sort_values(["code", "year"]).reset_index(drop=True)
    log.info(
        "region layer %s: %d regions x %d years%s",
        name,
        len(codes),
        len(flux_paths),
        "" if ce_paths is not None else " (sinks only: no emissions on the grid)",
    )
    return out
