"""outputs.maps.language: the region maps' titles, legends and notes and the workbook's headers
in English, Chinese or both; every fixed text of a map has its Chinese, with the same fields."""

import string
import zipfile

import pytest

from carbonbudget.outputs import maps as plots
from carbonbudget.outputs import palette
from carbonbudget.outputs.language import ZH, Phrase, level_phrase, lines, period_phrase, say
from carbonbudget.outputs.workbook import column_header, column_zh, write_workbook


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def test_every_chinese_template_has_the_fields_of_its_english():
    for en, zh in ZH.items():
        assert _fields(en) == _fields(zh), en
        assert zh.strip(), en


def test_every_class_and_quantity_a_map_prints_has_its_chinese():
    """A class name without Chinese would stop a zh run at its first map: each palette's."""
    names = [
        *palette.lisa_colours("cnc"),
        *palette.gi_colours("cnc"),
        *palette.trend_class_colours("cnc"),
        *palette.P_SURPLUS_CLASSES,
        *plots.NO_CLASS,
        *(spec[4] for spec in palette.BUDGET_MAPS.values()),
    ]
    for name in names:
        assert say(name, "zh"), name  # a KeyError names the missing text


def test_periods_levels_and_titles_in_each_language():
    assert period_phrase([2006, 2010]).render("zh") == "2006–2010年平均"
    assert period_phrase([2010, 2010]).render("zh") == "2010年"
    assert period_phrase([2006, 2010], mean=False).render("en") == "2006–2010"
    assert (
        period_phrase([2001, 2017], constant=True).render("zh")
        == "2001–2017年各年相同（来自气候态）"
    )
    assert level_phrase("economic_region").render("zh") == "经济区"
    # a level the user named keeps its name in both languages, never a KeyError
    assert level_phrase("river_basin_l3").render("zh") == "river basin l3"
    title = Phrase(
        "{quantity}, {period}, by {level}",
        quantity=Phrase("Carbon emissions (CE)"),
        period=period_phrase([2006, 2010]),
        level=level_phrase("county"),
    )
    assert say(title, "en") == "Carbon emissions (CE), mean 2006–2010, by county"
    assert say(title, "zh") == "碳排放（CE），2006–2010年平均，按县"
    assert say(title, "both", "\n") == (
        "Carbon emissions (CE), mean 2006–2010, by county\n碳排放（CE），2006–2010年平均，按县"
    )
    # a title and its note: all English lines, then all Chinese lines
    two = lines(title, Phrase('(uncertainty model: docs/method.md, "Uncertainty")'))
    assert say(two, "both", "\n").split("\n")[1::2] == [
        '(uncertainty model: docs/method.md, "Uncertainty")',
        "（不确定性模型：docs/method.md，“Uncertainty”）",
    ]
    assert say("2.5 – 5 %", "both") == "2.5 – 5 %"  # the same in both: said once
    bounds = Phrase("> {lo} to {hi}", lo="−3", hi="0")
    assert [say(bounds, lang) for lang in ("en", "zh", "both")] == [
        "> −3 to 0",
        "> −3 至 0",
        "> −3 to / 至 0",  # the numbers once
    ]
    with pytest.raises(ValueError, match="language is one of en, zh, both"):
        say(title, "fr")


def _map_texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _draw_demo_maps(demo_run, tmp_path, monkeypatch, language):
    """Every budget map of the demo's counties with ``outputs.maps.language``; the texts of
    each figure as it would be saved."""
    from carbonbudget.outputs import figures

    texts = {}

    def capture(fig, path, **kw):
        figures.typeset_figure(fig)
        title = fig.axes[0].get_title()
        texts[path] = [title, *(t for t in _map_texts(fig) if t != title)]
        plots.pyplot().close(fig)

    monkeypatch.setattr(plots, "save_figure", capture)
    work = demo_run / "results" / ".work"
    kinds = ("ecs", "ce", "cnc", "cer", "p_surplus", "cnc_trend")
    plots.plot_budget_maps(
        path_regions=str(work / "interim" / "regions" / "levels.gpkg"),
        level="county",
        budget_path=str(work / "tables" / "budget_county.parquet"),
        trends_path=str(work / "tables" / "trends_county.csv"),
        out_paths={k: str(tmp_path / f"{k}.png") for k in kinds},
        min_valid_fraction=0.5,
        maps={"language": language},
        outline_level="province",
    )
    return {k: texts[str(tmp_path / f"{k}.png")] for k in kinds}


@pytest.mark.workflow
def test_the_demo_maps_speak_the_language_asked_for(demo_run, tmp_path, monkeypatch):
    en = _draw_demo_maps(demo_run, tmp_path, monkeypatch, "en")
    zh = _draw_demo_maps(demo_run, tmp_path, monkeypatch, "zh")
    both = _draw_demo_maps(demo_run, tmp_path, monkeypatch, "both")
    assert en["cnc"][0].startswith("Carbon neutral capacity (CNC = ECS − CE), mean ")
    assert zh["cnc"][0].startswith("碳中和能力（CNC = ECS − CE），") and "按县" in zh["cnc"][0]
    assert "（每平方公里）" in zh["cnc"][0]
    assert zh["cer"][0].count("\n") == 1 and "CER = Cv 处 CE = ECS" in zh["cer"][0]
    assert "碳盈余概率" in zh["p_surplus"][0] and "不确定性模型" in zh["p_surplus"][0]
    assert "趋势类别" in zh["cnc_trend"][0]
    for kind, texts in zh.items():
        # no English word of ours is left on a Chinese map: every legend entry, the title and
        # notes; region names, units (t, km, yr), numbers and the CRS's name (PROJ's, on every
        # map as it is) stay as they are
        crs = [t for t in en[kind] if " ellipsoid" in t]
        english = {w for t in en[kind] if t not in crs for w in t.split() if w.isalpha()}
        chinese = {w for t in texts if t not in crs for w in t.split()}
        left = {w for w in english & chinese if w.islower()} - {"t", "km", "yr"}
        assert not left, (kind, left)
        assert len(crs) == 1 and crs[0] in texts
        assert len(both[kind]) == len(en[kind])  # the same artists, each in two languages
        assert both[kind][0] == f"{en[kind][0]}\n{zh[kind][0]}"


def _headers(path) -> list[str]:
    """The header row of the first level's sheet (sheet 2; sheet 1 is the README)."""
    import re

    with zipfile.ZipFile(path) as z:
        strings = re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())
        sheet = z.read("xl/worksheets/sheet2.xml").decode()
    row = sheet.split('<row r="1"', 1)[1].split("</row>", 1)[0]
    return [strings[int(i)] for i in re.findall(r't="s"><v>(\d+)</v>', row)]


def test_the_workbook_headers_follow_the_language(tmp_path):
    import pandas as pd

    table = pd.DataFrame(
        {
            "code": ["110101"],
            "ce_tgco2": [1.5],
            "cnc_tgco2_p05": [-1.0],
            "city_code": ["110100"],
            "my_column": [1],
        }
    )
    assert column_zh("cnc_tgco2_p05") == "碳中和能力（CNC），第 5 百分位"
    assert column_zh("city_code") == "所属市代码"
    assert column_zh("my_column") is None
    assert column_header("ce_tgco2", "en") == "ce_tgco2"
    assert column_header("ce_tgco2", "both") == "ce_tgco2 / 碳排放（CE）"
    assert column_header("my_column", "zh") == "my_column"  # no Chinese: its name
    headers = {}
    for language in ("en", "zh", "both"):
        path = tmp_path / f"{language}.xlsx"
        write_workbook({"county": table}, str(path), "t", language=language)
        headers[language] = _headers(path)
    assert headers["en"] == list(table.columns)
    assert headers["zh"] == [
        "代码",
        "碳排放（CE）",
        "碳中和能力（CNC），第 5 百分位",
        "所属市代码",
        "my_column",
    ]
    assert headers["both"] == [
        f"{en} / {zh}" if en != zh else en for en, zh in zip(headers["en"], headers["zh"])
    ]


def test_the_report_names_spatial_maps_by_their_quantity():
    """The report lists a LISA or Gi* map by what it shows, not by its column name, and its
    caption says what a cluster of high values is for that quantity."""
    from carbonbudget.outputs.catalogue import cluster_words, spatial_map_title

    assert (
        spatial_map_title("lisa", "cnc_flux_tco2_km2")
        == "LISA clusters of carbon neutral capacity (CNC) per km²"
    )
    assert spatial_map_title("hotspots", "ce_tgco2") == (
        "Hot and cold spots (Gi*) of carbon emissions (CE)"
    )
    assert cluster_words("cnc_tgco2")["hh"] == "a surplus cluster"
    assert cluster_words("ce_flux_tco2_km2")["hh"] == "a cluster of large emitters"
    assert cluster_words("nep_tgc") == {
        "quantity": "nep_tgc",
        "hh": "a cluster of high values",
        "ll": "a cluster of low values",
    }
