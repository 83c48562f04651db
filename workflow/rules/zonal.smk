# Finest-level totals from the cached coverage matrix (docs/method.md, "Zonal totals"): per year
# over the year's fluxes and the climatology ones (every flux summed over the same pixels); once
# when every flux is a climatology.

for _run, (_kind, _cfg) in RUNS.items():

    rule:
        name:
            f"zonal_{_kind}"
        input:
            **{v: L.flux(v, "{year}", _run) for v in flux_periods(_cfg)[0]},
            **{v: L.flux(v, CLIMATOLOGY, _run) for v in flux_periods(_cfg)[1]},
            coverage=L.coverage,
        output:
            L.zonal("{year}", _run),
        log:
            L.log(f"zonal_{_kind}", *(["{scenario}"] if _run else []), "{year}"),
        benchmark:
            L.benchmark(f"zonal_{_kind}", *(["{scenario}"] if _run else []), "{year}")
        conda:
            "../envs/carbonbudget.yaml"
        threads: 1
        resources:
            mem_mb=2000,
        params:
            grid=config["grid"],
            fluxes=list(computed_fluxes(_cfg)),
        script:
            "../scripts/stage.py"


rule zonal_climatology:
    input:
        **{v: L.flux(v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES},
        coverage=L.coverage,
    output:
        L.zonal(CLIMATOLOGY),
    log:
        L.log("zonal_climatology"),
    benchmark:
        L.benchmark("zonal_climatology")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        fluxes=list(CLIMATOLOGY_FLUXES),
    script:
        "../scripts/stage.py"
