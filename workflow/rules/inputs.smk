# Every input is checked before any compute: one job per year plus one for the shared inputs.
# High priority makes the scheduler run all checks first; each compute job also depends on the
# check of its own inputs, so fixing one year's file reruns only that year's chain.


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
        config=config,
    script:
        "../scripts/check_year.py"


rule check_static:
    input:
        static_inputs(config),
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
        config=config,
    script:
        "../scripts/check_static.py"
