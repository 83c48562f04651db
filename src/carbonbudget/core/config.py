"""Configuration: JSON-schema validation with defaults, and derived settings (docs/data.md)."""

from __future__ import annotations

import copy
import functools
import glob
import hashlib
import json
import logging
import os
import re
from importlib import resources
from typing import TYPE_CHECKING

import jsonschema
import yaml

from carbonbudget.core.errors import ConfigError, InputDataError

if TYPE_CHECKING:
    from typing import Any

SCHEMA_FILE = "config.schema.yaml"
log = logging.getLogger(__name__)


@functools.cache
def _schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text()


@functools.cache
def _parsed_schema() -> dict:
    # parsed once per process: the schema is ~2,000 lines and pure-Python YAML parsing takes
    # ~0.3 s, which every module calling schema_default at import paid again; libyaml's
    # loader where PyYAML has it
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(_schema_text(), Loader=loader)  # noqa: S506 (a safe loader)


def load_schema() -> dict:
    """The configuration schema (a fresh copy: validation fills defaults into what it gets)."""
    return copy.deepcopy(_parsed_schema())


def schema_default(*path: str) -> Any:
    """The default the schema gives the key at ``path`` (e.g. ``("trends", "min_valid_years")``):
    the one place a default is written, so that library functions called without a config use
    the same value as a run."""
    node = _parsed_schema()
    for key in path:
        node = node["properties"][key]
    return copy.deepcopy(node["default"])


def _with_defaults(validator_class):
    """Fill ``default`` values while validating (the jsonschema FAQ pattern, as Snakemake's
    ``validate(..., set_default=True)`` does), so code never re-states a default."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def fill_section(name: str, section: dict) -> dict:
    """A copy of one config ``section`` (e.g. ``"npp"``) validated against its schema, with the
    schema's defaults filled in: what the library's functions expect when they are called
    without a whole config (the functions never re-state a default)."""
    schema = load_schema()
    sub = dict(schema["properties"][name], **{"$schema": schema["$schema"]})
    out = copy.deepcopy(section)
    validator = _with_defaults(jsonschema.Draft202012Validator)(sub)
    errors = list(validator.iter_errors(out))
    if errors:
        raise ConfigError(f"{name}: " + "; ".join(e.message for e in errors[:5]))
    return out


def validate_config(config: dict) -> dict:
    """Validate a config dict against the schema, fill defaults, resolve years; return a copy.

    Raises :class:`ConfigError` naming the offending key path and what is expected.
    """
    cfg = copy.deepcopy(dict(config))
    schema = load_schema()
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(
            "invalid configuration:\n" + "\n".join(_schema_error(schema, e) for e in errors[:10])
        )
    # defaults of sections that were absent get their nested defaults too
    validator.validate(cfg)
    if isinstance(cfg["years"], dict):
        cfg["years"] = discover_years(cfg)
    cfg["years"] = sorted(int(y) for y in cfg["years"])
    _check_level_names(cfg)
    _resolve_emission_raster(cfg)
    _resolve_stages(cfg)
    _resolve_spatial(cfg)
    _check_uncertainty(cfg)
    _check_map_boxes(cfg["outputs"]["maps"])
    _resolve_fact_sheets(cfg)
    _check_decomposition(cfg)
    _resolve_emission_compare(cfg)
    return cfg


# The table the pipeline writes from a gridded second source (its regional sums), as
# EMISSIONS_FROM_GRID is for the emissions
COMPARE_FROM_GRID = "interim/emissions/compare_from_grid.csv"


def _resolve_emission_compare(cfg: dict) -> None:
    """emission_compare: checked as an emissions section (its keys other than name and years);
    a gridded source moves to ``raster`` and the table becomes the regional sums the pipeline
    writes of it. Becomes {name, years, table, raster}."""
    given = cfg.get("emission_compare")
    if not given:
        return
    section = {k: v for k, v in given.items() if k not in ("name", "years")}
    # the years the source covers that the run has (a run of fewer years compares those)
    years = sorted(set(int(y) for y in given.get("years") or cfg["years"]) & set(cfg["years"]))
    if not years:
        raise ConfigError(
            f"emission_compare.years: none of {given.get('years')} is a year of the run "
            f"({cfg['years'][0]}–{cfg['years'][-1]})"
        )
    try:
        table = fill_section("emissions", section)
    except ConfigError as exc:
        raise ConfigError(f"emission_compare (checked as an emissions section): {exc}") from exc
    raster = None
    if table.get("source") == "raster":
        if "{year}" not in table["path"] and "first_year" not in table:
            raise ConfigError(
                "emission_compare.path: a gridded source needs {year} in its path, or "
                "first_year (the year of band 1) for one file with a band per year"
            )
        raster = table
        table = fill_section(
            "emissions",
            {
                "path": f"{cfg['outputs']['dir']}/{WORK_DIR}/{COMPARE_FROM_GRID}",
                "region_col": "code",
                "year_col": "year",
                "value_col": "ce_tgco2",
                "units": "Tg CO2",
            },
        )
    cfg["emission_compare"] = {
        "name": given["name"],
        "years": years,
        "table": table,
        "raster": raster,
    }


def _check_decomposition(cfg: dict) -> None:
    """decomposition.years inside the run's years; drivers of a level of the run, with one
    table giving the population and one the GDP in a currency."""
    dec = cfg["decomposition"]
    years = dec.get("years")
    if years and not (years[0] < years[1] and set(years) <= set(cfg["years"])):
        raise ConfigError(
            f"decomposition.years: {years} must be two of the run's years {cfg['years'][0]}–"
            f"{cfg['years'][-1]}, the first before the last"
        )
    drivers = dec.get("drivers")
    if dec.get("co2_by_fuel") and not drivers:
        raise ConfigError(
            "decomposition.co2_by_fuel gives CO2 of the level of decomposition.drivers, which "
            "is not given: add drivers (population and GDP of that level)"
        )
    if not drivers:
        return
    if drivers["level"] not in cfg["regions"]["levels"]:
        raise ConfigError(
            f"decomposition.drivers.level: '{drivers['level']}' is not one of regions.levels "
            f"{list(cfg['regions']['levels'])}"
        )
    tables = drivers["tables"]
    for key in ("population_col", "gdp_col"):
        n = sum(1 for t in tables if t.get(key))
        if n != 1:
            raise ConfigError(
                f"decomposition.drivers.tables: {n} tables give {key}; exactly one must"
            )
    if any(t.get("industry_gdp_col") and not t.get("gdp_col") for t in tables):
        raise ConfigError(
            "decomposition.drivers.tables: industry_gdp_col must be in the table with gdp_col "
            "(it takes its unit and currency)"
        )
    if sum(1 for t in tables if t.get("urbanisation_col")) > 1:
        raise ConfigError(
            "decomposition.drivers.tables: more than one table gives urbanisation_col"
        )
    if not all(t.get("gdp_currency") for t in tables if t.get("gdp_col")):
        raise ConfigError(
            "decomposition.drivers.tables: the table with gdp_col needs gdp_currency (and "
            "gdp_scale if its unit is not one unit of the currency)"
        )


def drivers_currency(drivers: dict) -> str:
    """The GDP currency of ``decomposition.drivers`` (its one table with GDP)."""
    return next(str(t["gdp_currency"]) for t in drivers["tables"] if t.get("gdp_col"))


def _resolve_fact_sheets(cfg: dict) -> None:
    """outputs.fact_sheets: the coarsest level where not given; a level or grouping of the run
    otherwise."""
    levels = list(cfg["regions"]["levels"])
    allowed = levels + list(cfg["regions"].get("groupings") or {})
    level = cfg["outputs"].get("fact_sheets") or levels[-1]
    if level not in allowed:
        raise ConfigError(
            f"outputs.fact_sheets: '{level}' is not one of regions.levels or regions.groupings "
            f"{allowed}"
        )
    cfg["outputs"]["fact_sheets"] = level


WORK_DIR = (
    ".work"  # under outputs.dir: where every rule writes (docs/data.md, "Results and reruns")
)
# The table the pipeline writes from a gridded inventory (the regions' zonal sums of it), under
# the results' working tree; every stage that reads emissions then reads it as a table.
EMISSIONS_FROM_GRID = "interim/emissions/ce_from_grid.csv"


def emission_raster(cfg: dict) -> dict | None:
    """The gridded inventory section (``emissions.source: raster``, kept as
    ``emissions_raster`` once the config is validated), or None for an emission table."""
    return cfg.get("emissions_raster")


def _schema_error(schema: dict, e: jsonschema.ValidationError) -> str:
    """One line of the invalid-configuration message: the key path and what it expects."""
    where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
    msg = e.message
    expected = _error_message(schema, list(e.absolute_path))
    if expected and e.validator in ("oneOf", "anyOf", "type", "minItems", "items"):
        msg = f"{expected} (got {e.instance!r})"
    if e.validator == "additionalProperties":
        msg += " — a misspelt key? See the schema in src/carbonbudget/core/config.schema.yaml"
    return f"  {where}: {msg}"


def _check_level_names(cfg: dict) -> None:
    """Level, grouping and layer names: identifiers, distinct from each other and from the
    study area (each becomes a level of the budget tables)."""
    lv = cfg["regions"]["levels"]
    columns = list(lv.values())
    shared = sorted({c for c in columns if columns.count(c) > 1})
    if shared:
        raise ConfigError(
            f"regions.levels: levels {[n for n, c in lv.items() if c in shared]} read the same "
            f"column {shared}: one level would be a copy of another; give each level its own "
            "code column, or leave a parent out and set regions.derive_parents: adcode"
        )
    for name in lv:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name == "study_area":
            raise ConfigError(
                f"regions.levels: level name '{name}' must be lower-case letters, "
                "digits and '_' (and not 'study_area')"
            )
    taken = set(lv) | {"study_area"}
    for name in cfg["region_layers"]:
        if name in taken or name in cfg["regions"]["groupings"]:
            raise ConfigError(
                f"region_layers: '{name}' is the name of a level or grouping; give the layer "
                "its own name (it becomes a level of the budget tables)"
            )
    for name, grouping in cfg["regions"]["groupings"].items():
        if name in lv or name == "study_area":
            raise ConfigError(
                f"regions.groupings: '{name}' is the name of a level; give the grouping its own "
                "name (it becomes a level of the budget tables)"
            )
        if grouping["level"] not in lv:
            raise ConfigError(
                f"regions.groupings.{name}.level: '{grouping['level']}' is not one of "
                f"regions.levels {list(lv)}"
            )


def _resolve_emission_raster(cfg: dict) -> None:
    """``emissions.source: raster``: the inventory section moves to ``emissions_raster`` and
    ``emissions`` becomes the table of its regional sums the pipeline writes, so every stage
    that reads emissions (checks, budget, scenarios) reads that table unchanged."""
    em = cfg["emissions"]
    if em.get("source", "table") != "raster":
        return
    if em.get("downscale"):
        raise ConfigError(
            "emissions.downscale: the emissions are a raster already (emissions.source: raster); "
            "remove downscale"
        )
    if "{year}" not in em["path"] and "first_year" not in em:
        raise ConfigError(
            "emissions.path: a gridded inventory needs {year} in its path, or first_year (the "
            "year of band 1) for one file with a band per year"
        )
    cfg["emissions_raster"] = dict(em)
    # the table's own layout; every other key takes the schema's default
    cfg["emissions"] = fill_section(
        "emissions",
        {
            "path": f"{cfg['outputs']['dir']}/{WORK_DIR}/{EMISSIONS_FROM_GRID}",
            "region_col": "code",
            "year_col": "year",
            "value_col": "ce_tgco2",
            "units": "Tg CO2",
        },
    )


# a relative error above this draws a warning: a percentage typed as a fraction looks like it
# (docs/method.md, "Uncertainty": the defaults from the project's sources are 4-6.25 %)
MAX_PLAUSIBLE_RELATIVE_SD = 0.5
NPP_SD_REQUIRED = (
    "uncertainty.npp.relative_sd: no default (the sources the project carries give "
    "none for an NPP product); set the relative standard deviation of your NPP "
    'product, e.g. from its validation study (docs/method.md, "Uncertainty")'
)


def _check_uncertainty(cfg: dict) -> None:
    """The uncertainty model needs an NPP error (no literature default) and the whole budget:
    its intervals are those of ECS and CNC."""
    unc = cfg.get("uncertainty")
    if unc is None:
        return
    if "ecs" not in computed_fluxes(cfg):
        raise ConfigError(
            "uncertainty: needs NPP and climate (the intervals are those of ECS and CNC); remove "
            "the uncertainty section for a run on lithology and runoff alone"
        )
    if unc["npp"]["relative_sd"] is None:
        raise ConfigError(NPP_SD_REQUIRED)
    for term in ("npp", "rh", "gem_coefficient", "runoff", "emissions"):
        sd = unc[term]["relative_sd"]
        if sd > MAX_PLAUSIBLE_RELATIVE_SD:
            log.warning(
                "uncertainty.%s.relative_sd = %g is a standard deviation of %s %% of the value, "
                "more than any validation study reports (at most %g here): a percentage typed "
                "as a fraction? (0.1 = 10 %%)",
                term,
                sd,
                f"{100 * sd:,.0f}",
                MAX_PLAUSIBLE_RELATIVE_SD,
            )


def _check_map_boxes(maps: dict) -> None:
    """A lon/lat box of outputs.maps must have west < east and south < north within the
    globe: a swapped pair would draw an empty map without any error."""
    boxes = {"extent_lonlat": maps.get("extent_lonlat")}
    boxes["inset/extent_lonlat"] = (maps.get("inset") or {}).get("extent_lonlat")
    for key, box in boxes.items():
        if box is None:
            continue
        west, south, east, north = box
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ConfigError(
                f"outputs/maps/{key}: {list(box)} is not [west, south, east, north] in degrees "
                "(west < east within -180..180, south < north within -90..90)"
            )


def _error_message(schema: dict, path: list) -> str | None:
    """The ``errorMessage`` of the schema node at ``path`` or of its nearest parent: what a
    key must hold, in words (jsonschema's own message for a failed ``oneOf`` is "not valid under
    any of the given schemas")."""
    node, found = schema, schema.get("errorMessage")
    for key in path:
        props = node.get("properties", {}) if isinstance(node, dict) else {}
        if key not in props:
            break
        node = props[key]
        found = node.get("errorMessage", found)
    return found


# the per-pixel fluxes of docs/method.md, in kernel output order (the one definition; config is
# imported by the light modules and the Snakefile, so it lives here)
FLUX_VARS = ("rh", "nep", "rcs", "ecs")
# the temperature and precipitation terms of RH, whose changes add up to RH's
# (docs/method.md, "Decomposition")
RH_PARTS = ("rh_temperature", "rh_precipitation")
# Budget columns that exist only when ECS is computed.
NEEDS_ECS = {
    "cnc_tgco2",
    "cnc_flux_tco2_km2",
    "ecs_tgco2",
    "rh_tgc",
    "nep_tgc",
    "ecs_tgc",
    "cer",
    "source_sink_ratio",
    "imbalance_risk_index",
}
RCS_ONLY_REASON = (
    "the config has no 'npp' and 'climate' sections: NEP = NPP - RH needs yearly "
    "NPP and monthly climate"
)


CLIMATOLOGY = "climatology"  # the period name of what does not change between years


def is_climatology(pattern: str) -> bool:
    """An input path without ``{year}``: the same file (a climatology) serves every year."""
    return "{year}" not in pattern


def climatology_inputs(cfg: dict) -> set[str]:
    """The aligned inputs (of :data:`ALIGNED`) that are climatologies: their path has no
    ``{year}``, so one file serves every year; they are checked, aligned and used once. Runoff
    from the water balance is one when both its precipitation and its ET are."""
    out = set()
    clim = cfg.get("climate") or {}
    for var in ("temperature", "precipitation") if clim else ():
        if is_climatology(clim[var]):
            out.add(var)
    if cfg.get("npp") and is_climatology(cfg["npp"]["path"]):
        out.add("npp")
    ro = cfg["runoff"]
    if ro["source"] == "water_balance":
        if is_climatology(ro["et"]) and "precipitation" in out:
            out.add("runoff")
    elif is_climatology(ro["path"]):
        out.add("runoff")
    return out


def flux_periods(cfg: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(yearly fluxes, climatology fluxes): a flux whose inputs are all climatologies is the
    same every year and is computed once (RCS from a runoff climatology, RH from climate
    normals, NEP when NPP is one too, ECS when NEP and RCS are)."""
    fluxes = computed_fluxes(cfg)
    clim = climatology_inputs(cfg)
    static = set()
    if "runoff" in clim:
        static.add("rcs")
    if {"temperature", "precipitation"} <= clim:
        static.add("rh")
        if "npp" in clim:
            static.add("nep")
    if {"nep", "rcs"} <= static:
        static.add("ecs")
    return (tuple(v for v in fluxes if v not in static), tuple(v for v in fluxes if v in static))


def rcs_only(cfg: dict) -> bool:
    """A run on lithology and runoff alone (no NPP, no climate): RCS and emissions only."""
    return not cfg.get("npp") and not cfg.get("climate")


def enough_years_for_trends(cfg: dict) -> bool:
    """At least ``trends.min_valid_years`` years: trend rasters and figures are worth drawing."""
    return len(cfg["years"]) >= cfg["trends"]["min_valid_years"]


def computed_fluxes(cfg: dict) -> tuple[str, ...]:
    """The per-pixel fluxes the inputs of ``cfg`` support (docs/method.md)."""
    return ("rcs",) if rcs_only(cfg) else FLUX_VARS


def grid_emission_vars(cfg: dict) -> tuple[str, ...]:
    """The per-pixel emission layers of the run (t CO2 km-2 yr-1): CE when the emissions are a
    gridded inventory or spread onto the grid (emissions.downscale), and CNC = ECS - CE where
    ECS is computed too."""
    if not ((cfg.get("emissions") or {}).get("downscale") or emission_raster(cfg)):
        return ()
    return ("ce", "cnc") if "ecs" in computed_fluxes(cfg) else ("ce",)


def skipped_stages(cfg: dict) -> dict[str, str]:
    """Stages the inputs do not support, each with the reason (logged at start, written to
    provenance.json and the GeoPackage metadata)."""
    out = {}
    if not enough_years_for_trends(cfg):
        need = cfg["trends"]["min_valid_years"]
        out["per-pixel trend rasters and region trend figures"] = (
            f"{len(cfg['years'])} year(s) < trends.min_valid_years = {need}: no trend can be "
            "estimated (the trend tables are written, with empty statistics)"
        )
    yearly, static = flux_periods(cfg)
    if static:
        out[f"yearly rasters and trends of {', '.join(static).upper()}"] = (
            f"computed once from climatologies ({', '.join(sorted(climatology_inputs(cfg)))}: "
            "no {year} in their paths), so the same every year: one raster "
            f"pixels/<var>/<var>_{CLIMATOLOGY}.tif, the same regional totals in every year, no "
            "trend"
        )
    if not rcs_only(cfg):
        return out
    return out | {
        "per-pixel RH, NEP, ECS": RCS_ONLY_REASON,
        "balance: CNC, status, source/sink ratio, CER, imbalance risk": "they need ECS = NEP + RCS",
        "maps of ECS, CNC, CER and the CNC trend": "they need ECS",
        "region trends of CNC and ECS": "they need ECS",
    }


def _resolve_stages(cfg: dict) -> None:
    """Check the inputs support the requested stages; fill stage-dependent defaults."""
    if bool(cfg.get("npp")) != bool(cfg.get("climate")):
        given, absent = ("npp", "climate") if cfg.get("npp") else ("climate", "npp")
        raise ConfigError(
            f"'{given}' is given without '{absent}': NEP = NPP - RH needs both. "
            f"Give both, or neither for a run on lithology and runoff alone "
            f"(rock-weathering sink and emissions)"
        )
    fluxes = computed_fluxes(cfg)
    if rcs_only(cfg) and cfg["runoff"].get("source") == "water_balance":
        raise ConfigError(
            "runoff.source: water_balance needs climate.precipitation; give a "
            "runoff raster (runoff.path) in a run without climate"
        )
    tr = cfg["trends"]
    yearly, static = flux_periods(cfg)
    tr.setdefault("variables", [v for v in ("nep", "rcs", "ecs") if v in yearly])
    on_grid = grid_emission_vars(cfg)
    bad = [v for v in tr["variables"] if v not in fluxes + on_grid]
    if bad:
        why = (
            "ce and cnc need emissions on the grid (emissions.downscale)"
            if set(bad) <= {"ce", "cnc"}
            else RCS_ONLY_REASON
        )
        raise ConfigError(
            f"trends.variables: {bad} are not computed in this run ({why}); "
            f"use a subset of {list(fluxes + on_grid)}"
        )
    same = [v for v in tr["variables"] if v in static]
    if same:
        raise ConfigError(
            f"trends.variables: {same} come from climatologies only "
            f"({', '.join(sorted(climatology_inputs(cfg)))} without {{year}} in "
            "their paths), so they are the same every year and have no trend; "
            f"use a subset of {list(yearly)}"
        )
    levels = list(cfg["regions"]["levels"])
    acc = cfg.get("emissions_accounting")
    if acc:
        acc.setdefault("level", levels[-1])
        if acc["level"] not in levels:
            raise ConfigError(
                f"emissions_accounting.level: '{acc['level']}' is not one of "
                f"regions.levels {levels}"
            )
    _check_scenarios(cfg, levels)
    sp = cfg["spatial"]
    sp.setdefault("variables", ["ce_tgco2"] if rcs_only(cfg) else ["cnc_tgco2"])
    if rcs_only(cfg):
        bad = [v for v in sp["variables"] if v in NEEDS_ECS]
        if bad:
            raise ConfigError(
                f"spatial.variables: {bad} need ECS, which this run does not compute "
                f"({RCS_ONLY_REASON}); use ce_tgco2 or rcs_tgc"
            )


def _check_scenarios(cfg: dict, levels: list[str]) -> None:
    """The scenario section names a level of the run and, with raster years, sink rasters of
    every input with {year} in their paths and the observed ECS to start from."""
    sc = cfg.get("scenarios")
    if not sc:
        return
    if sc["level"] not in levels + ["study_area"]:
        raise ConfigError(
            f"scenarios.level: '{sc['level']}' must be 'study_area' or one of {levels}"
        )
    sink = [k for k in ("climate", "npp", "runoff") if k in sc]
    if sc.get("years") and len(sink) < 3:
        raise ConfigError(
            "scenarios.years needs scenario rasters for climate, npp and runoff "
            f"(given: {sink}): ECS = NPP - RH + RCS"
        )
    undated = [
        f"scenarios.{k}"
        for k in ("climate", "npp", "runoff")
        if k in sc
        for key in (("temperature", "precipitation") if k == "climate" else ("path",))
        if is_climatology(sc[k][key])
    ]
    if sc.get("years") and undated:
        raise ConfigError(
            f"{sorted(set(undated))}: scenario raster paths need {{year}} (one "
            "raster per scenario year)"
        )
    if sc.get("years") and rcs_only(cfg):
        raise ConfigError(
            "scenario sinks need the observed ECS as well: give 'npp' and "
            "'climate' for the historical years, or drop scenarios.years"
        )


def _resolve_spatial(cfg: dict) -> None:
    """Fill the level defaults of ``spatial`` from ``regions.levels`` and check they exist (a
    grouping may be listed too)."""
    levels = list(cfg["regions"]["levels"])
    groupings = list(cfg["regions"]["groupings"]) + list(cfg["region_layers"])
    sp = cfg["spatial"]
    sp.setdefault("levels", levels)
    for name in sp["levels"]:
        if name not in levels + groupings:
            raise ConfigError(
                f"spatial.levels: '{name}' is not one of regions.levels {levels}, of "
                f"regions.groupings or of region_layers {groupings}"
            )
        if name in cfg["region_layers"] and not grid_emission_vars(cfg):
            needs_ce = [v for v in sp["variables"] if v.startswith(("ce_", "cnc_"))]
            if needs_ce:
                raise ConfigError(
                    f"spatial.levels: the region layer '{name}' has no emissions (they reach a "
                    "layer only from the grid: emissions.downscale or a gridded inventory), so "
                    f"it has no {needs_ce}; leave it out of spatial.levels or use sink variables"
                )
    if len(levels) < 2:
        if "gini_parent" in sp or "gini_members" in sp:
            raise ConfigError("spatial.gini_parent/gini_members need at least two region levels")
        return
    parent = sp.setdefault("gini_parent", levels[-1])
    if parent not in levels[1:]:
        raise ConfigError(
            f"spatial.gini_parent: '{parent}' must be one of {levels[1:]} "
            "(a level that has members below it)"
        )
    members = sp.setdefault("gini_members", levels[levels.index(parent) - 1])
    if members not in levels[: levels.index(parent)]:
        raise ConfigError(
            f"spatial.gini_members: '{members}' must be a level finer than "
            f"'{parent}': one of {levels[: levels.index(parent)]}"
        )


def discover_years(cfg: dict) -> list[int]:
    """Years for which every per-year input exists (docs/config.md, ``years: {discover: true}``)."""
    runoff_key = "runoff.et" if cfg["runoff"].get("source") == "water_balance" else "runoff.path"
    patterns = {runoff_key: cfg["runoff"][runoff_key.split(".")[1]]}
    if cfg.get("climate"):
        patterns["climate.temperature"] = cfg["climate"]["temperature"]
        patterns["climate.precipitation"] = cfg["climate"]["precipitation"]
    if cfg.get("npp"):
        patterns["npp.path"] = cfg["npp"]["path"]
    patterns = {k: p for k, p in patterns.items() if not is_climatology(p)}
    if not patterns:
        raise ConfigError(
            "years: {discover: true} needs an input with {year} in its path; every "
            "input is a climatology: list the years under 'years'"
        )
    found = {}
    for key, pat in patterns.items():
        regex = re.compile(
            re.escape(pat).replace(r"\{year\}", r"(\d{4})").replace(r"\{month\}", r"\d{2}") + "$"
        )
        g = pat.replace("{year}", "[0-9][0-9][0-9][0-9]").replace("{month}", "[0-9][0-9]")
        years: dict[int, set[str]] = {}
        for p in glob.glob(g):
            if m := regex.search(p):
                years.setdefault(int(m.group(1)), set()).add(p)
        # a monthly pattern needs all 12 files of a year
        need = 12 if "{month}" in pat else 1
        found[key] = {y for y, files in years.items() if len(files) >= need}
    common = set.intersection(*found.values())
    incomplete = sorted(set.union(*found.values()) - common)
    if incomplete:
        lacking = {y: sorted(k for k, v in found.items() if y not in v) for y in incomplete}
        log.warning(
            "years.discover: skipping incomplete years %s",
            "; ".join(f"{y} (missing {', '.join(m)})" for y, m in lacking.items()),
        )
    if not common:
        raise ConfigError(
            f"years.discover found no year present in all inputs: "
            f"{ {k: sorted(v) for k, v in found.items()} }"
        )
    return sorted(common)


def config_digest(cfg: dict) -> str:
    """SHA-256 of the validated config (the GeoPackage metadata and provenance.json record it)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()


def downscale_weights(cfg: dict) -> dict[str, str]:
    """The weight rasters that spread the emissions onto the grid (emissions.downscale), by
    period: one per year with {year} in the path, else one (:data:`CLIMATOLOGY`) for all."""
    ds = (cfg.get("emissions") or {}).get("downscale")
    if not ds:
        return {}
    path = ds["weights"]
    if "{year}" in path:
        years = ds.get("weights_years") or cfg["years"]
        return {str(y): path.format(year=y) for y in years}
    return {CLIMATOLOGY: path}


def weight_periods(cfg: dict) -> dict[int, str]:
    """Which weight raster (its period in :func:`downscale_weights`) spreads each year of the
    run: its own, the nearest of ``weights_years`` (the earlier on a tie), or the one for all."""
    periods = list(downscale_weights(cfg))
    if periods == [CLIMATOLOGY]:
        return dict.fromkeys(cfg["years"], CLIMATOLOGY)
    years = sorted(int(p) for p in periods)
    return {y: str(min(years, key=lambda w: (abs(w - y), w))) for y in cfg["years"]}


def inventory_files(cfg: dict) -> dict[int, tuple[str, int]]:
    """The gridded inventory (``emissions.source: raster``) by year: (file, band)."""
    return raster_files(cfg.get("emissions_raster"), cfg["years"])


def compare_files(cfg: dict) -> dict[int, tuple[str, int]]:
    """The gridded second source (``emission_compare`` with ``source: raster``) by year."""
    cmp = cfg.get("emission_compare") or {}
    return raster_files(cmp.get("raster"), cmp.get("years", []))


def raster_files(inv: dict | None, years: list[int]) -> dict[int, tuple[str, int]]:
    """(file, band) of each year of a gridded inventory: a file per year ({year} in its path)
    or one file with a band per year from ``first_year``."""
    if not inv:
        return {}
    if "{year}" in inv["path"]:
        return {y: (inv["path"].format(year=y), 1) for y in years}
    return {y: (inv["path"], y - inv["first_year"] + 1) for y in years}


def month_paths(pattern: str, year: int | None) -> list[str]:
    """The input files for one year: one 12-band file, or 12 files if ``{month}`` is in the path."""
    if "{month}" in pattern:
        return [pattern.format(year=year, month=f"{m:02d}") for m in range(1, 13)]
    return [pattern.format(year=year)]


PIXEL_STATS = ("slope", "p", "sen", "mk_z", "mk_p", "hurst")


def grouping_levels(reg: dict) -> dict[str, str]:
    """The groupings of the ``regions`` section: grouping name -> the level it groups."""
    return {name: g["level"] for name, g in (reg.get("groupings") or {}).items()}


def check_config_file(path: str) -> dict:
    """Read and validate a config file as ``snakemake --configfile`` would, with errors naming
    the file: Snakemake's own error for an empty file or one whose top level is not a mapping
    names neither (``make run CONFIG=...`` and ``make check CONFIG=...`` call this first)."""
    fix = "give the settings as YAML keys at the top level (config/config.yaml is an example)"
    if not os.path.exists(path):
        raise InputDataError("config file not found", path=path, variable="config", fix=fix)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise InputDataError(
            f"not valid YAML ({exc})", path=path, variable="config", fix=fix
        ) from exc
    if data is None:
        raise InputDataError("the config file is empty", path=path, variable="config", fix=fix)
    if not isinstance(data, dict):
        raise InputDataError(
            f"the top level is a {type(data).__name__}, not a mapping of keys",
            path=path,
            variable="config",
            fix=fix,
        )
    try:
        return validate_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


if __name__ == "__main__":  # python -m carbonbudget.core.config FILE (the Makefile's check)
    import sys

    from carbonbudget.core.errors import CarbonBudgetError

    try:
        check_config_file(sys.argv[1])
    except CarbonBudgetError as err:
        print(f"carbonbudget: {err.headline}", *err.block(), sep="\n", file=sys.stderr)
        sys.exit(1)
