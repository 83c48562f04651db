"""Every file of the workflow, named once: the raw inputs the config names, and the
outputs of each stage (:class:`Layout`), so that the rules, the stages and the tests spell each
path in one place (docs/data.md lists them).
"""

from __future__ import annotations

import math
from typing import Any

from carbonbudget.core.config import (
    CLIMATOLOGY,
    RH_PARTS,
    WORK_DIR,
    climatology_inputs,
    computed_fluxes,
    config_digest,
    downscale_weights,
    flux_periods,
    inventory_files,
    month_paths,
    rcs_only,
    skipped_stages,
)

# aligned inputs: name -> file name under interim/aligned/{year}/ (or .../climatology/)
ALIGNED = {
    "temperature": "tmean_degC.tif",
    "precipitation": "prcp_mm.tif",
    "npp": "npp_gc.tif",
    "runoff": "runoff_mm.tif",
}


def _aligned_names(cfg: dict) -> list[str]:
    return ["runoff"] if rcs_only(cfg) else list(ALIGNED)


def year_inputs(cfg: dict, year: int) -> dict:
    """Raw per-year inputs: temperature and precipitation (lists), npp and runoff (paths); only
    those the config has and that change from year to year (climatologies are
    :func:`climatology_raw_inputs`)."""
    return _raw_inputs(cfg, year, yearly=True)


def climatology_raw_inputs(cfg: dict) -> dict:
    """The raw inputs that are climatologies (see :func:`climatology_inputs`)."""
    return _raw_inputs(cfg, None, yearly=False)


def _raw_inputs(cfg: dict, year: int | None, *, yearly: bool) -> dict:
    clim = climatology_inputs(cfg)
    out = {}
    if cfg.get("climate"):
        for var in ("temperature", "precipitation"):
            if (var in clim) != yearly:
                out[var] = month_paths(cfg["climate"][var], year)
    if cfg.get("npp") and ("npp" in clim) != yearly:
        out["npp"] = cfg["npp"]["path"].format(year=year)
    if ("runoff" in clim) != yearly:
        ro = cfg["runoff"]
        out["runoff"] = (ro["et"] if ro.get("source") == "water_balance" else ro["path"]).format(
            year=year
        )
    return out


def year_input_files(cfg: dict, year: int) -> list[str]:
    """Flat list of one year's raw input files (climatologies excluded)."""
    return _flat(year_inputs(cfg, year))


def climatology_input_files(cfg: dict) -> list[str]:
    """Flat list of the raw climatology files."""
    return _flat(climatology_raw_inputs(cfg))


def _flat(inputs: dict) -> list[str]:
    files = []
    for v in inputs.values():
        files.extend(v if isinstance(v, list) else [v])
    return files


def static_inputs(cfg: dict) -> list[str]:
    """Inputs shared by all years: lithology and its tables, regions, emissions, socio-economics."""
    files = [
        cfg["lithology"]["path"],
        cfg["lithology"]["classes"],
        cfg["lithology"]["coefficients"],
        cfg["regions"]["path"],
        cfg["emissions"]["path"],
    ]
    if cfg.get("socioeconomic"):
        files.append(cfg["socioeconomic"]["path"])
    return files


def raw_inputs(cfg: dict) -> list[str]:
    """Every input file the config names (provenance digests them all)."""
    files = (
        [f for y in cfg["years"] for f in year_input_files(cfg, y)]
        + climatology_input_files(cfg)
        + static_inputs(cfg)
    )
    files += list(downscale_weights(cfg).values())
    files += [f for f, _ in inventory_files(cfg).values()]
    if cfg.get("emissions_raster"):  # the regional table is the pipeline's own, not an input
        files.remove(cfg["emissions"]["path"])
    acc = cfg.get("emissions_accounting")
    if acc:
        files += [acc["consumption"], acc["factors"]]
    sc = cfg.get("scenarios")
    if sc:
        files += [sc["drivers"], sc["growth"]]
        files += [
            f
            for name in sc["names"]
            for y in sc.get("years", [])
            for f in year_input_files(scenario_config(cfg, name), y)
        ]
    return list(dict.fromkeys(files))  # a climatology named once, not once per year


def budget_levels(cfg: dict) -> list[str]:
    """Region levels finest first, then the groupings (regions.groupings), then the study
    area."""
    return map_levels(cfg) + ["study_area"]


def map_levels(cfg: dict) -> list[str]:
    """The levels with polygons (maps, GeoPackage layers): region levels finest first, then the
    groupings, then the independent region layers."""
    return hierarchy_levels(cfg) + list(cfg.get("region_layers") or {})


def hierarchy_levels(cfg: dict) -> list[str]:
    """The levels the budget rule sums from the finest regions: region levels and groupings
    (the independent region layers have their own zonal sums, rule layer_budget)."""
    return list(cfg["regions"]["levels"]) + list(cfg["regions"].get("groupings") or {})


class ConfigSections(dict):
    """Config sections passed to a rule as one param. Snakemake stores a param's ``repr`` to
    decide whether a job reruns and prints the old and new ``repr`` as the reason: this one is a
    digest per section (independent of key order), so a changed setting reruns the jobs that
    read its section and the log names the section, without printing the config."""

    def __repr__(self) -> str:

        return "config sections " + " ".join(
            f"{k}={config_digest(v)[:12]}" for k, v in sorted(self.items())
        )


def config_sections(cfg: dict, *keys: str) -> ConfigSections:
    """The named sections of the config (for a rule's params: a job reruns only when a section
    it reads changes, e.g. adding a year does not rerun the checks of other years)."""
    return ConfigSections({k: cfg[k] for k in keys if k in cfg})


def run_info(cfg: dict) -> dict:
    """What the GeoPackage's metadata layer records about a run (no timestamps)."""
    return {
        "config_digest": config_digest(cfg),
        "years": cfg["years"],
        "skipped_stages": skipped_stages(cfg),
        "climatologies": climatology_note(cfg),
        "emissions": cfg["emissions"]["path"],
        "regions": cfg["regions"]["path"],
        "grid": cfg["grid"],
    }


def decomposition_currency(cfg: dict) -> str | None:
    """The GDP currency of the emission decomposition (tables/decomposition_<level>.csv,
    docs/method.md "Decomposition"): a run with population and GDP in known units
    (socioeconomic.population_unit, gdp_currency) over two years or more decomposes; None
    otherwise."""
    socio = cfg.get("socioeconomic") or {}
    if len(cfg["years"]) < 2 or not (socio.get("population_unit") and socio.get("gdp_currency")):
        return None
    return str(socio["gdp_currency"])


def decomposition_levels(cfg: dict) -> list[str]:
    """The levels with a decomposition table (tables/decomposition_<level>.csv), in a run of
    two years or more: every summed level with a sink (the change of CNC attributed to NPP,
    RH, RCS and CE) or with population and GDP of the finest regions (the LMDI of CE);
    otherwise the level of decomposition.drivers and the study area; none without either."""
    if len(cfg["years"]) < 2:
        return []
    if "ecs" in computed_fluxes(cfg) or decomposition_currency(cfg) is not None:
        return hierarchy_levels(cfg) + ["study_area"]
    drivers = (cfg.get("decomposition") or {}).get("drivers")
    return [drivers["level"], "study_area"] if drivers else []


def fuel_decomposition_level(cfg: dict) -> str | None:
    """The level whose CO2 by fuel is decomposed into energy intensity, structure and
    emission-factor effects as well: that of decomposition.drivers with
    decomposition.co2_by_fuel; else the level of the Tier 1 CO2 (emissions_accounting) where
    the run decomposes (:func:`decomposition_currency`) and that level has a budget table;
    None otherwise."""
    acc = cfg.get("emissions_accounting") or {}
    drivers = (cfg.get("decomposition") or {}).get("drivers") or {}
    if (cfg.get("decomposition") or {}).get("co2_by_fuel") and len(cfg["years"]) > 1:
        return str(drivers["level"])
    with_drivers = decomposition_currency(cfg) or acc.get("level") == drivers.get("level")
    if not (with_drivers and acc.get("level") in decomposition_levels(cfg)):
        return None
    return str(acc["level"])


def decomposition_period(cfg: dict) -> tuple[int, int]:
    """The first and last year of the decomposition (decomposition.years, else the run's)."""
    first, last = (cfg.get("decomposition") or {}).get("years") or (
        cfg["years"][0],
        cfg["years"][-1],
    )
    return int(first), int(last)


def rh_split_years(cfg: dict) -> list[int]:
    """The years whose RH is split into its temperature and precipitation terms (rule
    rh_attribution): the first and the last of the decomposition period, where RH is computed
    from climate that changes between years and the run attributes the change of CNC; none
    otherwise (a climatology holds both terms, and so their change, at zero). Only the
    period's two years: the terms read a year's climate again (~1.5 floors of a country-year
    each), so splitting every year of the chain would add that to the cost of every year."""
    yearly, _ = flux_periods(cfg)
    if not cfg.get("climate") or "rh" not in yearly or "ecs" not in computed_fluxes(cfg):
        return []
    if not decomposition_levels(cfg):
        return []
    first, last = decomposition_period(cfg)
    return [first, last]


def rh_attribution_rule(cfg: dict, layout: Layout) -> dict[str, Any]:
    """The input, output and params of rule rh_attribution: each year's aligned climate and
    flux rasters (the zonal sums run over the pixels where the year's fluxes are known, as
    the budget's do), the finest regions' coverage; the finest totals of the two terms by
    year and their change per pixel over the period."""
    L = layout
    years = rh_split_years(cfg)
    clim = climatology_inputs(cfg)
    yearly, _ = flux_periods(cfg)

    def period(name: str, year: int) -> str:
        return CLIMATOLOGY if name in clim else str(year)

    fluxes = list(computed_fluxes(cfg))
    return {
        "input": {
            "temperature": [L.aligned("temperature", period("temperature", y)) for y in years],
            "precipitation": [
                L.aligned("precipitation", period("precipitation", y)) for y in years
            ],
            "fluxes": [
                L.flux(v, str(y) if v in yearly else CLIMATOLOGY) for v in fluxes for y in years
            ],
            "fraction": L.region_fraction,
            "coverage": L.coverage,
            **cover_fraction_input(cfg, L),
        },
        "output": {
            "parts": L.rh_parts,
            **{part: L.rh_change(part, years[0], years[-1]) for part in RH_PARTS},
        },
        "params": {
            "years": years,
            "fluxes": fluxes,
            "grid": cfg["grid"],
            "timestep": cfg["climate"]["timestep"],
            "chunk_size": cfg["processing"]["chunk_size"],
            "dask": cfg["dask"],
        },
    }


def fuel_decomposition_inputs(cfg: dict, layout: Layout) -> dict[str, str]:
    """What the decomposition by fuel reads (:func:`fuel_decomposition_level`): the table of
    decomposition.co2_by_fuel and its factor table, or the Tier 1 CO2 by fuel; none without
    it."""
    level = fuel_decomposition_level(cfg)
    if level is None:
        return {}
    given = (cfg.get("decomposition") or {}).get("co2_by_fuel")
    if given:
        return {"by_fuel": given["path"], "fuel_factors": given["factors"]}
    return {"by_fuel": layout.tier1_by_fuel(level)}


def climatology_note(cfg: dict) -> dict[str, str]:
    """{input: file} of the inputs that are climatologies (the same values every year): what
    the GeoPackage metadata and provenance.json say about them."""
    raw = climatology_raw_inputs(cfg)
    return {
        name: ", ".join(sorted(set(files if isinstance(files, list) else [files])))
        + " (a climatology: the same values every year)"
        for name, files in raw.items()
    }


def scenario_config(cfg: dict, scenario: str) -> dict:
    """The config sections the per-year check, alignment and flux rules read, for the sink
    rasters of one scenario (``{scenario}`` filled in their paths): the same rules and library
    functions as the observed years run on them."""
    sc = cfg["scenarios"]

    def fill(section):
        return {
            k: (v.replace("{scenario}", scenario) if isinstance(v, str) else v)
            for k, v in section.items()
        }

    return {
        "grid": cfg["grid"],
        "checks": cfg.get("checks", {}),
        "climate": fill(sc["climate"]),
        "npp": fill(sc["npp"]),
        "runoff": fill(sc["runoff"]),
    }


class Layout:
    """The files a run writes under ``results_dir`` (``outputs.dir``). Every job writes into the
    working tree ``<results_dir>/.work`` (rule ``publish`` links the deliverables into
    ``results_dir``); logs go to ``<results_dir>/logs``. ``run`` is the prefix of the per-year
    files of a scenario (``scenarios/<name>/``; empty for the observed years). Arguments left as
    ``"{year}"``, ``"{level}"`` ... stay Snakemake wildcards."""

    def __init__(self, results_dir: str, finest: str = "{finest}", map_format: str = "png"):
        self.results = results_dir
        self.map_format = map_format  # outputs.maps.format: png, svg or pdf
        self.work = f"{results_dir}/{WORK_DIR}"
        self.logs = f"{results_dir}/logs"
        self.finest = finest

    # logs and benchmarks: one per job, named by the rule and the job's wildcards
    def log(self, rule: str, *keys: str) -> str:
        """The log of a job: logs/<rule>[/<wildcards>].log."""
        return f"{self.logs}/{rule}" + (f"/{'_'.join(keys)}" if keys else "") + ".log"

    def benchmark(self, rule: str, *keys: str) -> str:
        """Snakemake's time and memory of a job: logs/benchmarks/<rule>[/<wildcards>].tsv."""
        return f"{self.logs}/benchmarks/{rule}" + (f"/{'_'.join(keys)}" if keys else "") + ".tsv"

    # input checks
    def check_report(self, period: str = "{year}", run: str = "") -> str:
        """What the checks of one year's (or the climatologies') inputs found: checks/*.json."""
        name = CLIMATOLOGY if period == CLIMATOLOGY else f"year_{period}"
        return f"{self.work}/{run}checks/{name}.json"

    @property
    def static_report(self) -> str:
        """What the checks of the lithology and the regions found."""
        return f"{self.work}/checks/static.json"

    @property
    def emissions_report(self) -> str:
        """What the checks of the emission table found."""
        return f"{self.work}/checks/emissions.json"

    @property
    def inputs_report(self) -> str:
        """What ``make check`` (rule check_inputs: every check, every year) found."""
        return f"{self.work}/checks/all_inputs.json"

    @property
    def emission_match(self) -> str:
        """How each emission code reached a polygon."""
        return f"{self.work}/tables/emission_code_match.csv"

    @property
    def crosswalk(self) -> str:
        """The crosswalk built from an official code list."""
        return f"{self.work}/tables/code_crosswalk.csv"

    # aligned inputs, lithology, regions
    def aligned(self, name: str, period: str = "{year}", run: str = "") -> str:
        """An input on the target grid, of one year or the climatologies."""
        return f"{self.work}/{run}interim/aligned/{period}/{ALIGNED[name]}"

    def aligned_weights(self, period: str) -> str:
        """The emission weights on the target grid (emissions.downscale), of a year or all."""
        return f"{self.work}/interim/aligned/weights/weights_{period}.tif"

    @property
    def lithology_converted(self) -> str:
        """The GeoTIFF a headerless ASCII lithology matrix is converted to."""
        return f"{self.work}/interim/lithology_source.tif"

    @property
    def lithology_codes(self) -> str:
        """Lithology class codes on the target grid."""
        return f"{self.work}/interim/aligned/lithology_codes.tif"

    @property
    def gem_coefficient(self) -> str:
        """The GEM-CO2 coefficient a on the target grid."""
        return f"{self.work}/interim/aligned/gem_coefficient.tif"

    @property
    def regions(self) -> str:
        """The finest-level polygons in the grid CRS with every level's codes."""
        return f"{self.work}/interim/regions/regions.gpkg"

    @property
    def checked_regions(self) -> str:
        """The finest-level polygons as ``check_static`` read and checked them (grid CRS,
        overlaps resolved, groupings added), for ``build_regions``."""
        return f"{self.work}/interim/regions/checked.parquet"

    @property
    def coverage(self) -> str:
        """The exact fraction of every pixel in every finest region (sparse)."""
        return f"{self.work}/interim/regions/coverage_{self.finest}.npz"

    @property
    def cover_fraction(self) -> str:
        """npp.cover_fraction on the grid: the share of each pixel the zonal sums count."""
        return f"{self.work}/interim/regions/npp_cover_fraction.tif"

    @property
    def region_fraction(self) -> str:
        """The fraction of each pixel inside the region polygons: the study area."""
        return f"{self.work}/interim/regions/region_fraction.tif"

    @property
    def level_polygons(self) -> str:
        """The polygons of every level and their drawing shapes."""
        return f"{self.work}/interim/regions/levels.gpkg"

    @property
    def digest_cache(self) -> str:
        """The SHA-256 of each raw input with its size and modification time, so provenance
        hashes only files that changed since the last run."""
        return f"{self.work}/cache/input_digests.json"

    def coverage_cache(self, folder: str) -> str:
        """The digest-keyed cache of coverage matrices (processing.coverage_cache)."""
        return f"{self.work}/{folder}"

    # per-pixel fluxes and zonal totals
    def flux(self, var: str, period: str = "{year}", run: str = "") -> str:
        """A per-pixel flux of one year, or of the climatologies."""
        return f"{self.work}/{run}pixels/{var}/{var}_{period}.tif"

    def zonal(self, period: str = "{year}", run: str = "") -> str:
        """Finest-level totals of one year, or of the climatology fluxes."""
        return f"{self.work}/{run}interim/zonal/{self.finest}_{period}.parquet"

    def zonal_uncertainty(self, period: str = "{year}") -> str:
        """Finest-level sufficient statistics of the uncertainty model of one year (RCS per
        lithology group, sums of squares; docs/method.md, "Uncertainty")."""
        return f"{self.work}/interim/zonal_uncertainty/{self.finest}_{period}.parquet"

    @property
    def rh_parts(self) -> str:
        """Finest-level totals of the temperature and precipitation terms of RH, by year."""
        return f"{self.work}/interim/zonal/{self.finest}_rh_parts.parquet"

    def rh_change(self, part: str, start: int, end: int) -> str:
        """The change of one term of RH (rh_temperature, rh_precipitation) over the
        decomposition period, per pixel."""
        return f"{self.work}/pixels/decomposition/delta_{part}_{start}_{end}.tif"

    def pixel_trend(self, var: str = "{var}", stat: str = "{stat}") -> str:
        """A per-pixel trend statistic of a flux."""
        return f"{self.work}/trends/{var}_{stat}.tif"

    # tables
    def budget(self, level: str = "{level}", ext: str = "parquet") -> str:
        """The budget table of a level (csv or parquet)."""
        return f"{self.work}/tables/budget_{level}.{ext}"

    @property
    def workbook(self) -> str:
        """Every summed level's budget table as one Excel workbook."""
        return f"{self.work}/tables/budget.xlsx"

    def table(self, kind: str, level: str = "{level}") -> str:
        """tables/<kind>_<level>.csv: trends, sqmk, spatial, moran, gini, tier1_comparison,
        scenarios, emission_model, scenario_summary."""
        return f"{self.work}/tables/{kind}_{level}.csv"

    def tier1_by_fuel(self, level: str = "{level}") -> str:
        """IPCC Tier 1 energy and CO2 per region, year and fuel."""
        return f"{self.work}/tables/tier1_{level}_by_fuel.csv"

    # figures and deliverables
    def budget_map(self, kind: str, level: str = "{level}") -> str:
        """A period-mean map of a level."""
        return f"{self.work}/figures/maps/{kind}_{level}.{self.map_format}"

    def spatial_map(self, kind: str, variable: str = "{variable}", level: str = "{level}") -> str:
        """A LISA or hot-spot map."""
        return f"{self.work}/figures/{kind}_{variable}_{level}.{self.map_format}"

    def report_item(self, name: str, ext: str) -> str:
        """A headline table (html) or quick-look map (png) of the report: figures/report/."""
        return f"{self.work}/figures/report/{name}.{ext}"

    @property
    def report_landing(self) -> str:
        """The headline tables as an HTML fragment on the report's first page
        (workflow/report/workflow.rst builds this path from outputs.dir)."""
        return f"{self.work}/report/landing.html"

    def figure_folder(self, kind: str, level: str = "{level}") -> str:
        """figures/trends_<level>/ and figures/scenarios_<level>/ (one PNG per region)."""
        return f"{self.work}/figures/{kind}_{level}"

    @property
    def geopackage(self) -> str:
        """The GeoPackage for GIS users."""
        return f"{self.work}/gis/carbon_budget.gpkg"

    def fact_sheets(self, level: str) -> str:
        """The folder of the fact sheets of ``level`` (one HTML page per region)."""
        return f"{self.work}/fact_sheets/{level}"

    @property
    def web_map(self) -> str:
        """The self-contained web map of the finest and the coarsest level."""
        return f"{self.work}/web/map.html"

    @property
    def provenance(self) -> str:
        """Input digests, config, software and run time."""
        return f"{self.work}/provenance.json"


def run_config(cfg: dict, run: str, wildcards: Any) -> dict:
    """The config sections a per-year job of ``run`` reads: the scenario's (``{scenario}``
    filled from the job's wildcards) for a scenario run, else the config itself."""
    return scenario_config(cfg, wildcards.scenario) if run else cfg


def scenario_run(scenario: str = "{scenario}") -> str:
    """The prefix of a scenario's per-year files in the :class:`Layout`."""
    return f"scenarios/{scenario}/"


def aligned_outputs(cfg: dict, layout: Layout, period: str = "{year}", run: str = "") -> dict:
    """The aligned rasters the config's inputs give, of one year (``period`` "{year}", the
    wildcard left in) or the climatologies (``period`` :data:`CLIMATOLOGY`)."""
    clim = climatology_inputs(cfg)
    names = [n for n in _aligned_names(cfg) if (n in clim) == (period == CLIMATOLOGY)]
    return {k: layout.aligned(k, period, run) for k in names}


def aligned_precipitation_for_runoff(cfg: dict, layout: Layout) -> dict:
    """The aligned precipitation climatology a yearly water-balance runoff needs (when ET is
    yearly and precipitation a climatology), as an input of the per-year alignment."""
    clim = climatology_inputs(cfg)
    if (
        cfg["runoff"].get("source") == "water_balance"
        and "runoff" not in clim
        and "precipitation" in clim
    ):
        return {"precipitation_aligned": layout.aligned("precipitation", CLIMATOLOGY)}
    return {}


def flux_year_inputs(cfg: dict, layout: Layout, run: str = "") -> dict:
    """What the per-year flux job reads: the year's aligned inputs, the aligned climatologies
    the fused kernel needs, and the climatology fluxes it combines with the year's NPP (RH from
    climate normals is computed once, not once per year)."""
    yearly, static = flux_periods(cfg)
    inputs = {
        **aligned_outputs(cfg, layout, run=run),
        **aligned_outputs(cfg, layout, CLIMATOLOGY, run),
    }
    if "rh" in static:
        inputs.pop("temperature", None)
        inputs.pop("precipitation", None)
        inputs["rh"] = layout.flux("rh", CLIMATOLOGY, run)
        if "rcs" in static:
            inputs.pop("runoff", None)
            inputs["rcs"] = layout.flux("rcs", CLIMATOLOGY, run)
    return inputs


def lithology_source(cfg: dict, layout: Layout) -> str:
    """The lithology raster the checks and the alignment read: the configured file, or the
    GeoTIFF the pipeline converts a headerless ASCII matrix to (``lithology.ascii_matrix``)."""
    if cfg["lithology"].get("ascii_matrix"):
        return layout.lithology_converted
    return cfg["lithology"]["path"]


def static_check_config(cfg: dict, layout: Layout) -> ConfigSections:
    """The config sections ``check_static`` reads, with the lithology path it must open."""
    sec = config_sections(cfg, "grid", "lithology", "regions", "checks")
    sec["lithology"] = dict(sec["lithology"], path=lithology_source(cfg, layout))
    return sec


def cover_fraction_input(cfg: dict, layout: Layout) -> dict[str, str]:
    """The aligned ``npp.cover_fraction`` as a named input of the jobs that sum fluxes per
    region ({} when the config has none)."""
    return {"cover_fraction": layout.cover_fraction} if cover_fraction(cfg) else {}


def cover_fraction(cfg: dict) -> dict | None:
    """The ``npp.cover_fraction`` section, or None."""
    return (cfg.get("npp") or {}).get("cover_fraction")


# The fewest pixels worth a thread of their own in a chunked job: a million pixels (four chunks
# of 512²) are computed and written in well under a second a layer, less than a job asking for a
# second core of a local run waits for it (the China example's 484 x 553 grid, two chunks: the
# climatology's fluxes, 0.3 s, waited 4.5 s, the emissions on the grid 24 s, docs/performance.md)
PIXELS_PER_THREAD = 2**20


def block_threads(cfg: dict, most: int = 2) -> int:
    """Threads of a job that computes the grid chunk by chunk (trend rasters, the split of
    ΔRH, emissions on the grid, the climatologies' fluxes): ``most``, or fewer on a small grid,
    at least one chunk (``processing.chunk_size``) and :data:`PIXELS_PER_THREAD` pixels per
    thread. A local run starts a job only when its threads are free: a second thread that has
    little or nothing to compute would keep the job waiting for the longest job beside it and
    keep a core from the others. A grid taken from a template raster counts as large: its size
    is not known before the run."""
    grid = cfg["grid"]
    if "bounds" not in grid or "resolution" not in grid:
        return most
    xmin, ymin, xmax, ymax = (float(v) for v in grid["bounds"])
    res = float(grid["resolution"])
    cols, rows = round((xmax - xmin) / res), round((ymax - ymin) / res)  # whole (Grid)
    chunk = int(cfg["processing"]["chunk_size"])
    chunks = math.ceil(cols / chunk) * math.ceil(rows / chunk)
    return max(1, min(most, chunks, rows * cols // PIXELS_PER_THREAD))


def local_cores(workflow) -> int | None:
    """The cores of a local run (Snakemake's ``--cores``), None on a cluster and inside a
    cluster's job: for :func:`trend_threads`. Ask it from a rule's ``threads`` function, when
    the DAG is built: Snakemake sets its executor after parsing the Snakefile, so while it is
    parsed every run looks local."""
    if workflow.local_exec and workflow.is_main_process:
        return workflow.resource_settings.cores
    return None


def trend_threads(cfg: dict, cores: int | None) -> int:
    """Threads of each job that reads several years' rasters near a run's end
    (``pixel_trends`` of each trend variable: every year; ``rh_attribution``: the first and
    the last of the decomposition period). They become ready at about the same time: on a local
    run with ``cores`` each gets its share of them (at least one, at most
    :func:`block_threads`), so that they run side by side instead of one at a time on two
    threads each, and leave a core for the budget's chain beside them (docs/performance.md).
    ``cores`` None (a cluster run, each job on cores of its own): :func:`block_threads`."""
    most = block_threads(cfg)
    if not cores:
        return most
    jobs = len(cfg["trends"]["variables"]) + (1 if rh_split_years(cfg) else 0)
    return max(1, min(most, cores // max(jobs, 1)))


def weights_check_config(cfg: dict) -> ConfigSections:
    """The config sections ``align_weights`` reads: grid, years, checks and the emissions'
    downscale section alone (a changed emission table does not rerun it)."""
    sec = config_sections(cfg, "grid", "years", "checks")
    sec["emissions"] = {"downscale": cfg["emissions"].get("downscale")}
    return sec


def check_all_config(cfg: dict, layout: Layout) -> ConfigSections:
    """Every config section, with the lithology path ``check_inputs`` must open."""
    sec = config_sections(cfg, *sorted(cfg))
    sec.update(static_check_config(cfg, layout))
    return sec


def scenario_zonal(cfg: dict, layout: Layout) -> dict:
    """{scenario: {year: finest-level zonal table of its sink rasters}}."""
    sc = cfg.get("scenarios") or {}
    return {
        name: {y: layout.zonal(str(y), scenario_run(name)) for y in sc.get("years", [])}
        for name in sc.get("names", [])
    }


def scenario_outputs(cfg: dict, layout: Layout) -> list[str]:
    """What the emission accounting and scenario stages deliver (if configured)."""
    files = []
    acc = cfg.get("emissions_accounting")
    if acc:
        files += [
            layout.tier1_by_fuel(acc["level"]),
            layout.table("tier1_comparison", acc["level"]),
        ]
    sc = cfg.get("scenarios")
    if sc:
        lv = sc["level"]
        files += [layout.table(k, lv) for k in ("scenarios", "emission_model", "scenario_summary")]
        files.append(layout.figure_folder("scenarios", lv))
    return files


def year_rule(config: dict, layout: Layout, run: str = "") -> dict[str, Any]:
    """The input, output, log, benchmark and params of the per-year rule of a run: the observed
    years (``run`` "", rule ``process_year``) or a scenario's raster years (``run``
    :func:`scenario_run`, rule ``process_scenario_year``). One definition, so the two rules
    cannot drift apart; workflow/rules/year.smk spells both rules by name."""
    L = layout
    cfg = scenario_config(config, config["scenarios"]["names"][0]) if run else config
    aligned = aligned_outputs(cfg, L, run=run)
    flux_inputs = flux_year_inputs(cfg, L, run)
    yearly, static = flux_periods(cfg)
    kind = "scenario_year" if run else "year"
    wildcards = ["{scenario}"] if run else []
    uncertainty = config.get("uncertainty") is not None and not run
    return {
        "input": {
            **{k: v for k, v in flux_inputs.items() if k not in aligned},
            **{f"climatology_{v}": L.flux(v, CLIMATOLOGY, run) for v in static},
            **({} if run else aligned_precipitation_for_runoff(config, L)),
            "files": lambda w: year_input_files(run_config(config, run, w), int(w.year)),
            "fraction": L.region_fraction,
            "coefficient": L.gem_coefficient,
            "coverage": L.coverage,
            **cover_fraction_input(config, L),
            # the uncertainty statistics group the pixels by the table's coefficients
            **({"coefficients": config["lithology"]["coefficients"]} if uncertainty else {}),
        },
        "output": {
            **{f"aligned_{k}": v for k, v in aligned.items()},
            **{v: L.flux(v, "{year}", run) for v in yearly},
            **({"uncertainty": L.zonal_uncertainty("{year}")} if uncertainty else {}),
            "report": L.check_report("{year}", run),
            "zonal": L.zonal("{year}", run),
        },
        "log": L.log(f"process_{kind}", *wildcards, "{year}"),
        "benchmark": L.benchmark(f"process_{kind}", *wildcards, "{year}"),
        "params": {
            "config": lambda w: config_sections(
                run_config(config, run, w), "grid", "climate", "npp", "runoff", "checks"
            ),
            "aligned": list(aligned),
            "flux_inputs": list(flux_inputs),
            "fluxes": list(yearly),
            "zonal_fluxes": list(computed_fluxes(cfg)),
            "chunk_size": config["processing"]["chunk_size"],
            "dask": config["dask"],
        },
    }
