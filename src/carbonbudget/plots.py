"""Figures of region series: CNC with its trend line and the sequential Mann–Kendall curves."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .io import atomic_output
from .trends import CRITICAL_Z, read_region_trends

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike
    from rasterio.crs import CRS

log = logging.getLogger(__name__)

SERIES_LABELS = {
    "cnc_tgco2": ("CNC", "carbon neutral capacity"),
    "ce_tgco2": ("CE", "carbon emissions"),
    "ecs_tgco2": ("ECS", "ecosystem carbon sink"),
}


def _in_words(column: str) -> str:
    """A budget column as a title says it: 'carbon emissions (CE)' for ce_tgco2."""
    if column in SERIES_LABELS:
        short, words = SERIES_LABELS[column]
        return f"{words} ({short})"
    total = column.replace("_flux_tco2_km2", "_tgco2")
    if total != column and total in SERIES_LABELS:
        return f"{_in_words(total)} per km²"
    return column


def _words(name: str) -> str:
    """A level name as a title says it: 'economic region' for economic_region."""
    return name.replace("_", " ")


def trend_variable(fluxes: Sequence[str]) -> str:
    """The region series the trend figures and maps show: CNC, or CE in a run without ECS."""
    return "cnc_tgco2" if "ecs" in fluxes else "ce_tgco2"


def plot_region_trends(
    *, budget_path: str, trends_path: str, sqmk_path: str, out_dir: str, variable: str = "cnc_tgco2"
) -> list[str]:
    """One PNG per region: the series with its OLS trend line (top) and UF/UB with the ±1.96
    band and the abrupt-change years (bottom). Returns the files written."""
    short, long_name = SERIES_LABELS[variable]
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
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
        written.append(_save_figure(fig, os.path.join(out_dir, f"{variable}_{code}.png")))
    return written


# Categorical colours of the spatial-statistics maps (ColorBrewer RdBu-like; grey = not
# significant).
LISA_COLOURS = {
    "HH": "#d7191c",
    "HL": "#fdae61",
    "LH": "#abd9e9",
    "LL": "#2c7bb6",
    "not significant": "#eeeeee",
    "not computed": "#ffffff",
}
GI_COLOURS = {
    "hot spot 99%": "#b2182b",
    "hot spot 95%": "#ef8a62",
    "hot spot 90%": "#fddbc7",
    "not significant": "#eeeeee",
    "cold spot 90%": "#d1e5f0",
    "cold spot 95%": "#67a9cf",
    "cold spot 99%": "#2166ac",
    "not computed": "#ffffff",
}


# Region names come in any script: Latin text keeps matplotlib's DejaVu Sans and every glyph it
# lacks falls back to Noto Sans CJK (the noto-cjk-sans-otc wheel, OFL-1.1: a font file only; the
# system's fonts are not assumed, and conda-forge has no CJK font package).
FONT_FAMILY = ["DejaVu Sans", "Noto Sans CJK SC"]


def _register_fonts() -> None:
    import matplotlib
    from matplotlib import font_manager

    if not any(f.name == FONT_FAMILY[1] for f in font_manager.fontManager.ttflist):
        import noto_cjk_sans_otc

        font_manager.fontManager.addfont(str(noto_cjk_sans_otc.FONT_PATH))
    matplotlib.rcParams["font.family"] = FONT_FAMILY


def _pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (imported only by plotting jobs),
    with fonts for every script region names use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _register_fonts()
    return plt


# vector formats carry no timestamp and a fixed id salt, so a rerun writes the same bytes
_NO_STAMP = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


def _save_figure(fig, path: str, dpi: int = 100, tight_layout: bool = True) -> str:
    """Tight layout (charts; a map's legend beside it is kept by cropping to the drawn
    content instead), write the figure atomically in the format of ``path``'s extension (PNG,
    SVG or PDF; same bytes every run), close."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    plt = _pyplot()
    if tight_layout:
        fig.tight_layout()
    with atomic_output(path) as tmp, plt.rc_context({"svg.hashsalt": "carbonbudget"}):
        fig.savefig(
            tmp,
            dpi=dpi,
            format=fmt,
            metadata=_NO_STAMP[fmt],
            bbox_inches="tight",  # keeps a legend beside the map, drops empty margins
            pad_inches=0.15,
        )
    plt.close(fig)
    return path


@dataclass(frozen=True)
class MapFrame:
    """How every region map is framed and written (``outputs.maps``): ``dpi`` of raster
    output, the main map's ``extent`` and an ``inset`` (both ``[west, south, east, north]`` in
    degrees: each shows the regions' parts inside its box), where the inset sits
    (``inset_location``), its width as a share of the map's (``inset_size``) and its label."""

    dpi: int = 150
    extent: tuple[float, float, float, float] | None = None
    inset: tuple[float, float, float, float] | None = None
    inset_location: str = "lower right"
    inset_size: float = 0.25
    inset_label: str = ""

    @classmethod
    def from_config(cls, maps: dict | None) -> MapFrame:
        """The frame of the ``outputs.maps`` section (defaults where a key is absent)."""
        maps = maps or {}
        inset = maps.get("inset") or {}
        return cls(
            dpi=int(maps.get("dpi", cls.dpi)),
            extent=tuple(maps["extent_lonlat"]) if maps.get("extent_lonlat") else None,
            inset=tuple(inset["extent_lonlat"]) if inset else None,
            inset_location=inset.get("location", cls.inset_location),
            inset_size=float(inset.get("size", cls.inset_size)),
            inset_label=inset.get("label", ""),
        )


def _frame_bounds(gdf: gpd.GeoDataFrame, lonlat: Sequence[float]) -> tuple[float, ...]:
    """The bounds, with a 2 % margin, of the regions' parts inside a lon/lat box: the box
    itself (projected, edges densified) reaches far beyond the data at its corners in most
    projections, which would leave the map small in a wide empty frame."""
    import shapely
    from pyproj import Transformer

    west, south, east, north = lonlat
    n = 41
    lon = np.r_[np.linspace(west, east, n), np.full(n, east), np.linspace(east, west, n)]
    lat = np.r_[np.full(n, south), np.linspace(south, north, n), np.full(n, north)]
    lon, lat = np.r_[lon, np.full(n, west)], np.r_[lat, np.linspace(north, south, n)]
    x, y = Transformer.from_crs("EPSG:4326", gdf.crs, always_xy=True).transform(lon, lat)
    box_ = shapely.Polygon(np.column_stack([x, y]))
    inside = gdf.geometry.intersection(box_)
    inside = inside[~inside.is_empty]
    x0, y0, x1, y1 = inside.total_bounds if len(inside) else box_.bounds
    dx, dy = 0.02 * (x1 - x0), 0.02 * (y1 - y0)
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


# A map is a list of layers (polygons, "fill" or "boundary", matplotlib style) so that an inset
# can draw it a second time.
Layer = tuple["gpd.GeoDataFrame", str, dict]


def _draw(ax: Axes, layers: Sequence[Layer]) -> None:
    for part, kind, style in layers:
        (part.boundary if kind == "boundary" else part).plot(ax=ax, **style)


def _save_map(
    fig, ax, gdf, title: str, path: str, frame: MapFrame | None = None, layers: Sequence[Layer] = ()
) -> None:
    """Extent and inset (``frame``; ``layers`` are drawn again in the inset), title, north
    arrow, scale bar and CRS label; then write the figure atomically."""
    frame = frame or MapFrame()
    if frame.extent is not None and gdf.crs is not None:
        x0, y0, x1, y1 = _frame_bounds(gdf, frame.extent)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    ax.set_title(title, fontsize=10)
    inset = None
    if frame.inset is not None and gdf.crs is not None:
        inset = _frame_bounds(gdf, frame.inset)
        ax.set_aspect("equal")
        _clear_corner(ax, gdf, inset, frame)
    add_map_furniture(ax, crs_label(gdf.crs), scale_bar_right=frame.inset_location == "lower left")
    if inset is not None:
        add_inset(ax, layers, inset, frame)
    _save_figure(fig, path, dpi=frame.dpi, tight_layout=False)


def _inset_bounds(
    ax: Axes, box: Sequence[float], frame: MapFrame
) -> tuple[float, float, float, float]:
    """Where the inset of ``box`` sits: [left, bottom, width, height] in the map's axes
    fraction; ``frame.inset_size`` of the map's width, its height from the box's proportions."""
    x0, y0, x1, y1 = box
    mx0, mx1 = ax.get_xlim()
    my0, my1 = ax.get_ylim()
    w = frame.inset_size
    h = w * ((y1 - y0) / (x1 - x0)) * ((mx1 - mx0) / (my1 - my0))
    if h > 0.9:  # a tall box: cap its height, keep its proportions
        w, h = w * 0.9 / h, 0.9
    vertical, horizontal = frame.inset_location.split()
    left = 1.0 - w if horizontal == "right" else 0.0
    bottom = 0.0 if vertical == "lower" else 1.0 - h
    return left, bottom, w, h


def _clear_corner(ax: Axes, gdf: gpd.GeoDataFrame, box: Sequence[float], frame: MapFrame) -> None:
    """Widen the map on the inset's side until no region lies under the inset: an inset, like
    the legend, never covers data (Taiwan sits in the lower right of a tight map of China)."""
    import shapely

    right = frame.inset_location.endswith("right")
    for _ in range(200):
        left, bottom, w, h = _inset_bounds(ax, box, frame)
        (mx0, mx1), (my0, my1) = ax.get_xlim(), ax.get_ylim()
        dx, dy = mx1 - mx0, my1 - my0
        under = shapely.box(
            mx0 + left * dx, my0 + bottom * dy, mx0 + (left + w) * dx, my0 + (bottom + h) * dy
        )
        if not len(gdf.sindex.query(under, predicate="intersects")):
            return
        ax.set_xlim((mx0, mx1 + 0.02 * dx) if right else (mx0 - 0.02 * dx, mx1))


def add_inset(ax: Axes, layers: Sequence[Layer], box: Sequence[float], frame: MapFrame) -> Axes:
    """The ``layers`` again, in ``box`` (map coordinates), in one corner of the map (e.g. the
    South China Sea islands off a map of China), placed by :func:`_inset_bounds`, with a scale
    bar of its own."""
    x0, y0, x1, y1 = box
    left, bottom, w, h = _inset_bounds(ax, box, frame)
    inset = ax.inset_axes((left, bottom, w, h))
    _draw(inset, layers)
    inset.set_xlim(x0, x1)
    inset.set_ylim(y0, y1)
    inset.set_aspect("equal", adjustable="datalim")
    _scale_bar(inset, fontsize=5)
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.set_facecolor("white")
    for spine in inset.spines.values():
        spine.set_edgecolor("#333333")
        spine.set_linewidth(0.8)
    if frame.inset_label:
        inset.text(
            0.5,
            0.98,
            frame.inset_label,
            transform=inset.transAxes,
            ha="center",
            va="top",
            fontsize=6,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
        )
    return inset


def crs_label(crs: CRS | None) -> str:
    """A readable CRS name for a map corner (PROJ strings are called 'unknown' by PROJ)."""
    if crs is None:
        return "unknown CRS"
    if crs.name and crs.name != "unknown":
        return crs.name
    op = crs.coordinate_operation
    return f"{op.method_name} ({crs.ellipsoid.name})" if op is not None else crs.to_string()[:60]


def _scale_bar(ax: Axes, fontsize: float = 8, right: bool = False) -> None:
    """A bar of a round number of km, about a quarter of the frame wide, in its lower left
    (or right) corner (the map CRS is projected, in metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_km = (x1 - x0) / 1000.0
    nice = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]
    bar_km = max([n for n in nice if n <= width_km / 4] or [nice[0]])
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    if right:
        bx = x1 - 0.05 * (x1 - x0) - bar_km * 1000.0
    ax.plot(
        [bx, bx + bar_km * 1000.0],
        [by, by],
        color="black",
        lw=3 * fontsize / 8,
        solid_capstyle="butt",
    )
    ax.text(
        bx + bar_km * 500.0,
        by + 0.015 * (y1 - y0),
        f"{bar_km:g} km",
        ha="center",
        va="bottom",
        fontsize=fontsize,
    )


def add_map_furniture(ax: Axes, crs_name: str, scale_bar_right: bool = False) -> None:
    """North arrow, a scale bar in km (the grid CRS is projected, in metres; lower left, or
    lower right where an inset takes that corner) and the CRS name."""
    _scale_bar(ax, right=scale_bar_right)
    # the north arrow and the CRS name sit outside the frame, so they never cover data
    ax.annotate(
        "N",
        xy=(1.04, 1.0),
        xytext=(1.04, 0.88),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black"},
        annotation_clip=False,
    )
    ax.text(
        0.0,
        -0.01,
        crs_name,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=6,
        color="dimgrey",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_aspect("equal")


def _outline_layer(outlines: gpd.GeoDataFrame | None) -> list[Layer]:
    """Boundaries of a coarser level over the regions (province outlines on a county map)."""
    return (
        [] if outlines is None else [(outlines, "boundary", {"color": "#1a1a1a", "linewidth": 0.9})]
    )


def categorical_map(
    gdf: gpd.GeoDataFrame,
    column: str,
    colours: dict,
    title: str,
    path: str,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    frame: MapFrame | None = None,
) -> None:
    """A north-up map of a categorical column with a legend of every class present;
    ``outlines``: boundaries of a coarser level drawn over the regions."""
    from matplotlib.patches import Patch

    fig, ax = _pyplot().subplots(figsize=(7, 6))
    classes = [c for c in colours if (gdf[column] == c).any()]
    layers: list[Layer] = [
        (
            gdf[gdf[column] == cls],
            "fill",
            {
                "color": colours[cls],
                "edgecolor": "#555555",
                "linewidth": 0.3,
                "hatch": "//" if cls == "not computed" else None,
            },
        )
        for cls in classes
    ] + _outline_layer(outlines)
    _draw(ax, layers)
    handles = [
        Patch(
            facecolor=colours[c],
            edgecolor="#555555",
            hatch="//" if c == "not computed" else None,
            label=f"{c} ({int((gdf[column] == c).sum())})",
        )
        for c in classes
    ]
    ax.legend(  # beside the map, never over it
        handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False
    )
    _save_map(fig, ax, gdf, title, path, frame, layers)


def plot_spatial_maps(
    *,
    path_regions: str,
    level: str,
    local_path: str,
    moran_path: str,
    variable: str,
    path_lisa: str,
    path_gi: str,
    lisa_p: float = 0.05,
    maps: dict | None = None,
    outline_level: str | None = None,
) -> None:
    """LISA cluster map and Gi* hot/cold-spot map of ``variable``'s period mean at ``level``;
    ``maps`` (``outputs.maps``) frames them, ``outline_level``'s boundaries are drawn over."""
    from .regions import read_display_polygons

    polys = read_display_polygons(path_regions, level)
    outlines = (
        read_display_polygons(path_regions, outline_level)
        if outline_level and outline_level != level
        else None
    )
    frame = MapFrame.from_config(maps)
    local = pd.read_csv(local_path, dtype={"code": str})
    local = local[local["variable"] == variable]
    gdf = polys.merge(local, on="code", how="left")
    for c in ("lisa_cluster", "gi_class"):
        gdf[c] = gdf[c].fillna("not computed")
    moran = pd.read_csv(moran_path, dtype={"period": str})
    m = moran[(moran["variable"] == variable) & (moran["period"] == "mean")].iloc[0]
    skipped = isinstance(m["note"], str) and bool(m["note"])
    stat = (
        m["note"]
        if skipped
        else (
            f"Moran's I = {m['moran_i']:.3f} (pseudo p = "
            f"{m['p_sim']:.3g}, {m['permutations']} permutations)"
        )
    )
    categorical_map(
        gdf,
        "lisa_cluster",
        LISA_COLOURS,
        f"LISA clusters of the mean {_in_words(variable)} by {_words(level)} "
        f"(pseudo p < {lisa_p:g})\n{stat}",
        path_lisa,
        outlines=outlines,
        frame=frame,
    )
    categorical_map(
        gdf,
        "gi_class",
        GI_COLOURS,
        f"Getis–Ord Gi* hot and cold spots of the mean {_in_words(variable)} by {_words(level)}\n"
        + (m["note"] if skipped else "binary queen weights incl. self; z-score classes"),
        path_gi,
        outlines=outlines,
        frame=frame,
    )


TREND_CLASS_COLOURS = {
    "increase": "#1a9641",
    "no change": "#ffffbf",
    "slight decrease": "#fdae61",
    "significant decrease": "#f46d43",
    "sharp decrease": "#d7191c",
    "undetermined": "#cccccc",
}

# Period-mean maps per level: (total column, density column, colour map, centre of a
# diverging scale or None, what it shows, unit of the total, unit of the density). Densities are
# the default (outputs.maps.values): a total makes a large region look important. The colour
# maps are ColorBrewer's, readable with the common colour-vision deficiencies.
BUDGET_MAPS: dict[str, tuple[str, str, str, float | None, str, str, str]] = {
    "ecs": (
        "ecs_tgco2",
        "ecs_flux_tco2_km2",
        "Greens",
        None,
        "Ecosystem carbon sink (ECS)",
        "Tg CO2 yr⁻¹",
        "t CO2 km⁻² yr⁻¹",
    ),
    "ce": (
        "ce_tgco2",
        "ce_flux_tco2_km2",
        "Oranges",
        None,
        "Carbon emissions (CE)",
        "Tg CO2 yr⁻¹",
        "t CO2 km⁻² yr⁻¹",
    ),
    "cnc": (
        "cnc_tgco2",
        "cnc_flux_tco2_km2",
        "RdBu",
        0.0,
        "Carbon neutral capacity (CNC = ECS − CE)",
        "Tg CO2 yr⁻¹",
        "t CO2 km⁻² yr⁻¹",
    ),
    "cer": (
        "cer",
        "cer",
        "RdBu_r",
        1.0,
        "Carbon emission risk (CER; 1 = neutrality)",
        "ratio",
        "ratio",
    ),
    "rcs": (
        "rcs_tgco2",
        "rcs_gc_m2",
        "YlGn",
        None,
        "Rock-weathering carbon sink (RCS)",
        "Tg CO2 yr⁻¹",
        "g C m⁻² yr⁻¹",
    ),
}
MAP_KINDS = ("ecs", "ce", "cnc", "cer", "cnc_trend")
# partial sums where coverage is partial
SINK_COLUMNS = ("ecs_tgco2", "ecs_flux_tco2_km2", "rcs_tgco2", "rcs_gc_m2")
RCS_ONLY_MAP_KINDS = ("ce", "rcs", "ce_trend")  # a run without NPP and climate (no ECS)


def map_kinds(fluxes: Sequence[str], uncertainty: bool = False) -> tuple[str, ...]:
    """The maps a run draws per level: the balance maps, or CE and RCS without ECS; with the
    uncertainty model, the probability of a surplus too."""
    if "ecs" not in fluxes:
        return RCS_ONLY_MAP_KINDS
    return MAP_KINDS + (("p_surplus",) if uncertainty else ())


def layer_map_kinds(fluxes: Sequence[str], grid_ce: bool) -> tuple[str, ...]:
    """The maps of an independent region layer: those of the regions when emissions reach it
    from the grid (no interval: the uncertainty model is the hierarchy's), else its sink."""
    if grid_ce:
        return tuple(k for k in map_kinds(fluxes) if k != "p_surplus")
    return ("ecs",) if "ecs" in fluxes else ("rcs",)


# Classes of P(CNC > 0): the tails of the 95 % interval (robust), of the 90 % interval, and the
# two sides of an even chance (ColorBrewer RdBu, red = deficit as the CNC maps)
P_SURPLUS_CLASSES = {
    "< 2.5 %: deficit, robust": (0.0, 0.025, "#b2182b"),
    "2.5 – 5 %": (0.025, 0.05, "#ef8a62"),
    "5 – 50 %: deficit more likely": (0.05, 0.5, "#fddbc7"),
    "50 – 95 %: surplus more likely": (0.5, 0.95, "#d1e5f0"),
    "95 – 97.5 %": (0.95, 0.975, "#67a9cf"),
    "≥ 97.5 %: surplus, robust": (0.975, 1.0 + 1e-9, "#2166ac"),
    "no value": (np.nan, np.nan, "#ffffff"),
}


def p_surplus_class(p: ArrayLike) -> np.ndarray:
    """The class label of each probability of a surplus (:data:`P_SURPLUS_CLASSES`)."""
    p = np.asarray(p, dtype="float64")
    out = np.full(p.shape, "no value", dtype=object)
    for label, (lo, hi, _) in P_SURPLUS_CLASSES.items():
        if np.isfinite(lo):
            out[(p >= lo) & (p < hi)] = label
    return out


def plot_cnc_band(budget: pd.DataFrame, path: str, title: str) -> str:
    """CNC, ECS and CE of one region per year with their 5th–95th percentile bands (the
    uncertainty model's intervals) and the years whose status is robust marked."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
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
    return _save_figure(fig, path)


def _bound(value: float) -> str:
    """A class bound as people read it: 1,740 and -2,780, not 1.74e+03; 0.52 and 3.1."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def classed_map(
    gdf: gpd.GeoDataFrame,
    column: str,
    cmap: str,
    centre: float | None,
    title: str,
    unit: str,
    path: str,
    *,
    scheme: str = "quantiles",
    k: int = 6,
    outlines: gpd.GeoDataFrame | None = None,
    incomplete: ArrayLike | None = None,
    incomplete_label: str = "",
    frame: MapFrame | None = None,
) -> None:
    """A north-up choropleth in ``k`` classes of ``scheme`` (:mod:`carbonbudget.classify`); a
    diverging quantity gets classes on each side of ``centre``, coloured from the two halves of
    ``cmap``. The legend sits beside the map (never over it), highest class on top, with each
    class's count; +inf (e.g. CER where ECS ≤ 0), missing values and the regions of
    ``incomplete`` (a sink known on too little of the area) get their own entries.
    ``outlines``: boundaries of a coarser level drawn over the regions."""
    from matplotlib.patches import Patch

    from . import classify

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 6))
    vals = gdf[column].astype("float64")
    partial = (
        np.zeros(len(gdf), dtype=bool) if incomplete is None else np.asarray(incomplete, dtype=bool)
    )
    vals = vals.where(~partial)
    finite = np.isfinite(vals).to_numpy()
    cls = classify.classes(vals[finite], scheme, k, centre)
    if centre is None:
        colours = classify.sequential_colours(len(cls), cmap)
    else:
        below = sum(1 for lo, hi in cls if lo < centre and hi <= centre)
        colours = classify.class_colours(below, len(cls) - below, cmap)
    uppers = np.array([hi for _, hi in cls])
    index = np.full(len(gdf), -1)
    if len(cls):
        index[finite] = np.minimum(
            np.searchsorted(uppers, vals[finite].to_numpy(), side="left"), len(cls) - 1
        )
    edge = {"edgecolor": "#555555", "linewidth": 0.3}
    layers: list[Layer] = []
    handles = []
    for i, ((lo, hi), colour) in enumerate(zip(cls, colours)):
        members = index == i
        if members.any():
            layers.append((gdf[members], "fill", {"color": colour, **edge}))
        handles.append(
            Patch(
                facecolor=colour,
                edgecolor="#555555",
                label=f"{_bound(lo)} to {_bound(hi)}  ({int(members.sum())})",
            )
        )
    handles.reverse()  # highest class on top, as the values run up a colour bar
    inf = np.isposinf(vals).to_numpy()
    if inf.any():
        layers.append((gdf[inf], "fill", {"color": "#67001f", **edge}))
        handles.append(Patch(facecolor="#67001f", label=f"+inf: ECS ≤ 0 ({int(inf.sum())})"))
    if partial.any():
        layers.append((gdf[partial], "fill", {"color": "#d9d9d9", "hatch": "..", **edge}))
        handles.append(
            Patch(
                facecolor="#d9d9d9",
                hatch="..",
                edgecolor="#555555",
                label=f"{incomplete_label} ({int(partial.sum())})",
            )
        )
    missing = (vals.isna() & ~pd.Series(partial, index=vals.index)).to_numpy()
    if missing.any():
        layers.append((gdf[missing], "fill", {"color": "white", "hatch": "//", **edge}))
        handles.append(
            Patch(
                facecolor="white",
                hatch="//",
                edgecolor="#555555",
                label=f"no value ({int(missing.sum())})",
            )
        )
    layers += _outline_layer(outlines)
    _draw(ax, layers)
    ax.legend(
        handles=handles,
        title=unit,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize=8,
        title_fontsize=8,
        frameon=False,
    )
    _save_map(fig, ax, gdf, title, path, frame, layers)


def plot_budget_maps(
    *,
    path_regions: str,
    level: str,
    budget_path: str,
    trends_path: str,
    out_paths: dict,
    min_valid_fraction: float,
    maps: dict | None = None,
    outline_level: str | None = None,
) -> None:
    """Maps of one level: period means of ECS, CE, CNC and CER and the CNC trend class (or,
    without ECS, of CE and RCS and the CE trend class). ``out_paths`` maps each kind of
    :func:`map_kinds` to a PNG path. ``maps`` (``outputs.maps``): ``values`` density (default)
    or total, the classification ``scheme`` and number of ``classes``. A sink known on less than
    ``min_valid_fraction`` of a region's area (its period-mean ``valid_fraction``) is drawn as
    such, not as a low value. ``outline_level``: a coarser level whose boundaries are drawn
    over the regions."""
    from .outputs import add_flux_densities, period_means
    from .regions import read_display_polygons

    maps = {"values": "density", "scheme": "quantiles", "classes": 6} | (maps or {})
    frame = MapFrame.from_config(maps)
    density = maps["values"] == "density"
    polys = read_display_polygons(path_regions, level)
    outlines = (
        read_display_polygons(path_regions, outline_level)
        if outline_level and outline_level != level
        else None
    )
    budget = add_flux_densities(pd.read_parquet(budget_path))
    budget["rcs_gc_m2"] = budget["rcs_tgc"] * 1e6 / budget["area_km2"]  # Tg/km² -> g/m²
    years = f"{budget['year'].min()}–{budget['year'].max()}"
    kinds = [k for k in out_paths if k in BUDGET_MAPS]
    pick = {k: BUDGET_MAPS[k][1] if density else BUDGET_MAPS[k][0] for k in kinds}
    # a region's period mean only if it has a value every year (as the spatial statistics)
    means = period_means(budget, sorted(set(pick.values())))
    means["_valid"] = budget.groupby("code")["valid_fraction"].mean()
    gdf = polys.merge(means, left_on="code", right_index=True, how="left")
    partial = (gdf["_valid"] < min_valid_fraction).to_numpy()
    for kind in kinds:
        _, _, cmap, centre, what, unit_total, unit_density = BUDGET_MAPS[kind]
        col = pick[kind]
        unit = unit_density if density else unit_total
        classed_map(
            gdf,
            col,
            cmap,
            centre,
            f"{what}, mean {years}, by {_words(level)}"
            + (" (per km²)" if density and unit != "ratio" else ""),
            unit,
            out_paths[kind],
            scheme=maps["scheme"],
            k=maps["classes"],
            outlines=outlines,
            incomplete=partial if col in SINK_COLUMNS else None,
            incomplete_label=f"sink known on < {100 * min_valid_fraction:.0f} % of the area",
            frame=frame,
        )
        log.info("map %s of %s written", kind, level)
    if "p_surplus" in out_paths:
        last = int(budget["year"].max())
        year = budget[budget["year"] == last].set_index("code")["p_surplus"]
        gdf = polys.merge(year.rename("p_surplus"), left_on="code", right_index=True, how="left")
        gdf["p_class"] = p_surplus_class(gdf["p_surplus"])
        categorical_map(
            gdf,
            "p_class",
            {k: v[2] for k, v in P_SURPLUS_CLASSES.items()},
            f"Probability of a surplus (CNC > 0), {last}, by {_words(level)}\n"
            '(uncertainty model: docs/method.md, "Uncertainty")',
            out_paths["p_surplus"],
            outlines=outlines,
            frame=frame,
        )
        log.info("map p_surplus of %s written", level)
    for kind in (k for k in out_paths if k.endswith("_trend")):
        var = f"{kind[: -len('_trend')]}_tgco2"
        col = f"{var}_trend_class"
        table = read_region_trends(trends_path)
        trends = table[["code", col]]
        gdf = polys.merge(trends, on="code", how="left")
        gdf[col] = gdf[col].fillna("undetermined")
        limits = ""
        if "trend_class_limits_tgco2" in table and len(table):
            t1, t2 = str(table["trend_class_limits_tgco2"].iloc[0]).split(";")
            limits = f"; decrease limits {t1} and {t2}"
        categorical_map(
            gdf,
            col,
            TREND_CLASS_COLOURS,
            f"Trend class of the {_in_words(var)}, {years}, by {_words(level)}\n"
            f"(OLS slope in Tg CO2 yr⁻²{limits}; Zhang et al. 2022)",
            out_paths[kind],
            outlines=outlines,
            frame=frame,
        )


SCENARIO_COLOURS = {"observed": "black"}


def plot_scenarios(*, table_path: str, out_dir: str) -> list[str]:
    """One PNG per region (as Zhang et al. 2022, Fig. 7): CE, ECS and CNC per year, observed and
    under each scenario to the horizon; the CE ensemble range shaded; interpolated ECS dashed."""
    plt = _pyplot()
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
        written.append(_save_figure(fig, os.path.join(out_dir, f"scenarios_{region}.png")))
    return written
