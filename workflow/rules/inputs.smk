# Every input is checked before any compute: one job for the climatologies, one for the shared
# rasters and polygons, one for the emission table (each year's rasters are checked by the first
# step of its process_year job, year.smk). High priority makes the scheduler run the checks
# first; each compute job depends only on the check of its own inputs, and each check gets only
# the config sections it reads, so fixing one year's file, or adding a year, reruns only that
# year's job plus the jobs that combine all years.


# Inputs without {year} in their path (climatologies): checked once for every year.
rule check_climatology:
    input:
        files=climatology_input_files(config),
        fraction=L.region_fraction,
    output:
        report=L.check_report(CLIMATOLOGY),
    log:
        L.log("check_climatology"),
    benchmark:
        L.benchmark("check_climatology")
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        config=config_sections(config, "grid", "climate", "npp", "runoff", "checks"),
    script:
        "../scripts/inputs.py"


rule check_static:
    input:
        lithology=lithology_source(config, L),
        classes=config["lithology"]["classes"],
        coefficients=config["lithology"]["coefficients"],
        regions=config["regions"]["path"],
        groupings=GROUPING_TABLES,
    output:
        report=L.static_report,
        regions=L.checked_regions,
    log:
        L.log("check_static"),
    benchmark:
        L.benchmark("check_static")
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=static_check_config(config, L),
    script:
        "../scripts/inputs.py"


rule check_emissions:
    input:
        emissions=config["emissions"]["path"],
        regions=config["regions"]["path"],
        groupings=GROUPING_TABLES,
        crosswalk=CROSSWALK_INPUT,
    output:
        report=L.emissions_report,
        match=L.emission_match,
    log:
        L.log("check_emissions"),
    benchmark:
        L.benchmark("check_emissions")
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=config_sections(config, "years", "regions", "emissions"),
    script:
        "../scripts/inputs.py"


# Only with emissions.crosswalk.old_codes: old code -> region code from the official code list of
# the emission table's division, against the codes and names of the region layer.
rule build_crosswalk:
    input:
        old_codes=config["emissions"].get("crosswalk", {}).get("old_codes", []),
        regions=config["regions"]["path"],
    output:
        L.crosswalk,
    log:
        L.log("build_crosswalk"),
    benchmark:
        L.benchmark("build_crosswalk")
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        crosswalk=config["emissions"].get("crosswalk", {}),
        regions=config["regions"],
    script:
        "../scripts/inputs.py"


# Only with lithology.ascii_matrix: a headerless ASCII matrix of class codes (e.g. the 0.5° GLiM
# grid) becomes a GeoTIFF with the geometry the config gives.
rule convert_lithology:
    input:
        config["lithology"]["path"],
    output:
        L.lithology_converted,
    log:
        L.log("convert_lithology"),
    benchmark:
        L.benchmark("convert_lithology")
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        geometry=config["lithology"].get("ascii_matrix", {}),
        crs=config["lithology"].get("crs"),
    script:
        "../scripts/inputs.py"


# `make check` (snakemake check_inputs): every check of every input in one job, reporting every
# failure at once (depending on no other job, so that no failed check hides the others), so
# fixing a config takes seconds and no compute. Not part of a normal run, whose compute jobs
# each depend on the checks of their own inputs.
rule check_inputs:
    input:
        files=raw_inputs(config),
        lithology=lithology_source(config, L),
        layers=[v["path"] for v in config["region_layers"].values()],
        crosswalk=CROSSWALK_INPUT,
    output:
        report=L.inputs_report,
    log:
        L.log("check_inputs"),
    benchmark:
        L.benchmark("check_inputs")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=check_all_config(config, L),
        cache_dir=L.coverage_cache(config["processing"]["coverage_cache"]),
    script:
        "../scripts/inputs.py"
