"""emission_compare: a second emission source (a table or a gridded inventory) set against the
emission table region by region and year by year, summed up the hierarchy the same way."""

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import REPO, copy_workflow, planned_jobs

from carbonbudget.core.config import validate_config
from carbonbudget.core.errors import ConfigError


def _demo_config():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def _regions_and_match(demo_run, cfg):
    from carbonbudget.core.config import grouping_levels
    from carbonbudget.regions.budget import EmissionMatch, RegionTree
    from carbonbudget.regions.hierarchy import config_derive_parents, read_finest_table

    regions = RegionTree(
        read_finest_table(str(demo_run / "results/.work/interim/regions/regions.gpkg")),
        list(cfg["regions"]["levels"]),
        grouping_levels(cfg["regions"]),
    )
    return regions, EmissionMatch(derive_parents=config_derive_parents(cfg["regions"]))


def _budgets(demo_run, levels):
    return {lv: pd.read_parquet(demo_run / f"results/tables/budget_{lv}.parquet") for lv in levels}


@pytest.mark.workflow
def test_a_second_table_with_known_differences(demo_run, tmp_path):
    """The demo's county table with one county doubled and one 10 % lower in 2005: those rows
    differ by exactly that, their city and province by the same amounts, the rest by nothing;
    the year's row 'all' gives the mean absolute relative difference over the regions."""
    from carbonbudget.regions.compare import compare_sources

    cfg = validate_config(_demo_config())
    table = pd.read_csv(demo_run / "data/demo/emissions/county_co2.csv", dtype={"county_code": str})
    codes = sorted(table["county_code"].unique())
    doubled, lower = codes[0], codes[5]
    in_2005 = table["year"] == 2005
    table.loc[in_2005 & (table["county_code"] == doubled), "co2_mt"] *= 2.0
    table.loc[in_2005 & (table["county_code"] == lower), "co2_mt"] *= 0.9
    path = tmp_path / "second.csv"
    table.to_csv(path, index=False)
    raw = _demo_config()
    section = {k: v for k, v in raw["emissions"].items() if k != "downscale"}
    section |= {"name": "Second", "path": str(path)}
    compare = validate_config({**raw, "emission_compare": section})["emission_compare"]
    regions, match = _regions_and_match(demo_run, cfg)
    levels = ["county", "province", "study_area"]
    out = compare_sources(_budgets(demo_run, levels), compare, regions, match)
    county = out["county"][out["county"]["code"] != "all"].set_index(["code", "year"])
    ce = county["ce_tgco2"]
    assert county.loc[(doubled, 2005), "rel_diff"] == pytest.approx(1.0)
    assert county.loc[(lower, 2005), "rel_diff"] == pytest.approx(-0.1)
    assert county.loc[(doubled, 2005), "abs_diff_tgco2"] == pytest.approx(ce[(doubled, 2005)])
    others = county.drop([(doubled, 2005), (lower, 2005)])
    assert np.allclose(others["abs_diff_tgco2"], 0.0, atol=1e-12)
    expected = ce[(doubled, 2005)] - 0.1 * ce[(lower, 2005)]
    study = out["study_area"].set_index("year")
    assert study.loc[2005, "abs_diff_tgco2"] == pytest.approx(expected)
    assert set(out["study_area"]["code"]) == {"all"} and "n_regions" not in out["study_area"]
    # like for like: the counties with both sources, as the county table's row 'all'
    assert set(out["study_area"]["name"]) == {
        f"study area (the {len(codes)} county regions with both)"
    }
    assert (out["county"]["ce_known_area_fraction"].dropna() == 1.0).all()
    summary = out["county"][out["county"]["code"] == "all"].set_index("year")
    assert summary.loc[2005, "mean_abs_rel_diff"] == pytest.approx(1.1 / len(codes))
    assert summary.loc[2005, "n_regions"] == len(codes)
    assert (out["province"]["source"] == "Second").all()
    provinces = out["province"][out["province"]["code"] != "all"]
    assert provinces["name"].notna().all()
    # the map's value: a ratio of the period's sums, not a mean of yearly ratios
    from carbonbudget.outputs import maps as plots
    from carbonbudget.outputs.series import plot_sources

    period = plots.period_differences(out["county"])
    sums = ce.groupby(level="code").sum()
    assert period.loc[doubled, "rel_diff"] == pytest.approx(ce[(doubled, 2005)] / sums[doubled])
    assert period.loc[codes[1], "rel_diff"] == pytest.approx(0.0, abs=1e-12)
    assert (period["years"] == len(set(county.index.get_level_values("year")))).all()
    png = plot_sources(out["province"], str(tmp_path / "sources.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.workflow
def test_a_gridded_source_made_from_the_demos_own_ce_reproduces_the_table(demo_run):
    """The demo's CE on the grid (downscaled by population, mass kept per county) read back as
    a gridded inventory: summed per county it gives the table's CE to the float32 rounding of
    the rasters, and every relative difference is 0 to 1e-6."""
    from carbonbudget.core.grid import Grid
    from carbonbudget.inputs.inventory import inventory_years
    from carbonbudget.regions.compare import compare_sources
    from carbonbudget.regions.zonal import load_coverage

    cfg = validate_config(_demo_config())
    years = cfg["years"]
    work = demo_run / "results/.work"
    grid = Grid.from_config(cfg["grid"])
    files = {y: (str(demo_run / f"results/pixels/ce/ce_{y}.tif"), 1) for y in years}
    coverage = load_coverage(str(work / "interim/regions/coverage_county.npz"), grid)
    rows = [
        table
        for _, _, _, table, _ in inventory_years(
            files, {"units": "t CO2 km-2 yr-1"}, grid, coverage
        )
    ]
    table = pd.concat(rows, ignore_index=True)
    table.to_csv(work / "second_from_grid.csv", index=False)
    compare = {
        "name": "grid",
        "years": years,
        "table": {
            **cfg["emissions"],
            "path": str(work / "second_from_grid.csv"),
            "region_col": "code",
            "value_col": "ce_tgco2",
            "units": "Tg CO2",
        },
    }
    regions, match = _regions_and_match(demo_run, cfg)
    out = compare_sources(_budgets(demo_run, ["county", "province"]), compare, regions, match)
    for level, t in out.items():
        regions_only = t[t["code"] != "all"].dropna(subset=["compare_tgco2"])
        assert len(regions_only) and (regions_only["rel_diff"].abs() < 1e-6).all(), level


def test_a_wrong_second_source_is_a_config_error():
    cfg = _demo_config()
    base = {"name": "CDIAC", "path": "x.csv", "units": "Mt CO2", "region_col": "c"}
    for section, message in (
        (
            {**base, "year_col": "y", "value_col": "v", "unitz": 1},
            "checked as an emissions section",
        ),
        ({**base, "year_col": "y", "value_col": "v", "years": [1990]}, "none of \\[1990\\] is a"),
        (
            {**base, "source": "raster", "path": "grid.asc", "units": "Tg C cell-1 yr-1"},
            "needs {year} in its path, or first_year",
        ),
    ):
        with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
            validate_config({**cfg, "emission_compare": section})


def test_a_gridded_second_source_adds_its_job_and_the_comparison_tables(tmp_path):
    """A dry run with a gridded second source plans its job once and the budget job writes the
    comparison of every summed level (the DAG, not the numbers: those are tested above)."""
    work = copy_workflow(tmp_path / "w")
    cfg = _demo_config()
    cfg["emission_compare"] = {
        "name": "Grid",
        "source": "raster",
        "path": "data/demo/population/population_density.tif",  # any raster, for the DAG
        "first_year": 2001,
        "units": "t CO2 km-2 yr-1",
        "years": [2001],
    }
    (work / "compare.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    jobs = planned_jobs(work, "--configfile", str(work / "compare.yaml"))
    assert jobs.get("compare_raster") == 1 and jobs.get("budget") == 1
