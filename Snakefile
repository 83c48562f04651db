# carbonbudget: yearly rasters + emission tables -> per-pixel fluxes, regional budgets, trends.
# The method is docs/method.md, the files docs/data.md, the layers of the code
# docs/architecture.md. Every path comes from carbonbudget.pipeline.paths.Layout.
import time

from snakemake.utils import min_version

min_version("8.0")

# Only light modules (configuration, paths, names of outputs): the parse of the workflow pulls in
# neither numba, dask, xarray nor matplotlib (tests/test_architecture.py). Each rule file runs
# workflow/scripts/<file>.py, which runs carbonbudget.pipeline.stages.<file>.
from carbonbudget.core.config import (
    CLIMATOLOGY,
    RH_PARTS,
    compare_files,
    downscale_weights,
    weight_periods,
    PIXEL_STATS,
    computed_fluxes,
    enough_years_for_trends,
    flux_periods,
    grid_emission_vars,
    grouping_levels,
    inventory_files,
    skipped_stages,
    validate_config,
)
from carbonbudget.core.logs import cluster_failures, keep_run_log, short_job_blocks
from carbonbudget.inputs.demo_files import demo_files, demo_root
from carbonbudget.outputs.catalogue import (
    MAP_TITLES,
    cluster_words,
    layer_map_kinds,
    map_kinds,
    decomposition_rasters,
    quicklook_rasters,
    spatial_map_title,
    trend_variable,
)
from carbonbudget.pipeline.paths import (
    Layout,
    aligned_outputs,
    aligned_precipitation_for_runoff,
    block_threads,
    budget_levels,
    check_all_config,
    climatology_input_files,
    climatology_raw_inputs,
    cover_fraction,
    cover_fraction_input,
    config_sections,
    decomposition_currency,
    decomposition_levels,
    fuel_decomposition_inputs,
    rh_attribution_rule,
    rh_split_years,
    fuel_decomposition_level,
    flux_year_inputs,
    hierarchy_levels,
    lithology_source,
    local_cores,
    map_levels,
    raw_inputs,
    run_config,
    run_info,
    scenario_config,
    scenario_outputs,
    scenario_run,
    scenario_zonal,
    static_check_config,
    trend_threads,
    weights_check_config,
    year_input_files,
    year_inputs,
    year_rule,
)
from carbonbudget.pipeline import jobserver
from carbonbudget.pipeline.publish import release_lock, start_run
from carbonbudget.pipeline.summary import run_summary

# The demo config applies only when no --configfile is given: a user's config is complete by
# itself (defaults come from the schema), so no demo setting leaks into a real run.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# Validate against the schema (unknown keys fail) and fill defaults before anything runs.
_validated = validate_config(config)
config.clear()
config.update(_validated)

RUN_STARTED = time.time()  # the end-of-run summary describes only results published after it
if not config["processing"]["job_blocks"]:
    # one console line per job (the blocks stay in Snakemake's log); a dry run keeps them
    short_job_blocks(logger, keep_blocks=lambda: workflow.dryrun)
YEARS = config["years"]
LEVELS = list(config["regions"]["levels"])
FINEST = LEVELS[0]
# groupings of a level (regions.groupings): levels of the budget that need not nest
GROUPINGS = grouping_levels(config["regions"])  # name -> the level it groups
GROUPING_TABLES = [g["table"] for g in config["regions"]["groupings"].values()]
MAP_LEVELS = map_levels(config)  # levels with polygons: maps, GeoPackage layers
BUDGET_LEVELS = budget_levels(config)  # levels with a budget table
# independent region layers (region_layers): budget tables of their own (rule layer_budget)
LAYERS = list(config["region_layers"])
SUMMED_LEVELS = hierarchy_levels(config) + ["study_area"]  # the tables rule budget writes
SPATIAL_LEVELS = list(config["spatial"]["levels"])
SPATIAL_VARS = list(config["spatial"]["variables"])
SCENARIOS = (config.get("scenarios") or {}).get("names", [])
SCENARIO_YEARS = (config.get("scenarios") or {}).get("years", [])
CHUNK = config["processing"]["chunk_size"]
# threads of the jobs that compute the grid chunk by chunk: one on a small grid
BLOCK_THREADS = block_threads(config)
# threads of the jobs that read several years at the run's end: a share of a local run's cores,
# asked when the DAG is built (at the parse every run looks local: paths.local_cores)
TREND_THREADS = lambda wildcards: trend_threads(config, local_cores(workflow))

# Every rule writes into the working tree L.work; rule publish links the deliverables into
# L.results once every job has succeeded, so a failed or killed rerun never leaves the results
# half-updated (docs/data.md, "Results and reruns").
L = Layout(config["outputs"]["dir"], FINEST, config["outputs"]["maps"]["format"])
# The per-pixel fluxes the inputs support (all four, or RCS alone without NPP and climate):
# those computed every year, and those computed once from climatologies (no {year} in a path).
FLUXES = computed_fluxes(config)
YEARLY_FLUXES, CLIMATOLOGY_FLUXES = flux_periods(config)
YEARLY_INPUTS = bool(year_input_files(config, YEARS[0]))
UNCERTAINTY = config.get("uncertainty") is not None  # docs/method.md, "Uncertainty"
# why the balance changed (docs/method.md, "Decomposition"): the attribution of CNC's change
# with a sink, the LMDI of CE's where population and GDP are given (in CURRENCY)
DECOMPOSITION = decomposition_levels(config)  # the levels with a decomposition table
CURRENCY = decomposition_currency(config)  # of the socio-economic table: every level
FUEL_LEVEL = fuel_decomposition_level(config)  # its CO2 by fuel decomposed too
RH_SPLIT_YEARS = rh_split_years(config)  # ΔRH split into its temperature and precipitation parts
# the level whose regions the report's decomposition table lists: the coarsest that has one
DECOMPOSITION_LEVEL = next(
    (lv for lv in reversed(LEVELS) if lv in DECOMPOSITION), (DECOMPOSITION or [None])[0]
)
# the parts of the change of RH per pixel the report shows
DECOMPOSITION_RASTERS = (
    decomposition_rasters(L.rh_change, RH_SPLIT_YEARS[0], RH_SPLIT_YEARS[-1])
    if RH_SPLIT_YEARS
    else {}
)
MAP_KINDS = map_kinds(
    FLUXES, UNCERTAINTY, CURRENCY is not None, config.get("emission_compare") is not None
)
LAYER_MAP_KINDS = layer_map_kinds(FLUXES, "ce" in grid_emission_vars(config))
TREND_VARS = config["trends"]["variables"] if enough_years_for_trends(config) else []
# emissions on the grid (emissions.downscale): CE per pixel, and CNC where ECS is computed
GRID_VARS = grid_emission_vars(config)
WEIGHTS = downscale_weights(config)
INVENTORY = inventory_files(config)  # a gridded inventory by year: (file, band)
# a second emission source set against the table (emission_compare), and its files by year
COMPARE = config.get("emission_compare")
COMPARE_FILES = compare_files(config)
for _stage, _why in skipped_stages(config).items():
    logger.warning(f"carbonbudget: skipping {_stage}: {_why}")
# the crosswalk every rule that matches emission codes reads: a given table, the built one, none
CROSSWALK = L.crosswalk if "old_codes" in config["emissions"].get("crosswalk", {}) else None
FACT_SHEET_LEVEL = config["outputs"]["fact_sheets"]  # one page per region of this level
# the web map shows the finest and the coarsest level
WEB_MAP_LEVELS = list(dict.fromkeys([FINEST, LEVELS[-1]]))
# a line layer drawn over every map (outputs.maps.overlay): an input of the plotting rules
MAP_OVERLAY = [m["path"]] if (m := config["outputs"]["maps"].get("overlay")) else []
CROSSWALK_INPUT = config["emissions"].get("crosswalk", {}).get("table") or CROSSWALK or []
# what the report shows first: quick-look maps (ECS, NEP, RCS of the last year, the first trend)
# and, with scenarios, the emission model's skill
REPORT_RASTERS = quicklook_rasters(
    {v: str(YEARS[-1]) for v in YEARLY_FLUXES} | {v: CLIMATOLOGY for v in CLIMATOLOGY_FLUXES},
    TREND_VARS,
    L.flux,
    L.pixel_trend,
    cnc_year=str(YEARS[-1]) if "cnc" in grid_emission_vars(config) else None,
    ce_year=str(YEARS[-1]) if "ce" in grid_emission_vars(config) else None,
)
MODEL_SKILL = (
    L.table("emission_model", config["scenarios"]["level"]) if config.get("scenarios") else []
)
# finest-level zonal totals: one table per year, or one for all years when nothing is yearly
ZONAL = [L.zonal(str(y)) for y in YEARS] if YEARLY_FLUXES else [L.zonal(CLIMATOLOGY)]
# the flux rasters a region layer sums: (path, "var year") of every yearly flux and climatology
LAYER_FLUX_INPUTS = [(L.flux(v, str(y)), f"{v} {y}") for v in YEARLY_FLUXES for y in YEARS] + [
    (L.flux(v, CLIMATOLOGY), f"{v} {CLIMATOLOGY}") for v in CLIMATOLOGY_FLUXES
]
# the uncertainty model's statistics next to them (docs/method.md, "Uncertainty")
ZONAL_UNCERTAINTY = (
    (
        [L.zonal_uncertainty(str(y)) for y in YEARS]
        if YEARLY_FLUXES
        else [L.zonal_uncertainty(CLIMATOLOGY)]
    )
    if UNCERTAINTY
    else []
)
GINI_TABLE = (
    [L.table("gini", config["spatial"]["gini_parent"])]
    if "gini_parent" in config["spatial"]
    else []
)


wildcard_constraints:
    year=r"\d{4}",
    var="|".join(FLUXES + GRID_VARS),
    stat="|".join(PIXEL_STATS),
    level="|".join(BUDGET_LEVELS),
    scenario="|".join(SCENARIOS) or "NONE",
    variable="|".join(SPATIAL_VARS),


include: "workflow/rules/demo.smk"
include: "workflow/rules/inputs.smk"
include: "workflow/rules/year.smk"
include: "workflow/rules/align.smk"
include: "workflow/rules/fluxes.smk"
include: "workflow/rules/zonal.smk"
include: "workflow/rules/balance.smk"
include: "workflow/rules/grid.smk"
include: "workflow/rules/trends.smk"
include: "workflow/rules/spatial.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/scenarios.smk"


# What a run delivers: published into the results folder (same relative paths) by rule publish.
DELIVERABLES = [
    [L.flux(v, str(y)) for v in YEARLY_FLUXES for y in YEARS],
    [L.flux(v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES],
    expand(L.budget("{level}", "{ext}"), level=BUDGET_LEVELS, ext=["csv", "parquet"]),
    L.workbook,
    [L.flux(v, str(y)) for v in GRID_VARS for y in YEARS],
    [L.flux("status", str(y)) for y in YEARS] if "cnc" in GRID_VARS else [],
    [L.table("downscale", FINEST)] if WEIGHTS else [],
    expand(L.table("uncertainty_trends", "{level}"), level=SUMMED_LEVELS) if UNCERTAINTY else [],
    [L.table("emission_inventory", FINEST)] if INVENTORY else [],
    expand(L.table("emission_sources", "{level}"), level=SUMMED_LEVELS) if COMPARE else [],
    [L.table("compare_inventory", FINEST)] if COMPARE_FILES else [],
    expand(L.pixel_trend(), var=TREND_VARS, stat=PIXEL_STATS),
    expand(L.table("{kind}"), kind=["trends", "sqmk"], level=BUDGET_LEVELS),
    expand(L.table("decomposition"), level=DECOMPOSITION),
    [L.table("decomposition_by_fuel", FUEL_LEVEL)] if FUEL_LEVEL else [],
    [rules.rh_attribution.output[p] for p in RH_PARTS] if RH_SPLIT_YEARS else [],
    [L.figure_folder("trends", LEVELS[-1])] if enough_years_for_trends(config) else [],
    rules.spatial_statistics.output,
    expand(L.budget_map("{kind}"), kind=MAP_KINDS, level=SUMMED_LEVELS[:-1]),
    expand(L.budget_map("{kind}"), kind=LAYER_MAP_KINDS, level=LAYERS),
    expand(
        L.spatial_map("{kind}"),
        kind=["lisa", "hotspots"],
        variable=SPATIAL_VARS,
        level=SPATIAL_LEVELS,
    ),
    L.geopackage,
    L.web_map,
    L.fact_sheets(FACT_SHEET_LEVEL),
    rules.report_items.output,
    L.provenance,
    L.emission_match,
    [CROSSWALK] if CROSSWALK else [],
    [L.check_report(str(y)) for y in YEARS] if YEARLY_INPUTS else [],
    [L.check_report(CLIMATOLOGY)] if climatology_input_files(config) else [],
    [L.static_report, L.emissions_report],
    scenario_outputs(config, L),
    [
        L.flux(v, str(y), scenario_run(name))
        for name in SCENARIOS
        for v in FLUXES
        for y in SCENARIO_YEARS
    ],
]


onstart:
    start_run(L.results)
    keep_run_log(log, L.logs)
    # a local run's jobs run in forks of one process that imported the package (docs/performance.md)
    jobserver.start(
        config["processing"]["job_server"] and workflow.local_exec,
        crs=config["grid"].get("crs"),
    )


onsuccess:
    jobserver.stop()
    release_lock(L.results)
    for _line in run_summary(L.results, LEVELS, since=RUN_STARTED):
        logger.info(_line)


onerror:
    jobserver.stop()
    release_lock(L.results)
    for _line in cluster_failures(log):  # what SLURM said about the jobs it stopped
        logger.error(_line)


localrules:
    publish,


# The default target. Without an output it runs on every invocation (it is cheap: links that are
# already in place are skipped), so the results always match the working tree after a success.
rule publish:
    default_target: True
    input:
        DELIVERABLES,
    log:
        L.log("publish"),
    conda:
        "workflow/envs/carbonbudget.yaml"
    params:
        # a function: the folder holds the inputs, and a local rule needs no path of its own
        results=lambda wildcards: L.results,
    script:
        "workflow/scripts/publish.py"
