"""Default QGIS styles and field descriptions inside the GeoPackage."""

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from carbonbudget.outputs.classify import coloured_classes
from carbonbudget.outputs.styles import class_rules, layer_styles, write_styles_and_descriptions


def test_class_rules_put_each_value_where_the_png_map_puts_it():
    """A value on a shared bound belongs to the lower class (as the PNG legend's searchsorted
    puts it); the first class takes everything up to its bound, the last everything above its
    lower bound; labels write bounds as the PNG legend does."""
    classes = [(-30.0, -5.0, "#a"), (-5.0, 0.0, "#b"), (0.0, 8.0, "#c"), (8.0, 1234.5, "#d")]
    rules = class_rules("v", classes, "t")
    assert [r[0] for r in rules] == [
        '"v" <= -5.0',
        '"v" > -5.0 AND "v" <= 0.0',
        '"v" > 0.0 AND "v" <= 8.0',
        '"v" > 8.0',
    ]
    assert [r[2] for r in rules] == ["−30 to −5 t", "> −5 to 0 t", "> 0 to 8 t", "> 8 to 1,234 t"]
    assert class_rules("v", [(2.0, 2.0, "#a")], "t")[0][0] == '"v" IS NOT NULL'


def test_density_styles_take_the_maps_colours_and_draw_no_value_hatched():
    """Without classes from the maps a density style classes the layer's values with the maps'
    scheme and colour map: CNC diverging at 0 in the CNC map's reds and blues; every style
    ends in an ELSE rule for features without a value."""
    layer = pd.DataFrame({"cnc_flux_tco2_km2_mean": [-30.0, -10.0, -5.0, 2.0, 8.0, 50.0, np.nan]})
    ((name, _, qml, default),) = layer_styles(layer)
    assert name == "CNC density (diverging at 0)" and default
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    rules = renderer.find("rules").findall("rule")
    assert rules[-1].get("filter") == "ELSE" and rules[-1].get("label") == "no value"
    assert any(" to 0 t CO2" in r.get("label") for r in rules)  # a break at 0
    expected = coloured_classes(layer.iloc[:, 0], "quantiles", 6, 0.0, "RdBu")
    colours = [
        s.find("layer/Option/Option[@name='color']").get("value")
        for s in renderer.find("symbols").findall("symbol")
    ]
    rgb = [",".join(str(int(c[i : i + 2], 16)) for i in (1, 3, 5)) + ",255" for *_, c in expected]
    assert colours[:-1] == rgb


def test_styles_and_descriptions_land_in_the_geopackage(tmp_path):
    path = tmp_path / "g.gpkg"
    layer = gpd.GeoDataFrame(
        {
            "code": ["1", "2", "3", "4"],
            "cnc_flux_tco2_km2_mean": [-100.0, -20.0, 30.0, 250.0],
            "ce_flux_tco2_km2_mean": [300.0, 40.0, 10.0, 5.0],
            "status_2010": ["deficit", "deficit", "surplus", "surplus"],
            "lisa_cnc_tgco2": ["HH", "not significant", "LL", "LL"],
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(4)],
        crs="EPSG:4326",
    )
    layer.to_file(path, layer="county", driver="GPKG")
    write_styles_and_descriptions(
        str(path), {"county": layer}, {"ce_flux_tco2_km2_mean": ("CE per km2", "mean CE")}
    )
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT f_table_name, f_geometry_column, styleName, useAsDefault, styleQML "
        "FROM layer_styles ORDER BY id"
    ).fetchall()
    cols = con.execute("SELECT column_name, title FROM gpkg_data_columns").fetchall()
    con.close()
    assert [r[2] for r in rows] == [
        "CNC density (diverging at 0)",
        "CE density",
        "Status 2010",
        "LISA cnc_tgco2",
    ]
    assert [r[3] for r in rows] == [1, 0, 0, 0] and rows[0][:2] == ("county", "geom")
    for *_, qml in rows:
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis" and root.find("renderer-v2") is not None
    default = ET.fromstring(rows[0][4].split("\n", 1)[1]).find("renderer-v2")
    assert default.get("type") == "RuleRenderer"
    assert '"cnc_flux_tco2_km2_mean"' in default.find("rules/rule").get("filter")
    assert cols == [("ce_flux_tco2_km2_mean", "CE per km2")]


def test_without_cnc_the_first_style_is_the_default():
    layer = pd.DataFrame({"ce_flux_tco2_km2_mean": [1.0, 2.0, 3.0]})
    styles = layer_styles(layer)
    assert [s[3] for s in styles] == [True] and styles[0][0] == "CE density"


def test_the_status_style_reads_the_status_and_the_robust_style_both_columns():
    """status_robust_<year> (a boolean) is not taken for the status column (QGIS read True as
    'surplus'); the robustness style's rules name both columns."""
    layer = pd.DataFrame(
        {
            "status_2010": ["surplus", "deficit", "missing"],
            "status_robust_2010": [True, False, None],
        }
    )
    styles = {s[0]: s[2] for s in layer_styles(layer)}
    status = ET.fromstring(styles["Status 2010"].split("\n", 1)[1]).find("renderer-v2")
    assert status.get("attr") == "status_2010"
    robust = ET.fromstring(styles["Status 2010 and its robustness"].split("\n", 1)[1])
    filters = [r.get("filter") for r in robust.find("renderer-v2/rules").findall("rule")]
    yes, no = "('1', 'true', 'True')", "('0', 'false', 'False')"
    flag = 'to_string("status_robust_2010") IN '
    assert filters == [
        f"\"status_2010\" = 'surplus' AND {flag}{yes}",
        f"\"status_2010\" = 'surplus' AND {flag}{no}",
        f"\"status_2010\" = 'deficit' AND {flag}{no}",
        f"\"status_2010\" = 'deficit' AND {flag}{yes}",
        "ELSE",
    ]
