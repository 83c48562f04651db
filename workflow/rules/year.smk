# The work of one year, in one job: check its rasters, put them on the grid, compute the
# per-pixel fluxes, sum them per finest region (docs/method.md). One job instead of four keeps
# the per-year cost near the time it takes to read and write the year's rasters (every job
# pays seconds of start-up); the log gives each step its time. The inputs are checked before
# anything is computed from them, and the steps write the same files as separate jobs would.
# The same definition serves the observed years and the scenario raster years (RUNS).

for _run, (_kind, _cfg) in RUNS.items():
    _aligned = aligned_outputs(_cfg, L, run=_run)
    _flux_inputs = flux_year_inputs(_cfg, L, _run)
    _yearly, _static = flux_periods(_cfg)

    rule:
        name:
            f"process_{_kind}"
        input:
            **{k: v for k, v in _flux_inputs.items() if k not in _aligned},
            **{f"climatology_{v}": L.flux(v, CLIMATOLOGY, _run) for v in _static},
            **({} if _run else aligned_precipitation_for_runoff(config, L)),
            files=lambda w, run=_run: year_input_files(run_config(config, run, w), int(w.year)),
            fraction=L.region_fraction,
            coefficient=L.gem_coefficient,
            coverage=L.coverage,
        output:
            **{f"aligned_{k}": v for k, v in _aligned.items()},
            **{v: L.flux(v, "{year}", _run) for v in _yearly},
            **({"uncertainty": L.zonal_uncertainty("{year}")} if UNCERTAINTY and not _run else {}),
            report=L.check_report("{year}", _run),
            zonal=L.zonal("{year}", _run),
        log:
            L.log(f"process_{_kind}", *(["{scenario}"] if _run else []), "{year}"),
        benchmark:
            L.benchmark(f"process_{_kind}", *(["{scenario}"] if _run else []), "{year}")
        conda:
            "../envs/carbonbudget.yaml"
        threads: 1
        resources:
            mem_mb=2000,
        params:
            config=lambda w, run=_run: config_sections(
                run_config(config, run, w), "grid", "climate", "npp", "runoff", "checks"
            ),
            aligned=list(_aligned),
            flux_inputs=list(_flux_inputs),
            fluxes=list(_yearly),
            zonal_fluxes=list(computed_fluxes(_cfg)),
            chunk_size=CHUNK,
            dask=config["dask"],
            coefficients=config["lithology"]["coefficients"],
        script:
            "../scripts/stage.py"
