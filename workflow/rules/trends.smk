# Time-series statistics (docs/method.md, "Trends"): per pixel for the configured fluxes, per
# region for CNC, ECS and CE, and one figure per region of the coarsest level.


rule pixel_trends:
    input:
        expand(L.flux("{{var}}", "{year}"), year=YEARS),
    output:
        **{s: L.pixel_trend("{var}", s) for s in PIXEL_STATS},
    log:
        L.log("pixel_trends", "{var}"),
    benchmark:
        L.benchmark("pixel_trends", "{var}")
    conda:
        "../envs/carbonbudget.yaml"
    threads: TREND_THREADS
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        years=YEARS,
        min_valid_years=config["trends"]["min_valid_years"],
        hurst_min_blocks=config["trends"]["hurst_min_blocks"],
        hurst_bias_correction=config["trends"]["hurst_bias_correction"],
        chunk_size=CHUNK,
        dask=config["dask"],
    script:
        "../scripts/trends.py"


# The temperature and precipitation terms of RH over the decomposition period (docs/method.md,
# "Decomposition"): their changes split ΔRH exactly.
if RH_SPLIT_YEARS:
    _RH = rh_attribution_rule(config, L)

    rule rh_attribution:
        input:
            **_RH["input"],
        output:
            **_RH["output"],
        log:
            L.log("rh_attribution"),
        benchmark:
            L.benchmark("rh_attribution")
        # the head of the longest chain at a multi-year run's end (rh_attribution, region_trends,
        # plot_region_trends): first among the jobs that read several years, which the other cores
        # take beside it (TREND_THREADS)
        priority: 30
        conda:
            "../envs/carbonbudget.yaml"
        threads: TREND_THREADS
        resources:
            mem_mb=2000,
        params:
            **_RH["params"],
        script:
            "../scripts/trends.py"


rule region_trends:
    input:
        **fuel_decomposition_inputs(config, L),
        **({"rh_parts": L.rh_parts, "regions": L.regions} if RH_SPLIT_YEARS else {}),
        budget=expand(L.budget("{level}"), level=BUDGET_LEVELS),
    output:
        **(
            {"decomposition": expand(L.table("decomposition"), level=DECOMPOSITION)}
            if DECOMPOSITION
            else {}
        ),
        **({"by_fuel": L.table("decomposition_by_fuel", FUEL_LEVEL)} if FUEL_LEVEL else {}),
        trends=expand(L.table("trends"), level=BUDGET_LEVELS),
        sqmk=expand(L.table("sqmk"), level=BUDGET_LEVELS),
    log:
        L.log("region_trends"),
    benchmark:
        L.benchmark("region_trends")
    priority: 30  # on the chain at a multi-year run's end
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        levels=BUDGET_LEVELS,
        min_valid_years=config["trends"]["min_valid_years"],
        hurst_min_blocks=config["trends"]["hurst_min_blocks"],
        class_thresholds=config["trends"]["class_thresholds_tgco2"],
        class_thresholds_area_km2=config["trends"]["class_thresholds_area_km2"],
        hurst_bias_correction=config["trends"]["hurst_bias_correction"],
        decomposition_levels=DECOMPOSITION,
        currency=CURRENCY,
        decomposition=config["decomposition"],
        years=YEARS,
        fuel_level=FUEL_LEVEL,
        regions=config["regions"],
    script:
        "../scripts/trends.py"


rule plot_region_trends:
    input:
        budget=L.budget(LEVELS[-1]),
        trends=L.table("trends", LEVELS[-1]),
        sqmk=L.table("sqmk", LEVELS[-1]),
        decomposition=(L.table("decomposition", LEVELS[-1]) if LEVELS[-1] in DECOMPOSITION else []),
    output:
        report(
            directory(L.figure_folder("trends", LEVELS[-1])),
            patterns=["{name}.png"],
            caption="../report/trends_figures.rst",
            category="Trends",
        ),
    log:
        L.log("plot_region_trends"),
    benchmark:
        L.benchmark("plot_region_trends")
    priority: 30  # the last long job of that chain
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        variable=trend_variable(FLUXES),
    script:
        "../scripts/trends.py"
