"""Inequality inside each parent region (docs/method.md, "Spatial statistics"): the Gini
coefficients of :mod:`carbonbudget.science.spatial` of a variable over the members of every
region of a parent level, for the period mean and each year.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from carbonbudget.regions.hierarchy import level_table
from carbonbudget.science.spatial import MEAN_PERIOD, gini_table, period_values


def gini_by_parent(
    regions: gpd.GeoDataFrame,
    levels: list[str],
    member_budget: pd.DataFrame,
    *,
    parent: str,
    members: str,
    variables: list[str],
    tolerance: float,
) -> pd.DataFrame:
    """Gini tables of each variable inside every ``parent`` region over its ``members``, for the
    period mean and each year. ``tolerance`` (balance.tolerance_tgco2) defines 'neutral' for
    CNC in Tg CO2; other variables use 0."""
    hier = level_table(regions, levels, members)[[f"{members}_code", f"{parent}_code"]]
    parent_names = level_table(regions, levels, parent).set_index(f"{parent}_code")[
        f"{parent}_name"
    ]
    out = []
    for variable in variables:
        wide = period_values(member_budget, variable)
        long = wide.reset_index().melt(id_vars="code", var_name="period", value_name="value")
        long = long.merge(hier, left_on="code", right_on=f"{members}_code")
        tol = tolerance if variable == "cnc_tgco2" else 0.0
        tab = gini_table(
            long,
            parent_col=f"{parent}_code",
            value_col="value",
            period_col="period",
            tolerance=tol,
        )
        tab.insert(0, "variable", variable)
        out.append(tab)
    table = pd.concat(out, ignore_index=True).rename(columns={f"{parent}_code": "code"})
    table.insert(2, "name", table["code"].map(parent_names))
    table.insert(3, "member_level", members)
    # periods in order: mean first, then years
    table["_o"] = (table["period"] != MEAN_PERIOD).astype(int)
    return (
        table.sort_values(["variable", "_o", "period", "code"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )
