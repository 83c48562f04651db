"""Where the demo's synthetic inputs live, without building them: light on purpose, since the
Snakefile imports it to name the outputs of rule build_demo (:mod:`carbonbudget.inputs.demo`
builds them).
"""

from __future__ import annotations

import os

DEMO_YEARS = list(range(2001, 2011))


# Scenario sink rasters: 0.1° WGS84 like a coarse scenario product, four years each.
# Changes per year after 2010 are illustrative placeholders, not published scenarios.
SCENARIO_YEARS = [2030, 2060]


SCENARIOS = {
    "A2": {"dt_per_yr": 0.035, "dp_per_yr": -0.001, "dnpp_per_yr": -0.002},
    "B1": {"dt_per_yr": 0.018, "dp_per_yr": 0.0005, "dnpp_per_yr": 0.003},
}


def demo_paths(root: str = "data/demo") -> dict:
    """Where the demo files live (patterns with {year} as in the config)."""
    return {
        "temperature": f"{root}/climate/tmean_{{year}}.tif",
        "precipitation": f"{root}/climate/prcp_{{year}}.tif",
        "npp": f"{root}/npp/npp_{{year}}.tif",
        "runoff": f"{root}/runoff/runoff_{{year}}.tif",
        "lithology": f"{root}/lithology/glim_codes.tif",
        "regions": f"{root}/regions/counties.gpkg",
        "basins": f"{root}/regions/basins.gpkg",
        "emissions": f"{root}/emissions/county_co2.csv",
        "socioeconomic": f"{root}/socioeconomic/county_socioeconomic.csv",
        "fuel_consumption": f"{root}/energy/province_fuel_consumption.csv",
        "drivers": f"{root}/scenarios/drivers.csv",
        "population": f"{root}/population/population_density.tif",
        "scenario_temperature": f"{root}/scenarios/{{scenario}}/climate/tmean_{{year}}.tif",
        "scenario_precipitation": f"{root}/scenarios/{{scenario}}/climate/prcp_{{year}}.tif",
        "scenario_npp": f"{root}/scenarios/{{scenario}}/npp/npp_{{year}}.tif",
        "scenario_runoff": f"{root}/scenarios/{{scenario}}/runoff/runoff_{{year}}.tif",
    }


def demo_root(path: str) -> str:
    """The demo root directory of one of the files :func:`demo_files` lists."""
    return os.path.dirname(os.path.dirname(path))


def demo_files(root: str = "data/demo") -> list[str]:
    """Every file :func:`build_demo` writes."""
    p = demo_paths(root)
    files = [
        p[k].format(year=y)
        for k in ("temperature", "precipitation", "npp", "runoff")
        for y in DEMO_YEARS
    ]
    files += [
        p[f"scenario_{k}"].format(scenario=sc, year=y)
        for k in ("temperature", "precipitation", "npp", "runoff")
        for sc in SCENARIOS
        for y in SCENARIO_YEARS
    ]
    return files + [
        p[k]
        for k in (
            "lithology",
            "regions",
            "basins",
            "emissions",
            "socioeconomic",
            "fuel_consumption",
            "drivers",
            "population",
        )
    ]
