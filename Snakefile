# carbonbudget: yearly rasters + emission tables -> per-pixel fluxes, regional budgets, trends.
# Method and data contract: DESIGN.md. All logic lives in src/carbonbudget; rules only wire files.
from snakemake.utils import min_version

min_version("8.0")

from carbonbudget.config import (
    CLIMATOLOGY,
    computed_fluxes,
    enough_years_for_trends,
    flux_periods,
    skipped_stages,
    validate_config,
)
from carbonbudget.demo import demo_files, demo_root
from carbonbudget.logs import log_to
from carbonbudget.plots import map_kinds, trend_variable
from carbonbudget.publish import publish, release_lock, start_run, work_dir
from carbonbudget.trends import PIXEL_STATS
from carbonbudget.paths import (
    aligned_outputs,
    aligned_precipitation_for_runoff,
    climatology_input_files,
    climatology_raw_inputs,
    flux_path,
    flux_year_inputs,
    budget_levels,
    config_sections,
    lithology_source,
    raw_inputs,
    scenario_config,
    scenario_outputs,
    scenario_zonal,
    static_check_config,
    run_info,
    year_input_files,
    year_inputs,
)


# The demo config applies only when no --configfile is given: a user's config is complete by
# itself (defaults come from the schema), so no demo setting leaks into a real run.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# Validate against the schema (unknown keys fail) and fill defaults before anything runs.
_validated = validate_config(config)
config.clear()
config.update(_validated)

# Every rule writes into a working tree; rule publish links the deliverables into RESULTS once
# every job has succeeded, so a failed or killed rerun never leaves RESULTS half-updated.
RESULTS = config["outputs"]["dir"]
OUT = work_dir(RESULTS)
LOGS = f"{RESULTS}/logs"
YEARS = config["years"]
# The per-pixel fluxes the inputs support: all four, or RCS alone without NPP and climate.
FLUXES = computed_fluxes(config)
# those computed every year, and those computed once from climatologies (no {year} in a path)
YEARLY_FLUXES, CLIMATOLOGY_FLUXES = flux_periods(config)
MAP_KINDS = map_kinds(FLUXES)
TREND_VARS = config["trends"]["variables"] if enough_years_for_trends(config) else []
for _stage, _why in skipped_stages(config).items():
    logger.warning(f"carbonbudget: skipping {_stage}: {_why}")
CROSSWALK = (f"{OUT}/tables/code_crosswalk.csv"
             if "old_codes" in config["emissions"].get("crosswalk", {}) else None)
# the crosswalk every rule that matches emission codes reads: a given table, the built one, none
CROSSWALK_INPUT = config["emissions"].get("crosswalk", {}).get("table") or CROSSWALK or []
LEVELS = list(config["regions"]["levels"])
SCENARIOS = (config.get("scenarios") or {}).get("names", [])
FINEST = LEVELS[0]
# finest-level zonal totals: one table per year, or one for all years when nothing is yearly
YEARLY_INPUTS = bool(year_input_files(config, YEARS[0]))     # any input with {year} in its path
ZONAL = (expand(f"{OUT}/interim/zonal/{{finest}}_{{year}}.parquet", finest=FINEST, year=YEARS)
         if YEARLY_FLUXES else [f"{OUT}/interim/zonal/{FINEST}_{CLIMATOLOGY}.parquet"])
BUDGET_LEVELS = budget_levels(config)
CHUNK = config["processing"]["chunk_size"]
SPATIAL_LEVELS = list(config["spatial"]["levels"])
SPATIAL_VARS = list(config["spatial"]["variables"])
# the fraction of each pixel inside the region polygons (rule build_regions): the study area
REGION_FRACTION = f"{OUT}/interim/regions/region_fraction.tif"
GINI_TABLE = ([f"{OUT}/tables/gini_{config['spatial']['gini_parent']}.csv"]
              if "gini_parent" in config["spatial"] else [])


wildcard_constraints:
    year=r"\d{4}",
    var="|".join(FLUXES),
    stat="|".join(PIXEL_STATS),
    level="|".join(BUDGET_LEVELS),
    scenario="|".join((config.get("scenarios") or {}).get("names", [])) or "NONE",
    variable="|".join(SPATIAL_VARS),


include: "workflow/rules/demo.smk"
include: "workflow/rules/inputs.smk"
include: "workflow/rules/align.smk"
include: "workflow/rules/fluxes.smk"
include: "workflow/rules/zonal.smk"
include: "workflow/rules/balance.smk"
include: "workflow/rules/trends.smk"
include: "workflow/rules/spatial.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/scenarios.smk"


# What a run delivers: published into RESULTS (same relative paths) by rule publish.
DELIVERABLES = [
    [flux_path(OUT, v, y) for v in YEARLY_FLUXES for y in YEARS],
    [flux_path(OUT, v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES],
    expand(f"{OUT}/tables/budget_{{level}}.{{ext}}", level=BUDGET_LEVELS, ext=["csv", "parquet"]),
    expand(f"{OUT}/trends/{{var}}_{{stat}}.tif", var=TREND_VARS, stat=PIXEL_STATS),
    expand(f"{OUT}/tables/{{kind}}_{{level}}.csv", kind=["trends", "sqmk"], level=BUDGET_LEVELS),
    [f"{OUT}/figures/trends_{LEVELS[-1]}"] if enough_years_for_trends(config) else [],
    rules.spatial_statistics.output,
    expand(f"{OUT}/figures/maps/{{kind}}_{{level}}.png", kind=MAP_KINDS, level=LEVELS),
    expand(f"{OUT}/figures/{{kind}}_{{variable}}_{{level}}.png", kind=["lisa", "hotspots"],
           variable=SPATIAL_VARS, level=SPATIAL_LEVELS),
    f"{OUT}/gis/carbon_budget.gpkg",
    f"{OUT}/provenance.json",
    f"{OUT}/tables/emission_code_match.csv",
    [CROSSWALK] if CROSSWALK else [],
    expand(f"{OUT}/checks/year_{{year}}.json", year=YEARS if YEARLY_INPUTS else []),
    [f"{OUT}/checks/{CLIMATOLOGY}.json"] if climatology_input_files(config) else [],
    [f"{OUT}/checks/static.json", f"{OUT}/checks/emissions.json"],
    scenario_outputs(config, OUT),
    [flux_path(f"{OUT}/scenarios/{name}", v, y) for name in SCENARIOS for v in FLUXES
     for y in (config.get("scenarios") or {}).get("years", [])],
]


onstart:
    start_run(RESULTS)


onsuccess:
    release_lock(RESULTS)


onerror:
    release_lock(RESULTS)


localrules:
    publish,


# The default target. Without an output it runs on every invocation (it is cheap: links that are
# already in place are skipped), so RESULTS always matches the working tree after a success.
rule publish:
    input:
        DELIVERABLES,
    log:
        f"{LOGS}/publish.log",
    default_target: True
    run:
        with log_to(log[0], "publish"):
            publish(list(input), results_dir=RESULTS)
