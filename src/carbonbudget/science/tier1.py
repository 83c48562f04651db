"""Emission accounting by the IPCC Tier 1 method and comparison with an inventory
(docs/method.md, "Emissions accounting").

    CO2 = Σ_fuels E_i · NCV_i · EF_i        (Zhang et al. 2022, Eq. 1; IPCC 2006 GL Vol. 2 Ch. 1)

E_i: fuel consumption in physical units; NCV_i: net calorific value, TJ per unit of fuel;
EF_i: CO2 emission factor, kg CO2 per TJ. The shipped factor table
(``config/ipcc_tier1_factors.csv``) has the IPCC 2006 defaults (Vol. 2 Tables 1.2 and 1.4) for
the 14 fuels of Zhang et al. 2022, each with its source; users may give their own (e.g.
China-specific NCVs,
or factors per volume for gases). A fuel missing from the factor table, or consumption in a unit
that cannot be converted to the unit the NCV is given per (mass against volume), is an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.io import read_table

# consumption units -> factor to the base unit of their kind (mass: Gg = kt; volume: 10^8 m3)
MASS_UNITS = {"t": 1e-3, "kt": 1.0, "Gg": 1.0, "10^4 t": 10.0, "Mt": 1e3, "Tg": 1e3}
VOLUME_UNITS = {"m3": 1e-8, "10^4 m3": 1e-4, "10^8 m3": 1.0, "Mm3": 1e-2, "bcm": 10.0}
FACTOR_COLUMNS = ["fuel", "ncv_tj", "ncv_per", "ef_co2_kg_per_tj", "source"]


def _unit_kind(unit: str):
    if unit in MASS_UNITS:
        return "mass", MASS_UNITS[unit]
    if unit in VOLUME_UNITS:
        return "volume", VOLUME_UNITS[unit]
    return None, None


def read_factors(path: str, variable: str = "emissions_accounting.factors") -> pd.DataFrame:
    """A Tier 1 factor table: one row per fuel with ``ncv_tj`` (TJ per ``ncv_per`` of fuel),
    ``ef_co2_kg_per_tj`` and a non-empty ``source``; errors name ``variable``, the key that
    gives the table."""
    tab = read_table(path, variable, dtype={"fuel": str, "ncv_per": str, "source": str})
    missing = [c for c in FACTOR_COLUMNS if c not in tab.columns]
    if missing:
        raise InputDataError(
            f"factor table lacks columns {missing} (has {list(tab.columns)})",
            path=path,
            variable=variable,
            fix=f"give columns {FACTOR_COLUMNS}",
        )
    no_source = tab.loc[tab["source"].fillna("").str.strip() == "", "fuel"].tolist()
    if no_source:
        raise InputDataError(
            f"fuels {no_source} have no source",
            path=path,
            variable=variable,
            fix="say where every factor comes from in the 'source' column",
        )
    bad_unit = tab.loc[tab["ncv_per"].map(lambda u: _unit_kind(u)[0] is None), "ncv_per"]
    if len(bad_unit):
        raise InputDataError(
            f"unknown units {sorted(set(bad_unit))} in ncv_per",
            path=path,
            variable=variable,
            fix=f"use one of {sorted(MASS_UNITS) + sorted(VOLUME_UNITS)}",
        )
    if tab["fuel"].duplicated().any():
        raise InputDataError(
            f"fuels listed twice: {sorted(tab.loc[tab['fuel'].duplicated(), 'fuel'])}",
            path=path,
            variable=variable,
            fix="one row per fuel",
        )
    if (tab[["ncv_tj", "ef_co2_kg_per_tj"]] <= 0).any().any():
        raise InputDataError(
            "NCV and EF must be positive",
            path=path,
            variable=variable,
            fix="check the values",
        )
    return tab


def tier1_co2(consumption: pd.DataFrame, factors: pd.DataFrame, *, path: str = "") -> pd.DataFrame:
    """Tier 1 CO2 per region, year and fuel.

    ``consumption``: columns region, year, fuel, amount, unit (physical units of
    :data:`MASS_UNITS` or :data:`VOLUME_UNITS`). Returns the rows with ``energy_tj`` and
    ``co2_tgco2`` added (kg → Tg: × 1e-9)."""
    need = ["region", "year", "fuel", "amount", "unit"]
    missing = [c for c in need if c not in consumption.columns]
    if missing:
        raise InputDataError(
            f"consumption table lacks columns {missing}",
            path=path,
            variable="emissions_accounting.consumption",
            fix=f"give columns {need}",
        )
    unknown = sorted(set(consumption["fuel"]) - set(factors["fuel"]))
    if unknown:
        raise InputDataError(
            f"fuels {unknown} are not in the factor table (it has {sorted(factors['fuel'])})",
            path=path,
            variable="emissions_accounting.consumption",
            fix="rename them to a fuel of the factor table, or add their NCV "
            "and EF (with a source) to your own factor table",
        )
    df = consumption.merge(
        factors[["fuel", "ncv_tj", "ncv_per", "ef_co2_kg_per_tj"]], on="fuel", how="left"
    )
    kind_in = df["unit"].map(lambda u: _unit_kind(u)[0])
    kind_base = df["ncv_per"].map(lambda u: _unit_kind(u)[0])
    bad = df[kind_in.isna()]
    if len(bad):
        raise InputDataError(
            f"unknown consumption units {sorted(set(bad['unit']))}",
            path=path,
            variable="emissions_accounting.consumption",
            fix=f"use one of {sorted(MASS_UNITS) + sorted(VOLUME_UNITS)}",
        )
    clash = df[kind_in != kind_base]
    if len(clash):
        pairs = sorted(
            {(f, u, p) for f, u, p in zip(clash["fuel"], clash["unit"], clash["ncv_per"])}
        )
        raise InputDataError(
            "unit mismatch: " + "; ".join(f"{f} given in {u}, NCV per {p}" for f, u, p in pairs),
            path=path,
            variable="emissions_accounting.consumption",
            fix="convert the amounts (a gas volume to mass with its density), or supply a "
            "factor table whose NCV is per that unit",
        )
    if (df["amount"] < 0).any():
        raise InputDataError(
            "negative fuel consumption",
            path=path,
            variable="emissions_accounting.consumption",
            fix="check the amount column",
        )
    to_base = df["unit"].map(lambda u: _unit_kind(u)[1]) / df["ncv_per"].map(
        lambda u: _unit_kind(u)[1]
    )
    out = df[need].copy()
    out["energy_tj"] = df["amount"] * to_base * df["ncv_tj"]
    out["co2_tgco2"] = out["energy_tj"] * df["ef_co2_kg_per_tj"] * 1e-9
    return out.sort_values(["region", "year", "fuel"]).reset_index(drop=True)


def tier1_totals(per_fuel: pd.DataFrame) -> pd.DataFrame:
    """Tier 1 CO2 per region and year (sum over fuels)."""
    return per_fuel.groupby(["region", "year"], sort=True)["co2_tgco2"].sum().reset_index()


def compare_inventory(
    ours: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    ours_label: str = "tier1",
    reference_label: str = "inventory",
) -> pd.DataFrame:
    """Side by side per region and year (as Zhang et al. 2022, Table 1): both values (Tg CO2),
    absolute
    error (ours − reference) and relative error (÷ reference), plus a summary row per year
    (region ``all``: the totals, and ``mean_abs_rel_error`` over the regions). Both frames have
    region, year, co2_tgco2; regions present in only one of them are kept with NaN errors."""
    a = ours.rename(columns={"co2_tgco2": f"{ours_label}_tgco2"})
    b = reference.rename(columns={"co2_tgco2": f"{reference_label}_tgco2"})
    t = a.merge(b, on=["region", "year"], how="outer")
    x, y = t[f"{ours_label}_tgco2"], t[f"{reference_label}_tgco2"]
    t["abs_error_tgco2"] = x - y
    with np.errstate(divide="ignore", invalid="ignore"):
        t["rel_error"] = np.where(y > 0, (x - y) / y, np.nan)
    t = t.sort_values(["year", "region"]).reset_index(drop=True)
    summary = []
    for year, g in t.groupby("year", sort=True):
        both = g.dropna(subset=[f"{ours_label}_tgco2", f"{reference_label}_tgco2"])
        sx, sy = both[f"{ours_label}_tgco2"].sum(), both[f"{reference_label}_tgco2"].sum()
        summary.append(
            {
                "region": "all",
                "year": year,
                f"{ours_label}_tgco2": sx,
                f"{reference_label}_tgco2": sy,
                "abs_error_tgco2": sx - sy,
                "rel_error": (sx - sy) / sy if sy > 0 else np.nan,
                "mean_abs_rel_error": float(np.nanmean(np.abs(both["rel_error"])))
                if len(both)
                else np.nan,
                "n_regions": len(both),
            }
        )
    return pd.concat([t, pd.DataFrame(summary)], ignore_index=True)


def read_consumption(acc_cfg: dict) -> pd.DataFrame:
    """The fuel-use table of the ``emissions_accounting`` section as (region, year, fuel,
    amount, unit), the columns named as the section says."""
    path = acc_cfg["consumption"]
    raw = read_table(path, "emissions_accounting.consumption", dtype={acc_cfg["region_col"]: str})
    cols = {
        acc_cfg["region_col"]: "region",
        acc_cfg["year_col"]: "year",
        acc_cfg["fuel_col"]: "fuel",
        acc_cfg["amount_col"]: "amount",
        acc_cfg["unit_col"]: "unit",
    }
    missing = [c for c in cols if c not in raw.columns]
    if missing:
        raise InputDataError(
            f"columns {missing} not found (columns: {list(raw.columns)})",
            path=path,
            variable="emissions_accounting",
            fix="set emissions_accounting.region_col/year_col/fuel_col/amount_col/unit_col",
        )
    return raw.rename(columns=cols)[list(cols.values())]
