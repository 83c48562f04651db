"""Alignment: unit conversions applied once, categorical codes never interpolated."""

import numpy as np
import pytest
import rasterio
from helpers import AEA, write_raster
from rasterio.enums import Resampling

from carbonbudget.core.errors import InputDataError, UnitError
from carbonbudget.core.grid import Grid
from carbonbudget.inputs.align import (
    CATEGORICAL,
    CONTINUOUS,
    Values,
    align_raster,
    choose_resampling,
)


def test_npp_scale_factor_to_g_c(small_grid, tmp_path):
    # MOD17A3 style: uint16 count 5000 × 0.0001 kg C m-2 = 0.5 kg C m-2 = 500 g C m-2
    raw = np.full(small_grid.shape, 5000, "uint16")
    raw[0, 0] = 65535
    src = write_raster(tmp_path / "npp.tif", raw, small_grid, dtype="uint16", nodata=65535)
    out = tmp_path / "npp_gc.tif"
    align_raster(
        src,
        str(out),
        small_grid,
        variable="npp",
        values=Values(scale=0.0001, units="kg C m-2 yr-1"),
    )
    with rasterio.open(out) as r:
        a = r.read(1)
    assert np.isnan(a[0, 0])
    np.testing.assert_allclose(a[1:, :], 500.0, rtol=1e-6)


@pytest.mark.parametrize("units,raw,expected", [("K", 283.15, 10.0), ("degC", 10.0, 10.0)])
def test_temperature_units(small_grid, tmp_path, units, raw, expected):
    src = write_raster(tmp_path / "t.tif", np.full((12,) + small_grid.shape, raw), small_grid)
    out = tmp_path / "t_out.tif"
    align_raster(src, str(out), small_grid, variable="temperature", values=Values(units=units))
    with rasterio.open(out) as r:
        assert r.count == 12
        np.testing.assert_allclose(r.read(), expected, rtol=1e-5)


def test_runoff_m_per_year_to_mm(small_grid, tmp_path):
    src = write_raster(tmp_path / "q.tif", np.full(small_grid.shape, 0.25), small_grid)
    out = tmp_path / "q_out.tif"
    align_raster(src, str(out), small_grid, variable="runoff", values=Values(units="m/yr"))
    with rasterio.open(out) as r:
        np.testing.assert_allclose(r.read(1), 250.0, rtol=1e-6)


def test_unknown_units_refused(small_grid, tmp_path):
    src = write_raster(tmp_path / "q.tif", np.ones(small_grid.shape), small_grid)
    with pytest.raises(UnitError, match="unknown units 'furlongs'"):
        align_raster(
            src,
            str(tmp_path / "o.tif"),
            small_grid,
            variable="runoff",
            values=Values(units="furlongs"),
        )


def test_missing_crs_refused(small_grid, tmp_path):
    src = write_raster(tmp_path / "nocrs.tif", np.ones(small_grid.shape), small_grid, crs=None)
    with pytest.raises(InputDataError, match="no CRS") as exc:
        align_raster(src, str(tmp_path / "o.tif"), small_grid, variable="npp")
    assert "nocrs.tif" in str(exc.value) and "Fix:" in str(exc.value)


def test_categorical_codes_survive_reprojection(tmp_path):
    src_grid = Grid.from_bounds("EPSG:4326", 0.05, [104.0, 26.0, 106.0, 28.0])
    rng = np.random.default_rng(0)
    codes = rng.choice([1, 3, 6, 11], size=src_grid.shape).astype("int16")
    src = write_raster(tmp_path / "lith.tif", codes, src_grid, dtype="int16", nodata=-9999)
    target = Grid.from_bounds(
        "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84",
        2000.0,
        [-80000, 2960000, 80000, 3120000],
    )
    out = tmp_path / "lith_out.tif"
    align_raster(src, str(out), target, variable="lithology", values=Values(kind=CATEGORICAL))
    with rasterio.open(out) as r:
        vals = r.read(1)
    assert set(np.unique(vals[np.isfinite(vals)]).astype(int)) <= {1, 3, 6, 11}


def test_resampling_choice():
    assert choose_resampling(CONTINUOUS, 1000, 1000) == Resampling.bilinear
    assert choose_resampling(CONTINUOUS, 250, 1000) == Resampling.average
    assert choose_resampling(CATEGORICAL, 50000, 1000) == Resampling.nearest
    assert choose_resampling(CATEGORICAL, 100, 1000) == Resampling.mode


def test_water_balance_runoff(small_grid, tmp_path):
    from carbonbudget.inputs.align import water_balance_runoff

    p = np.zeros((12,) + small_grid.shape)
    p[:, :, :] = 50.0  # 600 mm yr-1
    p[0, 0, 0] = np.nan
    et = np.full(small_grid.shape, 0.45)  # m yr-1 -> 450 mm
    et[1, 1] = 0.9  # ET > P -> runoff 0, not negative
    pr = write_raster(tmp_path / "p.tif", p, small_grid)
    etp = write_raster(tmp_path / "et.tif", et, small_grid)
    align_raster(
        etp, str(tmp_path / "et_mm.tif"), small_grid, variable="et", values=Values(units="m yr-1")
    )
    water_balance_runoff(pr, str(tmp_path / "et_mm.tif"), str(tmp_path / "q.tif"), small_grid)
    with rasterio.open(tmp_path / "q.tif") as r:
        q = r.read(1)
        assert r.tags(1)["units"] == "mm yr-1"
    assert np.isnan(q[0, 0]) and q[1, 1] == 0.0
    assert q[2, 2] == pytest.approx(150.0)


def test_valid_range_masks_fill_codes_before_resampling(small_grid, tmp_path):
    # MOD17A3: 32761-32767 are fill / non-vegetated codes, not NPP; they must become nodata
    raw = np.full(small_grid.shape, 6000, "uint16")
    raw[2, 2] = 32767
    src = write_raster(tmp_path / "npp.tif", raw, small_grid, dtype="uint16", nodata=65535)
    out = tmp_path / "o.tif"
    align_raster(
        src,
        str(out),
        small_grid,
        variable="npp",
        values=Values(scale=1e-4, units="kg C m-2 yr-1", valid_range=(0, 32700)),
    )
    with rasterio.open(out) as r:
        a = r.read(1)
    assert np.isnan(a[2, 2]) and np.isfinite(a).sum() == a.size - 1
    np.testing.assert_allclose(a[np.isfinite(a)], 600.0, rtol=1e-6)


def test_declared_crs_for_files_without_one(small_grid, tmp_path):
    src = write_raster(tmp_path / "nocrs.tif", np.full(small_grid.shape, 3.0), small_grid, crs=None)
    out = tmp_path / "o.tif"
    align_raster(
        src,
        str(out),
        small_grid,
        variable="runoff",
        crs=small_grid.crs.to_wkt(),
        values=Values(units="mm yr-1"),
    )
    with rasterio.open(out) as r:
        np.testing.assert_allclose(r.read(1), 3.0)


def test_align_year_with_one_file_per_month(small_grid, tmp_path):
    from carbonbudget.inputs.align import align_inputs

    for m in range(1, 13):
        write_raster(
            tmp_path / f"t_2003{m:02d}.tif", np.full(small_grid.shape, m + 273.15), small_grid
        )
        write_raster(
            tmp_path / f"p_2003{m:02d}.tif", np.full(small_grid.shape, 10.0 * m), small_grid
        )
    write_raster(tmp_path / "npp_2003.tif", np.full(small_grid.shape, 0.5), small_grid)
    write_raster(tmp_path / "q_2003.tif", np.full(small_grid.shape, 200.0), small_grid)
    out = {k: str(tmp_path / f"{k}_out.tif") for k in ("t", "p", "n", "q")}
    from carbonbudget.core.config import fill_section

    align_inputs(
        grid=small_grid,
        year=2003,
        climate=fill_section(
            "climate",
            {
                "temperature": str(tmp_path / "t_{year}{month}.tif"),
                "temperature_units": "K",
                "precipitation": str(tmp_path / "p_{year}{month}.tif"),
            },
        ),
        npp=fill_section(
            "npp", {"path": str(tmp_path / "npp_{year}.tif"), "units": "kg C m-2 yr-1"}
        ),
        runoff=fill_section("runoff", {"path": str(tmp_path / "q_{year}.tif")}),
        outputs={
            "temperature": out["t"],
            "precipitation": out["p"],
            "npp": out["n"],
            "runoff": out["q"],
        },
    )
    with rasterio.open(out["t"]) as r:
        t = r.read()
        assert r.count == 12 and r.descriptions[0] == "Jan" and r.descriptions[11] == "Dec"
    np.testing.assert_allclose(t[:, 0, 0], np.arange(1, 13), rtol=1e-5)  # months in order, °C
    with rasterio.open(out["p"]) as r:
        np.testing.assert_allclose(r.read()[:, 1, 1], 10.0 * np.arange(1, 13))
    with rasterio.open(out["n"]) as r:
        np.testing.assert_allclose(r.read(1), 500.0)


def test_on_grid_inputs_are_copied_without_resampling_and_match_the_warped_path(
    small_grid, tmp_path, monkeypatch, caplog
):
    import logging

    import carbonbudget.inputs.align as align_mod

    rng = np.random.default_rng(8)
    raw = rng.uniform(0, 30000, (3,) + small_grid.shape).round().astype("uint16")
    raw[1, 0, 0] = 65535  # nodata
    raw[2, 1, 1] = 32767  # fill code outside valid_range
    src = write_raster(tmp_path / "on_grid.tif", raw, small_grid, dtype="uint16", nodata=65535)
    kwargs = dict(
        variable="npp", values=Values(scale=1e-4, units="kg C m-2 yr-1", valid_range=(0, 32700))
    )
    fast, warped = tmp_path / "fast.tif", tmp_path / "warped.tif"
    with caplog.at_level(logging.INFO, logger="carbonbudget"):
        align_raster(src, str(fast), small_grid, **kwargs)
    assert "on the target grid, copied without resampling" in caplog.text
    monkeypatch.setattr(align_mod, "on_grid", lambda *a: False)
    align_raster(src, str(warped), small_grid, **kwargs)
    with rasterio.open(fast) as f, rasterio.open(warped) as w:
        a, b = f.read(), w.read()
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    assert np.isnan(a[1, 0, 0]) and np.isnan(a[2, 1, 1]) and np.isnan(a).sum() == 2
    np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(a[0], raw[0] * 1e-4 * 1000.0, rtol=1e-6)  # kg -> g C m-2 yr-1


def test_ascii_matrix_to_geotiff_places_the_first_row_north(tmp_path):
    from carbonbudget.core.errors import InputDataError
    from carbonbudget.inputs.lithology import ascii_matrix_to_geotiff

    txt = tmp_path / "glim.txt"
    txt.write_text("-9999 6 6 1\n3 3 5 5\n8 8 9 -9999\n")
    out = tmp_path / "glim.tif"
    ascii_matrix_to_geotiff(str(txt), str(out), west=100.0, north=40.0, resolution=0.5)
    with rasterio.open(out) as r:
        assert r.crs.to_epsg() == 4326 and r.nodata == -9999 and r.shape == (3, 4)
        assert r.bounds == (100.0, 38.5, 102.0, 40.0)
        a = r.read(1)
        assert a[0, 1] == 6 and a[2, 2] == 9
        assert list(r.sample([(100.75, 39.75), (101.25, 38.75)])) == [[6], [9]]
    txt.write_text("ncols 4\n1 2 3 4\n")
    with pytest.raises(InputDataError, match="headerless"):
        ascii_matrix_to_geotiff(str(txt), str(out), west=0.0, north=0.0, resolution=1.0)


def test_gdal_source_names_a_netcdf_variable_and_refuses_other_files():
    from carbonbudget.core.errors import InputDataError
    from carbonbudget.inputs.align import gdal_source

    assert gdal_source("a/runoff.tif") == "a/runoff.tif"
    assert gdal_source("a/q.nc", "R") == 'NETCDF:"a/q.nc":R'
    with pytest.raises(InputDataError, match="not NetCDF") as exc:
        gdal_source("a/runoff.tif", "R")
    assert "a/runoff.tif" in str(exc.value) and "Fix:" in str(exc.value)


@pytest.mark.parametrize(
    "dtype,nodata",
    [
        ("float32", np.nan),
        ("float32", -9999.0),
        ("float32", -3.4e38),
        ("float32", None),
        ("float64", -1.0),
        ("int16", -32768),
        ("uint8", 255),
        ("uint8", None),
        ("uint16", 0),
    ],
)
def test_on_grid_read_equals_gdal_masked_read(small_grid, tmp_path, dtype, nodata):
    """The on-grid reader compares with the nodata value in the band's own type instead of
    building a masked array; it must give exactly what GDAL's masked read gives (float32, NaN
    where masked), including a float32 nodata not representable in float32 (-3.4e38)."""
    from carbonbudget.inputs.align import _read_valid

    rng = np.random.default_rng(2)
    data = rng.integers(1, 200, small_grid.shape).astype(dtype)
    if nodata is not None:
        data[::3, ::2] = np.asarray(nodata).astype(dtype)
    path = write_raster(tmp_path / "r.tif", data, small_grid, dtype=dtype, nodata=nodata)
    with rasterio.open(path) as src:
        got = _read_valid(src, None, None)
        ref = src.read(masked=True).astype("float32").filled(np.nan)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, ref)
    if nodata is not None:
        assert np.isnan(got[0, ::3, ::2]).all()


def test_on_grid_read_honours_a_mask_band(small_grid, tmp_path):
    from carbonbudget.inputs.align import _read_valid

    path = tmp_path / "masked.tif"
    with (
        rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True),
        rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=small_grid.width,
            height=small_grid.height,
            count=1,
            dtype="float32",
            crs=small_grid.crs,
            transform=small_grid.transform,
        ) as dst,
    ):
        dst.write(np.ones((1,) + small_grid.shape, "float32"))
        mask = np.full(small_grid.shape, 255, "uint8")
        mask[0, :] = 0
        dst.write_mask(mask)
    with rasterio.open(path) as src:
        got = _read_valid(src, None, None)
    assert np.isnan(got[0, 0]).all() and (got[0, 1:] == 1).all()


def test_nan_without_a_declared_nodata_does_not_blank_its_neighbours(tmp_path):
    """A 500 m float raster with NaN gaps and no nodata tag (as the MODIS extract of the Huaihai
    example, an Earth Engine export), averaged onto a 1 km grid: a target pixel is known when
    any of its source pixels is, and the average is over the known ones only."""
    from carbonbudget.core.grid import Grid
    from carbonbudget.inputs.align import align_raster

    fine = Grid.from_bounds(AEA, 500.0, [0.0, 0.0, 4000.0, 4000.0])
    coarse = Grid.from_bounds(AEA, 1000.0, [0.0, 0.0, 4000.0, 4000.0])
    data = np.full(fine.shape, 100.0)
    data[::2, ::2] = np.nan  # one of every 2 x 2 block
    data[4:6, 4:6] = np.nan  # one whole block
    src = write_raster(tmp_path / "npp.tif", data, fine, nodata=None)
    with rasterio.open(src) as r:
        assert r.nodata is None
    align_raster(src, str(tmp_path / "out.tif"), coarse, variable="npp")
    with rasterio.open(tmp_path / "out.tif") as r:
        out = r.read(1)
    assert np.isnan(out[2, 2]) and np.isfinite(out).sum() == 15
    np.testing.assert_array_equal(out[np.isfinite(out)], 100.0)


def _aligned_both_ways(src, grid, tmp_path, monkeypatch, **kwargs):
    """Align ``src`` as the pipeline does and with the in-place path switched off."""
    import carbonbudget.inputs.align as align_mod

    fast, copy = tmp_path / "in_place.tif", tmp_path / "copy.tif"
    align_raster(src, str(fast), grid, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(align_mod, "_readable_in_place", lambda *a: False)
        align_raster(src, str(copy), grid, **kwargs)
    return fast, copy


def test_on_grid_float32_in_pipeline_units_is_read_in_place(small_grid, tmp_path, monkeypatch):
    """A float32 GeoTIFF on the grid in canonical units becomes a VRT over the source (no
    copy), reading exactly what the copy path writes: nodata as NaN, band names, tags."""
    data = np.arange(12 * 20, dtype="float32").reshape((12,) + small_grid.shape) / 7.0
    data[3, 1, 2] = -9999.0
    src = write_raster(tmp_path / "p.tif", data, small_grid, nodata=-9999.0)
    months = [f"month {m}" for m in range(1, 13)]
    fast, copy = _aligned_both_ways(
        src,
        small_grid,
        tmp_path,
        monkeypatch,
        variable="precipitation",
        values=Values(units="mm", limits=(0.0, 3000.0)),
        band_descriptions=months,
    )
    with rasterio.open(fast) as f, rasterio.open(copy) as c:
        assert f.driver == "VRT" and c.driver == "GTiff"
        assert f.crs == c.crs and f.transform == c.transform and f.dtypes == c.dtypes
        assert f.descriptions == c.descriptions == tuple(months)
        assert f.tags()["units"] == c.tags()["units"] == "mm"
        a, b = f.read(), c.read()
    np.testing.assert_array_equal(a, b)
    assert np.isnan(a[3, 1, 2]) and np.isnan(a).sum() == 1
    assert fast.stat().st_size < 10_000  # a reference, not a copy of the pixels


def test_in_place_only_when_nothing_needs_rewriting(small_grid, tmp_path, monkeypatch):
    """Values in [-tolerance, 0) are zeroed and out-of-range values blanked by the copy, so such
    a source is copied; a value beyond the limits still fails, whichever path would be taken."""
    data = np.full(small_grid.shape, 100.0, "float32")
    data[0, 0] = -0.0005  # rounding noise below zero
    src = write_raster(tmp_path / "q.tif", data, small_grid)
    kwargs = dict(variable="runoff", values=Values(units="mm yr-1", negative_tolerance=0.001))
    fast, copy = _aligned_both_ways(src, small_grid, tmp_path, monkeypatch, **kwargs)
    with rasterio.open(fast) as f:
        assert f.driver == "GTiff" and f.read(1)[0, 0] == 0.0
    data[0, 0] = 50.0
    data[1, 1] = 70000.0  # outside valid_range: blanked by the copy
    src = write_raster(tmp_path / "r.tif", data, small_grid)
    out = tmp_path / "r_out.tif"
    align_raster(
        src, str(out), small_grid, variable="runoff", values=Values(valid_range=(0, 65000))
    )
    with rasterio.open(out) as f:
        assert f.driver == "GTiff" and np.isnan(f.read(1)[1, 1])
    with pytest.raises(InputDataError, match="r.tif"):
        align_raster(
            src, str(out), small_grid, variable="runoff", values=Values(limits=(0.0, 10000.0))
        )


def test_in_place_vrt_follows_a_moved_run_directory(small_grid, tmp_path):
    """Relative source paths stay relative in the VRT, so the run folder can move as a whole."""
    import os
    import shutil

    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    write_raster(run / "data/t.tif", np.full(small_grid.shape, 12.5), small_grid)
    cwd = os.getcwd()
    os.chdir(run)
    try:
        align_raster(
            "data/t.tif",
            "aligned/t.tif",
            small_grid,
            variable="npp",
            values=Values(units="g C m-2 yr-1"),
        )
    finally:
        os.chdir(cwd)
    shutil.move(run, tmp_path / "moved")
    with rasterio.open(tmp_path / "moved/aligned/t.tif") as f:
        assert f.driver == "VRT"
        np.testing.assert_array_equal(f.read(1), 12.5)
