"""Emission model and scenarios (docs/method.md, "Emissions accounting" and "Scenarios"): a known
relation is recovered, runs are repeatable,
constant drivers give flat emissions, peaks are found, too few years are refused."""

import numpy as np
import pandas as pd
import pytest

from carbonbudget.science.forecast import (
    DRIVERS,
    InsufficientDataError,
    fit_emission_model,
    peak_year,
    project_drivers,
)


def _history(n=30, seed=3):
    """Smooth drivers and CE = a smooth (linear) function of them plus 0.5 % noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    d = {
        "population": 1000 * 1.006**t,
        "urbanisation_rate": 30 + 0.9 * t,
        "gdp": 10 * 1.08**t,
        "secondary_share": 45 - 0.2 * t + np.sin(t / 3),
        "energy_intensity": 1.5 * 0.97**t,
        "energy_use": 100 * 1.05**t,
        "energy_structure": 70 - 0.5 * t + np.cos(t / 4),
    }
    ce = 2.4 * d["energy_use"] * d["energy_structure"] / 70 + 0.5 * d["secondary_share"]
    ce = ce * (1 + 0.005 * rng.standard_normal(n))
    return pd.DataFrame({"year": 1990 + t, "ce_tgco2": ce, **d})


def test_network_recovers_a_known_relation_and_is_repeatable():
    h = _history()
    m1 = fit_emission_model(h, holdout=4)
    assert m1.metrics["holdout_years"] == [2016, 2017, 2018, 2019]
    assert m1.metrics["r2_holdout"] > 0.95, m1.metrics
    assert m1.metrics["mean_abs_rel_error"] < 0.05
    m2 = fit_emission_model(h, holdout=4)
    fut = project_drivers(h.iloc[-1][list(DRIVERS)], _growth(0.02), start_year=2019)
    np.testing.assert_array_equal(m1.predict(fut)["ce_tgco2"], m2.predict(fut)["ce_tgco2"])


def _growth(rate):
    return pd.DataFrame(
        {"driver": list(DRIVERS), "start_year": 2000, "end_year": 2060, "rate": rate}
    )


def test_constant_drivers_give_flat_emissions():
    h = _history()
    model = fit_emission_model(h, holdout=3)
    fut = project_drivers(h.iloc[-1][list(DRIVERS)], _growth(0.0), start_year=2019)
    ce = model.predict(fut)["ce_tgco2"].to_numpy()
    assert len(ce) == 2060 - 2019
    assert np.ptp(ce) == 0.0
    assert peak_year(fut["year"], ce) == 2020  # flat: the first year of the maximum


def test_project_drivers_by_period_and_missing_rates():
    last = pd.Series({"gdp": 100.0})
    g = pd.DataFrame(
        {
            "driver": ["gdp", "gdp"],
            "start_year": [2021, 2026],
            "end_year": [2025, 2030],
            "rate": [0.10, -0.5],
        }
    )
    out = project_drivers(last, g, start_year=2020, end_year=2027)
    np.testing.assert_allclose(out["gdp"], [110, 121, 133.1, 146.41, 161.051, 80.5255, 40.26275])
    with pytest.raises(Exception, match="no growth rate for driver 'gdp' in years 2031-2060"):
        project_drivers(last, g, start_year=2020)


def test_peak_year_on_hand_series():
    assert peak_year([2020, 2021, 2022, 2023], [1, 3, 2, 1]) == 2021
    assert peak_year([2020, 2021, 2022], [1, 2, 3]) is None  # still rising at 2060
    assert peak_year([2020, 2021, 2022], [3, 2, 1]) == 2020
    assert peak_year([2020, 2021, 2022], [1, 3, 3]) == 2021  # plateau: first year
    assert peak_year([], []) is None


def test_fewer_usable_years_than_inputs_is_refused():
    h = _history(n=12)
    h.loc[2:4, "gdp"] = np.nan  # 9 usable, 6 after holding out 3
    with pytest.raises(InsufficientDataError, match="9 usable years .* for 7 inputs") as exc:
        fit_emission_model(h, holdout=3, label="province 450000")
    assert "province 450000" in str(exc.value) and "Fix:" in str(exc.value)


def test_scenarios_match_emission_codes_like_the_budget(tmp_path):
    """A code that reaches its region only through the emissions crosswalk (renamed county, no
    parents derivable from codes) counts in the scenario stage's CE history, as in the budget;
    without the crosswalk the same table is refused (emissions.unmatched: error)."""
    import geopandas as gpd
    import shapely
    from helpers import job

    from carbonbudget.core.errors import InputDataError as _InputDataError
    from carbonbudget.core.io import write_gpkg_layer
    from carbonbudget.pipeline.stages.scenarios import scenario_projection

    regions = gpd.GeoDataFrame(
        {"county_code": ["A1", "A2"], "province_code": ["P", "P"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:3857",
    )
    write_gpkg_layer(regions, tmp_path / "regions.gpkg", "regions")
    hist = _history(n=20)
    years = hist["year"].tolist()
    # A1 carries 40 % of the CE, the renamed county "OLD" (now A2) the other 60 %
    em = pd.concat(
        [
            pd.DataFrame({"county_code": "A1", "year": years, "co2_mt": 0.4 * hist["ce_tgco2"]}),
            pd.DataFrame({"county_code": "OLD", "year": years, "co2_mt": 0.6 * hist["ce_tgco2"]}),
        ]
    )
    em.to_csv(tmp_path / "em.csv", index=False)
    pd.DataFrame({"old_code": ["OLD"], "new_code": ["A2"]}).to_csv(tmp_path / "cw.csv", index=False)
    hist.drop(columns="ce_tgco2").assign(region="all").to_csv(tmp_path / "drivers.csv", index=False)
    pd.DataFrame(
        [
            {"scenario": "S", "driver": d, "start_year": 2000, "end_year": 2030, "rate": 0.01}
            for d in DRIVERS
        ]
    ).to_csv(tmp_path / "growth.csv", index=False)
    pd.DataFrame({"code": "all", "year": years, "ecs_tgco2": 5.0}).to_parquet(
        tmp_path / "budget.parquet"
    )
    from carbonbudget.core.config import fill_section

    em_cfg = fill_section(
        "emissions",
        {
            "path": str(tmp_path / "em.csv"),
            "region_col": "county_code",
            "year_col": "year",
            "value_col": "co2_mt",
            "units": "Mt CO2",
        },
    )
    sc_cfg = {
        "level": "study_area",
        "drivers": str(tmp_path / "drivers.csv"),
        "growth": str(tmp_path / "growth.csv"),
        "names": ["S"],
        "horizon": 2030,
        "holdout": 3,
        "n_seeds": 2,
    }
    regions_cfg = fill_section(
        "regions",
        {
            "path": str(tmp_path / "regions.gpkg"),
            "levels": {"county": "county_code", "province": "province_code"},
        },
    )
    outputs = {k: str(tmp_path / f"{k}.csv") for k in ("table", "model", "summary")}

    def write_scenarios(emissions_cfg, path_crosswalk=()):
        return scenario_projection(
            job(
                "scenario_projection",
                output=outputs,
                input={
                    "regions": str(tmp_path / "regions.gpkg"),
                    "crosswalk": list(path_crosswalk)
                    if isinstance(path_crosswalk, tuple)
                    else path_crosswalk,
                    "budget": str(tmp_path / "budget.parquet"),
                },
                params={
                    "scenarios": sc_cfg,
                    "emissions": emissions_cfg,
                    "regions": regions_cfg,
                    "zonal": {},
                },
            )
        )

    with pytest.raises(_InputDataError, match="OLD"):
        write_scenarios(em_cfg)
    table = write_scenarios(em_cfg | {"crosswalk": {"table": str(tmp_path / "cw.csv")}})
    observed = table[table["scenario"] == "observed"].set_index("year")["ce_tgco2"]
    np.testing.assert_allclose(
        observed.loc[years].to_numpy(), hist["ce_tgco2"].to_numpy(), rtol=1e-12
    )
    # the built crosswalk (emissions.crosswalk.old_codes) arrives as path_crosswalk
    built = write_scenarios(
        em_cfg | {"crosswalk": {"old_codes": "list.tsv"}}, path_crosswalk=str(tmp_path / "cw.csv")
    )
    pd.testing.assert_frame_equal(built, table)
