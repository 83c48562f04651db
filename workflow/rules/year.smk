# The work of one year, in one job: check its rasters, put them on the grid, compute the
# per-pixel fluxes, sum them per finest region (docs/method.md). One job instead of four keeps
# the per-year cost near the time it takes to read and write the year's rasters (every job
# pays seconds of start-up); the log gives each step its time. The inputs are checked before
# anything is computed from them, and the steps write the same files as separate jobs would.
# Rule process_scenario_year runs the same steps on the scenario rasters (one definition:
# carbonbudget.pipeline.paths.year_rule).
_YEAR = year_rule(config, L)


rule process_year:
    input:
        **_YEAR["input"],
    output:
        **_YEAR["output"],
    log:
        _YEAR["log"],
    benchmark:
        _YEAR["benchmark"]
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        **_YEAR["params"],
    script:
        "../scripts/year.py"


if SCENARIOS and SCENARIO_YEARS:
    _SCENARIO_YEAR = year_rule(config, L, scenario_run())

    use rule process_year as process_scenario_year with:
        input:
            **_SCENARIO_YEAR["input"],
        output:
            **_SCENARIO_YEAR["output"],
        log:
            _SCENARIO_YEAR["log"],
        benchmark:
            _SCENARIO_YEAR["benchmark"]
        params:
            **_SCENARIO_YEAR["params"],
