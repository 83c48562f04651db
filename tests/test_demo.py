"""The demo inputs: deterministic bytes and physically plausible values."""

import hashlib

import geopandas as gpd
import pandas as pd
import rasterio

from carbonbudget.inputs.demo import HISTORY_YEARS, NPP_SCALE, build_demo
from carbonbudget.inputs.demo_files import DEMO_YEARS, demo_files, demo_paths


def _digests(root):
    return {
        f[len(root) :]: hashlib.sha256(open(f, "rb").read()).hexdigest() for f in demo_files(root)
    }


def test_same_bytes_every_run_and_plausible(tmp_path):
    """The same bytes twice, and on two threads (the years written in parallel) as on one."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    build_demo(a)
    build_demo(b, threads=2)
    assert _digests(a) == _digests(b)

    p = demo_paths(a)
    regions = gpd.read_file(p["regions"])
    assert 30 <= len(regions) <= 40 and regions["city_code"].nunique() == 8
    assert regions["province_code"].nunique() == 3
    assert regions["county_code"].str.fullmatch(r"\d{6}").all()
    assert regions.crs.is_projected
    with rasterio.open(p["npp"].format(year=2005)) as r:
        npp = r.read(1, masked=True).compressed() * NPP_SCALE * 1000  # g C m-2 yr-1
    assert npp.min() >= 100 and npp.max() <= 1200
    with rasterio.open(p["runoff"].format(year=2005)) as r:
        q = r.read(1)
    assert q.min() >= 20 and q.max() <= 1500
    with rasterio.open(p["temperature"].format(year=2005)) as r:
        t = r.read()
    assert r.count == 12 and t[6].mean() > t[0].mean() + 5  # July warmer than January
    em = pd.read_csv(p["emissions"], dtype={"county_code": str})
    tot = em.groupby("year")["co2_mt"].sum()
    assert list(tot.index) == HISTORY_YEARS + DEMO_YEARS  # earlier years train the CE model
    assert tot[DEMO_YEARS[-1]] > 1.3 * tot[DEMO_YEARS[0]] > 1.3**2 * tot[HISTORY_YEARS[0]]
    # scenario rasters: coarse WGS84 grids with the units the config declares
    with rasterio.open(p["scenario_npp"].format(scenario="A2", year=2060)) as r:
        assert (
            r.crs.to_epsg() == 4326
            and r.res == (0.1, 0.1)
            and r.tags(1)["units"] == "kg C m-2 yr-1"
        )
    drivers = pd.read_csv(p["drivers"])
    assert list(drivers["year"]) == HISTORY_YEARS + DEMO_YEARS and drivers.notna().all().all()
    assert set(em["county_code"]) == set(regions["county_code"])
