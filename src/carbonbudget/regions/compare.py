"""Two emission sources side by side (``emission_compare``): a second table or a gridded
inventory summed to every level as the emission table is, and set against it region by
region and year by year (as the IPCC Tier 1 estimate is: :func:`carbonbudget.science.tier1.
compare_inventory`).
"""

from __future__ import annotations

import pandas as pd

from carbonbudget.regions.budget import EmissionMatch, RegionTree, matched_emissions
from carbonbudget.regions.emissions import sum_emissions
from carbonbudget.science.balance import STUDY_AREA
from carbonbudget.science.tier1 import compare_inventory

# the comparison's columns as this table names them (a difference, not an error: neither
# source is the truth)
RENAMED = {
    "region": "code",
    "abs_error_tgco2": "abs_diff_tgco2",
    "rel_error": "rel_diff",
    "mean_abs_rel_error": "mean_abs_rel_diff",
}


def compare_sources(
    tables: dict[str, pd.DataFrame],
    compare: dict,
    regions: RegionTree,
    match: EmissionMatch,
) -> dict[str, pd.DataFrame]:
    """Per level of ``tables`` (the budget tables): the emission table's CE (``ce_tgco2``) and
    the second source's (``compare_tgco2``, summed up the hierarchy by the emission table's
    rules) for ``compare["years"]``, their difference (second − table) and its share of the
    table's CE, the share of the region's area whose table CE is known
    (``ce_known_area_fraction``: a parent lacking members compares unlike totals), and per
    year a row ``all`` with both totals over the regions that have both and the mean absolute
    relative difference over them (``n_regions``). The study area is that row of the finest
    level: like for like, over the finest regions with both."""
    table_cfg = compare["table"]
    em = matched_emissions(table_cfg, compare["years"], regions, match)
    out = {}
    for level, budget in tables.items():
        if level == STUDY_AREA:
            continue
        key = f"{level}_code"
        second = sum_emissions(em, key, table_cfg["gaps"])
        second = second.rename(columns={key: "region", "ce_tgco2": "co2_tgco2"})
        first = budget[budget["year"].isin(compare["years"])]
        first = first[["code", "year", "ce_tgco2"]].rename(
            columns={"code": "region", "ce_tgco2": "co2_tgco2"}
        )
        t = compare_inventory(
            second[["region", "year", "co2_tgco2"]],
            first,
            ours_label="compare",
            reference_label="ce",
        ).rename(columns=RENAMED)
        names = budget.drop_duplicates("code").set_index("code")["name"]
        t.insert(1, "name", t["code"].map(names))
        if "ce_known_area_fraction" in budget:
            known = budget.set_index(["code", "year"])["ce_known_area_fraction"]
            t["ce_known_area_fraction"] = known.reindex(
                pd.MultiIndex.from_frame(t[["code", "year"]])
            ).to_numpy()
        t.insert(0, "source", compare["name"])
        t.insert(0, "level", level)
        out[level] = t[
            ["level", "source", "code", "name", "year", "ce_tgco2", "compare_tgco2"]
            + [c for c in t.columns if c.endswith(("_diff_tgco2", "_diff", "n_regions"))]
            + [c for c in t.columns if c == "ce_known_area_fraction"]
        ]
    if STUDY_AREA in tables:
        finest = out[regions.finest]
        total = finest[finest["code"] == "all"].drop(columns=["mean_abs_rel_diff", "n_regions"])
        n = finest.loc[finest["code"] == "all", "n_regions"]
        out[STUDY_AREA] = total.assign(
            level=STUDY_AREA,
            name=[f"study area (the {int(k)} {regions.finest} regions with both)" for k in n],
        ).drop(columns=["ce_known_area_fraction"], errors="ignore")
    return out
