"""The report's headline tables and quick-look maps."""

import numpy as np
import pandas as pd
import pytest
from helpers import write_raster

from carbonbudget.outputs.catalogue import quicklook_rasters
from carbonbudget.outputs.report import (
    extremes_table,
    pixel_quicklook,
    study_area_table,
    write_html_table,
)


def _budget():
    rows = []
    for year in (2001, 2002):
        for code, cnc in (("a", -3.0), ("b", -1.0), ("c", 2.0), ("d", 0.5)):
            rows.append(
                {"code": code, "name": code.upper(), "year": year, "cnc_tgco2": cnc + year % 2}
            )
    rows.append({"code": "e", "name": "E", "year": 2001, "cnc_tgco2": -50.0})  # one year only
    return pd.DataFrame(rows)


def test_extremes_rank_by_mean_cnc_of_regions_known_every_year():
    t = extremes_table(_budget(), "county", n=1)
    # means: a -2.5, b -0.5, c 2.5, d 1.0; e has one of two years: left out (as in the maps)
    assert t.iloc[:, 0].tolist() == ["largest deficit", "largest surplus"]
    assert t["Code"].tolist() == ["a", "c"]
    assert t.iloc[:, 3].tolist() == [-2.5, 2.5]
    assert t.columns[3] == "Mean CNC 2001–2002 (Tg CO2 yr⁻¹)"
    both = extremes_table(_budget(), "county", n=5)
    assert both["Code"].tolist() == ["a", "b", "c", "d"]  # deficits most negative first


def test_study_area_table_has_headings_with_units_in_year_order(tmp_path):
    b = pd.DataFrame({"year": [2002, 2001], "ecs_tgco2": [2.0, 1.0], "ce_tgco2": [3.0, 4.0]})
    t = study_area_table(b)
    assert t.columns.tolist() == ["Year", "ECS (Tg CO2 yr⁻¹)", "CE (Tg CO2 yr⁻¹)"]
    assert t["Year"].tolist() == [2001, 2002]
    path = tmp_path / "t.html"
    write_html_table(t.assign(Name="<b>x</b>"), str(path), "Budget & more")
    page = path.read_text()
    assert "Budget &amp; more" in page and "&lt;b&gt;x&lt;/b&gt;" in page and ">1.00<" in page


def test_numbers_are_rounded_to_what_the_data_support_and_flags_read_yes_or_no(tmp_path):
    """Tg CO2 to three significant digits (not to the kilotonne), a true minus sign, "< 0.001"
    instead of a 0.000 that reads as none, yes/no instead of True/False; every flux of the
    headline table in Tg CO2 (NEP came in Tg C beside CE in Tg CO2)."""
    from carbonbudget.outputs.report import format_value

    cases = {
        1234.567: "1,235",
        -12.3456: "−12.3",
        0.123456: "0.123",
        0.0004: "< 0.001",
        -0.0004: "> −0.001",
        0.0: "0",
        float("inf"): "+inf",
    }
    assert {v: format_value(v) for v in cases} == cases
    b = pd.DataFrame(
        {
            "year": [2001, 2002],
            "nep_tgc": [3.0, 6.0],
            "rcs_tgc": [1.2, 1.2],
            "rcs_tgco2": [4.4, 4.4],
            "status_robust": [True, False],
        }
    )
    t = study_area_table(b)
    assert t.columns.tolist() == [
        "Year",
        "Status robust (95 %)",
        "NEP (Tg CO2 yr⁻¹)",
        "RCS (Tg CO2 yr⁻¹)",
    ]
    assert t["NEP (Tg CO2 yr⁻¹)"].tolist() == pytest.approx([11.0, 22.0])
    path = tmp_path / "t.html"
    write_html_table(t, str(path), "flags")
    page = path.read_text()
    assert ">yes<" in page and ">no<" in page and "True" not in page
    assert ">11.0<" in page and ">4.40<" in page


def test_quicklook_draws_a_raster_with_outlines(small_grid, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    data = np.linspace(-5, 5, small_grid.width * small_grid.height).reshape(small_grid.shape)
    data[0, 0] = np.nan
    tif = write_raster(tmp_path / "ecs.tif", data, small_grid)
    outlines = gpd.GeoDataFrame(geometry=[box(0, 0, 2500, 4000), box(2500, 0, 5000, 4000)])
    outlines = outlines.set_crs(small_grid.crs)
    png = tmp_path / "q.png"
    pixel_quicklook(
        tif, boundaries=outlines, title="ECS", label="g C", diverging=True, path=str(png)
    )
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5_000


def test_quicklooks_follow_what_was_computed():
    flux = lambda v, p: f"pixels/{v}_{p}.tif"
    trend = lambda v, s: f"trends/{v}_{s}.tif"
    full = quicklook_rasters(
        {"ecs": "2010", "nep": "2010", "rcs": "2010"}, ["nep", "ecs"], flux, trend
    )
    assert sorted(full) == ["pixel_ecs", "pixel_nep", "pixel_rcs", "trend_ecs"]
    assert full["trend_ecs"][0] == "trends/ecs_slope.tif" and full["pixel_rcs"][3] is False
    rcs = quicklook_rasters({"rcs": "climatology"}, [], flux, trend)
    assert list(rcs) == ["pixel_rcs"] and "from climatologies" in rcs["pixel_rcs"][1]
    grid = quicklook_rasters({"ecs": "2010"}, [], flux, trend, cnc_year="2010")
    assert grid["pixel_cnc"] == (
        "pixels/cnc_2010.tif",
        "Carbon neutral capacity per pixel (CNC = ECS − CE), 2010",
        "t CO2 km⁻² yr⁻¹",
        True,  # diverging at 0
    )
    assert "pixel_ce" not in quicklook_rasters(
        {"ecs": "2010"}, [], flux, trend, cnc_year="2010", ce_year="2010"
    )  # CNC shows the emissions where there is a sink
    ce = quicklook_rasters({"rcs": "climatology"}, [], flux, trend, ce_year="2017")
    assert sorted(ce) == ["pixel_ce", "pixel_rcs"] and ce["pixel_ce"][0] == "pixels/ce_2017.tif"
    assert "spread by the weights" in ce["pixel_ce"][1] and ce["pixel_ce"][3] is False


def test_chinese_region_names_render_without_missing_glyphs(tmp_path):
    """A title and tick labels in Chinese draw every glyph (matplotlib warns 'Glyph … missing'
    otherwise, and the PNG shows empty boxes)."""
    import warnings

    from carbonbudget.outputs.figures import pyplot, save_figure

    plt = pyplot()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("广西壮族自治区：碳中和能力 (Tg CO2 yr⁻¹)")
        ax.bar(["南宁市", "桂林市"], [1.0, -2.0])
        save_figure(fig, str(tmp_path / "zh.png"))
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []


def test_without_ecs_the_headlines_rank_the_largest_emitters_and_the_landing_embeds_them():
    """An RCS-only run (the China example) cannot rank deficits and surpluses: its headline
    ranks emitters, and the landing fragment carries the headline tables themselves."""
    from carbonbudget.outputs.report import emitters_table, landing_fragment

    budget = pd.DataFrame(
        {
            "code": ["a", "a", "b", "b", "c", "c", "d"],
            "name": ["A", "A", "B", "B", "C", "C", "D"],
            "year": [2001, 2002] * 3 + [2001],
            "ce_tgco2": [1.0, 3.0, 10.0, 10.0, 5.0, 7.0, 99.0],  # d: one year only
        }
    )
    t = emitters_table(budget, "county", n=2)
    assert t["Code"].tolist() == ["b", "c"]
    assert t.columns.tolist() == [
        "Code",
        "Name (county)",
        "Mean CE 2001–2002 (Tg CO2 yr⁻¹)",
        "Share of the total",
    ]
    assert t.iloc[:, 2].tolist() == [10.0, 6.0]
    assert t["Share of the total"].tolist() == pytest.approx([10 / 18, 6 / 18])
    page = landing_fragment([("Largest <emitters>", t)])
    assert "Largest &lt;emitters&gt;" in page and page.count("<table") == 1 and ">0.556<" in page


def test_report_captions_name_no_config_key_or_file():
    """A reader of the report has neither the config schema nor the repository: captions say
    what the numbers are, not which key or file they come from."""
    from pathlib import Path

    for path in sorted((Path(__file__).parents[1] / "workflow/report").glob("*.rst")):
        text = path.read_text(encoding="utf-8")
        prose = "\n".join(
            line for line in text.splitlines() if not line.lstrip().startswith((":file:", "{#"))
        )
        assert "``" not in prose, path.name
        for leak in ("docs/", ".csv", ".gpkg", "tables/", "pixels/"):
            assert leak not in prose, (path.name, leak)


def test_the_landing_page_keeps_the_headline_columns(tmp_path):
    """The first page shares its width with the workflow graph: year, ECS, CE, CNC, P(CNC > 0)
    and status (the headline item keeps every column); RCS only in a run without ECS."""
    from carbonbudget.outputs.report import build_report_items

    study = pd.DataFrame(
        {
            "year": [2001, 2002],
            "ecs_tgco2": [2.0, 3.0],
            "rcs_tgco2": [0.5, 0.5],
            "ce_tgco2": [4.0, 1.0],
            "cnc_tgco2": [-2.0, 2.0],
            "cnc_tgco2_p05": [-3.0, 1.0],
            "source_sink_ratio": [2.0, 1 / 3],
            "status": ["deficit", "surplus"],
        }
    )
    study.to_parquet(tmp_path / "s.parquet")
    finest = study.assign(code="a", name="A")
    finest.to_parquet(tmp_path / "f.parquet")
    out = {k: str(tmp_path / f"{k}.html") for k in ("study_area", "extremes", "landing")}
    build_report_items(
        budget_study_area=str(tmp_path / "s.parquet"),
        budget_finest=str(tmp_path / "f.parquet"),
        finest="county",
        regions="unused",
        outline_level="province",
        rasters={},
        model_skill=None,
        out=out,
    )
    landing = (tmp_path / "landing.html").read_text()
    full = (tmp_path / "study_area.html").read_text()
    for heading in ("ECS (Tg CO2 yr⁻¹)", "CE (Tg CO2 yr⁻¹)", "Status"):
        assert heading in landing
    assert "CNC, 5th percentile" in full and "CNC, 5th percentile" not in landing
    assert "RCS (Tg CO2" in full and "RCS (Tg CO2" not in landing
    assert "largest mean deficit and surplus" in landing


def test_every_map_the_report_lists_has_a_title():
    """The report lists each map by what it shows, not by its file's key ("cnc_trend")."""
    from carbonbudget.outputs.catalogue import (
        MAP_KINDS,
        MAP_TITLES,
        RCS_ONLY_MAP_KINDS,
        layer_map_kinds,
        map_kinds,
    )

    kinds = set(MAP_KINDS) | set(RCS_ONLY_MAP_KINDS) | set(map_kinds(("ecs",), True, True, True))
    kinds |= set(layer_map_kinds(("ecs",), True)) | set(layer_map_kinds(("rcs",), False))
    for kind in kinds:
        assert MAP_TITLES[kind][0].isupper() and "_" not in MAP_TITLES[kind], kind
