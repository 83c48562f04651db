"""Charts of region series: CNC with its trend line and the sequential Mann–Kendall curves, the
study area's CNC with its uncertainty band, and the scenarios to the horizon.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from carbonbudget.outputs.figures import pyplot, save_figure
from carbonbudget.outputs.language import SERIES_LABELS
from carbonbudget.outputs.palette import BAD, GOOD, SCENARIO_COLOURS
from carbonbudget.science.decomposition import FACTORS
from carbonbudget.science.trends import CRITICAL_Z, read_region_trends

log = logging.getLogger(__name__)


def plot_region_trends(
    *,
    budget_path: str,
    trends_path: str,
    sqmk_path: str,
    out_dir: str,
    variable: str = "cnc_tgco2",
    decomposition_path: str | None = None,
) -> list[str]:
    """One PNG per region: the series with its OLS trend line (top) and UF/UB with the ±1.96
    band and the abrupt-change years (bottom); with ``decomposition_path`` (the level's
    decomposition table) a second, ``change_<code>.png``: the waterfall of why its balance
    changed over the period (:func:`plot_waterfall`). Returns the files written."""
    short, long_name = SERIES_LABELS[variable]
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    budget = pd.read_parquet(budget_path)
    trends = read_region_trends(trends_path).set_index("code")
    sqmk = pd.read_csv(sqmk_path, dtype={"code": str})
    sqmk = sqmk[sqmk["variable"] == variable]
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for code, series in budget.groupby("code", sort=True):
        series = series.sort_values("year")
        tr = trends.loc[code]
        fig, (ax1, ax2) = plt.subplots(
            2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
        )
        yrs = series["year"].to_numpy()
        ax1.plot(yrs, series[variable], "o-", color="tab:blue", label=short)
        slope = tr[f"{variable}_slope_per_yr"]
        if np.isfinite(slope):
            mid = np.nanmean(series[variable]) - slope * yrs.mean()
            ax1.plot(
                yrs,
                mid + slope * yrs,
                "--",
                color="tab:red",
                label=f"OLS {slope:+.3g} Tg CO2 yr⁻² (p = {tr[f'{variable}_slope_p']:.2g})",
            )
        ax1.axhline(0, color="grey", lw=0.8)
        ax1.set_ylabel(f"{short} (Tg CO2 yr⁻¹)")
        ax1.set_title(f"{tr['name']} ({code}): {long_name}, {tr[f'{variable}_trend_class']}")
        ax1.legend(loc="best", fontsize=8)
        s = sqmk[sqmk["code"] == code].sort_values("year")
        ax2.plot(s["year"], s["uf"], "-", color="tab:green", label="UF")
        ax2.plot(s["year"], s["ub"], "-", color="tab:purple", label="UB")
        ax2.axhspan(-CRITICAL_Z, CRITICAL_Z, color="grey", alpha=0.15, label="±1.96")
        for y in filter(None, tr[f"{variable}_abrupt_change_years"].split(";")):
            ax2.axvline(int(y), color="black", ls=":", lw=1)
        ax2.set_ylabel("sequential MK")
        ax2.set_xlabel("year")
        ax2.xaxis.set_major_locator(MaxNLocator(integer=True))  # years, never 1997.5
        ax2.legend(loc="best", fontsize=8, ncol=3)
        written.append(save_figure(fig, os.path.join(out_dir, f"{variable}_{code}.png")))
    if decomposition_path:
        table = pd.read_csv(decomposition_path, dtype={"code": str})
        for _, row in table[table["kind"] == "period"].sort_values("code").iterrows():
            _, steps, _, start, end = waterfall_steps(row)
            if not np.isfinite([start, end, *(v for _, v in steps)]).all():
                log.info("no waterfall for %s: a part of its change is unknown", row["code"])
                continue
            what = "carbon neutral capacity" if "cnc_start_tgco2" in row else "emissions"
            title = (
                f"{row['name']} ({row['code']}): why the {what} changed, "
                f"{int(row['start_year'])} to {int(row['end_year'])}"
            )
            path = os.path.join(out_dir, f"change_{row['code']}.png")
            written.append(plot_waterfall(row, path, title))
    return written


def plot_cnc_band(budget: pd.DataFrame, path: str, title: str) -> str:
    """CNC, ECS and CE of one region per year with their 5th–95th percentile bands (the
    uncertainty model's intervals) and the years whose status is robust marked."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    b = budget.sort_values("year")
    yrs = b["year"].to_numpy()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    for col, colour, label in (
        ("ecs_tgco2", "tab:green", "ECS"),
        ("ce_tgco2", "tab:orange", "CE"),
        ("cnc_tgco2", "tab:blue", "CNC = ECS − CE"),
    ):
        ax.fill_between(yrs, b[f"{col}_p05"], b[f"{col}_p95"], color=colour, alpha=0.2, linewidth=0)
        ax.plot(yrs, b[col], "o-" if col == "cnc_tgco2" else "-", color=colour, label=label)
    robust = b["status_robust"].fillna(False).astype(bool).to_numpy()
    if robust.any():
        ax.plot(
            yrs[robust],
            b["cnc_tgco2"].to_numpy()[robust],
            "o",
            color="tab:blue",
            markerfacecolor="white",
            markersize=9,
            zorder=1,
            label="status robust (95 % interval one side of 0)",
        )
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("Tg CO2 yr⁻¹")
    ax.set_xlabel("year")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(
        f"{title}\nbands: 5th–95th percentile of the uncertainty model "
        '(docs/method.md, "Uncertainty")',
        fontsize=10,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    return save_figure(fig, path)


def plot_scenarios(*, table_path: str, out_dir: str) -> list[str]:
    """One PNG per region (as Zhang et al. 2022, Fig. 7): CE, ECS and CNC per year, observed and
    under each scenario to the horizon; the CE ensemble range shaded; interpolated ECS dashed."""
    plt = pyplot()
    table = pd.read_csv(table_path, dtype={"code": str})
    os.makedirs(out_dir, exist_ok=True)
    written = []
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for region, t in table.groupby("code", sort=True):
        fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True)
        names = ["observed"] + sorted(set(t["scenario"]) - {"observed"})
        for k, name in enumerate(names):
            s = t[t["scenario"] == name].sort_values("year")
            colour = SCENARIO_COLOURS.get(name, cycle[k % len(cycle)])
            axes[0].plot(s["year"], s["ce_tgco2"], "-", color=colour, label=name)
            if name != "observed" and s["ce_tgco2_min"].notna().any():
                axes[0].fill_between(
                    s["year"], s["ce_tgco2_min"], s["ce_tgco2_max"], color=colour, alpha=0.2, lw=0
                )
            raster = s["ecs_source"].isin(["observed", "scenario_raster"])
            axes[1].plot(
                s["year"], s["ecs_tgco2"], "--" if name != "observed" else "-", color=colour, lw=1
            )
            axes[1].plot(
                s.loc[raster, "year"],
                s.loc[raster, "ecs_tgco2"],
                "o",
                color=colour,
                ms=4,
                label=name,
            )
            axes[2].plot(s["year"], s["cnc_tgco2"], "-", color=colour, label=name)
        axes[0].set_ylabel("CE (Tg CO2 yr⁻¹)")
        axes[1].set_ylabel("ECS (Tg CO2 yr⁻¹)")
        axes[2].set_ylabel("CNC = ECS − CE")
        axes[2].axhline(0, color="grey", lw=0.8)
        axes[2].set_xlabel("year")
        where = "study area" if region == "all" else region
        axes[0].set_title(f"{where}: emissions, sink and carbon neutral capacity by scenario")
        axes[0].legend(loc="upper left", fontsize=8)
        axes[1].legend(
            loc="best", fontsize=7, title="dots: rasters; dashed: interpolated", title_fontsize=7
        )
        written.append(save_figure(fig, os.path.join(out_dir, f"scenarios_{region}.png")))
    return written


def _amount(value: float, sign: bool = False) -> str:
    """A bar's label: three significant digits, thousands with separators (never 9.73e+03)."""
    if abs(value) < 1e-3:
        return "≈ 0"  # a part held by a climatology
    text = f"{value:+,.0f}" if abs(value) >= 1000 else f"{value:+,.3g}"
    return text if sign else text.lstrip("+")


# the bar of each effect on CE (carbonbudget.science.decomposition.FACTORS)
WATERFALL_WORDS = {
    "population": "population",
    "urbanisation": "urbanisation (urban share)",
    "affluence": "affluence (GDP per person)",
    "urban_affluence": "GDP per urban resident",
    "industry_share": "industry share of GDP",
    "intensity": "emission intensity (CE per GDP)",
    "industry_intensity": "CE per GDP of industry",
}


# the bar of each effect on CO2 by fuel (carbonbudget.science.decomposition.FUEL_FACTORS)
FUEL_WORDS = {
    "population": "population",
    "affluence": "affluence (GDP per person)",
    "energy_intensity": "energy intensity (energy per GDP)",
    "structure": "fuel mix (shares of the energy)",
    "emission_factor": "emission factors (CO2 per energy)",
    "process_intensity": "process CO2 per GDP",
}


def waterfall_steps(row: pd.Series) -> tuple[str, list[tuple[str, float]], str, float, float]:
    """The bars of a decomposition's waterfall (one row of a decomposition table): with a sink,
    CNC from its start to its end through +ΔNPP, −ΔRH (or its temperature and precipitation
    parts), +ΔRCS and minus each effect on CE (a growing population raises CE and lowers CNC);
    without, CE through its effects. Returns the
    start label, the steps (label, Tg CO2), the end label and the start and end values. A table
    without the LMDI effects (no population and GDP) has CE as one step; a row of a
    decomposition of CO2 by fuel runs from CO2 to CO2 through its effects."""
    effects = [(WATERFALL_WORDS[f], f"{f}_effect_tgco2") for f in FACTORS]
    effects = [(label, col) for label, col in effects if col in row]
    if "co2_start_tgco2" in row:  # a decomposition of CO2 by fuel
        steps = [
            (FUEL_WORDS[f], float(row[f"{f}_effect_tgco2"]))
            for f in FUEL_WORDS
            if f"{f}_effect_tgco2" in row
        ]
        return "CO2", steps, "CO2", float(row["co2_start_tgco2"]), float(row["co2_end_tgco2"])
    if not effects:
        effects = [("", "delta_ce_tgco2")]
    if "delta_cnc_tgco2" in row and np.isfinite(row["delta_cnc_tgco2"]):
        rh = [("RH", -float(row["delta_rh_tgco2"]))]
        if "delta_rh_temperature_tgco2" in row:  # ΔRH split into its two terms
            rh = [
                ("RH: temperature", -float(row["delta_rh_temperature_tgco2"])),
                ("RH: precipitation", -float(row["delta_rh_precipitation_tgco2"])),
            ]
        steps = [
            ("NPP", float(row["delta_npp_tgco2"])),
            *rh,
            ("RCS", float(row["delta_rcs_tgco2"])),
            *((f"CE: {label}".rstrip(": "), -float(row[col])) for label, col in effects),
        ]
        return "CNC", steps, "CNC", float(row["cnc_start_tgco2"]), float(row["cnc_end_tgco2"])
    steps = [(f"CE: {label}", float(row[col])) for label, col in effects]
    return "CE", steps, "CE", float(row["ce_start_tgco2"]), float(row["ce_end_tgco2"])


def plot_waterfall(row: pd.Series, path: str, title: str) -> str:
    """Why the balance changed: a waterfall from the start value to the end value of CNC (or
    CE), one bar per part of the change (:func:`waterfall_steps`), blue where it helps the
    balance and red where it hurts it, each labelled with its size."""
    plt = pyplot()
    first, steps, last, start, end = waterfall_steps(row)
    is_cnc = first == "CNC"
    fig, ax = plt.subplots(figsize=(8.5, 5.0))
    labels = [f"{first} {int(row['start_year'])}"] + [s[0] for s in steps]
    labels.append(f"{last} {int(row['end_year'])}")
    level = start
    ax.bar(0, start, color="#969696")
    for x, value in ((0, start), (len(steps) + 1, end)):
        ax.annotate(
            _amount(value),
            (x, max(value, 0.0)),
            ha="center",
            va="bottom",
            fontsize=8,
            fontweight="bold",
            xytext=(0, 2),
            textcoords="offset points",
        )
    for i, (_, value) in enumerate(steps, start=1):
        helps = value > 0 if is_cnc else value < 0
        ax.bar(i, value, bottom=level, color=GOOD[2] if helps else BAD[2])
        ax.annotate(
            _amount(value, sign=True),
            (i, level + max(value, 0.0)),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )
        ax.plot([i - 1.4, i + 0.4], [level, level], color="#555555", lw=0.6)
        level += value
    ax.bar(len(steps) + 1, end, color="#636363")
    # room for the labels above the highest bar (a bar's bottom is a sticky edge: margins
    # alone leave none)
    heights = np.cumsum([start, *(v for _, v in steps)])
    lo, hi = min(0.0, heights.min(), end), max(0.0, heights.max(), end)
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.12 * (hi - lo))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("Tg CO2 yr⁻¹")
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def plot_sources(table: pd.DataFrame, path: str) -> str:
    """One emission source against the other per region and year of a comparison table
    (tables/emission_sources_<level>.csv): log axes, the 1:1 line, and the mean absolute
    relative difference of the years in the title."""
    plt = pyplot()
    rows = table[table["code"] != "all"].dropna(subset=["ce_tgco2", "compare_tgco2"])
    rows = rows[(rows["ce_tgco2"] > 0) & (rows["compare_tgco2"] > 0)]  # log axes
    source, level = str(table["source"].iloc[0]), str(table["level"].iloc[0])
    fig, ax = plt.subplots(figsize=(6.5, 6.0))
    ax.scatter(rows["ce_tgco2"], rows["compare_tgco2"], s=14, alpha=0.6, color="#542788")
    lo = float(min(rows["ce_tgco2"].min(), rows["compare_tgco2"].min())) / 1.5
    hi = float(max(rows["ce_tgco2"].max(), rows["compare_tgco2"].max())) * 1.5
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1, label="1:1")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("emission table, Tg CO2 yr⁻¹")
    ax.set_ylabel(f"{source}, Tg CO2 yr⁻¹")
    summary = table[table["code"] == "all"]
    mean = float(summary["mean_abs_rel_diff"].mean()) if "mean_abs_rel_diff" in summary else np.nan
    years = f"{int(rows['year'].min())}–{int(rows['year'].max())}"
    ax.set_title(
        f"{source} against the emission table by {level.replace('_', ' ')}, {years}\n"
        f"({len(rows)} region-years; mean absolute relative difference {100 * mean:.0f} %)",
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=8)
    return save_figure(fig, path)
