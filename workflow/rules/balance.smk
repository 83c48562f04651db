# Roll-up to every level, emissions, CNC, status, source/sink ratio, CER (DESIGN §2-3).


rule budget:
    input:
        zonal=ZONAL,
        regions=rules.build_regions.output.regions,
        emissions=config["emissions"]["path"],
        check=rules.check_emissions.output.report,
        crosswalk=CROSSWALK_INPUT,
    output:
        csv=expand(f"{OUT}/tables/budget_{{level}}.csv", level=BUDGET_LEVELS),
        parquet=expand(f"{OUT}/tables/budget_{{level}}.parquet", level=BUDGET_LEVELS),
    log:
        f"{LOGS}/budget.log",
    benchmark:
        f"{LOGS}/benchmarks/budget.tsv"
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
    script:
        "../scripts/stage.py"
