"""The config schema: defaults, refusals of misspelt keys and wrong types."""

import copy

import pytest
import yaml
from helpers import REPO

from carbonbudget.core.config import validate_config
from carbonbudget.core.errors import ConfigError


@pytest.fixture
def cfg():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_default_config_valid_and_defaults_filled(cfg):
    del cfg["processing"], cfg["trends"]
    out = validate_config(cfg)
    assert out["processing"] == {
        "chunk_size": 512,
        "gdal_cachemax_mb": 256,
        "huge_pages": False,
        "job_server": True,
        "coverage_cache": "cache/coverage",
        "job_blocks": False,
    }
    assert out["trends"]["min_valid_years"] == 3
    assert out["regions"]["derive_parents"] == "none"
    assert out["years"] == list(range(2001, 2011))


@pytest.mark.parametrize(
    "path,key", [((), "grdi"), (("npp",), "scael"), (("balance",), "tolerance")]
)
def test_misspelt_key_fails(cfg, path, key):
    bad = copy.deepcopy(cfg)
    sec = bad
    for p in path:
        sec = sec[p]
    sec[key] = 1
    with pytest.raises(ConfigError, match=f"'{key}' was unexpected"):
        validate_config(bad)


def test_wrong_types_and_missing_sections(cfg):
    _refused(cfg, lambda c: c["grid"].update(resolution=-5), "grid/resolution")
    _refused(cfg, lambda c: c.pop("emissions"), "emissions")
    _refused(cfg, lambda c: c["climate"].update(timestep="daily"), "timestep")


def _discover_in(cfg, folder, climate_suffix):
    """Point every per-year input of ``cfg`` at ``folder`` and ask for discovery."""
    cfg["years"] = {"discover": True}
    cfg["climate"]["temperature"] = str(folder / f"t_{climate_suffix}.tif")
    cfg["climate"]["precipitation"] = str(folder / f"p_{climate_suffix}.tif")
    cfg["npp"]["path"] = str(folder / "n_{year}.tif")
    cfg["runoff"]["path"] = str(folder / "r_{year}.tif")
    return cfg


def test_discover_years(cfg, tmp_path):
    for var in ("t", "p", "n", "r"):
        for y in (2003, 2004, 2005):
            if var == "r" and y == 2005:
                continue
            (tmp_path / f"{var}_{y}.tif").write_bytes(b"")
    assert validate_config(_discover_in(cfg, tmp_path, "{year}"))["years"] == [2003, 2004]


def test_real_products_example_is_valid():
    cfg = yaml.safe_load((REPO / "config/examples/real_products.yaml").read_text())
    cfg["years"] = [2001]  # discovery needs the files; the rest must validate as is
    out = validate_config(cfg)
    assert out["npp"]["valid_range"] == [0, 32700]
    assert out["regions"]["derive_parents"] == "adcode"


def test_discover_reports_incomplete_years(cfg, tmp_path, caplog):
    import logging

    for y in (2003, 2004):
        for m in range(1, 13):
            if y == 2004 and m == 7:
                continue  # one month missing in 2004
            (tmp_path / f"t_{y}{m:02d}.tif").write_bytes(b"")
            (tmp_path / f"p_{y}{m:02d}.tif").write_bytes(b"")
        (tmp_path / f"n_{y}.tif").write_bytes(b"")
        (tmp_path / f"r_{y}.tif").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        assert validate_config(_discover_in(cfg, tmp_path, "{year}{month}"))["years"] == [2003]
    assert "2004 (missing climate.precipitation, climate.temperature)" in caplog.text


def test_rcs_only_run_without_npp_and_climate(cfg):
    """No npp and no climate: RCS and emissions only; stage defaults follow, skipped stages are
    named with the reason, and requests the inputs cannot support are refused."""
    from carbonbudget.core.config import computed_fluxes, skipped_stages

    assert computed_fluxes(validate_config(cfg)) == ("rh", "nep", "rcs", "ecs")
    assert skipped_stages(validate_config(cfg)) == {}
    rcs = copy.deepcopy(cfg)
    # the demo's uncertainty model is of ECS and CNC (tested in test_uncertainty.py)
    del rcs["npp"], rcs["climate"], rcs["trends"], rcs["spatial"], rcs["uncertainty"]
    with pytest.raises(ConfigError, match="scenario sinks need the observed ECS"):
        validate_config(rcs)
    del rcs["scenarios"]
    out = validate_config(rcs)
    assert computed_fluxes(out) == ("rcs",)
    assert out["trends"]["variables"] == ["rcs"] and out["spatial"]["variables"] == ["ce_tgco2"]
    skipped = skipped_stages(out)
    assert any("NEP = NPP - RH" in why for why in skipped.values())
    assert any("CNC" in stage for stage in skipped)
    half = copy.deepcopy(cfg)
    del half["npp"]
    with pytest.raises(ConfigError, match="'climate' is given without 'npp'"):
        validate_config(half)
    bad = copy.deepcopy(rcs)
    bad["spatial"] = {"variables": ["cnc_tgco2"]}
    with pytest.raises(ConfigError, match="need ECS"):
        validate_config(bad)
    bad = copy.deepcopy(rcs)
    bad["trends"] = {"variables": ["nep"]}
    with pytest.raises(ConfigError, match="not computed in this run"):
        validate_config(bad)
    bad = copy.deepcopy(rcs)
    bad["runoff"] = {"source": "water_balance", "et": "et_{year}.tif"}
    with pytest.raises(ConfigError, match="water_balance needs climate"):
        validate_config(bad)


def test_china_real_example_is_valid():
    from carbonbudget.core.config import computed_fluxes

    ex = yaml.safe_load((REPO / "config/examples/china_real.yaml").read_text())
    out = validate_config(ex)
    assert computed_fluxes(out) == ("rcs",)
    assert out["years"] == list(range(1997, 2018))
    assert out["emissions"]["crosswalk"]["code_col"] == "Code"


def _refused(cfg, mutate, match):
    """``mutate`` a copy of ``cfg``; validation must fail with a message matching ``match``."""
    bad = copy.deepcopy(cfg)
    mutate(bad)
    with pytest.raises(ConfigError, match=match):
        validate_config(bad)


def test_scenario_and_accounting_sections(cfg):
    out = validate_config(cfg)
    assert out["emissions_accounting"]["fuel_col"] == "fuel"
    assert out["scenarios"]["holdout"] == 3 and out["scenarios"]["npp"]["scale"] == 1.0
    _refused(
        cfg,
        lambda c: c["scenarios"].pop("runoff"),
        "needs scenario rasters for climate, npp and runoff",
    )
    _refused(cfg, lambda c: c["scenarios"].update(level="district"), "scenarios.level: 'district'")
    _refused(
        cfg,
        lambda c: c["emissions_accounting"].update(level="nation"),
        "emissions_accounting.level: 'nation'",
    )
    _refused(cfg, lambda c: c["scenarios"].update(names=["A 2"]), "scenarios/names/0")


def test_trend_outputs_skipped_with_too_few_years(cfg):
    from carbonbudget.core.config import enough_years_for_trends, skipped_stages

    cfg["years"] = [2001, 2002]
    out = validate_config(cfg)
    assert not enough_years_for_trends(out)
    ((stage, why),) = skipped_stages(out).items()
    assert "trend" in stage and "2 year(s) < trends.min_valid_years = 3" in why
    cfg["years"] = [2001, 2002, 2003]
    assert enough_years_for_trends(validate_config(cfg))
    assert skipped_stages(validate_config(cfg)) == {}


def test_grid_emissions_need_a_weight_raster_and_cnc_needs_ecs(cfg):
    from carbonbudget.core.config import downscale_weights, grid_emission_vars
    from carbonbudget.pipeline.paths import raw_inputs

    assert grid_emission_vars(validate_config(cfg)) == ("ce", "cnc")
    assert downscale_weights(validate_config(cfg)) == {
        "climatology": "data/demo/population/population_density.tif"
    }
    assert "data/demo/population/population_density.tif" in raw_inputs(validate_config(cfg))
    yearly = copy.deepcopy(cfg)
    yearly["emissions"]["downscale"]["weights"] = "pop/pop_{year}.tif"
    assert downscale_weights(validate_config(yearly))["2005"] == "pop/pop_2005.tif"
    without = copy.deepcopy(cfg)
    del without["emissions"]["downscale"]
    with pytest.raises(ConfigError, match="ce and cnc need emissions on the grid"):
        validate_config(without)  # the demo asks for CNC trend rasters
    without["trends"]["variables"] = ["nep"]
    assert grid_emission_vars(validate_config(without)) == ()


def test_a_gridded_inventory_becomes_the_emission_table_the_stages_read(cfg):
    from carbonbudget.core.config import grid_emission_vars, inventory_files
    from carbonbudget.pipeline.paths import raw_inputs

    inv = copy.deepcopy(cfg)
    del inv["emissions"]["downscale"]
    inv["emissions"] = {
        "source": "raster",
        "path": "edgar/co2_{year}.nc",
        "units": "kg CO2 m-2 s-1",
    }
    v = validate_config(inv)
    assert v["emissions_raster"]["units"] == "kg CO2 m-2 s-1"
    assert v["emissions"]["path"] == "results/.work/interim/emissions/ce_from_grid.csv"
    assert v["emissions"]["units"] == "Tg CO2" and grid_emission_vars(v) == ("ce", "cnc")
    assert inventory_files(v)[2003] == ("edgar/co2_2003.nc", 1)
    files = raw_inputs(v)
    assert "edgar/co2_2010.nc" in files and v["emissions"]["path"] not in files
    stack = copy.deepcopy(inv)
    stack["emissions"].update(path="odiac.tif", first_year=2000)
    assert inventory_files(validate_config(stack))[2003] == ("odiac.tif", 4)
    del stack["emissions"]["first_year"]
    with pytest.raises(ConfigError, match="first_year"):
        validate_config(stack)
    both = copy.deepcopy(inv)
    both["emissions"]["downscale"] = {"weights": "pop.tif"}
    with pytest.raises(ConfigError, match="remove downscale"):
        validate_config(both)
    wrong = copy.deepcopy(inv)
    wrong["emissions"]["units"] = "Mt CO2"  # a table's unit
    with pytest.raises(ConfigError, match="emissions/units"):
        validate_config(wrong)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "the config file is empty"),
        ("# only a comment\n", "the config file is empty"),
        ("- grid\n- years\n", "the top level is a list, not a mapping of keys"),
        ("grid: [1, 2\n", "not valid YAML"),
    ],
)
def test_a_config_file_snakemake_cannot_read_is_named(tmp_path, text, problem):
    """Snakemake's error for these names no file; the check the Makefile runs first does."""
    from carbonbudget.core.config import check_config_file
    from carbonbudget.core.errors import InputDataError

    path = tmp_path / "my.yaml"
    path.write_text(text)
    with pytest.raises(InputDataError, match=problem) as exc:
        check_config_file(str(path))
    assert exc.value.path == str(path) and "top level" in exc.value.fix


def test_make_run_and_check_read_a_config_of_ones_own_first(tmp_path):
    import os
    import subprocess
    import sys

    bad = tmp_path / "my.yaml"
    bad.write_text("typo_section: 1\n")
    # as a user types it, not as a sub-make of `make test` (which would print directories)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    for target in ("run", "check"):
        plan = subprocess.run(
            ["make", "--no-print-directory", "-n", target, f"CONFIG={bad}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        line = next(x for x in plan.splitlines() if "carbonbudget.core.config" in x)
        first, _, then = line.partition(" && ")
        assert first.endswith(f"-m carbonbudget.core.config {bad}"), plan
        assert then.endswith(f"--configfile {bad}"), plan
    proc = subprocess.run(
        [sys.executable, "-m", "carbonbudget.core.config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and f"{bad}:" in proc.stderr and "typo_section" in proc.stderr


def test_jobs_computing_the_grid_by_chunks_take_a_second_thread_only_on_a_large_grid():
    """The demo's grid (320 x 240 pixels) is one chunk of 512: its trend and gridded-emission
    jobs take one core and leave the other to the jobs beside them; a second thread needs a
    second chunk and 2 x 2**20 pixels (the China example's 484 x 553 grid, two chunks, takes
    one); a grid from a template raster (size unknown before the run) takes two."""
    from carbonbudget.pipeline.paths import PIXELS_PER_THREAD, block_threads

    assert PIXELS_PER_THREAD == 2**20
    grid = {"crs": "EPSG:6933", "resolution": 1000.0, "bounds": [0, 0, 320_000, 240_000]}
    cfg = {"grid": grid, "processing": {"chunk_size": 512}}

    def threads(bounds, chunk=512, most=2):
        return block_threads(
            {"grid": {**grid, "bounds": bounds}, "processing": {"chunk_size": chunk}}, most
        )

    assert block_threads(cfg) == 1
    assert block_threads({**cfg, "processing": {"chunk_size": 128}}) == 1  # 6 chunks, 76,800 px
    assert threads([0, 0, 512_000, 512_000]) == 1  # one chunk
    assert threads([0, 0, 484_000, 553_000]) == 1  # two chunks, 267,652 pixels
    assert threads([0, 0, 2_048_000, 1_023_000]) == 1  # 8 chunks, 1 px short of 2 x 2**20
    assert threads([0, 0, 2_048_000, 1_024_000]) == 2  # 8 chunks, 2 x 2**20 pixels
    assert threads([0, 0, 2_048_000, 1_024_000], chunk=4096) == 1  # one chunk
    assert threads([0, 0, 2_049_000, 1_024_000], chunk=2048) == 2  # two chunks
    assert threads([0, 0, 5_000_000, 4_000_000], most=8) == 8  # the country: 80 chunks
    assert threads([0, 0, 2_048_000, 1_024_000], most=8) == 2
    assert threads([0, 0, 2_047_000, 1_024_000]) == 1  # 2,047 columns
    assert block_threads({**cfg, "grid": {"template": "grid.tif"}}) == 2


def test_only_a_local_runs_main_process_gives_its_cores_to_the_trend_jobs():
    """local_cores: Snakemake's --cores in the main process of a local run; None on a cluster
    (the trend jobs then take block_threads) and inside a cluster's job."""
    from types import SimpleNamespace

    from carbonbudget.pipeline.paths import local_cores

    def workflow(local, main, cores=8):
        return SimpleNamespace(
            local_exec=local, is_main_process=main, resource_settings=SimpleNamespace(cores=cores)
        )

    assert local_cores(workflow(True, True)) == 8
    assert local_cores(workflow(True, True, cores=2)) == 2
    assert local_cores(workflow(False, True)) is None  # SLURM: the run's submitting process
    assert local_cores(workflow(True, False)) is None  # a job of a cluster run
    assert local_cores(workflow(False, False)) is None


def test_the_jobs_reading_every_year_share_a_local_runs_cores(cfg):
    """pixel_trends (one job per trend variable) and rh_attribution become ready together: on
    a local run each takes its share of the cores, between one and block_threads; a cluster
    run (no local cores) gives each block_threads; a one-chunk grid, one."""
    from carbonbudget.pipeline.paths import block_threads, rh_split_years, trend_threads

    demo = validate_config(cfg)
    bounds = [0.0, 0.0, 2_048_000.0, 1_024_000.0]  # 2 x 2**20 pixels of 1 km, 8 chunks of 512
    large = validate_config({**cfg, "grid": {**cfg["grid"], "bounds": bounds}})
    jobs = len(large["trends"]["variables"]) + len(rh_split_years(large)) // 2
    assert jobs == 5 and block_threads(large) == 2  # nep, rcs, ecs, cnc and the RH split
    assert [trend_threads(large, c) for c in (1, 2, 4, 9, 10, 64)] == [1, 1, 1, 1, 2, 2]
    assert trend_threads(large, None) == 2
    assert trend_threads(demo, 64) == trend_threads(demo, None) == 1
    one = {**large, "trends": {**large["trends"], "variables": ["rcs"]}, "climate": None}
    assert rh_split_years(one) == [] and trend_threads(one, 2) == 2
