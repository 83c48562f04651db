"""IPCC Tier 1 accounting (docs/method.md, "Emissions accounting" and "Scenarios"): hand-worked
example, the shipped factor table, errors."""

import numpy as np
import pandas as pd
import pytest
from helpers import REPO

from carbonbudget.core.errors import InputDataError
from carbonbudget.science.tier1 import compare_inventory, read_factors, tier1_co2, tier1_totals

FACTORS = REPO / "config/ipcc_tier1_factors.csv"


def test_shipped_factors_are_the_ipcc_defaults_and_every_row_has_a_source():
    f = read_factors(str(FACTORS)).set_index("fuel")
    # the 14 fuels of Zhang et al. 2022, and four more of Chinese statistics (CEADs)
    assert len(f) == 18
    # spot checks against IPCC 2006 Vol. 2 Table 1.2 (NCV, TJ/Gg) and Table 1.4 (EF, kg/TJ)
    expected = {
        "coal": (25.8, 94600),
        "coke": (28.2, 107000),
        "coke_oven_gas": (38.7, 44400),
        "blast_furnace_gas": (2.47, 260000),
        "converter_gas": (7.06, 182000),
        "crude_oil": (42.3, 73300),
        "gasoline": (44.3, 69300),
        "diesel": (43.0, 74100),
        "fuel_oil": (40.4, 77400),
        "lpg": (47.3, 63100),
        "natural_gas": (48.0, 56100),
        "briquettes": (20.7, 97500),
        "coal_tar": (28.0, 80700),
        "refinery_gas": (49.5, 57600),
        "other_petroleum_products": (40.2, 73300),
    }
    for fuel, (ncv, ef) in expected.items():
        assert (f.loc[fuel, "ncv_tj"], f.loc[fuel, "ef_co2_kg_per_tj"]) == (ncv, ef), fuel
    assert (f["source"].str.contains("IPCC 2006")).all()
    assert set(f["ncv_per"]) == {"Gg"}


def test_two_fuel_example_by_hand():
    """100 kt coal and 10^4 t natural gas:
    coal 100 Gg x 25.8 TJ/Gg x 94,600 kg/TJ = 244,068,000 kg = 0.244068 Tg CO2;
    gas 10 Gg x 48.0 TJ/Gg x 56,100 kg/TJ = 26,928,000 kg = 0.026928 Tg CO2; total 0.270996."""
    cons = pd.DataFrame(
        {
            "region": ["r1", "r1"],
            "year": [2010, 2010],
            "fuel": ["coal", "natural_gas"],
            "amount": [100.0, 1.0],
            "unit": ["kt", "10^4 t"],
        }
    )
    per_fuel = tier1_co2(cons, read_factors(str(FACTORS))).set_index("fuel")
    assert per_fuel.loc["coal", "energy_tj"] == pytest.approx(2580.0)
    assert per_fuel.loc["coal", "co2_tgco2"] == pytest.approx(0.244068, rel=1e-12)
    assert per_fuel.loc["natural_gas", "co2_tgco2"] == pytest.approx(0.026928, rel=1e-12)
    tot = tier1_totals(per_fuel.reset_index())
    assert tot["co2_tgco2"].iloc[0] == pytest.approx(0.270996, rel=1e-12)


def test_unknown_fuel_and_unit_mismatch_are_clear_errors(tmp_path):
    f = read_factors(str(FACTORS))
    cons = pd.DataFrame(
        {"region": ["r"], "year": [2010], "fuel": ["peat"], "amount": [1.0], "unit": ["kt"]}
    )
    with pytest.raises(InputDataError, match=r"fuels \['peat'\] are not in the factor table") as e:
        tier1_co2(cons, f, path="cons.csv")
    assert "cons.csv" in str(e.value) and "Fix:" in str(e.value)
    cons = cons.assign(fuel="natural_gas", unit="10^8 m3")
    with pytest.raises(InputDataError, match="natural_gas given in 10\\^8 m3, NCV per Gg"):
        tier1_co2(cons, f)
    cons = cons.assign(unit="barrels")
    with pytest.raises(InputDataError, match="unknown consumption units"):
        tier1_co2(cons, f)
    # a user factor table per volume makes volumes work (China's NCV for natural gas:
    # 389.31 TJ per 10^8 m3 is an example value)
    own = tmp_path / "own.csv"
    own.write_text(
        "fuel,ncv_tj,ncv_per,ef_co2_kg_per_tj,source\nnatural_gas,389.31,10^8 m3,56100,example\n"
    )
    got = tier1_co2(cons.assign(unit="10^4 m3", amount=1e4), read_factors(str(own)))
    assert got["co2_tgco2"].iloc[0] == pytest.approx(389.31 * 56100 * 1e-9)
    own.write_text(
        "fuel,ncv_tj,ncv_per,ef_co2_kg_per_tj,source\nnatural_gas,389.31,10^8 m3,56100,\n"
    )
    with pytest.raises(InputDataError, match="have no source"):
        read_factors(str(own))


def test_comparison_table_like_zhang_et_al_2022_table1():
    ours = pd.DataFrame(
        {
            "region": ["a", "b", "a", "b"],
            "year": [2010, 2010, 2017, 2017],
            "co2_tgco2": [110.0, 45.0, 100.0, 50.0],
        }
    )
    ref = pd.DataFrame(
        {
            "region": ["a", "b", "a", "b"],
            "year": [2010, 2010, 2017, 2017],
            "co2_tgco2": [100.0, 50.0, 100.0, 50.0],
        }
    )
    t = compare_inventory(ours, ref)
    row = t[(t["region"] == "a") & (t["year"] == 2010)].iloc[0]
    assert row["abs_error_tgco2"] == 10.0 and row["rel_error"] == pytest.approx(0.1)
    s = t[(t["region"] == "all") & (t["year"] == 2010)].iloc[0]
    assert s["tier1_tgco2"] == 155.0 and s["inventory_tgco2"] == 150.0
    assert s["mean_abs_rel_error"] == pytest.approx(0.1)  # (0.1 + 0.1) / 2
    s17 = t[(t["region"] == "all") & (t["year"] == 2017)].iloc[0]
    assert s17["mean_abs_rel_error"] == 0.0 and s17["rel_error"] == 0.0
    assert np.isnan(compare_inventory(ours, ref.iloc[:3])["rel_error"].iloc[-3])


def test_tier1_stage_against_a_given_inventory(tmp_path):
    from helpers import job

    from carbonbudget.pipeline.stages.scenarios import tier1_emissions

    (tmp_path / "cons.csv").write_text(
        "prov,yr,fuel,amount,unit\n"
        "p1,2010,coal,100,kt\np1,2010,natural_gas,10,kt\n"
        "p2,2010,diesel,1000,t\n"
    )
    (tmp_path / "inv.csv").write_text("code,year,co2\np1,2010,250\np2,2010,3.0\np2,2011,9\n")
    cfg = {
        "consumption": str(tmp_path / "cons.csv"),
        "region_col": "prov",
        "year_col": "yr",
        "fuel_col": "fuel",
        "amount_col": "amount",
        "unit_col": "unit",
        "factors": str(FACTORS),
        "inventory": {
            "path": str(tmp_path / "inv.csv"),
            "region_col": "code",
            "year_col": "year",
            "value_col": "co2",
            "units": "kt CO2",
        },
    }
    comp = tier1_emissions(
        job(
            "tier1_emissions",
            input={"budget": "unused"},
            output={"per_fuel": str(tmp_path / "f.csv"), "comparison": str(tmp_path / "c.csv")},
            params={"accounting": cfg},
        )
    ).set_index(["region", "year"])
    # p1: 0.270996 Tg (hand example) vs 250 kt = 0.25 Tg; p2: 1 Gg x 43.0 x 74,100 = 3.1863 kt
    assert comp.loc[("p1", 2010), "tier1_tgco2"] == pytest.approx(0.270996)
    assert comp.loc[("p1", 2010), "rel_error"] == pytest.approx(0.270996 / 0.25 - 1)
    assert comp.loc[("p2", 2010), "rel_error"] == pytest.approx(3.1863 / 3.0 - 1)
    assert ("p2", 2011) not in comp.index  # only the consumption table's years
    assert comp.loc[("all", 2010), "mean_abs_rel_error"] == pytest.approx(
        (abs(0.270996 / 0.25 - 1) + abs(3.1863 / 3.0 - 1)) / 2
    )
    assert (tmp_path / "f.csv").exists()
