"""The items of the HTML report a reader looks at first (``snakemake --report``): headline tables
built from the run's own tables, and quick-look maps of the per-pixel rasters with the region
boundaries. Every number shown is read back from a published file."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carbonbudget.core.io import atomic_output
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.outputs.figures import period_words, plot_geometries, pyplot
from carbonbudget.outputs.maps import MapFrame, save_map
from carbonbudget.outputs.series import (
    WATERFALL_WORDS,
    plot_cnc_band,
    plot_sources,
    plot_waterfall,
)
from carbonbudget.outputs.tables import period_means
from carbonbudget.regions.hierarchy import read_display_polygons
from carbonbudget.science.decomposition import FACTORS, dominant_effect

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

# column -> heading with its unit (the budget tables' names carry the unit in their suffix)
BUDGET_HEADINGS = {
    "year": "Year",
    "ecs_tgco2": "ECS (Tg CO2 yr⁻¹)",
    "ce_tgco2": "CE (Tg CO2 yr⁻¹)",
    "cnc_tgco2": "CNC = ECS − CE (Tg CO2 yr⁻¹)",
    "cnc_tgco2_p05": "CNC, 5th percentile",
    "cnc_tgco2_p95": "CNC, 95th percentile",
    "p_surplus": "P(CNC > 0)",
    "source_sink_ratio": "CE / ECS",
    "status": "Status",
    "status_robust": "Status robust (95 %)",
    "nep_tgco2": "NEP (Tg CO2 yr⁻¹)",
    "rcs_tgco2": "RCS (Tg CO2 yr⁻¹)",
}


LANDING_HEADINGS = [
    BUDGET_HEADINGS[c]
    for c in ("year", "ecs_tgco2", "rcs_tgco2", "ce_tgco2", "cnc_tgco2", "p_surplus", "status")
]


def study_area_table(budget: pd.DataFrame) -> pd.DataFrame:
    """The study area's budget per year, with headings in words and units: every flux in
    Tg CO2, as CE is (NEP converted from Tg C with 44/12; RCS and ECS have their CO2 columns)."""
    budget = budget.copy()
    if "nep_tgc" in budget:
        budget["nep_tgco2"] = budget["nep_tgc"] * CO2_PER_C
    cols = [c for c in BUDGET_HEADINGS if c in budget]
    out = budget.sort_values("year")[cols].rename(columns=BUDGET_HEADINGS)
    return out.reset_index(drop=True)


def format_value(value: float) -> str:
    """A number as a reader takes it from a table: three significant digits (a budget known to
    5 % is not known to the kilotonne), thousands separated, a true minus sign, and "< 0.001"
    rather than a 0.000 that reads as none."""
    if not np.isfinite(value):
        return "+inf" if value > 0 else ("−inf" if value < 0 else "–")
    if value == 0:
        return "0"
    size = abs(value)
    if size < 0.001:
        text = "< 0.001" if value > 0 else "> −0.001"
        return text
    digits = max(0, 2 - int(np.floor(np.log10(size))))
    return f"{value:,.{digits}f}".replace("-", "−")


def extremes_table(budget: pd.DataFrame, level: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` regions of ``level`` with the largest deficit and the ``n`` with the largest
    surplus, by their mean CNC over the years in which it is known in every year (as the maps)."""
    mean = period_means(budget, ["cnc_tgco2"])["cnc_tgco2"].dropna()
    if mean.empty:
        return pd.DataFrame(columns=["", "Code", "Name", "Mean CNC (Tg CO2 yr⁻¹)"])
    names = budget.groupby("code")["name"].first()
    frame = pd.DataFrame({"code": mean.index, "name": names.reindex(mean.index), "cnc": mean})
    frame = frame.reset_index(drop=True)
    deficit = frame[frame["cnc"] < 0].nsmallest(n, "cnc").assign(kind="largest deficit")
    surplus = frame[frame["cnc"] > 0].nlargest(n, "cnc").assign(kind="largest surplus")
    out = pd.concat([deficit, surplus], ignore_index=True)
    span = period_words(budget["year"], mean=False)
    mean = "Mean " if budget["year"].nunique() > 1 else ""
    return out[["kind", "code", "name", "cnc"]].rename(
        columns={
            "kind": "",
            "code": "Code",
            "name": f"Name ({level})",
            "cnc": f"{mean}CNC {span} (Tg CO2 yr⁻¹)",
        }
    )


def emitters_table(budget: pd.DataFrame, level: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` regions with the largest mean CE over the years in which it is known every
    year: what a run without ECS (no CNC, no deficit or surplus) can rank."""
    mean = period_means(budget, ["ce_tgco2"])["ce_tgco2"].dropna()
    names = budget.groupby("code")["name"].first()
    top = mean.nlargest(n)
    span = period_words(budget["year"], mean=False)
    mean_word = "Mean " if budget["year"].nunique() > 1 else ""
    return pd.DataFrame(
        {
            "Code": top.index,
            f"Name ({level})": names.reindex(top.index).to_numpy(),
            f"{mean_word}CE {span} (Tg CO2 yr⁻¹)": top.to_numpy(),
            "Share of the total": (top / mean.sum()).to_numpy(),
        }
    )


def decomposition_region_table(path: str, level: str) -> tuple[str, pd.DataFrame]:
    """The period's decomposition of each region of a level (a decomposition table): the
    change of CE and its effects, the change of CNC and its parts where there is a sink, and
    the main driver; regions ordered by the change of CE, largest first. Returns the caption
    and the table."""
    table = pd.read_csv(path, dtype={"code": str})
    period = table[table["kind"] == "period"].set_index("code")
    first, last = int(period["start_year"].iloc[0]), int(period["end_year"].iloc[0])
    out = pd.DataFrame({"Code": period.index})
    if "name" in period:
        out[f"Name ({level})"] = period["name"].to_numpy()
    unit = "Tg CO2 yr⁻¹"
    out[f"ΔCE ({unit})"] = period["delta_ce_tgco2"].to_numpy()
    for factor in FACTORS:
        if f"{factor}_effect_tgco2" in period:
            words = WATERFALL_WORDS[factor]
            out[f"CE: {words}"] = period[f"{factor}_effect_tgco2"].to_numpy()
    if "delta_cnc_tgco2" in period:
        out[f"ΔCNC ({unit})"] = period["delta_cnc_tgco2"].to_numpy()
        out["ΔNPP"] = period["delta_npp_tgco2"].to_numpy()
        rh = [c for c in ("rh_temperature", "rh_precipitation") if f"delta_{c}_tgco2" in period]
        if rh:
            for part in rh:
                out[f"ΔRH: {part[3:]}"] = period[f"delta_{part}_tgco2"].to_numpy()
        else:
            out["ΔRH"] = period["delta_rh_tgco2"].to_numpy()
        out["ΔRCS"] = period["delta_rcs_tgco2"].to_numpy()
    if "population_effect_tgco2" in period:
        out["Main driver of ΔCE"] = dominant_effect(table).reindex(period.index).to_numpy()
    out = out.sort_values(f"ΔCE ({unit})", ascending=False, na_position="last")
    caption = f"Why the balance of each region ({level}) changed, {first} to {last}"
    return caption, out.reset_index(drop=True)


def landing_fragment(tables: list[tuple[str, pd.DataFrame]]) -> str:
    """The headline tables as an HTML fragment the report's landing page embeds."""
    parts = [f"<style>{TABLE_STYLE}</style>"]
    for caption, table in tables:
        parts.append(f"<p><b>{html.escape(caption)}</b></p>\n{html_table(table)}")
    return "\n".join(parts) + "\n"


def skill_table(model: pd.DataFrame) -> pd.DataFrame:
    """The emission model's skill on its held-out years."""
    return model.rename(
        columns={
            "code": "Region",
            "n_years": "Years",
            "n_train": "Training years",
            "holdout_years": "Held-out years",
            "r2_holdout": "R² (held out)",
            "mean_abs_rel_error": "Mean |relative error|",
            "rel_error": "Relative error per held-out year",
            "n_seeds": "Ensemble members",
        }
    )


def html_table(table: pd.DataFrame) -> str:
    """A table as an HTML ``<table class="cb">``: numbers by :func:`format_value`, flags as
    yes/no, "–" for unknown, text escaped."""
    table = table.copy()
    for col in table.columns:  # True/False read as code: yes/no
        values = table[col].dropna()
        if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
            table[col] = table[col].map(lambda v: v if pd.isna(v) else ("yes" if v else "no"))
    return table.to_html(
        index=False,
        na_rep="–",
        float_format=format_value,
        border=0,
        classes="cb",
        escape=True,
    )


TABLE_STYLE = (
    "table.cb{border-collapse:collapse;font-size:13px}"
    "table.cb th,table.cb td{padding:3px 8px;text-align:right;border-bottom:1px solid #ddd}"
    "table.cb td{white-space:nowrap}table.cb th{background:#f3f3f3}"
)


def write_html_table(table: pd.DataFrame, path: str, caption: str) -> None:
    """One table as a small standalone HTML page (the report shows it in a frame)."""
    body = html_table(table)
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(caption)}</title><style>"
        f"body{{font-family:sans-serif;font-size:13px;margin:8px}}{TABLE_STYLE}"
        f"</style></head><body>\n<p><b>{html.escape(caption)}</b></p>\n{body}\n</body></html>\n"
    )
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(page)


def _read_decimated(path: str, max_side: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """Band 1 of a raster read at most ``max_side`` pixels on its longer side (COG overviews
    make this cheap), NaN for nodata; and its extent (left, right, bottom, top)."""
    # lazy: only this function needs this part of rasterio
    import rasterio

    with rasterio.open(path) as src:
        factor = max(1, int(np.ceil(max(src.width, src.height) / max_side)))
        shape = (max(1, src.height // factor), max(1, src.width // factor))
        data = src.read(1, out_shape=shape, masked=True).astype("float64").filled(np.nan)
        b = src.bounds
    return data, (b.left, b.right, b.bottom, b.top)


# pixels without a value: a grey no colour ramp of the quick looks reaches (RdBu is white at 0)
NO_VALUE_GREY = "#bdbdbd"


def pixel_quicklook(
    raster: str,
    *,
    boundaries,
    title: str,
    label: str,
    diverging: bool | str,
    path: str,
    max_side: int = 900,
    frame: MapFrame | None = None,
) -> None:
    """A quick-look map of one per-pixel raster with the region boundaries drawn over it: a
    diverging palette centred at 0 for signed quantities (NEP, ECS, trend slopes), sequential
    otherwise; the colour range clipped to the 2nd–98th percentile so a few extreme pixels do
    not wash out the map (the colour bar says so). Pixels without a value (water, outside the
    regions, an input's gap) are grey with a legend entry: on a diverging palette white is 0.
    ``diverging`` "reversed": red where the value is positive (a rise of respiration lowers
    the sink), blue otherwise."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib import colormaps
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Patch

    plt = pyplot()
    data, extent = _read_decimated(raster, max_side)
    finite = data[np.isfinite(data)]
    fig, ax = plt.subplots(figsize=(7.5, 6))
    layers: list = []  # drawn again in the inset of ``frame``
    if finite.size:
        lo, hi = np.percentile(finite, [2, 98])
        if diverging:
            edge = max(abs(lo), abs(hi)) or 1.0
            norm = TwoSlopeNorm(vcenter=0.0, vmin=-edge, vmax=edge)
            cmap = "RdBu_r" if diverging == "reversed" else "RdBu"
        else:
            norm = plt.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
            cmap = "viridis"
        colours = colormaps[cmap].with_extremes(bad=NO_VALUE_GREY)
        image = {"extent": extent, "cmap": colours, "norm": norm, "interpolation": "nearest"}
        layers.append((data, "image", image))
        img = ax.imshow(data, **image)
        # a colour bar exactly as tall as the map, whatever the map's aspect
        # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        cax = make_axes_locatable(ax).append_axes("right", size="4%", pad=0.1)
        fig.colorbar(img, cax=cax, extend="both", label=f"{label} (2–98 % range)")
    missing = int(np.isnan(data).sum())
    if missing:
        ax.legend(
            handles=[Patch(facecolor=NO_VALUE_GREY, edgecolor="#555555", label="no value")],
            loc="upper left",
            bbox_to_anchor=(0.0, -0.02),
            fontsize=8,
            frameon=False,
        )
    # outlines that stay visible: dark over the pale middle of a diverging palette, light over
    # viridis, whose low end is dark
    outline = "#333333" if diverging else "#f2f2f2"
    plot_geometries(boundaries.boundary, ax, color=outline, linewidth=0.4)
    layers.append((boundaries, "boundary", {"color": outline, "linewidth": 0.4}))
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    save_map(fig, ax, boundaries, title, path, frame, layers)


def write_waterfall(table_path: str, climatologies: Sequence[str], path: str) -> None:
    """The study area's waterfall of its period's decomposition (``table_path``), its title
    saying which parts the inputs that are the same every year (``climatologies``) hold."""
    table = pd.read_csv(table_path, dtype={"code": str})
    row = table[table["kind"] == "period"].iloc[0]
    what = "carbon neutral capacity" if "cnc_start_tgco2" in row else "emissions"
    notes = []
    if "population_effect_tgco2" in row:
        notes.append("emissions: additive LMDI of population, GDP per person and CE per GDP")
    if {"temperature", "precipitation"} & set(climatologies) and "delta_rh_tgco2" in row:
        notes.append("the climate is a climatology: RH changes only with the area it is known on")
    if "runoff" in climatologies and "delta_rcs_tgco2" in row:
        notes.append("the runoff is a climatology: so is RCS")
    plot_waterfall(
        row,
        path,
        f"Study area: why the {what} changed, {int(row['start_year'])} to "
        f"{int(row['end_year'])}" + "".join(f"\n({n})" for n in notes),
    )


def write_fuel_waterfall(table_path: str, path: str) -> None:
    """The study area's waterfall of its period's decomposition of CO2 by fuel."""
    table = pd.read_csv(table_path, dtype={"code": str})
    row = table[(table["kind"] == "period") & (table["code"] == "all")].iloc[0]
    note = "additive LMDI over the energy identity"
    if "process_intensity_effect_tgco2" in row:
        note += "; process CO2 (cement) a component of its own"
    plot_waterfall(
        row,
        path,
        f"Study area: why the CO2 by fuel changed, {int(row['start_year'])} to "
        f"{int(row['end_year'])}\n({note})",
    )


def build_report_items(
    *,
    budget_study_area: str,
    budget_finest: str,
    finest: str,
    regions: str,
    outline_level: str,
    rasters: dict[str, tuple[str, str, str, bool]],
    model_skill: str | None,
    out: dict[str, str],
    maps: dict | None = None,
    tables: dict | None = None,
) -> None:
    """Write the report's headline tables and quick-look maps.

    ``rasters`` maps an output key to (raster path, title, colour-bar label, diverging); ``out``
    maps ``study_area``, ``extremes`` (or ``emitters`` without ECS), ``skill``,
    ``decomposition`` and ``sources`` (figures of the optional ``tables`` of the run: the
    waterfall of :func:`write_waterfall` from ``tables["decomposition"]``, the study area's
    decomposition table and the inputs that are climatologies; the scatter of a second
    emission source against the table from ``tables["sources"]``, the coarsest level's
    comparison), ``landing``
    (the headline tables as a fragment for the report's first page) and the raster keys to the
    files to write;
    ``maps`` (``outputs.maps``) frames the quick looks as the region maps (extent, inset,
    overlay, source line)."""
    study = pd.read_parquet(budget_study_area)
    years = period_words(study["year"], mean=False)
    caption = f"Carbon budget of the study area, {years}"
    table = study_area_table(study)
    write_html_table(table, out["study_area"], caption)
    # the first page keeps the headline columns (the item has them all): it shares its width
    # with the report's workflow graph
    ecs, rcs = BUDGET_HEADINGS["ecs_tgco2"], BUDGET_HEADINGS["rcs_tgco2"]
    # RCS is part of ECS: shown on its own only without ECS
    landing = [c for c in table if c in LANDING_HEADINGS and not (c == rcs and ecs in table)]
    headlines = [(caption, table[landing])]
    if "cnc_band" in out:
        plot_cnc_band(
            study,
            out["cnc_band"],
            f"Study area: carbon neutral capacity with its uncertainty, {years}",
        )
    finest_budget = pd.read_parquet(budget_finest)
    if "cnc_tgco2" in finest_budget:
        caption = f"Regions ({finest}) with the largest mean deficit and surplus, {years}"
        headlines.append((caption, extremes_table(finest_budget, finest)))
        write_html_table(headlines[-1][1], out["extremes"], caption)
    elif "emitters" in out:  # without ECS there is no deficit or surplus to rank
        caption = f"Regions ({finest}) with the largest emissions, {years}"
        headlines.append((caption, emitters_table(finest_budget, finest)))
        write_html_table(headlines[-1][1], out["emitters"], caption)
    if "landing" in out:
        with atomic_output(out["landing"]) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            fh.write(landing_fragment(headlines))
    tables = tables or {}
    if tables.get("decomposition") and "decomposition" in out:
        table_path, climatologies = tables["decomposition"]
        write_waterfall(table_path, climatologies, out["decomposition"])
    if tables.get("by_fuel") and "decomposition_by_fuel" in out:
        write_fuel_waterfall(tables["by_fuel"], out["decomposition_by_fuel"])
    if tables.get("regions_decomposition") and "decomposition_regions" in out:
        caption, regions_table = decomposition_region_table(*tables["regions_decomposition"])
        write_html_table(regions_table, out["decomposition_regions"], caption)
    if tables.get("sources") and "sources" in out:
        plot_sources(pd.read_csv(tables["sources"], dtype={"code": str}), out["sources"])
    if model_skill and "skill" in out:
        write_html_table(
            skill_table(pd.read_csv(model_skill)),
            out["skill"],
            "Emission model: skill on the held-out years",
        )
    outlines = read_display_polygons(regions, outline_level) if rasters else None
    for key, (raster, title, label, diverging) in rasters.items():
        pixel_quicklook(
            raster,
            boundaries=outlines,
            title=title,
            label=label,
            diverging=diverging,
            path=out[key],
            frame=MapFrame.from_config(maps),
        )
        log.info("quick-look map %s written", out[key])
