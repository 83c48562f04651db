# Emissions accounting (IPCC Tier 1) and scenarios to the horizon (DESIGN §6). Scenario sink
# rasters go through the same check, alignment, flux and zonal code as the observed years, under
# a {scenario} wildcard; only configured when the config has these sections.


rule tier1_emissions:
    input:
        consumption=config.get("emissions_accounting", {}).get("consumption", []),
        factors=config.get("emissions_accounting", {}).get("factors", []),
        budget=f"{OUT}/tables/budget_{{level}}.parquet",
    output:
        per_fuel=f"{OUT}/tables/tier1_{{level}}_by_fuel.csv",
        comparison=f"{OUT}/tables/tier1_comparison_{{level}}.csv",
    log:
        f"{LOGS}/tier1_emissions/{{level}}.log",
    benchmark:
        f"{LOGS}/benchmarks/tier1_emissions/{{level}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        accounting=config.get("emissions_accounting", {}),
    script:
        "../scripts/stage.py"


# the sections the scenario rules read (the same for every scenario but for the {scenario} in
# their paths, which the rules fill from their wildcard)
SCENARIO_CONFIG = scenario_config(config, SCENARIOS[0]) if SCENARIOS else config


rule check_scenario_year:
    input:
        files=lambda wildcards: year_input_files(scenario_config(config, wildcards.scenario),
                                                 int(wildcards.year)),
        fraction=REGION_FRACTION,
    output:
        report=f"{OUT}/scenarios/{{scenario}}/checks/year_{{year}}.json",
    log:
        f"{LOGS}/check_scenario_year/{{scenario}}_{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/check_scenario_year/{{scenario}}_{{year}}.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        config=lambda wildcards: scenario_config(config, wildcards.scenario),
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


rule align_scenario_year:
    input:
        unpack(lambda wildcards: year_inputs(scenario_config(config, wildcards.scenario),
                                             int(wildcards.year))),
        report=rules.check_scenario_year.output.report,
    output:
        **aligned_outputs(SCENARIO_CONFIG, f"{OUT}/scenarios/{{scenario}}"),
    log:
        f"{LOGS}/align_scenario_year/{{scenario}}_{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/align_scenario_year/{{scenario}}_{{year}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1500,
    params:
        grid=config["grid"],
        climate=lambda wildcards: scenario_config(config, wildcards.scenario)["climate"],
        npp=lambda wildcards: scenario_config(config, wildcards.scenario)["npp"],
        runoff=lambda wildcards: scenario_config(config, wildcards.scenario)["runoff"],
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


rule fluxes_scenario_year:
    input:
        **aligned_outputs(SCENARIO_CONFIG, f"{OUT}/scenarios/{{scenario}}"),
        coefficient=rules.align_lithology.output.coefficient,
        fraction=REGION_FRACTION,
    output:
        **{v: flux_path(f"{OUT}/scenarios/{{scenario}}", v) for v in FLUXES},
    log:
        f"{LOGS}/fluxes_scenario_year/{{scenario}}_{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/fluxes_scenario_year/{{scenario}}_{{year}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        timestep=config.get("scenarios", {}).get("climate", {}).get("timestep", "monthly"),
        fluxes=list(FLUXES),
        chunk_size=CHUNK,
        dask=config["dask"],
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


rule zonal_scenario_year:
    input:
        coverage=rules.build_regions.output.coverage,
        **{v: flux_path(f"{OUT}/scenarios/{{scenario}}", v) for v in FLUXES},
    output:
        f"{OUT}/scenarios/{{scenario}}/interim/zonal/{FINEST}_{{year}}.parquet",
    log:
        f"{LOGS}/zonal_scenario_year/{{scenario}}_{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/zonal_scenario_year/{{scenario}}_{{year}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        grid=config["grid"],
        fluxes=list(FLUXES),
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


rule scenario_projection:
    input:
        drivers=config.get("scenarios", {}).get("drivers", []),
        growth=config.get("scenarios", {}).get("growth", []),
        emissions=config["emissions"]["path"],
        check=rules.check_emissions.output.report,
        regions=rules.build_regions.output.regions,
        crosswalk=CROSSWALK_INPUT,
        budget=f"{OUT}/tables/budget_{{level}}.parquet",
        zonal=[p for by_year in scenario_zonal(config, OUT).values() for p in by_year.values()],
    output:
        table=f"{OUT}/tables/scenarios_{{level}}.csv",
        model=f"{OUT}/tables/emission_model_{{level}}.csv",
        summary=f"{OUT}/tables/scenario_summary_{{level}}.csv",
    log:
        f"{LOGS}/scenario_projection/{{level}}.log",
    benchmark:
        f"{LOGS}/benchmarks/scenario_projection/{{level}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        scenarios=config.get("scenarios", {}),
        emissions=config["emissions"],
        regions=config["regions"],
        zonal=scenario_zonal(config, OUT),
    script:
        "../scripts/stage.py"


rule plot_scenarios:
    input:
        table=rules.scenario_projection.output.table,
    output:
        report(directory(f"{OUT}/figures/scenarios_{{level}}"), patterns=["{name}.png"],
               caption="../report/scenarios.rst", category="Scenarios"),
    log:
        f"{LOGS}/plot_scenarios/{{level}}.log",
    benchmark:
        f"{LOGS}/benchmarks/plot_scenarios/{{level}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/stage.py"
