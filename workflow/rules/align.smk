# Put every input on the target grid with the resampling its kind needs; units converted here.
# Each alignment job is gated by the check of its own inputs (rules in inputs.smk); each year's
# inputs are aligned by its process_year job (year.smk).


# The climatologies (inputs without {year}): aligned once for every year.
rule align_climatology:
    input:
        **climatology_raw_inputs(config),
        report=L.check_report(CLIMATOLOGY),
    output:
        **aligned_outputs(config, L, CLIMATOLOGY),
    log:
        L.log("align_climatology"),
    benchmark:
        L.benchmark("align_climatology")
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
    script:
        "../scripts/align.py"


rule align_lithology:
    input:
        lithology=lithology_source(config, L),
        classes=config["lithology"]["classes"],
        coefficients=config["lithology"]["coefficients"],
        report=L.static_report,
    output:
        codes=L.lithology_codes,
        coefficient=L.gem_coefficient,
    log:
        L.log("align_lithology"),
    benchmark:
        L.benchmark("align_lithology")
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=1500,
    params:
        grid=config["grid"],
        crs=static_check_config(config, L)["lithology"].get("crs"),
        band=config["lithology"].get("band"),
    script:
        "../scripts/align.py"


rule build_regions:
    input:
        **({"cover": cover_fraction(config)["path"]} if cover_fraction(config) else {}),
        regions=config["regions"]["path"],
        groupings=GROUPING_TABLES,
        report=L.static_report,
        checked=L.checked_regions,
    output:
        **cover_fraction_input(config, L),
        regions=L.regions,
        coverage=L.coverage,
        fraction=L.region_fraction,
    log:
        L.log("build_regions"),
    benchmark:
        L.benchmark("build_regions")
    # head of the longest chain (coverage -> fluxes -> zonal -> budget -> spatial statistics):
    # start it before the per-year alignment and the input digests when cores are short
    priority: 50
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        grid=config["grid"],
        regions=config["regions"],
        cache_dir=L.coverage_cache(config["processing"]["coverage_cache"]),
        cover=cover_fraction(config),
    script:
        "../scripts/align.py"


# Polygons of every level (dissolved once) and their drawing shapes: needed only by the spatial
# statistics, maps and GeoPackage, so this runs beside the per-pixel stage, not before it;
# except with region layers, whose checks (codes, overlaps, place on the grid) it runs: then
# first, before the fluxes, so that a bad layer stops the run before any compute.
rule level_polygons:
    input:
        regions=L.regions,
        layers=[v["path"] for v in config["region_layers"].values()],
    output:
        L.level_polygons,
    log:
        L.log("level_polygons"),
    benchmark:
        L.benchmark("level_polygons")
    priority: 90 if config["region_layers"] else 0
    conda:
        "../envs/carbonbudget.yaml"
    threads: 1
    resources:
        mem_mb=3000,
    params:
        levels=LEVELS,
        groupings=GROUPINGS,
        layers=config["region_layers"],
        grid=config["grid"],
        edge={k: config["checks"][k] for k in ("max_outside_grid_share", "outside_grid_allowed")},
    script:
        "../scripts/align.py"
