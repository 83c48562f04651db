"""The additive LMDI-I decomposition (Ang 2005): hand-computed effects, a perfect decomposition
(the effects sum to the change), zeros as Ang & Liu (2007) advise, missing values unknown."""

import math

import numpy as np
import pytest

from carbonbudget.science.decomposition import kaya_factors, lmdi, log_mean


def test_the_logarithmic_mean():
    assert log_mean(2.0, 1.0) == pytest.approx(1.0 / math.log(2.0), rel=1e-15)
    assert log_mean(3.0, 3.0) == 3.0
    assert log_mean(1.0, 2.0) == log_mean(2.0, 1.0)
    assert log_mean(5.0, 0.0) == 0.0  # its limit
    # between the geometric and the arithmetic mean
    assert math.sqrt(8.0) < log_mean(8.0, 1.0) < 4.5


def test_two_regions_two_years_worked_by_hand():
    """Region A: population 10 -> 11, GDP 100 -> 132, CE 50 -> 55 (affluence 10 -> 12,
    intensity 0.5 -> 5/12). L(55, 50) = 5 / ln 1.1, so the population effect is 5 exactly and
    the affluence and intensity effects are ±5 ln 1.2 / ln 1.1 (ln(5/6) = −ln 1.2).
    Region B: population 4 -> 2, GDP 40 -> 40, CE 20 -> 10: L(10, 20) = 10 / ln 2, effects
    −10, +10, −10."""
    start = kaya_factors([50.0, 20.0], [10.0, 4.0], [100.0, 40.0])
    end = kaya_factors([55.0, 10.0], [11.0, 2.0], [132.0, 40.0])
    effects = lmdi(start, end)
    side = 5.0 * math.log(1.2) / math.log(1.1)  # 9.5646...
    np.testing.assert_allclose(effects["population"], [5.0, -10.0], rtol=1e-12)
    np.testing.assert_allclose(effects["affluence"], [side, 10.0], rtol=1e-12)
    np.testing.assert_allclose(effects["intensity"], [-side, -10.0], rtol=1e-12)
    # the parent (A + B) is decomposed from its own sums: exact for it, and not the sum of its
    # children's effects (LMDI is exact, not additive over regions)
    parent = lmdi(kaya_factors(70.0, 14.0, 140.0), kaya_factors(65.0, 13.0, 172.0))
    assert sum(v[0] for v in parent.values()) == pytest.approx(-5.0, abs=1e-12)
    children = side + 10.0  # the children's affluence effects: 19.56
    assert parent["affluence"][0] == pytest.approx(-5.0 / math.log(65 / 70) * math.log(1.72 / 1.3))
    assert abs(parent["affluence"][0] - children) > 0.5  # 18.89


def test_the_effects_sum_to_the_change_exactly():
    """Three fuels: V = Σ_f P · (E / P) · (E_f / E) · (C_f / E_f) over 500 random regions."""
    rng = np.random.default_rng(20220101)
    n, fuels = 500, 3

    def factors():
        share = rng.dirichlet(np.ones(fuels), size=n)
        return {
            "population": np.repeat(rng.uniform(1, 100, (n, 1)), fuels, axis=1),
            "energy_per_person": np.repeat(rng.uniform(0.5, 5, (n, 1)), fuels, axis=1),
            "structure": share,
            "emission_factor": rng.uniform(1.5, 3.5, (n, fuels)),
        }

    start, end = factors(), factors()
    effects = lmdi(start, end)

    def total(x):
        return np.prod(np.stack(list(x.values())), axis=0).sum(axis=1)

    change = total(end) - total(start)
    summed = np.sum(list(effects.values()), axis=0)
    np.testing.assert_allclose(summed, change, rtol=0, atol=1e-12 * np.abs(total(start)).max())


def test_a_fuel_that_appears_or_vanishes_is_its_structure_effect():
    """Ang & Liu (2007): gas appears (share 0 -> 0.5): its whole end emissions are the
    structure effect; coal vanishes: minus its start emissions. The small-value strategy (0
    replaced by 1e-20) converges to the same effects."""
    start = {
        "population": [[10.0, 10.0]],
        "structure": [[1.0, 0.0]],  # coal, gas
        "emission_factor": [[2.0, 1.0]],
    }
    end = {
        "population": [[10.0, 10.0]],
        "structure": [[0.0, 1.0]],
        "emission_factor": [[2.0, 1.0]],
    }
    effects = lmdi(start, end)
    assert effects["structure"][0] == pytest.approx(10.0 - 20.0, abs=1e-12)
    assert effects["population"][0] == 0.0 and effects["emission_factor"][0] == 0.0

    def small(x):
        return {k: np.where(np.asarray(v) == 0, 1e-20, v) for k, v in x.items()}

    smoothed = lmdi(small(start), small(end))
    for name in effects:
        assert smoothed[name][0] == pytest.approx(effects[name][0], abs=1e-9)


def test_a_missing_or_negative_value_leaves_that_region_unknown():
    start = kaya_factors([50.0, 20.0, 5.0], [10.0, np.nan, 1.0], [100.0, 40.0, 10.0])
    end = kaya_factors([55.0, 10.0, 6.0], [11.0, 2.0, 1.0], [132.0, 40.0, 12.0])
    effects = lmdi(start, end)
    for values in effects.values():
        assert np.isnan(values[1]) and np.isfinite(values[[0, 2]]).all()
    negative = lmdi({"a": [-1.0, 2.0]}, {"a": [1.0, 3.0]})["a"]
    assert np.isnan(negative[0]) and negative[1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="different factors"):
        lmdi({"a": [1.0]}, {"b": [1.0]})


def _budget():
    """Two regions, three years: A as in the hand-worked example (2001 -> 2003), B without its
    population in 2002; a sink (NEP, RH, RCS in Tg C) with CNC = (NEP + RCS) × 44/12 − CE."""
    import pandas as pd

    rows = []
    for code, years in (
        ("A", {2001: (50.0, 10.0, 100.0), 2002: (52.0, 10.5, 115.0), 2003: (55.0, 11.0, 132.0)}),
        ("B", {2001: (20.0, 4.0, 40.0), 2002: (15.0, np.nan, 40.0), 2003: (10.0, 2.0, 40.0)}),
    ):
        for year, (ce, pop, gdp) in years.items():
            nep, rh, rcs = 10.0 + year - 2001, 30.0 - (year - 2001), 0.5
            rows.append(
                {
                    "code": code,
                    "name": code.lower(),
                    "year": year,
                    "ce_tgco2": ce,
                    "population_persons": pop,
                    "gdp_cny": gdp,
                    "nep_tgc": nep,
                    "rh_tgc": rh,
                    "rcs_tgc": rcs,
                    "cnc_tgco2": (nep + rcs) * 44.0 / 12.0 - ce,
                }
            )
    return pd.DataFrame(rows)


def test_a_budget_table_decomposes_over_the_period_and_year_on_year():
    from carbonbudget.science.decomposition import decompose_regions

    table = decompose_regions(_budget(), "gdp_cny", "cny")
    period = table[table["kind"] == "period"].set_index("code")
    a = period.loc["A"]
    assert (a["start_year"], a["end_year"], a["name"]) == (2001, 2003, "a")
    assert a["population_effect_tgco2"] == pytest.approx(5.0, rel=1e-12)
    assert a["affluence_effect_tgco2"] == pytest.approx(5 * math.log(1.2) / math.log(1.1))
    assert a["intensity_start_kgco2_per_cny"] == pytest.approx(0.5e9)  # 50 Tg over 100 CNY
    assert a["affluence_end_cny"] == pytest.approx(12.0) and a["note"] == ""
    b = period.loc["B"]  # B's 2002 gap does not touch its period, only its two steps
    assert b["population_effect_tgco2"] == pytest.approx(-10.0)
    steps = table[table["kind"] == "step"].set_index(["code", "start_year"])
    assert len(steps) == 4
    assert np.isnan(steps.loc[("B", 2001), "population_effect_tgco2"])
    assert steps.loc[("B", 2001), "note"] == (
        "no decomposition: population 2002 unknown or not positive"
    )
    assert steps.loc[("B", 2002), "note"].startswith("no decomposition: population 2002")
    # every effect sums to its own ΔCE; the chain's changes to the period's
    known = table.dropna(subset=["population_effect_tgco2"])
    effects = known[[f"{k}_effect_tgco2" for k in ("population", "affluence", "intensity")]]
    np.testing.assert_allclose(effects.sum(axis=1), known["delta_ce_tgco2"], atol=1e-12)
    chained = steps["delta_ce_tgco2"].groupby(level="code").sum()
    np.testing.assert_allclose(chained, period["delta_ce_tgco2"], atol=1e-12)
    # the balance: ΔCNC = ΔNPP − ΔRH + ΔRCS − ΔCE, here ΔNEP = +2 Tg C, ΔRH = −2 Tg C
    assert a["delta_rh_tgco2"] == pytest.approx(-2 * 44 / 12)
    assert a["delta_npp_tgco2"] == pytest.approx(0.0, abs=1e-12)
    balance = (
        period["delta_npp_tgco2"]
        - period["delta_rh_tgco2"]
        + period["delta_rcs_tgco2"]
        - period["delta_ce_tgco2"]
    )
    np.testing.assert_allclose(balance, period["delta_cnc_tgco2"], atol=1e-12)


def test_the_waterfall_runs_from_the_start_to_the_end():
    """The bars of the study area's waterfall add up from CNC at the start to CNC at the end
    (a population that raises CE lowers CNC); without a sink, from CE to CE."""
    from carbonbudget.outputs.series import waterfall_steps
    from carbonbudget.science.decomposition import decompose_regions

    table = decompose_regions(_budget(), "gdp_cny", "cny")
    row = table[(table["kind"] == "period") & (table["code"] == "A")].iloc[0]
    first, steps, last, start, end = waterfall_steps(row)
    assert (first, last) == ("CNC", "CNC")
    assert [label for label, _ in steps][:3] == ["NPP", "RH", "RCS"]
    assert dict(steps)["CE: population"] == pytest.approx(-5.0)
    assert start + sum(v for _, v in steps) == pytest.approx(end, abs=1e-12)
    ce_only = row.drop([c for c in row.index if c.startswith(("cnc_", "delta_cnc"))])
    first, steps, _, start, end = waterfall_steps(ce_only)
    assert first == "CE" and (start, end) == (50.0, 55.0)
    assert start + sum(v for _, v in steps) == pytest.approx(end, abs=1e-12)


def _by_fuel(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["code", "year", "fuel", "energy_tj", "co2_tgco2"])


def test_the_energy_structure_and_emission_factor_effects_by_hand():
    """Region A switches half its coal (0.1 Tg CO2 per TJ) to gas (0.05): ΔC = −0.25, all of it
    the structure effect (coal −0.5, gas +0.25 as it appears); region B burns the same coal with
    a factor of 0.08: ΔC = −0.2, all of it the emission-factor effect."""
    import pandas as pd

    from carbonbudget.science.decomposition import FUEL_FACTORS, decompose_fuels

    by_fuel = _by_fuel(
        [
            ("A", 2001, "coal", 10.0, 1.0),
            ("A", 2002, "coal", 5.0, 0.5),
            ("A", 2002, "gas", 5.0, 0.25),
            ("B", 2001, "coal", 10.0, 1.0),
            ("B", 2002, "coal", 10.0, 0.8),
        ]
    )
    budget = pd.DataFrame(
        {
            "code": ["A", "A", "B", "B"],
            "year": [2001, 2002, 2001, 2002],
            "population_persons": 10.0,
            "gdp_cny": 100.0,
        }
    )
    t = decompose_fuels(budget, by_fuel, "gdp_cny", "cny").set_index("code")
    assert list(t["kind"]) == ["period", "period"]  # two years: the period is the only step
    expected = {
        "A": {"structure": -0.25, "emission_factor": 0.0},
        "B": {"structure": 0.0, "emission_factor": -0.2},  # L(0.8, 1) · ln 0.8
    }
    for code, parts in expected.items():
        for factor in FUEL_FACTORS:
            assert t.loc[code, f"{factor}_effect_tgco2"] == pytest.approx(
                parts.get(factor, 0.0), abs=1e-12
            ), (code, factor)
    assert t.loc["A", "delta_co2_tgco2"] == pytest.approx(-0.25)
    assert t.loc["A", "energy_intensity_start_mj_per_cny"] == pytest.approx(10.0 * 1e6 / 100.0)


def test_the_fuel_effects_sum_to_the_change_exactly():
    import pandas as pd

    from carbonbudget.science.decomposition import FUEL_FACTORS, decompose_fuels

    rng = np.random.default_rng(7)
    rows, social = [], []
    for code in map(str, range(40)):
        for year in (2001, 2002, 2003):
            for fuel in ("coal", "oil", "gas", "coke"):
                if rng.random() < 0.2:  # some fuels absent in some years
                    continue
                energy = rng.uniform(1, 100)
                rows.append((code, year, fuel, energy, energy * rng.uniform(0.05, 0.1)))
            social.append((code, year, rng.uniform(1e5, 1e7), rng.uniform(1e9, 1e11)))
    budget = pd.DataFrame(social, columns=["code", "year", "population_persons", "gdp_cny"])
    t = decompose_fuels(budget, _by_fuel(rows), "gdp_cny", "cny")
    known = t[t["note"] == ""]
    assert len(known) > 100
    summed = known[[f"{f}_effect_tgco2" for f in FUEL_FACTORS]].sum(axis=1)
    np.testing.assert_allclose(summed, known["delta_co2_tgco2"], atol=1e-12)


def test_the_main_driver_of_each_region():
    """The largest effect in size, with its sign; a region with an unknown effect has none; the
    year-on-year rows do not count."""
    import pandas as pd

    from carbonbudget.outputs.palette import DRIVER_COLOURS
    from carbonbudget.science.decomposition import dominant_effect

    table = pd.DataFrame(
        {
            "code": ["A", "B", "C", "A"],
            "kind": ["period", "period", "period", "step"],
            "population_effect_tgco2": [5.0, -10.0, np.nan, 100.0],
            "affluence_effect_tgco2": [9.6, 3.0, 1.0, 0.0],
            "intensity_effect_tgco2": [-9.5, 2.0, 1.0, 0.0],
        }
    )
    drivers = dominant_effect(table)
    assert drivers.to_dict() == {
        "A": "affluence (raises CE)",
        "B": "population (lowers CE)",
        "C": "no value",
    }
    assert set(drivers) <= set(DRIVER_COLOURS)


def test_without_population_and_gdp_the_balance_is_still_attributed():
    """A run with a sink but no socio-economic table (Huaihai): ΔCNC = ΔNPP − ΔRH + ΔRCS − ΔCE
    per region, no LMDI effects, and the waterfall has CE as one step."""
    from carbonbudget.outputs.series import waterfall_steps
    from carbonbudget.science.decomposition import decompose_regions

    budget = _budget().drop(columns=["population_persons", "gdp_cny"])
    table = decompose_regions(budget, None, "")
    assert not any(c.endswith("_effect_tgco2") for c in table.columns)
    assert (table["note"] == "").all()  # population and GDP are not needed
    row = table[(table["kind"] == "period") & (table["code"] == "A")].iloc[0]
    first, steps, _, start, end = waterfall_steps(row)
    assert [label for label, _ in steps] == ["NPP", "RH", "RCS", "CE"]
    assert dict(steps)["CE"] == pytest.approx(-5.0)
    assert start + sum(v for _, v in steps) == pytest.approx(end, abs=1e-12)


def test_the_waterfall_title_says_what_a_climatology_holds(tmp_path, monkeypatch):
    """Huaihai's climate and runoff are climatologies: its waterfall says RH changes only with
    the area it is known on and RCS not at all; the LMDI line only where the table has it."""
    from carbonbudget.outputs import report
    from carbonbudget.science.decomposition import decompose_regions

    seen = {}
    monkeypatch.setattr(report, "plot_waterfall", lambda row, path, title: seen.update(t=title))
    budget = _budget()
    for gdp, climatologies, lines in (
        (
            "gdp_cny",
            [],
            [
                "Study area: why the carbon neutral capacity changed, 2001 to 2003",
                "(emissions: additive LMDI of population, GDP per person and CE per GDP)",
            ],
        ),
        (
            None,
            ["precipitation", "runoff", "temperature"],
            [
                "Study area: why the carbon neutral capacity changed, 2001 to 2003",
                "(the climate is a climatology: RH changes only with the area it is known on)",
                "(the runoff is a climatology: so is RCS)",
            ],
        ),
    ):
        table = decompose_regions(budget[budget["code"] == "A"], gdp, "cny")
        table.to_csv(tmp_path / "d.csv", index=False)
        report.write_waterfall(str(tmp_path / "d.csv"), climatologies, str(tmp_path / "w.png"))
        assert seen["t"].split("\n") == lines


def test_process_co2_is_a_component_of_its_own():
    """Region A: fuels unchanged, process CO2 0.5 -> 1.0: ΔC = 0.5, all of it the process
    intensity. Region B: population and GDP double, and with them every fuel's CO2 and the
    process CO2 (C 1.5 -> 3): L(3, 1.5) · ln 2 = 1.5, all of it the population effect."""
    import pandas as pd

    from carbonbudget.science.decomposition import FUEL_FACTORS, PROCESS, decompose_fuels

    by_fuel = _by_fuel(
        [
            ("A", 2001, "coal", 10.0, 1.0),
            ("A", 2001, PROCESS, 0.0, 0.5),
            ("A", 2002, "coal", 10.0, 1.0),
            ("A", 2002, PROCESS, 0.0, 1.0),
            ("B", 2001, "coal", 10.0, 1.0),
            ("B", 2001, PROCESS, 0.0, 0.5),
            ("B", 2002, "coal", 20.0, 2.0),
            ("B", 2002, PROCESS, 0.0, 1.0),
        ]
    )
    budget = pd.DataFrame(
        {
            "code": ["A", "A", "B", "B"],
            "year": [2001, 2002, 2001, 2002],
            "population_persons": [10.0, 10.0, 10.0, 20.0],
            "gdp_cny": [100.0, 100.0, 100.0, 200.0],
        }
    )
    t = decompose_fuels(budget, by_fuel, "gdp_cny", "cny").set_index("code")
    factors = [*FUEL_FACTORS, "process_intensity"]
    expected = {"A": {"process_intensity": 0.5}, "B": {"population": 1.5}}
    for code, parts in expected.items():
        for factor in factors:
            assert t.loc[code, f"{factor}_effect_tgco2"] == pytest.approx(
                parts.get(factor, 0.0), abs=1e-12
            ), (code, factor)
    assert list(t["delta_co2_tgco2"]) == [0.5, 1.5]
    assert list(t["process_start_tgco2"]) == [0.5, 0.5]
    assert list(t["energy_start_tj"]) == [10.0, 10.0]  # process CO2 has no energy


def test_process_co2_that_appears_keeps_the_decomposition_exact():
    import pandas as pd

    from carbonbudget.science.decomposition import FUEL_FACTORS, PROCESS, decompose_fuels

    rng = np.random.default_rng(11)
    rows, social = [], []
    for code in map(str, range(30)):
        for year in (2001, 2002, 2003):
            for fuel in ("coal", "oil", PROCESS):
                if rng.random() < 0.25:
                    continue
                co2 = rng.uniform(0.1, 5)
                rows.append((code, year, fuel, 0.0 if fuel == PROCESS else co2 * 12, co2))
            social.append((code, year, rng.uniform(1e5, 1e7), rng.uniform(1e9, 1e11)))
    budget = pd.DataFrame(social, columns=["code", "year", "population_persons", "gdp_cny"])
    t = decompose_fuels(budget, _by_fuel(rows), "gdp_cny", "cny")
    known = t[t["note"] == ""]
    assert len(known) > 50
    effects = [f"{f}_effect_tgco2" for f in (*FUEL_FACTORS, "process_intensity")]
    np.testing.assert_allclose(known[effects].sum(axis=1), known["delta_co2_tgco2"], atol=1e-12)


def _rh_parts():
    """RH (30, 29, 28 Tg C in _budget) as a temperature term rising by 1 a year and a
    precipitation term falling by 2: ΔRH = −2 = +2 (temperature) − 4 (precipitation)."""
    import pandas as pd

    rows = []
    for code in ("A", "B"):
        for k, year in enumerate((2001, 2002, 2003)):
            t, p = 10.0 + k, 20.0 - 2 * k
            rows.append((code, year, t, p, t + p))
    return pd.DataFrame(
        rows, columns=["code", "year", "rh_temperature_tgc", "rh_precipitation_tgc", "rh_tgc"]
    )


def test_the_change_of_rh_splits_into_temperature_and_precipitation():
    from carbonbudget.outputs.series import waterfall_steps
    from carbonbudget.science.decomposition import decompose_regions

    table = decompose_regions(_budget(), "gdp_cny", "cny", rh_parts=_rh_parts())
    a = table[(table["kind"] == "period") & (table["code"] == "A")].iloc[0]
    assert a["delta_rh_temperature_tgco2"] == pytest.approx(2 * 44 / 12, rel=1e-12)
    assert a["delta_rh_precipitation_tgco2"] == pytest.approx(-4 * 44 / 12, rel=1e-12)
    parts = table["delta_rh_temperature_tgco2"] + table["delta_rh_precipitation_tgco2"]
    np.testing.assert_allclose(parts, table["delta_rh_tgco2"], atol=1e-12)
    # the pipeline splits the period's two years only: a step between other years is unknown
    ends = _rh_parts()[lambda d: d["year"] != 2002]
    chained = decompose_regions(_budget(), "gdp_cny", "cny", rh_parts=ends)
    steps = chained[chained["kind"] == "step"]
    assert steps["delta_rh_temperature_tgco2"].isna().all()
    period = chained[chained["kind"] == "period"]
    np.testing.assert_allclose(
        period["delta_rh_temperature_tgco2"], table.loc[period.index, "delta_rh_temperature_tgco2"]
    )
    # the waterfall draws the two parts in place of RH, and still ends where CNC ends
    _, steps, _, start, end = waterfall_steps(a)
    labels = [label for label, _ in steps]
    assert labels[:4] == ["NPP", "RH: temperature", "RH: precipitation", "RCS"]
    assert dict(steps)["RH: temperature"] == pytest.approx(-2 * 44 / 12)  # warmer: less CNC
    assert start + sum(v for _, v in steps) == pytest.approx(end, abs=1e-12)


def test_the_rh_terms_sum_up_the_levels_like_the_budget():
    """Three counties in two cities of one province: a parent's terms are its members' sums;
    a parent whose every member is unknown stays unknown, never 0."""
    import pandas as pd

    from carbonbudget.regions.budget import RegionTree
    from carbonbudget.regions.changes import rh_parts_by_level

    tree = RegionTree(
        pd.DataFrame(
            {
                "county_code": ["1", "2", "3"],
                "city_code": ["10", "10", "20"],
                "province_code": ["100", "100", "100"],
            }
        ),
        ["county", "city", "province"],
    )
    parts = pd.DataFrame(
        {
            "code": ["1", "2", "3"],
            "year": 2001,
            "rh_temperature_tgc": [1.0, 2.0, np.nan],
            "rh_precipitation_tgc": [0.5, 0.25, np.nan],
        }
    )
    out = rh_parts_by_level(parts, tree, ["county", "city", "province", "study_area"])
    city = out["city"].set_index("code")
    assert city.loc["10", "rh_temperature_tgc"] == 3.0
    assert np.isnan(city.loc["20", "rh_temperature_tgc"])
    assert out["province"]["rh_precipitation_tgc"].tolist() == [0.75]
    assert out["study_area"]["code"].tolist() == ["all"]


def test_urbanisation_and_industry_extend_the_identity_by_hand():
    """Region A: population 10, urban population 5 -> 6, GDP 100 -> 120, GDP of industry
    40 -> 48, CE 50 -> 60: only the urban share changes (0.5 -> 0.6; GDP per urban resident,
    industry share and CE per GDP of industry stay), so ΔCE = 10 is all the urbanisation
    effect: L(60, 50) · ln 1.2 = 10. Region B: industry's share of GDP 0.4 -> 0.5 at a
    constant 1.25 Tg CO2 per unit of its GDP, CE 50 -> 62.5: ΔCE = L(62.5, 50) · ln 1.25 =
    12.5, all of it the industry-share effect."""
    from carbonbudget.science.decomposition import kaya_factors, lmdi

    start = kaya_factors([50.0, 50.0], [10.0, 10.0], [100.0, 100.0], [5.0, 5.0], [40.0, 40.0])
    end = kaya_factors([60.0, 62.5], [10.0, 10.0], [120.0, 100.0], [6.0, 5.0], [48.0, 50.0])
    assert list(start) == [
        "population",
        "urbanisation",
        "urban_affluence",
        "industry_share",
        "industry_intensity",
    ]
    for factors, ce in ((start, [50.0, 50.0]), (end, [60.0, 62.5])):
        product = np.prod(np.stack(list(factors.values())), axis=0)
        np.testing.assert_allclose(product, ce, rtol=1e-15)  # each product is CE
    effects = lmdi(start, end)
    assert effects["urbanisation"][0] == pytest.approx(10.0, rel=1e-12)
    assert effects["industry_share"][1] == pytest.approx(12.5, rel=1e-12)
    for name, value in effects.items():
        if name != "urbanisation":
            assert value[0] == pytest.approx(0.0, abs=1e-12), name
        if name != "industry_share":
            assert value[1] == pytest.approx(0.0, abs=1e-12), name
    # an urban population of zero has no GDP per urban resident: unknown, not 0
    odd = kaya_factors([1.0], [10.0], [100.0], urban=[0.0])
    assert np.isnan(odd["urban_affluence"][0])


def test_the_report_lists_each_region_with_its_parts_and_main_driver(tmp_path):
    """The report's table of a level: one row per region with ΔCE, its effects, ΔCNC and its
    parts (ΔRH split where it is) and the main driver, the largest rise of CE first."""
    from carbonbudget.outputs.report import decomposition_region_table
    from carbonbudget.science.decomposition import decompose_regions

    table = decompose_regions(_budget(), "gdp_cny", "cny", rh_parts=_rh_parts())
    path = tmp_path / "decomposition_province.csv"
    table.to_csv(path, index=False)
    caption, shown = decomposition_region_table(str(path), "province")
    assert caption == "Why the balance of each region (province) changed, 2001 to 2003"
    assert list(shown["Code"]) == ["A", "B"]  # ΔCE +5 before −10
    assert list(shown.columns) == [
        "Code",
        "Name (province)",
        "ΔCE (Tg CO2 yr⁻¹)",
        "CE: population",
        "CE: affluence (GDP per person)",
        "CE: emission intensity (CE per GDP)",
        "ΔCNC (Tg CO2 yr⁻¹)",
        "ΔNPP",
        "ΔRH: temperature",
        "ΔRH: precipitation",
        "ΔRCS",
        "Main driver of ΔCE",
    ]
    assert shown.loc[0, "ΔRH: temperature"] == pytest.approx(2 * 44 / 12)
    assert shown.loc[1, "Main driver of ΔCE"] == "population (lowers CE)"


def test_the_fuel_waterfall_runs_from_co2_to_co2():
    """A decomposition of CO2 by fuel draws CO2 at the start, its effects (process CO2 with
    its own bar) and CO2 at the end, the bars adding up."""
    import pandas as pd

    from carbonbudget.outputs.series import waterfall_steps
    from carbonbudget.science.decomposition import PROCESS, decompose_fuels

    by_fuel = _by_fuel(
        [
            ("A", 2001, "coal", 10.0, 1.0),
            ("A", 2001, PROCESS, 0.0, 0.5),
            ("A", 2002, "coal", 20.0, 2.0),
            ("A", 2002, "gas", 10.0, 0.5),
            ("A", 2002, PROCESS, 0.0, 0.6),
        ]
    )
    budget = pd.DataFrame(
        {"code": "A", "year": [2001, 2002], "population_persons": 10.0, "gdp_cny": [100.0, 150.0]}
    )
    row = decompose_fuels(budget, by_fuel, "gdp_cny", "cny").iloc[0]
    first, steps, last, start, end = waterfall_steps(row)
    assert (first, last, start, end) == ("CO2", "CO2", 1.5, 3.1)
    assert [label for label, _ in steps] == [
        "population",
        "affluence (GDP per person)",
        "energy intensity (energy per GDP)",
        "fuel mix (shares of the energy)",
        "emission factors (CO2 per energy)",
        "process CO2 per GDP",
    ]
    assert start + sum(v for _, v in steps) == pytest.approx(end, abs=1e-12)
