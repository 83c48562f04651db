# Per-pixel RH, NEP, RCS, ECS (docs/method.md): numba kernels mapped over dask chunks. Fluxes
# whose inputs are all climatologies are computed once (fluxes_climatology); the others by each
# year's process_year job (year.smk), and for every scenario raster year.


rule fluxes_climatology:
    input:
        **aligned_outputs(config, L, CLIMATOLOGY),
        coefficient=L.gem_coefficient,
        fraction=L.region_fraction,
    output:
        **{v: L.flux(v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES},
    log:
        L.log("fluxes_climatology"),
    benchmark:
        L.benchmark("fluxes_climatology")
    conda:
        "../envs/carbonbudget.yaml"
    threads: BLOCK_THREADS
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        timestep=config["climate"]["timestep"] if config.get("climate") else None,
        fluxes=list(CLIMATOLOGY_FLUXES),
        chunk_size=CHUNK,
        dask=config["dask"],
    script:
        "../scripts/fluxes.py"
