# Deliverables: the GeoPackage for GIS users and provenance.json (DESIGN §8).


rule geopackage:
    input:
        regions=rules.build_regions.output.regions,
        budget=rules.budget.output.parquet,
        trends=rules.region_trends.output.trends,
        spatial=rules.spatial_statistics.output.local,
    output:
        f"{OUT}/gis/carbon_budget.gpkg",
    log:
        f"{OUT}/logs/geopackage.log",
    benchmark:
        f"{OUT}/logs/benchmarks/geopackage.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        levels=LEVELS,
        budget_levels=BUDGET_LEVELS,
        spatial_levels=SPATIAL_LEVELS,
    script:
        "../scripts/geopackage.py"


rule provenance:
    input:
        raw=raw_inputs(config),
        gpkg=rules.geopackage.output,
    output:
        f"{OUT}/provenance.json",
    log:
        f"{OUT}/logs/provenance.log",
    benchmark:
        f"{OUT}/logs/benchmarks/provenance.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        config=config,
    script:
        "../scripts/provenance.py"
