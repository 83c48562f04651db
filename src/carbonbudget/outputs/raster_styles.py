"""QGIS styles beside the per-pixel rasters, so a COG opens in QGIS as the maps draw it.

QGIS looks for a QML file of the raster's name (``cnc_2010.tif`` -> ``cnc_2010.qml``) when it
loads a layer and applies it as the default style. Without one it draws a float raster as a grey
stretch and a class raster through its full 256-entry colour table (GeoTIFF stores no category
names). The sidecar written here gives:

- a class raster (a colour table and a ``classes`` tag,
  :func:`carbonbudget.core.io.write_class_cog`): a paletted renderer with only its classes, named;
- a float raster whose values straddle 0 (CNC, NEP, ECS, trend slopes and z-scores): a ramp
  diverging at 0 in the colours of :mod:`carbonbudget.outputs.palette` (blue where the value
  helps the balance), symmetric over the 2nd–98th percentile of the absolute values;
- any other float raster: a sequential ramp over its 2nd–98th percentile.

The percentiles come from the raster's smallest overview, so a style costs a few milliseconds
whatever the grid's size. No library writes QML (GDAL writes the raster, not QGIS styles).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import rasterio

from carbonbudget.outputs.palette import BAD, GOOD, NEUTRAL, higher_is_better

# sequential ramps (low to high) by the variable a file holds; others take the neutral one
SEQUENTIAL = {
    "ce": ("#fff5eb", "#fdae6b", "#e6550d", "#7f2704"),  # ColorBrewer Oranges, as the CE maps
    "ecs": ("#f7fcf5", "#a1d99b", "#41ab5d", "#00441b"),  # Greens, as the ECS maps
    "rcs": ("#ffffe5", "#d9f0a3", "#78c679", "#004529"),  # YlGn, as the RCS maps
    "npp": ("#f7fcf5", "#a1d99b", "#41ab5d", "#00441b"),
}
GREYS = ("#f7f7f7", "#bdbdbd", "#737373", "#252525")


def sidecar_path(raster: str | Path) -> Path:
    """Where QGIS looks for the default style of ``raster``."""
    return Path(raster).with_suffix(".qml")


def _variable(raster: Path) -> str:
    """The variable a pipeline raster holds: the file name before its period or statistic
    (``cnc_2010.tif`` -> ``cnc``, ``cnc_slope.tif`` -> ``cnc``); a change keeps the sense of
    its variable (``delta_rh_temperature_2001_2010.tif`` -> ``rh``: a rise is red)."""
    return raster.stem.removeprefix("delta_").split("_")[0].lower()


def _label(value: float, unit: str) -> str:
    text = f"{value:.3g}".replace("-", "−")
    return f"{text} {unit}".strip()


def _document(renderer: str) -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology">\n<pipe>\n'
        f"{renderer}\n"
        '<brightnesscontrast brightness="0" contrast="0" gamma="1"/>\n'
        '<rasterresampler maxOversample="2"/>\n'
        "</pipe>\n<blendMode>0</blendMode>\n</qgis>\n"
    )


def paletted_qml(entries: list[tuple[int, tuple[int, int, int], str]]) -> str:
    """A paletted renderer with one entry per class: (value, RGB, label)."""
    rows = "".join(
        f'<paletteEntry value="{value}" color="#{r:02x}{g:02x}{b:02x}" alpha="255" '
        f"label={quoteattr(label)}/>"
        for value, (r, g, b), label in entries
    )
    return _document(
        '<rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">'
        f"<rasterTransparency/><colorPalette>{rows}</colorPalette></rasterrenderer>"
    )


def ramp_qml(stops: list[tuple[float, str]], unit: str) -> str:
    """A single-band pseudocolour renderer interpolating between (value, colour) stops, with
    values beyond the ends drawn in the end colours (clip off)."""
    lo, hi = stops[0][0], stops[-1][0]
    items = "".join(
        f'<item value="{value!r}" color="{colour}" alpha="255" '
        f"label={quoteattr(_label(value, unit))}/>"
        for value, colour in stops
    )
    return _document(
        '<rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" '
        f'classificationMin="{lo!r}" classificationMax="{hi!r}" nodataColor="">'
        "<rasterTransparency/><rastershader>"
        '<colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" '
        f'minimumValue="{lo!r}" maximumValue="{hi!r}" labelPrecision="3">{items}'
        "</colorrampshader></rastershader></rasterrenderer>"
    )


def diverging_stops(edge: float, variable: str) -> list[tuple[float, str]]:
    """Stops of a ramp from −``edge`` to +``edge`` through the neutral colour at 0: the side
    that helps the balance blue, the other red."""
    high, low = (GOOD, BAD) if higher_is_better(variable) else (BAD, GOOD)
    below = [(-edge, low[2]), (-edge / 2, low[1]), (-edge / 6, low[0])]
    above = [(edge / 6, high[0]), (edge / 2, high[1]), (edge, high[2])]
    return [*below, (0.0, NEUTRAL), *above]


def _sample(src: rasterio.io.DatasetReader) -> np.ndarray:
    """The finite values of the raster's smallest overview (the full band without one)."""
    overviews = src.overviews(1)
    if overviews:
        factor = overviews[-1]
        shape = (max(1, src.height // factor), max(1, src.width // factor))
        data = src.read(1, out_shape=shape, masked=True)
    else:
        data = src.read(1, masked=True)
    values = np.asarray(data.astype("float64").filled(np.nan)).ravel()
    return values[np.isfinite(values)]


def raster_qml(raster: str | Path) -> str | None:
    """The default QGIS style of a pipeline raster (see the module), or None for a raster
    without values."""
    raster = Path(raster)
    with rasterio.open(raster) as src:
        classes = src.tags().get("classes")
        if classes and src.dtypes[0] == "uint8":
            table = src.colormap(1)
            entries = []
            for item in classes.split("; "):
                value, label = item.split(" ", 1)
                r, g, b, _ = table[int(value)]
                entries.append((int(value), (r, g, b), label))
            return paletted_qml(entries)
        unit = (src.units[0] or "").replace("-1", "⁻¹").replace("-2", "⁻²")
        values = _sample(src)
    if values.size == 0:
        return None
    variable = _variable(raster)
    lo, hi = np.percentile(values, [2, 98])
    if lo < 0 < hi:
        edge = float(np.percentile(np.abs(values), 98)) or 1.0
        return ramp_qml(diverging_stops(edge, variable), unit)
    if hi <= lo:
        hi = lo + 1.0
    ramp = SEQUENTIAL.get(variable, GREYS)
    steps = np.linspace(float(lo), float(hi), len(ramp))
    return ramp_qml([(float(v), c) for v, c in zip(steps, ramp)], unit)


def write_raster_style(raster: str | Path) -> Path | None:
    """Write the QML sidecar of ``raster`` unless one at least as new as the raster exists;
    the sidecar's path, or None when the raster has no values to style."""
    raster = Path(raster)
    target = sidecar_path(raster)
    if target.exists() and target.stat().st_mtime_ns >= raster.stat().st_mtime_ns:
        return target
    qml = raster_qml(raster)
    if qml is None:
        return None
    tmp = target.with_name(f".{target.name}.partial")
    tmp.write_text(qml, encoding="utf-8")
    tmp.replace(target)
    return target
