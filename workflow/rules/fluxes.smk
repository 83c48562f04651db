# Per-pixel RH, NEP, RCS, ECS (DESIGN §1): numba kernel mapped over dask chunks.


rule fluxes_year:
    input:
        temperature=rules.align_year.output.temperature,
        precipitation=rules.align_year.output.precipitation,
        npp=rules.align_year.output.npp,
        runoff=rules.align_year.output.runoff,
        coefficient=rules.align_lithology.output.coefficient,
        fraction=rules.build_regions.output.fraction,
    output:
        **{v: f"{OUT}/pixels/{v}/{v}_{{year}}.tif" for v in FLUXES},
    log:
        f"{OUT}/logs/fluxes_year/{{year}}.log",
    benchmark:
        f"{OUT}/logs/benchmarks/fluxes_year/{{year}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        timestep=config["climate"]["timestep"],
        chunk_size=CHUNK,
        dask=config["dask"],
    script:
        "../scripts/fluxes_year.py"
