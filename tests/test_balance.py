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
    with pytest.raises(InputDataError, match="duplicate"):
        load_emissions(str(p), region_col="c", year_col="y", value_col="v", units="Mt CO2",
                       years=[2001])
    with pytest.raises(InputDataError, match="unknown emission units"):
        load_emissions(str(p), region_col="c", year_col="y", value_col="v", units="Mt",
                       years=[2001])


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
