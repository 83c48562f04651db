"""One colour meaning on every map and raster: what helps the balance is blue, what hurts it
red, on the budget maps, the LISA, Gi* and trend-class maps, the status raster and the QGIS
styles beside the rasters; a map of one class says so in words."""

import json
import os
import subprocess

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from helpers import REPO, qgis_python
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from shapely.geometry import box

from carbonbudget.core.grid import Grid
from carbonbudget.core.io import write_class_cog
from carbonbudget.outputs import classify, maps, palette, raster_styles
from carbonbudget.science.balance import PIXEL_STATUS


def _side(colour: str) -> str:
    """'blue', 'red' or 'neutral': the side of a diverging red-blue scale a colour is on."""
    r, _, b = to_rgb(colour)
    if abs(r - b) < 0.05:
        return "neutral"
    return "blue" if b > r else "red"


def _budget_map_high_side(kind: str) -> str:
    """The side of the highest class of a budget map of ``kind`` with values either side of
    its centre (the CNC and CER maps diverge), or of the top of its sequential colour map."""
    _, _, cmap, centre, *_ = palette.BUDGET_MAPS[kind]
    if centre is None:
        return _side(colormaps[cmap](1.0))
    values = np.linspace(centre - 5, centre + 5, 40)
    return _side(classify.coloured_classes(values, "quantiles", 6, centre, cmap)[-1][2])


@pytest.mark.parametrize(("variable", "kind"), [("cnc_tgco2", "cnc"), ("cer", "cer")])
def test_high_values_have_one_colour_on_every_map(variable, kind):
    """A cluster, hot spot or rise of high CNC is blue as a CNC surplus is on the CNC map and
    the regions' status; of CER (a risk) red, as on the CER map."""
    high = _budget_map_high_side(kind)
    assert high == ("blue" if kind == "cnc" else "red")
    lisa, gi = palette.lisa_colours(variable), palette.gi_colours(variable)
    trend = palette.trend_class_colours(variable)
    for colour in (lisa["HH"], lisa["HL"], gi["hot spot 99%"], gi["hot spot 90%"]):
        assert _side(colour) == high
    for colour in (lisa["LL"], lisa["LH"], gi["cold spot 99%"], gi["cold spot 90%"]):
        assert _side(colour) not in (high, "neutral")
    assert _side(trend["increase"]) == high
    assert all(_side(trend[c]) not in (high, "neutral") for c in trend if "decrease" in c)
    assert _side(palette.STATUS_COLOURS["surplus"]) == "blue"


def test_rising_emissions_are_red_and_falling_blue():
    """China's CE trend map drew rising emissions green."""
    trend = palette.trend_class_colours("ce_tgco2")
    assert _side(trend["increase"]) == "red" == _budget_map_high_side("cer")
    assert {_side(trend[c]) for c in trend if "decrease" in c} == {"blue"}
    assert _side(palette.lisa_colours("ce_tgco2")["HH"]) == "red"


def test_no_class_colour_is_green():
    """Red against green is what the common colour-vision deficiencies cannot tell apart: the
    categorical maps use red and blue only (grey for none)."""
    for variable in ("cnc_tgco2", "ce_tgco2", "ecs_tgco2"):
        for colours in (
            palette.lisa_colours(variable),
            palette.gi_colours(variable),
            palette.trend_class_colours(variable),
        ):
            for colour in colours.values():
                r, g, b = to_rgb(colour)
                assert not (g > r + 0.05 and g > b + 0.05), (variable, colour)


def test_trend_strength_darkens_with_the_decrease():
    trend = palette.trend_class_colours("cnc_tgco2")
    light = [sum(to_rgb(trend[c])) for c in ("slight decrease", "significant decrease")]
    assert light[0] > light[1] > sum(to_rgb(trend["sharp decrease"]))


def test_the_pixel_status_has_the_regions_status_colours():
    as_hex = {k: "#{:02x}{:02x}{:02x}".format(*v) for k, v in palette.PIXEL_STATUS_COLOURS.items()}
    assert as_hex == {
        1: palette.STATUS_COLOURS["deficit"],
        2: palette.STATUS_COLOURS["neutral"],
        3: palette.STATUS_COLOURS["surplus"],
    }


def _png_colours(path) -> set[tuple[int, int, int]]:
    import matplotlib.image as mpimg

    img = (mpimg.imread(path)[..., :3] * 255).round().astype(int)
    return set(map(tuple, img.reshape(-1, 3)))


def test_a_map_of_one_class_says_so_in_words(tmp_path, monkeypatch):
    """Every region 'increase': no map in the class's colour, a sentence instead (and a map of
    two classes keeps its colours)."""
    said = []
    monkeypatch.setattr(
        maps,
        "one_class_sentence",
        lambda n, c, language="en": said.append((n, c)) or f"All {n}: {c}",
    )
    gdf = gpd.GeoDataFrame(
        {"code": ["1", "2", "3"], "cls": ["increase"] * 3},
        geometry=[box(i * 10_000, 0, (i + 1) * 10_000, 10_000) for i in range(3)],
        crs="EPSG:3857",
    )
    colours = palette.trend_class_colours("cnc_tgco2")
    rgb = tuple(round(255 * v) for v in to_rgb(colours["increase"]))
    maps.categorical_map(gdf, "cls", colours, "one class", str(tmp_path / "one.png"))
    assert said == [(3, "increase")]
    assert rgb not in _png_colours(tmp_path / "one.png")
    # China's CE trend: 30 provinces 'increase', 4 without a trend: still one class
    gdf.loc[0, "cls"] = "undetermined"
    maps.categorical_map(gdf, "cls", colours, "one and none", str(tmp_path / "none.png"))
    assert said[-1] == (2, "increase") and rgb not in _png_colours(tmp_path / "none.png")
    gdf.loc[0, "cls"] = "sharp decrease"
    maps.categorical_map(gdf, "cls", colours, "two classes", str(tmp_path / "two.png"))
    assert rgb in _png_colours(tmp_path / "two.png") and len(said) == 2
    assert maps.one_class_sentence.__module__  # the patched function, restored after the test


def _grid():
    return Grid.from_config(
        {
            "crs": "EPSG:3857",
            "resolution": 1000,
            "bounds": [0, 0, 50_000, 40_000],
            "allow_non_equal_area": True,
        }
    )


@pytest.fixture
def rasters(tmp_path):
    """A CNC raster straddling 0, a CE raster of positive values, a status class raster."""
    grid = _grid()
    rng = np.random.default_rng(0)
    profile = grid.profile(dtype="float32", nodata=np.nan)
    out = {}
    for name, data, unit in (
        ("cnc_2010", rng.normal(0, 50, grid.shape), "t CO2 km-2 yr-1"),
        ("ce_2010", rng.uniform(5, 500, grid.shape), "t CO2 km-2 yr-1"),
        ("delta_rh_temperature_2001_2010", rng.normal(0, 5, grid.shape), "g C m-2 yr-1"),
    ):
        data[:3] = np.nan
        with rasterio.open(tmp_path / f"{name}.tif", "w", **profile) as ds:
            ds.write(data.astype("float32"), 1)
            ds.units = (unit,)
        out[name] = tmp_path / f"{name}.tif"
    status = np.where(rng.normal(size=grid.shape) < 0, 1, 3)
    status[0, :5] = 2
    status[1] = 0
    out["status"] = tmp_path / "status_2010.tif"
    write_class_cog(
        str(out["status"]),
        status,
        grid,
        colours=palette.PIXEL_STATUS_COLOURS,
        labels=PIXEL_STATUS,
        description="status",
    )
    return out


def test_raster_sidecars_diverge_at_zero_and_name_the_classes(rasters):
    import xml.etree.ElementTree as ET

    for path in rasters.values():
        assert raster_styles.write_raster_style(path) == path.with_suffix(".qml")
    cnc = ET.parse(rasters["cnc_2010"].with_suffix(".qml")).getroot()
    items = [(float(i.get("value")), i.get("color")) for i in cnc.iter("item")]
    values = [v for v, _ in items]
    assert values == sorted(values) and values[0] == -values[-1] and 0.0 in values
    assert dict(items)[0.0] == palette.NEUTRAL
    assert _side(items[-1][1]) == "blue" and _side(items[0][1]) == "red"
    with rasterio.open(rasters["cnc_2010"]) as src:
        data = src.read(1)
    edge = np.percentile(np.abs(data[np.isfinite(data)]), 98)
    assert values[-1] == pytest.approx(edge)
    # a rise of respiration lowers the sink: red, as RH's own maps draw it
    rh = ET.parse(rasters["delta_rh_temperature_2001_2010"].with_suffix(".qml")).getroot()
    rh_items = [(float(i.get("value")), i.get("color")) for i in rh.iter("item")]
    assert _side(rh_items[-1][1]) == "red" and _side(rh_items[0][1]) == "blue"
    ce = ET.parse(rasters["ce_2010"].with_suffix(".qml")).getroot()
    ce_values = [float(i.get("value")) for i in ce.iter("item")]
    assert 0 < ce_values[0] < ce_values[-1] < 500
    status = ET.parse(rasters["status"].with_suffix(".qml")).getroot()
    entries = [
        (e.get("value"), e.get("color"), e.get("label")) for e in status.iter("paletteEntry")
    ]
    assert entries == [
        ("1", palette.STATUS_COLOURS["deficit"], PIXEL_STATUS[1]),
        ("2", palette.STATUS_COLOURS["neutral"], PIXEL_STATUS[2]),
        ("3", palette.STATUS_COLOURS["surplus"], PIXEL_STATUS[3]),
    ]


def test_a_sidecar_is_rewritten_only_when_its_raster_changed(rasters):
    path = rasters["cnc_2010"]
    style = raster_styles.write_raster_style(path)
    style.write_text("kept")
    raster_styles.write_raster_style(path)
    assert style.read_text() == "kept"
    later = style.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))  # the raster rewritten after its style
    raster_styles.write_raster_style(path)
    assert style.read_text().startswith("<!DOCTYPE qgis")


def test_qgis_opens_the_rasters_in_their_styles(rasters):
    """QGIS itself (headless) draws the status raster in three named classes (not a 256-entry
    colour table) and CNC in a ramp diverging at 0 (not a grey stretch)."""
    exe = qgis_python()
    for path in rasters.values():
        raster_styles.write_raster_style(path)
    proc = subprocess.run(
        [exe, str(REPO / "tests/qgis/open_raster.py"), *map(str, rasters.values())],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    status = seen[str(rasters["status"])]
    assert status["renderer"] == "paletted"
    assert [label for label, _ in status["legend"]] == list(PIXEL_STATUS.values())
    cnc = seen[str(rasters["cnc_2010"])]
    assert cnc["renderer"] == "singlebandpseudocolor"
    assert ("0 t CO2 km⁻² yr⁻¹", palette.NEUTRAL) in map(tuple, cnc["legend"])
    assert seen[str(rasters["ce_2010"])]["renderer"] == "singlebandpseudocolor"
