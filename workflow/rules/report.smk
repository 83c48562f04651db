# Deliverables: the GeoPackage for GIS users, the web map, provenance.json and the maps
# (docs/data.md).


# the levels of the GeoPackage with a decomposition (not the independent region layers)
GPKG_DECOMPOSITION = [lv for lv in MAP_LEVELS if lv in DECOMPOSITION]


rule geopackage:
    input:
        regions=L.level_polygons,
        budget=expand(L.budget("{level}"), level=BUDGET_LEVELS),
        trends=rules.region_trends.output.trends,
        spatial=rules.spatial_statistics.output.local,
        decomposition=[L.table("decomposition", lv) for lv in GPKG_DECOMPOSITION],
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
        levels=MAP_LEVELS,
        budget_levels=BUDGET_LEVELS,
        spatial_levels=SPATIAL_LEVELS,
        decomposition_levels=GPKG_DECOMPOSITION,
        run_info=run_info(config),
        series=trend_variable(FLUXES),
        maps={k: config["outputs"]["maps"][k] for k in ("scheme", "classes")},
        min_valid_fraction=config["balance"]["min_valid_fraction"],
    script:
        "../scripts/report.py"


# The finest and the coarsest level as one offline HTML page a user can share (docs/outputs.md).
rule web_map:
    input:
        regions=L.level_polygons,
        budget=[L.budget(lv) for lv in WEB_MAP_LEVELS],
    output:
        L.web_map,
    log:
        L.log("web_map"),
    benchmark:
        L.benchmark("web_map")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        levels=WEB_MAP_LEVELS,
        maps={k: config["outputs"]["maps"][k] for k in ("scheme", "classes")},
        min_valid_fraction=config["balance"]["min_valid_fraction"],
    script:
        "../scripts/report.py"


# One page per region of a chosen level (outputs.fact_sheets; the coarsest by default).
rule fact_sheets:
    input:
        regions=L.level_polygons,
        budget=L.budget(FACT_SHEET_LEVEL),
        trends=L.table("trends", FACT_SHEET_LEVEL),
    output:
        directory(L.fact_sheets(FACT_SHEET_LEVEL)),
    log:
        L.log("fact_sheets"),
    benchmark:
        L.benchmark("fact_sheets")
    priority: 10  # among the longest jobs at the run's end: before the short ones
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        level=FACT_SHEET_LEVEL,
    script:
        "../scripts/report.py"


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
        config=config_sections(config, *sorted(config)),
        digest_cache=L.digest_cache,
        full_digests=config["outputs"]["input_digests"] == "full",
    script:
        "../scripts/report.py"


# Maps of the levels summed from the finest regions, and of the independent region layers (whose
# maps depend on whether emissions reach them from the grid): one definition, two rules.
_BUDGET_MAP_LEVELS = [lv for lv in MAP_LEVELS if lv not in LAYERS]


_map_output = lambda kind: report(
    L.budget_map(kind),
    caption=f"../report/map_{kind}.rst",
    category="Maps",
    subcategory="{level}",
    labels={"map": MAP_TITLES[kind], "level": "{level}"},
)


rule plot_budget_maps:
    input:
        regions=L.level_polygons,
        budget=L.budget(),
        trends=L.table("trends"),
        overlay=MAP_OVERLAY,
        # the region layers (plot_layer_maps) have no decomposition or comparison
        decomposition=lambda w: (
            L.table("decomposition", w.level) if CURRENCY and w.level in SUMMED_LEVELS else []
        ),
        sources=lambda w: (
            L.table("emission_sources", w.level) if COMPARE and w.level in SUMMED_LEVELS else []
        ),
    output:
        **{k: _map_output(k) for k in MAP_KINDS},
    log:
        L.log("plot_budget_maps", "{level}"),
    benchmark:
        L.benchmark("plot_budget_maps", "{level}")
    wildcard_constraints:
        level="|".join(_BUDGET_MAP_LEVELS) or "NONE",
    priority: 10  # among the longest jobs at the run's end: before the short ones
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        kinds=list(MAP_KINDS),
        min_valid_fraction=config["balance"]["min_valid_fraction"],
        maps=config["outputs"]["maps"],
        outline_level=LEVELS[-1],
    script:
        "../scripts/report.py"


if LAYERS:

    use rule plot_budget_maps as plot_layer_maps with:
        output:
            **{k: _map_output(k) for k in LAYER_MAP_KINDS},
        log:
            L.log("plot_layer_maps", "{level}"),
        benchmark:
            L.benchmark("plot_layer_maps", "{level}")
        wildcard_constraints:
            level="|".join(LAYERS),
        params:
            kinds=list(LAYER_MAP_KINDS),
            min_valid_fraction=config["balance"]["min_valid_fraction"],
            maps=config["outputs"]["maps"],
            outline_level=LEVELS[-1],


# the report's section on why the balance changed (docs/method.md, "Decomposition")
WHY = "3. Why the balance changed"


# The items a reader of `snakemake --report` looks at first: headline tables and quick-look maps
# of the per-pixel rasters with the outlines of the coarsest level (one job: a start-up each
# would cost more than the drawing).
rule report_items:
    input:
        study_area=L.budget("study_area"),
        finest=L.budget(FINEST),
        regions=L.level_polygons,
        rasters=[r[0] for r in REPORT_RASTERS.values()],
        skill=MODEL_SKILL,
        overlay=MAP_OVERLAY,
        decomposition=L.table("decomposition", "study_area") if DECOMPOSITION else [],
        regions_decomposition=(
            L.table("decomposition", DECOMPOSITION_LEVEL) if DECOMPOSITION else []
        ),
        by_fuel=L.table("decomposition_by_fuel", FUEL_LEVEL) if FUEL_LEVEL else [],
        decomposition_rasters=[r[0] for r in DECOMPOSITION_RASTERS.values()],
        sources=L.table("emission_sources", LEVELS[-1]) if COMPARE else [],
    output:
        **(
            {
                "sources": report(
                    L.report_item(f"emission_sources_{LEVELS[-1]}", "png"),
                    caption="../report/headline_sources.rst",
                    category="1. Headlines",
                )
            }
            if COMPARE
            else {}
        ),
        **(
            {
                "decomposition": report(
                    L.report_item("decomposition_study_area", "png"),
                    caption="../report/headline_decomposition.rst",
                    category=WHY,
                    labels={"figure": "Why the study area's balance changed (waterfall)"},
                ),
                "decomposition_regions": report(
                    L.report_item(f"decomposition_{DECOMPOSITION_LEVEL}", "html"),
                    caption="../report/decomposition_regions.rst",
                    category=WHY,
                    labels={
                        "figure": f"Why each region's balance changed (table, by {DECOMPOSITION_LEVEL})"
                    },
                ),
            }
            if DECOMPOSITION
            else {}
        ),
        **(
            {
                "decomposition_by_fuel": report(
                    L.report_item("decomposition_by_fuel_study_area", "png"),
                    caption="../report/decomposition_by_fuel.rst",
                    category=WHY,
                    labels={"figure": "Why the study area's CO2 by fuel changed (waterfall)"},
                )
            }
            if FUEL_LEVEL
            else {}
        ),
        **{
            k: report(
                L.report_item(k, "png"),
                caption="../report/decomposition_rh.rst",
                category=WHY,
                labels={"figure": v[1]},
            )
            for k, v in DECOMPOSITION_RASTERS.items()
        },
        **(
            {
                "extremes": report(
                    L.report_item(f"extremes_{FINEST}", "html"),
                    caption="../report/headline_extremes.rst",
                    category="1. Headlines",
                )
            }
            if "ecs" in FLUXES
            else {
                "emitters": report(
                    L.report_item(f"emitters_{FINEST}", "html"),
                    caption="../report/headline_emitters.rst",
                    category="1. Headlines",
                )
            }
        ),
        **(
            {
                "skill": report(
                    L.report_item("emission_model_skill", "html"),
                    caption="../report/headline_skill.rst",
                    category="1. Headlines",
                )
            }
            if MODEL_SKILL
            else {}
        ),
        **{
            k: report(
                L.report_item(k, "png"),
                caption="../report/quicklook.rst",
                category="2. Per-pixel quick looks",
                labels={"map": v[1]},
            )
            for k, v in REPORT_RASTERS.items()
        },
        **(
            {
                "cnc_band": report(
                    L.report_item("cnc_band_study_area", "png"),
                    caption="../report/headline_cnc_band.rst",
                    category="1. Headlines",
                )
            }
            if UNCERTAINTY
            else {}
        ),
        study_area=report(
            L.report_item("budget_study_area", "html"),
            caption="../report/headline_study_area.rst",
            category="1. Headlines",
        ),
        landing=L.report_landing,
    log:
        L.log("report_items"),
    benchmark:
        L.benchmark("report_items")
    priority: 10  # among the longest jobs at the run's end: before the short ones
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        finest=FINEST,
        outline_level=LEVELS[-1],
        rasters=REPORT_RASTERS | DECOMPOSITION_RASTERS,
        maps=config["outputs"]["maps"],
        climatologies=sorted(climatology_raw_inputs(config)),
        decomposition_level=DECOMPOSITION_LEVEL,
    script:
        "../scripts/report.py"
