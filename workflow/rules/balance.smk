# Roll-up to every level, emissions, CNC, status, source/sink ratio, CER (docs/method.md,
# "Regional budgets" and "Balance indicators").


rule budget:
    input:
        zonal=ZONAL,
        regions=L.regions,
        emissions=config["emissions"]["path"],
        check=L.emissions_report,
        crosswalk=CROSSWALK_INPUT,
        uncertainty=ZONAL_UNCERTAINTY,
        socioeconomic=(config.get("socioeconomic") or {}).get("path", []),
        compare=COMPARE["table"]["path"] if COMPARE else [],
    output:
        **(
            {
                "trend_intervals": expand(
                    L.table("uncertainty_trends", "{level}"), level=SUMMED_LEVELS
                )
            }
            if UNCERTAINTY
            else {}
        ),
        **(
            {"sources": expand(L.table("emission_sources", "{level}"), level=SUMMED_LEVELS)}
            if COMPARE
            else {}
        ),
        csv=expand(L.budget("{level}", "csv"), level=SUMMED_LEVELS),
        parquet=expand(L.budget("{level}", "parquet"), level=SUMMED_LEVELS),
    log:
        L.log("budget"),
    benchmark:
        L.benchmark("budget")
    priority: 30  # the chain at a multi-year run's end starts here (trends.smk)
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        years=YEARS,
        levels=SUMMED_LEVELS,
        regions=config["regions"],
        emissions=config["emissions"],
        socioeconomic=config.get("socioeconomic"),
        balance=config["balance"],
        fluxes=list(FLUXES),
        uncertainty=config.get("uncertainty"),
        trends=config["trends"],
        compare=COMPARE,
    script:
        "../scripts/balance.py"


# The budget tables as one Excel workbook: a job of its own beside the ones that read the tables
# (a million cells of China's 21 years take ~6 s to write, which the budget's chain would wait for).
rule budget_workbook:
    input:
        parquet=expand(L.budget("{level}", "parquet"), level=SUMMED_LEVELS),
    output:
        workbook=L.workbook,
    log:
        L.log("budget_workbook"),
    benchmark:
        L.benchmark("budget_workbook")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        years=YEARS,
        levels=SUMMED_LEVELS,
        language=config["outputs"]["maps"]["language"],
    script:
        "../scripts/balance.py"


# An independent region layer (region_layers: basins, ecological zones): its own coverage and
# the zonal sums of every flux of every year; CE from the grid where the run has it (docs/method.md,
# "Regional budgets").
rule layer_budget:
    input:
        **cover_fraction_input(config, L),
        fluxes=[f for f, _ in LAYER_FLUX_INPUTS],
        ce=[L.flux("ce", str(y)) for y in YEARS] if "ce" in GRID_VARS else [],
        layer=lambda w: config["region_layers"][w.layer]["path"],
    output:
        csv=L.budget("{layer}", "csv"),
        parquet=L.budget("{layer}", "parquet"),
    log:
        L.log("layer_budget", "{layer}"),
    benchmark:
        L.benchmark("layer_budget", "{layer}")
    wildcard_constraints:
        layer="|".join(LAYERS) or "NONE",
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=3000,
    params:
        layer=lambda w: config["region_layers"][w.layer],
        grid=config["grid"],
        years=YEARS,
        fluxes=list(FLUXES),
        flux_keys=[k for _, k in LAYER_FLUX_INPUTS],
        balance=config["balance"],
        cache_dir=L.coverage_cache(config["processing"]["coverage_cache"]),
    script:
        "../scripts/balance.py"
