"""Cloud-Optimised GeoTIFFs written by carbonbudget.core.io: a small layer waits for its COG
copy in memory, a large one in a temporary file; both give the same bytes."""

import os

import numpy as np
import pytest
import rasterio
import rasterio.shutil

from carbonbudget.core import io
from carbonbudget.core.grid import Grid

CRS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"


def _write(folder, grid, data, classes):
    folder.mkdir()
    layers = {str(folder / "a.tif"): data, str(folder / "b.tif"): data * 2}
    io.write_cogs(
        layers,
        grid,
        descriptions={p: f"layer {i}" for i, p in enumerate(layers)},
        units={p: "g C m-2 yr-1" for p in layers},
        tags={p: {"year": "2004"} for p in layers},
        threads=2,
    )
    io.write_class_cog(
        str(folder / "c.tif"),
        classes,
        grid,
        colours={1: (200, 0, 0), 2: (0, 0, 200)},
        labels={1: "deficit", 2: "surplus"},
        description="balance class",
        tags={"year": "2004"},
    )


# 553 x 484: two overview levels (the second built from the first, as GDAL's GeoTIFF driver
# builds them: its MEM driver builds each from the full resolution, other coarse averages);
# 240 x 320: one level; 90 x 100: one tile, none
@pytest.mark.parametrize("shape", [(553, 484), (240, 320), (90, 100)])
def test_a_layer_held_in_memory_gives_the_cog_of_the_temporary_file(tmp_path, monkeypatch, shape):
    grid = Grid.from_bounds(CRS, 1000.0, [0.0, 0.0, shape[1] * 1000.0, shape[0] * 1000.0])
    data = np.random.default_rng(1).normal(100.0, 30.0, shape).astype("float32")
    data[:7, :11] = np.nan
    data[100:, 50:90] = np.nan  # gaps the coarse levels average around
    classes = np.where(np.isnan(data), 0, np.where(data > 100, 2, 1)).astype("uint8")
    names = []
    intermediate = io._intermediate

    def spy(tmp, grid, dtype, **profile):
        ds = intermediate(tmp, grid, dtype, **profile)
        names.append(ds.name)
        return ds

    monkeypatch.setattr(io, "_intermediate", spy)
    _write(tmp_path / "memory", grid, data, classes)
    monkeypatch.setattr(io, "IN_MEMORY_PIXELS", 0)
    _write(tmp_path / "files", grid, data, classes)
    in_memory = [n.startswith("/vsimem/") for n in names]
    assert in_memory == [True] * 3 + [False] * 3

    for name in ("a.tif", "b.tif", "c.tif"):
        memory = (tmp_path / "memory" / name).read_bytes()
        assert memory == (tmp_path / "files" / name).read_bytes(), name
    # no temporary file is left behind by either path, on disk or in GDAL's memory
    for folder in ("memory", "files"):
        assert sorted(os.listdir(tmp_path / folder)) == ["a.tif", "b.tif", "c.tif"]
    assert not any(rasterio.shutil.exists(n) for n in names)
    with rasterio.open(tmp_path / "memory" / "b.tif") as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.descriptions == ("layer 1",) and ds.units == ("g C m-2 yr-1",)
        assert ds.tags()["year"] == "2004"
        assert len(ds.overviews(1)) == len(io.overview_factors(shape[1], shape[0]))
        np.testing.assert_array_equal(ds.read(1), data * 2)
    with rasterio.open(tmp_path / "memory" / "c.tif") as ds:
        np.testing.assert_array_equal(ds.read(1), classes)
        assert ds.colormap(1)[2][:3] == (0, 0, 200)


def test_a_scratch_raster_holds_the_values_of_the_cog_uncompressed_and_without_overviews(tmp_path):
    """What a job writes to read back itself (the RH terms of rh_attribution): the COG's values,
    NaN where the COG has NaN, one level, no compression; a dask layer as a numpy one."""
    import dask.array as da

    grid = Grid.from_bounds(CRS, 1000.0, [0.0, 0.0, 484 * 1000.0, 553 * 1000.0])
    data = np.random.default_rng(2).normal(100.0, 30.0, grid.shape).astype("float32")
    data[40:90, 7:300] = np.nan
    cog, scratch = str(tmp_path / "cog.tif"), str(tmp_path / "scratch.tif")
    lazy = str(tmp_path / "lazy.tif")
    io.write_cogs({cog: data}, grid)
    io.write_scratch(
        {scratch: data, lazy: da.from_array(data.astype("float64"), chunks=(256, 200))}, grid
    )
    with rasterio.open(cog) as a:
        expected = a.read(1)
        assert a.overviews(1) and a.compression is not None
    for path in (scratch, lazy):
        with rasterio.open(path) as b:
            np.testing.assert_array_equal(b.read(1), expected)
            assert b.dtypes == ("float32",) and np.isnan(b.nodata)
            assert b.overviews(1) == [] and b.compression is None
            assert b.profile["tiled"] and b.transform == grid.transform and b.crs == grid.crs
    assert sorted(os.listdir(tmp_path)) == ["cog.tif", "lazy.tif", "scratch.tif"]


@pytest.mark.parametrize("in_memory", [True, False])
def test_what_is_written_can_be_read_back_uncompressed_before_it_is_deleted(
    tmp_path, monkeypatch, in_memory
):
    """``then`` gets, for each COG, a raster of its values that is not compressed (the year's
    zonal totals read the fluxes there): equal to the COG, on the grid, gone afterwards; in GDAL's
    memory for a small layer, a temporary file beside the COG for a large one."""
    grid = Grid.from_bounds(CRS, 1000.0, [0.0, 0.0, 320 * 1000.0, 240 * 1000.0])
    data = np.random.default_rng(4).normal(100.0, 30.0, grid.shape).astype("float32")
    data[10:20, 30:200] = np.nan
    if not in_memory:
        monkeypatch.setattr(io, "IN_MEMORY_PIXELS", 0)
    layers = {str(tmp_path / "a.tif"): data, str(tmp_path / "b.tif"): data * 2}
    seen = {}

    def read(written):
        for path, name in written.items():
            assert name != path and name.startswith("/vsimem/") == in_memory
            with rasterio.open(name) as src:
                assert src.compression is None and src.transform == grid.transform
                seen[path] = (name, src.read(1))

    io.write_cogs(layers, grid, then=read)
    assert sorted(seen) == sorted(layers)
    for path, (name, values) in seen.items():
        with rasterio.open(path) as cog:
            np.testing.assert_array_equal(values, cog.read(1))
        with pytest.raises(rasterio.errors.RasterioIOError):
            rasterio.open(name)
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "b.tif"]
