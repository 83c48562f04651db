# Synthetic demo inputs, built deterministically (same bytes every run).


rule build_demo:
    output:
        demo_files("data/demo"),
    log:
        L.log("build_demo"),
    benchmark:
        L.benchmark("build_demo")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 2
    resources:
        mem_mb=1000,
    params:
        root=lambda wildcards, output: demo_root(output[0]),
    script:
        "../scripts/demo.py"
