# Per-pixel RH, NEP, RCS, ECS (docs/method.md): numba kernels mapped over dask chunks. Fluxes
# whose inputs are all climatologies are computed once (fluxes_climatology); the others every
# year, and for every scenario raster year.

for _run, (_kind, _cfg) in RUNS.items():

    rule:
        name:
            f"fluxes_{_kind}"
        input:
            **flux_year_inputs(_cfg, L, _run),
            coefficient=L.gem_coefficient,
            fraction=L.region_fraction,
        output:
            **{v: L.flux(v, "{year}", _run) for v in flux_periods(_cfg)[0]},
        log:
            L.log(f"fluxes_{_kind}", *(["{scenario}"] if _run else []), "{year}"),
        benchmark:
            L.benchmark(f"fluxes_{_kind}", *(["{scenario}"] if _run else []), "{year}")
        conda:
            "../envs/carbonbudget.yaml"
        threads: 2
        resources:
            mem_mb=2000,
        params:
            grid=config["grid"],
            timestep=_cfg["climate"]["timestep"] if _cfg.get("climate") else None,
            fluxes=list(flux_periods(_cfg)[0]),
            chunk_size=CHUNK,
            dask=config["dask"],
        script:
            "../scripts/stage.py"


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
    threads: 2
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        timestep=config["climate"]["timestep"] if config.get("climate") else None,
        fluxes=list(CLIMATOLOGY_FLUXES),
        chunk_size=CHUNK,
        dask=config["dask"],
    script:
        "../scripts/stage.py"
