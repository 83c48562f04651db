# Finest-level totals from the cached coverage matrix (docs/method.md, "Zonal totals"): per year
# over the year's fluxes and the climatology ones (every flux summed over the same pixels, in
# process_year, year.smk); here once, when every flux is a climatology.


rule zonal_climatology:
    input:
        **{v: L.flux(v, CLIMATOLOGY) for v in CLIMATOLOGY_FLUXES},
        **({"coefficients": config["lithology"]["coefficients"]} if UNCERTAINTY else {}),
        **cover_fraction_input(config, L),
        coverage=L.coverage,
        coefficient=L.gem_coefficient,
        # the uncertainty statistics group the pixels by the table's coefficients
    output:
        **({"uncertainty": L.zonal_uncertainty(CLIMATOLOGY)} if UNCERTAINTY else {}),
        zonal=L.zonal(CLIMATOLOGY),
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
        "../scripts/zonal.py"
