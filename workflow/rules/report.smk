# Deliverables: the GeoPackage for GIS users, provenance.json and the maps (docs/data.md).


rule geopackage:
    input:
        regions=L.level_polygons,
        budget=rules.budget.output.parquet,
        trends=rules.region_trends.output.trends,
        spatial=rules.spatial_statistics.output.local,
    output:
        L.geopackage,
    log:
        L.log("geopackage"),
    benchmark:
        L.benchmark("geopackage")
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
        L.provenance,
    log:
        L.log("provenance"),
    benchmark:
        L.benchmark("provenance")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        config=config,
        digest_cache=L.digest_cache,
    script:
        "../scripts/stage.py"


rule plot_budget_maps:
    input:
        regions=L.level_polygons,
        budget=L.budget(),
        trends=L.table("trends"),
    output:
        **{
            k: report(
                L.budget_map(k),
                caption=f"../report/map_{k}.rst",
                category="Maps",
                subcategory="{level}",
                labels={"map": k, "level": "{level}"},
            )
            for k in MAP_KINDS
        },
    log:
        L.log("plot_budget_maps", "{level}"),
    benchmark:
        L.benchmark("plot_budget_maps", "{level}")
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
