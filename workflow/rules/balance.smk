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
    output:
        **(
            {
                "trend_intervals": expand(
                    L.table("uncertainty_trends", "{level}"), level=BUDGET_LEVELS
                )
            }
            if UNCERTAINTY
            else {}
        ),
        csv=expand(L.budget("{level}", "csv"), level=BUDGET_LEVELS),
        parquet=expand(L.budget("{level}", "parquet"), level=BUDGET_LEVELS),
    log:
        L.log("budget"),
    benchmark:
        L.benchmark("budget")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        years=YEARS,
        levels=BUDGET_LEVELS,
        regions=config["regions"],
        emissions=config["emissions"],
        socioeconomic=config.get("socioeconomic"),
        balance=config["balance"],
        fluxes=list(FLUXES),
        uncertainty=config.get("uncertainty"),
        trends=config["trends"],
    script:
        "../scripts/stage.py"
