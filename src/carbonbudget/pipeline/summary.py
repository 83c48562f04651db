"""What a finished run tells its user on the terminal: where the outputs are, what to open first,
and the study area's headline numbers (read back from the published tables, so the summary
says exactly what the files say)."""

from __future__ import annotations

import math
import os

import pandas as pd

from carbonbudget.pipeline.publish import MANIFEST


def _fmt(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:,.2f}"


def run_summary(results: str, levels: list[str], since: float | None = None) -> list[str]:
    """The closing lines of a successful run over the published folder ``results``, with the
    region ``levels`` finest first. Only files that exist are listed. With ``since`` (a time
    stamp), nothing unless the results were published after it: a run that only checked the
    inputs (``make check``) or found nothing to do does not describe older results as new."""
    manifest = os.path.join(results, MANIFEST)
    if since is not None and (not os.path.exists(manifest) or os.path.getmtime(manifest) < since):
        return []
    lines = [f"carbonbudget: finished; results in {results}/"]

    def there(rel: str) -> str | None:
        return rel if os.path.exists(os.path.join(results, rel)) else None

    # the first map of the finest level, in whichever format outputs.maps.format chose
    maps = [
        (there(f"figures/maps/{kind}_{levels[0]}.{ext}"), f"{what} per {levels[0]} (map)")
        for kind, what in (("cnc", "carbon neutral capacity"), ("ce", "carbon emissions"))
        for ext in ("png", "svg", "pdf")
    ]
    opens = [
        next((m for m in maps if m[0]), (None, "")),
        (there("gis/carbon_budget.gpkg"), "every level, year and statistic (QGIS, GDAL)"),
        (there("tables/budget_study_area.csv"), "the study area's budget per year"),
        (there(f"tables/budget_{levels[0]}.csv"), f"the budget of every {levels[0]} and year"),
        (there("pixels"), "per-pixel rasters (Cloud-Optimised GeoTIFFs; units in each file)"),
        (there("provenance.json"), "inputs, their digests, versions and settings"),
    ]
    lines.append("  open first:")
    lines += [f"    {os.path.join(results, p)}  — {why}" for p, why in opens if p]
    path = os.path.join(results, "tables/budget_study_area.csv")
    if not os.path.exists(path):
        return lines
    study = pd.read_csv(path).sort_values("year")
    balance = "cnc_tgco2" in study
    # a run without ECS (RCS and CE alone) says its numbers too
    shown = ["ecs_tgco2", "ce_tgco2", "cnc_tgco2"] if balance else ["rcs_tgco2", "ce_tgco2"]
    shown = [c for c in shown if c in study]
    have = study.dropna(subset=shown[-1:])
    if have.empty or not shown:
        return lines
    last = have.iloc[-1]
    year = int(last["year"])
    said = [last["status"]] if isinstance(last.get("status"), str) else []
    share = float(last.get("valid_fraction", 1.0))
    if share < 0.995:  # the sink rests on part of the area: said beside the numbers
        where = "status_note" if "status_note" in study else "valid_fraction"
        said.append(
            f"the sink is known on {100 * share:.0f} % of the study area: {where} in "
            "tables/budget_study_area.csv"
        )
    ce_share = float(last.get("ce_known_area_fraction", 1.0))
    if ce_share < 0.995:  # CE leaves out members the emission table lacks
        said.append(
            f"CE is known on {100 * ce_share:.0f} % of the study area: members without "
            "emissions are left out (ce_known_area_fraction in the budget tables)"
        )
    state = f" ({'; '.join(said)})" if said else ""
    names = {"ecs_tgco2": "ECS", "ce_tgco2": "CE", "cnc_tgco2": "CNC", "rcs_tgco2": "RCS"}
    lines.append(
        f"  study area {year}: "
        + ", ".join(f"{names[c]} {_fmt(last[c])} Tg CO2 yr-1" for c in shown)
        + state
    )
    if not balance:
        return lines
    finest = os.path.join(results, f"tables/budget_{levels[0]}.csv")
    if os.path.exists(finest):
        regions = pd.read_csv(finest, usecols=["year", "status"])
        status = regions.loc[regions["year"] == year, "status"].fillna("no status")
        counts = status.value_counts().sort_index()
        parts = ", ".join(f"{n} {s}" for s, n in counts.items())
        lines.append(f"  {levels[0]} {year}: {len(status)} regions ({parts})")
    return lines
