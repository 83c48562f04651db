"""File names of the DAG: raw inputs named by the config and the outputs of each stage.

Kept here (not in the Snakefile) so that rules stay declarative and tests can import them.
"""

from __future__ import annotations

from .align import month_paths
from .config import CLIMATOLOGY, climatology_inputs, flux_periods, rcs_only

# aligned inputs: name -> file name under interim/aligned/{year}/ (or .../climatology/)
ALIGNED = {"temperature": "tmean_degC.tif", "precipitation": "prcp_mm.tif", "npp": "npp_gc.tif",
           "runoff": "runoff_mm.tif"}


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
            year=year)
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


def aligned_outputs(cfg: dict, out_dir: str, period: str = "{year}") -> dict:
    """The aligned rasters the config's inputs give, of one year (``period`` "{year}", the
    wildcard left in) or the climatologies (``period`` :data:`CLIMATOLOGY`)."""
    clim = climatology_inputs(cfg)
    names = [n for n in _aligned_names(cfg) if (n in clim) == (period == CLIMATOLOGY)]
    return {k: f"{out_dir}/interim/aligned/{period}/{ALIGNED[k]}" for k in names}


def aligned_precipitation_for_runoff(cfg: dict, out_dir: str) -> dict:
    """The aligned precipitation climatology a yearly water-balance runoff needs (when ET is
    yearly and precipitation a climatology), as an input of the per-year alignment."""
    clim = climatology_inputs(cfg)
    if (cfg["runoff"].get("source") == "water_balance" and "runoff" not in clim
            and "precipitation" in clim):
        return {"precipitation_aligned":
                aligned_outputs(cfg, out_dir, CLIMATOLOGY)["precipitation"]}
    return {}


def flux_path(out_dir: str, var: str, period: str = "{year}") -> str:
    """The per-pixel raster of one flux for a year (or the wildcard) or the climatology."""
    return f"{out_dir}/pixels/{var}/{var}_{period}.tif"


def flux_year_inputs(cfg: dict, out_dir: str) -> dict:
    """What the per-year flux job reads: the year's aligned inputs, the aligned climatologies
    the fused kernel needs, and the climatology fluxes it combines with the year's NPP (RH from
    climate normals is computed once, not once per year)."""
    yearly, static = flux_periods(cfg)
    inputs = {**aligned_outputs(cfg, out_dir), **aligned_outputs(cfg, out_dir, CLIMATOLOGY)}
    if "rh" in static:
        inputs.pop("temperature", None)
        inputs.pop("precipitation", None)
        inputs["rh"] = flux_path(out_dir, "rh", CLIMATOLOGY)
        if "rcs" in static:
            inputs.pop("runoff", None)
            inputs["rcs"] = flux_path(out_dir, "rcs", CLIMATOLOGY)
    return inputs


def static_inputs(cfg: dict) -> list[str]:
    """Inputs shared by all years: lithology and its tables, regions, emissions, socio-economics."""
    files = [cfg["lithology"]["path"], cfg["lithology"]["classes"],
             cfg["lithology"]["coefficients"], cfg["regions"]["path"], cfg["emissions"]["path"]]
    if cfg.get("socioeconomic"):
        files.append(cfg["socioeconomic"]["path"])
    return files


def raw_inputs(cfg: dict) -> list[str]:
    """Every input file the config names (provenance digests them all)."""
    files = ([f for y in cfg["years"] for f in year_input_files(cfg, y)]
             + climatology_input_files(cfg) + static_inputs(cfg))
    acc = cfg.get("emissions_accounting")
    if acc:
        files += [acc["consumption"], acc["factors"]]
    sc = cfg.get("scenarios")
    if sc:
        files += [sc["drivers"], sc["growth"]]
        files += [f for name in sc["names"] for y in sc.get("years", [])
                  for f in year_input_files(scenario_config(cfg, name), y)]
    return list(dict.fromkeys(files))      # a climatology named once, not once per year


def lithology_source(cfg: dict, out_dir: str) -> str:
    """The lithology raster the checks and the alignment read: the configured file, or the
    GeoTIFF the pipeline converts a headerless ASCII matrix to (``lithology.ascii_matrix``)."""
    if cfg["lithology"].get("ascii_matrix"):
        return f"{out_dir}/interim/lithology_source.tif"
    return cfg["lithology"]["path"]


def static_check_config(cfg: dict, out_dir: str) -> dict:
    """The config sections ``check_static`` reads, with the lithology path it must open."""
    sec = config_sections(cfg, "grid", "lithology", "regions", "checks")
    sec["lithology"] = dict(sec["lithology"], path=lithology_source(cfg, out_dir))
    if cfg["lithology"].get("ascii_matrix"):
        sec["lithology"]["crs"] = sec["lithology"].get("crs", "EPSG:4326")
    return sec


def budget_levels(cfg: dict) -> list[str]:
    """Region levels finest first, then the study area."""
    return list(cfg["regions"]["levels"]) + ["study_area"]


def config_sections(cfg: dict, *keys: str) -> dict:
    """The named sections of the config (for a rule's params: a job reruns only when a section
    it reads changes, e.g. adding a year does not rerun the checks of other years)."""
    return {k: cfg[k] for k in keys if k in cfg}


def run_info(cfg: dict) -> dict:
    """What the GeoPackage's metadata layer records about a run (no timestamps)."""
    from .config import config_digest, skipped_stages

    return {"config_digest": config_digest(cfg), "years": cfg["years"],
            "skipped_stages": skipped_stages(cfg),
            "climatologies": climatology_note(cfg),
            "emissions": cfg["emissions"]["path"], "regions": cfg["regions"]["path"],
            "grid": cfg["grid"]}


def climatology_note(cfg: dict) -> dict[str, str]:
    """{input: file} of the inputs that are climatologies (the same values every year): what
    the GeoPackage metadata and provenance.json say about them."""
    raw = climatology_raw_inputs(cfg)
    return {name: ", ".join(sorted(set(files if isinstance(files, list) else [files])))
            + " (a climatology: the same values every year)" for name, files in raw.items()}


def scenario_config(cfg: dict, scenario: str) -> dict:
    """The config sections the per-year check, alignment and flux rules read, for the sink
    rasters of one scenario (``{scenario}`` filled in their paths): the same rules and library
    functions as the observed years run on them."""
    sc = cfg["scenarios"]

    def fill(section):
        return {k: (v.replace("{scenario}", scenario) if isinstance(v, str) else v)
                for k, v in section.items()}

    return {"grid": cfg["grid"], "checks": cfg.get("checks", {}),
            "climate": fill(sc["climate"]), "npp": fill(sc["npp"]),
            "runoff": fill(sc["runoff"])}


def scenario_zonal(cfg: dict, out_dir: str) -> dict:
    """{scenario: {year: finest-level zonal table of its sink rasters}}."""
    finest = list(cfg["regions"]["levels"])[0]
    sc = cfg.get("scenarios") or {}
    return {name: {y: f"{out_dir}/scenarios/{name}/interim/zonal/{finest}_{y}.parquet"
                   for y in sc.get("years", [])} for name in sc.get("names", [])}


def scenario_outputs(cfg: dict, out_dir: str) -> list[str]:
    """What rule all asks of the emission accounting and scenario stages (if configured)."""
    files = []
    acc = cfg.get("emissions_accounting")
    if acc:
        files += [f"{out_dir}/tables/tier1_{acc['level']}_by_fuel.csv",
                  f"{out_dir}/tables/tier1_comparison_{acc['level']}.csv"]
    sc = cfg.get("scenarios")
    if sc:
        lv = sc["level"]
        files += [f"{out_dir}/tables/{k}_{lv}.csv"
                  for k in ("scenarios", "emission_model", "scenario_summary")]
        files.append(f"{out_dir}/figures/scenarios_{lv}")
    return files
