# Finest-level totals from the cached coverage matrix (DESIGN §2): per year over the year's
# fluxes and the climatology ones (every flux summed over the same pixels); once when every flux
# is a climatology.


rule zonal_year:
    input:
        coverage=rules.build_regions.output.coverage,
        **{v: flux_path(OUT, v) for v in YEARLY_FLUXES},
        **{v: flux_path(OUT, v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES},
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
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


rule zonal_climatology:
    input:
        coverage=rules.build_regions.output.coverage,
        **{v: flux_path(OUT, v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES},
    output:
        f"{OUT}/interim/zonal/{FINEST}_{CLIMATOLOGY}.parquet",
    log:
        f"{LOGS}/zonal_climatology.log",
    benchmark:
        f"{LOGS}/benchmarks/zonal_climatology.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        fluxes=list(CLIMATOLOGY_FLUXES),
        period=CLIMATOLOGY,
    script:
        "../scripts/stage.py"
