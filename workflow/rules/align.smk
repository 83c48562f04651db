# Put every input on the target grid with the resampling its kind needs; units converted here.
# Each alignment job is gated by the check of its own inputs (rules in inputs.smk).


rule align_year:
    input:
        unpack(lambda wildcards: year_inputs(config, int(wildcards.year))),
        unpack(lambda wildcards: aligned_precipitation_for_runoff(config, OUT)),
        report=rules.check_year.output.report,
    output:
        **aligned_outputs(config, OUT),
    log:
        f"{LOGS}/align_year/{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/align_year/{{year}}.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1500,
    params:
        grid=config["grid"],
        climate=config.get("climate"),
        npp=config.get("npp"),
        runoff=config["runoff"],
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


# The climatologies (inputs without {year}): aligned once for every year.
rule align_climatology:
    input:
        **climatology_raw_inputs(config),
        report=rules.check_climatology.output.report,
    output:
        **aligned_outputs(config, OUT, CLIMATOLOGY),
    log:
        f"{LOGS}/align_climatology.log",
    benchmark:
        f"{LOGS}/benchmarks/align_climatology.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1500,
    params:
        grid=config["grid"],
        climate=config.get("climate"),
        npp=config.get("npp"),
        runoff=config["runoff"],
        period=CLIMATOLOGY,
    script:
        "../scripts/stage.py"


rule align_lithology:
    input:
        lithology=lithology_source(config, OUT),
        classes=config["lithology"]["classes"],
        coefficients=config["lithology"]["coefficients"],
        report=rules.check_static.output.report,
    output:
        codes=f"{OUT}/interim/aligned/lithology_codes.tif",
        coefficient=f"{OUT}/interim/aligned/gem_coefficient.tif",
    log:
        f"{LOGS}/align_lithology.log",
    benchmark:
        f"{LOGS}/benchmarks/align_lithology.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1500,
    params:
        grid=config["grid"],
        crs=static_check_config(config, OUT)["lithology"].get("crs"),
    script:
        "../scripts/stage.py"


rule build_regions:
    input:
        regions=config["regions"]["path"],
        report=rules.check_static.output.report,
    output:
        regions=f"{OUT}/interim/regions/regions.gpkg",
        coverage=f"{OUT}/interim/regions/coverage_{FINEST}.npz",
        fraction=REGION_FRACTION,
    log:
        f"{LOGS}/build_regions.log",
    benchmark:
        f"{LOGS}/benchmarks/build_regions.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    # head of the longest chain (coverage -> fluxes -> zonal -> budget -> spatial statistics):
    # start it before the per-year alignment and the input digests when cores are short
    priority: 50
    resources:
        mem_mb=4000,
    params:
        grid=config["grid"],
        regions=config["regions"],
        cache_dir=f"{OUT}/{config['processing']['coverage_cache']}",
    script:
        "../scripts/stage.py"


# Polygons of every level (dissolved once) and their drawing shapes: needed only by the spatial
# statistics, maps and GeoPackage, so this runs beside the per-pixel stage, not before it.
rule level_polygons:
    input:
        regions=rules.build_regions.output.regions,
    output:
        f"{OUT}/interim/regions/levels.gpkg",
    log:
        f"{LOGS}/level_polygons.log",
    benchmark:
        f"{LOGS}/benchmarks/level_polygons.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=3000,
    params:
        levels=LEVELS,
        grid=config["grid"],
    script:
        "../scripts/stage.py"
