# Per-pixel RH, NEP, RCS, ECS (DESIGN §1): numba kernel mapped over dask chunks.


rule fluxes_year:
    input:
        **aligned_outputs(config, OUT),
        coefficient=rules.align_lithology.output.coefficient,
        fraction=rules.build_regions.output.fraction,
    output:
        **{v: f"{OUT}/pixels/{v}/{v}_{{year}}.tif" for v in FLUXES},
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
        fluxes=list(FLUXES),
        chunk_size=CHUNK,
        dask=config["dask"],
    script:
        "../scripts/fluxes_year.py"
