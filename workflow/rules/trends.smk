# Time-series statistics (DESIGN §4): per pixel for the configured fluxes, per region for CNC,
# ECS and CE, and one figure per province.


rule pixel_trends:
    input:
        expand(flux_path(OUT, "{{var}}", "{year}"), year=YEARS),
    output:
        **{s: f"{OUT}/trends/{{var}}_{s}.tif" for s in PIXEL_STATS},
    log:
        f"{LOGS}/pixel_trends/{{var}}.log",
    benchmark:
        f"{LOGS}/benchmarks/pixel_trends/{{var}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
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
        "../scripts/stage.py"


rule region_trends:
    input:
        budget=rules.budget.output.parquet,
    output:
        trends=expand(f"{OUT}/tables/trends_{{level}}.csv", level=BUDGET_LEVELS),
        sqmk=expand(f"{OUT}/tables/sqmk_{{level}}.csv", level=BUDGET_LEVELS),
    log:
        f"{LOGS}/region_trends.log",
    benchmark:
        f"{LOGS}/benchmarks/region_trends.tsv"
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
        hurst_bias_correction=config["trends"]["hurst_bias_correction"],
    script:
        "../scripts/stage.py"


rule plot_region_trends:
    input:
        budget=f"{OUT}/tables/budget_{LEVELS[-1]}.parquet",
        trends=f"{OUT}/tables/trends_{LEVELS[-1]}.csv",
        sqmk=f"{OUT}/tables/sqmk_{LEVELS[-1]}.csv",
    output:
        report(directory(f"{OUT}/figures/trends_{LEVELS[-1]}"), patterns=["{name}.png"],
               caption="../report/trends_figures.rst", category="Trends"),
    log:
        f"{LOGS}/plot_region_trends.log",
    benchmark:
        f"{LOGS}/benchmarks/plot_region_trends.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        variable=trend_variable(FLUXES),
    script:
        "../scripts/stage.py"
