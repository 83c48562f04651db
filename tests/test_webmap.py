"""The web map: one offline HTML page of the finest and the coarsest level, in the classes and
colours of the PNG maps, with a region's numbers on a click."""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
from helpers import browser_dom
from shapely.geometry import box

from carbonbudget.outputs import classify
from carbonbudget.outputs.palette import BUDGET_MAPS
from carbonbudget.outputs.webmap import NO_VALUE, level_layer, svg_path, web_map_html


def _level():
    polys = gpd.GeoDataFrame(
        {"code": ["a", "b", "c", "d"]},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 2000) for i in range(4)],
        crs="ESRI:102025",
    )
    rows = []
    for year in (2001, 2002):
        for code, ecs, ce in (
            ("a", 5.0, 1.0),
            ("b", 2.0, 3.0),
            ("c", 1.0, 4.0),
            ("d", 3.0, np.nan),
        ):
            rows.append(
                {
                    "code": code,
                    "name": code.upper(),
                    "year": year,
                    "area_km2": 2.0,
                    "valid_fraction": 1.0,
                    "ecs_tgco2": ecs,
                    "ce_tgco2": ce,
                    "cnc_tgco2": ecs - ce,
                    "cnc_flux_tco2_km2": (ecs - ce) * 1e6 / 2.0,
                    "status": "surplus" if ecs > ce else "deficit",
                }
            )
    return polys, pd.DataFrame(rows)


def test_regions_take_the_png_maps_classes_and_say_their_numbers():
    polys, budget = _level()
    maps = {"scheme": "quantiles", "classes": 4}
    regions, legends = level_layer(polys, budget, ["cnc", "ce"], maps, 0.5)
    cnc = (budget.groupby("code")["cnc_tgco2"].mean() * 1e6 / 2.0).drop("d")
    png = classify.coloured_classes(cnc, "quantiles", 4, 0.0, BUDGET_MAPS["cnc"][2])
    uppers = np.array([hi for _, hi, _ in png])
    for r in regions:
        if r["code"] == "d":  # CE unknown: no CNC, hatched as "no value"
            assert r["fill"]["cnc"] == NO_VALUE and r["fill"]["ce"] == NO_VALUE
            continue
        i = min(np.searchsorted(uppers, cnc[r["code"]], side="left"), len(png) - 1)
        assert r["fill"]["cnc"] == png[i][2]
    a = next(r for r in regions if r["code"] == "a")
    assert ("Status 2002", "surplus") in a["rows"]
    row = ("Carbon neutral capacity (CNC = ECS − CE), per km²", "2,000,000 t CO₂ km⁻² yr⁻¹")
    assert row in a["rows"]
    assert legends["cnc"][-1] == ("no value", NO_VALUE)
    assert [c for _, c in legends["cnc"][:-1]] == [c for _, _, c in png][::-1]
    assert not any(k.endswith("known on") for k, _ in a["rows"])  # known everywhere


def test_a_value_resting_on_part_of_the_area_says_so_in_its_popup():
    """As the PNG maps hatch them: a sink known on 70 % of a region, one known on too little
    for a value (30 %, drawn as no value) and CE summed over members covering 80 % of it."""
    polys, budget = _level()
    budget["ce_known_area_fraction"] = 1.0
    budget.loc[budget["code"] == "a", "valid_fraction"] = 0.7
    budget.loc[budget["code"] == "b", "valid_fraction"] = 0.3
    budget.loc[budget["code"] == "c", "ce_known_area_fraction"] = 0.8
    maps = {"scheme": "quantiles", "classes": 4}
    regions = {r["code"]: r for r in level_layer(polys, budget, ["cnc", "ce"], maps, 0.5)[0]}
    assert ("Sink known on", "70 % of the area") in regions["a"]["rows"]
    assert ("Sink known on", "30 % of the area (too little for a value)") in regions["b"]["rows"]
    assert ("CE known on", "80 % of the area") in regions["c"]["rows"]
    assert not any(k.endswith("known on") for k, _ in regions["d"]["rows"])
    # a map of CE alone does not speak of the sink
    ce_only = {r["code"]: r for r in level_layer(polys, budget, ["ce"], maps, 0.5)[0]}
    assert not any(k == "Sink known on" for k, _ in ce_only["a"]["rows"])


def test_the_page_is_one_offline_file_with_a_path_per_region():
    polys, budget = _level()
    maps = {"scheme": "quantiles", "classes": 4}
    layer = level_layer(polys, budget, ["cnc", "ce"], maps, 0.5)
    page = web_map_html({"county": layer, "province": layer}, ["cnc", "ce"], "t")
    assert page.count("<path ") == 8 and page.count('data-code="a"') == 2
    # nothing fetched from the web: no script or style source, no link
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    data = json.loads(page.split('id="cb-data">', 1)[1].split("</script>", 1)[0])
    assert set(data["regions"]) == {"a", "b", "c", "d"}
    # north up: the first ring starts at the top-left corner of region a (y grows downwards)
    assert svg_path(polys.geometry[0], 0.0, 2000.0, 0.45).startswith("M450,900L450,0")


def test_the_web_map_opens_in_a_browser_with_every_region(demo_run):
    page = demo_run / "results/web/map.html"
    assert page.exists()
    dom = browser_dom(page, "", 5000)
    counties = pd.read_csv(demo_run / "results/tables/budget_county.csv", dtype={"code": str})
    provinces = pd.read_csv(demo_run / "results/tables/budget_province.csv", dtype={"code": str})
    paths = re.findall(r"<path [^>]*>", dom)
    assert len(paths) == counties["code"].nunique() + provinces["code"].nunique()
    # the script ran: every region drawn with a fill of the shown variable (CNC)
    assert all(' fill="' in p for p in paths)
    assert "Carbon neutral capacity" in dom and "> 0 to" in dom.replace("&gt;", ">")
