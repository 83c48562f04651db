"""Climatologies (inputs without {year}) are checked, aligned and turned into fluxes once; the
yearly fluxes combine them with each year's inputs."""

import math

import numpy as np
import pytest
import rasterio
from helpers import AEA, demo_config, write_raster

from carbonbudget.core.config import flux_periods, validate_config
from carbonbudget.pipeline.paths import (
    Layout,
    aligned_outputs,
    climatology_raw_inputs,
    flux_year_inputs,
)
from carbonbudget.science import fluxes as flux_kernels
from carbonbudget.science.fluxes import compute_fluxes, plan_fluxes


def _cfg(**paths):
    cfg = demo_config()
    del cfg["trends"]["variables"]  # the default follows which fluxes can have a trend
    for key, value in paths.items():
        section, name = key.split("__")
        cfg[section][name] = value
    return validate_config(cfg)


def test_flux_periods_follow_which_inputs_have_a_year():
    assert flux_periods(_cfg()) == (("rh", "nep", "rcs", "ecs"), ())
    runoff = _cfg(runoff__path="r/normal.tif")
    assert flux_periods(runoff) == (("rh", "nep", "ecs"), ("rcs",))
    climate = _cfg(
        climate__temperature="t.nc", climate__precipitation="p.nc", runoff__path="r/normal.tif"
    )
    assert flux_periods(climate) == (("nep", "ecs"), ("rh", "rcs"))
    # the Huaihai case: yearly NPP against climate and runoff normals
    layout = Layout("o", "county")
    assert set(aligned_outputs(climate, layout)) == {"npp"}
    assert set(aligned_outputs(climate, layout, "climatology")) == {
        "temperature",
        "precipitation",
        "runoff",
    }
    assert set(climatology_raw_inputs(climate)) == {"temperature", "precipitation", "runoff"}
    inputs = flux_year_inputs(climate, layout)
    assert set(inputs) == {"npp", "rh", "rcs"}  # RH and RCS read, not recomputed
    assert inputs["rh"] == "o/.work/pixels/rh/rh_climatology.tif"
    everything = _cfg(
        climate__temperature="t.nc",
        climate__precipitation="p.nc",
        runoff__path="r/normal.tif",
        npp__path="npp_mean.tif",
    )
    assert flux_periods(everything) == ((), ("rh", "nep", "rcs", "ecs"))
    only_temperature = _cfg(climate__temperature="t.nc")
    assert flux_periods(only_temperature) == (("rh", "nep", "rcs", "ecs"), ())


def test_a_climatology_flux_cannot_have_a_trend():
    from carbonbudget.core.errors import ConfigError

    cfg = demo_config()
    cfg["runoff"]["path"] = "r/normal.tif"
    cfg.setdefault("trends", {})["variables"] = ["rcs", "ecs"]
    with pytest.raises(ConfigError, match=r"\['rcs'\] come from climatologies only"):
        validate_config(cfg)
    del cfg["trends"]["variables"]
    assert validate_config(cfg)["trends"]["variables"] == ["nep", "ecs"]


@pytest.mark.parametrize(
    "inputs,wanted,plan",
    [
        ({"temperature", "precipitation", "npp", "runoff"}, {"rh", "nep", "rcs", "ecs"}, "fused"),
        ({"temperature", "precipitation", "npp", "runoff"}, {"rh", "nep", "ecs"}, "fused"),
        ({"temperature", "precipitation", "runoff"}, {"rh", "rcs"}, "respiration"),
        ({"npp", "rh", "rcs"}, {"nep", "ecs"}, "balance"),
        ({"npp", "rh", "runoff"}, {"nep", "rcs", "ecs"}, "balance"),
        ({"runoff"}, {"rcs"}, "rock_weathering"),
    ],
)
def test_plan_fluxes(inputs, wanted, plan):
    assert plan_fluxes(inputs | {"coefficient", "fraction"}, wanted) == plan


def test_plan_fluxes_refuses_what_the_inputs_cannot_give():
    with pytest.raises(ValueError, match="need NPP and RH"):
        plan_fluxes({"npp", "runoff", "coefficient", "fraction"}, {"nep"})


def _random_inputs(seed=1, shape=(17, 23)):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-25, 35, (12,) + shape).astype("float32")
    p = rng.uniform(0, 400, (12,) + shape).astype("float32")
    npp = rng.uniform(0, 1200, shape).astype("float32")
    q = rng.uniform(0, 1500, shape).astype("float32")
    a = rng.choice([0.0, 0.095, 0.672, 1.586], shape).astype("float32")
    mask = (rng.uniform(size=shape) > 0.1).astype("uint8")
    t[3, 2, 2] = np.nan
    npp[4, 5] = np.nan
    return t, p, npp, q, a, mask


def test_respiration_kernel_is_the_rh_of_the_full_kernel_bit_for_bit():
    t, p, npp, q, a, mask = _random_inputs()
    full = flux_kernels.carbon_fluxes(t, p, npp, q, a, mask, False)
    for annual in (False, True):
        rh = flux_kernels.respiration(t[:1] if annual else t, p[:1] if annual else p, mask, annual)
        ref = (
            flux_kernels.carbon_fluxes(t[:1], p[:1], npp, q, a, mask, True)[0]
            if annual
            else full[0]
        )
        np.testing.assert_array_equal(rh[0], ref)


def test_balance_from_stored_rh_and_rcs_equals_the_full_kernel_to_float32_rounding():
    t, p, npp, q, a, mask = _random_inputs()
    full = flux_kernels.carbon_fluxes(t, p, npp, q, a, mask, False)
    nep, ecs = flux_kernels.sink_balance(npp, full[0], full[2], mask)
    # RH and RCS were rounded to float32 once before the subtraction: at most a few ulp apart
    np.testing.assert_allclose(nep, full[1], rtol=2e-6, atol=2e-4)
    np.testing.assert_allclose(ecs, full[3], rtol=2e-6, atol=2e-4)
    assert np.array_equal(np.isnan(nep), np.isnan(full[1]))
    assert np.isnan(nep[mask == 0]).all() and np.isnan(ecs[4, 5])


def test_climatology_then_yearly_stage_equals_the_all_yearly_stage(tmp_path):
    """compute_fluxes on climate normals once (RH, RCS), then on a year's NPP (NEP, ECS), gives
    what the fused kernel gives on the same rasters in one go."""
    from carbonbudget.core.grid import Grid

    grid = Grid.from_bounds(AEA, 1000.0, [0.0, 0.0, 23000.0, 17000.0])
    t, p, npp, q, a, mask = _random_inputs()
    src = {
        "temperature": write_raster(tmp_path / "t.tif", t, grid),
        "precipitation": write_raster(tmp_path / "p.tif", p, grid),
        "npp": write_raster(tmp_path / "n.tif", npp, grid),
        "runoff": write_raster(tmp_path / "q.tif", q, grid),
        "coefficient": write_raster(tmp_path / "a.tif", a, grid),
        "fraction": write_raster(tmp_path / "f.tif", mask.astype("float32"), grid),
    }
    spec = {"crs": AEA, "resolution": 1000.0, "bounds": list(grid.bounds)}
    every = {v: str(tmp_path / f"all_{v}.tif") for v in ("rh", "nep", "rcs", "ecs")}
    compute_fluxes(
        grid_spec=spec, timestep="monthly", inputs=src, outputs=every, period=2001, chunk_size=64
    )
    once = {v: str(tmp_path / f"clim_{v}.tif") for v in ("rh", "rcs")}
    compute_fluxes(
        grid_spec=spec,
        timestep="monthly",
        inputs={
            k: src[k] for k in ("temperature", "precipitation", "runoff", "coefficient", "fraction")
        },
        outputs=once,
        period="climatology",
        chunk_size=8,
    )
    yearly = {v: str(tmp_path / f"y_{v}.tif") for v in ("nep", "ecs")}
    compute_fluxes(
        grid_spec=spec,
        timestep="monthly",
        inputs={
            "npp": src["npp"],
            "rh": once["rh"],
            "rcs": once["rcs"],
            "coefficient": src["coefficient"],
            "fraction": src["fraction"],
        },
        outputs=yearly,
        period=2001,
        chunk_size=8,
    )

    def read(path):
        with rasterio.open(path) as r:
            return r.read(1), r.descriptions[0]

    for v in ("rh", "rcs"):
        got, desc = read(once[v])
        np.testing.assert_array_equal(got, read(every[v])[0])
        assert "climatology (the same every year)" in desc
    for v in ("nep", "ecs"):
        np.testing.assert_allclose(read(yearly[v])[0], read(every[v])[0], rtol=2e-6, atol=2e-4)


def test_a_negative_input_is_named_and_the_callers_own_errors_are_left_alone(tmp_path):
    """A negative runoff found by the kernel is an InputDataError naming the runoff file; an
    error of ``then`` (the year's zonal totals run inside the fluxes' error naming) stays its own
    error, even when it says "negative"."""
    from carbonbudget.core.errors import InputDataError
    from carbonbudget.core.grid import Grid

    grid = Grid.from_bounds(AEA, 1000.0, [0.0, 0.0, 23000.0, 17000.0])
    t, p, npp, q, a, mask = _random_inputs()
    mask[0, 0] = 1
    names = ("temperature", "precipitation", "npp", "runoff", "coefficient", "fraction")
    arrays = (t, p, npp, q, a, mask.astype("float32"))
    src = {k: write_raster(tmp_path / f"{k}.tif", v, grid) for k, v in zip(names, arrays)}
    spec = {"crs": AEA, "resolution": 1000.0, "bounds": list(grid.bounds)}
    outputs = {v: str(tmp_path / f"{v}.tif") for v in ("rh", "nep", "rcs", "ecs")}

    def zonal(written):
        raise ValueError("negative weights in the zonal totals")

    with pytest.raises(ValueError, match="negative weights in the zonal totals") as exc:
        compute_fluxes(
            grid_spec=spec,
            timestep="monthly",
            inputs=src,
            outputs=outputs,
            period=2001,
            then=zonal,
        )
    assert not isinstance(exc.value, InputDataError)

    q[0, 0] = -5.0
    src["runoff"] = write_raster(tmp_path / "runoff_negative.tif", q, grid)
    with pytest.raises(InputDataError, match="negative runoff values") as exc:
        compute_fluxes(grid_spec=spec, timestep="monthly", inputs=src, outputs=outputs, period=2001)
    assert "runoff_negative.tif" in str(exc.value)


def test_rh_splits_exactly_into_its_temperature_and_precipitation_terms():
    """One pixel, twelve months at 10 °C and 100 mm: RH_T = k · 12 · exp(0.913) and
    RH_P = k · 12 · ln(32.45) with k = 0.22 · 30 · 0.465 (Eq. 3); on random inputs the two
    terms add up to RH (float32 rounding of each) and are NaN where RH is."""
    k = 0.22 * 30 * 0.465
    t = np.full((12, 1, 1), 10.0, dtype="float32")
    p = np.full((12, 1, 1), 100.0, dtype="float32")
    one = np.ones((1, 1), dtype="uint8")
    parts = flux_kernels.respiration_parts(t, p, one, False)
    assert parts[0, 0, 0] == pytest.approx(k * 12 * math.exp(0.913), rel=1e-6)
    assert parts[1, 0, 0] == pytest.approx(k * 12 * math.log(0.3145 * 100 + 1), rel=1e-6)
    t, p, npp, q, a, mask = _random_inputs()
    for annual in (False, True):
        tt, pp = (t[:1], p[:1]) if annual else (t, p)
        rh = flux_kernels.respiration(tt, pp, mask, annual)[0]
        parts = flux_kernels.respiration_parts(tt, pp, mask, annual)
        np.testing.assert_allclose(parts[0] + parts[1], rh, rtol=1e-6)
        assert np.array_equal(np.isnan(parts[0]), np.isnan(rh))
        assert not np.isnan(parts[1][mask == 1]).any()  # precipitation known where T is not


def test_rh_terms_are_the_same_on_numpy_and_dask():
    import xarray as xr

    from carbonbudget.science.fluxes import compute_respiration_parts

    t, p, _, _, _, mask = _random_inputs()
    dims = ("month", "y", "x")
    args = (
        xr.DataArray(t, dims=dims),
        xr.DataArray(p, dims=dims),
        xr.DataArray(mask, dims=dims[1:]),
    )
    eager = compute_respiration_parts(*args)
    lazy = compute_respiration_parts(*(a.chunk({"y": 4, "x": 5}) for a in args))
    for name in ("rh_temperature", "rh_precipitation"):
        np.testing.assert_array_equal(eager[name].values, lazy[name].compute().values)


def test_rh_is_split_at_the_ends_of_the_decomposition_period_when_the_climate_changes():
    from carbonbudget.pipeline.paths import rh_split_years

    cfg = _cfg()
    assert rh_split_years(cfg) == [cfg["years"][0], cfg["years"][-1]]  # the period's ends
    cfg["decomposition"]["years"] = [cfg["years"][1], cfg["years"][-2]]
    assert rh_split_years(cfg) == [cfg["years"][1], cfg["years"][-2]]
    normals = _cfg(climate__temperature="t_normals.tif", climate__precipitation="p_normals.tif")
    assert rh_split_years(normals) == []  # a climatology: both terms are the same every year
