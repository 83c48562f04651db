"""A web map a user shares as one file: the finest and the coarsest level as a self-contained
HTML page that opens offline from ``results/``.

The regions are inline SVG paths in the grid's equal-area CRS, coloured with the classes and
colours of the PNG maps of the same variable (:func:`carbonbudget.outputs.maps.budget_map_values`
and :func:`carbonbudget.outputs.classify.coloured_classes`, as the GeoPackage styles are); a
click shows the region's numbers and status. Leaflet and MapLibre need a tile server or their
scripts from the web (or a copy of them shipped with the package) and draw in Web Mercator,
which misstates areas: a choropleth of a few hundred regions needs neither, so the page is
written here with the standard library (a few lines of script switch the level and the
variable and show a region's numbers).
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carbonbudget.core.io import atomic_output
from carbonbudget.outputs import classify
from carbonbudget.outputs.figures import period_words, typeset, words
from carbonbudget.outputs.maps import budget_map_values
from carbonbudget.outputs.palette import BUDGET_MAPS
from carbonbudget.regions.hierarchy import read_display_polygons
from carbonbudget.science.balance import PARTIAL_BELOW

if TYPE_CHECKING:
    import geopandas as gpd

WIDTH = 900  # SVG units across the map; coordinates are rounded to 0.1 of them
NO_VALUE = "url(#novalue)"


def _ring(coords: np.ndarray, x0: float, y1: float, scale: float) -> str:
    pts = np.round((coords[:, :2] - [x0, y1]) * [scale, -scale], 1) + 0.0  # no "-0"
    return "M" + "L".join(f"{x:g},{y:g}" for x, y in pts) + "Z"


def svg_path(geometry, x0: float, y1: float, scale: float) -> str:
    """The SVG path of a (multi)polygon, y flipped (north up), from the map's top-left corner."""
    parts = getattr(geometry, "geoms", [geometry])
    rings = []
    for poly in parts:
        rings.append(_ring(np.asarray(poly.exterior.coords), x0, y1, scale))
        rings += [_ring(np.asarray(r.coords), x0, y1, scale) for r in poly.interiors]
    return "".join(rings)


def _colours(values: pd.Series, kind: str, maps: dict) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Each region's colour and the legend (label, colour) of a variable, as its PNG map."""
    _, _, cmap, centre, *_ = BUDGET_MAPS[kind]
    finite = values[np.isfinite(values)]
    classes = classify.coloured_classes(finite, maps["scheme"], maps["classes"], centre, cmap)
    colour = pd.Series(NO_VALUE, index=values.index, dtype=object)
    if classes:
        idx = classify.class_index(finite.to_numpy(), classes)
        colour[finite.index] = [classes[i][2] for i in idx]
    colour[np.isposinf(values)] = "#1a1a1a"
    legend = [(classify.class_label(lo, hi, i == 0), c) for i, (lo, hi, c) in enumerate(classes)][
        ::-1
    ]
    if np.isposinf(values).any():
        legend.append(("+inf: ECS ≤ 0", "#1a1a1a"))
    legend.append(("no value", NO_VALUE))
    return colour, legend


def _number(value: float) -> str:
    if not np.isfinite(value):
        return "+inf" if value > 0 else "–"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def level_layer(
    polys: gpd.GeoDataFrame,
    budget: pd.DataFrame,
    kinds: list[str],
    maps: dict,
    min_valid_fraction: float,
) -> tuple[list[dict], dict[str, list[tuple[str, str]]]]:
    """The regions of one level (code, name, path-less geometry, colour per variable, popup
    rows) and the legend of each variable."""
    means = budget_map_values(budget, kinds, True, min_valid_fraction)
    last = int(budget["year"].max())
    status = (
        budget[budget["year"] == last].set_index("code")["status"]
        if "status" in budget
        else pd.Series(dtype=object)
    )
    colours, legends = {}, {}
    for kind in kinds:
        col = BUDGET_MAPS[kind][1]
        colours[kind], legends[kind] = _colours(means[col].astype("float64"), kind, maps)
    regions = []
    names = budget.groupby("code")["name"].first()
    for code, geom in zip(polys["code"], polys.geometry):
        rows = [
            (
                typeset(f"{BUDGET_MAPS[k][4]}, per km²"),
                typeset(
                    f"{_number(means[BUDGET_MAPS[k][1]].get(code, np.nan))} {BUDGET_MAPS[k][6]}"
                ),
            )
            for k in kinds
        ]
        if code in status.index and isinstance(status[code], str):
            rows.append((f"Status {last}", status[code]))
        # a value resting on part of the area says so, as the PNG maps' hatches do
        sink = means["_valid"].get(code, np.nan)
        if np.isfinite(sink) and sink < PARTIAL_BELOW and any(k != "ce" for k in kinds):
            unknown = " (too little for a value)" if sink < min_valid_fraction else ""
            rows.append(("Sink known on", f"{100 * sink:.0f} % of the area{unknown}"))
        known = means["_ce_known"].get(code, np.nan)
        if np.isfinite(known) and known < PARTIAL_BELOW:
            rows.append(("CE known on", f"{100 * known:.0f} % of the area"))
        regions.append(
            {
                "code": code,
                "name": names.get(code, code) if isinstance(names.get(code), str) else code,
                "geometry": geom,
                "fill": {k: colours[k].get(code, NO_VALUE) for k in kinds},
                "rows": rows,
            }
        )
    return regions, legends


_SCRIPT = """
const data = JSON.parse(document.getElementById('cb-data').textContent);
const level = document.getElementById('cb-level'), variable = document.getElementById('cb-var');
const info = document.getElementById('cb-info'), legend = document.getElementById('cb-legend');
function draw() {
  for (const g of document.querySelectorAll('svg g.level'))
    g.style.display = g.dataset.level === level.value ? '' : 'none';
  for (const p of document.querySelectorAll('svg g.level path'))
    p.setAttribute('fill', p.dataset[variable.value]);
  const items = data.legends[level.value][variable.value];
  legend.innerHTML = '<b>' + data.titles[variable.value] + '</b><br>' + items.map(
    ([label, colour]) => '<span class="sw" style="background:' +
      (colour.startsWith('url') ? 'repeating-linear-gradient(45deg,#999 0 1px,#fff 1px 4px)'
       : colour) + '"></span>' + label).join('<br>');
}
document.querySelector('svg').addEventListener('click', e => {
  const p = e.target.closest('path');
  if (!p) return;
  const r = data.regions[p.dataset.code];
  info.innerHTML = '<b>' + r.name + '</b> (' + p.dataset.code + ')<table>' +
    r.rows.map(([k, v]) => '<tr><td>' + k + '</td><td>' + v + '</td></tr>').join('') +
    '</table>';
});
level.addEventListener('change', draw);
variable.addEventListener('change', draw);
draw();
"""


def web_map_html(layers: dict[str, tuple[list[dict], dict]], kinds: list[str], title: str) -> str:
    """The page: one SVG group per level, a level and a variable switch, the legend of the
    shown variable, the numbers of a clicked region."""
    geoms = [r["geometry"] for regions, _ in layers.values() for r in regions]
    bounds = np.array([g.bounds for g in geoms])
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
    scale = WIDTH / (x1 - x0)
    height = round((y1 - y0) * scale, 1)
    groups, popup, legends = [], {}, {}
    for i, (level, (regions, legend)) in enumerate(layers.items()):
        paths = []
        for r in regions:
            fills = "".join(f' data-{k}="{html.escape(c)}"' for k, c in r["fill"].items())
            paths.append(
                f'<path d="{svg_path(r["geometry"], x0, y1, scale)}" '
                f'data-code="{html.escape(str(r["code"]))}"{fills}>'
                f"<title>{html.escape(str(r['name']))}</title></path>"
            )
            popup[r["code"]] = {"name": r["name"], "rows": r["rows"]}
        hidden = "" if i == 0 else ' style="display:none"'
        groups.append(
            f'<g class="level" data-level="{html.escape(level)}"{hidden}>{"".join(paths)}</g>'
        )
        legends[level] = legend
    data = {
        "regions": popup,
        "legends": legends,
        "titles": {k: typeset(f"{BUDGET_MAPS[k][4]} ({BUDGET_MAPS[k][6]})") for k in kinds},
    }
    options_level = "".join(
        f'<option value="{html.escape(lv)}">{html.escape(words(lv))}</option>' for lv in layers
    )
    options_var = "".join(
        f'<option value="{k}">{html.escape(BUDGET_MAPS[k][4])}</option>' for k in kinds
    )
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;font-size:13px;margin:12px;display:flex;gap:16px}"
        "svg{border:1px solid #999;max-width:70vw;height:auto;cursor:pointer}"
        "svg path{stroke:#555;stroke-width:0.4}svg path:hover{stroke:#000;stroke-width:1.5}"
        ".sw{display:inline-block;width:14px;height:10px;margin-right:6px;border:1px solid #555}"
        "#cb-info table td{padding:1px 6px}"
        "</style></head><body>\n"
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}"><defs><pattern id="novalue" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" '
        'stroke="#999" stroke-width="1.5"/></pattern></defs>'
        f"{''.join(groups)}</svg>\n"
        f"<div><h3>{html.escape(title)}</h3>"
        f'<p>Level <select id="cb-level">{options_level}</select> '
        f'Variable <select id="cb-var">{options_var}</select></p>'
        '<p id="cb-legend"></p><div id="cb-info">Click a region for its numbers.</div>'
        "<p><small>Classes and colours as the PNG maps; densities are period means per km² "
        "of each region.</small></p></div>\n"
        f'<script type="application/json" id="cb-data">{payload}</script>\n'
        f"<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def write_web_map(
    *,
    path_regions: str,
    levels: list[str],
    budget_paths: dict[str, str],
    path_out: str,
    maps: dict | None = None,
    min_valid_fraction: float = 0.5,
) -> None:
    """The web map of ``levels`` (the finest and the coarsest) at ``path_out``: CNC, CE and ECS
    density with the PNG maps' classes (CE and RCS in a run without ECS)."""
    maps = {"scheme": "quantiles", "classes": 6} | (maps or {})
    layers, kinds, years = {}, [], None
    for level in levels:
        budget = pd.read_parquet(budget_paths[level])
        # the balance where ECS is known; CE and RCS in a run without it
        candidates = ("cnc", "ce", "ecs") if "ecs_tgco2" in budget else ("ce", "rcs")
        kinds = [k for k in candidates if BUDGET_MAPS[k][0] in budget]
        years = period_words(budget["year"])
        polys = read_display_polygons(path_regions, level)
        layers[level] = level_layer(polys, budget, kinds, maps, min_valid_fraction)
    title = f"Carbon budget by region, {years}"
    with atomic_output(path_out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(web_map_html(layers, kinds, title))
