"""Deliverables for GIS users: the GeoPackage (docs/data.md) and provenance.json."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from . import __version__
from .io import atomic_output, write_gpkg_layer
from .trends import read_region_trends

# Units and meaning of every column users see in the tables and the GeoPackage.
COLUMN_UNITS = {
    "area_km2": ("km2", "region area on the grid's CRS (pixel areas × coverage fractions)"),
    "valid_fraction": (
        "1",
        "share of the region's whole area (part outside the grid "
        "included) where ECS (every input; RCS in a run without NPP and "
        "climate) is known",
    ),
    "outside_grid_share": (
        "1",
        "share of the region's polygon outside the grid (no sink computed there)",
    ),
    "rh_tgc": ("Tg C yr-1", "heterotrophic respiration"),
    "nep_tgc": ("Tg C yr-1", "net ecosystem productivity NPP - RH"),
    "rcs_tgc": ("Tg C yr-1", "rock-weathering carbon sink (GEM-CO2)"),
    "ecs_tgc": ("Tg C yr-1", "ecosystem carbon sink NEP + RCS"),
    "rcs_tgco2": ("Tg CO2 yr-1", "rock-weathering carbon sink in CO2 (x 44/12)"),
    "in_region_layer": (
        "bool",
        "false: an emission code without polygon (CE only; see tables/emission_code_match.csv)",
    ),
    "ecs_tgco2": ("Tg CO2 yr-1", "ecosystem carbon sink in CO2 (x 44/12)"),
    "ce_tgco2": ("Tg CO2 yr-1", "carbon emissions (Mt CO2 = Tg CO2)"),
    "cnc_tgco2": ("Tg CO2 yr-1", "carbon neutral capacity ECS - CE"),
    "cnc_flux_tco2_km2": ("t CO2 km-2 yr-1", "CNC per unit area"),
    "ce_flux_tco2_km2": ("t CO2 km-2 yr-1", "CE per unit area"),
    "ecs_flux_tco2_km2": ("t CO2 km-2 yr-1", "ECS per unit area"),
    "rcs_flux_tco2_km2": ("t CO2 km-2 yr-1", "RCS per unit area"),
    "status": (
        "class",
        "surplus / deficit / neutral against balance.tolerance_tgco2; missing "
        "(no ECS or CE); incomplete (sink known on less than "
        "balance.min_valid_fraction of the area)",
    ),
    "status_note": ("text", "why a region-year is missing or incomplete"),
    "ce_missing_members": (
        "count",
        "members without an emission value left out of CE (emissions.gaps: sum)",
    ),
    "source_sink_ratio": ("1", "CE / ECS; +inf where ECS <= 0 (ecosystem source)"),
    "ecosystem_source": ("bool", "ECS <= 0: the land itself is a net source"),
    "cv": ("1", "vulnerability coefficient of CER (balance.cv)"),
    "ce_per_capita_tco2": (
        "t CO2 person-1 yr-1",
        "CE per inhabitant: the region's CE over its members' summed population",
    ),
    "ecs_per_capita_tco2": (
        "t CO2 person-1 yr-1",
        "ECS per inhabitant: the region's ECS over its members' summed population",
    ),
    "cer": ("1", "carbon emission risk CE / ECS x Cv (1 = neutrality)"),
    "imbalance_risk_index": (
        "1",
        "percentile rank of source_sink_ratio among the level's region-years",
    ),
    "note": ("text", "what the table of an independent region layer leaves out, and why"),
    "ce_known_fraction": (
        "1",
        "share of a region layer's area where CE is known on the grid (CE is given only where "
        "it is 1)",
    ),
    "p_surplus": (
        "1",
        "probability of a surplus (P(CNC > 0) under the uncertainty model; "
        'docs/method.md, "Uncertainty")',
    ),
    "status_robust": (
        "bool",
        "status robust (the 95 % interval of CNC lies on the status's side of zero; neutral: "
        "inside the tolerance); empty without a status",
    ),
    "cnc_tgco2_slope_per_yr": ("Tg CO2 yr-2", "OLS trend of CNC"),
    "cnc_tgco2_slope_p": ("1", "two-sided p-value of the CNC trend"),
    "cnc_tgco2_sen_per_yr": ("Tg CO2 yr-2", "Theil-Sen trend of CNC"),
    "cnc_tgco2_mk_z": ("1", "Mann-Kendall Z of CNC (tie-corrected)"),
    "cnc_tgco2_mk_p": ("1", "two-sided p-value of the Mann-Kendall Z"),
    "cnc_tgco2_hurst": (
        "1",
        "Hurst exponent of CNC around its trend (aggregated variance of "
        "the detrended series; NaN outside [0, 1])",
    ),
    "cnc_tgco2_hurst_note": ("text", "why the Hurst exponent is NaN (an estimate outside [0, 1])"),
    "cnc_tgco2_trend_class": (
        "class",
        "Zhang et al. 2022 trend class of CNC (trends.class_thresholds_tgco2, scaled to the "
        "level's mean region area: trends.class_thresholds_area_km2)",
    ),
    "cnc_tgco2_abrupt_change_years": (
        "year",
        "years where the sequential MK UF and UB cross inside +-1.96",
    ),
}

TREND_STATS = [
    "slope_per_yr",
    "slope_p",
    "sen_per_yr",
    "mk_z",
    "mk_p",
    "hurst",
    "hurst_note",
    "trend_class",
    "abrupt_change_years",
]
TREND_COLUMNS = [f"cnc_tgco2_{s}" for s in TREND_STATS]

# per-year columns of the GeoPackage layers, and the flux densities of their period means
YEARLY_SERIES = ["cnc_tgco2", "ecs_tgco2", "ce_tgco2"]
# with the uncertainty model: CNC's interval and the probability of a surplus, per year (an
# interval of a year is not the mean of the years' intervals, so these have no period mean)
YEARLY_INTERVALS = ["cnc_tgco2_p05", "cnc_tgco2_p95", "p_surplus"]
PERCENTILES = {"p05": "5th", "p50": "50th", "p95": "95th"}
DENSITY_VARS = ["ce", "ecs", "rcs"]

SUMMARY_VARS = [
    "area_km2",
    "valid_fraction",
    "rcs_tgco2",
    "ecs_tgco2",
    "ce_tgco2",
    "cnc_tgco2",
    "cnc_flux_tco2_km2",
    "ce_flux_tco2_km2",
    "ecs_flux_tco2_km2",
    "rcs_flux_tco2_km2",
    "cer",
    "ce_per_capita_tco2",
    "ecs_per_capita_tco2",
]
INTENSITY_PREFIX = "ce_intensity_kgco2_per_"  # + the GDP currency (socioeconomic.gdp_currency)


def write_geopackage(
    *,
    path_regions: str,
    levels: list[str],
    budget_paths: dict,
    trend_paths: dict,
    path_out: str,
    spatial_paths: dict | None = None,
    run_info: dict | None = None,
    series: str = "cnc_tgco2",
) -> None:
    """One layer per level: geometry, period means, last-year status, CNC trend, LISA cluster and
    Gi* class of each spatial variable (levels in ``spatial_paths``) and per-year CNC; plus a
    non-spatial ``column_units`` layer describing every column and a ``metadata`` layer (key,
    value) with the package version, the config digest and what ``run_info`` gives (years,
    grid CRS, input files); the run time stays in provenance.json so the file is reproducible.
    ``series``: the yearly column given per year (:func:`carbonbudget.plots.trend_variable`:
    CNC, or CE in a run without NPP and climate)."""
    spatial_paths = spatial_paths or {}
    from .regions import read_level_polygons

    crs = gpd.read_file(path_regions, layer="regions", engine="pyogrio", max_features=1).crs
    layers: dict[str, gpd.GeoDataFrame] = {}
    with atomic_output(path_out) as tmp:
        for level in levels:
            geo = read_level_polygons(path_regions, level).rename(columns={f"{level}_name": "name"})
            budget = pd.read_parquet(budget_paths[level])
            budget = add_flux_densities(budget[budget["in_region_layer"]])
            last = budget["year"].max()
            summary = [c for c in SUMMARY_VARS if c in budget]
            summary += [c for c in budget if c.startswith(INTENSITY_PREFIX)]
            means = budget.groupby("code")[summary].mean().add_suffix("_mean")
            means = means.rename(columns={"area_km2_mean": "area_km2"})
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
            if level in spatial_paths:
                parts.append(spatial_columns(spatial_paths[level]))
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
        from .gis_styles import write_styles_and_descriptions

        describe = {c: column_title(c) for layer in layers.values() for c in layer.columns}
        write_styles_and_descriptions(
            str(tmp), layers, {c: d for c, d in describe.items() if d is not None}
        )


def add_flux_densities(budget: pd.DataFrame) -> pd.DataFrame:
    """A copy of a budget table with ``<var>_flux_tco2_km2`` (Tg CO2 yr-1 -> t CO2 km-2 yr-1)
    for CE, ECS and RCS (those present): what maps and styles show, since a total makes a large
    region look important."""
    out = budget.copy()
    for var in DENSITY_VARS:
        if f"{var}_tgco2" in out:
            out[f"{var}_flux_tco2_km2"] = out[f"{var}_tgco2"] * 1e6 / out["area_km2"]
    return out


def period_means(budget: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean over the years of each of ``columns`` per region (index ``code``), NaN for a region
    without a value in every year of the table: a mean over fewer years would compare regions
    over different periods (what the maps and the report's rankings show)."""
    grouped = budget.groupby("code")[columns]
    return grouped.mean().where(grouped.count() == budget["year"].nunique())


def column_title(column: str) -> tuple[str, str] | None:
    """(title, description) of a GeoPackage column, from :data:`COLUMN_UNITS` and the naming
    patterns of the layers (``<var>_mean``, ``<var>_<year>``, ``status_<year>``, ``lisa_<var>``,
    ``gi_<var>``, trend statistics of CE or CNC); None for the key and name columns."""
    import re

    def short(text: str) -> str:
        return re.split(r" \(|;|, |: ", text)[0]

    if column in COLUMN_UNITS:
        units, text = COLUMN_UNITS[column]
        return f"{short(text)} ({units})", text
    m = re.fullmatch(INTENSITY_PREFIX + r"([a-z0-9]+)(_mean)?", column)
    if m:
        cur = m.group(1).upper()
        text = f"carbon intensity: CE per unit of GDP, kg CO2 per {cur}, over summed GDP"
        return f"carbon intensity{', mean' if m.group(2) else ''} (kg CO2 {cur}-1)", text
    m = re.fullmatch(r"(.+)_(slope_per_yr|mk_p)", column)
    base = column_title(m.group(1)) if m and not m.group(1).endswith("_tgco2") else None
    if m and base:  # the trend of an intensity indicator
        what, units = base[0].rsplit(" (", 1)
        if m.group(2) == "mk_p":
            return f"{what}: trend p-value (1)", f"Mann-Kendall p-value of the trend of: {base[1]}"
        units = units[:-1]  # without ")"
        rate = units[: -len(" yr-1")] + " yr-2" if units.endswith(" yr-1") else units + " yr-1"
        return f"{what}: trend ({rate})", f"OLS trend per year of: {base[1]}"
    m = re.fullmatch(r"(.+)_mean", column)
    if m and m.group(1) in COLUMN_UNITS:
        units, text = COLUMN_UNITS[m.group(1)]
        return f"{short(text)}, mean ({units})", f"mean over the years of: {text}"
    m = re.fullmatch(r"(.+)_(p05|p50|p95)(?:_(\d{4}))?", column)
    if m and m.group(1) in COLUMN_UNITS:
        units, text = COLUMN_UNITS[m.group(1)]
        nth = PERCENTILES[m.group(2)]
        when = f" {m.group(3)}" if m.group(3) else ""
        return (
            f"{short(text)}{when}, {nth} percentile ({units})",
            f'{nth} percentile of: {text}{when and ", in" + when} (docs/method.md, "Uncertainty")',
        )
    m = re.fullmatch(r"(.+)_(\d{4})", column)
    if m and m.group(1) in COLUMN_UNITS:
        units, text = COLUMN_UNITS[m.group(1)]
        return f"{short(text)} {m.group(2)} ({units})", f"{text}, in {m.group(2)}"
    m = re.fullmatch(r"(ce|ecs)_tgco2_(.+)", column)
    if m and f"cnc_tgco2_{m.group(2)}" in COLUMN_UNITS:
        units, text = COLUMN_UNITS[f"cnc_tgco2_{m.group(2)}"]
        text = text.replace("CNC", m.group(1).upper())
        return f"{short(text)} ({units})", text
    for prefix, what in (("lisa_", "LISA cluster of"), ("gi_", "Gi* hot or cold spot of")):
        if column.startswith(prefix):
            var = column[len(prefix) :]
            if var.endswith(("_p", "_z")):
                kind = "pseudo p-value" if var.endswith("_p") else "z-score"
                return f"{what} {var[:-2]}: {kind}", f"{what} the period mean of {var[:-2]}"
            return f"{what} {var}", f"{what} the period mean of {var}"
    return None


def spatial_columns(path: str) -> pd.DataFrame:
    """LISA and Gi* columns per region (index code) from a spatial_<level>.csv table."""
    local = pd.read_csv(path, dtype={"code": str})
    out = []
    for var, grp in local.groupby("variable", sort=True):
        g = grp.set_index("code")
        out.append(
            pd.DataFrame(
                {
                    f"lisa_{var}": g["lisa_cluster"],
                    f"lisa_{var}_p": g["lisa_p_sim"],
                    f"gi_{var}": g["gi_class"],
                    f"gi_{var}_z": g["gi_z"],
                }
            )
        )
    return pd.concat(out, axis=1)
