# Per-pixel RH, NEP, RCS, ECS (DESIGN §1): numba kernel mapped over dask chunks. Fluxes whose
# inputs are all climatologies are computed once (fluxes_climatology); the others every year.


rule fluxes_year:
    input:
        **flux_year_inputs(config, OUT),
        coefficient=rules.align_lithology.output.coefficient,
        fraction=REGION_FRACTION,
    output:
        **{v: flux_path(OUT, v) for v in YEARLY_FLUXES},
    log:
        f"{LOGS}/fluxes_year/{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/fluxes_year/{{year}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        timestep=config.get("climate", {}).get("timestep", "monthly"),
        fluxes=list(YEARLY_FLUXES),
        chunk_size=CHUNK,
        dask=config["dask"],
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


rule fluxes_climatology:
    input:
        **aligned_outputs(config, OUT, CLIMATOLOGY),
        coefficient=rules.align_lithology.output.coefficient,
        fraction=REGION_FRACTION,
    output:
        **{v: flux_path(OUT, v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES},
    log:
        f"{LOGS}/fluxes_climatology.log",
    benchmark:
        f"{LOGS}/benchmarks/fluxes_climatology.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        timestep=config.get("climate", {}).get("timestep", "monthly"),
        fluxes=list(CLIMATOLOGY_FLUXES),
        chunk_size=CHUNK,
        dask=config["dask"],
        period=CLIMATOLOGY,
    script:
        "../scripts/stage.py"
