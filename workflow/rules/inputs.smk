# Every input is checked before any compute: one job per year, one for the shared rasters and
# polygons, one for the emission table. High priority makes the scheduler run all checks first;
# each compute job depends only on the check of its own inputs, and each check gets only the
# config sections it reads, so fixing one year's file, or adding a year, reruns only that
# year's chain plus the jobs that combine all years.


rule check_year:
    input:
        files=lambda wildcards: year_input_files(config, int(wildcards.year)),
        fraction=REGION_FRACTION,
    output:
        report=f"{OUT}/checks/year_{{year}}.json",
    log:
        f"{LOGS}/check_year/{{year}}.log",
    benchmark:
        f"{LOGS}/benchmarks/check_year/{{year}}.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        config=config_sections(config, "grid", "climate", "npp", "runoff", "checks"),
        period=lambda wildcards: int(wildcards.year),
    script:
        "../scripts/stage.py"


# Inputs without {year} in their path (climatologies): checked once for every year.
rule check_climatology:
    input:
        files=climatology_input_files(config),
        fraction=REGION_FRACTION,
    output:
        report=f"{OUT}/checks/{CLIMATOLOGY}.json",
    log:
        f"{LOGS}/check_climatology.log",
    benchmark:
        f"{LOGS}/benchmarks/check_climatology.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        config=config_sections(config, "grid", "climate", "npp", "runoff", "checks"),
        period=CLIMATOLOGY,
    script:
        "../scripts/stage.py"


rule check_static:
    input:
        lithology=lithology_source(config, OUT),
        classes=config["lithology"]["classes"],
        coefficients=config["lithology"]["coefficients"],
        regions=config["regions"]["path"],
    output:
        report=f"{OUT}/checks/static.json",
    log:
        f"{LOGS}/check_static.log",
    benchmark:
        f"{LOGS}/benchmarks/check_static.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=static_check_config(config, OUT),
    script:
        "../scripts/stage.py"


rule check_emissions:
    input:
        emissions=config["emissions"]["path"],
        regions=config["regions"]["path"],
        crosswalk=CROSSWALK_INPUT,
    output:
        report=f"{OUT}/checks/emissions.json",
        match=f"{OUT}/tables/emission_code_match.csv",
    log:
        f"{LOGS}/check_emissions.log",
    benchmark:
        f"{LOGS}/benchmarks/check_emissions.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=config_sections(config, "years", "regions", "emissions"),
    script:
        "../scripts/stage.py"


# Only with emissions.crosswalk.old_codes: old code -> region code from the official code list of
# the emission table's division, against the codes and names of the region layer.
rule build_crosswalk:
    input:
        old_codes=config["emissions"].get("crosswalk", {}).get("old_codes", []),
        regions=config["regions"]["path"],
    output:
        f"{OUT}/tables/code_crosswalk.csv",
    log:
        f"{LOGS}/build_crosswalk.log",
    benchmark:
        f"{LOGS}/benchmarks/build_crosswalk.tsv"
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
        "../scripts/stage.py"


# Only with lithology.ascii_matrix: a headerless ASCII matrix of class codes (e.g. the 0.5° GLiM
# grid) becomes a GeoTIFF with the geometry the config gives.
rule convert_lithology:
    input:
        config["lithology"]["path"],
    output:
        f"{OUT}/interim/lithology_source.tif",
    log:
        f"{LOGS}/convert_lithology.log",
    benchmark:
        f"{LOGS}/benchmarks/convert_lithology.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        geometry=config["lithology"].get("ascii_matrix", {}),
        crs=config["lithology"].get("crs", "EPSG:4326"),
    script:
        "../scripts/stage.py"
