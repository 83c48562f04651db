"""Default styles and field descriptions inside the GeoPackage, so a layer opens in QGIS styled
and with its columns explained.

QGIS reads the ``layer_styles`` table of a GeoPackage when a layer is loaded and applies the row
marked ``useAsDefault``; the other rows are listed in the layer's Style Manager. Each row holds a
QML document (QGIS's own style format). Field descriptions go into the GeoPackage schema
extension (``gpkg_data_columns``: a title and a description per column), which GDAL reads as
field alternative names and QGIS shows as aliases. No library writes either (GDAL and pyogrio
write features, not styles), so both are written here with sqlite3 after the layers.

The density styles take the classes and colours of the PNG map of the same variable
(:func:`carbonbudget.outputs.classify.coloured_classes` over
:func:`carbonbudget.outputs.maps.budget_map_values`), so QGIS and the figures show the same
breaks. They are rule-based renderers with an ELSE rule: a graduated renderer draws nothing for
a feature without a value, which would make it vanish from the map instead of showing as a gap.
"""

from __future__ import annotations

import re
import sqlite3
from xml.sax.saxutils import quoteattr

import pandas as pd

from carbonbudget.outputs import classify
from carbonbudget.outputs.palette import (
    BUDGET_MAPS,
    DRIVER_COLOURS,
    STATUS_COLOURS,
    gi_colours,
    lisa_colours,
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


def _hatch_symbol(name: str) -> str:
    """The 'no value' symbol: grey diagonal hatching on no fill, as the PNG maps hatch it."""
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
        '<Option name="color" type="QString" value="120,120,120,255"/>'
        '<Option name="outline_color" type="QString" value="85,85,85,255"/>'
        '<Option name="outline_style" type="QString" value="solid"/>'
        '<Option name="outline_width" type="QString" value="0.2"/>'
        '<Option name="outline_width_unit" type="QString" value="MM"/>'
        '<Option name="style" type="QString" value="b_diagonal"/>'
        "</Option></layer></symbol>"
    )


def rule_qml(
    rules: list[tuple[str, str, str]],
    aliases: dict | None = None,
    no_value: str = "no value",
) -> str:
    """A rule-based renderer: (filter expression, colour, label) per rule, then an ELSE rule
    drawing every other feature (no value) hatched, so no feature vanishes (a graduated
    renderer draws nothing for NULL)."""
    rows = "".join(
        f'<rule key="r{i}" filter={quoteattr(expr)} symbol="{i}" label={quoteattr(label)}/>'
        for i, (expr, _, label) in enumerate(rules)
    )
    n = len(rules)
    rows += f'<rule key="r{n}" filter="ELSE" symbol="{n}" label={quoteattr(no_value)}/>'
    symbols = "".join(_symbol(str(i), colour) for i, (_, colour, _) in enumerate(rules))
    symbols += _hatch_symbol(str(n))
    return _qml(
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
        f'<rules key="root">{rows}</rules><symbols>{symbols}</symbols></renderer-v2>',
        aliases,
    )


def _field(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def class_rules(
    column: str, classes: list[tuple[float, float, str]], unit: str
) -> list[tuple[str, str, str]]:
    """Rules of :func:`rule_qml` for classes (lower, upper, colour) of ``column``, each value
    in the class the PNG map puts it in: the first up to its upper bound, the others above
    their lower bound up to their upper (the last with no upper limit). Labels as the PNG
    legend writes bounds."""
    f = _field(column)
    out = []
    for i, (lo, hi, colour) in enumerate(classes):
        if i == 0:
            expr = f"{f} <= {float(hi)!r}" if len(classes) > 1 else f"{f} IS NOT NULL"
        elif i == len(classes) - 1:
            expr = f"{f} > {float(lo)!r}"
        else:
            expr = f"{f} > {float(lo)!r} AND {f} <= {float(hi)!r}"
        label = f"{classify.class_label(lo, hi, i == 0)} {unit}"
        out.append((expr, colour, label))
    return out


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


# The density maps a layer gets a style for: GeoPackage column -> the kind of budget map
# (outputs.palette.BUDGET_MAPS) whose colours and classes it takes, and a description.
DENSITY_STYLES = {
    "cnc_flux_tco2_km2_mean": ("cnc", "mean per km2; red: deficit, blue: surplus"),
    "ce_flux_tco2_km2_mean": ("ce", "mean carbon emissions per km2"),
    "ecs_flux_tco2_km2_mean": ("ecs", "mean ecosystem carbon sink per km2"),
    "rcs_flux_tco2_km2_mean": ("rcs", "mean rock-weathering carbon sink per km2"),
}
ROBUST = {  # (status, robust) -> colour and label of the robust-status style
    ("surplus", True): ("#2166ac", "surplus, 95 % interval above 0"),
    ("surplus", False): ("#92c5de", "surplus, interval reaches below 0"),
    ("deficit", False): ("#f4a582", "deficit, interval reaches above 0"),
    ("deficit", True): ("#b2182b", "deficit, 95 % interval below 0"),
}


def layer_styles(
    layer: pd.DataFrame,
    aliases: dict[str, str] | None = None,
    classes: dict[str, list[tuple[float, float, str]]] | None = None,
    scheme: tuple[str, int] = ("quantiles", 6),
) -> list[tuple[str, str, str, bool]]:
    """The styles of one GeoPackage layer: (name, description, QML, default). The default is
    the CNC flux density diverging at 0 (densities, not totals: a total makes a large region
    look important); without CNC, the CE density. ``classes``: column -> (lower, upper,
    colour) of the PNG map of the same variable (:func:`carbonbudget.outputs.maps.
    budget_map_values`), so both show the same breaks and colours; a column without them is
    classed from the layer's values with ``scheme`` (name, number of classes) and the map's
    colours. Every style draws a feature without a value hatched. ``aliases``: column ->
    title shown in QGIS."""
    styles: list[tuple[str, str, str, bool]] = []
    unit = "t CO2 km-2 yr-1"
    for col, (kind, description) in DENSITY_STYLES.items():
        if col not in layer:
            continue
        cmap, centre = BUDGET_MAPS[kind][2], BUDGET_MAPS[kind][3]
        cls = (classes or {}).get(col)
        if cls is None:
            cls = classify.coloured_classes(layer[col], scheme[0], scheme[1], centre, cmap)
        if cls:
            name = BUDGET_MAPS[kind][4].split(" (")[0]
            short = f"{kind.upper()} density" + (" (diverging at 0)" if centre == 0.0 else "")
            styles.append(
                (
                    short,
                    f"{name}: {description}",
                    rule_qml(class_rules(col, cls, unit), aliases),
                    kind == "cnc",
                )
            )
    status = sorted(c for c in layer.columns if re.fullmatch(r"status_\d{4}", c))
    if status:
        col = status[-1]
        cats = [(k, c, k) for k, c in STATUS_COLOURS.items()]
        styles.append(
            (f"Status {col[7:]}", "source or sink", categorized_qml(col, cats, aliases), False)
        )
        robust = f"status_robust_{col[7:]}"
        if robust in layer:
            # the robust flag may be stored as a boolean, an integer or text (a column with
            # unknown values): compared as text, so an unknown one falls to the ELSE rule
            flag = f"to_string({_field(robust)})"
            rules = [
                (
                    f"{_field(col)} = '{s}' AND {flag} IN "
                    + ("('1', 'true', 'True')" if r else "('0', 'false', 'False')"),
                    colour,
                    label,
                )
                for (s, r), (colour, label) in ROBUST.items()
            ]
            styles.append(
                (
                    f"Status {col[7:]} and its robustness",
                    "status and whether its 95 % interval stays on its side of 0",
                    rule_qml(rules, aliases, no_value="neutral, missing or incomplete"),
                    False,
                )
            )
    for col in layer.columns:
        if col.startswith("lisa_") and not col.endswith("_p"):
            cats = [(k, c, k) for k, c in lisa_colours(col[5:]).items()]
            styles.append(
                (
                    f"LISA {col[5:]}",
                    "local Moran cluster",
                    categorized_qml(col, cats, aliases),
                    False,
                )
            )
        if col.startswith("gi_") and not col.endswith("_z"):
            cats = [(k, c, k) for k, c in gi_colours(col[3:]).items()]
            styles.append(
                (f"Gi* {col[3:]}", "hot and cold spots", categorized_qml(col, cats, aliases), False)
            )
    if "main_driver" in layer:
        present = set(layer["main_driver"].dropna())
        cats = [(k, c, k) for k, c in DRIVER_COLOURS.items() if k in present and k != "no value"]
        styles.append(
            (
                "Main driver of the change of CE",
                "the largest of the effects on CE (LMDI)",
                categorized_qml("main_driver", cats, aliases),
                False,
            )
        )
    if styles and not any(s[3] for s in styles):
        styles[0] = (*styles[0][:3], True)
    return styles


def write_styles_and_descriptions(
    path: str,
    layers: dict[str, pd.DataFrame],
    describe: dict[str, tuple[str, str]],
    classes: dict[str, dict[str, list[tuple[float, float, str]]]] | None = None,
    scheme: tuple[str, int] = ("quantiles", 6),
) -> None:
    """Add ``layer_styles`` rows for every layer of ``layers`` and the descriptions of their
    columns (``describe``: column -> (title, description)) to the GeoPackage at ``path``.
    ``classes``: layer -> the classes of its PNG maps (:func:`layer_styles`)."""
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
            own = (classes or {}).get(table)
            for name, desc, qml, default in layer_styles(layer, aliases, own, scheme):
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
