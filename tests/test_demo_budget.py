"""The demo's numbers: budget tables of every level that sum as the hierarchy says, emissions on
the grid that sum to the budget, intensities by hand, trends, Tier 1 accounting and scenarios."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from helpers import (
    REPO,
    assert_csv_difference,
    assert_within_csv_rounding,
)

from carbonbudget.core.grid import Grid
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.inputs.demo_files import DEMO_YEARS
from carbonbudget.regions.hierarchy import dissolve_level
from carbonbudget.regions.zonal import coverage_matrix, zonal_totals
from carbonbudget.science.spatial import gini_rsv

pytestmark = pytest.mark.workflow


LEVELS = ["county", "city", "province", "study_area"]


SUMS = ["area_km2", "rh_tgc", "nep_tgc", "rcs_tgc", "ecs_tgc", "ecs_tgco2", "ce_tgco2", "cnc_tgco2"]


def test_emissions_on_the_grid_sum_to_the_budget(demo_run):
    """CE spread by population and CNC = ECS - CE per pixel: summed over each county with the
    exact coverage and pixel areas the budget uses, they give the budget's CE and CNC (to the
    float32 rounding of the rasters; the spreading itself meets each total to 1e-9, as the
    downscale table says); CE is zero where nobody lives, no value outside the counties."""
    import yaml

    from carbonbudget.regions.zonal import load_coverage

    res = demo_run / "results"
    grid = Grid.from_config(yaml.safe_load((REPO / "config/config.yaml").read_text()))
    codes, cov = load_coverage(str(res / ".work/interim/regions/coverage_county.npz"), grid)
    area = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    budget = pd.read_parquet(res / "tables/budget_county.parquet")
    report = pd.read_csv(res / "tables/downscale_county.csv", dtype={"code": str})
    assert len(report) == 36 * len(DEMO_YEARS) and (report["method"] == "weights").all()
    assert report["relative_difference"].max() <= 1e-9
    with rasterio.open(demo_run / "data/demo/population/population_density.tif") as r:
        people = r.read(1).ravel()
    inside = np.asarray(cov.sum(axis=0)).ravel() > 0
    for year in (DEMO_YEARS[0], DEMO_YEARS[-1]):
        table = budget[budget["year"] == year].set_index("code").reindex(codes)
        for var in ("ce", "cnc"):
            with rasterio.open(res / f"pixels/{var}/{var}_{year}.tif") as r:
                assert r.tags(1)["units"] == "t CO2 km-2 yr-1"
                x = r.read(1).astype("float64").ravel()
            summed = cov @ (area * np.nan_to_num(x)) / 1e6  # t -> Tg
            np.testing.assert_allclose(summed, table[f"{var}_tgco2"], rtol=2e-7)
            if var == "ce":
                assert np.isnan(x[~inside]).all() and (x[inside] >= 0).all()
                assert (x[inside & (people == 0)] == 0).all()
        with rasterio.open(res / f"pixels/status/status_{year}.tif") as r:
            status, nodata, colours = r.read(1).ravel(), r.nodata, r.colormap(1)
            assert r.tags()["classes"].startswith("1 deficit (CNC < 0); 2 balanced")
        expected = np.select([x < 0, x == 0, x > 0], [1, 2, 3], 0)  # x: this year's CNC
        assert (status == expected).all() and nodata == 0 and {1, 3} <= set(status)
        # the regions' status colours (palette.STATUS_COLOURS): deficit #b2182b, surplus #2166ac
        assert colours[1][:3] == (178, 24, 43) and colours[3][:3] == (33, 102, 172)
    with rasterio.open(res / "trends/cnc_slope.tif") as r:
        assert r.tags(1)["units"] == "t CO2 km-2 yr-2"


def test_per_capita_and_intensity_by_hand_and_parents_as_ratios_of_sums(demo_run):
    res = demo_run / "results"
    socio = pd.read_csv(
        demo_run / "data/demo/socioeconomic/county_socioeconomic.csv", dtype={"county_code": str}
    ).rename(columns={"county_code": "code"})
    county = pd.read_parquet(res / "tables/budget_county.parquet").merge(socio, on=["code", "year"])
    np.testing.assert_allclose(
        county["ce_per_capita_tco2"],
        county["ce_tgco2"] * 1e6 / (county["population_thousand"] * 1e3),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        county["ce_intensity_kgco2_per_cny"],
        county["ce_tgco2"] * 1e9 / (county["gdp_billion_cny"] * 1e9),
        rtol=1e-12,
    )
    province = pd.read_parquet(res / "tables/budget_province.parquet").set_index(["code", "year"])
    sums = county.groupby(["province_code", "year"])[
        ["ce_tgco2", "ecs_tgco2", "population_thousand"]
    ].sum()
    by_hand = sums["ecs_tgco2"] * 1e6 / (sums["population_thousand"] * 1e3)
    np.testing.assert_allclose(
        province["ecs_per_capita_tco2"], by_hand.reindex(province.index), rtol=1e-12
    )
    mean_of_ratios = county.groupby(["province_code", "year"])["ce_per_capita_tco2"].mean()
    assert not np.allclose(province["ce_per_capita_tco2"], mean_of_ratios.reindex(province.index))
    layer = gpd.read_file(res / "gis/carbon_budget.gpkg", layer="province")
    assert {"ce_per_capita_tco2_mean", "ce_intensity_kgco2_per_cny_mean"} <= set(layer.columns)


def test_budget_tables_one_row_per_region_year(demo_run):
    regions = gpd.read_file(
        demo_run / "results/.work/interim/regions/regions.gpkg", layer="regions"
    )
    n = {"county": 36, "city": 8, "province": 3, "study_area": 1}
    for level in LEVELS:
        csv = pd.read_csv(demo_run / f"results/tables/budget_{level}.csv", dtype={"code": str})
        pq = pd.read_parquet(demo_run / f"results/tables/budget_{level}.parquet")
        assert len(csv) == len(pq) == n[level] * len(DEMO_YEARS)
        assert not csv.duplicated(["code", "year"]).any()
        keys = csv[["code", "year"]]  # rows in a stable order: by code, then year
        assert keys.equals(keys.sort_values(["code", "year"], ignore_index=True))
        assert set(csv["year"]) == set(DEMO_YEARS)
        assert csv["ce_tgco2"].notna().all() and csv["ecs_tgco2"].notna().all()
        np.testing.assert_allclose(csv["ecs_tgco2"], csv["ecs_tgc"] * CO2_PER_C, rtol=1e-9)
        assert set(csv["status"]) <= {"surplus", "deficit", "neutral"}
    assert set(regions["county_code"]) == set(
        pd.read_csv(demo_run / "results/tables/budget_county.csv", dtype={"code": str})["code"]
    )


@pytest.mark.parametrize(
    "child,parent",
    [("county", "province"), ("county", "city"), ("city", "province"), ("province", "study_area")],
)
def test_parent_equals_sum_of_children(demo_run, child, parent):
    c = pd.read_csv(demo_run / f"results/tables/budget_{child}.csv", dtype=str)
    p = pd.read_csv(demo_run / f"results/tables/budget_{parent}.csv", dtype={"code": str})
    key = f"{parent}_code" if parent != "study_area" else None
    for col in SUMS:
        c[col] = c[col].astype(float)
    c["year"] = c["year"].astype(int)
    sums = (c.groupby([key, "year"]) if key else c.groupby("year"))[SUMS].sum()
    p = p.set_index(["code", "year"] if key else "year")[SUMS]
    pd.testing.assert_frame_equal(
        sums.sort_index(), p.sort_index(), check_names=False, check_index_type=False, rtol=1e-10
    )


def test_rollup_agrees_with_parent_polygons(demo_run):
    """Province totals from children agree with aggregating the province polygons (< 0.5 %)."""
    import yaml

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    grid = Grid.from_config(cfg)
    regions = gpd.read_file(
        demo_run / "results/.work/interim/regions/regions.gpkg", layer="regions"
    )
    prov = dissolve_level(regions, ["county", "city", "province"], "province")
    codes, m = coverage_matrix(prov, "province_code", grid)
    direct = zonal_totals(
        m, codes, grid, {"ecs": str(demo_run / "results/pixels/ecs/ecs_2006.tif")}
    )
    rolled = pd.read_csv(demo_run / "results/tables/budget_province.csv", dtype={"code": str})
    rolled = rolled[rolled["year"] == 2006].set_index("code")
    for _, row in direct.iterrows():
        assert row["ecs_tgc"] == pytest.approx(rolled.loc[row["code"], "ecs_tgc"], rel=5e-3)
        assert row["area_km2"] == pytest.approx(rolled.loc[row["code"], "area_km2"], rel=5e-3)


def test_spatial_statistics_tables_and_maps(demo_run):
    res = demo_run / "results"
    moran = pd.read_csv(res / "tables/moran_county.csv", dtype={"period": str})
    assert list(moran["period"]) == ["mean"] + [str(y) for y in DEMO_YEARS]
    assert moran["moran_i"].notna().all() and (moran["n_regions"] == 36).all()
    assert (moran["p_sim"] > 0).all() and (moran["p_sim"] <= 1).all()
    local = pd.read_csv(res / "tables/spatial_county.csv", dtype={"code": str})
    assert len(local) == 36 and local["lisa_i"].notna().all()
    assert set(local["lisa_cluster"]) <= {"HH", "LL", "HL", "LH", "not significant"}
    # the demo has a significant positive autocorrelation of mean CNC
    assert moran.iloc[0]["moran_i"] > 0 and moran.iloc[0]["p_sim"] < 0.05
    gini = pd.read_csv(res / "tables/gini_province.csv", dtype={"code": str, "period": str})
    assert len(gini) == 3 * (1 + len(DEMO_YEARS))
    assert (gini["member_level"] == "city").all()
    assert gini.groupby("period")["n_members"].sum().eq(8).all()  # every city counted once
    assert gini[["gini_ctr_bs", "gini_rsv"]].stack().between(0, 1).all()
    shares = gini["p_deficit"] + gini["p_surplus"] + gini["p_neutral"]
    assert shares.sub(1).abs().max() < 1e-12
    # the same Gini from the city table by hand for one province and the period mean
    city = pd.read_parquet(res / "tables/budget_city.parquet")
    row = gini[(gini["period"] == "mean")].iloc[0]
    members = city[city["province_code"] == row["code"]].groupby("code")["cnc_tgco2"].mean()
    assert row["gini_rsv"] == pytest.approx(gini_rsv(members.to_numpy()), rel=1e-9)
    for kind in ("lisa", "hotspots"):
        for level in ("county", "city"):
            png = res / f"figures/{kind}_cnc_tgco2_{level}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_region_trends_figures_and_provenance(demo_run):
    import json

    t = pd.read_csv(demo_run / "results/tables/trends_province.csv", dtype={"code": str})
    assert len(t) == 3 and t["cnc_tgco2_slope_per_yr"].notna().all()
    for col in ("cnc_tgco2_sen_per_yr", "cnc_tgco2_mk_z", "ce_tgco2_mk_p"):
        assert t[col].notna().all(), col
    # Hurst of 10 years: in [0, 1], or NaN with the note saying why
    for var in ("cnc_tgco2", "ecs_tgco2", "ce_tgco2"):
        h, note = t[f"{var}_hurst"], t[f"{var}_hurst_note"].fillna("")
        assert h.dropna().between(0, 1).all()
        assert (h.isna() == note.str.contains("outside")).all(), var
    assert set(t["cnc_tgco2_trend_class"]) <= {
        "increase",
        "no change",
        "slight decrease",
        "significant decrease",
        "sharp decrease",
    }
    sq = pd.read_csv(demo_run / "results/tables/sqmk_county.csv", dtype={"code": str})
    # CNC, ECS, CE and the three intensity indicators, every county and year
    series = {"cnc_tgco2", "ecs_tgco2", "ce_tgco2", "ce_per_capita_tco2", "ecs_per_capita_tco2"}
    assert set(sq["variable"]) == series | {"ce_intensity_kgco2_per_cny"}
    assert len(sq) == 36 * 6 * len(DEMO_YEARS)
    figs = sorted((demo_run / "results/figures/trends_province").glob("cnc_tgco2_*.png"))
    assert [f.name for f in figs] == [f"cnc_tgco2_{c}.png" for c in sorted(t["code"])]
    changes = sorted((demo_run / "results/figures/trends_province").glob("change_*.png"))
    assert [f.name for f in changes] == [f"change_{c}.png" for c in sorted(t["code"])]
    prov = json.loads((demo_run / "results/provenance.json").read_text())
    assert prov["config_digest"] and prov["run_time_utc"]
    # when the run finished: stamped by publish, after every job (the provenance job runs early)
    assert prov["run_finished_utc"] >= prov["run_time_utc"][:19]
    work_prov = json.loads((demo_run / "results/.work/provenance.json").read_text())
    assert "run_finished_utc" not in work_prov
    assert any(k.endswith("county_co2.csv") for k in prov["inputs"])


def test_tier1_accounting_against_the_emission_table(demo_run):
    """The demo's province fuel use (kt, 14 fuels) through the IPCC defaults is compared with the
    county emission table rolled up to provinces: one row per province-year, a summary row per
    year, and a few per cent apart (the demo's own factors differ from the IPCC defaults as
    national factors do)."""
    res = demo_run / "results"
    comp = pd.read_csv(res / "tables/tier1_comparison_province.csv", dtype={"code": str})
    prov = pd.read_parquet(res / "tables/budget_province.parquet")
    body = comp[comp["code"] != "all"].set_index(["code", "year"])
    assert len(body) == 3 * len(DEMO_YEARS)
    ref = prov.set_index(["code", "year"])["ce_tgco2"]
    np.testing.assert_allclose(body["inventory_tgco2"], ref.reindex(body.index), rtol=1e-12)
    assert_csv_difference(body["abs_error_tgco2"], body["tier1_tgco2"], body["inventory_tgco2"])
    summary = comp[comp["code"] == "all"]
    assert list(summary["year"]) == DEMO_YEARS
    assert summary["mean_abs_rel_error"].between(0.005, 0.15).all(), summary
    fuels = pd.read_csv(res / "tables/tier1_province_by_fuel.csv", dtype={"code": str})
    assert fuels["fuel"].nunique() == 14
    by = fuels.groupby(["code", "year"])["co2_tgco2"]
    tot = by.sum().reindex(body.index)
    magnitude = by.apply(lambda x: x.abs().sum()).reindex(body.index) + body["tier1_tgco2"].abs()
    assert_within_csv_rounding(tot, body["tier1_tgco2"], magnitude)


def test_scenarios_to_2060(demo_run):
    """Both scenarios end to end: the emission model's skill on held-out years, CE per year to
    2060, ECS from the scenario sink rasters (the same alignment, fluxes and zonal totals as the
    observed years) and interpolated between them, CNC = ECS - CE, the summary and the figure."""
    import rasterio

    res = demo_run / "results"
    model = pd.read_csv(res / "tables/emission_model_study_area.csv")
    assert model.loc[0, "n_years"] == 20 and model.loc[0, "holdout_years"] == "2008;2009;2010"
    assert model.loc[0, "r2_holdout"] > 0.5 and model.loc[0, "mean_abs_rel_error"] < 0.1
    t = pd.read_csv(res / "tables/scenarios_study_area.csv")
    obs = t[t["scenario"] == "observed"].set_index("year")
    em = (
        pd.read_csv(demo_run / "data/demo/emissions/county_co2.csv").groupby("year")["co2_mt"].sum()
    )
    np.testing.assert_allclose(obs["ce_tgco2"], em.reindex(obs.index), rtol=1e-12)
    sa = pd.read_parquet(res / "tables/budget_study_area.parquet").set_index("year")
    np.testing.assert_allclose(obs.loc[DEMO_YEARS, "ecs_tgco2"], sa.loc[DEMO_YEARS, "ecs_tgco2"])
    for name in ("A2", "B1"):
        s = t[t["scenario"] == name].set_index("year")
        assert list(s.index) == list(range(2011, 2061))
        assert (s["ce_tgco2_min"] <= s["ce_tgco2"]).all() and (
            s["ce_tgco2"] <= s["ce_tgco2_max"]
        ).all()
        assert_csv_difference(s["cnc_tgco2"], s["ecs_tgco2"], s["ce_tgco2"])
        assert set(s.loc[[2030, 2060], "ecs_source"]) == {"scenario_raster"}
        assert set(s.drop([2030, 2060])["ecs_source"]) == {"interpolated"}
        # ECS of a raster year = the zonal total of that scenario's ECS raster, in CO2
        z = pd.read_parquet(res / f".work/scenarios/{name}/interim/zonal/county_2060.parquet")
        assert s.loc[2060, "ecs_tgco2"] == pytest.approx(z["ecs_tgc"].sum() * 44 / 12, rel=1e-12)
        # interpolation is linear between the last observed year and 2030
        e10, e30 = sa.loc[2010, "ecs_tgco2"], s.loc[2030, "ecs_tgco2"]
        assert s.loc[2020, "ecs_tgco2"] == pytest.approx(e10 + (e30 - e10) * 10 / 20, rel=1e-12)
        with rasterio.open(res / f"scenarios/{name}/pixels/ecs/ecs_2060.tif") as ds:
            assert ds.tags(1).get("units") or ds.tags().get("units")
    a2, b1 = (t[(t["scenario"] == n) & (t["year"] == 2060)].iloc[0] for n in ("A2", "B1"))
    assert a2["ce_tgco2"] > b1["ce_tgco2"]  # faster growth, more emissions
    assert a2["ecs_tgco2"] < b1["ecs_tgco2"]  # warmer and drier: a weaker sink
    summ = pd.read_csv(res / "tables/scenario_summary_study_area.csv")
    assert set(summ["scenario"]) == {"A2", "B1"} and summ["cnc_change_pct"].notna().all()
    figs = list((res / "figures/scenarios_study_area").glob("*.png"))
    assert [f.name for f in figs] == ["scenarios_all.png"]


def test_demo_coverage_is_reported_and_fluxes_share_their_pixels(demo_run):
    """Issue 16.3 on the demo: the two counties the grid edge cuts carry the lost share and a
    valid_fraction that counts it as unknown; every flux of a region is summed over the same
    pixels, so NPP (summed here from the aligned NPP) = NEP + RH in the tables."""
    from carbonbudget.regions.zonal import load_coverage

    county = pd.read_parquet(demo_run / "results/tables/budget_county.parquet")
    cut = county[county["year"] == 2005].set_index("code")
    assert cut.loc["930302", "outside_grid_share"] == pytest.approx(0.0966, abs=1e-3)
    assert cut.loc["930304", "outside_grid_share"] == pytest.approx(0.0545, abs=1e-3)
    assert cut.loc["930302", "valid_fraction"] <= 1 - 0.0966 + 1e-9
    assert (cut.drop(["930302", "930304"])["outside_grid_share"] == 0).all()
    for v in ("rh", "nep", "rcs"):
        np.testing.assert_array_equal(county[f"{v}_valid_fraction"], county["ecs_valid_fraction"])
    grid = Grid.from_config(__import__("yaml").safe_load((REPO / "config/config.yaml").read_text()))
    work = demo_run / "results/.work"
    codes, m = load_coverage(work / "interim/regions/coverage_county.npz", grid)
    npp = zonal_totals(
        m,
        codes,
        grid,
        {
            "npp": str(work / "interim/aligned/2005/npp_gc.tif"),
            "ecs": str(demo_run / "results/pixels/ecs/ecs_2005.tif"),
        },
    )
    npp = npp.set_index("code")["npp_tgc"]
    # NEP and RH are float32 rasters: their sum matches NPP to float32 rounding
    np.testing.assert_allclose(cut["nep_tgc"] + cut["rh_tgc"], npp.reindex(cut.index), rtol=1e-5)


def test_every_table_calls_its_region_key_code(demo_run):
    """One name for the region key across the published tables (`code`); the emission-code
    match report keeps `region_code` for the polygon an emission code reached."""
    for path in sorted((demo_run / "results/tables").glob("*.csv")):
        header = path.read_text().splitlines()[0]
        columns = [c.strip('"') for c in header.split(",")]
        assert "region" not in columns, path.name
        if path.name.startswith(("budget_", "trends_", "tier1_", "scenario", "emission_model")):
            assert "code" in columns, path.name


def test_trend_class_limits_follow_each_level(demo_run):
    """Each level's trend table records the limits it was classed with: the configured ones
    scaled by the level's mean region area (docs/method.md)."""
    import yaml

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    base = cfg.get("trends", {}).get("class_thresholds_tgco2", [-10.0, -20.0])
    for level in ("county", "province"):
        trends = pd.read_csv(demo_run / f"results/tables/trends_{level}.csv", dtype={"code": str})
        budget = pd.read_parquet(demo_run / f"results/tables/budget_{level}.parquet")
        factor = budget.groupby("code")["area_km2"].first().mean() / 310_000.0
        expected = f"{base[0] * factor:.4g};{base[1] * factor:.4g}"
        assert set(trends["trend_class_limits_tgco2"]) == {expected}, level


def test_intensity_indicators_have_trends_without_a_tgco2_class(demo_run):
    """The trend tables carry the OLS slope of CE per capita and of carbon intensity of every
    region (the slope of the budget table's series), with no Zhang et al. class (its limits are
    Tg CO2 yr-2); the GeoPackage carries the slopes."""
    tables = demo_run / "results" / "tables"
    budget = pd.read_csv(tables / "budget_province.csv", dtype={"code": str})
    trends = pd.read_csv(tables / "trends_province.csv", dtype={"code": str}).set_index("code")
    for col in ("ce_per_capita_tco2", "ecs_per_capita_tco2", "ce_intensity_kgco2_per_cny"):
        for code, g in budget.groupby("code"):
            slope = np.polyfit(g["year"], g[col], 1)[0]
            assert trends.loc[code, f"{col}_slope_per_yr"] == pytest.approx(slope, rel=1e-9)
        assert trends[f"{col}_trend_class"].isna().all()  # empty in the CSV
    layer = gpd.read_file(demo_run / "results" / "gis" / "carbon_budget.gpkg", layer="province")
    assert layer["ce_per_capita_tco2_slope_per_yr"].notna().all()


def test_the_demo_decomposes_every_level_from_its_own_sums(demo_run):
    """Every summed level has its decomposition: the effects sum to each region's ΔCE, the
    chain's changes to the period's, and ΔCNC = ΔNPP − ΔRH + ΔRCS − ΔCE; a province is
    decomposed from its own sums (its ΔCE is its counties' total, its effects are not); the
    inputs are the budget's own CE, population and GDP."""
    tables = {
        level: pd.read_csv(
            demo_run / f"results/tables/decomposition_{level}.csv", dtype={"code": str}
        )
        for level in LEVELS
    }
    effects = ["population_effect_tgco2", "affluence_effect_tgco2", "intensity_effect_tgco2"]
    for level, t in tables.items():
        assert t["note"].isna().all(), level  # the demo has every value
        np.testing.assert_allclose(t[effects].sum(axis=1), t["delta_ce_tgco2"], atol=1e-9)
        parts = ["delta_npp_tgco2", "delta_rh_tgco2", "delta_rcs_tgco2", "delta_ce_tgco2"]
        balance = t[parts] @ np.array([1.0, -1.0, 1.0, -1.0])
        known = t["delta_cnc_tgco2"].notna()
        # ECS is summed from its own float32 raster, NEP and RCS from theirs: the identity
        # holds to that rounding (about 6e-8 of the terms), not to 1e-12
        scale = t[parts].abs().sum(axis=1) + t["cnc_start_tgco2"].abs()
        error = (balance - t["delta_cnc_tgco2"]).abs() / scale
        assert (error[known] < 1e-6).all(), (level, error.max())
        steps = t[t["kind"] == "step"].groupby("code")["delta_ce_tgco2"].sum()
        period = t[t["kind"] == "period"].set_index("code")
        np.testing.assert_allclose(steps, period["delta_ce_tgco2"].reindex(steps.index))
        assert len(steps) == t["code"].nunique() and (period["end_year"] == max(DEMO_YEARS)).all()
    budget = pd.read_csv(demo_run / "results/tables/budget_province.csv", dtype={"code": str})
    first = budget[budget["year"] == min(DEMO_YEARS)].set_index("code")
    province = tables["province"][tables["province"]["kind"] == "period"].set_index("code")
    np.testing.assert_allclose(
        province["ce_start_tgco2"], first["ce_tgco2"].reindex(province.index)
    )
    np.testing.assert_allclose(
        province["population_start"], first["population_persons"].reindex(province.index)
    )
    counties = pd.read_csv(
        demo_run / "results/tables/budget_county.csv", dtype={"code": str, "province_code": str}
    )
    county = tables["county"][tables["county"]["kind"] == "period"].merge(
        counties[["code", "province_code"]].drop_duplicates(), on="code"
    )
    summed = county.groupby("province_code")[["delta_ce_tgco2", *effects]].sum()
    summed = summed.reindex(province.index)
    np.testing.assert_allclose(summed["delta_ce_tgco2"], province["delta_ce_tgco2"], atol=1e-9)
    assert not np.allclose(summed["affluence_effect_tgco2"], province["affluence_effect_tgco2"])
    # the period's parts in the GeoPackage, as in the table
    layer = gpd.read_file(demo_run / "results/gis/carbon_budget.gpkg", layer="province")
    layer = layer.set_index("code")
    for column in ("delta_ce_tgco2", *effects, "delta_cnc_tgco2", "delta_npp_tgco2"):
        np.testing.assert_allclose(layer[column], province[column].reindex(layer.index))
    assert set(layer["main_driver"]) == {"affluence (raises CE)"}
    figures = ["report/decomposition_study_area.png", "report/decomposition_by_fuel_study_area.png"]
    figures += [f"report/pixel_delta_rh_{p}.png" for p in ("temperature", "precipitation")]
    figures += [f"trends_province/change_{code}.png" for code in province.index]
    figures += [f"maps/ce_drivers_{level}.png" for level in ("county", "city", "province", "zone")]
    for figure in figures:
        assert (demo_run / "results/figures" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the report's table of the coarsest level: every province, its main driver
    page = (demo_run / "results/figures/report/decomposition_province.html").read_text()
    assert "Why the balance of each region (province) changed" in page
    assert page.count("affluence (raises CE)") == 3


def test_the_demo_splits_the_change_of_rh_into_temperature_and_precipitation(demo_run):
    """Yearly climate: at every level the temperature and precipitation parts add up to ΔRH
    (each term summed over the pixels where the year's fluxes are known, as RH is; float32
    rounding of the rasters); per pixel, the two change rasters add up to the change of RH
    between the period's first and last year; warmer years raise the temperature term."""
    import rasterio

    for level in LEVELS:
        t = pd.read_csv(demo_run / f"results/tables/decomposition_{level}.csv")
        steps = t["kind"] == "step"  # split at the period's ends only
        assert t.loc[steps, "delta_rh_temperature_tgco2"].isna().all()
        t = t[~steps]
        parts = t["delta_rh_temperature_tgco2"] + t["delta_rh_precipitation_tgco2"]
        scale = t[["delta_rh_temperature_tgco2", "delta_rh_precipitation_tgco2"]].abs().sum(axis=1)
        assert ((parts - t["delta_rh_tgco2"]).abs() <= 1e-6 * scale + 1e-9).all(), level
    first, last = min(DEMO_YEARS), max(DEMO_YEARS)
    pixels = demo_run / "results/pixels"

    def read(path):
        with rasterio.open(path) as src:
            return src.read(1, masked=True).filled(np.nan)

    change = sum(
        read(pixels / f"decomposition/delta_rh_{part}_{first}_{last}.tif")
        for part in ("temperature", "precipitation")
    )
    rh = read(pixels / f"rh/rh_{last}.tif") - read(pixels / f"rh/rh_{first}.tif")
    known = np.isfinite(rh)
    assert known.sum() > 1000 and np.array_equal(known, np.isfinite(change))
    np.testing.assert_allclose(change[known], rh[known], atol=1e-3)  # g C m-2 yr-1, float32


def test_the_demo_decomposes_its_tier1_co2_by_fuel(demo_run):
    """With fuel use (emissions_accounting): the five effects sum to the change of the Tier 1
    CO2 of each province; the IPCC default factors do not change, so neither does CO2 per
    energy of a fuel (its effect is zero to the rounding of the recomputed factors)."""
    t = pd.read_csv(
        demo_run / "results/tables/decomposition_by_fuel_province.csv", dtype={"code": str}
    )
    effects = [c for c in t.columns if c.endswith("_effect_tgco2")]
    assert len(effects) == 5 and t["note"].isna().all()
    np.testing.assert_allclose(t[effects].sum(axis=1), t["delta_co2_tgco2"], atol=1e-9)
    assert (t["emission_factor_effect_tgco2"].abs() < 1e-9).all()
    tier1 = pd.read_csv(demo_run / "results/tables/tier1_province_by_fuel.csv", dtype={"code": str})
    first = tier1[tier1["year"] == min(DEMO_YEARS)].groupby("code")["co2_tgco2"].sum()
    period = t[t["kind"] == "period"].set_index("code")
    study = period.loc["all"]
    period = period.drop(index="all")
    np.testing.assert_allclose(period["co2_start_tgco2"], first.reindex(period.index))
    assert (period["energy_intensity_effect_tgco2"] < 0).all()  # the demo's energy per GDP falls
    # the study area from its own sums: the provinces' CO2 added, not their effects
    assert study["co2_start_tgco2"] == pytest.approx(first.sum(), rel=1e-12)
    assert study["level"] == "study_area"
