"""Maps of the regions: period-mean choropleths in classes from the data, the trend class, the
probability of a surplus, LISA clusters and hot spots; north-up on the grid's equal-area CRS,
with legend, scale bar, north arrow, the coarsest level's outlines and an optional inset."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carbonbudget.core.errors import InputDataError
from carbonbudget.outputs import classify
from carbonbudget.outputs.figures import plot_geometries, pyplot, quantity_phrase, save_figure
from carbonbudget.outputs.language import ZH, Phrase, level_phrase, lines, period_phrase, say
from carbonbudget.outputs.palette import (
    BUDGET_MAPS,
    DRIVER_COLOURS,
    P_SURPLUS_CLASSES,
    gi_colours,
    lisa_colours,
    trend_class_colours,
)
from carbonbudget.outputs.tables import add_flux_densities, period_means
from carbonbudget.regions.hierarchy import read_display_polygons
from carbonbudget.science.balance import PARTIAL_BELOW
from carbonbudget.science.decomposition import dominant_effect
from carbonbudget.science.trends import read_region_trends

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike
    from rasterio.crs import CRS

log = logging.getLogger(__name__)


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
    overlay: tuple[tuple[str, str], ...] = ()  # outputs.maps.overlay as sorted (key, value)
    label_max: int = 40
    source: str = ""
    review_number: str = ""
    language: str = "en"  # of titles, legends and notes (carbonbudget.outputs.language)

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
            overlay=tuple(sorted((maps.get("overlay") or {}).items())),
            source=str(maps.get("source") or ""),
            review_number=str(maps.get("review_number") or ""),
            label_max=int(maps.get("label_max", cls.label_max)),
            language=str(maps.get("language", cls.language)),
        )

    def say(self, text: str | Phrase, sep: str = " / ") -> str:
        """``text`` in the maps' language (a title's two languages on lines of their own)."""
        return say(text, self.language, sep)


def _frame_bounds(gdf: gpd.GeoDataFrame, lonlat: Sequence[float]) -> tuple[float, ...]:
    """The bounds, with a 2 % margin, of the regions' parts inside a lon/lat box: the box
    itself (projected, edges densified) reaches far beyond the data at its corners in most
    projections, which would leave the map small in a wide empty frame."""
    # lazy: only jobs that read polygons need shapely
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
        if kind == "image":  # a raster: (array, "image", imshow keywords)
            ax.imshow(part, **style)
        elif kind == "line":  # lines as they are, polygons by their outline
            polygons = part.geom_type.str.contains("Polygon")
            if polygons.any():
                plot_geometries(part[polygons].boundary, ax, **style)
            if (~polygons).any():
                plot_geometries(part[~polygons], ax, **style)
        else:
            plot_geometries(part.boundary if kind == "boundary" else part, ax, **style)


def overlay_layer(frame: MapFrame, crs) -> list[Layer]:
    """The ``outputs.maps.overlay`` layer in the map's CRS, drawn over every map and inset
    (none without one). A file that cannot be read or has no CRS is an error naming it."""
    if not frame.overlay:
        return []
    spec = dict(frame.overlay)
    gdf = _read_overlay(spec["path"], spec.get("layer"), crs.to_wkt() if crs else None)
    style = {"color": spec.get("colour", "#1a1a1a"), "linewidth": float(spec.get("width", 0.8))}
    return [(gdf, "line", {**style, "zorder": 5})]


@functools.lru_cache(maxsize=4)
def _read_overlay(path: str, layer: str | None, crs_wkt: str | None) -> gpd.GeoDataFrame:
    """The overlay file in the map's CRS, read once per job (every map of a job draws it)."""
    # lazy: only plotting jobs read the overlay
    import geopandas as gpd

    key = "outputs.maps.overlay.path"
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises its own errors for a missing or unreadable file
        raise InputDataError(
            f"cannot read the map overlay: {exc}",
            path=path,
            variable=key,
            fix="give a vector file GDAL reads (GeoPackage, shapefile, GeoJSON); "
            "outputs.maps.overlay.layer names the layer of a file with several",
        ) from exc
    if gdf.crs is None:
        raise InputDataError(
            "the map overlay has no CRS",
            path=path,
            variable=key,
            fix="save the file with its CRS (e.g. EPSG:4326 for longitudes and latitudes)",
        )
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return gdf.to_crs(crs_wkt) if crs_wkt else gdf


def save_map(
    fig, ax, gdf, title: str, path: str, frame: MapFrame | None = None, layers: Sequence[Layer] = ()
) -> None:
    """Extent and inset (``frame``; ``layers`` are drawn again in the inset), title, north
    arrow, scale bar and CRS label; then write the figure atomically."""
    frame = frame or MapFrame()
    overlay = overlay_layer(frame, gdf.crs)
    if overlay:
        limits = ax.get_xlim(), ax.get_ylim()
        _draw(ax, overlay)  # over the data, without widening the map to the overlay's extent
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        layers = [*layers, *overlay]
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
    _footer(ax, frame)
    if 0 < len(gdf) <= frame.label_max:
        label_regions(fig, ax, gdf)
    if inset is not None:
        add_inset(ax, layers, inset, frame)
    save_figure(fig, path, dpi=frame.dpi, tight_layout=False)


def label_regions(fig, ax: Axes, gdf: gpd.GeoDataFrame) -> list[str]:
    """The name of each region (its ``*_name`` column) at a point inside it, larger regions
    first; a label that would overlap one already placed, or leave the frame, is left out, so
    labels never cover each other. Returns the names placed."""
    names = [c for c in gdf.columns if c.endswith("_name")]
    if not names or gdf.crs is None:
        return []
    parts = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    parts = parts.assign(_area=parts.geometry.area).sort_values("_area", ascending=False)
    # the axes box as it will be drawn (an equal aspect shrinks it at drawing time): labels are
    # measured where they will be, not where the box was before the figure was first drawn
    ax.apply_aspect()
    renderer = fig.canvas.get_renderer()
    frame_box = ax.get_window_extent(renderer)
    placed: list[str] = []
    boxes: list = []  # matplotlib Bbox of each label placed
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    for name, point in zip(parts[names[0]], parts.geometry.representative_point()):
        if not isinstance(name, str) or not (x0 <= point.x <= x1 and y0 <= point.y <= y1):
            continue
        text = ax.text(
            point.x,
            point.y,
            name.replace(" (", "\n("),  # a part's note on a line of its own
            ha="center",
            va="center",
            fontsize=6,
            color="#1a1a1a",
            zorder=6,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.6, "pad": 0.5},
        )
        box = text.get_window_extent(renderer).expanded(1.2, 1.4)  # a gap between labels
        inside = frame_box.contains(box.x0, box.y0) and frame_box.contains(box.x1, box.y1)
        if not inside or any(box.overlaps(b) for b in boxes):
            text.remove()
            continue
        boxes.append(box)
        placed.append(name)
    return placed


def _footer(ax: Axes, frame: MapFrame) -> None:
    """The source line under the CRS name, and the map review number at the right."""
    if frame.source:
        ax.text(
            0.0,
            -0.045,
            frame.source,
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=6,
            color="dimgrey",
        )
    if frame.review_number:
        ax.text(
            1.0,
            -0.01,
            frame.review_number,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7,
        )


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
    # lazy: only jobs that read polygons need shapely
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


# classes that say a region has none: hatched, and not counted when a map has only one class
NO_CLASS = ("not computed", "undetermined", "no value")


def _outline_layer(outlines: gpd.GeoDataFrame | None) -> list[Layer]:
    """Boundaries of a coarser level over the regions (province outlines on a county map)."""
    return (
        [] if outlines is None else [(outlines, "boundary", {"color": "#1a1a1a", "linewidth": 0.9})]
    )


def categorical_map(
    gdf: gpd.GeoDataFrame,
    column: str,
    colours: dict,
    title: str | Phrase,
    path: str,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    frame: MapFrame | None = None,
) -> None:
    """A north-up map of a categorical column with a legend of every class present;
    ``outlines``: boundaries of a coarser level drawn over the regions. When every region with
    a class (not :data:`NO_CLASS`) falls in one class, the map says so in a sentence and draws
    those regions neutral: a map in one colour reads as a pattern that is not there."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib.patches import Patch

    frame = frame or MapFrame()
    fig, ax = pyplot().subplots(figsize=(7, 6))
    counts = {c: int((gdf[column] == c).sum()) for c in colours}
    classes = [c for c in colours if counts[c]]
    real = [c for c in classes if c not in NO_CLASS]
    one = real[0] if len(real) == 1 and counts[real[0]] > 1 else None
    if one is not None:
        colours = {**colours, one: "#f0f0f0"}
        ax.text(
            0.5,
            0.5,
            one_class_sentence(counts[one], one, frame.language),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=11,
            wrap=True,
            bbox={"facecolor": "white", "edgecolor": "#555555", "alpha": 0.9},
            zorder=10,
        )
    hatch = {c: "//" if c in NO_CLASS else None for c in classes}
    layers: list[Layer] = [
        (
            gdf[gdf[column] == cls],
            "fill",
            {"color": colours[cls], "edgecolor": "#555555", "linewidth": 0.3, "hatch": hatch[cls]},
        )
        for cls in classes
    ] + _outline_layer(outlines)
    _draw(ax, layers)
    handles = [
        Patch(
            facecolor=colours[c],
            edgecolor="#555555",
            hatch=hatch[c],
            label=f"{frame.say(c)} ({counts[c]})",
        )
        for c in classes
        if c != one  # the sentence is its legend
    ]
    if handles:
        ax.legend(  # beside the map, never over it
            handles=handles,
            loc="center left",
            bbox_to_anchor=(1.01, 0.5),
            fontsize=8,
            frameon=False,
        )
    save_map(fig, ax, gdf, frame.say(title, "\n"), path, frame, layers)


def one_class_sentence(n: int, cls: str, language: str = "en") -> str:
    """What a map whose ``n`` regions with a class all fall in class ``cls`` says instead of
    its colours."""
    return say(Phrase("All {n} regions with a class: {cls}", n=n, cls=Phrase(cls)), language, "\n")


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
    # a note of the statistics table (why they were not computed) is printed as it is written
    note = Phrase.pair(m["note"], m["note"]) if skipped else None
    stat = note or Phrase(
        "Moran's I = {i} (pseudo p = {p}, {n} permutations)",
        i=f"{m['moran_i']:.3f}",
        p=f"{m['p_sim']:.3g}",
        n=m["permutations"],
    )
    quantity, by = quantity_phrase(variable), level_phrase(level)
    categorical_map(
        gdf,
        "lisa_cluster",
        lisa_colours(variable),
        lines(
            Phrase(
                "LISA clusters of the mean {quantity} by {level} (pseudo p < {p})",
                quantity=quantity,
                level=by,
                p=f"{lisa_p:g}",
            ),
            stat,
        ),
        path_lisa,
        outlines=outlines,
        frame=frame,
    )
    categorical_map(
        gdf,
        "gi_class",
        gi_colours(variable),
        lines(
            Phrase(
                "Getis–Ord Gi* hot and cold spots of the mean {quantity} by {level}",
                quantity=quantity,
                level=by,
            ),
            note or Phrase("binary queen weights incl. self; z-score classes"),
        ),
        path_gi,
        outlines=outlines,
        frame=frame,
    )


# partial sums where coverage is partial
SINK_COLUMNS = ("ecs_tgco2", "ecs_flux_tco2_km2", "rcs_tgco2", "rcs_flux_tco2_km2")


def p_surplus_class(p: ArrayLike) -> np.ndarray:
    """The class label of each probability of a surplus (:data:`P_SURPLUS_CLASSES`)."""
    p = np.asarray(p, dtype="float64")
    out = np.full(p.shape, "no value", dtype=object)
    for label, (lo, hi, _) in P_SURPLUS_CLASSES.items():
        if np.isfinite(lo):
            out[(p >= lo) & (p < hi)] = label
    return out


@dataclass(frozen=True)
class Classes:
    """How a map classes its values: ``k`` classes of ``scheme``
    (:mod:`carbonbudget.outputs.classify`) coloured from ``cmap``; a diverging quantity gets
    classes on each side of ``centre``, coloured from the two halves of ``cmap``."""

    cmap: str
    centre: float | None = None
    scheme: str = "quantiles"
    k: int = 6


def classed_map(
    gdf: gpd.GeoDataFrame,
    column: str,
    classes: Classes,
    title: str | Phrase,
    unit: str,
    path: str,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    incomplete: tuple[ArrayLike, str | Phrase] | None = None,
    frame: MapFrame | None = None,
    part_known: Sequence[tuple[ArrayLike, str | Phrase]] = (),
) -> None:
    """A north-up choropleth of ``column`` in ``classes``. The legend sits beside the map
    (never over it), highest class on top, with each class's count; +inf (e.g. CER where
    ECS ≤ 0), missing values and the regions of ``incomplete`` (a mask and its legend label: a
    sink known on too little of the area) get their own entries; the regions of
    ``part_known`` (masks and their labels: a value resting on part of the area) keep their
    class colour under a cross-hatch with its own entry. ``outlines``: boundaries of a coarser
    level drawn over the regions."""
    cmap, centre = classes.cmap, classes.centre
    frame = frame or MapFrame()
    incomplete_mask, incomplete_label = incomplete if incomplete is not None else (None, "")
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib.patches import Patch

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 6))
    vals = gdf[column].astype("float64")
    partial = (
        np.zeros(len(gdf), dtype=bool)
        if incomplete_mask is None
        else np.asarray(incomplete_mask, dtype=bool)
    )
    vals = vals.where(~partial)
    finite = np.isfinite(vals).to_numpy()
    coloured = classify.coloured_classes(vals[finite], classes.scheme, classes.k, centre, cmap)
    cls = [(lo, hi) for lo, hi, _ in coloured]
    colours = [c for _, _, c in coloured]
    index = np.full(len(gdf), -1)
    if len(cls):
        index[finite] = classify.class_index(vals[finite].to_numpy(), cls)
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
                label=f"{frame.say(classify.class_phrase(lo, hi, i == 0))}  ({int(members.sum())})",
            )
        )
    handles.reverse()  # highest class on top, as the values run up a colour bar

    def swatch(mask: np.ndarray, style: dict, label: str | Phrase) -> None:
        """The regions of ``mask`` drawn in ``style``, with a legend entry counting them."""
        if mask.any():
            layers.append((gdf[mask], "fill", {**style, **edge}))
            face = style.get("color", style.get("facecolor"))
            handles.append(
                Patch(
                    facecolor=face,
                    hatch=style["hatch"],
                    edgecolor="#555555",
                    label=f"{frame.say(label)} ({int(mask.sum())})",
                )
            )

    inf = np.isposinf(vals).to_numpy()
    # black with a cross-hatch: no class colour of any colour map
    swatch(inf, {"color": "#1a1a1a", "hatch": "++"}, Phrase("+inf: ECS ≤ 0"))
    swatch(partial, {"color": "#d9d9d9", "hatch": ".."}, incomplete_label)
    missing = (vals.isna() & ~pd.Series(partial, index=vals.index)).to_numpy()
    swatch(missing, {"color": "white", "hatch": "//"}, Phrase("no value"))
    for (known, label), hatch in zip(part_known, ("xxx", "\\\\\\")):
        swatch(np.asarray(known, dtype=bool) & finite, {"facecolor": "none", "hatch": hatch}, label)
    layers += _outline_layer(outlines)
    _draw(ax, layers)
    ax.legend(
        handles=handles,
        title=frame.say(unit) if unit in ZH else unit,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize=8,
        title_fontsize=8,
        frameon=False,
    )
    save_map(fig, ax, gdf, frame.say(title, "\n"), path, frame, layers)


def cer_note(budget: pd.DataFrame) -> Phrase:
    """The second title line of a CER map: how the period's CER is made, and what 1 means
    when Cv is not 1 everywhere (a region is at CE = ECS where its CER equals its Cv)."""
    cv = budget["cv"].dropna() if "cv" in budget else pd.Series([1.0])
    if cv.empty or np.allclose(cv, 1.0):
        return Phrase("(the period's CE / ECS, Shi et al. 2022 with Cv = 1: CE = ECS at 1)")
    return Phrase(
        "(the period's CE / ECS × mean Cv, Shi et al. 2022; Cv {low}–{high}: "
        "CE = ECS where CER = Cv, not at 1)",
        low=f"{cv.min():.2f}",
        high=f"{cv.max():.2f}",
    )


def map_period(values: pd.DataFrame, column: str, mean: bool = True) -> Phrase:
    """The period of a map of ``column`` (a column of the budget table ``values``, or of its
    flux densities) as its title says it (:func:`period_phrase`): the same every year when no
    region's value changes over the years (RCS from a runoff climatology)."""
    constant = False
    if column in values and values["year"].nunique() > 1:
        # +inf (CER where ECS <= 0) is a value that may change too: compared as a flag
        v = values[column].astype("float64")
        finite = v.where(np.isfinite(v))
        g = finite.groupby(values["code"])
        spread = (g.max() - g.min()).abs()
        scale = max(1.0, float(finite.abs().max(skipna=True) or 0.0))
        flags = np.isinf(v).groupby(values["code"]).nunique() > 1  # finite in some years only
        constant = bool(
            spread.notna().any() and (spread.dropna() <= 1e-9 * scale).all() and not flags.any()
        )
    return period_phrase(values["year"], mean=mean, constant=constant)


def budget_map_values(
    budget: pd.DataFrame, kinds: list[str], density: bool, min_valid_fraction: float
) -> pd.DataFrame:
    """Per region (index ``code``) the value each budget map of ``kinds`` (:data:`BUDGET_MAPS`)
    classes: its period mean, only if the region has a value every year (as the spatial
    statistics), and none for a sink-based column where the sink is known on less than
    ``min_valid_fraction`` of the area (drawn as such); ``_valid`` is the mean valid fraction.
    The GeoPackage styles class the same values, so both show the same breaks."""
    budget = add_flux_densities(budget)
    cols = sorted({BUDGET_MAPS[k][1] if density else BUDGET_MAPS[k][0] for k in kinds})
    means = period_means(budget, cols)
    means["_valid"] = budget.groupby("code")["valid_fraction"].mean()
    known = budget.get("ce_known_area_fraction", pd.Series(1.0, index=budget.index))
    means["_ce_known"] = known.groupby(budget["code"]).mean()
    sink = [c for c in cols if c in SINK_COLUMNS]
    means[sink] = means[sink].where(~(means["_valid"] < min_valid_fraction), axis=0)
    return means


def period_differences(table: pd.DataFrame) -> pd.DataFrame:
    """Per region (index code) of a comparison table (tables/emission_sources_<level>.csv):
    the period's relative difference of the second source from the table, a ratio of the
    period's sums over the years both have a value, and those years."""
    rows = table[(table["code"] != "all")].dropna(subset=["ce_tgco2", "compare_tgco2"])
    sums = rows.groupby("code")[["ce_tgco2", "compare_tgco2"]].sum()
    out = pd.DataFrame(index=sums.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rel_diff"] = np.where(
            sums["ce_tgco2"] > 0, sums["compare_tgco2"] / sums["ce_tgco2"] - 1.0, np.nan
        )
    out["years"] = rows.groupby("code")["year"].nunique()
    return out


def compare_map(
    polys: gpd.GeoDataFrame,
    sources_path: str,
    path: str,
    by: Phrase,
    outlines: gpd.GeoDataFrame | None,
    frame: MapFrame,
    scheme: tuple[str, int],
) -> None:
    """The second emission source against the table per region: (second − table) / table over
    the years compared, diverging at 0 in purple and orange (neither source is the truth, so
    not in the colours that mean helping or hurting the balance)."""
    table = pd.read_csv(sources_path, dtype={"code": str})
    years = table.loc[table["code"] != "all", "year"]
    gdf = polys.merge(period_differences(table), left_on="code", right_index=True, how="left")
    classed_map(
        gdf,
        "rel_diff",
        Classes("PuOr_r", 0.0, scheme[0], scheme[1]),
        lines(
            Phrase(
                "{source} against the emission table, {period}, by {level}",
                source=Phrase.pair(str(table["source"].iloc[0]), str(table["source"].iloc[0])),
                period=period_phrase(years, mean=False),  # a ratio of the period's sums
                level=by,
            ),
            Phrase("((second − table) / table, over the years both have)"),
        ),
        "ratio",
        path,
        outlines=outlines,
        frame=frame,
    )


def table_maps(
    tables: dict[str, str | None],
    out_paths: dict,
    regions: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, Phrase],
    frame: MapFrame,
    scheme: tuple[str, int],
) -> None:
    """The maps of a level drawn from a table of its own (kind -> path, or None where the run
    has none): the main driver of the change of CE, a second emission source's difference."""
    polys, outlines, by = regions
    for kind in (k for k, path in tables.items() if path and k in out_paths):
        path = str(tables[kind])
        if kind == "ce_drivers":
            driver_map(polys, path, out_paths[kind], by, outlines, frame)
        else:
            compare_map(polys, path, out_paths[kind], by, outlines, frame, scheme)
        log.info("map %s written", kind)


def driver_map(
    polys: gpd.GeoDataFrame,
    decomposition_path: str,
    path: str,
    by: Phrase,
    outlines: gpd.GeoDataFrame | None,
    frame: MapFrame,
) -> None:
    """The main driver of each region's change of CE over the period: the largest of its
    effects (population, affluence and intensity, and urbanisation and industry where given),
    red where it raises CE, blue where it lowers it
    (:func:`~carbonbudget.science.decomposition.dominant_effect`)."""
    table = pd.read_csv(decomposition_path, dtype={"code": str})
    period = table[table["kind"] == "period"].iloc[0]
    drivers = polys.merge(dominant_effect(table), left_on="code", right_index=True, how="left")
    drivers["dominant_effect"] = drivers["dominant_effect"].fillna("no value")
    categorical_map(
        drivers,
        "dominant_effect",
        DRIVER_COLOURS,
        lines(
            Phrase(
                "Main driver of the change of CE, {period}, by {level}",
                period=Phrase(
                    "{first}–{last}", first=period["start_year"], last=period["end_year"]
                ),
                level=by,
            ),
            Phrase("(the largest of the effects on CE; additive LMDI, Ang 2005)"),
        ),
        path,
        outlines=outlines,
        frame=frame,
    )


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
    decomposition_path: str | None = None,
    sources_path: str | None = None,
) -> None:
    """Maps of one level: period means of ECS, CE, CNC and CER and the CNC trend class (or,
    without ECS, of CE and RCS and the CE trend class). ``out_paths`` maps each kind of
    :func:`map_kinds` to a PNG path. ``maps`` (``outputs.maps``): ``values`` density (default)
    or total, the classification ``scheme`` and number of ``classes``. A sink known on less than
    ``min_valid_fraction`` of a region's area (its period-mean ``valid_fraction``) is drawn as
    such, not as a low value; one known on less than :data:`PARTIAL_BELOW` keeps its colour
    under a cross-hatch on every map that depends on the sink. ``outline_level``: a coarser
    level whose boundaries are drawn over the regions. ``decomposition_path``: the level's
    decomposition table, for the map of the main driver of the change of CE (``ce_drivers``);
    ``sources_path``: the level's comparison of a second emission source (``ce_compare``)."""
    maps = {"values": "density", "scheme": "quantiles", "classes": 6} | (maps or {})
    frame = MapFrame.from_config(maps)
    density = maps["values"] == "density"
    polys = read_display_polygons(path_regions, level)
    outlines = (
        read_display_polygons(path_regions, outline_level)
        if outline_level and outline_level != level
        else None
    )
    budget = pd.read_parquet(budget_path)
    years = period_phrase(budget["year"], mean=False)
    by = level_phrase(level)
    kinds = [k for k in out_paths if k in BUDGET_MAPS]
    pick = {k: BUDGET_MAPS[k][1] if density else BUDGET_MAPS[k][0] for k in kinds}
    means = budget_map_values(budget, kinds, density, min_valid_fraction)
    gdf = polys.merge(means, left_on="code", right_index=True, how="left")
    partial = (gdf["_valid"] < min_valid_fraction).to_numpy()
    # known on enough of the area for a value, on too little for a whole region's sink
    part = (~partial & (gdf["_valid"] < PARTIAL_BELOW)).to_numpy()
    part_label = Phrase(
        "sink known on {low}–{high} % of the area",
        low=f"{100 * min_valid_fraction:.0f}",
        high=f"{100 * PARTIAL_BELOW:.0f}",
    )
    # CE summed over members covering part of the area (the emission table lacks the others)
    ce_part = (gdf["_ce_known"] < PARTIAL_BELOW).to_numpy()
    ce_label = Phrase("CE known on < {pct} % of the area", pct=f"{100 * PARTIAL_BELOW:.0f}")
    densities = add_flux_densities(budget)  # what each map's title period is judged on
    for kind in kinds:
        _, _, cmap, centre, what, unit_total, unit_density = BUDGET_MAPS[kind]
        col = pick[kind]
        unit = unit_density if density else unit_total
        title = Phrase(
            "{quantity}, {period}, by {level}",
            quantity=Phrase(what),
            period=map_period(densities, col, kind != "cer"),
            level=by,
        )
        if density and unit != "ratio":
            title = Phrase("{title} (per km²)", title=title)
        classed_map(
            gdf,
            col,
            Classes(cmap, centre, maps["scheme"], maps["classes"]),
            lines(title, cer_note(budget)) if kind == "cer" else title,
            unit,
            out_paths[kind],
            outlines=outlines,
            incomplete=(
                (
                    partial,
                    Phrase(
                        "sink known on < {pct} % of the area", pct=f"{100 * min_valid_fraction:.0f}"
                    ),
                )
                if col in SINK_COLUMNS
                else None
            ),
            frame=frame,
            part_known=[
                *([(part, part_label)] if kind != "ce" else []),
                *([(ce_part, ce_label)] if kind in ("ce", "cnc", "cer") else []),
            ],
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
            lines(
                Phrase(
                    "Probability of a surplus (CNC > 0), {period}, by {level}",
                    period=period_phrase([last]),
                    level=by,
                ),
                Phrase('(uncertainty model: docs/method.md, "Uncertainty")'),
            ),
            out_paths["p_surplus"],
            outlines=outlines,
            frame=frame,
        )
        log.info("map p_surplus of %s written", level)
    table_maps(
        {"ce_drivers": decomposition_path, "ce_compare": sources_path},
        out_paths,
        (polys, outlines, by),
        frame,
        (maps["scheme"], maps["classes"]),
    )
    for kind in (k for k in out_paths if k.endswith("_trend")):
        var = f"{kind[: -len('_trend')]}_tgco2"
        col = f"{var}_trend_class"
        table = read_region_trends(trends_path)
        trends = table[["code", col]]
        gdf = polys.merge(trends, on="code", how="left")
        gdf[col] = gdf[col].fillna("undetermined")
        note = Phrase("(OLS slope in Tg CO2 yr⁻²; Zhang et al. 2022)")
        if "trend_class_limits_tgco2" in table and len(table):
            t1, t2 = str(table["trend_class_limits_tgco2"].iloc[0]).split(";")
            note = Phrase(
                "(OLS slope in Tg CO2 yr⁻²; decrease limits {t1} and {t2}; Zhang et al. 2022)",
                t1=t1,
                t2=t2,
            )
        categorical_map(
            gdf,
            col,
            trend_class_colours(var),
            lines(
                Phrase(
                    "Trend class of the {quantity}, {period}, by {level}",
                    quantity=quantity_phrase(var),
                    period=years,
                    level=by,
                ),
                note,
            ),
            out_paths[kind],
            outlines=outlines,
            frame=frame,
        )
