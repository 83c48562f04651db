# Spatial statistics of the region tables (DESIGN §5): Moran's I, LISA, Gi*, Gini; and maps.


rule spatial_statistics:
    input:
        regions=rules.level_polygons.output[0],
        budget=expand(f"{OUT}/tables/budget_{{level}}.parquet", level=LEVELS),
    output:
        local=expand(f"{OUT}/tables/spatial_{{level}}.csv", level=SPATIAL_LEVELS),
        moran=expand(f"{OUT}/tables/moran_{{level}}.csv", level=SPATIAL_LEVELS),
        gini=GINI_TABLE,
    log:
        f"{LOGS}/spatial_statistics.log",
    benchmark:
        f"{LOGS}/benchmarks/spatial_statistics.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    priority: 20  # the longest job near the end; the maps wait for it
    resources:
        mem_mb=2000,
    params:
        levels=LEVELS,
        spatial_levels=SPATIAL_LEVELS,
        spatial=config["spatial"],
        tolerance_tgco2=config["balance"]["tolerance_tgco2"],
    script:
        "../scripts/stage.py"


rule plot_spatial_maps:
    input:
        regions=rules.level_polygons.output[0],
        local=f"{OUT}/tables/spatial_{{level}}.csv",
        moran=f"{OUT}/tables/moran_{{level}}.csv",
    output:
        lisa=report(f"{OUT}/figures/lisa_{{variable}}_{{level}}.png",
                    caption="../report/lisa.rst", category="Spatial statistics",
                    subcategory="{level}", labels={"map": "LISA {variable}", "level": "{level}"}),
        gi=report(f"{OUT}/figures/hotspots_{{variable}}_{{level}}.png",
                  caption="../report/hotspots.rst", category="Spatial statistics",
                  subcategory="{level}", labels={"map": "Gi* {variable}", "level": "{level}"}),
    log:
        f"{LOGS}/plot_spatial_maps/{{variable}}_{{level}}.log",
    benchmark:
        f"{LOGS}/benchmarks/plot_spatial_maps/{{variable}}_{{level}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        lisa_p=config["spatial"]["lisa_p"],
    script:
        "../scripts/stage.py"
