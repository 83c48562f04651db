"""Configuration: JSON-schema validation with defaults, and derived settings (DESIGN §7)."""

from __future__ import annotations

import copy
import glob
import hashlib
import json
import re
from importlib import resources

import jsonschema
import logging
import yaml

from .errors import ConfigError

SCHEMA_FILE = "config.schema.yaml"
log = logging.getLogger(__name__)


def load_schema() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath(SCHEMA_FILE).read_text())


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


def validate_config(config: dict) -> dict:
    """Validate a config dict against the schema, fill defaults, resolve years; return a copy.

    Raises :class:`ConfigError` naming the offending key path and what is expected.
    """
    cfg = copy.deepcopy(dict(config))
    schema = load_schema()
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for e in errors[:10]:
            where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
            msg = e.message
            if e.validator == "additionalProperties":
                msg += " — a misspelt key? See the schema in src/carbonbudget/config.schema.yaml"
            lines.append(f"  {where}: {msg}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    # defaults of sections that were absent get their nested defaults too
    validator.validate(cfg)
    if isinstance(cfg["years"], dict):
        cfg["years"] = discover_years(cfg)
    cfg["years"] = sorted(int(y) for y in cfg["years"])
    lv = cfg["regions"]["levels"]
    for name in lv:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name == "study_area":
            raise ConfigError(f"regions.levels: level name '{name}' must be lower-case letters, "
                              "digits and '_' (and not 'study_area')")
    _resolve_spatial(cfg)
    return cfg


def _resolve_spatial(cfg: dict) -> None:
    """Fill the level defaults of ``spatial`` from ``regions.levels`` and check they exist."""
    levels = list(cfg["regions"]["levels"])
    sp = cfg["spatial"]
    sp.setdefault("levels", levels)
    for name in sp["levels"]:
        if name not in levels:
            raise ConfigError(f"spatial.levels: '{name}' is not one of regions.levels {levels}")
    if len(levels) < 2:
        if "gini_parent" in sp or "gini_members" in sp:
            raise ConfigError("spatial.gini_parent/gini_members need at least two region levels")
        return
    parent = sp.setdefault("gini_parent", levels[-1])
    if parent not in levels[1:]:
        raise ConfigError(f"spatial.gini_parent: '{parent}' must be one of {levels[1:]} "
                          "(a level that has members below it)")
    members = sp.setdefault("gini_members", levels[levels.index(parent) - 1])
    if members not in levels[:levels.index(parent)]:
        raise ConfigError(f"spatial.gini_members: '{members}' must be a level finer than "
                          f"'{parent}': one of {levels[:levels.index(parent)]}")


def discover_years(cfg: dict) -> list[int]:
    """Years for which every per-year input exists (DESIGN §7 ``years: {discover: true}``)."""
    runoff_key = "runoff.et" if cfg["runoff"].get("source") == "water_balance" else "runoff.path"
    patterns = {"climate.temperature": cfg["climate"]["temperature"],
                "climate.precipitation": cfg["climate"]["precipitation"],
                "npp.path": cfg["npp"]["path"],
                runoff_key: cfg["runoff"][runoff_key.split(".")[1]]}
    found = {}
    for key, pat in patterns.items():
        if "{year}" not in pat:
            raise ConfigError(f"{key}: '{pat}' has no {{year}} placeholder, so years cannot be "
                              "discovered; list them under 'years'")
        regex = re.compile(re.escape(pat).replace(r"\{year\}", r"(\d{4})")
                           .replace(r"\{month\}", r"\d{2}") + "$")
        g = pat.replace("{year}", "[0-9][0-9][0-9][0-9]").replace("{month}", "[0-9][0-9]")
        years = {}
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
        log.warning("years.discover: skipping incomplete years %s",
                    "; ".join(f"{y} (missing {', '.join(m)})" for y, m in lacking.items()))
    if not common:
        raise ConfigError(f"years.discover found no year present in all inputs: "
                          f"{ {k: sorted(v) for k, v in found.items()} }")
    return sorted(common)


def config_digest(cfg: dict) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()
