"""Why the balance changed, level by level: the decomposition tables of a run
(docs/method.md, "Decomposition") from its budget tables, with population and GDP from the
socio-economic table of the finest regions or from ``decomposition.drivers`` for one level.
"""

from __future__ import annotations

import logging

import pandas as pd

from carbonbudget.core.config import drivers_currency
from carbonbudget.regions.budget import RegionTree, gdp_column
from carbonbudget.regions.drivers import (
    driver_columns,
    industry_column,
    like_for_like_codes,
    like_for_like_total,
    read_drivers,
    with_drivers,
)
from carbonbudget.science.balance import POPULATION_COLUMN
from carbonbudget.science.decomposition import decompose_fuels, decompose_regions

log = logging.getLogger(__name__)


def _period(settings: dict, years: list[int]) -> tuple[tuple[int, int], list[int]]:
    """The first and last year decomposed (``decomposition.years``, else the run's) and the
    run's years between them."""
    first, last = settings.get("years") or (years[0], years[-1])
    return (first, last), [y for y in years if first <= y <= last]


def rh_parts_by_level(
    parts: pd.DataFrame, tree: RegionTree, levels: list[str]
) -> dict[str, pd.DataFrame]:
    """The finest regions' totals of the RH terms (code, year, ``rh_temperature_tgc``,
    ``rh_precipitation_tgc``) summed to each of ``levels`` (levels and groupings of ``tree``,
    and the study area) as the budget sums RH: a parent from its members, unknown (NaN) only
    where every member is."""
    columns = [c for c in parts.columns if c.startswith("rh_") and c.endswith("_tgc")]
    codes = tree.codes()
    merged = parts.merge(codes, left_on="code", right_on=f"{tree.finest}_code", how="left")
    merged["study_area_code"] = "all"
    out = {}
    for level in levels:
        key = f"{level}_code"
        summed = merged.groupby([key, "year"])[columns].sum(min_count=1).reset_index()
        out[level] = summed.rename(columns={key: "code"})
    return out


def decomposition_tables(
    budgets: dict[str, str],
    levels: list[str],
    currency: str | None,
    settings: dict,
    years: list[int],
    rh_parts: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The decomposition table of each of ``levels`` from the budget tables (level -> path; the
    drivers' level must be among them).
    ``currency``: that of the socio-economic table, whose population and GDP every level
    carries; else ``settings`` (the ``decomposition`` section) may give ``drivers`` for one
    level, which then also make the study area (the like-for-like sum over that level's
    regions). ``settings["years"]`` limits the period. ``rh_parts``: each level's RH terms
    (:func:`rh_parts_by_level`), which split its ΔRH."""
    period, span = _period(settings, years)
    spec: dict = settings.get("drivers") or {}
    driven = None  # the drivers' level with their population and GDP, read once
    if spec and not currency:
        driven = with_drivers(pd.read_parquet(budgets[spec["level"]]), read_drivers(spec, years))
    out = {}
    for level in levels:
        gdp, cur = (gdp_column(currency), currency) if currency else (None, "")
        if driven is None or level not in (spec["level"], "study_area"):
            budget = pd.read_parquet(budgets[level])
        else:
            cur = drivers_currency(spec)
            gdp = gdp_column(cur)  # the study area: the like-for-like sum of the drivers' level
            budget = driven
            if level == "study_area":
                budget = like_for_like_total(budget, span)
        parts = (rh_parts or {}).get(level)
        industry = industry_column(cur) if cur else None
        table = decompose_regions(budget, gdp, cur.lower(), period, parts, industry)
        table.insert(0, "level", level)
        out[level] = table
        log.info(
            "%s: change of the balance decomposed for %d regions", level, len(set(table["code"]))
        )
    return out


def fuel_table(
    budget_path: str,
    by_fuel: pd.DataFrame,
    currency: str | None,
    settings: dict,
    years: list[int],
) -> pd.DataFrame:
    """The decomposition of a level's CO2 by fuel (code, year, fuel, energy_tj, co2_tgco2),
    with the population and GDP of its budget table (``currency``: of the socio-economic
    table) or of ``settings["drivers"]`` for that level; and of the study area (code "all"),
    the sum over the regions with CO2, population and GDP in every year of the period."""
    period, span = _period(settings, years)
    budget = pd.read_parquet(budget_path)
    spec: dict = settings.get("drivers") or {}
    if not currency:
        currency = drivers_currency(spec)
        budget = with_drivers(budget, read_drivers(spec, years))
    gdp = gdp_column(currency)
    by_fuel = by_fuel[by_fuel["year"].isin(span)]
    # the study area: like for like over the regions with every value in every year
    co2 = by_fuel.groupby(["code", "year"])["co2_tgco2"].sum().rename("ce_tgco2").reset_index()
    social = budget[["code", "year", *driver_columns(budget)]]
    codes = like_for_like_codes(co2.merge(social, on=["code", "year"], how="left"), span)
    total_fuel = (
        by_fuel[by_fuel["code"].isin(codes)]
        .groupby(["year", "fuel"], as_index=False)[["energy_tj", "co2_tgco2"]]
        .sum()
        .assign(code="all")
    )
    total_social = (
        social[social["code"].isin(codes)]
        .groupby("year", as_index=False)[[gdp, POPULATION_COLUMN]]
        .sum()
        .assign(code="all")
    )
    table = decompose_fuels(
        pd.concat([budget, total_social], ignore_index=True),
        pd.concat([by_fuel, total_fuel], ignore_index=True),
        gdp,
        currency.lower(),
        period,
    )
    level = str(budget["level"].iloc[0]) if "level" in budget else ""
    table.insert(0, "level", [level if c != "all" else "study_area" for c in table["code"]])
    names = budget.groupby("code")["name"].first() if "name" in budget else pd.Series(dtype=str)
    names["all"] = (
        f"study area (the {len(codes)} of {by_fuel['code'].nunique()} regions with "
        "CO2 by fuel, population and GDP)"
    )
    table.insert(2, "name", table["code"].map(names).to_numpy())
    return table
