"""Figures of region series: CNC with its trend line and the sequential Mann–Kendall curves."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .io import atomic_output
from .trends import CRITICAL_Z, read_region_trends


def plot_region_trends(*, budget_path: str, trends_path: str, sqmk_path: str, out_dir: str,
                       variable: str = "cnc_tgco2") -> list[str]:
    """One PNG per region: the series with its OLS trend line (top) and UF/UB with the ±1.96
    band and the abrupt-change years (bottom). Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budget = pd.read_parquet(budget_path)
    trends = read_region_trends(trends_path).set_index("code")
    sqmk = pd.read_csv(sqmk_path, dtype={"code": str})
    sqmk = sqmk[sqmk["variable"] == variable]
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for code, series in budget.groupby("code", sort=True):
        series = series.sort_values("year")
        tr = trends.loc[code]
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                       gridspec_kw={"height_ratios": [3, 2]})
        yrs = series["year"].to_numpy()
        ax1.plot(yrs, series[variable], "o-", color="tab:blue", label="CNC")
        slope = tr[f"{variable}_slope_per_yr"]
        if np.isfinite(slope):
            mid = np.nanmean(series[variable]) - slope * yrs.mean()
            ax1.plot(yrs, mid + slope * yrs, "--", color="tab:red",
                     label=f"OLS {slope:+.3g} Tg CO2 yr⁻² (p = {tr[f'{variable}_slope_p']:.2g})")
        ax1.axhline(0, color="grey", lw=0.8)
        ax1.set_ylabel("CNC (Tg CO2 yr⁻¹)")
        ax1.set_title(f"{tr['name']} ({code}): carbon neutral capacity, "
                      f"{tr[f'{variable}_trend_class']}")
        ax1.legend(loc="best", fontsize=8)
        s = sqmk[sqmk["code"] == code].sort_values("year")
        ax2.plot(s["year"], s["uf"], "-", color="tab:green", label="UF")
        ax2.plot(s["year"], s["ub"], "-", color="tab:purple", label="UB")
        ax2.axhspan(-CRITICAL_Z, CRITICAL_Z, color="grey", alpha=0.15, label="±1.96")
        for y in filter(None, tr[f"{variable}_abrupt_change_years"].split(";")):
            ax2.axvline(int(y), color="black", ls=":", lw=1)
        ax2.set_ylabel("sequential MK")
        ax2.set_xlabel("year")
        ax2.legend(loc="best", fontsize=8, ncol=3)
        fig.tight_layout()
        path = os.path.join(out_dir, f"{variable}_{code}.png")
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png", metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written


# Categorical colours of the spatial-statistics maps (ColorBrewer RdBu-like; grey = not significant).
LISA_COLOURS = {"HH": "#d7191c", "HL": "#fdae61", "LH": "#abd9e9", "LL": "#2c7bb6",
                "not significant": "#eeeeee", "not computed": "#ffffff"}
GI_COLOURS = {"hot spot 99%": "#b2182b", "hot spot 95%": "#ef8a62", "hot spot 90%": "#fddbc7",
              "not significant": "#eeeeee", "cold spot 90%": "#d1e5f0",
              "cold spot 95%": "#67a9cf", "cold spot 99%": "#2166ac", "not computed": "#ffffff"}


def add_map_furniture(ax, crs_name: str) -> None:
    """North arrow, a scale bar in km (the grid CRS is projected, in metres) and the CRS name."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_km = (x1 - x0) / 1000.0
    nice = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]
    bar_km = max([n for n in nice if n <= width_km / 4] or [nice[0]])
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + bar_km * 1000.0], [by, by], color="black", lw=3, solid_capstyle="butt")
    ax.text(bx + bar_km * 500.0, by + 0.015 * (y1 - y0), f"{bar_km:g} km", ha="center",
            va="bottom", fontsize=8)
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.83), xycoords="axes fraction",
                ha="center", va="center", fontsize=10, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black"})
    ax.text(0.99, 0.01, crs_name, transform=ax.transAxes, ha="right", va="bottom", fontsize=6,
            color="dimgrey")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_aspect("equal")


def categorical_map(gdf, column: str, colours: dict, title: str, path: str) -> None:
    """A north-up map of a categorical column with a legend of every class present."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(7, 6))
    classes = [c for c in colours if (gdf[column] == c).any()]
    for cls in classes:
        part = gdf[gdf[column] == cls]
        part.plot(ax=ax, color=colours[cls], edgecolor="#555555", linewidth=0.3,
                  hatch="//" if cls == "not computed" else None)
    handles = [Patch(facecolor=colours[c], edgecolor="#555555", label=f"{c} "
                     f"({int((gdf[column] == c).sum())})") for c in classes]
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(title, fontsize=10)
    crs = gdf.crs
    add_map_furniture(ax, crs.name if crs is not None else "unknown CRS")
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png", metadata={"Software": None})
    plt.close(fig)


def plot_spatial_maps(*, path_regions: str, levels: list[str], level: str, local_path: str,
                      moran_path: str, variable: str, path_lisa: str, path_gi: str,
                      lisa_p: float = 0.05) -> None:
    """LISA cluster map and Gi* hot/cold-spot map of ``variable``'s period mean at ``level``."""
    import geopandas as gpd

    from .regions import dissolve_level

    regions = gpd.read_file(path_regions, engine="pyogrio")
    polys = dissolve_level(regions, levels, level).rename(columns={f"{level}_code": "code"})
    local = pd.read_csv(local_path, dtype={"code": str})
    local = local[local["variable"] == variable]
    gdf = polys.merge(local, on="code", how="left")
    for c in ("lisa_cluster", "gi_class"):
        gdf[c] = gdf[c].fillna("not computed")
    moran = pd.read_csv(moran_path, dtype={"period": str})
    m = moran[(moran["variable"] == variable) & (moran["period"] == "mean")].iloc[0]
    skipped = isinstance(m["note"], str) and bool(m["note"])
    stat = m["note"] if skipped else (f"Moran's I = {m['moran_i']:.3f} (pseudo p = "
                                      f"{m['p_sim']:.3g}, {m['permutations']} permutations)")
    categorical_map(gdf, "lisa_cluster", LISA_COLOURS,
                    f"LISA clusters of mean {variable} by {level} (pseudo p < {lisa_p:g})\n{stat}",
                    path_lisa)
    categorical_map(gdf, "gi_class", GI_COLOURS,
                    f"Getis–Ord Gi* hot and cold spots of mean {variable} by {level}\n"
                    + (m["note"] if skipped else "binary queen weights incl. self; z-score classes"),
                    path_gi)
