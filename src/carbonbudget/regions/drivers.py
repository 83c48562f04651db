"""Population and GDP of one level from tables of its own (``decomposition.drivers``): the
factors of the emission decomposition where the socio-economic table of the finest regions
lacks them (a country's provinces from its statistical yearbook and the World Bank); and CO2 by
fuel of that level (``decomposition.co2_by_fuel``, a provincial inventory), whose energy the
IPCC factors give back.

Cells are read as text and converted by :func:`carbonbudget.core.io.parse_numbers`, so an
empty or misspelt cell is an error naming its line, never a silent 0.
"""

from __future__ import annotations

import pandas as pd

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.io import read_text_table
from carbonbudget.regions.budget import POPULATION_UNITS, gdp_column, read_region_years
from carbonbudget.regions.emissions import EMISSION_UNITS
from carbonbudget.science.balance import GDP_PREFIX, POPULATION_COLUMN
from carbonbudget.science.decomposition import PROCESS, URBAN_COLUMN
from carbonbudget.science.tier1 import read_factors

VARIABLE = "decomposition.drivers"
FUEL_VARIABLE = "decomposition.co2_by_fuel"
URBANISATION_UNITS = {"percent": 100.0, "share": 1.0}
URBAN_SHARE = "_urban_share"  # read, then turned into the urban population


def _columns(df: pd.DataFrame, wanted: list[str], path: str, fix: str) -> None:
    absent = [c for c in wanted if c not in df.columns]
    if absent:
        raise InputDataError(
            f"columns {absent} not found (columns: {list(df.columns)})",
            path=path,
            variable=VARIABLE,
            fix=fix,
        )


def read_names(spec: dict) -> dict[str, str]:
    """{name: code} of ``decomposition.drivers.names``."""
    path = spec["path"]
    df = read_text_table(path, VARIABLE)
    _columns(df, [spec["name_col"], spec["code_col"]], path, "set names.name_col and code_col")
    return dict(zip(df[spec["name_col"]].str.strip(), df[spec["code_col"]].str.strip()))


def _one_table(table: dict, names: dict[str, str] | None, years: list[int]) -> pd.DataFrame:
    """One driver table as (code, year) -> its population (persons) and GDP (currency units)
    for ``years`` (:func:`carbonbudget.regions.budget.read_region_years`)."""
    keys = ("population_col", "gdp_col", "urbanisation_col", "industry_gdp_col")
    values: dict[str, str] = {c: table[c] for c in keys if table.get(c)}
    out = read_region_years(
        table["path"],
        table["region_col"],
        table["year_col"],
        list(values.values()),
        years,
        variable=VARIABLE,
        fix_columns="set region_col, year_col, population_col and gdp_col of the table to its "
        "columns",
        names=(
            (names, "add each name, as this table spells it, to decomposition.drivers.names")
            if names is not None
            else None
        ),
        # a bad cell is named by the region as the file writes it (a name, with drivers.names)
        region_label="region",
    )
    # each value column in its unit: persons, and units of the currency
    if "population_col" in values:
        unit = POPULATION_UNITS[table.get("population_unit", "persons")]
        out[POPULATION_COLUMN] = out.pop(values["population_col"]) * unit
    if "gdp_col" in values:
        scale = float(table.get("gdp_scale", 1.0))
        out[gdp_column(table["gdp_currency"])] = out.pop(values["gdp_col"]) * scale
        if "industry_gdp_col" in values:
            out[industry_column(table["gdp_currency"])] = (
                out.pop(values["industry_gdp_col"]) * scale
            )
    if "urbanisation_col" in values:
        share = (
            out.pop(values["urbanisation_col"])
            / URBANISATION_UNITS[table.get("urbanisation_unit", "percent")]
        )
        bad = ~share.between(0.0, 1.0)
        if bad.any():
            raise InputDataError(
                f"urbanisation outside 0-100 % for {sorted(out.loc[bad, 'code'].unique())[:10]}",
                path=table["path"],
                variable=VARIABLE,
                fix="set urbanisation_unit to what the column holds (percent or share)",
            )
        out[URBAN_SHARE] = share
    return out.set_index(["code", "year"])


def read_drivers(spec: dict, years: list[int]) -> pd.DataFrame:
    """The population (``population_persons``) and GDP (``gdp_<currency>``) of each region
    (``code``) and year of ``years``, joined from the tables of ``decomposition.drivers``;
    NaN where a table has no row."""
    names = read_names(spec["names"]) if spec.get("names") else None
    tables = [_one_table(t, names, years) for t in spec["tables"]]
    out = pd.concat(tables, axis=1).sort_index()
    if URBAN_SHARE in out:  # as persons, so that parents sum it
        out[URBAN_COLUMN] = out.pop(URBAN_SHARE) * out[POPULATION_COLUMN]
    return out.reset_index()


def read_co2_by_fuel(spec: dict, names_spec: dict | None, years: list[int]) -> pd.DataFrame:
    """The table of ``decomposition.co2_by_fuel`` (one row per region and year, a column of CO2
    per fuel) as (code, year, fuel, energy_tj, co2_tgco2) for ``years``: CO2 in Tg CO2 from
    ``units``, each fuel column's energy E_f = CO2_f / EF_f at the CO2 emission factor of the
    factor table's fuel it maps to (``fuels``: column -> fuel); ``process_col`` as fuel
    :data:`PROCESS` without energy. Region names go through ``names_spec`` (drivers.names)
    where ``by_name``. A negative or missing value is an error naming its cell."""
    path, fuels = spec["path"], dict(spec["fuels"])
    process = spec.get("process_col")
    columns = [*fuels, *([process] if process else [])]
    names = None
    if spec.get("by_name"):
        if not names_spec:
            raise InputDataError(
                "by_name: true needs a names table",
                path=path,
                variable=FUEL_VARIABLE,
                fix="give decomposition.drivers.names, or set by_name: false for codes",
            )
        names = (read_names(names_spec), "add each name to decomposition.drivers.names")
    table = read_region_years(
        path,
        spec["region_col"],
        spec["year_col"],
        columns,
        years,
        variable=FUEL_VARIABLE,
        fix_columns="set region_col, year_col, the keys of fuels and process_col to its columns",
        names=names,
        region_label="region",
    )
    negative = [c for c in columns if (table[c] < 0).any()]
    if negative:
        raise InputDataError(
            f"negative CO2 in columns {negative}",
            path=path,
            variable=FUEL_VARIABLE,
            fix="CO2 by fuel cannot be negative: check the columns the fuels map to",
        )
    ef = read_factors(spec["factors"], f"{FUEL_VARIABLE}.factors").set_index("fuel")[
        "ef_co2_kg_per_tj"
    ]
    unknown = sorted(set(fuels.values()) - set(ef.index))
    if unknown:
        raise InputDataError(
            f"fuels {unknown} are not in the factor table (it has {sorted(ef.index)})",
            path=spec["factors"],
            variable=f"{FUEL_VARIABLE}.fuels",
            fix="map each column to a fuel of the factor table, or add the fuel's row to it",
        )
    scale = EMISSION_UNITS[spec["units"]]
    long = table.melt(id_vars=["code", "year"], var_name="column", value_name="co2")
    long["co2_tgco2"] = long["co2"] * scale
    long["fuel"] = long["column"].map(lambda c: PROCESS if c == process else c)
    factor = long["column"].map(fuels).map(ef)  # kg CO2 per TJ; NaN for process
    long["energy_tj"] = (long["co2_tgco2"] * 1e9 / factor).where(long["fuel"] != PROCESS, 0.0)
    return long[["code", "year", "fuel", "energy_tj", "co2_tgco2"]].sort_values(
        ["code", "year", "fuel"], ignore_index=True
    )


def with_drivers(budget: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """A level's budget table with the drivers' population and GDP in place of its own."""
    columns = [c for c in drivers.columns if c not in ("code", "year")]
    kept = budget.drop(columns=[c for c in columns if c in budget])
    return kept.merge(drivers, on=["code", "year"], how="left")


def industry_column(currency: str) -> str:
    """The budget-table column of the GDP of industry (the secondary sector) in ``currency``."""
    return f"industry_{gdp_column(currency)}"


def driver_columns(table: pd.DataFrame) -> list[str]:
    """The population and GDP columns of a budget table, with the urban population and the GDP
    of industry where the drivers give them."""
    return [
        c
        for c in table.columns
        if c in (POPULATION_COLUMN, URBAN_COLUMN)
        or c.startswith((GDP_PREFIX, f"industry_{GDP_PREFIX}"))
    ]


def like_for_like_codes(budget: pd.DataFrame, years: list[int]) -> list[str]:
    """The regions of a level's table with CE (``ce_tgco2``), population and GDP known in
    every one of ``years``."""
    columns = ["ce_tgco2", *driver_columns(budget)]
    span = budget[budget["year"].isin(years)]
    known = span.set_index(["code", "year"])[columns].notna().all(axis=1)
    counts = known.groupby(level="code").sum()
    return sorted(counts[counts == len(years)].index)


def like_for_like_total(budget: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """The study area as the sum over a level's regions that have CE, population and GDP in
    every one of ``years`` (one set of regions for every year: a region joining the sum in
    one year would read as growth); its ``name`` says how many regions it holds."""
    columns = ["ce_tgco2", *driver_columns(budget)]
    span = budget[budget["year"].isin(years)]
    codes = like_for_like_codes(budget, years)
    total = span[span["code"].isin(codes)].groupby("year")[columns].sum().reset_index()
    n, of = len(codes), budget["code"].nunique()
    total.insert(0, "name", f"study area (the {n} of {of} regions with CE, population and GDP)")
    total.insert(0, "code", "all")
    return total
