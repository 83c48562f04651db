"""What a user opens from the demo's run: valid COGs with units and CRS, the GeoPackage with its
layers, metadata and QGIS styles, the maps, the report in a browser, the logs."""

import re
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from helpers import (
    REPO,
    browser_dom,
    demo_config,
    qgis_python,
    run_snakemake,
)

from carbonbudget.inputs.demo_files import DEMO_YEARS

pytestmark = pytest.mark.workflow


def test_every_log_is_under_results_logs(demo_run):
    """The job logs, and Snakemake's own log of the run with its closing lines."""
    logs = demo_run / "results/logs"
    own = sorted((logs / "snakemake").glob("*.snakemake.log"))
    assert own and "steps (100%) done" in own[-1].read_text()
    assert (logs / "budget.log").exists() and list((logs / "process_year").glob("*.log"))


def test_every_raster_output_is_a_valid_cog(demo_run):
    from rio_cogeo.cogeo import cog_validate

    tifs = sorted((demo_run / "results/pixels").rglob("*.tif")) + sorted(
        (demo_run / "results/trends").glob("*.tif")
    )
    # RH NEP RCS ECS CE CNC and the status per year; 4 trend variables; the temperature and
    # precipitation parts of the change of RH over the period
    assert len(tifs) == 7 * len(DEMO_YEARS) + 4 * 6 + 2
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
    proc = run_snakemake(work, "--report", str(work / "results/report.html"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (work / "results/report.html").read_text()
    # captions are embedded as JSON (non-ASCII escaped): look for ASCII parts
    for caption in (
        "Carbon neutral capacity CNC = ECS",
        "of every county, mean over all",
        "LISA clusters of the period-mean carbon neutral capacity (CNC) by",
        "HH (high among high, a surplus cluster), LL (low",
        "Gi* hot and cold spots",
        "sequential Mann",
        "Trend class of CNC for every province",
        "illustrative placeholders, not published scenarios",
    ):
        assert caption in html, caption


def test_geopackage_metadata_layer(demo_run):
    meta = gpd.read_file(demo_run / "results/gis/carbon_budget.gpkg", layer="metadata")
    info = dict(zip(meta["key"], meta["value"]))
    # the hierarchy, the grouping (zone) and the region layer (basin) of the demo
    levels = "county, city, province, zone, basin"
    assert info["levels"] == levels and len(info["config_digest"]) == 64
    assert "2001" in info["years"] and info["carbonbudget_version"]


def test_the_report_builds_from_the_run_and_renders_in_a_browser(demo_run, tmp_path):
    """`snakemake --report` works after a plain install (pygments is a dependency), says what
    this run computed, carries the headline tables and quick looks, and renders in Chromium
    (its React app fills the page)."""

    out = tmp_path / "report.html"
    proc = run_snakemake(demo_run, "--report", str(out))
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
    assert "spread over its pixels by the weights of population_density.tif" in raw
    # the landing page carries the headline tables themselves, not links to them
    assert "Carbon budget of the study area, 2001" in raw and "table class=" in raw
    dom = browser_dom(
        out, ": the report was built and its contents checked, but not rendered", 15000
    )
    app = dom.split('<div id="app">', 1)[1].split("<script", 1)[0]
    assert "1. Headlines" in app and "2. Per-pixel quick looks" in app and "Maps" in app
    assert "Carbon budget of the study area" in app and "<table" in app  # on the first page


def test_outputs_name_their_crs(demo_run):
    """The demo grid (an Albers PROJ string with no EPSG twin) reaches QGIS under a name that
    says what it is, in the COGs and in the GeoPackage's spatial reference table."""
    import sqlite3

    expected = (
        "Albers Equal Area (standard parallels 25 and 47, latitude of origin 0, central meridian "
        "105) on WGS 84 ellipsoid"
    )
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


def _open_in_qgis(gpkg, layer):
    import json

    proc = subprocess.run(
        [qgis_python(), str(REPO / "tests/qgis/open_styled.py"), str(gpkg), layer],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_geopackage_opens_styled_in_qgis(demo_run):
    """QGIS itself (headless, where python3-qgis is installed) opens the county layer with the
    GeoPackage's default style: CNC density in the classes of the PNG map (meeting at 0, bounds
    written as the PNG legend writes them), a hatched rule for no value, the named CRS, and
    the column titles as aliases."""
    from carbonbudget.core.config import validate_config
    from carbonbudget.outputs.classify import bound_label, coloured_classes
    from carbonbudget.outputs.maps import budget_map_values
    from carbonbudget.outputs.palette import BUDGET_MAPS

    seen = _open_in_qgis(demo_run / "results/gis/carbon_budget.gpkg", "county")
    assert seen["valid"] and seen["renderer"] == "RuleRenderer"
    filters, labels = zip(*seen["rules"])
    assert filters[-1] == "ELSE" and labels[-1] == "no value"
    assert all('"cnc_flux_tco2_km2_mean"' in f for f in filters[:-1])
    # the classes of the PNG map of county CNC density, label for label
    cfg = validate_config(demo_config())
    budget = pd.read_parquet(demo_run / "results/.work/tables/budget_county.parquet")
    values = budget_map_values(budget, ["cnc"], True, cfg["balance"]["min_valid_fraction"])
    png = coloured_classes(values["cnc_flux_tco2_km2"], "quantiles", 6, 0.0, BUDGET_MAPS["cnc"][2])
    assert list(labels[:-1]) == [
        f"{'> ' if i else ''}{bound_label(lo)} to {bound_label(hi)} t CO2 km-2 yr-1"
        for i, (lo, hi, _) in enumerate(png)
    ]
    assert any(" to 0 t CO2" in label for label in labels)  # a bound at 0
    assert seen["crs"].startswith("Albers Equal Area (standard parallels 25 and 47")
    assert seen["aliases"]["ce_tgco2_mean"] == "carbon emissions, mean (Tg CO2 yr-1)"
    assert seen["aliases"]["cnc_flux_tco2_km2_mean"] == "CNC per unit area, mean (t CO2 km-2 yr-1)"


def test_every_stored_style_draws_every_feature_in_qgis(demo_run):
    """Every style of every layer, applied by QGIS: no feature vanishes (a region without a
    value is drawn as 'no value'), a density map draws more than one class, and a categorical
    style draws the categories the data hold (the robustness style draws each region's status
    with its robustness, not a boolean read as a status)."""
    gpkg = demo_run / "results/gis/carbon_budget.gpkg"
    for level in pyogrio.list_layers(gpkg)[:, 0]:
        layer = gpd.read_file(gpkg, layer=level)
        if not any(c.startswith("status_2") for c in layer.columns):
            continue  # column_units, metadata, display shapes
        seen = _open_in_qgis(gpkg, level)
        assert seen["styles"], level
        for name, style in seen["styles"].items():
            assert style["none"] == 0, (level, name, style)
            assert sum(style["drawn"].values()) == seen["features"], (level, name, style)
            if "density" in name and seen["features"] > 2:
                assert len(style["drawn"]) > 1, (level, name, style)
        year = max(int(c[7:]) for c in layer.columns if c[7:].isdigit())
        status = layer[f"status_{year}"].fillna("other or no value")
        assert seen["styles"][f"Status {year}"]["drawn"] == status.value_counts().to_dict()
        robust_style = seen["styles"].get(f"Status {year} and its robustness")
        if robust_style is None:
            continue
        expected: dict[str, int] = {}
        for s, r in zip(layer[f"status_{year}"], layer[f"status_robust_{year}"]):
            if s == "surplus":
                key = "surplus, 95 % interval above 0" if r else "surplus, interval reaches below 0"
            elif s == "deficit":
                key = "deficit, 95 % interval below 0" if r else "deficit, interval reaches above 0"
            else:
                key = "neutral, missing or incomplete"
            expected[key] = expected.get(key, 0) + 1
        assert robust_style["drawn"] == expected, (level, robust_style)


# families of columns docs/columns.md lists by a template
_COLUMN_FAMILIES = [
    (r".+_(p05|p50|p95)", r"`<var>_\1`"),
    (r"(rh|nep|rcs|ecs)_valid_fraction", "`<flux>_valid_fraction`"),
    (r"ce_intensity_kgco2_per_[a-z]+", "`ce_intensity_kgco2_per_<currency>`"),
    (r"gdp_[a-z0-9]+", "`gdp_<currency>`"),
    (r"affluence_(start|end)_[a-z0-9]+", r"`affluence_\1_<currency>`"),
    (r"intensity_(start|end)_kgco2_per_[a-z0-9]+", r"`intensity_\1_kgco2_per_<currency>`"),
    (r"energy_intensity_(start|end)_mj_per_[a-z0-9]+", r"`energy_intensity_\1_mj_per_<currency>`"),
    (
        r".+_(slope_per_yr|slope_p|sen_per_yr|mk_z|mk_p|hurst|hurst_note|trend_class|"
        r"abrupt_change_years)",
        r"`<series>_\1`",
    ),
    (r"(ce|ecs|cnc)_\d{4}_tgco2", r"`\1_<end>_tgco2`"),
    (r".+_code", "`<level>_code`"),
]


def _documented_sections() -> dict[str, str]:
    """docs/columns.md by table: the name pattern of each '## `tables/...`' heading -> text."""
    text = (REPO / "docs/columns.md").read_text(encoding="utf-8")
    sections = {}
    for block in text.split("\n## ")[1:]:
        heading, _, body = block.partition("\n")
        for name in re.findall(r"`(?:tables/)?([^`]+)\.csv`", heading):
            pattern = re.escape(name).replace(re.escape("<level>"), r"[a-z_]+")
            sections[pattern] = body
    return sections


def test_every_published_column_is_documented(demo_run):
    """Every column of every CSV the demo publishes under tables/ is listed in docs/columns.md,
    in the section of its table (by name or by its family's template)."""
    sections = _documented_sections()
    undocumented = {}
    for path in sorted((demo_run / "results/tables").glob("*.csv")):
        matching = [body for pattern, body in sections.items() if re.fullmatch(pattern, path.stem)]
        assert matching, f"{path.name} has no section in docs/columns.md"
        body = "\n".join(matching)
        for col in pd.read_csv(path, nrows=0).columns:
            if f"`{col}`" in body:
                continue
            templates = [
                re.sub(f"^{rx}$", tpl, col) for rx, tpl in _COLUMN_FAMILIES if re.fullmatch(rx, col)
            ]
            if not any(t in body for t in templates):
                undocumented.setdefault(path.name, []).append(col)
    assert not undocumented, undocumented
