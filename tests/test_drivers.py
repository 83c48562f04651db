"""decomposition.drivers: population and GDP of one level from tables of their own (a
statistical yearbook and the World Bank), joined by region names, decomposed like-for-like."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import REPO

from carbonbudget.core.config import validate_config
from carbonbudget.core.errors import ConfigError, InputDataError
from carbonbudget.regions.changes import decomposition_tables
from carbonbudget.regions.drivers import like_for_like_total, read_drivers


def _spec(tmp_path, population=None, gdp=None, names=None):
    """Two tables as the real data have them: population in persons by English name, GDP in
    100 million yuan by English name; a names table with two spellings of one province."""
    pop = tmp_path / "population.csv"
    pop.write_text(
        population
        or "province_en,year,population\nAnhui,2004,60000000\nAnhui,2005,61000000\n"
        "Inner Mongolia,2004,24000000\nInner Mongolia,2005,24100000\n"
    )
    money = tmp_path / "gdp.csv"
    money.write_text(
        gdp
        or "region,year,grp\nAnhui,2004,5000\nAnhui,2005,5500\n"
        "InnerMongolia,2004,3000\nInnerMongolia,2005,3900\n"
    )
    table = tmp_path / "names.csv"
    table.write_text(
        names or "code,name_en\n340000,Anhui\n150000,Inner Mongolia\n150000,InnerMongolia\n"
    )
    return {
        "level": "province",
        "tables": [
            {
                "path": str(pop),
                "region_col": "province_en",
                "year_col": "year",
                "population_col": "population",
                "population_unit": "persons",
            },
            {
                "path": str(money),
                "region_col": "region",
                "year_col": "year",
                "gdp_col": "grp",
                "gdp_currency": "CNY",
                "gdp_scale": 1e8,
            },
        ],
        "names": {"path": str(table), "name_col": "name_en", "code_col": "code"},
    }


def test_tables_are_joined_by_their_names_codes(tmp_path):
    drivers = read_drivers(_spec(tmp_path), [2004, 2005]).set_index(["code", "year"])
    assert drivers.loc[("150000", 2005), "population_persons"] == 24_100_000
    assert drivers.loc[("150000", 2005), "gdp_cny"] == pytest.approx(3900e8)
    assert drivers.loc[("340000", 2004), "gdp_cny"] == pytest.approx(5000e8)


@pytest.mark.parametrize(
    ("case", "message", "fix"),
    [
        ("unknown name", "have no code in the names table: ['Tibet']", "add each name"),
        ("empty cell", "line 3 (region Anhui, year 2005, column population: '')", "write a number"),
        ("two spellings", "several rows for one region and year", "keep one row"),
    ],
)
def test_bad_driver_tables_stop_with_the_file_and_the_fix(tmp_path, case, message, fix):
    population = None
    if case == "unknown name":
        population = "province_en,year,population\nTibet,2004,2700000\n"
    elif case == "empty cell":
        population = "province_en,year,population\nAnhui,2004,60000000\nAnhui,2005,\n"
    elif case == "two spellings":
        population = (
            "province_en,year,population\nInner Mongolia,2004,24000000\n"
            "InnerMongolia,2004,24000000\n"
        )
    with pytest.raises(InputDataError) as err:
        read_drivers(_spec(tmp_path, population=population), [2004, 2005])
    text = "\n".join(err.value.block())
    assert message in text and fix in text and "population.csv" in text, text


def test_the_study_area_sums_the_regions_known_every_year():
    budget = pd.DataFrame(
        {
            "code": ["a", "a", "b", "b", "c", "c"],
            "year": [2004, 2005] * 3,
            "ce_tgco2": [1.0, 2.0, 3.0, 4.0, np.nan, 5.0],  # c: no CE in 2004
            "population_persons": [10.0, 11.0, 20.0, 21.0, 5.0, 5.0],
            "gdp_cny": [100.0, 120.0, 200.0, 230.0, 50.0, 60.0],
        }
    )
    total = like_for_like_total(budget, [2004, 2005]).set_index("year")
    assert list(total["ce_tgco2"]) == [4.0, 6.0]  # a + b: c would read as growth
    assert list(total["population_persons"]) == [30.0, 32.0]
    assert total["name"].iloc[0] == "study area (the 2 of 3 regions with CE, population and GDP)"


def _province_budget(tmp_path):
    """The budget table of Anhui and Inner Mongolia, 2004-2005 (CE only): its path."""
    path = tmp_path / "budget_province.parquet"
    pd.DataFrame(
        {
            "level": "province",
            "code": ["340000", "340000", "150000", "150000"],
            "name": ["安徽省", "安徽省", "内蒙古自治区", "内蒙古自治区"],
            "year": [2004, 2005, 2004, 2005],
            "ce_tgco2": [300.0, 330.0, 250.0, 300.0],
        }
    ).to_parquet(path)
    return path


def test_a_level_and_the_study_area_decomposed_with_drivers(tmp_path):
    path = _province_budget(tmp_path)
    settings = {"drivers": _spec(tmp_path), "years": [2004, 2005]}
    budgets = {"province": str(path), "study_area": str(tmp_path / "unused.parquet")}
    tables = decomposition_tables(budgets, ["province", "study_area"], None, settings, [2004, 2005])
    for level, table in tables.items():
        effects = table[
            ["population_effect_tgco2", "affluence_effect_tgco2", "intensity_effect_tgco2"]
        ]
        np.testing.assert_allclose(effects.sum(axis=1), table["delta_ce_tgco2"], atol=1e-12)
        assert (table["note"] == "").all(), level
    study = tables["study_area"].iloc[0]
    assert study["delta_ce_tgco2"] == pytest.approx(80.0)
    assert study["population_start"] == 84_000_000
    assert study["affluence_start_cny"] == pytest.approx(8000e8 / 84e6)


def _china():
    return yaml.safe_load((REPO / "config/examples/china_real.yaml").read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["drivers"].update(level="town"), "'town' is not one of regions.levels"),
        (lambda d: d.update(years=[2016, 2004]), "the first before the last"),
        (lambda d: d.update(years=[1990, 2004]), "must be two of the run's years"),
        (
            lambda d: d["drivers"]["tables"][1].update(population_col="pop"),
            "2 tables give population_col; exactly one must",
        ),
        (
            lambda d: d["drivers"]["tables"][1].pop("gdp_currency"),
            "the table with gdp_col needs gdp_currency",
        ),
        (
            lambda d: d["drivers"]["tables"][0].update(industry_gdp_col="secondary"),
            "industry_gdp_col must be in the table with gdp_col",
        ),
    ],
)
def test_a_wrong_decomposition_section_is_a_config_error(edit, message):
    cfg = _china()
    edit(cfg["decomposition"])
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        validate_config(cfg)


def _fuel_spec(tmp_path, body=None, **edits):
    """CO2 by fuel in Mt CO2 of two provinces by English name, as CEADs writes it."""
    path = tmp_path / "co2_by_fuel.csv"
    path.write_text(
        body
        or "province,year,raw_coal,natural_gas,process\n"
        "Anhui,2004,94.6,5.61,2.0\nAnhui,2005,189.2,5.61,3.0\n"
        "InnerMongolia,2004,9.46,0.0,1.0\nInnerMongolia,2005,9.46,0.561,1.0\n"
    )
    spec = {
        "path": str(path),
        "region_col": "province",
        "year_col": "year",
        "by_name": True,
        "units": "Mt CO2",
        "fuels": {"raw_coal": "coal", "natural_gas": "natural_gas"},
        "process_col": "process",
        "factors": str(REPO / "config/ipcc_tier1_factors.csv"),
    }
    return spec | edits


def test_co2_by_fuel_gives_energy_through_the_emission_factors(tmp_path):
    """94.6 Mt CO2 of coal at 94,600 kg per TJ is 1e6 TJ; 5.61 Mt of gas at 56,100 is 1e5 TJ;
    process CO2 has no energy."""
    from carbonbudget.regions.drivers import read_co2_by_fuel

    t = read_co2_by_fuel(_fuel_spec(tmp_path), _spec(tmp_path)["names"], [2004, 2005])
    t = t.set_index(["code", "year", "fuel"])
    assert t.loc[("340000", 2004, "raw_coal"), "energy_tj"] == pytest.approx(1e6)
    assert t.loc[("340000", 2004, "natural_gas"), "energy_tj"] == pytest.approx(1e5)
    assert t.loc[("340000", 2005, "process"), "energy_tj"] == 0.0
    assert t.loc[("340000", 2005, "process"), "co2_tgco2"] == 3.0
    assert t.loc[("150000", 2004, "natural_gas"), "co2_tgco2"] == 0.0
    assert len(t) == 12


@pytest.mark.parametrize(
    ("edits", "body", "message", "fix"),
    [
        (
            {"fuels": {"raw_coal": "peat"}},
            None,
            "fuels ['peat'] are not in the factor table",
            "add the fuel's row",
        ),
        (
            {},
            "province,year,raw_coal,natural_gas,process\nAnhui,2004,-1,0,0\n",
            "negative CO2 in columns ['raw_coal']",
            "cannot be negative",
        ),
        (
            {},
            "province,year,raw_coal,natural_gas,process\nAnhui,2004,,0,0\n",
            "raw_coal",
            "write a number",
        ),
        (
            {},
            "province,year,raw_coal,natural_gas,process\nAnhwei,2004,1,0,0\n",
            "no code in the names table: ['Anhwei']",
            "decomposition.drivers.names",
        ),
        ({"process_col": "cement"}, None, "['cement'] not found", "process_col"),
    ],
)
def test_a_bad_co2_by_fuel_table_names_file_and_fix(tmp_path, edits, body, message, fix):
    from carbonbudget.regions.drivers import read_co2_by_fuel

    with pytest.raises(InputDataError) as err:
        read_co2_by_fuel(_fuel_spec(tmp_path, body, **edits), _spec(tmp_path)["names"], [2004])
    assert message in str(err.value) and fix in str(err.value)


def test_co2_by_fuel_of_a_level_and_of_its_study_area(tmp_path):
    """Each province and the study area (the sum of both) decomposed from their own sums: the
    effects add up to each one's change exactly; the emission factors never change, so their
    effect is zero; the study area's CO2 is the provinces' sum."""
    from carbonbudget.regions.changes import fuel_table
    from carbonbudget.regions.drivers import read_co2_by_fuel

    path = _province_budget(tmp_path)
    spec = _spec(tmp_path)
    by_fuel = read_co2_by_fuel(_fuel_spec(tmp_path), spec["names"], [2004, 2005])
    t = fuel_table(str(path), by_fuel, None, {"drivers": spec}, [2004, 2005]).set_index("code")
    effects = [c for c in t.columns if c.endswith("_effect_tgco2")]
    assert len(effects) == 6
    np.testing.assert_allclose(t[effects].sum(axis=1), t["delta_co2_tgco2"], atol=1e-12)
    assert (t["emission_factor_effect_tgco2"].abs() < 1e-12).all()
    assert t.loc["all", "co2_start_tgco2"] == pytest.approx(94.6 + 5.61 + 2.0 + 9.46 + 1.0)
    assert t.loc["all", "level"] == "study_area" and t.loc["340000", "name"] == "安徽省"
    assert t.loc["all", "name"].startswith("study area (the 2 of 2 regions")
    # Inner Mongolia adds gas (1e4 TJ) to its coal (1e5 TJ): the gas appears in the structure
    # effect with its whole CO2 (Ang & Liu), the coal's share falls from 1 to 1/1.1 at a
    # constant 9.46 Mt (L(a, a) = a): a lower-carbon mix, so the effect is negative
    assert t.loc["150000", "structure_effect_tgco2"] == pytest.approx(
        0.561 + 9.46 * math.log(1 / 1.1), abs=1e-12
    )


def test_co2_by_fuel_needs_the_drivers_level():
    cfg = _china()
    cfg["decomposition"].pop("drivers")
    cfg["decomposition"]["co2_by_fuel"] = {
        "path": "x.csv",
        "region_col": "p",
        "year_col": "y",
        "units": "Mt CO2",
        "fuels": {"raw_coal": "coal"},
    }
    with pytest.raises(ConfigError, match="add drivers"):
        validate_config(cfg)


def test_urbanisation_and_industry_from_the_driver_tables(tmp_path):
    """An urbanisation rate in percent becomes the urban population (rate × population), the
    GDP of industry takes the GDP table's unit; the level and the study area are decomposed
    over the extended identity, its five effects adding up to ΔCE, and the main driver names
    the new factors."""
    from carbonbudget.science.decomposition import dominant_effect

    spec = _spec(
        tmp_path,
        gdp="region,year,grp,industry,urban\nAnhui,2004,5000,2000,40\nAnhui,2005,5500,2100,44\n"
        "InnerMongolia,2004,3000,1500,50\nInnerMongolia,2005,3900,2300,52\n",
    )
    spec["tables"][1] |= {"industry_gdp_col": "industry", "urbanisation_col": "urban"}
    drivers = read_drivers(spec, [2004, 2005]).set_index(["code", "year"])
    assert drivers.loc[("340000", 2004), "urban_population_persons"] == pytest.approx(24e6)
    assert drivers.loc[("150000", 2005), "industry_gdp_cny"] == pytest.approx(2300e8)
    path = _province_budget(tmp_path)
    settings = {"drivers": spec, "years": [2004, 2005]}
    budgets = {"province": str(path), "study_area": str(tmp_path / "unused.parquet")}
    tables = decomposition_tables(budgets, ["province", "study_area"], None, settings, [2004, 2005])
    names = ["population", "urbanisation", "urban_affluence", "industry_share"]
    effects = [f"{n}_effect_tgco2" for n in [*names, "industry_intensity"]]
    for table in tables.values():
        np.testing.assert_allclose(table[effects].sum(axis=1), table["delta_ce_tgco2"], atol=1e-12)
        assert "affluence_effect_tgco2" not in table and "intensity_effect_tgco2" not in table
    study = tables["study_area"].iloc[0]
    assert study["urbanisation_start"] == pytest.approx((24e6 + 12e6) / 84e6)
    assert study["industry_share_end"] == pytest.approx(4400 / 9400)
    assert study["industry_intensity_start_kgco2_per_cny"] == pytest.approx(550e9 / 3500e8)
    # Inner Mongolia: CE per GDP of industry 250/1500 -> 300/2300, the largest effect
    mongolia = tables["province"].set_index("code").loc["150000"]
    weight = 50.0 / math.log(300.0 / 250.0)  # L(300, 250)
    expected = weight * math.log((300.0 / 2300.0) / (250.0 / 1500.0))  # -67.2
    assert mongolia["industry_intensity_effect_tgco2"] == pytest.approx(expected, rel=1e-12)
    share = weight * math.log((2300.0 / 3900.0) / (1500.0 / 3000.0))  # +45.3
    assert mongolia["industry_share_effect_tgco2"] == pytest.approx(share, rel=1e-12)
    assert dominant_effect(tables["province"])["150000"] == "industry intensity (lowers CE)"


def test_an_urbanisation_rate_beyond_100_percent_is_refused(tmp_path):
    spec = _spec(tmp_path, gdp="region,year,grp,urban\nAnhui,2004,5000,400\n")
    spec["tables"][1]["urbanisation_col"] = "urban"
    with pytest.raises(InputDataError, match="urbanisation outside 0-100 %") as err:
        read_drivers(spec, [2004])
    assert "urbanisation_unit" in str(err.value)
