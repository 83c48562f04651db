# Every input is checked before any compute; the report gates the alignment rules.


rule check_inputs:
    input:
        raw_inputs(config),
    output:
        report=f"{OUT}/checks/input_report.json",
    log:
        f"{OUT}/logs/check_inputs.log",
    benchmark:
        f"{OUT}/logs/benchmarks/check_inputs.tsv"
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        config=config,
    script:
        "../scripts/check_inputs.py"
