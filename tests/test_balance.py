"""CNC, status, source/sink ratio, CER on hand cases (DESIGN §3)."""

import numpy as np
import pandas as pd
import pytest

from carbonbudget.balance import balance_indicators, load_emissions, match_emission_codes
from carbonbudget.errors import InputDataError, RegionError


def test_hand_cases():
    # ecs, ce (Tg CO2): ordinary sink, exact balance, zero sink, ecosystem source, zero emissions
    out = balance_indicators([10, 5, 0, -2, 4], [4, 5, 3, 1, 0], [100] * 5, cv=2.0,
                             tolerance_tgco2=0.1)
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
    pd.DataFrame({"c": ["010101", "010102"], "y": [2001, 2001], "v": [1500.0, 20.0]}).to_csv(p, index=False)
    em = load_emissions(str(p), region_col="c", year_col="y", value_col="v", units="kt CO2",
                        years=[2001])
    assert list(em["code"]) == ["010101", "010102"]       # leading zeros kept
    np.testing.assert_allclose(em["ce_tgco2"], [1.5, 0.02])
    pd.DataFrame({"c": ["1", "1"], "y": [2001, 2001], "v": [1, 2]}).to_csv(p, index=False)
    with pytest.raises(InputDataError, match="several rows for one year.*duplicates: sum"):
        load_emissions(str(p), region_col="c", year_col="y", value_col="v", units="Mt CO2",
                       years=[2001])
    with pytest.raises(InputDataError, match="unknown emission units"):
        load_emissions(str(p), region_col="c", year_col="y", value_col="v", units="Mt",
                       years=[2001])


def test_wide_emission_table_and_duplicate_rules(tmp_path):
    # the CEADs county layout: one row per county, one column per year, a development zone
    # reported beside its district under the same code
    p = tmp_path / "wide.csv"
    pd.DataFrame({"distcode": ["320211", "320211", "340102"], "name": ["a", "a (2)", "b"],
                  "C2001": [1.0, 0.25, 2.0], "C2002": [1.5, 0.5, 2.5], "C2003": [9, 9, 9]}
                 ).to_csv(p, index=False)
    kw = dict(region_col="distcode", units="Mt CO2", years=[2001, 2002], layout="wide",
              year_columns="C{year}")
    with pytest.raises(InputDataError, match="several rows"):
        load_emissions(str(p), **kw)
    summed = load_emissions(str(p), duplicates="sum", **kw).set_index(["code", "year"])["ce_tgco2"]
    assert summed[("320211", 2001)] == 1.25 and summed[("320211", 2002)] == 2.0
    assert summed[("340102", 2002)] == 2.5 and len(summed) == 4      # 2003 not requested
    first = load_emissions(str(p), duplicates="first", **kw).set_index(["code", "year"])["ce_tgco2"]
    assert first[("320211", 2001)] == 1.0
    with pytest.raises(InputDataError, match="year columns matching 'CO2_{year}'"):
        load_emissions(str(p), **(kw | {"year_columns": "CO2_{year}"}))


def test_wide_layout_needs_year_columns_in_the_config():
    import yaml

    from carbonbudget.config import validate_config
    from carbonbudget.errors import ConfigError

    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["emissions"] = {"path": "x.csv", "layout": "wide", "region_col": "distcode",
                        "units": "Mt CO2"}
    with pytest.raises(ConfigError, match="year_columns"):
        validate_config(cfg)
    cfg["emissions"]["year_columns"] = "C{year}"
    assert validate_config(cfg)["emissions"]["duplicates"] == "error"


def test_unmatched_emission_codes_listed_with_share():
    hier = pd.DataFrame({"county_code": ["910101"], "city_code": ["910100"],
                         "province_code": ["910000"]})
    em = pd.DataFrame({"code": ["910101", "999999"], "year": [2001, 2001], "ce_tgco2": [3.0, 1.0]})
    levels = ["county", "city", "province"]
    with pytest.raises(RegionError, match=r"999999.*|25\.00%") as exc:
        match_emission_codes(em, hier, levels, derive_parents=None, unmatched="error", path="e.csv")
    assert "25.00%" in str(exc.value) and "e.csv" in str(exc.value)
    kept = match_emission_codes(em, hier, levels, derive_parents=None, unmatched="warn")
    assert list(kept["code"]) == ["910101"]
    derived = match_emission_codes(em, hier, levels, derive_parents="adcode", unmatched="error")
    assert derived.set_index("code").loc["999999", "province_code"] == "990000"


def _tiny_budget(tmp_path, cv):
    from carbonbudget.balance import build_budget

    # two counties in one city/province; ECS 1 and 3 Tg C; CE 2 and 4 Mt CO2
    z = pd.DataFrame({"code": ["910101", "910102"], "year": [2001, 2001],
                      "area_km2": [100.0, 300.0], "rh_tgc": [0.5, 0.5], "nep_tgc": [1.0, 3.0],
                      "rcs_tgc": [0.0, 0.0], "ecs_tgc": [1.0, 3.0],
                      "rh_valid_fraction": [1.0, 1.0], "nep_valid_fraction": [1.0, 0.5],
                      "rcs_valid_fraction": [1.0, 1.0], "ecs_valid_fraction": [1.0, 0.5]})
    z.to_parquet(tmp_path / "z.parquet")
    pd.DataFrame({"c": ["910101", "910102"], "y": [2001, 2001], "v": [2.0, 4.0]}).to_csv(
        tmp_path / "e.csv", index=False)
    # GDP per capita: county 1 = 30/10 = 3, county 2 = 10/10 = 1, all = 40/20 = 2
    pd.DataFrame({"c": ["910101", "910102"], "y": [2001, 2001], "gdp": [30.0, 10.0],
                  "pop": [10.0, 10.0]}).to_csv(tmp_path / "s.csv", index=False)
    regions = pd.DataFrame({"county_code": ["910101", "910102"], "county_name": ["a", "b"],
                            "city_code": ["910100"] * 2, "city_name": ["c"] * 2,
                            "province_code": ["910000"] * 2, "province_name": ["p"] * 2})
    return build_budget(
        zonal_paths=[str(tmp_path / "z.parquet")], years=[2001], regions_table=regions,
        levels=["county", "city", "province"],
        emissions_cfg={"path": str(tmp_path / "e.csv"), "region_col": "c", "year_col": "y",
                       "value_col": "v", "units": "Mt CO2"},
        socio_cfg={"path": str(tmp_path / "s.csv"), "region_col": "c", "year_col": "y",
                   "gdp_col": "gdp", "population_col": "pop"},
        balance_cfg={"tolerance_tgco2": 0.0, "cv": cv}, derive_parents=None)


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
    assert rel["province"]["cv"].iloc[0] == pytest.approx(1.0)     # the province is the whole area
    assert list(rel["study_area"]["code"]) == ["all"]
