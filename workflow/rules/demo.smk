# Synthetic demo inputs, built deterministically (same bytes every run).


rule build_demo:
    output:
        demo_files("data/demo"),
    log:
        "logs/build_demo.log",
    benchmark:
        "logs/benchmarks/build_demo.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        root="data/demo",
    script:
        "../scripts/build_demo.py"
