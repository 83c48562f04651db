"""Fact sheets: one self-contained page per region of a chosen level."""

import re

import geopandas as gpd
import pandas as pd
import pytest
from helpers import demo_config
from shapely.geometry import box

from carbonbudget.core.config import validate_config
from carbonbudget.core.errors import ConfigError
from carbonbudget.outputs.factsheet import write_fact_sheets


@pytest.fixture
def level(tmp_path):
    polys = gpd.GeoDataFrame(
        {"province_code": ["p1", "p2", "p3"], "province_name": ["Alpha", "Beta", "甲省"]},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(3)],
        crs="ESRI:102025",
    )
    polys.to_file(tmp_path / "levels.gpkg", layer="display_province", engine="pyogrio")
    rows = []
    for year in (2001, 2002):
        for code, name, ecs, ce in (
            ("p1", "Alpha", 5, 1),
            ("p2", "Beta", 2, 3),
            ("p3", "甲省", 1, 6),
        ):
            rows.append(
                {
                    "code": code,
                    "name": name,
                    "year": year,
                    "area_km2": 1.0,
                    "ecs_tgco2": float(ecs),
                    "ce_tgco2": float(ce + year - 2001),
                    "cnc_tgco2": float(ecs - ce - year + 2001),
                    "cnc_flux_tco2_km2": float(ecs - ce - year + 2001) * 1e6,
                    "status": "surplus" if ecs > ce + year - 2001 else "deficit",
                }
            )
    pd.DataFrame(rows).to_parquet(tmp_path / "b.parquet")
    pd.DataFrame(
        {"code": ["p1", "p2", "p3"], "cnc_tgco2_trend_class": ["sharp decrease"] * 3}
    ).to_csv(tmp_path / "t.csv", index=False)
    return tmp_path


def test_one_page_per_region_with_its_numbers_rank_map_and_series(level):
    written = write_fact_sheets(
        path_regions=str(level / "levels.gpkg"),
        level="province",
        budget_path=str(level / "b.parquet"),
        trends_path=str(level / "t.csv"),
        out_dir=str(level / "sheets"),
    )
    assert [p.rsplit("/", 1)[1] for p in written] == ["p1.html", "p2.html", "p3.html"]
    page = (level / "sheets/p3.html").read_text()
    assert "<h2>甲省 (province)</h2>" in page
    # mean CE (6 + 7) / 2, mean CNC (-5 - 6) / 2, the last rank of three, deficit in 2002
    assert ">6.50<" in page and ">−5.50<" in page
    rank = re.search(r"Rank among the 3 regions[^<]*</th><td>(\d)</td>", page)
    assert rank and rank.group(1) == "3"
    assert "Status 2002" in page and ">deficit<" in page and "sharp decrease" in page
    # both figures embedded: the page opens offline
    assert page.count('src="data:image/png;base64,') == 2 and "http" not in page
    first = (level / "sheets/p1.html").read_text()
    assert re.search(r"Rank among the 3 regions[^<]*</th><td>1</td>", first)


def test_the_fact_sheet_level_is_the_coarsest_unless_named():
    cfg = validate_config(demo_config())
    assert cfg["outputs"]["fact_sheets"] == list(cfg["regions"]["levels"])[-1] == "province"
    named = demo_config()
    named["outputs"]["fact_sheets"] = "city"
    assert validate_config(named)["outputs"]["fact_sheets"] == "city"
    named["outputs"]["fact_sheets"] = "district"
    with pytest.raises(ConfigError, match="outputs.fact_sheets: 'district' is not one of"):
        validate_config(named)


def test_without_ecs_a_sheet_ranks_emissions(level):
    """An RCS-only run (the China example) has no CNC: the sheet gives RCS and CE and ranks the
    region by its CE (1 = the largest emitter)."""
    budget = pd.read_parquet(level / "b.parquet")
    budget = budget.drop(columns=["ecs_tgco2", "cnc_tgco2", "cnc_flux_tco2_km2", "status"])
    budget.assign(rcs_tgco2=0.5).to_parquet(level / "rcs.parquet")
    write_fact_sheets(
        path_regions=str(level / "levels.gpkg"),
        level="province",
        budget_path=str(level / "rcs.parquet"),
        trends_path=None,
        out_dir=str(level / "rcs"),
    )
    page = (level / "rcs/p3.html").read_text()
    assert "RCS, mean 2001–2002" in page and "CNC" not in page
    rank = re.search(r"Rank among the 3 regions[^<]*by CE[^<]*</th><td>(\d)</td>", page)
    assert rank and rank.group(1) == "1"  # CE 6.5 of 3.5 and 1.5
