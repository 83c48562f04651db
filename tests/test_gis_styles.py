"""Default QGIS styles and field descriptions inside the GeoPackage."""

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from carbonbudget.outputs.styles import (
    diverging_ranges,
    layer_styles,
    quantile_ranges,
    write_styles_and_descriptions,
)


def test_diverging_classes_meet_at_zero_with_reds_below_and_blues_above():
    v = pd.Series([-30.0, -10.0, -5.0, -1.0, 2.0, 4.0, 8.0, 50.0, np.nan])
    ranges = diverging_ranges(v, "t")
    lows = [r[0] for r in ranges]
    highs = [r[1] for r in ranges]
    assert lows[0] == -30.0 and highs[-1] == 50.0
    assert 0.0 in highs and 0.0 in lows  # a break exactly at 0
    assert all(a <= b for a, b in zip(lows, highs))
    below = [r[2] for r in ranges if r[1] <= 0]
    above = [r[2] for r in ranges if r[0] >= 0]
    assert set(below) <= {"#b2182b", "#ef8a62", "#fddbc7"}
    assert set(above) <= {"#d1e5f0", "#67a9cf", "#2166ac"}


def test_quantile_classes_hold_equal_counts_of_skewed_values():
    v = pd.Series(np.r_[np.arange(1.0, 41.0), 41_000.0])  # one huge region, as CE of a city
    ranges = quantile_ranges(v, ["a", "b", "c", "d", "e"], "t")
    assert len(ranges) == 5 and ranges[-1][1] == 41_000.0
    counts = [((v >= lo) & (v <= hi)).sum() for lo, hi, _, _ in ranges]
    assert max(counts) <= 10  # equal intervals would put 40 of 41 in the first class
    assert quantile_ranges(pd.Series([np.nan]), ["a"], "t") == []


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
        "CE density (quantiles)",
        "Status 2010",
        "LISA cnc_tgco2",
    ]
    assert [r[3] for r in rows] == [1, 0, 0, 0] and rows[0][:2] == ("county", "geom")
    for *_, qml in rows:
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis" and root.find("renderer-v2") is not None
    default = ET.fromstring(rows[0][4].split("\n", 1)[1]).find("renderer-v2")
    assert default.get("type") == "graduatedSymbol"
    assert default.get("attr") == "cnc_flux_tco2_km2_mean"
    assert cols == [("ce_flux_tco2_km2_mean", "CE per km2")]


def test_without_cnc_the_first_style_is_the_default():
    layer = pd.DataFrame({"ce_flux_tco2_km2_mean": [1.0, 2.0, 3.0]})
    styles = layer_styles(layer)
    assert [s[3] for s in styles] == [True] and styles[0][0] == "CE density (quantiles)"
