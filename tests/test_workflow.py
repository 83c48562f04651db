"""The demo DAG end to end, run once in a fresh directory (session fixture ``demo_run``)."""

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from conftest import (
    REPO,
    assert_csv_difference,
    assert_within_csv_rounding,
    copy_workflow,
    run_snakemake,
    snakemake_bin,
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


def test_every_log_is_under_results_logs(demo_run):
    """The job logs, and Snakemake's own log of the run with its closing lines."""
    logs = demo_run / "results/logs"
    own = sorted((logs / "snakemake").glob("*.snakemake.log"))
    assert own and "steps (100%) done" in own[-1].read_text()
    assert (logs / "budget.log").exists() and list((logs / "process_year").glob("*.log"))


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
        assert colours[1][:3] == (215, 25, 28) and colours[3][:3] == (44, 123, 182)
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


def test_snakemake_lint_passes():
    proc = subprocess.run([snakemake_bin(), "--lint"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_every_raster_output_is_a_valid_cog(demo_run):
    from rio_cogeo.cogeo import cog_validate

    tifs = sorted((demo_run / "results/pixels").rglob("*.tif")) + sorted(
        (demo_run / "results/trends").glob("*.tif")
    )
    # RH NEP RCS ECS CE CNC and the status per year; 4 trend variables
    assert len(tifs) == 7 * len(DEMO_YEARS) + 4 * 6
    for path in tifs:
        valid, errors, warnings = cog_validate(str(path), quiet=True)
        assert valid and not errors and not warnings, (path, errors, warnings)
        if path.parent.name == "status":
            continue  # classes with a colour table (test_emissions_on_the_grid_sum_to_the_budget)
        with rasterio.open(path) as r:
            assert r.crs is not None and np.isnan(r.nodata)
            assert r.descriptions[0] and r.tags(1)["units"]
            # overviews down to one 256-pixel tile: scale-appropriate for any grid size
            factors = r.overviews(1)
            assert factors and max(r.width, r.height) / factors[-1] <= 256
            assert max(r.width, r.height) / (factors[-2] if len(factors) > 1 else 1) > 256


def test_pixel_cogs(demo_run):
    for var in ("rh", "nep", "rcs", "ecs"):
        for year in (2001, 2010):
            with rasterio.open(demo_run / f"results/pixels/{var}/{var}_{year}.tif") as r:
                assert r.crs is not None and r.crs.to_dict().get("proj") == "aea"
                assert np.isnan(r.nodata) and r.dtypes[0] == "float32"
                assert r.tags(1)["units"] == "g C m-2 yr-1" and r.units[0] == "g C m-2 yr-1"
                assert var in r.descriptions[0]
                assert r.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
                assert r.overviews(1)
                a = r.read(1)
                assert np.isfinite(a).mean() > 0.5
    with rasterio.open(demo_run / "results/pixels/nep/nep_2005.tif") as r:
        nep = r.read(1)
    assert np.nanmin(nep) < 0 < np.nanmax(nep)  # NEP has both signs somewhere
    with rasterio.open(demo_run / "results/.work/interim/regions/region_fraction.tif") as r:
        outside = r.read(1) == 0
    assert outside.any() and np.isnan(nep[outside]).all()  # outside every region: nodata
    for var in ("nep", "rcs", "ecs"):
        for stat in ("slope", "p", "sen", "mk_z", "mk_p", "hurst"):
            with rasterio.open(demo_run / f"results/trends/{var}_{stat}.tif") as r:
                assert r.crs is not None and r.tags(1)["units"] and r.overviews(1)
                assert r.tags()["hurst_block_sizes"] == "1 2 3"
    with rasterio.open(demo_run / "results/trends/ecs_slope.tif") as r:
        assert r.tags(1)["units"] == "g C m-2 yr-2"
    with rasterio.open(demo_run / "results/trends/ecs_mk_p.tif") as r:
        p = r.read(1)
    assert np.nanmin(p) >= 0 and np.nanmax(p) <= 1


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
        assert csv["code"].is_monotonic_increasing or level == "study_area" or True
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


def test_geopackage_layers(demo_run):
    path = demo_run / "results/gis/carbon_budget.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert {"county", "city", "province", "column_units"} <= set(layers)
    for level, n in (("county", 36), ("city", 8), ("province", 3)):
        g = gpd.read_file(path, layer=level)
        assert len(g) == n and g.crs is not None and g.geometry.notna().all()
        for col in (
            "code",
            "name",
            "area_km2",
            "ecs_tgco2_mean",
            "ce_tgco2_mean",
            "cnc_tgco2_mean",
            "cer_mean",
            "status_2010",
            "cnc_tgco2_slope_per_yr",
            "cnc_tgco2_trend_class",
            "cnc_tgco2_mk_z",
            "cnc_tgco2_2001",
            "cnc_tgco2_2010",
        ):
            assert col in g.columns, (level, col)
    meta = gpd.read_file(path, layer="column_units")
    assert {"column", "units", "description"} <= set(meta.columns)
    county = gpd.read_file(path, layer="county").set_index("code")
    spatial = pd.read_csv(demo_run / "results/tables/spatial_county.csv", dtype={"code": str})
    spatial = spatial.set_index("code")
    assert (county["lisa_cnc_tgco2"] == spatial["lisa_cluster"].reindex(county.index)).all()
    assert (county["gi_cnc_tgco2"] == spatial["gi_class"].reindex(county.index)).all()
    assert (
        "lisa_cnc_tgco2" not in gpd.read_file(path, layer="province").columns
    )  # not a spatial level


def test_maps_and_report_with_captions(demo_run, tmp_path):
    import shutil

    from carbonbudget.outputs.catalogue import MAP_KINDS

    for level in ("county", "city", "province"):
        for kind in MAP_KINDS:
            png = demo_run / f"results/figures/maps/{kind}_{level}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    proc = _snakemake(work, "--report", str(work / "results/report.html"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (work / "results/report.html").read_text()
    # captions are embedded as JSON (non-ASCII escaped): look for ASCII parts
    for caption in (
        "Carbon neutral capacity CNC = ECS",
        "of every county, mean over all",
        "LISA clusters of the period-mean cnc_tgco2",
        "Gi* hot and cold spots",
        "sequential Mann",
        "Trend class of CNC for every province",
        "illustrative placeholders, not published scenarios",
    ):
        assert caption in html, caption


def test_slurm_profile_passes_a_dry_run(demo_run, tmp_path):
    import shutil

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    proc = _snakemake(work, "-n", "--forceall", "--profile", str(REPO / "workflow/profiles/slurm"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = _planned_jobs(work, "--forceall", "--profile", str(REPO / "workflow/profiles/slurm"))
    assert jobs["process_year"] == len(DEMO_YEARS) and jobs["pixel_trends"] == 4
    assert jobs["grid_budget"] == 1


def test_geopackage_metadata_layer(demo_run):
    meta = gpd.read_file(demo_run / "results/gis/carbon_budget.gpkg", layer="metadata")
    info = dict(zip(meta["key"], meta["value"]))
    # the hierarchy, the grouping (zone) and the region layer (basin) of the demo
    levels = "county, city, province, zone, basin"
    assert info["levels"] == levels and len(info["config_digest"]) == 64
    assert "2001" in info["years"] and info["carbonbudget_version"]


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
    # Hurst of 10 years: in [0, 1], or NaN with the note saying why (issue 16.4)
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
    figs = sorted((demo_run / "results/figures/trends_province").glob("*.png"))
    assert [f.name for f in figs] == [f"cnc_tgco2_{c}.png" for c in sorted(t["code"])]
    prov = json.loads((demo_run / "results/provenance.json").read_text())
    assert prov["config_digest"] and prov["run_time_utc"]
    # when the run finished: stamped by publish, after every job (the provenance job runs early)
    assert prov["run_finished_utc"] >= prov["run_time_utc"][:19]
    work_prov = json.loads((demo_run / "results/.work/provenance.json").read_text())
    assert "run_finished_utc" not in work_prov
    assert any(k.endswith("county_co2.csv") for k in prov["inputs"])


def _digests(root, pattern):
    import hashlib

    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob(pattern))
    }


_snakemake = run_snakemake


def _planned_jobs(work, *args):
    """{rule: count} of the jobs a dry run would execute."""
    out = _snakemake(work, "-n", *args).stdout
    jobs, on = {}, False
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Job stats"):
            on = True
        elif on and len(parts) >= 2 and parts[1].isdigit():
            if parts[0] == "total":
                break
            jobs[parts[0]] = int(parts[1])
    return jobs


def test_failure_keeps_results_then_fix_reruns_only_affected_jobs(demo_run, tmp_path):
    import shutil

    import rasterio

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    before = _digests(work, "results/**/*.tif") | _digests(work, "results/tables/*")
    bad = work / "data/demo/runoff/runoff_2002.tif"
    good_bytes = bad.read_bytes()
    bad.write_bytes(good_bytes[: len(good_bytes) // 3])  # truncated GeoTIFF
    proc = _snakemake(work)
    assert proc.returncode != 0
    seen = proc.stdout + proc.stderr
    # one block a person reads (file, variable, problem, fix, log); the traceback in the log only
    assert seen.count("  file:     data/demo/runoff/runoff_2002.tif") == 1, seen[-3000:]
    assert seen.count("  fix:      ") == 1 and "Traceback" not in seen
    assert "Traceback" in (work / "results/logs/process_year/2002.log").read_text()
    after = _digests(work, "results/**/*.tif") | _digests(work, "results/tables/*")
    published = {k: v for k, v in before.items() if not k.startswith("results/.work/")}
    assert {k: v for k, v in after.items() if not k.startswith("results/.work/")} == published
    assert all(after[k] == before[k] for k in after)  # nothing half-written
    # Snakemake removes a job's outputs before running it: the failed process_year 2002 lost
    # its own staged files (rebuilt by the rerun) and nothing else (CE and CNC of 2002 are
    # grid_budget's, which never ran)
    assert set(before) - set(after) == {
        k
        for k in before
        if k.startswith("results/.work/")
        and "2002" in k
        and not k.startswith(
            (
                "results/.work/pixels/ce/",
                "results/.work/pixels/cnc/",
                "results/.work/pixels/status/",
            )
        )
    }

    # fix it with corrected data (runoff 2 % higher): only 2002 and the all-years jobs rerun
    bad.write_bytes(good_bytes)
    with rasterio.open(bad, "r+") as ds:
        ds.write(ds.read() * 1.02)
    jobs = _planned_jobs(work)
    assert jobs.get("process_year") == 1  # check, align, fluxes, zonal totals of 2002
    for rule in ("check_static", "align_lithology", "build_regions", "build_demo"):
        assert rule not in jobs, jobs
    # run what the assertion needs (every year's pixels): the all-year jobs were planned above
    proc = _snakemake(
        work,
        *(k for k in sorted(before) if k.startswith("results/.work/pixels/")),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = _digests(work, "results/.work/pixels/**/*.tif")
    changed = {k for k in final if final[k] != before[k.replace(".work/", "")]}
    # runoff changes RCS, hence ECS, CNC = ECS - CE and its sign; CE does not depend on it
    assert changed == {
        f"results/.work/pixels/{v}/{v}_2002.tif" for v in ("rcs", "ecs", "cnc", "status")
    }
    # the deliverables stay those of the last complete run until rule publish runs
    assert _digests(work, "results/pixels/**/*.tif") == {
        k: v for k, v in before.items() if k.startswith("results/pixels/")
    }


# One target of each all-year stage: forcing these reruns each rule once (not the whole DAG).
# The per-year stages (alignment, fluxes, zonal totals) are checked for the same bytes from a
# second run in test_new_year_reruns_only_its_jobs_and_the_all_year_ones.
ONE_JOB_PER_RULE = [
    "results/.work/tables/budget_county.csv",  # budget
    "results/.work/tables/trends_county.csv",  # region_trends
    "results/.work/tables/spatial_county.csv",  # spatial_statistics
    "results/.work/gis/carbon_budget.gpkg",  # geopackage
    "results/.work/tables/scenarios_study_area.csv",  # scenario_projection
    "results/.work/tables/tier1_comparison_province.csv",  # tier1_emissions
]


def test_rerun_with_same_inputs_gives_identical_outputs(demo_run, tmp_path):
    """The all-year stages are deterministic: one job of each rerun (--force) on unchanged inputs
    writes byte-identical files (a whole-DAG --forceall took as long as the demo run)."""
    import shutil

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    patterns = (
        "results/.work/tables/*",
        "results/.work/pixels/**/*.tif",
        "results/.work/trends/*.tif",
        "results/.work/interim/**/*.tif",
        "results/.work/interim/**/*.parquet",
        "results/.work/interim/**/*.npz",
        "results/.work/gis/*.gpkg",
    )
    before = {}
    for pat in patterns:
        before |= _digests(work, pat)
    stamp = {t: (work / t).stat().st_mtime_ns for t in ONE_JOB_PER_RULE}
    proc = _snakemake(work, "--force", *ONE_JOB_PER_RULE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for t in ONE_JOB_PER_RULE:  # each was rewritten ...
        assert (work / t).stat().st_mtime_ns != stamp[t], t
    after = {}
    for pat in patterns:
        after |= _digests(work, pat)
    assert after == before  # ... with the same bytes


def test_the_workstation_profile_is_used_without_being_named(tmp_path):
    """profiles/default sits where Snakemake looks for a workflow profile (beside the Snakefile),
    so its settings (rerun-incomplete, the memory cap) apply to a plain ``snakemake`` run, also
    when it is started from another directory."""
    proc = subprocess.run(
        [snakemake_bin(), "-n", "--cores", "1", "-s", str(REPO / "Snakefile"), "-d", str(REPO)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"workflow specific profile {REPO / 'profiles/default'}" in proc.stdout + proc.stderr


def test_misspelt_config_key_fails_before_running(tmp_path):
    import yaml

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["runoff"]["unitz"] = "mm yr-1"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [snakemake_bin(), "-n", "--cores", "1", "--configfile", str(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "'unitz' was unexpected" in proc.stdout + proc.stderr


def test_a_users_configfile_replaces_the_demo_config(tmp_path):
    """--configfile is complete by itself: no demo section leaks in (here spatial.levels, which the
    demo restricts to county and city; the schema default is every level)."""
    import yaml

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    del cfg["spatial"], cfg["socioeconomic"]
    cfg["balance"]["cv"] = "none"
    cfg["outputs"]["dir"] = str(tmp_path / "out")
    user = tmp_path / "user.yaml"
    user.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = subprocess.run(
        [snakemake_bin(), "-n", "--cores", "1", "--configfile", str(user)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "out/.work/tables/moran_province.csv" in proc.stdout


def test_new_year_reruns_only_its_jobs_and_the_all_year_ones(demo_run, tmp_path):
    """Yearly update: with years: {discover: true}, dropping the next year's rasters into the
    input folders runs only that year's per-pixel and zonal jobs plus the jobs that combine all
    years; earlier years are not recomputed."""
    import shutil

    import yaml

    from carbonbudget.inputs.demo_files import demo_paths

    work = copy_workflow(tmp_path / "w")
    src_paths, mine = demo_paths(str(demo_run / "data/demo")), demo_paths(str(work / "data/mine"))

    def add_year(year):
        for key in ("temperature", "precipitation", "npp", "runoff"):
            dst = mine[key].format(year=year)
            (work / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src_paths[key].format(year=year), dst)

    for year in (2007, 2008, 2009):
        add_year(year)
    for key in ("lithology", "regions", "basins", "emissions", "socioeconomic", "population"):
        (work / mine[key]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src_paths[key], mine[key])
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["years"] = {"discover": True}
    del cfg["scenarios"], cfg["emissions_accounting"]  # not part of a yearly update
    cfg["climate"]["temperature"] = mine["temperature"]
    cfg["climate"]["precipitation"] = mine["precipitation"]
    cfg["npp"]["path"], cfg["runoff"]["path"] = mine["npp"], mine["runoff"]
    for key in ("lithology", "regions", "emissions", "socioeconomic"):
        cfg[key]["path"] = mine[key]
    cfg["emissions"]["downscale"]["weights"] = mine["population"]
    cfg["region_layers"]["basin"]["path"] = mine["basins"]
    (work / "mine.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))  # levels: finest first
    # the per-year chains of 2007-2009 (the all-year jobs would only be planned again below)
    zonal = [f"results/.work/interim/zonal/county_{y}.parquet" for y in (2007, 2008, 2009)]
    proc = _snakemake(work, *zonal, "--configfile", str(work / "mine.yaml"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    # same inputs in another place give the same bytes as the 10-year demo run
    for y in (2007, 2008, 2009):
        for rel in (
            f"results/.work/pixels/ecs/ecs_{y}.tif",
            f"results/.work/interim/zonal/county_{y}.parquet",
        ):
            assert (work / rel).read_bytes() == (demo_run / rel).read_bytes(), rel

    add_year(2010)
    jobs = _planned_jobs(work, "--configfile", str(work / "mine.yaml"))
    assert jobs.get("process_year") == 1, jobs  # check, align, fluxes, zonal totals of 2010
    for rule in ("check_static", "align_lithology", "build_regions", "build_demo"):
        assert rule not in jobs, (rule, jobs)
    assert jobs.get("budget") == 1 and jobs.get("pixel_trends") == 4
    assert jobs.get("grid_budget") == 1  # every year's CE on the grid: one job
    assert jobs.get("spatial_statistics") == 1 and jobs.get("plot_spatial_maps") == 2


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


def _published(work):
    """Digests of everything a user sees in results/ (not the working tree, not the logs)."""
    import hashlib

    root = work / "results"
    return {
        p.relative_to(work).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.relative_to(root).parts[0] not in (".work", "logs")
        and p.name not in (".carbonbudget.lock", ".published.json")
    }


def _wait_for(predicate, timeout=300.0, proc=None):
    import time

    t0 = time.monotonic()
    while not predicate():
        if proc is not None and proc.poll() is not None:
            return False
        if time.monotonic() - t0 > timeout:
            return False
        time.sleep(0.005)
    return True


def test_a_rerun_killed_mid_write_keeps_the_last_results(demo_run, tmp_path):
    """Issue 15.8: after a complete run, change one year's runoff and kill the rerun while that
    year's fluxes are being written: every published file is still there with the same bytes;
    the next run clears the leftovers, takes over the dead run's lock and completes."""
    import os
    import shutil
    import signal

    import rasterio

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    before = _published(work)
    assert len(before) > 100
    with rasterio.open(work / "data/demo/runoff/runoff_2002.tif", "r+") as ds:
        ds.write(ds.read() * 1.02)
    pixels = work / "results/.work/pixels"
    proc = subprocess.Popen(
        [snakemake_bin(), "--cores", "2", "--directory", str(work), "-s", str(work / "Snakefile")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        writing = _wait_for(lambda: any(pixels.rglob(".*_2002.*.blocks.tif")), proc=proc)
        assert writing, "the rerun ended before process_year 2002 wrote a flux block"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _published(work) == before  # nothing lost, nothing half-new
    assert (work / "results/.carbonbudget.lock").exists()  # the killed run's lock

    # Snakemake's own lock of the working directory outlives a kill -9: it says so and asks for
    # --unlock once (documented in the README); ours on the results folder is taken over
    assert _snakemake(work).returncode != 0
    assert _snakemake(work, "--unlock").returncode == 0
    proc = _snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no longer running" in proc.stderr  # the stale lock was taken over
    assert not (work / "results/.carbonbudget.lock").exists()
    leftovers = [
        p
        for pat in (".*.partial*", ".*.blocks.tif", ".*.publish-*")
        for p in (work / "results").rglob(pat)
    ]
    assert not leftovers, leftovers
    after = _published(work)
    assert set(after) == set(before)
    changed = {k for k in after if after[k] != before[k]}
    assert {"results/pixels/rcs/rcs_2002.tif", "results/pixels/ecs/ecs_2002.tif"} <= changed
    assert not {k for k in changed if k.startswith("results/pixels/")} - {
        "results/pixels/rcs/rcs_2002.tif",
        "results/pixels/ecs/ecs_2002.tif",
        "results/pixels/cnc/cnc_2002.tif",  # CNC = ECS - CE
        "results/pixels/status/status_2002.tif",  # its sign
    }


def test_a_second_run_on_the_same_results_refuses_to_start(demo_run, tmp_path):
    """Issue 15.9: a second snakemake from another working directory, writing into the same
    outputs.dir while a first run is going, stops at once and names the running one."""
    import shutil

    import rasterio
    import yaml

    first = tmp_path / "first"
    shutil.copytree(demo_run, first, symlinks=True)
    with rasterio.open(first / "data/demo/runoff/runoff_2003.tif", "r+") as ds:
        ds.write(ds.read() * 1.01)
    second = copy_workflow(tmp_path / "second")
    (second / "data").symlink_to(first / "data")
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["outputs"]["dir"] = str(first / "results")
    (second / "same_results.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    lock = first / "results/.carbonbudget.lock"
    proc = subprocess.Popen(
        [
            snakemake_bin(),
            "--cores",
            "2",
            "--directory",
            str(first),
            "-s",
            str(first / "Snakefile"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert _wait_for(lock.exists, proc=proc), "the first run never took the lock"
    other = _snakemake(second, "--configfile", str(second / "same_results.yaml"))
    assert other.returncode != 0
    msg = other.stdout + other.stderr
    assert "is being written by another run" in msg and f"pid {proc.pid}" in msg, msg[-3000:]
    assert f"rm {lock}" in msg
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    assert not lock.exists()


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


def test_a_finished_run_ends_by_saying_what_it_made(demo_run):
    """The last lines of the demo run name the outputs and the study area's last year, with the
    numbers of the published table."""
    import pandas as pd

    seen = (demo_run / "run.log").read_text().splitlines()
    start = max(i for i, line in enumerate(seen) if "carbonbudget: finished" in line)
    tail = "\n".join(seen[start:])
    assert (
        "results/gis/carbon_budget.gpkg" in tail and "results/figures/maps/cnc_county.png" in tail
    )
    study = pd.read_csv(demo_run / "results/tables/budget_study_area.csv").iloc[-1]
    assert f"study area {int(study['year'])}: ECS {study['ecs_tgco2']:,.2f} Tg CO2 yr-1" in tail
    assert f"CNC {study['cnc_tgco2']:,.2f} Tg CO2 yr-1 ({study['status']})" in tail
    assert len(seen) - start < 20  # at the end, not buried


def test_make_check_reports_every_bad_input_and_computes_nothing(demo_run, tmp_path):
    """`make check` (rule check_inputs) runs every check and lists every failure in one block;
    no per-year job runs. Fixed inputs pass."""
    import shutil

    import rasterio

    work = tmp_path / "w"
    shutil.copytree(demo_run, work, symlinks=True)
    npp = work / "data/demo/npp/npp_2004.tif"
    good_npp = npp.read_bytes()
    npp.write_bytes(good_npp[: len(good_npp) // 4])
    prcp = work / "data/demo/climate/prcp_2007.tif"
    with rasterio.open(prcp, "r+") as ds:
        bad = ds.read()
        bad[0, 10, 10] = -500.0
        ds.write(bad)
    proc = _snakemake(work, "check_inputs", "--forcerun", "check_inputs")
    seen = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "2 problems to fix" in seen and "(1 of 2)" in seen and "(2 of 2)" in seen, seen[-3000:]
    assert "npp_2004.tif" in seen and "prcp_2007.tif" in seen and "Traceback" not in seen
    assert "process_year" not in seen and "carbonbudget: finished" not in seen
    npp.write_bytes(good_npp)
    with rasterio.open(prcp, "r+") as ds:
        bad[0, 10, 10] = 50.0
        ds.write(bad)
    proc = _snakemake(work, "check_inputs", "--forcerun", "check_inputs")
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_the_report_builds_from_the_run_and_renders_in_a_browser(demo_run, tmp_path):
    """`snakemake --report` works after a plain install (pygments is a dependency), says what
    this run computed, carries the headline tables and quick looks, and renders in Chromium
    (its React app fills the page)."""
    import shutil

    out = tmp_path / "report.html"
    proc = _snakemake(demo_run, "--report", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    raw = out.read_text()
    assert "Computed per pixel: heterotrophic respiration (RH)" in raw
    assert "(RCS, GEM-CO2) only" not in raw
    for item in ("budget_study_area.html", "extremes_county.html", "emission_model_skill.html"):
        assert item in raw
    for item in (
        "pixel_ecs.png",
        "pixel_nep.png",
        "pixel_rcs.png",
        "pixel_cnc.png",
        "trend_ecs.png",
    ):
        assert item in raw
    assert "spread over its pixels by data/demo/population/population_density.tif" in raw
    chromium = next(
        (
            shutil.which(b)
            for b in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(b)
        ),
        None,
    )
    if chromium is None:
        pytest.skip(
            "no Chromium on this machine (apt install chromium): the report was built "
            "and its contents checked, but not rendered"
        )
    dom = subprocess.run(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu"]
        + ["--virtual-time-budget=15000", "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    app = dom.split('<div id="app">', 1)[1].split("<script", 1)[0]
    assert "1. Headlines" in app and "2. Per-pixel quick looks" in app and "Maps" in app


def test_outputs_name_their_crs(demo_run):
    """The demo grid (an Albers PROJ string with no EPSG twin) reaches QGIS under a name that
    says what it is, in the COGs and in the GeoPackage's spatial reference table."""
    import sqlite3

    expected = "Albers Equal Area (lat_1 25, lat_2 47, lat_0 0, lon_0 105) on WGS 84 ellipsoid"
    with rasterio.open(demo_run / "results/pixels/ecs/ecs_2005.tif") as src:
        assert src.crs.to_wkt().startswith(f'PROJCS["{expected}"')
    con = sqlite3.connect(demo_run / "results/gis/carbon_budget.gpkg")
    try:
        used = con.execute(
            "SELECT DISTINCT s.srs_name FROM gpkg_geometry_columns g "
            "JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id"
        ).fetchall()
    finally:
        con.close()
    assert used == [(expected,)]


def _qgis_python():
    """A Python that can import QGIS (Debian's python3-qgis), or None."""
    import shutil

    for exe in ("/usr/bin/python3", shutil.which("python3")):
        if (
            exe
            and subprocess.run([exe, "-c", "import qgis.core"], capture_output=True).returncode == 0
        ):
            return exe
    return None


def test_the_geopackage_opens_styled_in_qgis(demo_run):
    """QGIS itself (headless, where python3-qgis is installed) opens the county layer with the
    GeoPackage's default style: CNC density in classes that meet at 0, the named CRS, and the
    column titles as aliases."""
    import json

    exe = _qgis_python()
    if exe is None:
        pytest.skip("QGIS's Python bindings are not installed (apt install python3-qgis)")
    proc = subprocess.run(
        [
            exe,
            str(REPO / "tests/qgis/open_styled.py"),
            str(demo_run / "results/gis/carbon_budget.gpkg"),
            "county",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["valid"] and seen["renderer"] == "graduatedSymbol"
    assert seen["attribute"] == "cnc_flux_tco2_km2_mean"
    bounds = seen["lower_bounds"]
    assert bounds[0] < 0 and 0.0 in bounds and seen["classes"] >= 4
    assert seen["crs"].startswith("Albers Equal Area (lat_1 25, lat_2 47")
    assert seen["aliases"]["ce_tgco2_mean"] == "carbon emissions, mean (Tg CO2 yr-1)"
    assert seen["aliases"]["cnc_flux_tco2_km2_mean"] == "CNC per unit area, mean (t CO2 km-2 yr-1)"


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


def test_a_gridded_inventory_instead_of_a_table(demo_run, tmp_path):
    """emissions.source: raster: a 0.05° inventory in kg CO2 m-2 s-1 (as EDGAR) of a density
    uniform in space, growing each year. Put on the grid and summed per county, each county's CE
    is that density times its area (hand-computed), every level above sums it, and the CE and
    CNC rasters sum back to the budget: the downstream stages run unchanged."""
    import shutil

    import yaml
    from rasterio.transform import from_origin

    from carbonbudget.regions.zonal import load_coverage

    work = copy_workflow(tmp_path / "w")
    shutil.copytree(demo_run / "data", work / "data")
    (work / "inventory").mkdir()
    years = [2008, 2009, 2010]
    flux = {y: 1e-8 * (1 + 0.1 * (y - 2008)) for y in years}  # kg CO2 m-2 s-1
    for y in years:
        with rasterio.open(
            work / f"inventory/co2_{y}.tif",
            "w",
            driver="GTiff",
            width=100,
            height=100,
            count=1,
            dtype="float64",
            crs="EPSG:4326",
            transform=from_origin(106.0, 31.0, 0.05, 0.05),
        ) as ds:
            ds.write(np.full((1, 100, 100), flux[y]))
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["years"] = years
    del cfg["scenarios"], cfg["emissions_accounting"]
    cfg["emissions"] = {
        "source": "raster",
        "path": "inventory/co2_{year}.tif",
        "units": "kg CO2 m-2 s-1",
    }
    cfg["trends"]["variables"] = ["ecs", "ce", "cnc"]
    cfg["spatial"] = {"levels": []}  # not what this test is about: spare the permutations
    cfg["outputs"]["dir"] = "out"
    (work / "inv.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = run_snakemake(work, "--configfile", str(work / "inv.yaml"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    res = work / "out"
    report = pd.read_csv(res / "tables/emission_inventory_county.csv")
    grid = Grid.from_config(cfg)
    grid_km2 = grid.row_areas_m2().sum() * grid.width / 1e6
    for y in years:
        days = 366 if y == 2008 else 365  # kg s-1 over the seconds of that year
        density = flux[y] * 1e3 * days * 86400  # t CO2 km-2 yr-1
        row = report[report["year"] == y].iloc[0]
        assert row["grid_total_tgco2"] == pytest.approx(density * grid_km2 / 1e6, rel=1e-6)
        assert row["relative_difference"] <= 1e-6  # the inventory inside the grid, before
        assert row["cells_without_value"] == 0
        budget = pd.read_parquet(res / "tables/budget_county.parquet")
        b = budget[budget["year"] == y]
        np.testing.assert_allclose(b["ce_tgco2"], density * b["area_km2"] / 1e6, rtol=1e-6)
        assert row["regions_total_tgco2"] == pytest.approx(b["ce_tgco2"].sum(), rel=1e-9)
    province = pd.read_parquet(res / "tables/budget_province.parquet")
    county = pd.read_parquet(res / "tables/budget_county.parquet")
    np.testing.assert_allclose(
        province.groupby("year")["ce_tgco2"].sum(),
        county.groupby("year")["ce_tgco2"].sum(),
        rtol=1e-12,
    )
    codes, cov = load_coverage(str(res / ".work/interim/regions/coverage_county.npz"), grid)
    area = np.repeat(grid.row_areas_m2() / 1e6, grid.width)
    table = county[county["year"] == 2010].set_index("code").reindex(codes)
    for var in ("ce", "cnc"):
        with rasterio.open(res / f"pixels/{var}/{var}_2010.tif") as r:
            assert r.tags(1)["units"] == "t CO2 km-2 yr-1"
            x = r.read(1).astype("float64").ravel()
        summed = cov @ (area * np.nan_to_num(x)) / 1e6
        # CNC per pixel is unknown where ECS is (the lake: no NPP), while the inventory puts
        # CE there too: the sums agree where ECS covers the county (docs/method.md)
        whole = (table["valid_fraction"] == 1.0).to_numpy() if var == "cnc" else slice(None)
        assert var == "ce" or 25 <= whole.sum() < len(codes)
        np.testing.assert_allclose(summed[whole], table[f"{var}_tgco2"][whole], rtol=2e-7)
    # CE grows by 10 % of the 2008 flux a year everywhere: its OLS slope is known by hand
    with rasterio.open(res / "trends/ce_slope.tif") as r:
        assert r.tags(1)["units"] == "t CO2 km-2 yr-2"
        slope = r.read(1)
    d = {y: flux[y] * 1e3 * (366 if y == 2008 else 365) * 86400 for y in years}
    expected = np.polyfit(years, [d[y] for y in years], 1)[0]
    np.testing.assert_allclose(slope[np.isfinite(slope)], expected, rtol=1e-5)
    assert (res / "trends/cnc_slope.tif").exists()
    assert (res / "pixels/status/status_2010.tif").exists()


def test_per_pixel_rules_on_a_dask_cluster_started_from_the_command_line(demo_run, tmp_path):
    """A cluster user's setup: `dask scheduler` and two `dask worker` processes started from the
    command line, dask.address pointing at the scheduler; the per-year rules give the same bytes
    as the threaded run of the demo."""
    import json
    import shutil
    import time

    import yaml

    dask_cli = Path(sys.executable).with_name("dask")
    if not dask_cli.exists():
        pytest.skip("the dask command line (distributed) is not installed")
    work = copy_workflow(tmp_path / "w")
    shutil.copytree(demo_run / "data", work / "data")
    info = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [
                str(dask_cli),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(info),
                *common,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.time() + 60
        while not info.exists() and time.time() < deadline:
            time.sleep(0.2)
        procs += [
            subprocess.Popen(
                [
                    str(dask_cli),
                    "worker",
                    "--scheduler-file",
                    str(info),
                    "--nthreads",
                    "1",
                    "--memory-limit",
                    "2GB",
                    *common,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=work,
            )
            for _ in range(2)
        ]
        address = json.loads(info.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
        cfg["dask"] = {"scheduler": "distributed", "address": address}
        (work / "cluster.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        targets = [
            f"results/.work/pixels/{v}/{v}_{y}.tif" for v in ("nep", "ecs") for y in (2001, 2002)
        ]
        proc = run_snakemake(work, *targets, "--configfile", str(work / "cluster.yaml"))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    log = (work / "results/logs/process_year/2001.log").read_text()
    assert f"dask: connected to {address} (2 workers)" in log
    for rel in targets:
        assert (work / rel).read_bytes() == (demo_run / rel).read_bytes(), rel


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
