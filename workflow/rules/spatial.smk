# Spatial statistics of the region tables (docs/method.md, "Spatial statistics"): Moran's I,
# LISA, Gi*, Gini; and their maps.


rule spatial_statistics:
    input:
        regions=L.level_polygons,
        budget=expand(L.budget("{level}"), level=MAP_LEVELS),
    output:
        local=expand(L.table("spatial"), level=SPATIAL_LEVELS),
        moran=expand(L.table("moran"), level=SPATIAL_LEVELS),
        gini=GINI_TABLE,
    log:
        L.log("spatial_statistics"),
    benchmark:
        L.benchmark("spatial_statistics")
    priority: 20  # the longest job near the end; the maps wait for it
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        levels=MAP_LEVELS,
        hierarchy=LEVELS,
        spatial_levels=SPATIAL_LEVELS,
        spatial=config["spatial"],
        tolerance_tgco2=config["balance"]["tolerance_tgco2"],
    script:
        "../scripts/spatial.py"


rule plot_spatial_maps:
    input:
        regions=L.level_polygons,
        local=L.table("spatial"),
        moran=L.table("moran"),
        overlay=MAP_OVERLAY,
    output:
        lisa=report(
            L.spatial_map("lisa"),
            caption="../report/lisa.rst",
            category="Spatial statistics",
            subcategory="{level}",
            labels=lambda w: {
                "map": spatial_map_title("lisa", w.variable),
                "level": w.level,
            },
        ),
        gi=report(
            L.spatial_map("hotspots"),
            caption="../report/hotspots.rst",
            category="Spatial statistics",
            subcategory="{level}",
            labels=lambda w: {
                "map": spatial_map_title("hotspots", w.variable),
                "level": w.level,
            },
        ),
    log:
        L.log("plot_spatial_maps", "{variable}", "{level}"),
    benchmark:
        L.benchmark("plot_spatial_maps", "{variable}", "{level}")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        lisa_p=config["spatial"]["lisa_p"],
        maps=config["outputs"]["maps"],
        outline_level=LEVELS[-1],
        words=lambda w: cluster_words(w.variable),  # for the captions
    script:
        "../scripts/spatial.py"
