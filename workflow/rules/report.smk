# Deliverables: the GeoPackage for GIS users and provenance.json (DESIGN §8).


rule geopackage:
    input:
        regions=rules.level_polygons.output[0],
        budget=rules.budget.output.parquet,
        trends=rules.region_trends.output.trends,
        spatial=rules.spatial_statistics.output.local,
    output:
        f"{OUT}/gis/carbon_budget.gpkg",
    log:
        f"{LOGS}/geopackage.log",
    benchmark:
        f"{LOGS}/benchmarks/geopackage.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        levels=LEVELS,
        budget_levels=BUDGET_LEVELS,
        spatial_levels=SPATIAL_LEVELS,
        run_info=run_info(config),
        series=trend_variable(FLUXES),
    script:
        "../scripts/stage.py"


rule provenance:
    input:
        raw=raw_inputs(config),
    output:
        f"{OUT}/provenance.json",
    log:
        f"{LOGS}/provenance.log",
    benchmark:
        f"{LOGS}/benchmarks/provenance.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        config=config,
    script:
        "../scripts/stage.py"


rule plot_budget_maps:
    input:
        regions=rules.level_polygons.output[0],
        budget=f"{OUT}/tables/budget_{{level}}.parquet",
        trends=f"{OUT}/tables/trends_{{level}}.csv",
    output:
        **{
            k: report(f"{OUT}/figures/maps/{k}_{{level}}.png", caption=f"../report/map_{k}.rst",
                      category="Maps", subcategory="{level}", labels={"map": k, "level": "{level}"})
            for k in MAP_KINDS
        },
    log:
        f"{LOGS}/plot_budget_maps/{{level}}.log",
    benchmark:
        f"{LOGS}/benchmarks/plot_budget_maps/{{level}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        kinds=list(MAP_KINDS),
        min_valid_fraction=config["balance"]["min_valid_fraction"],
    script:
        "../scripts/stage.py"
