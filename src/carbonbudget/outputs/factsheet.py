"""One page per region of a level, to print or send: its numbers, its rank among the level's
regions, where it lies and how its budget changed. Each page is a self-contained HTML file
(its two figures embedded), so it opens offline and prints on one page from any browser.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carbonbudget.core.io import atomic_output
from carbonbudget.outputs.figures import (
    period_words,
    plot_geometries,
    pyplot,
    typeset,
    typeset_figure,
    words,
)
from carbonbudget.outputs.palette import BAD, GOOD, NEUTRAL, STATUS_COLOURS
from carbonbudget.outputs.report import TABLE_STYLE, format_value
from carbonbudget.outputs.tables import add_flux_densities, period_means
from carbonbudget.regions.hierarchy import read_display_polygons

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

# the series a sheet charts and states: (column, label), the balance where ECS is known
WITH_ECS = [("ecs_tgco2", "ECS"), ("ce_tgco2", "CE"), ("cnc_tgco2", "CNC = ECS − CE")]
WITHOUT_ECS = [("rcs_tgco2", "RCS"), ("ce_tgco2", "CE")]
SERIES_COLOURS = {"ecs_tgco2": GOOD[2], "rcs_tgco2": GOOD[1], "ce_tgco2": BAD[2], "cnc_tgco2": "k"}


def _png(fig) -> str:
    """A figure as a base64 PNG data URI (no timestamp in it), closed."""
    buf = io.BytesIO()
    typeset_figure(fig)
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None}, bbox_inches="tight")
    pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def locator_map(polys: gpd.GeoDataFrame, code: str) -> str:
    """The level's regions in grey, this one in the colour of its last status."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.2, 2.6))
    plot_geometries(polys, ax, color="#e6e6e6", edgecolor="#999999", linewidth=0.3)
    plot_geometries(
        polys[polys["code"] == code], ax, color="#333333", edgecolor="black", linewidth=0.6
    )
    ax.set_axis_off()
    ax.set_aspect("equal")
    return _png(fig)


def series_chart(series: pd.DataFrame, columns: list[tuple[str, str]], title: str) -> str:
    """The region's series per year (Tg CO₂ yr⁻¹), 0 marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 2.8))
    for col, label in columns:
        if col in series and series[col].notna().any():
            style = "o-" if col == "cnc_tgco2" else ".-"
            ax.plot(series["year"], series[col], style, color=SERIES_COLOURS[col], label=label)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("Tg CO₂ yr⁻¹")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def ranks(means: pd.DataFrame, column: str) -> pd.Series:
    """Rank of each region by ``column`` (1 = the largest), among the regions with a value."""
    return means[column].rank(ascending=False, method="min")


def _status_badge(status: object) -> str:
    if not isinstance(status, str):
        return "–"
    colour = STATUS_COLOURS.get(status, NEUTRAL)
    text = "#fff" if status in ("surplus", "deficit") else "#000"
    return f'<span style="background:{colour};color:{text};padding:1px 6px">{status}</span>'


def fact_sheet_html(
    name: str, rows: list[tuple[str, str]], map_uri: str, chart_uri: str, note: str
) -> str:
    """One region's page."""
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(name)}</title><style>"
        "body{font-family:sans-serif;font-size:13px;margin:16px;max-width:900px}"
        f"{TABLE_STYLE}table.cb th{{text-align:left}}"
        ".fig{display:flex;gap:12px;align-items:flex-start}@media print{body{margin:0}}"
        f"</style></head><body>\n<h2>{html.escape(name)}</h2>\n"
        f'<table class="cb">{table}</table>\n'
        f'<div class="fig"><img alt="where it lies" src="{map_uri}">'
        f'<img alt="the series" src="{chart_uri}"></div>\n'
        f"<p><small>{html.escape(note)}</small></p>\n</body></html>\n"
    )


def write_fact_sheets(
    *,
    path_regions: str,
    level: str,
    budget_path: str,
    trends_path: str | None,
    out_dir: str,
) -> list[str]:
    """One page per region of ``level`` in ``out_dir`` (``<code>.html``): the period means of
    the budget, CNC per km² and its rank among the level's regions (or CE and its rank in a run
    without ECS), the last year's status, the trend class, a locator map and the series.
    Returns the files written."""
    budget = pd.read_parquet(budget_path)
    with_ecs = "cnc_tgco2" in budget
    columns = WITH_ECS if with_ecs else WITHOUT_ECS
    dens = add_flux_densities(budget)
    ranked = "cnc_flux_tco2_km2" if with_ecs else "ce_tgco2"
    means = period_means(dens, list(dict.fromkeys([c for c, _ in columns] + [ranked])))
    rank = ranks(means, ranked)
    n = int(means[ranked].notna().sum())
    trends = (
        pd.read_csv(trends_path, dtype={"code": str}).set_index("code") if trends_path else None
    )
    trend_col = "cnc_tgco2_trend_class" if with_ecs else "ce_tgco2_trend_class"
    polys = read_display_polygons(path_regions, level)
    mapped = set(polys["code"])
    last = int(budget["year"].max())
    span = period_words(budget["year"])
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for code, series in budget.groupby("code", sort=True):
        series = series.sort_values("year")
        name = series["name"].iloc[0] if isinstance(series["name"].iloc[0], str) else code
        rows = [("Code", html.escape(str(code)))]
        for col, label in columns:
            value = means[col].get(code, np.nan) if col in means else np.nan
            rows.append((typeset(f"{label}, {span} (Tg CO2 yr⁻¹)"), format_value(value)))
        what = (
            "by CNC per km² (1 = the largest surplus or the smallest deficit)"
            if with_ecs
            else "by CE (1 = the largest emitter)"
        )
        position = rank.get(code, np.nan)
        rows.append(
            (
                f"Rank among the {n} regions of the {words(level)} level {what}",
                "–" if not np.isfinite(position) else f"{int(position)}",
            )
        )
        if "status" in series:
            status = series.loc[series["year"] == last, "status"]
            rows.append((f"Status {last}", _status_badge(status.iloc[0] if len(status) else None)))
        if trends is not None and code in trends.index and trend_col in trends:
            rows.append(
                (f"Trend class, {span.replace('mean ', '')}", str(trends.loc[code, trend_col]))
            )
        chart = series_chart(series, columns, f"{name}: budget per year")
        page = fact_sheet_html(
            f"{name} ({words(level)})",
            rows,
            locator_map(polys, code) if code in mapped else "",
            chart,
            typeset(
                "Period means over the years with a value every year; Tg CO2 = Mt CO2. Method "
                "and units: the project's method documentation."
            ),
        )
        path = os.path.join(out_dir, f"{code}.html")
        with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            fh.write(page)
        written.append(path)
    log.info("%d fact sheets of %s written", len(written), level)
    return written
