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
