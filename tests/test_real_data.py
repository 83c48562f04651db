"""Checks on the real public data in ../shared/real-data (skipped when the folder is absent)."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonbudget.regions.emissions import load_emissions
from carbonbudget.regions.hierarchy import derive_adcode_parent

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-data"
CEADS = REAL / "ceads_county_co2" / "county_co2_1997_2017.csv"
pytestmark = pytest.mark.skipif(
    not CEADS.exists(), reason=f"real data not found at {REAL} (shipped beside the repo)"
)

# Zhang et al. (2022) Table 1, "CEADs" columns (Mt CO2) for 1997, 2010, 2017, by province code.
TABLE1_CEADS = {
    "110000": (42.5, 90.9, 60.1),
    "120000": (52.9, 123.9, 150.0),
    "130000": (225.6, 594.8, 682.4),
    "140000": (156.1, 374.1, 397.6),
    "150000": (117.0, 465.7, 573.5),
    "210000": (174.6, 405.7, 433.5),
    "220000": (93.2, 213.8, 227.7),
    "230000": (86.3, 217.5, 225.4),
    "310000": (109.1, 230.7, 192.5),
    "320000": (186.4, 583.8, 669.7),
    "330000": (117.3, 373.5, 369.6),
    "340000": (105.7, 282.8, 322.9),
    "350000": (68.2, 188.4, 230.0),
    "360000": (57.8, 150.0, 212.5),
    "370000": (320.4, 727.6, 766.6),
    "410000": (175.9, 475.9, 551.3),
    "420000": (130.4, 305.4, 329.0),
    "430000": (82.9, 231.8, 311.5),
    "440000": (171.3, 469.0, 514.6),
    "450000": (59.5, 162.5, 231.8),
    "460000": (13.0, 19.5, 39.6),
    "500000": (63.2, 141.0, 153.8),
    "510000": (106.9, 291.7, 331.1),
    "520000": (87.3, 207.5, 253.6),
    "530000": (60.6, 167.9, 211.9),
    "610000": (69.6, 216.3, 275.4),
    "620000": (54.0, 138.2, 171.4),
    "630000": (17.8, 28.3, 58.1),
    "640000": (32.0, 81.6, 168.6),
    "650000": (53.0, 190.5, 340.7),
}
YEARS = [1997, 2010, 2017]
# Where the county table and the paper disagree (see docs/examples.md):
# Jiangsu: the table lists three development zones a second time under their district's code
# (320211, 320506, 321112 with suffix "(2)"); the paper's sum leaves them out — with
# duplicates: first it matches exactly, with duplicates: sum it is larger by those zones.
# Hainan: larger in the table by 2.4 / 4.6 / 9.9 Mt; no subset of its counties explains it
# (checked up to five counties), so the paper probably used another CEADs release for Hainan.
DIFFERING = {"460000"}


def _province_totals(duplicates: str):
    em = load_emissions(
        str(CEADS),
        region_col="distcode",
        units="Mt CO2",
        years=YEARS,
        year_columns="C{year}",
        duplicates=duplicates,
    )
    em["province"] = derive_adcode_parent(em["code"], 2).values
    return em.groupby(["province", "year"])["ce_tgco2"].sum()


def test_ceads_province_totals_reproduce_zhang_et_al_2022_table1():
    totals = _province_totals("first")
    assert sorted(totals.index.get_level_values(0).unique()) == sorted(TABLE1_CEADS)
    for prov, ref in TABLE1_CEADS.items():
        ours = np.array([totals[(prov, y)] for y in YEARS])
        close = np.abs(ours - np.array(ref)) <= 0.051  # the paper rounds to 0.1 Mt
        assert close.all() == (prov not in DIFFERING), (prov, ours.round(2), ref)
    hainan = np.array([totals[("460000", y)] for y in YEARS]) - np.array(TABLE1_CEADS["460000"])
    np.testing.assert_allclose(hainan, [2.4, 4.6, 9.9], atol=0.06)


def test_summing_duplicate_codes_adds_exactly_the_three_jiangsu_zones():
    first, summed = _province_totals("first"), _province_totals("sum")
    diff = (summed - first).round(6)
    assert set(diff[diff != 0].index.get_level_values(0)) == {"320000"}
    np.testing.assert_allclose(
        [diff[("320000", y)] for y in YEARS], [3.94, 16.39, 15.73], atol=0.01
    )
    with pytest.raises(Exception, match="3 region codes have several rows"):
        load_emissions(
            str(CEADS),
            region_col="distcode",
            units="Mt CO2",
            years=YEARS,
            year_columns="C{year}",
        )


GRID05 = REAL / "grid05_runoff_temp_lithology"
PROVINCES = REAL / "cn_admin_boundaries_cnmaps" / "provinces_wgs84_simplified.geojson"
JIANGSU_ZONES = (3.94, 16.39, 15.73)  # the three "(2)" development zones, Mt CO2


def _example_args(work, example: str) -> list[str]:
    """The config files of a shipped example run: the example, then the years merged over it."""
    return ["--configfile", str(work / f"config/examples/{example}.yaml"), str(work / "years.yaml")]


def _run_example(tmp_path_factory, example: str, years) -> tuple:
    """config/examples/<example>.yaml run end to end by Snakemake for ``years``, in a working
    copy beside a link to ../shared, as the repository sits. Returns (results, stdout+stderr)."""
    import os

    from helpers import copy_workflow, run_snakemake

    base = tmp_path_factory.mktemp(example)
    work = copy_workflow(base / "repo")
    os.symlink(REAL.parent, base / "shared")
    (work / "years.yaml").write_text(f"years: {list(years)}\n")  # merged over the example
    proc = run_snakemake(work, *_example_args(work, example), timeout=1200)
    if proc.returncode != 0:
        pytest.fail(f"{example} example failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return work / f"results/{example}", proc.stdout + proc.stderr


# the example's decomposition period (population 2000-2016 and GDP 2004-2023 both cover it)
DECOMPOSITION_YEARS = [2004, 2016]


@pytest.fixture(scope="module")
def china_run(tmp_path_factory):
    """The shipped example config/examples/china_real.yaml for the three years of Table 1 of
    Zhang et al. 2022 and the two of its decomposition (the example itself runs 1997-2017)."""
    return _run_example(tmp_path_factory, "china_real", sorted(YEARS + DECOMPOSITION_YEARS))


def _table(run, level):
    import pandas as pd

    return pd.read_parquet(run / f"tables/budget_{level}.parquet")


def _ran(log: str, rule: str) -> bool:
    """Whether a run's terminal output shows jobs of ``rule`` (its line in Snakemake's job
    table, or a line the job logged)."""
    return bool(re.search(rf"^{rule}\s+\d+\s*$", log, re.M)) or f"INFO [{rule}" in log


def test_example_run_says_what_it_skips_and_why(china_run):
    import json

    run, log = china_run
    assert "skipping per-pixel RH, NEP, ECS" in log and "NEP = NPP - RH" in log
    prov = json.loads((run / "provenance.json").read_text())
    assert any("CNC" in stage for stage in prov["skipped_stages"])
    budget = _table(run, "province")
    assert "cnc_tgco2" not in budget and "ecs_tgc" not in budget
    for name in ("rcs_province", "ce_province", "ce_trend_county"):
        assert (run / f"figures/maps/{name}.png").stat().st_size > 10_000
    assert not (run / "pixels/ecs").exists()
    # the runoff is a climatology: RCS is computed once, not once per year
    # (each raster with its QGIS style beside it)
    assert sorted(p.name for p in (run / "pixels/rcs").iterdir()) == [
        "rcs_climatology.qml",
        "rcs_climatology.tif",
    ]
    for rule in (
        "check_climatology",
        "align_climatology",
        "fluxes_climatology",
        "zonal_climatology",
    ):
        assert _ran(log, rule), rule
    assert not _ran(log, "process_year")
    assert "yearly rasters and trends of RCS: computed once from climatologies" in log
    import geopandas as gpd

    layer = gpd.read_file(run / "gis/carbon_budget.gpkg", layer="province")
    assert {"ce_tgco2_1997", "ce_tgco2_2010", "ce_tgco2_2017"} <= set(layer.columns)
    assert not any(c.startswith("cnc_tgco2") for c in layer.columns)  # per-year series is CE


def test_example_report_says_only_rcs_was_computed(china_run, tmp_path):
    """The report's text follows the run: without NPP and climate it says RCS alone was
    computed, and its quick looks show RCS (no ECS)."""
    from helpers import run_snakemake

    run, _ = china_run
    work = run.parents[1]
    out = tmp_path / "report.html"
    proc = run_snakemake(work, *_example_args(work, "china_real"), "--report", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "the rock-weathering carbon sink (RCS, GEM-CO2) only" in text
    assert "heterotrophic respiration (RH), net ecosystem" not in text
    assert "pixel_rcs.png" in text and "pixel_ecs.png" not in text


def test_example_province_emissions_reproduce_zhang_et_al_2022_table1(china_run):
    """Province CE of the run (emission codes rolled up by their own codes, crosswalk or not)
    = Zhang et al. 2022, Table 1, except Jiangsu (the example sums the three development zones the
    paper
    left out) and Hainan (another CEADs release, see above)."""
    run, _ = china_run
    prov = _table(run, "province").set_index(["code", "year"])["ce_tgco2"]
    for code, ref in TABLE1_CEADS.items():
        ours = np.array([prov[(code, y)] for y in YEARS])
        if code == "320000":
            ours = ours - np.array(JIANGSU_ZONES)
        if code in DIFFERING:
            continue
        np.testing.assert_allclose(ours, ref, atol=0.051, err_msg=code)
    # nothing lost: counties (with the rows of codes without polygon) sum to the table's total
    county = _table(run, "county")
    county = county[county["year"].isin(YEARS)].groupby("year")["ce_tgco2"].sum()
    table = load_emissions(
        str(CEADS),
        region_col="distcode",
        units="Mt CO2",
        years=YEARS,
        year_columns="C{year}",
        duplicates="sum",
    )
    np.testing.assert_allclose(
        county.values, table.groupby("year")["ce_tgco2"].sum().values, rtol=1e-12
    )
    in_years = prov[prov.index.get_level_values("year").isin(YEARS)]
    np.testing.assert_allclose(in_years.groupby(level=1).sum().values, county.values, rtol=1e-12)


def test_example_code_match_report(china_run):
    """2010 county codes against the current polygons: most match directly, the crosswalk from
    the official Dec 2010 list adds renamed/moved counties, the rest are rolled up by their own
    code (listed with their share)."""
    import pandas as pd

    run, _ = china_run
    rep = pd.read_csv(
        run / "tables/emission_code_match.csv", dtype={"code": str, "region_code": str}
    )
    share = rep.groupby("match")["share"].sum()
    assert share.sum() == pytest.approx(1.0)
    assert 0.85 < share["direct"] < 0.92 and 0.05 < share["crosswalk"] < 0.12
    assert share["unmatched"] < 0.05
    walked = rep[rep["match"] == "crosswalk"].set_index("code")["region_code"]
    assert walked["341421"] == "340124"  # 庐江县: Chaohu (abolished 2011) -> Hefei
    assert walked["110228"] == "110118"  # 密云县 -> 密云区
    cw = pd.read_csv(run / "tables/code_crosswalk.csv", dtype=str, keep_default_na=False)
    assert set(cw["method"]) == {"same_code", "same_name_city", "same_name_province", "unmatched"}
    county = _table(run, "county")
    no_polygon = set(county.loc[~county["in_region_layer"], "code"])
    assert no_polygon == set(rep.loc[rep["match"] == "unmatched", "code"])


@pytest.mark.skipif(not GRID05.exists() or not PROVINCES.exists(), reason="real grids not found")
def test_national_rock_weathering_sink_in_published_range(china_run):
    run, _ = china_run
    total = _table(run, "study_area").groupby("year")["rcs_tgc"].first()
    # Zhang et al. 2022: 10 Tg C/yr; Qiu et al. 2004: 14; Gong et al. 2020: 17.6
    assert ((10.0 <= total) & (total <= 18.0)).all(), total
    # province layer on the equal-area grid: 9.5 million km2 within 1 %
    prov = _table(run, "province")
    assert prov.groupby("year")["area_km2"].sum().iloc[0] == pytest.approx(9.5e6, rel=0.01)


@pytest.mark.skipif(not GRID05.exists() or not PROVINCES.exists(), reason="real grids not found")
def test_guangxi_and_the_south_west_carry_the_highest_fluxes(china_run):
    run, _ = china_run
    prov = _table(run, "province")
    prov = prov[prov["year"] == YEARS[-1]].set_index("code")
    flux = (prov["rcs_tgc"] * 1e6 / prov["area_km2"]).sort_values(ascending=False)  # g C m-2
    top = flux.index[:6].tolist()
    south_west_karst = {"450000", "520000", "530000", "500000", "510000", "430000"}
    assert "450000" in top[:3], top  # Guangxi
    assert "520000" in top[:3], top  # Guizhou
    assert set(top) <= south_west_karst, top
    # Guangxi is about a tenth of the national sink (Zhang et al. 2022: 10 %)
    share = prov.loc["450000", "rcs_tgc"] / prov["rcs_tgc"].sum()
    assert 0.07 < share < 0.15, share


# --- the whole method on real NPP (the Huaihai example) -----------------------------
NPP_DIR = REAL / "modis_npp_huaihai"
HUAIHAI_YEARS = [2001, 2009, 2017]
HUAIHAI_CITIES = [
    "320300",
    "320700",
    "321300",
    "340600",
    "341300",
    "370400",
    "370800",
    "371300",
    "371700",
    "411400",
]


@pytest.fixture(scope="module")
def huaihai_run(tmp_path_factory):
    """config/examples/huaihai_real.yaml run end to end by Snakemake for three of its years."""
    if not NPP_DIR.exists():
        pytest.skip(f"MODIS NPP extract not found at {NPP_DIR}")
    return _run_example(tmp_path_factory, "huaihai_real", HUAIHAI_YEARS)


def test_huaihai_selection_rule_holds_on_the_data():
    """The ten cities the example selects are exactly where the MODIS extract has NPP: each of
    their counties has NPP on at least 46 % of its area, every other county on at most 7 %."""
    import geopandas as gpd
    import rasterio
    import rasterio.features

    with rasterio.open(NPP_DIR / "NPP_2001.tif") as src:
        npp, transform, bounds = src.read(1), src.transform, src.bounds
    counties = gpd.read_file(
        REAL / "cn_admin_boundaries_cnmaps/counties_wgs84_simplified.geojson", bbox=tuple(bounds)
    )
    labels = rasterio.features.rasterize(
        [(g, i + 1) for i, g in enumerate(counties.geometry)],
        out_shape=npp.shape,
        transform=transform,
    )
    share = {}
    for i, code in enumerate(counties["adcode"]):
        inside = labels == i + 1
        if inside.any():
            share[code] = float(np.isfinite(npp[inside]).mean())
    selected = {c: s for c, s in share.items() if c[:4] + "00" in HUAIHAI_CITIES}
    others = {c: s for c, s in share.items() if c not in selected}
    assert len(selected) == 77 and min(selected.values()) >= 0.46
    assert max(others.values()) <= 0.07


def test_huaihai_full_budget_from_real_npp(huaihai_run):
    import json

    import geopandas as gpd

    run, log = huaihai_run
    sa = _table(run, "study_area").set_index("year")
    assert list(sa.index) == HUAIHAI_YEARS
    # NPP from the rasters: mean 350-450 g C m-2 yr-1 (PROVENANCE.md) over the known area
    npp = (sa["nep_tgc"] + sa["rh_tgc"]) * 1e6 / (sa["area_km2"] * sa["valid_fraction"])
    assert npp.between(330, 470).all(), npp
    assert (sa["ecs_tgc"] > 0).all() and (sa["cnc_tgco2"] < 0).all()
    np.testing.assert_allclose(sa["ecs_tgc"], sa["nep_tgc"] + sa["rcs_tgc"], rtol=1e-6)
    np.testing.assert_allclose(sa["ecs_tgco2"] - sa["ce_tgco2"], sa["cnc_tgco2"], rtol=1e-12)
    # climate and runoff are climatologies: RH and RCS are computed once, and RH per unit of
    # known area does not change from year to year
    assert sorted(p.name for p in (run / "pixels/rh").glob("*.tif")) == ["rh_climatology.tif"]
    assert sorted(p.name for p in (run / "pixels/rcs").glob("*.tif")) == ["rcs_climatology.tif"]
    assert sorted(p.name for p in (run / "pixels/nep").glob("*.tif")) == [
        f"nep_{y}.tif" for y in HUAIHAI_YEARS
    ]
    assert (run / "pixels/nep/nep_2001.qml").exists()  # its QGIS style beside each raster
    rh_density = sa["rh_tgc"] / (sa["area_km2"] * sa["valid_fraction"])
    assert rh_density.max() / rh_density.min() < 1.001
    assert _ran(log, "check_climatology") and _ran(log, "align_climatology")
    # 77 counties in 10 cities of 4 provinces; CE reaches every level unchanged
    county, city, prov = (_table(run, lv) for lv in ("county", "city", "province"))
    assert county.loc[county["in_region_layer"], "code"].nunique() == 77
    assert sorted(city.loc[city["in_region_layer"], "code"].unique()) == HUAIHAI_CITIES
    assert sorted(prov["code"].unique()) == ["320000", "340000", "370000", "410000"]
    for t in (county, city, prov):
        np.testing.assert_allclose(
            t.groupby("year")["ce_tgco2"].sum().to_numpy(), sa["ce_tgco2"].to_numpy(), rtol=1e-12
        )
    assert set(county["status"]) <= {"surplus", "deficit", "neutral", "incomplete", "missing"}
    partial = county[county["status"] == "incomplete"]
    assert (partial["valid_fraction"] < 0.5).all() and partial["cnc_tgco2"].isna().all()
    # which inputs were climatologies is said in the GeoPackage and provenance.json
    meta = gpd.read_file(run / "gis/carbon_budget.gpkg", layer="metadata")
    info = json.loads(dict(zip(meta["key"], meta["value"]))["climatologies"])
    assert set(info) == {"temperature", "precipitation", "runoff"}
    assert "cru_ts4.06" in info["temperature"] and "the same values every year" in info["runoff"]
    prov_json = json.loads((run / "provenance.json").read_text())
    assert set(prov_json["climatologies"]) == {"temperature", "precipitation", "runoff"}
    trends = pd.read_csv(run / "tables/trends_study_area.csv")
    assert np.isfinite(trends["cnc_tgco2_slope_per_yr"]).all()


def test_example_economic_regions_sum_their_provinces(china_run):
    """The eight economic regions of China (DRC 2005, config/groupings): each region's CE is the
    sum of its provinces', its area the sum of theirs; Hong Kong, Macau and Taiwan form their
    own group (no emissions in CEADs: unknown, never 0); a map and a GeoPackage layer."""
    import geopandas as gpd
    from helpers import REPO

    run, _ = china_run
    groups = pd.read_csv(REPO / "config/groupings/china_economic_regions.csv", dtype=str)
    prov = _table(run, "province")
    region = _table(run, "economic_region").set_index(["code", "year"])
    prov["group"] = prov["code"].map(dict(zip(groups["code"], groups["group_code"])))
    assert prov["group"].notna().all()
    inside = prov[prov["group"] != "outside_scheme"]
    ce = inside.groupby(["group", "year"])["ce_tgco2"].sum()
    np.testing.assert_allclose(region.loc[ce.index, "ce_tgco2"], ce, rtol=1e-12)
    area = prov.groupby(["group", "year"])["area_km2"].sum()
    np.testing.assert_allclose(region.loc[area.index, "area_km2"], area, rtol=1e-12)
    assert len(ce.index.get_level_values(0).unique()) == 8
    assert pd.isna(region.loc[("outside_scheme", YEARS[0]), "ce_tgco2"])  # no CEADs values
    assert "黄河中游" in region.loc[("middle_yellow_river", YEARS[0]), "name"]
    assert (run / "figures/maps/ce_economic_region.png").stat().st_size > 10_000
    layer = gpd.read_file(run / "gis/carbon_budget.gpkg", layer="economic_region")
    assert sorted(layer["code"]) == sorted(groups["group_code"].unique())
    # spatial statistics of the eight regions with emissions (the ninth has none): computed
    moran = pd.read_csv(run / "tables/moran_economic_region.csv")
    mean = moran[moran["period"] == "mean"].iloc[0]
    assert mean["n_regions"] - mean["n_excluded"] == 8 and np.isfinite(mean["moran_i"])


CRU = REAL / "cru_tmp_normals" / "cru_ts4.06_tmp_normals_1991_2020_china_box_0.5deg.nc"
CMAP = REAL / "cmap_precip_climatology" / "precip.mon.ltm.nc"


@pytest.mark.skipif(not CRU.exists() or not CMAP.exists(), reason="climate normals not found")
def test_the_annual_timesteps_bias_over_china_is_what_the_method_says():
    """docs/method.md gives the annual form's bias against the monthly one over the China box
    (CRU temperature normals, CMAP precipitation at its nearest 2.5° cell): median -11 %, 5th
    percentile -27 %, 95th +8 %, 81 % of pixels underestimated, -18 % where the seasonal range
    exceeds 35 °C, about 0 below 15 °C. Recomputed with the pipeline's RH kernel."""
    import rasterio

    from carbonbudget.science.fluxes import respiration

    with rasterio.open(f'NETCDF:"{CRU}":tmp') as src:
        t = src.read(masked=True).astype("float64").filled(np.nan)
        tr = src.transform
    with rasterio.open(f'NETCDF:"{CMAP}":precip') as src:
        rate = src.read(masked=True).astype("float64").filled(np.nan)  # mm day-1, 2.5°, 0-360
    ny, nx = t.shape[1:]
    rows, cols = np.mgrid[0:ny, 0:nx]
    lon, lat = tr.c + (cols + 0.5) * tr.a, tr.f + (rows + 0.5) * tr.e
    li = np.clip(np.round((lon - 1.25) / 2.5).astype(int), 0, 143)
    la = np.clip(np.round((88.75 - lat) / 2.5).astype(int), 0, 71)
    days = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[:, None, None]
    p = rate[:, la, li] * days  # mm month-1
    land = np.isfinite(t).all(axis=0) & np.isfinite(p).all(axis=0)
    mask = land.astype("uint8")
    f32 = lambda a: np.ascontiguousarray(np.nan_to_num(a), dtype="float32")  # noqa: E731
    monthly = respiration(f32(t), f32(p), mask, False)[0]
    annual = respiration(f32(t.mean(axis=0))[None], f32(p.sum(axis=0))[None], mask, True)[0]
    rel = (annual / monthly - 1)[land]
    assert np.median(rel) == pytest.approx(-0.11, abs=0.005)
    assert np.percentile(rel, 5) == pytest.approx(-0.27, abs=0.01)
    assert np.percentile(rel, 95) == pytest.approx(0.08, abs=0.01)
    assert (rel < 0).mean() == pytest.approx(0.81, abs=0.01)
    span = (t.max(axis=0) - t.min(axis=0))[land]
    assert np.median(rel[span >= 35]) == pytest.approx(-0.18, abs=0.01)
    assert abs(np.median(rel[span < 15])) < 0.01


def test_example_decomposes_province_emissions_with_yearbook_drivers(china_run):
    """Population (World Bank) and GDP (NBS) by English province name: 2004-2016, the effects
    add up to each province's ΔCE and to the like-for-like national ΔCE; as Liu (2020) finds
    for 1996-2017 in Jiangsu, Henan and Inner Mongolia, growth of GDP per person raises CE most
    and energy/emission intensity lowers it, and the growth effect relative to ΔCE orders
    Henan > Jiangsu > Inner Mongolia; provinces without CEADs rows are not decomposed."""
    import pandas as pd

    run, _ = china_run
    effects = ["population_effect_tgco2", "affluence_effect_tgco2", "intensity_effect_tgco2"]
    national = pd.read_csv(run / "tables/decomposition_study_area.csv")
    province = pd.read_csv(run / "tables/decomposition_province.csv", dtype={"code": str})
    for table in (national, province):
        known = table.dropna(subset=effects)
        np.testing.assert_allclose(known[effects].sum(axis=1), known["delta_ce_tgco2"], atol=1e-6)
    study = national[national["kind"] == "period"].iloc[0]
    assert (study["start_year"], study["end_year"]) == tuple(DECOMPOSITION_YEARS)
    assert study["name"] == "study area (the 30 of 34 regions with CE, population and GDP)"
    assert study["affluence_effect_tgco2"] > study["delta_ce_tgco2"] > 0
    assert study["intensity_effect_tgco2"] < 0 < study["population_effect_tgco2"]
    period = province[province["kind"] == "period"].set_index("code")
    share = period["affluence_effect_tgco2"] / period["delta_ce_tgco2"]
    assert share["410000"] > share["320000"] > share["150000"] > 1  # Henan, Jiangsu, Inner Mongolia
    assert (period.loc[["410000", "320000", "150000"], "intensity_effect_tgco2"] < 0).all()
    for code in ("540000", "710000", "810000", "820000"):  # Tibet, Taiwan, Hong Kong, Macau
        assert period.loc[code, "note"].startswith("no decomposition: CE 2004")


CDIAC = REAL / "cdiac_gridcar_fossil_co2_1deg"


def test_cdiac_grid_goes_on_the_china_grid_keeping_its_mass():
    """CDIAC's NDP-058 grid as it is stored (ESRI ASCII without a CRS, Tg C per 1° cell): read
    with emissions.crs and the units 'Tg C cell-1 yr-1', put on the China example's 10 km grid
    keeping the mass of every cell inside it; its total lies between the cells whose centre is
    in China and the whole 70-140 E, 15-55 N box (PROVENANCE.md: 2,383.1 and 3,537.8 Tg C)."""
    import yaml

    from carbonbudget.core.grid import Grid
    from carbonbudget.inputs.inventory import align_inventory

    path = CDIAC / "gridcar_2010_china_box.asc"
    if not path.exists():
        pytest.skip(f"CDIAC grids not found at {CDIAC}")
    cfg = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "config/examples/china_real.yaml").read_text()
    )
    grid = Grid.from_config(cfg["grid"])
    aligned, _ = align_inventory(
        str(path), grid, units="Tg C cell-1 yr-1", year=2010, crs="EPSG:4326"
    )
    assert aligned.inside_total_t == pytest.approx(aligned.inventory_inside_t, rel=1e-6)  # kept
    total_tc = aligned.inside_total_t / 1e6 * 12 / 44
    assert 2_383.1 < total_tc < 3_537.8, total_tc


def test_example_sets_cdiac_against_ceads(china_run):
    """CDIAC's 1° grid kept its mass on the grid (the South China Sea islands beyond its box
    counted as no emission); like for like it is within a fifth of CEADs nationally, while it
    gives Shanghai far less and Sichuan far more (it spreads emissions by population)."""
    import pandas as pd

    run, log = china_run
    mass = pd.read_csv(run / "tables/compare_inventory_county.csv")
    assert (mass["relative_difference"] < 1e-6).all()
    assert set(mass["pixels_outside_inventory"]) == {331}
    assert "beyond the inventory's extent" in log
    study = pd.read_csv(run / "tables/emission_sources_study_area.csv")
    assert list(study["year"]) == [1997, 2004, 2010]  # the run's years CDIAC covers
    assert (study["rel_diff"].abs() < 0.2).all()
    province = pd.read_csv(run / "tables/emission_sources_province.csv", dtype={"code": str})
    y2010 = province[province["year"] == 2010].set_index("code")
    assert y2010.loc["310000", "rel_diff"] < -0.5 < 0.5 < y2010.loc["510000", "rel_diff"]
    assert np.isnan(y2010.loc["710000", "rel_diff"])  # Taiwan: no CEADs row


def test_example_spreads_ceads_over_its_pixels_by_gpw_population(china_run):
    """CEADs CE per pixel, spread within each county by GPW's 1° population density of the
    nearest census year (2016 and 2017 take 2015's): a value, never negative, on the counties'
    pixels every year; the downscale table holds every county's total (the grand total kept
    exactly) and says how well each county kept its own on the 10 km grid."""
    import pandas as pd
    import rasterio

    run, log = china_run
    assert "2016: CE of 2635 regions on the grid" in log and "weights of 2015" in log
    for year in (2004, 2016):
        with rasterio.open(run / f"pixels/ce/ce_{year}.tif") as src:
            assert src.tags(1)["units"] == "t CO2 km-2 yr-1"
            ce = src.read(1, masked=True)
        assert ce.count() > 50_000 and float(ce.min()) >= 0.0
    spread = pd.read_csv(run / "tables/downscale_county.csv", dtype={"code": str})
    totals = spread.groupby("year")[["ce_table_tgco2", "ce_on_grid_tgco2"]].sum()
    np.testing.assert_allclose(totals["ce_on_grid_tgco2"], totals["ce_table_tgco2"], rtol=1e-9)
    known = spread.dropna(subset=["relative_difference"])  # counties without CE
    assert (known["relative_difference"].abs() < 0.05).mean() > 0.98  # 99.0 % on this grid


def test_example_decomposes_ceads_co2_by_fuel(china_run):
    """CEADs provincial CO2 by fuel, 2004-2016: the six effects add up to each province's and
    the nation's change; the energy comes from the IPCC factors, so the emission-factor effect
    is zero; the fall of energy per GDP is the leading negative effect in every province (as
    Liu 2020 finds for Jiangsu, Henan and Inner Mongolia); the 30 CEADs provinces make the
    study area; the shift between fuels lowers national CO2."""
    import pandas as pd

    run, _ = china_run
    t = pd.read_csv(run / "tables/decomposition_by_fuel_province.csv", dtype={"code": str})
    effects = [c for c in t.columns if c.endswith("_effect_tgco2")]
    assert len(effects) == 6 and "process_intensity_effect_tgco2" in effects
    # exact but for the CSV's 12 significant digits of each effect
    scale = t[effects].abs().sum(axis=1) + t["co2_end_tgco2"].abs()
    assert ((t[effects].sum(axis=1) - t["delta_co2_tgco2"]).abs() <= 1e-11 * scale).all()
    assert (t["emission_factor_effect_tgco2"].abs() <= 1e-9 * scale).all()
    period = t[t["kind"] == "period"].set_index("code")
    study = period.loc["all"]
    assert study["name"].startswith("study area (the 30 of 30 regions")
    provinces = period.drop(index="all")
    assert len(provinces) == 30 and provinces["note"].isna().all()
    signed = provinces[[e for e in effects if e != "emission_factor_effect_tgco2"]]
    assert (signed.idxmin(axis=1) == "energy_intensity_effect_tgco2").all()
    assert study["structure_effect_tgco2"] < 0 < study["affluence_effect_tgco2"]
    # the inventory's own national total, not the county table's
    assert study["co2_start_tgco2"] == pytest.approx(4714.9, abs=0.1)
