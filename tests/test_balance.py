"""CNC, status, source/sink ratio, CER on hand cases (docs/method.md, "Balance indicators")."""

import numpy as np
import pandas as pd
import pytest
from helpers import emission_section

from carbonbudget.core.config import fill_section
from carbonbudget.core.errors import InputDataError, RegionError
from carbonbudget.regions.budget import EmissionMatch, RegionTree
from carbonbudget.regions.emissions import load_emissions, match_emission_codes
from carbonbudget.science.balance import balance_indicators


def test_hand_cases():
    # ecs, ce (Tg CO2): ordinary sink, exact balance, zero sink, ecosystem source, zero emissions
    out = balance_indicators(
        [10, 5, 0, -2, 4], [4, 5, 3, 1, 0], [100] * 5, cv=2.0, tolerance_tgco2=0.1
    )
    np.testing.assert_allclose(out["cnc_tgco2"], [6, 0, -3, -3, 4])
    np.testing.assert_allclose(out["cnc_flux_tco2_km2"], [60000, 0, -30000, -30000, 40000])
    assert list(out["status"]) == ["surplus", "neutral", "deficit", "deficit", "surplus"]
    np.testing.assert_array_equal(out["source_sink_ratio"], [0.4, 1.0, np.inf, np.inf, 0.0])
    assert list(out["ecosystem_source"]) == [False, False, True, True, False]
    np.testing.assert_array_equal(out["cer"], [0.8, 2.0, np.inf, np.inf, 0.0])


def test_no_silent_nan_or_negative_ratio():
    out = balance_indicators([-5.0, 3.0], [2.0, 1.0], [1.0, 1.0])
    assert (out["source_sink_ratio"] > 0).all()
    assert not out["source_sink_ratio"].isna().any()


def test_missing_inputs_flagged_missing():
    out = balance_indicators([np.nan, 1.0], [1.0, np.nan], [1.0, 1.0])
    assert list(out["status"]) == ["missing", "missing"]
    assert out["source_sink_ratio"].isna().all()


def test_cer_with_cv_array():
    out = balance_indicators([10.0, 10.0], [5.0, 5.0], [1, 1], cv=[0.5, 2.0])
    np.testing.assert_allclose(out["cer"], [0.25, 1.0])


def test_emission_units_and_duplicates(tmp_path):
    p = tmp_path / "e.csv"
    pd.DataFrame({"c": ["010101", "010102"], "y": [2001, 2001], "v": [1500.0, 20.0]}).to_csv(
        p, index=False
    )
    em = load_emissions(
        str(p), region_col="c", year_col="y", value_col="v", units="kt CO2", years=[2001]
    )
    assert list(em["code"]) == ["010101", "010102"]  # leading zeros kept
    np.testing.assert_allclose(em["ce_tgco2"], [1.5, 0.02])
    pd.DataFrame({"c": ["1", "1"], "y": [2001, 2001], "v": [1, 2]}).to_csv(p, index=False)
    with pytest.raises(InputDataError, match="several rows for one year.*duplicates: sum"):
        load_emissions(
            str(p), region_col="c", year_col="y", value_col="v", units="Mt CO2", years=[2001]
        )
    with pytest.raises(InputDataError, match="unknown emission units"):
        load_emissions(
            str(p), region_col="c", year_col="y", value_col="v", units="Mt", years=[2001]
        )


def test_wide_emission_table_and_duplicate_rules(tmp_path):
    # the CEADs county layout: one row per county, one column per year, a development zone
    # reported beside its district under the same code
    p = tmp_path / "wide.csv"
    pd.DataFrame(
        {
            "distcode": ["320211", "320211", "340102"],
            "name": ["a", "a (2)", "b"],
            "C2001": [1.0, 0.25, 2.0],
            "C2002": [1.5, 0.5, 2.5],
            "C2003": [9, 9, 9],
        }
    ).to_csv(p, index=False)
    kw = dict(
        region_col="distcode",
        units="Mt CO2",
        years=[2001, 2002],
        year_columns="C{year}",
    )
    with pytest.raises(InputDataError, match="several rows"):
        load_emissions(str(p), **kw)
    summed = load_emissions(str(p), duplicates="sum", **kw).set_index(["code", "year"])["ce_tgco2"]
    assert summed[("320211", 2001)] == 1.25 and summed[("320211", 2002)] == 2.0
    assert summed[("340102", 2002)] == 2.5 and len(summed) == 4  # 2003 not requested
    first = load_emissions(str(p), duplicates="first", **kw).set_index(["code", "year"])["ce_tgco2"]
    assert first[("320211", 2001)] == 1.0
    with pytest.raises(InputDataError, match="year columns matching 'CO2_{year}'"):
        load_emissions(str(p), **(kw | {"year_columns": "CO2_{year}"}))


def test_wide_layout_needs_year_columns_in_the_config():
    import yaml

    from carbonbudget.core.config import validate_config
    from carbonbudget.core.errors import ConfigError

    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["emissions"] = {
        "path": "x.csv",
        "layout": "wide",
        "region_col": "distcode",
        "units": "Mt CO2",
        "downscale": cfg["emissions"]["downscale"],  # the demo's CNC trends need it
    }
    with pytest.raises(ConfigError, match="year_columns"):
        validate_config(cfg)
    cfg["emissions"]["year_columns"] = "C{year}"
    assert validate_config(cfg)["emissions"]["duplicates"] == "error"


def test_unmatched_emission_codes_listed_with_share():
    hier = pd.DataFrame(
        {"county_code": ["910101"], "city_code": ["910100"], "province_code": ["910000"]}
    )
    em = pd.DataFrame({"code": ["910101", "999999"], "year": [2001, 2001], "ce_tgco2": [3.0, 1.0]})
    levels = ["county", "city", "province"]
    with pytest.raises(RegionError, match=r"999999.*|25\.00%") as exc:
        match_emission_codes(em, hier, levels, derive_parents=None, unmatched="error", path="e.csv")
    assert "25.00%" in str(exc.value) and "e.csv" in str(exc.value)
    kept = match_emission_codes(em, hier, levels, derive_parents=None, unmatched="warn")
    assert list(kept["code"]) == ["910101"]
    derived = match_emission_codes(em, hier, levels, derive_parents="adcode", unmatched="error")
    assert derived.set_index("code").loc["999999", "province_code"] == "990000"


def _tiny_budget(tmp_path, cv, socio_csv=None, counties_with_ce=("910101", "910102")):
    from carbonbudget.regions.budget import build_budget

    # two counties in one city/province; ECS 1 and 3 Tg C; CE 2 and 4 Mt CO2
    z = pd.DataFrame(
        {
            "code": ["910101", "910102"],
            "year": [2001, 2001],
            "area_km2": [100.0, 300.0],
            "rh_tgc": [0.5, 0.5],
            "nep_tgc": [1.0, 3.0],
            "rcs_tgc": [0.0, 0.0],
            "ecs_tgc": [1.0, 3.0],
            "rh_valid_fraction": [1.0, 1.0],
            "nep_valid_fraction": [1.0, 0.5],
            "rcs_valid_fraction": [1.0, 1.0],
            "ecs_valid_fraction": [1.0, 0.5],
        }
    )
    z.to_parquet(tmp_path / "z.parquet")
    emissions = pd.DataFrame({"c": ["910101", "910102"], "y": [2001, 2001], "v": [2.0, 4.0]})
    emissions[emissions["c"].isin(counties_with_ce)].to_csv(tmp_path / "e.csv", index=False)
    # GDP per capita: county 1 = 30/10 = 3, county 2 = 10/10 = 1, all = 40/20 = 2
    pd.DataFrame(
        {"c": ["910101", "910102"], "y": [2001, 2001], "gdp": [30.0, 10.0], "pop": [10.0, 10.0]}
    ).to_csv(tmp_path / "s.csv", index=False)
    if socio_csv is not None:
        (tmp_path / "s.csv").write_text(socio_csv)
    regions = pd.DataFrame(
        {
            "county_code": ["910101", "910102"],
            "county_name": ["a", "b"],
            "city_code": ["910100"] * 2,
            "city_name": ["c"] * 2,
            "province_code": ["910000"] * 2,
            "province_name": ["p"] * 2,
        }
    )
    return build_budget(
        zonal_paths=[str(tmp_path / "z.parquet")],
        years=[2001],
        regions=RegionTree(regions, ["county", "city", "province"]),
        emissions_cfg=emission_section(tmp_path / "e.csv"),
        socio_cfg={
            "path": str(tmp_path / "s.csv"),
            "region_col": "c",
            "year_col": "y",
            "gdp_col": "gdp",
            "population_col": "pop",
        },
        balance_cfg=fill_section(
            "balance", {"tolerance_tgco2": 0.0, "cv": cv, "min_valid_fraction": 0.5}
        ),
        match=EmissionMatch(derive_parents=None),
    )


def test_a_parent_says_how_much_of_its_area_its_ce_stands_for(tmp_path, caplog):
    """County 910102 (300 of 400 km²) has no row in the emission table: the province's CE is
    county 910101's alone, its area both counties'. Every parent row says CE stands for 25 % of
    the area, its status_note says so and the run warns; a member with a row stands for all."""
    full = _tiny_budget(tmp_path, "none")
    for level in ("county", "city", "province", "study_area"):
        assert (full[level]["ce_known_area_fraction"] == 1.0).all(), level
    from carbonbudget.regions import budget as budget_module

    with caplog.at_level("WARNING", logger=budget_module.__name__):
        part = _tiny_budget(tmp_path, "none", counties_with_ce=("910101",))
    county = part["county"].set_index("code")
    assert county.loc["910101", "ce_known_area_fraction"] == 1.0
    assert county.loc["910102", "ce_known_area_fraction"] == 0.0
    assert np.isnan(county.loc["910102", "ce_tgco2"])
    for level in ("city", "province", "study_area"):
        row = part[level].iloc[0]
        assert row["ce_tgco2"] == 2.0 and row["area_km2"] == 400.0
        assert row["ce_known_area_fraction"] == pytest.approx(0.25)
        assert "CE known on 25.0 % of the area" in row["status_note"]
    warned = [r.getMessage() for r in caplog.records if "ce_known_area_fraction" in r.getMessage()]
    assert len(warned) == 1 and "province 910000 p: 25.0 %" in warned[0]


def test_build_budget_cv_none_and_gdp_per_capita_relative(tmp_path):
    k = 44.0 / 12.0
    plain = _tiny_budget(tmp_path, "none")
    county = plain["county"].set_index("code")
    np.testing.assert_allclose(county["cv"], [1.0, 1.0])
    np.testing.assert_allclose(county["cer"], [2.0 / k, 4.0 / (3 * k)])
    prov = plain["province"].iloc[0]
    assert prov["ecs_tgc"] == 4.0 and prov["ce_tgco2"] == 6.0 and prov["area_km2"] == 400.0
    assert prov["valid_fraction"] == pytest.approx((100 * 1.0 + 300 * 0.5) / 400)
    assert prov["cnc_tgco2"] == pytest.approx(4 * k - 6)
    rel = _tiny_budget(tmp_path, "gdp_per_capita_relative")
    county = rel["county"].set_index("code")
    np.testing.assert_allclose(county["cv"], [3.0 / 2.0, 1.0 / 2.0])
    np.testing.assert_allclose(county["cer"], [2.0 / k * 1.5, 4.0 / (3 * k) * 0.5])
    assert rel["province"]["cv"].iloc[0] == pytest.approx(1.0)  # the province is the whole area
    assert list(rel["study_area"]["code"]) == ["all"]


# --- no emission value becomes a silent zero, no parent a silent partial sum ------
@pytest.mark.parametrize("cell", ["n/a", "", "NA", "-", "abc", "inf"])
def test_empty_or_non_numeric_emission_value_is_an_error_naming_line_and_code(tmp_path, cell):
    p = tmp_path / "e.csv"
    p.write_text(
        "c,y,v\n910101,2001,1.5\n910102,2001,2.0\n910101,2002,1.6\n"
        f"910102,2002,{cell}\n910102,1999,n/a\n"
    )  # 1999 is not a requested year
    with pytest.raises(InputDataError) as exc:
        load_emissions(
            str(p), region_col="c", year_col="y", value_col="v", units="Mt CO2", years=[2001, 2002]
        )
    msg = str(exc.value)
    assert str(p) in msg and "line 5 (code 910102, year 2002" in msg and "1 value(s)" in msg
    assert "emissions.empty_values: missing" in msg  # the fix names a real key
    assert "1999" not in msg


def test_wide_table_empty_cell_named_by_line_code_and_year(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("distcode,C2001,C2002\n320211,1.0,2.0\n\n340102,,2.5\n")
    with pytest.raises(InputDataError, match=r"line 4 \(code 340102, year 2001: ''\)"):
        load_emissions(
            str(p),
            region_col="distcode",
            units="Mt CO2",
            years=[2001, 2002],
            year_columns="C{year}",
        )
    with pytest.raises(InputDataError, match=r"not integers: line 2 \(code 1: '2001.5'\)"):
        (tmp_path / "y.csv").write_text("c,y,v\n1,2001.5,1\n")
        load_emissions(
            str(tmp_path / "y.csv"),
            region_col="c",
            year_col="y",
            value_col="v",
            units="Mt CO2",
            years=[2001],
        )


def _gap_budget(tmp_path, emissions_csv, **em_options):
    """Three counties (two in city 910100, one in 910200) of one province over 2001-2002; every
    county's ECS is 1 Tg C each year."""
    from carbonbudget.regions.budget import build_budget

    codes = ["910101", "910102", "910201"]
    z = pd.DataFrame({"code": codes * 2, "year": [2001] * 3 + [2002] * 3, "area_km2": 100.0})
    for v in ("rh", "nep", "rcs", "ecs"):
        z[f"{v}_tgc"] = 1.0
        z[f"{v}_valid_fraction"] = 1.0
    z.to_parquet(tmp_path / "z.parquet")
    (tmp_path / "e.csv").write_text(emissions_csv)
    regions = pd.DataFrame(
        {
            "county_code": codes,
            "county_name": ["a", "b", "c"],
            "city_code": ["910100", "910100", "910200"],
            "city_name": "x",
            "province_code": "910000",
            "province_name": "p",
        }
    )
    return build_budget(
        zonal_paths=[str(tmp_path / "z.parquet")],
        years=[2001, 2002],
        regions=RegionTree(regions, ["county", "city", "province"]),
        emissions_cfg=emission_section(tmp_path / "e.csv", **em_options),
        socio_cfg=None,
        balance_cfg=fill_section(
            "balance", {"tolerance_tgco2": 0.0, "cv": "none", "min_valid_fraction": 0.5}
        ),
        match=EmissionMatch(derive_parents=None),
    )


GAP_TABLE = (
    "c,y,v\n910101,2001,1\n910102,2001,2\n910201,2001,4\n"
    "910101,2002,1\n910201,2002,4\n"
)  # 910102 has no 2002 row


def test_a_missing_county_year_makes_every_parent_missing_that_year(tmp_path, caplog):
    tabs = _gap_budget(tmp_path, GAP_TABLE)
    assert "910102 in 2002" in caplog.text
    county = tabs["county"].set_index(["code", "year"])
    assert np.isnan(county.loc[("910102", 2002), "ce_tgco2"])
    assert county.loc[("910102", 2002), "status"] == "missing"
    assert county.loc[("910201", 2002), "ce_tgco2"] == 4.0  # a sibling elsewhere is fine
    city = tabs["city"].set_index(["code", "year"])
    assert city.loc[("910100", 2001), "ce_tgco2"] == 3.0
    assert np.isnan(city.loc[("910100", 2002), "ce_tgco2"])
    assert city.loc[("910100", 2002), "status"] == "missing"
    assert city.loc[("910200", 2002), "ce_tgco2"] == 4.0
    for level in ("province", "study_area"):
        t = tabs[level].set_index("year")
        assert t.loc[2001, "ce_tgco2"] == 7.0 and np.isnan(t.loc[2002, "ce_tgco2"]), level
        assert t.loc[2002, "status"] == "missing" and np.isnan(t.loc[2002, "cnc_tgco2"])
        assert "ce_missing_members" not in t


def test_gaps_sum_adds_the_known_members_and_counts_the_gap(tmp_path):
    tabs = _gap_budget(tmp_path, GAP_TABLE, gaps="sum")
    prov = tabs["province"].set_index("year")
    assert prov.loc[2002, "ce_tgco2"] == 5.0 and prov.loc[2002, "ce_missing_members"] == 1
    assert prov.loc[2001, "ce_missing_members"] == 0 and prov.loc[2002, "status"] != "missing"
    county = tabs["county"].set_index(["code", "year"])
    assert np.isnan(county.loc[("910102", 2002), "ce_tgco2"])  # the county itself is unknown


def test_empty_values_missing_is_an_explicit_gap(tmp_path):
    table = GAP_TABLE + "910102,2002,n/a\n"
    with pytest.raises(InputDataError, match="line 7"):
        _gap_budget(tmp_path, table)
    tabs = _gap_budget(tmp_path, table, empty_values="missing")
    assert np.isnan(tabs["province"].set_index("year").loc[2002, "ce_tgco2"])
    assert tabs["province"].set_index("year").loc[2001, "ce_tgco2"] == 7.0


def test_socioeconomic_values_that_are_not_numbers_are_an_error(tmp_path):
    bad = "c,y,gdp,pop\n910101,2001,30,10\n910102,2001,n/a,10\n"
    with pytest.raises(InputDataError, match=r"line 3 \(code 910102, year 2001, column gdp"):
        _tiny_budget(tmp_path, "gdp_per_capita_relative", bad)


def test_a_socioeconomic_gap_leaves_every_total_it_belongs_to_unknown(tmp_path):
    from carbonbudget.regions.budget import load_socioeconomic
    from carbonbudget.regions.emissions import sum_known

    p = tmp_path / "s.csv"
    p.write_text("c,y,gdp,pop\n910101,2001,30,10\n910102,2001,10,10\n910101,2002,33,10\n")
    cfg = {"path": str(p), "region_col": "c", "year_col": "y"}
    socio = load_socioeconomic(cfg, ["gdp", "pop"], [2001, 2002])
    assert len(socio) == 4 and socio.set_index(["code", "year"]).loc[("910102", 2002)].isna().all()
    tot = sum_known(socio, ["year"], ["gdp", "pop"]).set_index("year")
    assert tot.loc[2001, "gdp"] == 40.0 and tot.loc[2001, "pop"] == 20.0
    assert tot.loc[2002].isna().all()  # never 33 from one of the two counties


# --- partial coverage is never silent ---------------------------------------------
def test_a_sink_known_on_too_little_of_the_area_gives_no_balance():
    out = balance_indicators(
        [10.0, 10.0, 10.0, np.nan],
        [4.0, 4.0, np.nan, 4.0],
        [100] * 4,
        valid_fraction=[1.0, 0.3, 0.3, 0.0],
        min_valid_fraction=0.5,
    )
    assert list(out["status"]) == ["surplus", "incomplete", "missing", "missing"]
    assert out["cnc_tgco2"].iloc[0] == 6.0 and out["cnc_tgco2"].iloc[1:].isna().all()
    for col in ("cnc_flux_tco2_km2", "source_sink_ratio", "cer"):
        assert out[col].iloc[1:].isna().all(), col
    assert out["status_note"].iloc[0] == ""
    assert out["status_note"].iloc[1] == (
        "sink known on 30.0 % of the area (below balance.min_valid_fraction 50 %)"
    )
    assert "no emission value" in out["status_note"].iloc[2]
    assert "no sink" in out["status_note"].iloc[3]


def test_a_status_resting_on_part_of_the_area_says_on_how_much():
    """Known on 52 % (above balance.min_valid_fraction): the status stays, the note gives the
    share; known on 96 %: no note."""
    out = balance_indicators(
        [10.0, 10.0], [4.0, 4.0], [100] * 2, valid_fraction=[0.52, 0.96], min_valid_fraction=0.5
    )
    assert list(out["status"]) == ["surplus", "surplus"]
    assert out["status_note"].iloc[0] == (
        "sink known on 52.0 % of the area: ECS is that part's, CE the whole region's"
    )
    assert out["status_note"].iloc[1] == ""


def _cut_budget(tmp_path, valid, inside):
    """Two counties of 100 km² on the grid, ECS 1 Tg C each, CE 1 Mt CO2 each; ``valid``: the
    share of each county's grid area with a known sink, ``inside``: the share of each county's
    polygon inside the grid."""
    from carbonbudget.regions.budget import build_budget

    z = pd.DataFrame({"code": ["910101", "910102"], "year": 2001, "area_km2": 100.0})
    for v in ("rh", "nep", "rcs", "ecs"):
        z[f"{v}_tgc"] = 1.0
        z[f"{v}_valid_fraction"] = valid
    z.to_parquet(tmp_path / "z.parquet")
    (tmp_path / "e.csv").write_text("c,y,v\n910101,2001,1\n910102,2001,1\n")
    regions = pd.DataFrame(
        {
            "county_code": ["910101", "910102"],
            "county_name": ["a", "b"],
            "city_code": "910100",
            "city_name": "c",
            "province_code": "910000",
            "province_name": "p",
            "inside_grid_share": inside,
        }
    )
    return build_budget(
        zonal_paths=[str(tmp_path / "z.parquet")],
        years=[2001],
        regions=RegionTree(regions, ["county", "city", "province"]),
        emissions_cfg=emission_section(tmp_path / "e.csv"),
        socio_cfg=None,
        balance_cfg=fill_section(
            "balance", {"tolerance_tgco2": 0.0, "cv": "none", "min_valid_fraction": 0.5}
        ),
        match=EmissionMatch(derive_parents=None),
    )


def test_valid_fraction_counts_the_area_outside_the_grid_as_unknown(tmp_path):
    tabs = _cut_budget(tmp_path, valid=[1.0, 1.0], inside=[1.0, 0.4])
    county = tabs["county"].set_index("code")
    # county b: 100 km² on the grid are 40 % of its 250 km²
    assert county.loc["910102", "outside_grid_share"] == pytest.approx(0.6)
    assert county.loc["910102", "valid_fraction"] == pytest.approx(0.4)
    assert county.loc["910102", "status"] == "incomplete"
    assert county.loc["910101", "outside_grid_share"] == 0.0
    assert (
        county.loc["910101", "status"] == "surplus" and county.loc["910101", "valid_fraction"] == 1
    )
    prov = tabs["province"].iloc[0]
    assert prov["valid_fraction"] == pytest.approx(200 / 350)  # Σ known / Σ whole
    assert prov["outside_grid_share"] == pytest.approx(150 / 350)
    assert prov["status"] != "incomplete"
    assert prov["area_km2"] == 200.0  # the area on the grid


def test_a_parent_of_children_with_little_coverage_is_incomplete(tmp_path):
    tabs = _cut_budget(tmp_path, valid=[0.45, 0.4], inside=[1.0, 1.0])
    for level in ("county", "city", "province", "study_area"):
        t = tabs[level]
        assert (t["status"] == "incomplete").all() and t["cnc_tgco2"].isna().all(), level
        assert t["ecs_tgc"].notna().all()  # the partial sink itself is still reported


def test_intensity_indicators_are_ratios_of_sums_and_unknown_with_an_unknown_member():
    from carbonbudget.regions.budget import _intensity

    socio = pd.DataFrame(
        {
            "county_code": ["a", "b", "c", "d"],
            "province_code": ["P", "P", "Q", "Q"],
            "year": 2001,
            "pop_k": [100.0, 300.0, 50.0, np.nan],  # thousand people; d unknown
            "gdp_bn": [2.0, 6.0, 1.0, 1.0],  # billion CNY
        }
    )
    cfg = {
        "population_col": "pop_k",
        "population_unit": "thousand",
        "gdp_col": "gdp_bn",
        "gdp_currency": "CNY",
        "gdp_scale": 1e9,
    }
    t = pd.DataFrame(
        {"province_code": ["P", "Q"], "year": 2001, "ce_tgco2": [2.0, 1.0], "ecs_tgco2": [1.0, 3.0]}
    )
    out = _intensity(t, socio, cfg, "province_code", with_balance=True)
    # P: 2 Tg over 400,000 people = 5 t each (the mean of the members' ratios would differ)
    assert out.loc[0, "ce_per_capita_tco2"] == pytest.approx(5.0)
    assert out.loc[0, "ecs_per_capita_tco2"] == pytest.approx(2.5)
    assert out.loc[0, "ce_intensity_kgco2_per_cny"] == pytest.approx(2e9 / 8e9)  # 0.25 kg/CNY
    assert np.isnan(out.loc[1, "ce_per_capita_tco2"])  # one member without population
    assert out.loc[1, "ce_intensity_kgco2_per_cny"] == pytest.approx(1e9 / 2e9)
    # the sums themselves, in persons and CNY: the factors of the emission decomposition
    assert out["population_persons"].iloc[0] == pytest.approx(400_000.0)
    assert np.isnan(out["population_persons"].iloc[1])
    assert list(out["gdp_cny"]) == pytest.approx([8e9, 2e9])


def test_emissions_no_country_has_are_refused_with_the_numbers_and_the_unit_key(tmp_path):
    """kg declared as t: a thousand times the emissions. The study area's density and total
    are checked against what any country emits; the error names both and emissions.units."""
    huge = "c,y,v\n" + "\n".join(
        f"{code},{year},{5000.0}"
        for code in ("910101", "910102", "910201")
        for year in (2001, 2002)
    )
    with pytest.raises(InputDataError, match="emissions.units") as exc:
        _gap_budget(tmp_path, huge)
    message = str(exc.value)
    assert "15,000 Tg CO2 over 300 km²" in message and "50,000,000 t CO2" in message


def test_a_region_denser_than_any_district_is_named_in_a_warning(caplog):
    from carbonbudget.regions.emissions import check_emission_magnitude

    ce = pd.Series({"a": 2.0, "b": 50.0})  # Tg CO2
    area = pd.Series({"a": 1000.0, "b": 10.0, "c": 5.0})  # km²: b is 5e6 t km-2
    with caplog.at_level("WARNING"):
        check_emission_magnitude(ce, area, year=2001, path="e.csv", units_key="emissions.units")
    assert "1 regions emit more than 1,000,000" in caplog.text and "b 5,000,000" in caplog.text
    assert "a 2" not in caplog.text
    with pytest.raises(InputDataError, match="more than any country"):
        check_emission_magnitude(
            ce * 1000, area, year=2001, path="e.csv", units_key="emissions.units"
        )


def test_fluxes_cut_by_another_inputs_gap_say_so(small_grid, tmp_path, caplog):
    """RH and NEP are summed where every flux is known, so a runoff gap on 40 % of a county
    takes 40 % of its RH and NEP out of the totals: the status_note says which flux, which
    input and the shares, and one warning names the county."""
    import geopandas as gpd
    import shapely
    from helpers import AEA, write_raster

    from carbonbudget.regions.budget import build_budget
    from carbonbudget.regions.zonal import coverage_matrix, zonal_totals

    regions = gpd.GeoDataFrame(
        {"code": ["910101"]}, geometry=[shapely.box(0, 0, 5000, 4000)], crs=AEA
    )
    codes, m = coverage_matrix(regions, "code", small_grid)
    rh = np.full(small_grid.shape, 300.0)
    nep = np.full(small_grid.shape, 200.0)
    rcs = np.full(small_grid.shape, 10.0)
    rcs[:, :2] = np.nan  # no runoff on the west 2 of 5 columns
    rasters = {
        v: write_raster(tmp_path / f"{v}.tif", a, small_grid)
        for v, a in (("rh", rh), ("nep", nep), ("rcs", rcs), ("ecs", nep + rcs))
    }
    z = zonal_totals(m, codes, small_grid, rasters)
    assert z.loc[0, "rh_own_fraction"] == pytest.approx(1.0)
    assert z.loc[0, "rcs_own_fraction"] == pytest.approx(0.6)
    assert z.loc[0, "rh_valid_fraction"] == pytest.approx(0.6)
    z.insert(1, "year", 2001)
    z.to_parquet(tmp_path / "z.parquet")
    (tmp_path / "e.csv").write_text("c,y,v\n910101,2001,0.5\n")
    table = pd.DataFrame(
        {
            "county_code": ["910101"],
            "county_name": ["a"],
            "province_code": ["910000"],
            "province_name": ["p"],
        }
    )
    with caplog.at_level("WARNING"):
        tabs = build_budget(
            zonal_paths=[str(tmp_path / "z.parquet")],
            years=[2001],
            regions=RegionTree(table, ["county", "province"]),
            emissions_cfg=emission_section(tmp_path / "e.csv"),
            socio_cfg=None,
            balance_cfg=fill_section("balance", {"cv": "none", "min_valid_fraction": 0.5}),
        )
    note = tabs["county"].loc[0, "status_note"]
    assert note == (
        "RH and NEP summed over the 60 % of the area where every flux is known (known on "
        "100 %, 100 %): RCS has no value on 40 % (runoff or lithology missing there)"
    )
    assert tabs["province"].loc[0, "status_note"] == note  # the parent is cut the same way
    assert "910101 2001" in caplog.text and "RH or NEP known on more" in caplog.text
    assert not any(c.endswith("_own_fraction") for c in tabs["county"])


def test_a_row_without_pixels_gets_no_cut_note():
    """A CE-only row (an emission code without polygon) has no coverage of any flux: no note,
    no error."""
    from carbonbudget.regions.budget import _note_cut_fluxes

    t = pd.DataFrame(
        {
            "valid_fraction": [0.6, np.nan],
            "status_note": ["", "an emission code without a polygon"],
            **{f"{v}_own_fraction": [1.0, np.nan] for v in ("rh", "nep")},
            "rcs_own_fraction": [0.6, np.nan],
            "ecs_own_fraction": [0.6, np.nan],
        }
    )
    out = _note_cut_fluxes(t, ("rh", "nep", "rcs", "ecs"))
    assert out.loc[0, "status_note"].startswith("RH and NEP summed over the 60 %")
    assert out.loc[1, "status_note"] == "an emission code without a polygon"
    assert list(out["_cut"]) == [True, False]
