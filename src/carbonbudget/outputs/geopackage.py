"""The GeoPackage for GIS users (docs/data.md): one layer per level with period means, yearly
series, trends and spatial-statistics classes, column titles and units, and QGIS styles."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from carbonbudget import __version__
from carbonbudget.core.io import atomic_output, write_gpkg_layer
from carbonbudget.outputs.classify import coloured_classes
from carbonbudget.outputs.maps import budget_map_values
from carbonbudget.outputs.palette import BUDGET_MAPS
from carbonbudget.outputs.styles import write_styles_and_descriptions
from carbonbudget.outputs.tables import (
    COLUMN_UNITS,
    SUMMARY_VARS,
    TREND_STATS,
    YEARLY_INTERVALS,
    YEARLY_SERIES,
    add_flux_densities,
    column_title,
    period_cer,
    spatial_columns,
)
from carbonbudget.regions.hierarchy import read_level_polygons
from carbonbudget.science.balance import INTENSITY_PREFIX
from carbonbudget.science.decomposition import dominant_effect
from carbonbudget.science.trends import read_region_trends

# the period's decomposition in each level's layer (carbonbudget.science.decomposition)
DECOMPOSITION_COLUMNS = (
    "delta_ce_tgco2",
    "population_effect_tgco2",
    "urbanisation_effect_tgco2",
    "affluence_effect_tgco2",
    "urban_affluence_effect_tgco2",
    "industry_share_effect_tgco2",
    "intensity_effect_tgco2",
    "industry_intensity_effect_tgco2",
    "delta_cnc_tgco2",
    "delta_npp_tgco2",
    "delta_rh_tgco2",
    "delta_rh_temperature_tgco2",
    "delta_rh_precipitation_tgco2",
    "delta_rcs_tgco2",
)


def density_classes(
    budget: pd.DataFrame, scheme: tuple[str, int], min_valid_fraction: float
) -> dict[str, list[tuple[float, float, str]]]:
    """GeoPackage column -> the classes (lower, upper, colour) of the PNG density map of the
    same variable (CNC, CE, ECS, RCS), from the values that map classes."""
    kinds = [k for k in ("cnc", "ce", "ecs", "rcs") if BUDGET_MAPS[k][0] in budget]
    values = budget_map_values(budget, kinds, True, min_valid_fraction)
    out = {}
    for kind in kinds:
        col, cmap, centre = BUDGET_MAPS[kind][1], BUDGET_MAPS[kind][2], BUDGET_MAPS[kind][3]
        out[f"{col}_mean"] = coloured_classes(values[col], scheme[0], scheme[1], centre, cmap)
    return out


def decomposition_columns(path: str) -> pd.DataFrame:
    """The period's decomposition per region (index code): the changes of CE and CNC and their
    parts, and the main driver of the change of CE (where the LMDI effects exist)."""
    table = pd.read_csv(path, dtype={"code": str})
    period = table[table["kind"] == "period"].set_index("code")
    columns = [c for c in DECOMPOSITION_COLUMNS if c in period]
    out = period[columns].copy()
    if "population_effect_tgco2" in period:
        out["main_driver"] = dominant_effect(table)
    return out


def _level_tables(level: str, spatial: dict, decomposition: dict) -> list[pd.DataFrame]:
    """The LISA and Gi* columns and the decomposition of a level, those it has."""
    out = []
    if level in spatial:
        out.append(spatial_columns(spatial[level]))
    if level in decomposition:
        out.append(decomposition_columns(decomposition[level]))
    return out


def write_geopackage(
    *,
    path_regions: str,
    levels: list[str],
    budget_paths: dict,
    region_tables: dict[str, dict[str, str]],
    path_out: str,
    run_info: dict | None = None,
    series: str = "cnc_tgco2",
    maps: dict | None = None,
    min_valid_fraction: float = 0.5,
) -> None:
    """One layer per level: geometry, period means, last-year status, CNC trend, LISA cluster and
    Gi* class of each spatial variable, the period's decomposition and per-year CNC, from the
    ``region_tables`` of each kind (``trends`` of every level; ``spatial`` and
    ``decomposition`` of the levels that have them: kind -> {level: path}); plus a
    non-spatial ``column_units`` layer describing every column and a ``metadata`` layer (key,
    value) with the package version, the config digest and what ``run_info`` gives (years,
    grid CRS, input files); the run time stays in provenance.json so the file is reproducible.
    ``series``: the yearly column given per year (:func:`carbonbudget.outputs.maps.trend_variable`:
    CNC, or CE in a run without NPP and climate). ``maps`` (``outputs.maps``) and
    ``min_valid_fraction`` class the density styles as the PNG maps class them."""
    trend_paths = region_tables["trends"]
    spatial_paths = region_tables.get("spatial", {})
    decomposition_paths = region_tables.get("decomposition", {})

    crs = gpd.read_file(path_regions, layer="regions", engine="pyogrio", max_features=1).crs
    layers: dict[str, gpd.GeoDataFrame] = {}
    maps = {"scheme": "quantiles", "classes": 6} | (maps or {})
    scheme = (maps["scheme"], int(maps["classes"]))
    classes: dict[str, dict] = {}
    with atomic_output(path_out) as tmp:
        for level in levels:
            geo = read_level_polygons(path_regions, level).rename(columns={f"{level}_name": "name"})
            budget = pd.read_parquet(budget_paths[level])
            budget = budget[budget["in_region_layer"]]
            classes[level] = density_classes(budget, scheme, min_valid_fraction)
            budget = add_flux_densities(budget)
            last = budget["year"].max()
            summary = [c for c in SUMMARY_VARS if c in budget]
            summary += [c for c in budget if c.startswith(INTENSITY_PREFIX)]
            means = budget.groupby("code")[summary].mean().add_suffix("_mean")
            means = means.rename(columns={"area_km2_mean": "area_km2"})
            if "cer" in summary:  # the period's ratio, not a mean of yearly ratios
                means["cer_mean"] = period_cer(budget)
            parts = [means]
            for col in ("status", "status_robust"):
                if col in budget:
                    parts.append(
                        budget[budget["year"] == last]
                        .set_index("code")[col]
                        .rename(f"{col}_{last}")
                    )
            if "note" in budget:  # what an independent region layer's table leaves out
                parts.append(budget.groupby("code")["note"].first())
            # every year of CNC, ECS and CE (those computed), the trend variable first
            yearly = [v for v in dict.fromkeys([series, *YEARLY_SERIES]) if v in budget]
            yearly += [v for v in YEARLY_INTERVALS if v in budget]
            wide = pd.concat(
                [
                    budget.pivot(index="code", columns="year", values=v).rename(
                        columns=lambda y, v=v: f"{v}_{y}"
                    )
                    for v in yearly
                ],
                axis=1,
            )
            trends = read_region_trends(trend_paths[level]).set_index("code")
            # the trend variable, or ECS for a region layer without emissions
            shown = next((v for v in (series, "ecs_tgco2") if f"{v}_mk_z" in trends), None)
            if shown:
                parts.append(trends[[f"{shown}_{s}" for s in TREND_STATS]])
            # the intensity indicators' trends (slope per year and its Mann-Kendall p)
            for col in [
                c for c in summary if c.endswith("_tco2") or c.startswith(INTENSITY_PREFIX)
            ]:
                if f"{col}_slope_per_yr" in trends:
                    parts.append(trends[[f"{col}_slope_per_yr", f"{col}_mk_p"]])
            parts += _level_tables(level, spatial_paths, decomposition_paths)
            layer = geo.merge(
                pd.concat(parts + [wide], axis=1), left_on="code", right_index=True, how="left"
            )
            layer.attrs = {}
            write_gpkg_layer(layer, tmp, level)
            layers[level] = layer
        meta = pd.DataFrame(
            [{"column": k, "units": u, "description": d} for k, (u, d) in COLUMN_UNITS.items()]
            + [
                {"column": "<var>_mean", "units": "as <var>", "description": "mean over the years"},
                {
                    "column": f"{INTENSITY_PREFIX}<currency>",
                    "units": "kg CO2 per unit of <currency>",
                    "description": "carbon intensity: the region's CE over its members' summed "
                    "GDP (socioeconomic.gdp_currency and gdp_scale)",
                },
                {
                    "column": "cnc_tgco2_<year>",
                    "units": "Tg CO2 yr-1",
                    "description": "CNC of that year",
                },
                {
                    "column": "ce_tgco2_<year>",
                    "units": "Tg CO2 yr-1",
                    "description": "CE of that year (runs without ECS also carry "
                    "ce_tgco2_<stat> trends)",
                },
                {
                    "column": "<var>_p05, <var>_p50, <var>_p95",
                    "units": "as <var>",
                    "description": "5th, 50th and 95th percentile of <var> under the "
                    "uncertainty model (cnc_tgco2_p05_<year> ...: of that year)",
                },
                {
                    "column": "ecs_tgco2_<year>",
                    "units": "Tg CO2 yr-1",
                    "description": "ECS of that year",
                },
                {
                    "column": "lisa_<var>",
                    "units": "class",
                    "description": "LISA cluster of the period mean of <var>: HH/LL/HL/LH at "
                    "p < spatial.lisa_p, 'not significant', or 'not computed' (see "
                    "tables/moran_<level>.csv note)",
                },
                {"column": "lisa_<var>_p", "units": "1", "description": "LISA pseudo p-value"},
                {
                    "column": "gi_<var>",
                    "units": "class",
                    "description": "Getis-Ord Gi* hot/cold spot at 90/95/99 % of the period "
                    "mean of <var>",
                },
                {"column": "gi_<var>_z", "units": "1", "description": "Gi* z-score"},
            ]
        )
        write_gpkg_layer(meta, tmp, "column_units")
        info = {
            "carbonbudget_version": __version__,
            "levels": ", ".join(levels),
            "crs": crs.to_string() if crs is not None else "",
            "provenance": "provenance.json next to gis/ has input digests and the run time",
        }
        info.update(
            {
                k: v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
                for k, v in (run_info or {}).items()
            }
        )
        write_gpkg_layer(
            pd.DataFrame({"key": list(info), "value": list(info.values())}), tmp, "metadata"
        )

        describe = {c: column_title(c) for layer in layers.values() for c in layer.columns}
        write_styles_and_descriptions(
            str(tmp),
            layers,
            {c: d for c, d in describe.items() if d is not None},
            classes,
            scheme,
        )
