"""The published tables' columns: units, titles and meaning of every column a user sees, and
the period means and flux densities the maps, the GeoPackage and the report derive from the
budget tables.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from carbonbudget.science.balance import GDP_PREFIX, INTENSITY_PREFIX

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
    "ce_known_area_fraction": (
        "1",
        "share of the region's area (inside the grid) whose finest regions have a known CE: "
        "below 1, CE leaves out members the emission table lacks while the area keeps them",
    ),
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
    "population_persons": ("persons", "population: the sum over the region's members"),
    # the period's decomposition (GeoPackage layers; tables/decomposition_<level>.csv)
    "delta_ce_tgco2": ("Tg CO2 yr-1", "change of CE from the first to the last year"),
    "population_effect_tgco2": (
        "Tg CO2 yr-1",
        "population effect on the change of CE (additive LMDI)",
    ),
    "affluence_effect_tgco2": (
        "Tg CO2 yr-1",
        "affluence effect on the change of CE: GDP per person (additive LMDI)",
    ),
    "intensity_effect_tgco2": (
        "Tg CO2 yr-1",
        "emission-intensity effect on the change of CE: CE per GDP (additive LMDI)",
    ),
    "urbanisation_effect_tgco2": (
        "Tg CO2 yr-1",
        "urbanisation effect on the change of CE: urban share of the population (additive LMDI)",
    ),
    "urban_affluence_effect_tgco2": (
        "Tg CO2 yr-1",
        "effect of GDP per urban resident on the change of CE (additive LMDI)",
    ),
    "industry_share_effect_tgco2": (
        "Tg CO2 yr-1",
        "industry-share effect on the change of CE: GDP of industry per GDP (additive LMDI)",
    ),
    "industry_intensity_effect_tgco2": (
        "Tg CO2 yr-1",
        "industry-intensity effect on the change of CE: CE per GDP of industry (additive LMDI)",
    ),
    "main_driver": ("class", "main driver of the change of CE: the largest effect, its sign"),
    "delta_cnc_tgco2": ("Tg CO2 yr-1", "change of CNC from the first to the last year"),
    "delta_npp_tgco2": ("Tg CO2 yr-1", "change of NPP from the first to the last year, in CO2"),
    "delta_rh_tgco2": ("Tg CO2 yr-1", "change of RH from the first to the last year, in CO2"),
    "delta_rh_temperature_tgco2": (
        "Tg CO2 yr-1",
        "temperature part of the change of RH: the change of its temperature term",
    ),
    "delta_rh_precipitation_tgco2": (
        "Tg CO2 yr-1",
        "precipitation part of the change of RH: the change of its precipitation term",
    ),
    "delta_rcs_tgco2": ("Tg CO2 yr-1", "change of RCS from the first to the last year"),
    "cer": (
        "1",
        "carbon emission risk CE / ECS x Cv (Shi et al. 2022): CE = ECS where it equals Cv; "
        "the period mean is the period's CE over its ECS times the mean Cv",
    ),
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


def add_flux_densities(budget: pd.DataFrame) -> pd.DataFrame:
    """A copy of a budget table with ``<var>_flux_tco2_km2`` (Tg CO2 yr-1 -> t CO2 km-2 yr-1)
    for CE, ECS and RCS (those present): what maps and styles show, since a total makes a large
    region look important."""
    out = budget.copy()
    for var in DENSITY_VARS:
        if f"{var}_tgco2" in out:
            out[f"{var}_flux_tco2_km2"] = out[f"{var}_tgco2"] * 1e6 / out["area_km2"]
    return out


def period_cer(budget: pd.DataFrame) -> pd.Series:
    """CER of the whole period per region (index ``code``): the period's CE over its ECS times
    the mean Cv, so one year with ECS ≤ 0 (CER +inf) does not make the period +inf while the
    period's sink is positive; +inf where the period's ECS is ≤ 0; NaN for a region without a
    CER every year (as :func:`period_means`)."""
    years = budget["year"].nunique()
    g = budget.groupby("code")
    ce, ecs, cv = g["ce_tgco2"].sum(), g["ecs_tgco2"].sum(), g["cv"].mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        cer = np.where(ecs > 0, ce / ecs, np.inf) * cv
    every_year = g["cer"].count() == years  # +inf counts: NaN is a year without CER
    return pd.Series(cer, index=ce.index, name="cer").where(every_year)


def period_means(budget: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean over the years of each of ``columns`` per region (index ``code``), NaN for a region
    without a value in every year of the table: a mean over fewer years would compare regions
    over different periods (what the maps and the report's rankings show)."""
    grouped = budget.groupby("code")[columns]
    means = grouped.mean().where(grouped.count() == budget["year"].nunique())
    if "cer" in columns:
        means["cer"] = period_cer(budget)
    return means


def column_title(column: str) -> tuple[str, str] | None:
    """(title, description) of a GeoPackage column, from :data:`COLUMN_UNITS` and the naming
    patterns of the layers (``<var>_mean``, ``<var>_<year>``, ``status_<year>``, ``lisa_<var>``,
    ``gi_<var>``, trend statistics of CE or CNC); None for the key and name columns."""
    if column in COLUMN_UNITS:
        units, text = COLUMN_UNITS[column]
        return f"{_short(text)} ({units})", text
    for pattern in _TITLE_PATTERNS:
        title = pattern(column)
        if title:
            return title
    return None


def _short(text: str) -> str:
    return re.split(r" \(|;|, |: ", text)[0]


def _intensity_title(column: str) -> tuple[str, str] | None:
    m = re.fullmatch(INTENSITY_PREFIX + r"([a-z0-9]+)(_mean)?", column)
    if not m:
        return None
    cur = m.group(1).upper()
    text = f"carbon intensity: CE per unit of GDP, kg CO2 per {cur}, over summed GDP"
    return f"carbon intensity{', mean' if m.group(2) else ''} (kg CO2 {cur}-1)", text


def _gdp_title(column: str) -> tuple[str, str] | None:
    m = re.fullmatch(GDP_PREFIX + r"([a-z0-9]+)", column)
    if not m:
        return None
    cur = m.group(1).upper()
    return f"GDP ({cur})", f"GDP: the sum over the region's members, in {cur}"


def _indicator_trend_title(column: str) -> tuple[str, str] | None:
    """The trend of an intensity indicator (``<indicator>_slope_per_yr``, ``_mk_p``)."""
    m = re.fullmatch(r"(.+)_(slope_per_yr|mk_p)", column)
    base = column_title(m.group(1)) if m and not m.group(1).endswith("_tgco2") else None
    if not (m and base):
        return None
    what, units = base[0].rsplit(" (", 1)
    if m.group(2) == "mk_p":
        return f"{what}: trend p-value (1)", f"Mann-Kendall p-value of the trend of: {base[1]}"
    units = units[:-1]  # without ")"
    rate = units[: -len(" yr-1")] + " yr-2" if units.endswith(" yr-1") else units + " yr-1"
    return f"{what}: trend ({rate})", f"OLS trend per year of: {base[1]}"


def _mean_title(column: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"(.+)_mean", column)
    if not (m and m.group(1) in COLUMN_UNITS):
        return None
    units, text = COLUMN_UNITS[m.group(1)]
    return f"{_short(text)}, mean ({units})", f"mean over the years of: {text}"


def _percentile_title(column: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"(.+)_(p05|p50|p95)(?:_(\d{4}))?", column)
    if not (m and m.group(1) in COLUMN_UNITS):
        return None
    units, text = COLUMN_UNITS[m.group(1)]
    nth = PERCENTILES[m.group(2)]
    when = f" {m.group(3)}" if m.group(3) else ""
    return (
        f"{_short(text)}{when}, {nth} percentile ({units})",
        f'{nth} percentile of: {text}{when and ", in" + when} (docs/method.md, "Uncertainty")',
    )


def _year_title(column: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"(.+)_(\d{4})", column)
    if not (m and m.group(1) in COLUMN_UNITS):
        return None
    units, text = COLUMN_UNITS[m.group(1)]
    return f"{_short(text)} {m.group(2)} ({units})", f"{text}, in {m.group(2)}"


def _ce_ecs_trend_title(column: str) -> tuple[str, str] | None:
    """Trend statistics of CE and ECS, described as those of CNC are."""
    m = re.fullmatch(r"(ce|ecs)_tgco2_(.+)", column)
    if not (m and f"cnc_tgco2_{m.group(2)}" in COLUMN_UNITS):
        return None
    units, text = COLUMN_UNITS[f"cnc_tgco2_{m.group(2)}"]
    text = text.replace("CNC", m.group(1).upper())
    return f"{_short(text)} ({units})", text


def _spatial_title(column: str) -> tuple[str, str] | None:
    for prefix, what in (("lisa_", "LISA cluster of"), ("gi_", "Gi* hot or cold spot of")):
        if column.startswith(prefix):
            var = column[len(prefix) :]
            if var.endswith(("_p", "_z")):
                kind = "pseudo p-value" if var.endswith("_p") else "z-score"
                return f"{what} {var[:-2]}: {kind}", f"{what} the period mean of {var[:-2]}"
            return f"{what} {var}", f"{what} the period mean of {var}"
    return None


# tried in this order after COLUMN_UNITS itself: the first that recognises the column names it
_TITLE_PATTERNS = (
    _intensity_title,
    _gdp_title,
    _indicator_trend_title,
    _mean_title,
    _percentile_title,
    _year_title,
    _ce_ecs_trend_title,
    _spatial_title,
)


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
