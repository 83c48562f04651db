"""Default styles and field descriptions inside the GeoPackage, so a layer opens in QGIS styled
and with its columns explained.

QGIS reads the ``layer_styles`` table of a GeoPackage when a layer is loaded and applies the row
marked ``useAsDefault``; the other rows are listed in the layer's Style Manager. Each row holds a
QML document (QGIS's own style format). Field descriptions go into the GeoPackage schema
extension (``gpkg_data_columns``: a title and a description per column), which GDAL reads as
field alternative names and QGIS shows as aliases. No library writes either (GDAL and pyogrio
write features, not styles), so both are written here with sqlite3 after the layers.

Class breaks come from ``mapclassify`` (PySAL): quantiles of the densities (skewed, so equal
intervals would leave most regions in the lowest class), and for CNC quantiles of the deficits
and of the surpluses separately, so 0 is always a break and the palette diverges there.
"""

from __future__ import annotations

import sqlite3
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from carbonbudget.outputs import classify
from carbonbudget.outputs.palette import (
    BLUES,
    DIVERGING,
    GI_COLOURS,
    LISA_COLOURS,
    ORANGES,
    STATUS_COLOURS,
)


def _rgba(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _symbol(name: str, colour: str) -> str:
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
        f'<Option name="color" type="QString" value="{_rgba(colour)}"/>'
        '<Option name="outline_color" type="QString" value="85,85,85,255"/>'
        '<Option name="outline_style" type="QString" value="solid"/>'
        '<Option name="outline_width" type="QString" value="0.2"/>'
        '<Option name="outline_width_unit" type="QString" value="MM"/>'
        '<Option name="style" type="QString" value="solid"/>'
        "</Option></layer></symbol>"
    )


def _qml(renderer: str, aliases: dict[str, str] | None = None) -> str:
    """A QML document with a renderer and field aliases (older QGIS versions do not show the
    GeoPackage's column titles, so the style carries them too)."""
    rows = "".join(
        f'<alias field={quoteattr(k)} index="{i}" name={quoteattr(v)}/>'
        for i, (k, v) in enumerate((aliases or {}).items())
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology|Fields">\n'
        f"{renderer}\n<aliases>{rows}</aliases>\n</qgis>\n"
    )


def graduated_qml(
    column: str, ranges: list[tuple[float, float, str, str]], aliases: dict | None = None
) -> str:
    """A graduated renderer on ``column``: (lower, upper, colour, label) per class."""
    rows = "".join(
        f'<range lower="{lo!r}" upper="{hi!r}" symbol="{i}" label={quoteattr(label)} '
        'render="true"/>'
        for i, (lo, hi, _, label) in enumerate(ranges)
    )
    symbols = "".join(_symbol(str(i), colour) for i, (_, _, colour, _) in enumerate(ranges))
    return _qml(
        f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(column)} '
        'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<ranges>{rows}</ranges><symbols>{symbols}</symbols></renderer-v2>",
        aliases,
    )


def categorized_qml(
    column: str, categories: list[tuple[str, str, str]], aliases: dict | None = None
) -> str:
    """A categorised renderer on ``column``: (value, colour, label) per category; values not
    listed draw in white as 'other'."""
    cats = "".join(
        f'<category value={quoteattr(value)} symbol="{i}" label={quoteattr(label)} render="true"/>'
        for i, (value, _, label) in enumerate(categories)
    )
    n = len(categories)
    cats += f'<category value="" symbol="{n}" label="other or no value" render="true"/>'
    symbols = "".join(_symbol(str(i), colour) for i, (_, colour, _) in enumerate(categories))
    symbols += _symbol(str(n), "#ffffff")
    return _qml(
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(column)} symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>",
        aliases,
    )


def _label(lo: float, hi: float, unit: str) -> str:
    return f"{lo:,.4g} to {hi:,.4g} {unit}"


def _spread(colours: list[str], n: int) -> list[str]:
    """``n`` of ``colours``, spread from the first to the last."""
    if not n:
        return []
    return [colours[p] for p in np.linspace(0, len(colours) - 1, n).round().astype(int)]


def quantile_ranges(values: pd.Series, colours: list[str], unit: str) -> list:
    """Quantile classes (:mod:`carbonbudget.outputs.classify`) of the finite values, one colour
    each."""
    cls = classify.classes(values, "quantiles", len(colours))
    return [
        (lo, hi, c, _label(lo, hi, unit)) for (lo, hi), c in zip(cls, _spread(colours, len(cls)))
    ]


def diverging_ranges(values: pd.Series, unit: str, per_side: int = 3) -> list:
    """Classes that meet at 0: quantiles of the negative values in reds, of the positive ones
    in blues, so a deficit and a surplus never share a class or a hue."""
    cls = classify.classes(values, "quantiles", 2 * per_side, centre=0.0)
    n_below = sum(1 for lo, hi in cls if lo < 0.0 and hi <= 0.0)
    colours = _spread(DIVERGING[:per_side], n_below) + _spread(
        DIVERGING[-per_side:], len(cls) - n_below
    )
    return [(lo, hi, c, _label(lo, hi, unit)) for (lo, hi), c in zip(cls, colours)]


def layer_styles(
    layer: pd.DataFrame, aliases: dict[str, str] | None = None
) -> list[tuple[str, str, str, bool]]:
    """The styles of one GeoPackage layer: (name, description, QML, default). The default is
    the CNC flux density diverging at 0 (densities, not totals: a total makes a large region
    look important); without CNC, the CE density. ``aliases``: column -> title shown in QGIS."""
    styles: list[tuple[str, str, str, bool]] = []
    unit = "t CO2 km-2 yr-1"
    if "cnc_flux_tco2_km2_mean" in layer:
        ranges = diverging_ranges(layer["cnc_flux_tco2_km2_mean"], unit)
        if ranges:
            styles.append(
                (
                    "CNC density (diverging at 0)",
                    "mean carbon neutral capacity per km2; red: deficit, blue: surplus",
                    graduated_qml("cnc_flux_tco2_km2_mean", ranges, aliases),
                    True,
                )
            )
    for col, name, colours in (
        ("ce_flux_tco2_km2_mean", "CE density", ORANGES),
        ("ecs_flux_tco2_km2_mean", "ECS density", BLUES),
        ("rcs_flux_tco2_km2_mean", "RCS density", BLUES),
    ):
        if col in layer:
            ranges = quantile_ranges(layer[col], colours, unit)
            if ranges:
                styles.append(
                    (
                        f"{name} (quantiles)",
                        f"mean {name} per km2",
                        graduated_qml(col, ranges, aliases),
                        False,
                    )
                )
    status = [c for c in layer.columns if c.startswith("status_")]
    if status:
        col = sorted(status)[-1]
        cats = [(k, c, k) for k, c in STATUS_COLOURS.items()]
        styles.append(
            (f"Status {col[7:]}", "source or sink", categorized_qml(col, cats, aliases), False)
        )
    for col in layer.columns:
        if col.startswith("lisa_") and not col.endswith("_p"):
            cats = [(k, c, k) for k, c in LISA_COLOURS.items()]
            styles.append(
                (
                    f"LISA {col[5:]}",
                    "local Moran cluster",
                    categorized_qml(col, cats, aliases),
                    False,
                )
            )
        if col.startswith("gi_") and not col.endswith("_z"):
            cats = [(k, c, k) for k, c in GI_COLOURS.items()]
            styles.append(
                (f"Gi* {col[3:]}", "hot and cold spots", categorized_qml(col, cats, aliases), False)
            )
    if styles and not any(s[3] for s in styles):
        styles[0] = (*styles[0][:3], True)
    return styles


def write_styles_and_descriptions(
    path: str, layers: dict[str, pd.DataFrame], describe: dict[str, tuple[str, str]]
) -> None:
    """Add ``layer_styles`` rows for every layer of ``layers`` and the descriptions of their
    columns (``describe``: column -> (title, description)) to the GeoPackage at ``path``."""
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
            "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME)"
        )
        con.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
            "'default QGIS styles of the layers', '1970-01-01T00:00:00.000Z')"
        )
        for table, layer in layers.items():
            geom = con.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
            ).fetchone()[0]
            aliases = {c: describe[c][0] for c in layer.columns if c in describe}
            for name, desc, qml, default in layer_styles(layer, aliases):
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                    "description, owner, ui, update_time) VALUES "
                    "('', '', ?, ?, ?, ?, '', ?, ?, 'carbonbudget', '', "
                    "'1970-01-01T00:00:00.000Z')",
                    (table, geom, name, qml, int(default), desc),
                )
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, "
            "column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, "
            "mime_type TEXT, constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY "
            "(table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name))"
        )
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
            "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
            "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
        )
        con.execute(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, "
            "'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', "
            "'read-write')"
        )
        for table, layer in layers.items():
            for col in layer.columns:
                if col in describe:
                    title, text = describe[col]
                    con.execute(
                        "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, "
                        "name, title, description) VALUES (?, ?, ?, ?, ?)",
                        (table, col, col, title, text),
                    )
        con.commit()
    finally:
        con.close()
