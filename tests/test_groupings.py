"""Regions beyond the administrative tree: groupings of a level (docs/method.md, "Regional
budgets")."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from helpers import assert_within_csv_rounding, demo_config, emission_section

from carbonbudget.core.config import fill_section, validate_config
from carbonbudget.core.errors import ConfigError, InputDataError, RegionError
from carbonbudget.regions.budget import EmissionMatch, RegionTree, build_budget
from carbonbudget.regions.hierarchy import apply_groupings

REGIONS = pd.DataFrame(
    {
        "county_code": ["910101", "910102", "910201", "920101"],
        "county_name": ["a", "b", "c", "d"],
        "city_code": ["910100", "910100", "910200", "920100"],
        "province_code": ["910000", "910000", "910000", "920000"],
    }
)


def _table(tmp_path, text):
    path = tmp_path / "groups.csv"
    path.write_text(text)
    return {"zone": {"level": "city", "table": str(path), **_cols()}}


def _cols():
    return {"code_col": "code", "group_col": "group_code", "name_col": "group_name"}


def test_a_grouping_adds_the_group_of_every_region(tmp_path, caplog):
    caplog.set_level("INFO")
    g = _table(
        tmp_path,
        "code,group_code,group_name\n910100,Z1,West\n910200,Z2,East\n920100,Z1,West\n"
        "990100,Z9,Elsewhere\n",
    )
    out = apply_groupings(REGIONS, g, ["county", "city", "province"])
    assert out["zone_code"].tolist() == ["Z1", "Z1", "Z2", "Z1"]
    assert out["zone_name"].tolist() == ["West", "West", "East", "West"]
    assert "990100" in caplog.text  # a code of another area: left out, logged


@pytest.mark.parametrize(
    "text, message",
    [
        ("code,group_code\n910100,Z1\n910200,Z2\n", r"city codes \['920100'\] .* have no group"),
        (
            "code,group_code\n910100,Z1\n910200,Z2\n920100,Z1\n910100,Z2\n",
            r"city codes \['910100'\] are listed more than once",
        ),
        ("code,group_code\n910100,Z1\n910200,\n920100,Z1\n", r"city codes \['910200'\] have no"),
        ("code,zone\n910100,Z1\n", r"columns \['group_code'\] not found"),
    ],
)
def test_codes_without_a_group_or_listed_twice_are_errors_naming_them(tmp_path, text, message):
    with pytest.raises(RegionError, match=message) as exc:
        apply_groupings(REGIONS, _table(tmp_path, text), ["county", "city", "province"])
    assert "groups.csv" in str(exc.value)


def test_codes_stored_as_floats_match_the_same_codes_written_as_integers(tmp_path, caplog):
    """A GIS layer whose code column is floating point (910101.0) reads as 910101: its codes
    match the grouping table's, not reported as the table's fault."""
    import shapely

    from carbonbudget.regions.hierarchy import read_regions

    polys = gpd.GeoDataFrame(
        {"code": [910101.0, 910201.0], "name": ["a", "c"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    path = tmp_path / "counties.gpkg"
    polys.to_file(path, engine="pyogrio")
    regions = read_regions(str(path), {"county": "code", "city": "city"}, derive_parents="adcode")
    assert regions["county_code"].tolist() == ["910101", "910201"]
    assert regions["city_code"].tolist() == ["910100", "910200"]
    assert "floating-point" in caplog.text and "counties.gpkg" in caplog.text
    g = _table(tmp_path, "code,group_code\n910100.0,Z1\n910200.0,Z2\n")
    out = apply_groupings(regions, g, ["county", "city"])
    assert out["zone_code"].tolist() == ["Z1", "Z2"]
    # a code with a real fractional part is not an integer stored as a float: kept as given
    from carbonbudget.core.io import region_codes

    mixed = region_codes(pd.Series([1.5, 2.0]), path="t.csv", variable="v")
    assert mixed.tolist() == ["1.5", "2.0"]


def test_a_grouping_may_not_take_a_level_name_or_group_an_unknown_level():
    cfg = demo_config()
    cfg["regions"]["groupings"] = {"city": {"level": "county", "table": "t.csv"}}
    with pytest.raises(ConfigError, match="'city' is the name of a level"):
        validate_config(cfg)
    cfg["regions"]["groupings"] = {"area": {"level": "district", "table": "t.csv"}}
    with pytest.raises(ConfigError, match="'district' is not one of regions.levels"):
        validate_config(cfg)


def _grouped_budget(tmp_path, emissions_csv):
    """Four counties, each ECS 1 Tg C a year; cities 910100 and 920100 in zone Z1 (across the
    two provinces), 910200 in Z2."""
    regions = apply_groupings(
        REGIONS.assign(city_name="x", province_name="p"),
        _table(
            tmp_path, "code,group_code,group_name\n910100,Z1,West\n910200,Z2,East\n920100,Z1,West\n"
        ),
        ["county", "city", "province"],
    )
    codes = REGIONS["county_code"].tolist()
    z = pd.DataFrame({"code": codes, "year": 2001, "area_km2": [100.0, 200.0, 300.0, 400.0]})
    for v in ("rh", "nep", "rcs", "ecs"):
        z[f"{v}_tgc"] = [1.0, 2.0, 3.0, 4.0]
        z[f"{v}_valid_fraction"] = 1.0
    z.to_parquet(tmp_path / "z.parquet")
    (tmp_path / "e.csv").write_text(emissions_csv)
    return build_budget(
        zonal_paths=[str(tmp_path / "z.parquet")],
        years=[2001],
        regions=RegionTree(regions, ["county", "city", "province"], {"zone": "city"}),
        emissions_cfg=emission_section(tmp_path / "e.csv", unmatched="warn"),
        socio_cfg=None,
        balance_cfg=fill_section("balance", {"cv": "none"}),
        match=EmissionMatch(derive_parents="adcode"),
    )


def test_a_group_is_the_sum_of_its_members_and_has_no_parents(tmp_path):
    # 910199: an emission code without polygon, in city 910100 by its code: CE only, in Z1
    t = _grouped_budget(
        tmp_path,
        "c,y,v\n910101,2001,1\n910102,2001,2\n910201,2001,4\n920101,2001,8\n910199,2001,16\n",
    )
    zone = t["zone"].set_index("code")
    assert zone.loc["Z1", "area_km2"] == 100 + 200 + 400
    assert zone.loc["Z1", "ecs_tgc"] == 1 + 2 + 4
    assert zone.loc["Z1", "ce_tgco2"] == 1 + 2 + 8 + 16
    assert zone.loc["Z2", "ce_tgco2"] == 4 and zone.loc["Z2", "name"] == "East"
    assert zone.loc["Z1", "cnc_tgco2"] == pytest.approx(7 * 44 / 12 - 27)
    assert not any(c.endswith("_code") and c != "code" for c in zone.columns)
    # every level adds up to the same study area
    for level in ("county", "city", "province", "zone"):
        assert t[level]["ce_tgco2"].sum() == t["study_area"]["ce_tgco2"].sum() == 31


def test_an_emission_code_whose_grouped_region_has_no_polygon_is_an_error(tmp_path):
    # 930101 is in city 930100, which no polygon has: its CE could reach no zone
    with pytest.raises(InputDataError, match=r"city codes \['930100'\] cannot be put in a group"):
        _grouped_budget(tmp_path, "c,y,v\n910101,2001,1\n930101,2001,5\n")


def test_demo_zones_are_the_sums_of_their_cities(demo_run):
    tables = demo_run / "results" / "tables"
    city = pd.read_csv(tables / "budget_city.csv", dtype={"code": str})
    zone = pd.read_csv(tables / "budget_zone.csv", dtype={"code": str})
    groups = pd.read_csv(demo_run / "config" / "groupings" / "demo_city_zones.csv", dtype=str)
    city["zone"] = city["code"].map(dict(zip(groups["code"], groups["group_code"])))
    cols = ["area_km2", "ecs_tgco2", "ce_tgco2", "cnc_tgco2"]
    sums = city.groupby(["zone", "year"])[cols].sum()
    size = city[cols].abs().groupby([city["zone"], city["year"]]).sum()
    zone = zone.set_index(["code", "year"]).loc[sums.index]
    for col in cols:
        assert_within_csv_rounding(zone[col], sums[col], size[col] + zone[col].abs())
    assert zone["p_surplus"].notna().all() and len(zone) == 3 * 10
    # its own trends, maps and GeoPackage layer of dissolved polygons
    trends = pd.read_csv(tables / "trends_zone.csv", dtype={"code": str})
    assert sorted(trends["code"]) == ["Z1", "Z2", "Z3"]
    assert (demo_run / "results" / "figures" / "maps" / "cnc_zone.png").exists()
    layer = gpd.read_file(demo_run / "results" / "gis" / "carbon_budget.gpkg", layer="zone")
    cities = gpd.read_file(demo_run / "results" / "gis" / "carbon_budget.gpkg", layer="city")
    cities["zone"] = cities["code"].map(dict(zip(groups["code"], groups["group_code"])))
    np.testing.assert_allclose(
        layer.set_index("code").area.sort_index(),
        cities.dissolve("zone").area.sort_index(),
        rtol=1e-9,
    )


# --- independent region layers (region_layers) -------------------------------------------------
def _layer_inputs(small_grid, tmp_path, ce_known_everywhere=True):
    """Two years of fluxes on the 5 x 4 km grid (ECS = NEP + RCS), a CE raster per year, and a
    layer of two regions: 'w' (columns 0-1) and 'e' (columns 2-4)."""
    import shapely
    from helpers import AEA, write_raster

    layer = gpd.GeoDataFrame(
        {"bcode": ["w", "e"], "bname": ["West", "East"]},
        geometry=[shapely.box(0, 0, 2000, 4000), shapely.box(2000, 0, 5000, 4000)],
        crs=AEA,
    )
    path = tmp_path / "basins.gpkg"
    layer.to_file(path, engine="pyogrio")
    flux_paths, ce_paths = {}, {}
    for year in (2001, 2002):
        k = year - 2000
        rh = np.full(small_grid.shape, 300.0)
        nep = np.full(small_grid.shape, 100.0 * k)
        rcs = np.full(small_grid.shape, 10.0)
        flux_paths[year] = {
            v: write_raster(tmp_path / f"{v}_{year}.tif", x, small_grid)
            for v, x in {"rh": rh, "nep": nep, "rcs": rcs, "ecs": nep + rcs}.items()
        }
        ce = np.full(small_grid.shape, 500.0 * k)  # t CO2 km-2 yr-1
        if not ce_known_everywhere:
            ce[:, 4] = np.nan  # the east region reaches beyond the emission table's regions
        ce_paths[year] = write_raster(tmp_path / f"ce_{year}.tif", ce, small_grid)
    cfg = {"path": str(path), "code_col": "bcode", "name_col": "bname"}
    return cfg, flux_paths, ce_paths


def _layer_budget(grid, cfg, fluxes, ce):
    """The budget table of the layer of :func:`_layer_inputs` (CE from the grid, or none)."""
    from carbonbudget.regions.layers import layer_budget

    return layer_budget(
        name="basin",
        layer_cfg=cfg,
        grid_spec={"crs": grid.crs.to_wkt(), "resolution": 1000.0, "bounds": list(grid.bounds)},
        flux_paths=fluxes,
        ce_paths=ce,
        balance_cfg=fill_section("balance", {}),
        cache_dir=None,
    )


def test_a_layer_budget_by_hand_with_emissions_from_the_grid(small_grid, tmp_path):
    cfg, fluxes, ce = _layer_inputs(small_grid, tmp_path)
    t = _layer_budget(small_grid, cfg, fluxes, ce).set_index(["code", "year"])
    # east: 12 km² of ECS 210 g C m-2 in 2002 -> 210 x 12e6 / 1e12 Tg C; CE 1000 t km-2 x 12 km²
    e = t.loc[("e", 2002)]
    assert e["name"] == "East" and e["area_km2"] == pytest.approx(12.0)
    assert e["ecs_tgc"] == pytest.approx(210 * 12e6 / 1e12)
    assert e["ce_tgco2"] == pytest.approx(1000 * 12 / 1e6)
    assert e["cnc_tgco2"] == pytest.approx(210 * 12e6 / 1e12 * 44 / 12 - 0.012)
    assert t.loc[("w", 2001), "rcs_tgco2"] == pytest.approx(10 * 8e6 / 1e12 * 44 / 12)
    assert e["status"] == "deficit" and t["level"].eq("basin").all()


def test_a_layer_without_emissions_on_the_grid_carries_the_sinks_and_says_so(small_grid, tmp_path):
    from carbonbudget.regions.layers import SINKS_ONLY

    cfg, fluxes, ce = _layer_inputs(small_grid, tmp_path, ce_known_everywhere=False)
    sinks = _layer_budget(small_grid, cfg, fluxes, None)
    assert "ce_tgco2" not in sinks and "cnc_tgco2" not in sinks
    assert sinks["note"].eq(SINKS_ONLY).all() and sinks["ecs_tgco2"].notna().all()
    # CE known on part of a region only: no CE (never a partial sum), and the note says why
    partial = _layer_budget(small_grid, cfg, fluxes, ce).set_index(["code", "year"])
    assert np.isnan(partial.loc[("e", 2001), "ce_tgco2"])
    assert partial.loc[("e", 2001), "status"] == "missing"
    assert (
        "CE known on 66.7 % of the area inside the grid" in partial.loc[("e", 2001), "status_note"]
    )
    assert partial.loc[("w", 2001), "ce_tgco2"] == pytest.approx(500 * 8 / 1e6)


def test_a_layer_half_outside_the_grid_is_named_and_gets_no_partial_emission(
    small_grid, tmp_path, caplog
):
    """A basin reaching 2 km past the grid's east edge (40 % of it; above
    checks.max_outside_grid_share unless listed in checks.outside_grid_allowed): the checks
    warn naming the layer; its table holds the budget of the part inside (sinks and CE of the
    same pixels) with a note naming the grid edge, and with CE known on part of the inside
    only, no CE and both reasons. One entirely outside is an error naming
    region_layers.<name>, and one with no feature too."""
    import shapely

    from carbonbudget.inputs.checks import check_layer_inputs

    cfg, fluxes, ce = _layer_inputs(small_grid, tmp_path)
    layer = gpd.read_file(cfg["path"])
    layer.loc[1, "geometry"] = shapely.box(2000, 0, 7000, 4000)  # 2 of its 5 km outside
    layer.to_file(cfg["path"], engine="pyogrio")
    grid_cfg = {"crs": small_grid.crs.to_wkt(), "resolution": 1000.0}
    config = {
        "grid": dict(grid_cfg, bounds=list(small_grid.bounds)),
        "checks": fill_section("checks", {}),
        "region_layers": {"basin": cfg},
    }
    with pytest.raises(InputDataError, match=r"1 regions lie more than 25% outside"):
        check_layer_inputs(config=config)
    config["checks"]["outside_grid_allowed"] = ["e"]
    rep = check_layer_inputs(config=config)
    assert rep["basin"]["outside_grid"] == {"e": 0.4}
    assert "region_layers.basin" in caplog.text and "e 40.0 %" in caplog.text
    edge = (
        "40.0 % of the region lies outside the grid: its sink and emissions are those of the "
        "part inside"
    )
    t = _layer_budget(small_grid, cfg, fluxes, ce).set_index(["code", "year"])
    e = t.loc[("e", 2002)]
    assert e["ce_tgco2"] == pytest.approx(1000 * 12 / 1e6)  # the 12 km² inside
    assert e["ecs_tgc"] == pytest.approx(210 * 12e6 / 1e12)
    assert e["valid_fraction"] == pytest.approx(0.6) and e["status"] == "deficit"
    assert e["status_note"] == edge
    assert pd.isna(t.loc[("w", 2002), "status_note"]) or t.loc[("w", 2002), "status_note"] == ""
    _, fluxes, ce = _layer_inputs(small_grid, tmp_path, ce_known_everywhere=False)
    layer.to_file(cfg["path"], engine="pyogrio")  # the cut basin again
    t = _layer_budget(small_grid, cfg, fluxes, ce).set_index(["code", "year"])
    e = t.loc[("e", 2002)]
    assert np.isnan(e["ce_tgco2"]) and e["status"] == "missing"
    assert e["status_note"].startswith(edge + "; CE known on 66.7 % of the area inside the grid")
    # entirely outside: an error naming the layer's key
    layer.geometry = layer.geometry.translate(1_000_000, 0)
    layer.to_file(cfg["path"], engine="pyogrio")
    with pytest.raises(InputDataError, match="no polygon overlaps") as exc:
        check_layer_inputs(config=config)
    assert exc.value.variable == "region_layers.basin"
    # no feature at all
    layer.iloc[:0].to_file(cfg["path"], engine="pyogrio")
    with pytest.raises(RegionError, match="the layer has no features") as exc:
        check_layer_inputs(config=config)
    assert exc.value.variable == "region_layers.basin"


def test_a_layer_without_crs_names_its_own_crs_key(tmp_path):
    import shapely

    from carbonbudget.regions.layers import read_layer

    path = tmp_path / "zones.geojson"
    gpd.GeoDataFrame(
        {"z": ["a"]}, geometry=[shapely.box(500000, 4000000, 501000, 4001000)], crs=None
    ).to_file(path, engine="pyogrio")
    with pytest.raises(InputDataError) as exc:
        read_layer("zone", {"path": str(path), "code_col": "z"})
    assert exc.value.variable == "region_layers.zone"
    assert "region_layers.zone.crs" in exc.value.fix and "regions.crs" not in exc.value.fix


def test_a_layer_may_not_take_a_level_name_and_needs_grid_emissions_for_cnc_statistics():
    cfg = demo_config()
    cfg["region_layers"] = {"zone": {"path": "b.gpkg", "code_col": "c"}}
    with pytest.raises(ConfigError, match="'zone' is the name of a level or grouping"):
        validate_config(cfg)
    cfg = demo_config()
    del cfg["emissions"]["downscale"]
    cfg["trends"]["variables"] = ["nep", "rcs", "ecs"]  # CNC per pixel needs the grid CE too
    cfg["spatial"]["levels"] = ["county", "basin"]
    with pytest.raises(ConfigError, match="region layer 'basin' has no emissions"):
        validate_config(cfg)


def test_demo_basins_sum_to_the_grid_total_over_their_union(demo_run):
    """The sum over the basins of a flux equals the zonal total of the basins' union on the
    same rasters; their CE (spread on the grid) is the counties' CE."""
    from carbonbudget.core.grid import Grid
    from carbonbudget.regions.zonal import coverage_matrix, zonal_totals

    work = demo_run / "results" / ".work"
    basins = pd.read_csv(demo_run / "results" / "tables" / "budget_basin.csv", dtype={"code": str})
    study = pd.read_csv(demo_run / "results" / "tables" / "budget_study_area.csv")
    cfg = validate_config(demo_config())
    grid = Grid.from_config(cfg["grid"])
    polys = gpd.read_file(demo_run / "data/demo/regions/basins.gpkg").to_crs(grid.crs.to_wkt())
    union = gpd.GeoDataFrame({"code": ["all"]}, geometry=[polys.union_all()], crs=polys.crs)
    codes, m = coverage_matrix(union, "code", grid)
    year = 2006
    fluxes = {v: str(work / f"pixels/{v}/{v}_{year}.tif") for v in ("rh", "nep", "rcs", "ecs")}
    total = zonal_totals(m, codes, grid, fluxes).iloc[0]
    b = basins[basins["year"] == year]
    for v in ("rh", "nep", "rcs", "ecs"):
        assert b[f"{v}_tgc"].sum() == pytest.approx(total[f"{v}_tgc"], rel=1e-9), v
    ce = study.loc[study["year"] == year, "ce_tgco2"].iloc[0]
    assert b["ce_tgco2"].sum() == pytest.approx(ce, rel=1e-6)  # float32 pixels
    assert b["cnc_tgco2"].notna().all() and len(b) == 4
    layer = gpd.read_file(demo_run / "results" / "gis" / "carbon_budget.gpkg", layer="basin")
    assert sorted(layer["code"]) == ["B1", "B2", "B3", "B4"]
    assert (demo_run / "results" / "figures" / "maps" / "cnc_basin.png").exists()


def test_a_parent_the_selection_clips_is_named_as_a_part(tmp_path, caplog):
    """regions.select keeps two of a province's three cities (Huaihai keeps 4 of Shandong's 16):
    the province is named as that part, in the regions table every budget, chart and map takes
    its names from; a province whose cities are all kept keeps its name."""
    import shapely

    from carbonbudget.regions.hierarchy import read_regions

    codes = ["910101", "910102", "910201", "910301", "920101"]
    polys = gpd.GeoDataFrame(
        {"code": codes, "county": list("abcde"), "pname": ["P"] * 4 + ["Q"]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(5)],
        crs="EPSG:4326",
    )
    path = tmp_path / "counties.gpkg"
    polys.to_file(path, engine="pyogrio")
    levels = {"county": "code", "city": "city", "province": "province"}
    names = {"county": "county", "province": "pname"}
    caplog.set_level("INFO", logger="carbonbudget.regions.hierarchy")
    regions = read_regions(
        str(path),
        levels,
        names,
        derive_parents="adcode",
        select={"level": "city", "codes": ["910100", "910200", "920100"]},
    )
    assert regions["county_code"].tolist() == ["910101", "910102", "910201", "920101"]
    assert regions.set_index("county_code")["province_name"].to_dict() == {
        "910101": "P (part: 2 of 3 cities)",
        "910102": "P (part: 2 of 3 cities)",
        "910201": "P (part: 2 of 3 cities)",
        "920101": "Q",
    }
    assert "the selection keeps part of: province 910000 P (part: 2 of 3 cities)" in caplog.text
    whole = read_regions(str(path), levels, names, derive_parents="adcode")
    assert set(whole["province_name"]) == {"P", "Q"}
