"""Per-pixel stage under a dask.distributed cluster vs threads; progress lines in the logs."""

import logging

import numpy as np
import pytest
import rasterio
from helpers import AEA, write_raster

from carbonbudget.core.config import FLUX_VARS
from carbonbudget.core.grid import Grid
from carbonbudget.science.fluxes import compute_fluxes


@pytest.fixture(scope="module")
def aligned_year(tmp_path_factory):
    """One year of aligned inputs on a 150 × 200 grid (chunks of 64 -> 3 row groups)."""
    root = tmp_path_factory.mktemp("aligned")
    grid = Grid.from_bounds(AEA, 1000.0, [0.0, 0.0, 200_000.0, 150_000.0])
    rng = np.random.default_rng(11)
    shape = grid.shape
    t = rng.uniform(-10, 28, (12,) + shape).astype("float32")
    p = rng.uniform(0, 250, (12,) + shape).astype("float32")
    t[:, :10, :10] = np.nan
    paths = {
        "temperature": write_raster(root / "t.tif", t, grid),
        "precipitation": write_raster(root / "p.tif", p, grid),
        "npp": write_raster(root / "npp.tif", rng.uniform(50, 1100, shape), grid),
        "runoff": write_raster(root / "q.tif", rng.uniform(10, 1400, shape), grid),
        "coefficient": write_raster(root / "a.tif", rng.choice([0.0, 0.095, 1.586], shape), grid),
        "fraction": write_raster(root / "f.tif", (rng.uniform(size=shape) > 0.05), grid),
    }
    return grid, paths, root


def _run(grid, paths, out_dir, dask_spec):
    outputs = {v: str(out_dir / f"{v}.tif") for v in FLUX_VARS}
    out_dir.mkdir()
    compute_fluxes(
        grid_spec={"crs": AEA, "resolution": 1000.0, "bounds": list(grid.bounds)},
        timestep="monthly",
        inputs=paths,
        outputs=outputs,
        period=2001,
        chunk_size=64,
        threads=2,
        dask_spec=dask_spec,
    )
    out = {}
    for v, path in outputs.items():
        with rasterio.open(path) as r:
            out[v] = r.read(1)
    return out


def test_distributed_cluster_gives_identical_results_to_threads(aligned_year, caplog):
    grid, paths, root = aligned_year
    with caplog.at_level(logging.INFO, logger="carbonbudget"):
        threads = _run(grid, paths, root / "threads", {"scheduler": "threads"})
        dist = _run(grid, paths, root / "distributed", {"scheduler": "distributed"})
    for v in FLUX_VARS:
        assert np.isfinite(threads[v]).mean() > 0.9
        np.testing.assert_array_equal(dist[v], threads[v])
    assert "local distributed cluster" in caplog.text
    # threads: blocks written as they come, a progress line about every 10 % of them;
    # distributed: one line per row group of chunks (150 rows / 64 -> 3); both with timings
    messages = [r.getMessage() for r in caplog.records]
    blocks = [m for m in messages if "fluxes 2001:" in m and "of the blocks computed in" in m]
    rows = [m for m in messages if "fluxes 2001: rows" in m]
    assert blocks[-1].startswith("fluxes 2001: 100 % of the blocks computed in")
    percents = [float(m.split(": ")[1].split(" %")[0]) for m in blocks]
    assert percents == sorted(percents) and 8 <= len(blocks) <= 11
    assert len(rows) == 3 and "fluxes 2001: rows 150/150 (100 %) computed in" in rows[-1]
    assert messages.index(rows[0]) > messages.index(blocks[-1])  # threads ran first


def test_distributed_cluster_at_an_address(aligned_year):
    from distributed import LocalCluster

    grid, paths, root = aligned_year
    reference = _run(grid, paths, root / "ref", None)
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        got = _run(
            grid,
            paths,
            root / "addr",
            {"scheduler": "distributed", "address": cluster.scheduler_address},
        )
    for v in FLUX_VARS:
        np.testing.assert_array_equal(got[v], reference[v])


def test_an_unreachable_scheduler_fails_fast_naming_its_address(aligned_year, monkeypatch):
    import time

    from carbonbudget.core import io
    from carbonbudget.core.errors import ConfigError

    # the error, not the wait, is under test: 1 s instead of the 10 s a run allows
    monkeypatch.setattr(io, "CONNECT_TIMEOUT_S", 1)
    grid, paths, root = aligned_year
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="no dask scheduler answers at tcp://127.0.0.1:9"):
        _run(
            grid,
            paths,
            root / "nowhere",
            {"scheduler": "distributed", "address": "tcp://127.0.0.1:9"},
        )
    assert time.perf_counter() - t0 < 10  # the timeout, not distributed's default retries
