# Emissions accounting (IPCC Tier 1) and scenarios to the horizon: docs/method.md, sections
# "Emissions accounting" and "Scenarios". The scenario sink rasters go through the per-year rules
# of the observed years (check_, align_, fluxes_, zonal_scenario_year: the same definitions, see
# inputs.smk and the others); these rules run only when the config has these sections.


rule tier1_emissions:
    input:
        consumption=config.get("emissions_accounting", {}).get("consumption", []),
        factors=config.get("emissions_accounting", {}).get("factors", []),
        inventory=(config.get("emissions_accounting", {}).get("inventory") or {}).get("path", []),
        budget=L.budget(),
    output:
        per_fuel=L.tier1_by_fuel(),
        comparison=L.table("tier1_comparison"),
    log:
        L.log("tier1_emissions", "{level}"),
    benchmark:
        L.benchmark("tier1_emissions", "{level}")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        accounting=config.get("emissions_accounting", {}),
    script:
        "../scripts/scenarios.py"


rule scenario_projection:
    input:
        drivers=config.get("scenarios", {}).get("drivers", []),
        growth=config.get("scenarios", {}).get("growth", []),
        emissions=config["emissions"]["path"],
        check=L.emissions_report,
        regions=L.regions,
        crosswalk=CROSSWALK_INPUT,
        budget=L.budget(),
        zonal=[p for by_year in scenario_zonal(config, L).values() for p in by_year.values()],
    output:
        table=L.table("scenarios"),
        model=L.table("emission_model"),
        summary=L.table("scenario_summary"),
    log:
        L.log("scenario_projection", "{level}"),
    benchmark:
        L.benchmark("scenario_projection", "{level}")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        scenarios=config.get("scenarios", {}),
        emissions=config["emissions"],
        regions=config["regions"],
        zonal=scenario_zonal(config, L),
    script:
        "../scripts/scenarios.py"


rule plot_scenarios:
    input:
        table=rules.scenario_projection.output.table,
    output:
        report(
            directory(L.figure_folder("scenarios")),
            patterns=["{name}.png"],
            caption="../report/scenarios.rst",
            category="Scenarios",
        ),
    log:
        L.log("plot_scenarios", "{level}"),
    benchmark:
        L.benchmark("plot_scenarios", "{level}")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/scenarios.py"
