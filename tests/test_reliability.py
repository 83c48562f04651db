"""No silent wrong numbers: values the input checks must refuse before any compute,
each with an error naming the file, the variable and a fix that names a real config key."""

import re
import shutil
import tokenize

import numpy as np
import pytest
import rasterio
from helpers import REPO, demo_config, write_raster

from carbonbudget.core.config import load_schema, validate_config
from carbonbudget.core.errors import ConfigError, InputDataError, UnitError
from carbonbudget.inputs.align import Values
from carbonbudget.inputs.checks import check_year_inputs
from carbonbudget.inputs.demo import build_demo


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    """The demo inputs, and the study-area fraction raster build_regions makes for them."""
    from helpers import job

    from carbonbudget.core.grid import Grid
    from carbonbudget.pipeline.stages.align import build_regions
    from carbonbudget.regions.hierarchy import read_config_regions, write_checked_regions

    root = tmp_path_factory.mktemp("demo_src")
    build_demo(str(root / "data/demo"))
    shutil.copytree(REPO / "config", root / "config")
    cfg = validate_config(demo_config())
    regions = dict(cfg["regions"], path=str(root / cfg["regions"]["path"]))
    checked = str(root / "checked.parquet")  # what check_static keeps for build_regions
    crs = Grid.from_config(cfg).crs.to_wkt()
    write_checked_regions(read_config_regions(regions, crs=crs)[0], checked)
    build_regions(
        job(
            "build_regions",
            input={"checked": checked},
            params={"grid": cfg["grid"], "regions": regions, "cache_dir": None, "cover": None},
            output={
                "regions": str(root / "r.gpkg"),
                "coverage": str(root / "c.npz"),
                "fraction": str(root / "f.tif"),
            },
        )
    )
    return root


@pytest.fixture
def setup(demo_root, tmp_path, monkeypatch):
    shutil.copytree(demo_root, tmp_path / "w")
    monkeypatch.chdir(tmp_path / "w")
    return validate_config(demo_config())


def _edit(path, fn, dtype=None):
    """Rewrite a raster with fn(data) (optionally in another dtype)."""
    with rasterio.open(path) as src:
        data, profile = src.read(), src.profile
    if dtype:
        profile.update(dtype=dtype, nodata=None)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(fn(data.astype(dtype or data.dtype)))


def _check_year(cfg, year, tmp_path):
    return check_year_inputs(
        config=cfg, year=year, path_report=str(tmp_path / "y.json"), path_fraction="f.tif"
    )


def test_demo_year_passes_and_reports_its_study_area_coverage(setup, tmp_path):
    rep = _check_year(setup, 2003, tmp_path)
    shares = rep["valid_share_in_regions"]
    assert set(shares) == set(rep["files"])
    assert shares[setup["runoff"]["path"].format(year=2003)] == 1.0
    # the demo's lakes have no NPP: 5 % of the study area, below the 0.8 of checks.min_valid_share
    assert 0.93 < shares[setup["npp"]["path"].format(year=2003)] < 0.97


@pytest.mark.parametrize(
    "var,value", [("temperature", np.inf), ("temperature", -np.inf), ("runoff", np.inf)]
)
def test_infinite_values_are_refused(setup, tmp_path, var, value):
    path = (setup["climate"] if var == "temperature" else setup["runoff"])[
        "temperature" if var == "temperature" else "path"
    ].format(year=2004)

    def put(d):
        d[..., 100, 100] = value
        return d

    _edit(path, put)
    with pytest.raises(InputDataError, match="infinite value") as exc:
        _check_year(setup, 2004, tmp_path)
    assert path in str(exc.value) and f"[{var}]" in str(exc.value)


def test_absurd_precipitation_is_refused_float32_and_float64(setup, tmp_path):
    path = setup["climate"]["precipitation"].format(year=2005)

    def huge(d):
        d[3, 50:60, 50:60] = 1e38
        return d

    _edit(path, huge)
    with pytest.raises(InputDataError, match="outside the physically possible range") as exc:
        _check_year(setup, 2005, tmp_path)
    assert "precipitation_units" in str(exc.value)

    def huger(d):
        d[3, 50:60, 50:60] = 1e300
        return d

    _edit(path, huger, dtype="float64")
    with pytest.raises(InputDataError, match="outside the physically possible range"):
        _check_year(setup, 2005, tmp_path)


def test_precipitation_in_metres_declared_as_mm(setup, tmp_path):
    _edit(setup["climate"]["precipitation"].format(year=2006), lambda d: d / 1000.0)
    with pytest.raises(UnitError, match="look like metres") as exc:
        _check_year(setup, 2006, tmp_path)
    assert "precipitation_units" in str(exc.value)
    setup["climate"]["precipitation_units"] = "m"
    _check_year(setup, 2006, tmp_path)  # declared right, it passes


def test_precipitation_in_tenths_of_a_millimetre(setup, tmp_path, caplog):
    """Tenths of a millimetre pass every per-pixel bound (a wet month of 400 mm reads 4,000) but
    give a study-area median no country receives: an error naming the key and the median."""
    path = setup["climate"]["precipitation"].format(year=2006)
    with rasterio.open(path) as src:
        annual = src.read().sum(axis=0)
    median = float(np.nanmedian(annual[annual > 0])) * 10
    _edit(path, lambda d: d * 10.0)
    with caplog.at_level("WARNING"), pytest.raises(UnitError, match="tenths") as exc:
        _check_year(setup, 2006, tmp_path)
    message = str(exc.value)
    assert "climate.precipitation_scale: 0.1" in message
    assert "checks.max_median_annual_precipitation_mm" in message
    found = float(
        re.search(r"median annual precipitation ([\d,]+) mm", message)[1].replace(",", "")
    )
    assert found == pytest.approx(median, rel=0.15)  # the sample's median, not every pixel's
    # the usual-range warning before it says which share of the pixels and which keys
    warned = [r.getMessage() for r in caplog.records if "usual range" in r.getMessage()]
    assert warned and all("% of the sampled pixels" in w for w in warned)
    assert all("climate.precipitation_units" in w for w in warned)
    setup["climate"]["precipitation_scale"] = 0.1
    _check_year(setup, 2006, tmp_path)  # declared right, it passes


def test_tenths_of_a_degree(setup, tmp_path):
    _edit(setup["climate"]["temperature"].format(year=2007), lambda d: np.round(d * 10))
    with pytest.raises(UnitError, match="tenths of a degree") as exc:
        _check_year(setup, 2007, tmp_path)
    assert "temperature_scale: 0.1" in str(exc.value)
    setup["climate"]["temperature_scale"] = 0.1
    _check_year(setup, 2007, tmp_path)


def test_npp_year_entirely_nodata(setup, tmp_path):
    _edit(setup["npp"]["path"].format(year=2008), lambda d: np.full_like(d, 65535))
    with pytest.raises(InputDataError, match=r"values exist on only 0\.0% of the study area") as e:
        _check_year(setup, 2008, tmp_path)
    assert "npp_2008.tif" in str(e.value) and "checks.min_valid_share.npp" in str(e.value)


def test_npp_with_its_western_half_nodata(setup, tmp_path):
    def west(d):
        d[..., : d.shape[-1] // 2] = 65535
        return d

    _edit(setup["npp"]["path"].format(year=2009), west)
    with pytest.raises(InputDataError, match=r"values exist on only [345]\d\.\d% of the study"):
        _check_year(setup, 2009, tmp_path)


def test_eleven_band_climate_file_fails_in_the_check_naming_it(setup, tmp_path):
    path = setup["climate"]["temperature"].format(year=2002)
    with rasterio.open(path) as src:
        data, profile = src.read(), src.profile
    profile["count"] = 11
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data[:11])
    with pytest.raises(InputDataError, match="11 band.*12 bands") as exc:
        _check_year(setup, 2002, tmp_path)
    assert "tmean_2002.tif" in str(exc.value)


def test_png_renamed_tif_is_not_a_geotiff(setup, tmp_path):
    path = setup["runoff"]["path"].format(year=2003)
    with rasterio.open(path) as src:
        data = src.read(1)
    png = tmp_path / "x.png"
    with rasterio.open(
        png, "w", driver="PNG", width=data.shape[1], height=data.shape[0], count=1, dtype="uint8"
    ) as dst:
        dst.write(np.clip(data, 0, 255).astype("uint8"), 1)
    shutil.copy(png, path)
    with pytest.raises(InputDataError, match="is a PNG file, not a GeoTIFF") as exc:
        _check_year(setup, 2003, tmp_path)
    assert "no CRS" not in str(exc.value)


def test_alignment_catches_what_the_sample_missed(small_grid, tmp_path):
    from carbonbudget.core.units import plausible
    from carbonbudget.inputs.align import align_raster

    data = np.full(small_grid.shape, 20.0)
    data[3, 4] = np.inf
    src = write_raster(tmp_path / "q.tif", data, small_grid)
    with pytest.raises(InputDataError, match="1 infinite value") as exc:
        align_raster(
            src,
            str(tmp_path / "o.tif"),
            small_grid,
            variable="runoff",
            values=Values(units="mm yr-1", limits=plausible("runoff").hard),
        )
    assert "q.tif" in str(exc.value) and "runoff.units" in str(exc.value)
    data[3, 4] = 4e4  # more than any rain on record
    write_raster(tmp_path / "q.tif", data, small_grid)
    with pytest.raises(InputDataError, match="1 value\\(s\\) outside"):
        align_raster(
            src,
            str(tmp_path / "o.tif"),
            small_grid,
            variable="runoff",
            values=Values(units="mm yr-1", limits=plausible("runoff").hard),
        )
    assert not (tmp_path / "o.tif").exists()


def test_daily_precipitation_rates_times_the_days_of_each_month(small_grid, tmp_path):
    from carbonbudget.inputs.align import align_raster

    src = write_raster(tmp_path / "p.tif", np.ones((12,) + small_grid.shape), small_grid)
    for year, feb in ((2004, 29.0), (2003, 28.0), (None, 28.25)):
        align_raster(
            src,
            str(tmp_path / "o.tif"),
            small_grid,
            variable="precipitation",
            values=Values(units="mm day-1", year=year),
        )
        with rasterio.open(tmp_path / "o.tif") as r:
            month = r.read()[:, 0, 0]
        assert month[1] == feb and month[0] == 31 and month[3] == 30, year
        assert month.sum() == pytest.approx(365.25 if year is None else 337 + feb)


# --- config messages ----------------------------------------------------------------------
@pytest.mark.parametrize("years", [["2001", "2002"], [], "2001", [2001.5]])
def test_years_that_are_not_a_list_of_integers_get_a_plain_message(years):
    cfg = demo_config() | {"years": years}
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    msg = str(exc.value)
    assert "years:" in msg and "non-empty list of integer years" in msg
    assert "{discover: true}" in msg and "not valid under any of the given schemas" not in msg


def _schema_keys():
    """Every dotted key path of the config schema (section.key and section.key.sub)."""
    keys = set()

    def walk(node, prefix):
        for name, sub in (node.get("properties") or {}).items():
            path = f"{prefix}.{name}" if prefix else name
            keys.add(path)
            walk(sub, path)
            for alt in sub.get("oneOf", []) + sub.get("anyOf", []):
                walk(alt, path)

    walk(load_schema(), "")
    return keys


def test_every_config_key_named_in_a_message_exists():
    """Every 'section.key' spelt in the package's strings (messages and their fixes) is a key
    of the schema, so no "Fix:" sends a user to a key that does not exist."""
    keys = _schema_keys()
    sections = {k for k in keys if "." not in k}
    pattern = re.compile(
        r"(?<![\w/.{])("
        + "|".join(sorted(sections, key=len, reverse=True))
        + r")\.([a-z_0-9]+)(?:\.([a-z_0-9]+))?"
    )
    bad = []
    for path in sorted((REPO / "src/carbonbudget").glob("*.py")):
        with tokenize.open(path) as fh:
            for tok in tokenize.generate_tokens(fh.readline):
                if tok.type != tokenize.STRING:
                    continue
                for m in pattern.finditer(tok.string):
                    key = f"{m.group(1)}.{m.group(2)}"
                    if m.group(2) in ("csv", "tsv", "gpkg", "tif", "parquet", "json", "yaml"):
                        continue
                    full = f"{key}.{m.group(3)}" if m.group(3) else key
                    if full.startswith(("dask.array", "dask.distributed")):  # modules
                        continue
                    if key not in keys or (
                        m.group(3) and full not in keys and m.group(3) not in ("tif", "csv")
                    ):
                        bad.append(f"{path.name}:{tok.start[0]}: {full}")
    assert not bad, bad


def assert_fix_names_real_keys(message: str) -> None:
    """The config keys a message's "Fix:" names exist in the schema (checked on the message as
    the user sees it, with every placeholder filled)."""
    assert "Fix:" in message, message
    keys = _schema_keys()
    sections = {k for k in keys if "." not in k}
    named = re.findall(
        r"\b((?:" + "|".join(sections) + r")(?:\.[a-z_0-9]+)+)", message.split("Fix:", 1)[1]
    )
    assert named, message
    for key in named:
        assert key in keys or key.rsplit(".", 1)[0] in keys and key.endswith(("tif", "csv")), (
            key,
            message,
        )


@pytest.mark.parametrize("var", ["precipitation", "runoff"])
def test_negative_values_fix_names_a_key_that_exists(setup, tmp_path, var):
    path = (
        setup["climate"]["precipitation"] if var == "precipitation" else setup["runoff"]["path"]
    ).format(year=2003)
    _edit(path, lambda d: d - 1e4)
    with pytest.raises(InputDataError, match=f"negative {var}") as exc:
        _check_year(setup, 2003, tmp_path)
    assert_fix_names_real_keys(str(exc.value))
    assert ("runoff.negative_tolerance" in str(exc.value)) == (var == "runoff")


def test_errors_of_this_file_name_real_keys(setup, tmp_path):
    _edit(setup["npp"]["path"].format(year=2008), lambda d: np.full_like(d, 65535))
    with pytest.raises(InputDataError) as exc:
        _check_year(setup, 2008, tmp_path)
    assert_fix_names_real_keys(str(exc.value))
    _edit(setup["climate"]["temperature"].format(year=2007), lambda d: np.round(d * 10))
    with pytest.raises(UnitError) as exc:
        _check_year(setup, 2007, tmp_path)
    assert_fix_names_real_keys(str(exc.value))


# --- polygons -------------------------------------------------------------------------------
def _static(cfg):
    from carbonbudget.inputs.checks import check_static_inputs

    return check_static_inputs(config=cfg)


def test_demo_counties_cut_by_the_grid_edge_are_reported(setup, caplog):
    rep = _static(setup)
    cut = rep["regions_outside_grid"]
    assert set(cut) == {"930302", "930304"}
    assert cut["930302"] == pytest.approx(0.0966, abs=1e-3)
    assert cut["930304"] == pytest.approx(0.0545, abs=1e-3)
    assert "930302 9.7 %" in caplog.text


def test_a_region_mostly_outside_the_grid_is_an_error(setup):
    xmin, ymin, xmax, ymax = setup["grid"]["bounds"]
    setup["grid"]["bounds"] = [xmin, ymin + 120000, xmax, ymax]  # the southern half gone
    with pytest.raises(InputDataError, match="more than 25% outside the grid") as exc:
        _static(setup)
    assert_fix_names_real_keys(str(exc.value))


def test_a_layer_entirely_outside_the_grid_is_an_error(setup):
    import geopandas as gpd

    path = setup["regions"]["path"]
    gdf = gpd.read_file(path)
    gdf.geometry = gdf.geometry.translate(5_000_000, 0)
    gdf.to_file(path, driver="GPKG")
    with pytest.raises(InputDataError, match=r"\[regions\].*no polygon overlaps the target grid"):
        _static(setup)


def test_empty_geometry_is_an_error_or_dropped_by_config(setup, caplog):
    import geopandas as gpd
    import shapely

    path = setup["regions"]["path"]
    gdf = gpd.read_file(path)
    gdf.loc[3, "geometry"] = shapely.Polygon()
    code = gdf.loc[3, "county_code"]
    gdf.to_file(path, driver="GPKG")
    with pytest.raises(
        InputDataError,
        match=f"1 features have an empty or missing geometry \\(codes \\['{code}'\\]",
    ):
        _static(setup)
    setup["regions"]["empty_geometries"] = "drop"
    with caplog.at_level("WARNING", logger="carbonbudget"):
        rep = _static(setup)
    assert re.search(f"dropped 1 features .*{code}", caplog.text)
    assert rep["regions"]["county"] == 35


def test_geojson_in_projected_metres_without_crs(setup, tmp_path):
    import json

    import geopandas as gpd

    gdf = gpd.read_file(setup["regions"]["path"])  # Albers metres
    data = json.loads(gdf.to_json(drop_id=True))
    data.pop("crs", None)
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps(data))
    setup["regions"]["path"] = str(path)
    with pytest.raises(InputDataError, match="not longitudes and latitudes") as exc:
        _static(setup)
    assert_fix_names_real_keys(str(exc.value))
    setup["regions"]["crs"] = setup["grid"]["crs"]
    assert _static(setup)["regions"]["county"] == 36


def test_what_slurm_said_about_a_job_it_stopped_is_reported(tmp_path):
    """The Snakemake log of a run whose job SLURM killed: the rule, its log (with the year),
    SLURM's reason and the resource to raise, one line per stopped job; a failure SLURM did not
    cause (no SLURM log) is not reported here."""
    from carbonbudget.core.logs import cluster_failures

    slurm_log = tmp_path / "slurm_logs" / "rule_process_year" / "2001" / "34.log"
    slurm_log.parent.mkdir(parents=True)
    slurm_log.write_text(
        "slurmstepd-vm: error: StepId=34.batch exceeded memory limit (233168896 > 52428800), "
        "being killed\nslurmstepd-vm: error: Exceeded job memory limit\n"
    )
    timeout = tmp_path / "slurm_logs" / "rule_budget" / "40.log"
    timeout.parent.mkdir(parents=True)
    timeout.write_text("slurmstepd: error: *** JOB 40 ON vm CANCELLED DUE TO TIME LIMIT ***\n")
    log = tmp_path / "snakemake.log"
    log.write_text(
        "Error in rule process_year:\n"
        "    message: SLURM-job '34' failed, SLURM status is: 'FAILED'.\n"
        "    jobid: 0\n"
        f"    log: results/logs/process_year/2001.log, {slurm_log} (check log file(s) for error "
        "details)\n"
        "    external_jobid: 34\n"
        "Logfile results/logs/process_year/2001.log not found.\n"
        "Error in rule budget:\n"
        f"    log: results/logs/budget.log, {timeout} (check log file(s) for error details)\n"
        "Error in rule geopackage:\n"
        "    log: results/logs/geopackage.log (check log file(s) for error details)\n"
    )
    lines = cluster_failures(str(log))
    assert len(lines) == 2
    assert "rule process_year (results/logs/process_year/2001.log) was stopped by SLURM" in lines[0]
    assert "exceeded memory limit (233168896 > 52428800)" in lines[0] and "mem_mb" in lines[0]
    assert "TIME LIMIT" in lines[1] and "raise its runtime" in lines[1]
    assert cluster_failures(None) == [] and cluster_failures(str(tmp_path / "none")) == []


def _grown(path, layer=None):
    """The first feature of a polygon layer grown over half of the neighbour it shares the
    longest border with; returns (its code column value, the neighbour's)."""
    import geopandas as gpd

    gdf = gpd.read_file(path, layer=layer)
    first = gdf.geometry.iloc[0]
    border = gdf.geometry.apply(lambda g: first.intersection(g).length)
    border.iloc[0] = 0
    j = int(border.idxmax())
    neighbour = gdf.geometry.iloc[j]
    half = neighbour.intersection(first.buffer(neighbour.area**0.5 / 2))
    gdf.loc[gdf.index[0], "geometry"] = first.union(half)
    gdf.to_file(path, layer=layer, driver="GPKG")
    return 0, j


def test_overlapping_finest_regions_are_refused_or_given_to_one(setup, caplog):
    import geopandas as gpd

    from carbonbudget.core.errors import RegionError
    from carbonbudget.regions.hierarchy import read_config_regions

    reg = setup["regions"]
    before, _, _ = read_config_regions(reg)
    i, j = _grown(reg["path"])
    codes = gpd.read_file(reg["path"])[reg["levels"]["county"]].astype(str)
    with pytest.raises(RegionError, match="pairs of polygons overlap") as exc:
        read_config_regions(reg)
    message = str(exc.value)
    assert codes[i] in message and codes[j] in message and "km²" in message
    assert "regions.overlaps: first" in message
    # first: the shared part stays with the code that sorts first; the total area is the same
    with caplog.at_level("WARNING"):
        after, _, _ = read_config_regions(dict(reg, overlaps="first"))
    assert "overlap" in caplog.text
    assert after.area.sum() == pytest.approx(before.area.sum(), rel=1e-9)
    # a sliver below max_overlap_share is left as it is
    read_config_regions(dict(reg, max_overlap_share=0.9))


def test_overlapping_regions_are_the_regions_checks_error_alone(setup, tmp_path):
    """The emission check reads only the regions' codes and names: overlapping polygons are
    the error of the regions check (printed once), not also the emission check's, whose report
    and code matches stay as they were."""
    import pandas as pd

    from carbonbudget.core.errors import RegionError
    from carbonbudget.inputs.checks import check_emission_inputs
    from carbonbudget.regions.hierarchy import read_config_regions

    before = check_emission_inputs(config=setup, path_match=str(tmp_path / "before.csv"))
    _grown(setup["regions"]["path"])
    with pytest.raises(RegionError, match="pairs of polygons overlap"):
        read_config_regions(setup["regions"])
    after = check_emission_inputs(config=setup, path_match=str(tmp_path / "after.csv"))
    assert after == before
    assert before["emissions"]["codes"] > 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "after.csv"), pd.read_csv(tmp_path / "before.csv")
    )


def test_overlapping_pairs_are_the_pairs_that_share_area():
    """Neighbours that only touch share no area; a polygon inside another and two that overlap
    in part do, with the shared area measured exactly."""
    import geopandas as gpd
    from shapely.geometry import box

    from carbonbudget.regions.hierarchy import overlapping_pairs

    polys = gpd.GeoDataFrame(
        {"code": ["a", "b", "c", "d"]},
        geometry=[
            box(0, 0, 10, 10),  # a
            box(10, 0, 20, 10),  # b: touches a along x = 10
            box(2, 2, 4, 5),  # c: inside a (6 units²)
            box(18, 5, 30, 15),  # d: overlaps b on [18, 20] x [5, 10] (10 units²)
        ],
    )
    got = overlapping_pairs(polys, "code", 0.0)
    assert list(zip(got["code_a"], got["code_b"])) == [("b", "d"), ("a", "c")]
    assert got["shared_area"].tolist() == [10.0, 6.0]
    assert got["share_of_smaller"].tolist() == [pytest.approx(10 / 100), 1.0]
    assert overlapping_pairs(polys.iloc[:2], "code", 0.0).empty


def test_overlapping_basins_are_refused(setup):
    from carbonbudget.core.errors import RegionError
    from carbonbudget.regions.layers import read_layer

    cfg = setup["region_layers"]["basin"]
    read_layer("basin", cfg)  # the demo's basins do not overlap
    _grown(cfg["path"])
    with pytest.raises(RegionError, match="region_layers.basin.overlaps: first"):
        read_layer("basin", cfg)


def test_two_levels_reading_one_code_column_are_refused():
    cfg = demo_config()
    cfg["regions"]["levels"] = {"county": "county_code", "city": "county_code"}
    with pytest.raises(ConfigError, match=r"\['county', 'city'\] read the same column"):
        validate_config(cfg)


def test_a_feature_without_a_code_is_refused(setup):
    import geopandas as gpd

    from carbonbudget.core.errors import RegionError
    from carbonbudget.regions.hierarchy import read_config_regions

    reg = setup["regions"]
    gdf = gpd.read_file(reg["path"])
    gdf.loc[3, "county_code"] = None
    gdf.to_file(reg["path"], driver="GPKG")
    with pytest.raises(RegionError, match="1 features have no county code") as exc:
        read_config_regions(reg)
    assert "[3]" in str(exc.value) and "nan" not in str(exc.value)


def test_a_group_code_with_two_names_is_refused(setup):
    import pandas as pd

    from carbonbudget.core.errors import RegionError
    from carbonbudget.regions.hierarchy import read_config_regions

    reg = setup["regions"]
    table = reg["groupings"]["zone"]["table"]
    zones = pd.read_csv(table, dtype=str)
    name_col = reg["groupings"]["zone"]["name_col"]
    group_col = reg["groupings"]["zone"]["group_col"]
    first = zones[group_col].iloc[0]
    zones.loc[zones.index[-1], group_col] = first
    zones.loc[zones.index[-1], name_col] = "another name"
    zones.to_csv(table, index=False)
    with pytest.raises(RegionError, match=f"{first}: .*another name"):
        read_config_regions(reg)


def test_a_percentage_typed_as_a_fraction_draws_a_warning(caplog):
    cfg = demo_config()
    cfg["uncertainty"]["rh"] = {"relative_sd": 10}
    with caplog.at_level("WARNING"):
        validate_config(cfg)
    assert "uncertainty.rh.relative_sd = 10" in caplog.text and "1,000 %" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        validate_config(demo_config())
    assert "relative_sd" not in caplog.text


def _five_band_file(setup, year):
    """One multi-band file as a user brings it: NPP (raw MOD17A3 counts), precipitation,
    temperature, elevation and human footprint, each band described."""
    npp_path = setup["npp"]["path"].format(year=year)
    with rasterio.open(npp_path) as src:
        npp, profile = src.read(1), src.profile
    stack = np.stack([npp, npp // 10, npp // 100, npp // 3, npp // 7]).astype("uint16")
    profile.update(count=5)
    path = f"stack_{year}.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(stack)
        for i, name in enumerate(["npp", "prcp", "tmp", "elev", "hfp"], 1):
            dst.set_band_description(i, name)
    return path, npp


def test_npp_read_from_the_wrong_band_is_refused_and_a_band_can_be_chosen(setup, tmp_path):
    from carbonbudget.core.grid import Grid
    from carbonbudget.inputs.align import align_inputs

    npp_pattern = setup["npp"]["path"]
    path, _ = _five_band_file(setup, 2004)
    setup["npp"]["path"] = path.replace("2004", "{year}")
    with pytest.raises(InputDataError, match="band 2 is described 'prcp'") as exc:  # no band
        _check_year(setup, 2004, tmp_path)
    assert "npp.band" in str(exc.value)
    setup["npp"]["band"] = 4  # the elevation band
    with pytest.raises(
        InputDataError, match="described 'elev' \\(elevation\\), but is read as npp"
    ):
        _check_year(setup, 2004, tmp_path)
    setup["npp"]["band"] = "Hfp"  # by description, any case
    with pytest.raises(InputDataError, match="human footprint"):
        _check_year(setup, 2004, tmp_path)
    setup["npp"]["band"] = "elevation"
    with pytest.raises(InputDataError, match="no band described 'elevation'.*4 'elev'") as exc:
        _check_year(setup, 2004, tmp_path)
    assert "npp.band" in str(exc.value)
    grid = Grid.from_config(setup["grid"])
    original = dict(setup["npp"], path=npp_pattern, band=None)
    align_inputs(
        grid=grid,
        year=2004,
        climate=None,
        npp=original,
        runoff=setup["runoff"],
        outputs={"npp": str(tmp_path / "npp_original.tif")},
    )
    with rasterio.open(tmp_path / "npp_original.tif") as a:
        expected = a.read(1)
    for band in (1, "NPP"):
        setup["npp"]["band"] = band
        _check_year(setup, 2004, tmp_path)
        out = str(tmp_path / f"npp_{band}.tif")
        align_inputs(
            grid=grid,
            year=2004,
            climate=None,
            npp=setup["npp"],
            runoff=setup["runoff"],
            outputs={"npp": out},
        )
        with rasterio.open(out) as a:
            got = a.read(1)
        # the band of the stack gives what the single-band file gives, pixel for pixel
        assert np.isfinite(got).any()
        np.testing.assert_array_equal(got, expected)
