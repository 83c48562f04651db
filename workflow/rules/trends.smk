# OLS trends: per pixel for the configured fluxes, per region for CNC, ECS and CE.


rule pixel_trends:
    input:
        expand(f"{OUT}/pixels/{{{{var}}}}/{{{{var}}}}_{{year}}.tif", year=YEARS),
    output:
        slope=f"{OUT}/trends/{{var}}_slope.tif",
        p=f"{OUT}/trends/{{var}}_p.tif",
    log:
        f"{OUT}/logs/pixel_trends/{{var}}.log",
    benchmark:
        f"{OUT}/logs/benchmarks/pixel_trends/{{var}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        years=YEARS,
        min_valid_years=config["trends"]["min_valid_years"],
        chunk_size=CHUNK,
    script:
        "../scripts/pixel_trends.py"


rule region_trends:
    input:
        budget=rules.budget.output.parquet,
    output:
        expand(f"{OUT}/tables/trends_{{level}}.csv", level=BUDGET_LEVELS),
    log:
        f"{OUT}/logs/region_trends.log",
    benchmark:
        f"{OUT}/logs/benchmarks/region_trends.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        levels=BUDGET_LEVELS,
        min_valid_years=config["trends"]["min_valid_years"],
    script:
        "../scripts/region_trends.py"
