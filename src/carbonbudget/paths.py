"""File names of the DAG: raw inputs named by the config and the outputs of each stage.

Kept here (not in the Snakefile) so that rules stay declarative and tests can import them.
"""

from __future__ import annotations

from .align import month_paths

FLUXES = ("rh", "nep", "rcs", "ecs")


def year_inputs(cfg: dict, year: int) -> dict:
    """Raw per-year inputs: temperature and precipitation (lists), npp and runoff (paths)."""
    return {
        "temperature": month_paths(cfg["climate"]["temperature"], year),
        "precipitation": month_paths(cfg["climate"]["precipitation"], year),
        "npp": cfg["npp"]["path"].format(year=year),
        "runoff": (cfg["runoff"]["et"] if cfg["runoff"].get("source") == "water_balance"
                   else cfg["runoff"]["path"]).format(year=year),
    }


def year_input_files(cfg: dict, year: int) -> list[str]:
    """Flat list of one year's raw input files."""
    yi = year_inputs(cfg, year)
    return yi["temperature"] + yi["precipitation"] + [yi["npp"], yi["runoff"]]


def static_inputs(cfg: dict) -> list[str]:
    """Inputs shared by all years: lithology and its tables, regions, emissions, socio-economics."""
    files = [cfg["lithology"]["path"], cfg["lithology"]["classes"],
             cfg["lithology"]["coefficients"], cfg["regions"]["path"], cfg["emissions"]["path"]]
    if cfg.get("socioeconomic"):
        files.append(cfg["socioeconomic"]["path"])
    return files


def raw_inputs(cfg: dict) -> list[str]:
    """Every input file the config names (provenance digests them all)."""
    return [f for y in cfg["years"] for f in year_input_files(cfg, y)] + static_inputs(cfg)


def budget_levels(cfg: dict) -> list[str]:
    """Region levels finest first, then the study area."""
    return list(cfg["regions"]["levels"]) + ["study_area"]


def config_sections(cfg: dict, *keys: str) -> dict:
    """The named sections of the config (for a rule's params: a job reruns only when a section
    it reads changes, e.g. adding a year does not rerun the checks of other years)."""
    return {k: cfg[k] for k in keys if k in cfg}


def run_info(cfg: dict) -> dict:
    """What the GeoPackage's metadata layer records about a run (no timestamps)."""
    from .config import config_digest

    return {"config_digest": config_digest(cfg), "years": cfg["years"],
            "emissions": cfg["emissions"]["path"], "regions": cfg["regions"]["path"],
            "grid": cfg["grid"]}
