# Emissions on the grid (docs/method.md, "Emissions on the grid"): with emissions.downscale,
# every year's finest-region CE spread over the pixels by a weight raster, conserving each
# region's total; with a gridded inventory (emissions.source: raster), the inventory put on the
# grid conserving mass and summed per finest region into the emission table the budget reads.
# Either way CNC = ECS - CE per pixel. One job for all years: the coverage matrices and the
# weights are read once, and a year costs less than a job's start-up.
_ECS_PER_YEAR = (
    {"ecs": [L.flux("ecs", str(y) if "ecs" in YEARLY_FLUXES else CLIMATOLOGY) for y in YEARS]}
    if "cnc" in GRID_VARS
    else {}
)
_CNC_OUTPUTS = (
    {
        "cnc": [L.flux("cnc", str(y)) for y in YEARS],
        "status": [L.flux("status", str(y)) for y in YEARS],
    }
    if "cnc" in GRID_VARS
    else {}
)

if INVENTORY:

    rule emission_raster:
        input:
            **_ECS_PER_YEAR,
            rasters=sorted({f for f, _ in INVENTORY.values()}),
            coverage=L.coverage,
        output:
            **_CNC_OUTPUTS,
            ce=[L.flux("ce", str(y)) for y in YEARS],
            table=config["emissions"]["path"],
            report=L.table("emission_inventory", FINEST),
        log:
            L.log("emission_raster"),
        benchmark:
            L.benchmark("emission_raster")
        conda:
            "../envs/carbonbudget.yaml"
        threads: BLOCK_THREADS
        resources:
            mem_mb=3000,
        params:
            grid=config["grid"],
            years=YEARS,
            inventory=config.get("emissions_raster"),
            files=INVENTORY,
            dask=config["dask"],
        script:
            "../scripts/grid.py"


if COMPARE_FILES:

    # A gridded second emission source (emission_compare): summed per finest region as the
    # inventory above is, for the comparison the budget job writes.
    rule compare_raster:
        input:
            rasters=sorted({f for f, _ in COMPARE_FILES.values()}),
            coverage=L.coverage,
        output:
            table=COMPARE["table"]["path"],
            report=L.table("compare_inventory", FINEST),
        log:
            L.log("compare_raster"),
        benchmark:
            L.benchmark("compare_raster")
        conda:
            "../envs/carbonbudget.yaml"
        threads: 1
        resources:
            mem_mb=3000,
        params:
            grid=config["grid"],
            inventory=COMPARE["raster"],
            files=COMPARE_FILES,
        script:
            "../scripts/grid.py"


if WEIGHTS:

    # The weight rasters checked (band, CRS, extent, sign, a value on enough of every region's
    # area) and put on the grid as soon as the regions' coverage exists: first, so that a bad
    # weight raster stops the run before the fluxes.
    rule align_weights:
        input:
            weights=list(WEIGHTS.values()),
            coverage=L.coverage,
        output:
            aligned=[L.aligned_weights(k) for k in WEIGHTS],
        log:
            L.log("align_weights"),
        benchmark:
            L.benchmark("align_weights")
        priority: 100
        conda:
            "../envs/carbonbudget.yaml"
        threads: 1
        resources:
            mem_mb=2000,
        params:
            config=weights_check_config(config),
            aligned={v: L.aligned_weights(k) for k, v in WEIGHTS.items()},
        script:
            "../scripts/grid.py"

    rule grid_budget:
        input:
            **_ECS_PER_YEAR,
            budget=L.budget(FINEST),
            coverage=L.coverage,
            aligned=[L.aligned_weights(k) for k in WEIGHTS],
        output:
            **_CNC_OUTPUTS,
            ce=[L.flux("ce", str(y)) for y in YEARS],
            report=L.table("downscale", FINEST),
        log:
            L.log("grid_budget"),
        benchmark:
            L.benchmark("grid_budget")
        # every year's spreading in one job, the longest of a run with many years and regions
        # (the China example: 21 years, 2,800 counties, ~19 s) and read by the report and the
        # CNC trends: it starts beside the budget's chain, not after the maps
        priority: 30
        conda:
            "../envs/carbonbudget.yaml"
        threads: BLOCK_THREADS
        resources:
            mem_mb=3000,
        params:
            grid=config["grid"],
            years=YEARS,
            downscale=config["emissions"].get("downscale"),
            periods=list(WEIGHTS),
            period_of=weight_periods(config),
            dask=config["dask"],
        script:
            "../scripts/grid.py"
