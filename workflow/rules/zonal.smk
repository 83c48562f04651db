# Finest-level totals per year from the cached coverage matrix (DESIGN §2).


rule zonal_year:
    input:
        coverage=rules.build_regions.output.coverage,
        **{v: f"{OUT}/pixels/{v}/{v}_{{year}}.tif" for v in FLUXES},
    output:
        f"{OUT}/interim/zonal/{FINEST}_{{year}}.parquet",
    log:
        f"{LOGS}/zonal_year/{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/zonal_year/{{year}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        fluxes=list(FLUXES),
    script:
        "../scripts/zonal_year.py"
