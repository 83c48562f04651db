"""The config schema: defaults, refusals of misspelt keys and wrong types."""

import copy

import pytest
import yaml

from carbonbudget.config import validate_config
from carbonbudget.errors import ConfigError

from conftest import REPO


@pytest.fixture
def cfg():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_default_config_valid_and_defaults_filled(cfg):
    del cfg["processing"], cfg["trends"]
    out = validate_config(cfg)
    assert out["processing"] == {"chunk_size": 512, "gdal_cachemax_mb": 256,
                                 "coverage_cache": "cache/coverage"}
    assert out["trends"]["min_valid_years"] == 3
    assert out["regions"]["derive_parents"] == "none"
    assert out["years"] == list(range(2001, 2011))


@pytest.mark.parametrize("path,key", [((), "grdi"), (("npp",), "scael"), (("balance",), "tolerance")])
def test_misspelt_key_fails(cfg, path, key):
    bad = copy.deepcopy(cfg)
    sec = bad
    for p in path:
        sec = sec[p]
    sec[key] = 1
    with pytest.raises(ConfigError, match=f"'{key}' was unexpected"):
        validate_config(bad)


def test_wrong_types_and_missing_sections(cfg):
    bad = copy.deepcopy(cfg)
    bad["grid"]["resolution"] = -5
    with pytest.raises(ConfigError, match="grid/resolution"):
        validate_config(bad)
    bad = copy.deepcopy(cfg)
    del bad["emissions"]
    with pytest.raises(ConfigError, match="emissions"):
        validate_config(bad)
    bad = copy.deepcopy(cfg)
    bad["climate"]["timestep"] = "daily"
    with pytest.raises(ConfigError, match="timestep"):
        validate_config(bad)


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
    cfg["years"] = [2001]            # discovery needs the files; the rest must validate as is
    out = validate_config(cfg)
    assert out["npp"]["valid_range"] == [0, 32700]
    assert out["regions"]["derive_parents"] == "adcode"


def test_discover_reports_incomplete_years(cfg, tmp_path, caplog):
    import logging

    for y in (2003, 2004):
        for m in range(1, 13):
            if y == 2004 and m == 7:
                continue                        # one month missing in 2004
            (tmp_path / f"t_{y}{m:02d}.tif").write_bytes(b"")
            (tmp_path / f"p_{y}{m:02d}.tif").write_bytes(b"")
        (tmp_path / f"n_{y}.tif").write_bytes(b"")
        (tmp_path / f"r_{y}.tif").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        assert validate_config(_discover_in(cfg, tmp_path, "{year}{month}"))["years"] == [2003]
    assert "2004 (missing climate.precipitation, climate.temperature)" in caplog.text
