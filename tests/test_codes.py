"""Code reconciliation: crosswalks from official code lists, the match report, and the roll-up of
emissions whose codes match no polygon."""

import numpy as np
import pandas as pd
import pytest
from helpers import emission_section

from carbonbudget.core.config import fill_section
from carbonbudget.core.errors import InputDataError, RegionError
from carbonbudget.regions.budget import EmissionMatch, RegionTree, build_budget
from carbonbudget.regions.codes import (
    build_crosswalk,
    match_report,
    match_summary,
    name_stem,
    read_code_list,
    read_crosswalk,
)
from carbonbudget.regions.emissions import match_emission_codes


def test_name_stem_drops_unit_suffixes_but_keeps_one_character_names():
    assert name_stem("繁昌县") == name_stem("繁昌区") == "繁昌"
    assert name_stem("玉屏侗族自治县") == "玉屏侗族"
    assert name_stem("和县") == "和县"  # '和' alone would match unrelated names
    assert name_stem(" 万山特区 ") == "万山"


def _old_new():
    # 2010 list: a county that became a district (same city), a county moved to another city,
    # a district merged away, a generic name, an unchanged code, and a name that now exists
    # only as an *old* unit elsewhere in the province (must not match it).
    old = pd.DataFrame(
        {
            "code": ["340222", "341421", "340208", "410201", "340102", "130103"],
            "name": ["繁昌县", "庐江县", "三山区", "市辖区", "瑶海区", "桥东区"],
        }
    )
    new = pd.DataFrame(
        {
            "code": ["340212", "340124", "340102", "130702", "410205"],
            "name": ["繁昌区", "庐江县", "瑶海区", "桥东区", "市辖区"],
        }
    )
    return old, new


def test_build_crosswalk_rules():
    old, new = _old_new()
    old = pd.concat([old, pd.DataFrame({"code": ["130702"], "name": ["桥东区"]})])
    cw = build_crosswalk(old, new).set_index("old_code")
    assert cw.loc["340102", ["new_code", "method"]].tolist() == ["340102", "same_code"]
    assert cw.loc["340222", ["new_code", "method"]].tolist() == ["340212", "same_name_city"]
    assert cw.loc["341421", ["new_code", "method"]].tolist() == ["340124", "same_name_province"]
    assert cw.loc["340208", "method"] == "unmatched" and cw.loc["340208", "new_code"] == ""
    assert cw.loc["410201", "method"] == "unmatched"  # generic name never matched
    # Shijiazhuang's 桥东区 (merged in 2014) is not Zhangjiakou's 桥东区, which existed in 2010
    assert cw.loc["130103", "method"] == "unmatched"
    assert list(cw.index) == sorted(cw.index)


def test_build_crosswalk_ambiguous_name_is_unmatched():
    old = pd.DataFrame({"code": ["340299"], "name": ["新城县"]})
    new = pd.DataFrame({"code": ["340301", "340302"], "name": ["新城区", "新城市"]})
    assert build_crosswalk(old, new)["method"].tolist() == ["unmatched"]


def test_read_code_list_keeps_county_level_rows(tmp_path):
    p = tmp_path / "mca.tsv"
    p.write_text(
        "Source\tRevision\tCode\tName\nmca\t201012\t340000\t安徽省\n"
        "mca\t201012\t340100\t合肥市\nmca\t201012\t340102\t瑶海区\n",
        encoding="utf-8",
    )
    assert read_code_list(str(p), "Code", "Name").to_dict("list") == {
        "code": ["340102"],
        "name": ["瑶海区"],
    }
    with pytest.raises(InputDataError, match="columns \\['Kode'\\] not found") as exc:
        read_code_list(str(p), "Kode", "Name")
    assert "code_col" in str(exc.value)


def test_read_crosswalk_many_to_one_ok_one_to_many_refused(tmp_path):
    p = tmp_path / "cw.csv"
    p.write_text("old_code,new_code\n110101,110101\n110103,110101\n110104,\n")
    assert read_crosswalk(str(p)) == {"110101": "110101", "110103": "110101"}
    p.write_text("old_code,new_code\n110103,110101\n110103,110102\n")
    with pytest.raises(InputDataError, match="more than one new code"):
        read_crosswalk(str(p))
    p.write_text("from,to\n1,2\n")
    with pytest.raises(InputDataError, match="old_code and new_code"):
        read_crosswalk(str(p))


def _emissions():
    # four codes: direct (6), crosswalked (3), own code only (1): shares 0.6 / 0.3 / 0.1
    return pd.DataFrame(
        {
            "code": ["340102", "340222", "340208", "340102", "340222", "340208"],
            "year": [2001, 2001, 2001, 2002, 2002, 2002],
            "ce_tgco2": [3.0, 1.0, 0.5, 3.0, 2.0, 0.5],
        }
    )


def test_match_report_and_summary():
    rep = match_report(_emissions(), {"340102", "340212"}, {"340222": "340212"})
    assert rep.set_index("code")["match"].to_dict() == {
        "340102": "direct",
        "340208": "unmatched",
        "340222": "crosswalk",
    }
    summ = match_summary(rep)
    assert summ["direct"] == {"codes": 1, "share": pytest.approx(0.6)}
    assert summ["crosswalk"] == {"codes": 1, "share": pytest.approx(0.3)}
    assert summ["unmatched"] == {"codes": 1, "share": pytest.approx(0.1)}
    assert sum(v["share"] for v in summ.values()) == pytest.approx(1.0)


HIER = pd.DataFrame(
    {
        "county_code": ["340102", "340212"],
        "county_name": ["瑶海区", "繁昌区"],
        "city_code": ["340100", "340200"],
        "city_name": ["合肥市", "芜湖市"],
        "province_code": ["340000", "340000"],
        "province_name": ["安徽省"] * 2,
    }
)
LEVELS = ["county", "city", "province"]


def test_crosswalk_and_own_code_roll_up():
    em = _emissions()
    with pytest.raises(RegionError, match="2 emission region codes are not in the region layer"):
        match_emission_codes(em, HIER, LEVELS, derive_parents=None, unmatched="error")
    with pytest.raises(RegionError, match="340208"):  # crosswalk alone leaves 340208
        match_emission_codes(
            em, HIER, LEVELS, derive_parents=None, unmatched="error", crosswalk={"340222": "340212"}
        )
    out = match_emission_codes(
        em, HIER, LEVELS, derive_parents="adcode", unmatched="error", crosswalk={"340222": "340212"}
    ).drop_duplicates("code")
    out = out.set_index("code")
    assert out.loc["340222", ["county_code", "city_code", "match"]].tolist() == [
        "340212",
        "340200",
        "crosswalk",
    ]
    # no polygon: keeps its own code, parents from the code (Wuhu 340200)
    assert out.loc["340208", ["county_code", "city_code", "province_code", "match"]].tolist() == [
        "340208",
        "340200",
        "340000",
        "own_code",
    ]


def test_codes_outside_the_selection_are_left_out_not_counted_as_rolled_up(caplog):
    """Huaihai: 2,654 of 2,657 codes without a polygon lie outside the ten selected cities; the
    warning counted them all as "rolled up to their parents" (96.2 % of emissions)."""
    em = pd.DataFrame(
        {
            "code": ["340102", "340208", "110101", "110102"],
            "year": [2001] * 4,
            "ce_tgco2": [3.0, 1.0, 40.0, 56.0],
        }
    )
    caplog.set_level("INFO", logger="carbonbudget.regions.emissions")
    out = match_emission_codes(
        em,
        HIER,
        LEVELS,
        derive_parents="adcode",
        unmatched="error",
        path="e.csv",
        select={"level": "city", "codes": ["340100", "340200"]},
    )
    assert sorted(out["code"]) == ["340102", "340208"]
    rolled = [r.getMessage() for r in caplog.records if "rolled up" in r.getMessage()]
    assert rolled == [
        "e.csv: 1 emission codes match no polygon (25.00% of emissions); rolled up to their "
        "parents by their own code: ['340208']"
    ]
    assert "2 emission codes (96.00% of the table's emissions) lie outside the selected" in (
        caplog.text
    )


def _zonal(tmp_path, fluxes, crosswalk=None, names=None):
    z = pd.DataFrame(
        {
            "code": ["340102", "340212"] * 2,
            "year": [2001, 2001, 2002, 2002],
            "area_km2": [100.0, 300.0] * 2,
        }
    )
    for v in fluxes:
        z[f"{v}_tgc"] = [1.0, 3.0, 1.5, 3.5]
        z[f"{v}_valid_fraction"] = 1.0
    z.to_parquet(tmp_path / "z.parquet")
    _emissions().rename(columns={"code": "c", "year": "y", "ce_tgco2": "v"}).to_csv(
        tmp_path / "e.csv", index=False
    )
    return build_budget(
        zonal_paths=[str(tmp_path / "z.parquet")],
        years=[2001, 2002],
        regions=RegionTree(HIER, LEVELS),
        emissions_cfg=emission_section(tmp_path / "e.csv"),
        socio_cfg=None,
        balance_cfg=fill_section(
            "balance", {"tolerance_tgco2": 0.0, "cv": "none", "min_valid_fraction": 0.5}
        ),
        match=EmissionMatch(
            derive_parents="adcode", crosswalk=crosswalk or {"340222": "340212"}, names=names
        ),
        fluxes=fluxes,
    )


def test_no_emission_lost_and_ce_sums_up_every_level(tmp_path):
    tabs = _zonal(tmp_path, ("rh", "nep", "rcs", "ecs"))
    county = tabs["county"].set_index(["code", "year"])
    # the code without polygon is a CE-only row: no area, no fluxes, status missing
    row = county.loc[("340208", 2001)]
    assert not row["in_region_layer"] and np.isnan(row["area_km2"]) and row["ce_tgco2"] == 0.5
    assert row["city_code"] == "340200" and row["status"] == "missing"
    assert county.loc[("340212", 2002), "ce_tgco2"] == 2.0  # crosswalked
    total = _emissions().groupby("year")["ce_tgco2"].sum()
    for level in ("county", "city", "province", "study_area"):
        got = tabs[level].groupby("year")["ce_tgco2"].sum()
        np.testing.assert_allclose(got.values, total.values, err_msg=level)
    city = tabs["city"].set_index(["code", "year"])
    assert city.loc[("340200", 2001), "ce_tgco2"] == 1.5  # crosswalk + own code
    assert city.loc[("340200", 2001), "area_km2"] == 300.0  # area from polygons only
    assert tabs["province"]["in_region_layer"].all()


def test_ce_only_rows_stand_for_the_members_of_their_parent_without_a_row(tmp_path):
    """An old code without a polygon (340208, and 340222 without its crosswalk) reaches city
    340200 by its code: it stands for the city's county without a row of its own (340212), so
    the city's CE is not flagged as covering part of its area; a county is covered by its own
    row only."""
    for crosswalk in ({"340222": "340212"}, {"340999": "340212"}):
        tabs = _zonal(tmp_path, ("rh", "nep", "rcs", "ecs"), crosswalk)
        city = tabs["city"].set_index(["code", "year"])
        assert city.loc[("340200", 2001), "ce_tgco2"] == 1.5
        assert (city["ce_known_area_fraction"] == 1.0).all()
        assert (tabs["province"]["ce_known_area_fraction"] == 1.0).all()
        county = tabs["county"].set_index(["code", "year"])["ce_known_area_fraction"]
        direct = 1.0 if crosswalk.get("340222") == "340212" else 0.0
        assert county.loc[("340212", 2001)] == direct and county.loc[("340102", 2001)] == 1.0


def test_emission_rows_without_a_polygon_are_named_from_the_code_list(tmp_path):
    """A CE-only row (340208, a district since merged) had no name; the crosswalk the run
    builds from the official code list names it (old_name), and names nothing else."""
    from carbonbudget.regions.codes import build_crosswalk, read_crosswalk_names

    old = pd.DataFrame(
        {"code": ["340208", "340222", "340102"], "name": ["三山区", "繁昌县", "瑶海区"]}
    )
    new = pd.DataFrame({"code": ["340102", "340212"], "name": ["瑶海区", "繁昌区"]})
    build_crosswalk(old, new).to_csv(tmp_path / "cw.csv", index=False)
    names = read_crosswalk_names(str(tmp_path / "cw.csv"))
    assert names["340208"] == "三山区"
    tabs = _zonal(tmp_path, ("rcs",), names=names)
    county = tabs["county"].set_index(["code", "year"])["name"]
    assert county[("340208", 2001)] == "三山区"  # was empty
    assert county[("340212", 2001)] == "繁昌区" and county[("340102", 2001)] == "瑶海区"
    pd.DataFrame({"old_code": ["1"], "new_code": ["2"]}).to_csv(tmp_path / "bare.csv")
    assert read_crosswalk_names(str(tmp_path / "bare.csv")) == {}


def test_budget_without_ecs_has_no_balance_columns(tmp_path):
    tabs = _zonal(tmp_path, ("rcs",))
    prov = tabs["province"]
    for col in ("cnc_tgco2", "status", "cer", "ecs_tgco2", "source_sink_ratio"):
        assert col not in prov
    np.testing.assert_allclose(prov["rcs_tgc"], [4.0, 5.0])
    np.testing.assert_allclose(prov["rcs_tgco2"], np.array([4.0, 5.0]) * 44 / 12)
    np.testing.assert_allclose(prov["valid_fraction"], [1.0, 1.0])
