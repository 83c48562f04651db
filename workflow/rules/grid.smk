# Emissions on the grid (docs/method.md, "Emissions on the grid"): with emissions.downscale,
# every year's finest-region CE spread over the pixels by a weight raster, conserving each
# region's total, and CNC = ECS - CE per pixel. One job for all years: the coverage matrix and
# the weights are read once, and a year costs less than a job's start-up.


rule grid_budget:
    input:
        **(
            {
                "ecs": [
                    L.flux("ecs", str(y) if "ecs" in YEARLY_FLUXES else CLIMATOLOGY) for y in YEARS
                ]
            }
            if "cnc" in GRID_VARS
            else {}
        ),
        budget=L.budget(FINEST),
        coverage=L.coverage,
        weights=list(WEIGHTS.values()),
        # ECS of each year (the climatology's when ECS does not change between years)
    output:
        **(
            {
                "cnc": [L.flux("cnc", str(y)) for y in YEARS],
                "status": [L.flux("status", str(y)) for y in YEARS],
            }
            if "cnc" in GRID_VARS
            else {}
        ),
        ce=[L.flux("ce", str(y)) for y in YEARS],
        aligned=[L.aligned_weights(k) for k in WEIGHTS],
        report=L.table("downscale", FINEST),
    log:
        L.log("grid_budget"),
    benchmark:
        L.benchmark("grid_budget")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
    resources:
        mem_mb=3000,
    params:
        grid=config["grid"],
        years=YEARS,
        downscale=config["emissions"].get("downscale"),
        weights={k: (v, L.aligned_weights(k)) for k, v in WEIGHTS.items()},
        climatology=CLIMATOLOGY,
        dask=config["dask"],
    script:
        "../scripts/stage.py"
