# Every input is checked before any compute: one job per year, one for the shared rasters and
# polygons, one for the emission table. High priority makes the scheduler run all checks first;
# each compute job depends only on the check of its own inputs, and each check gets only the
# config sections it reads, so fixing one year's file, or adding a year, reruns only that
# year's chain plus the jobs that combine all years.


rule check_year:
    input:
        lambda wildcards: year_input_files(config, int(wildcards.year)),
    output:
        report=f"{OUT}/checks/year_{{year}}.json",
    log:
        f"{OUT}/logs/check_year/{{year}}.log",
    benchmark:
        f"{OUT}/logs/benchmarks/check_year/{{year}}.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        config=config_sections(config, "grid", "climate", "npp", "runoff", "checks"),
    script:
        "../scripts/check_year.py"


rule check_static:
    input:
        lithology=config["lithology"]["path"],
        classes=config["lithology"]["classes"],
        coefficients=config["lithology"]["coefficients"],
        regions=config["regions"]["path"],
    output:
        report=f"{OUT}/checks/static.json",
    log:
        f"{OUT}/logs/check_static.log",
    benchmark:
        f"{OUT}/logs/benchmarks/check_static.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=config_sections(config, "grid", "lithology", "regions", "checks"),
    script:
        "../scripts/check_static.py"


rule check_emissions:
    input:
        emissions=config["emissions"]["path"],
        regions=config["regions"]["path"],
    output:
        report=f"{OUT}/checks/emissions.json",
    log:
        f"{OUT}/logs/check_emissions.log",
    benchmark:
        f"{OUT}/logs/benchmarks/check_emissions.tsv"
    priority: 100
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=config_sections(config, "years", "regions", "emissions"),
    script:
        "../scripts/check_emissions.py"
