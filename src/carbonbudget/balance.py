"""Regional budgets and balance indicators (DESIGN §2–3).

County (finest-level) flux totals come from :mod:`carbonbudget.zonal`; parents are the sums of
their children. Emissions (CE) are summed up the hierarchy by the emission table's own codes.
Indicators per region-year:

- ``cnc_tgco2 = ecs_tgco2 − ce_tgco2`` and ``cnc_flux_tco2_km2``;
- ``status``: surplus / deficit / neutral against ``tolerance_tgco2`` ("missing" if CNC is NaN);
- ``source_sink_ratio = ce / ecs`` where ECS > 0; where ECS ≤ 0 the land is itself a net
  source: ratio = +inf and ``ecosystem_source = True`` (never NaN, never negative);
- ``cer = ce / ecs × cv`` (seed 000) with the same ECS ≤ 0 rule;
- ``imbalance_risk_index``: percentile rank in [0, 1] of the ratio among all region-years of
  the level (this project's definition; seed 001 gives no formula).
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from .config import FLUX_VARS
from .errors import ConfigError, InputDataError, RegionError

log = logging.getLogger(__name__)

CO2_PER_C = 44.0 / 12.0
STUDY_AREA = "study_area"

# Emission units -> factor to Tg CO2.
EMISSION_UNITS = {
    "Mt CO2": 1.0, "Tg CO2": 1.0, "kt CO2": 1e-3, "Gg CO2": 1e-3, "t CO2": 1e-6,
    "Mt C": CO2_PER_C, "Tg C": CO2_PER_C,
}


def balance_indicators(ecs_tgco2, ce_tgco2, area_km2, cv=1.0, tolerance_tgco2=0.0, *,
                       valid_fraction=None, min_valid_fraction: float = 0.0) -> pd.DataFrame:
    """CNC, its flux, status, source/sink ratio, ecosystem-source flag, CER and a note per
    region-year (arrays in, frame out).

    A region-year whose sink is known on less than ``min_valid_fraction`` of its area
    (``valid_fraction``) gets none of them: a sink of part of the region set against the whole
    region's emissions would be wrong, so its status is ``incomplete``, the values NaN and the
    note says why; a region-year without ECS or CE is ``missing``."""
    ecs = np.asarray(ecs_tgco2, dtype="float64")
    ce = np.asarray(ce_tgco2, dtype="float64")
    area = np.asarray(area_km2, dtype="float64")
    cv = np.broadcast_to(np.asarray(cv, dtype="float64"), ecs.shape)
    valid = (np.ones_like(ecs) if valid_fraction is None
             else np.asarray(valid_fraction, dtype="float64"))
    incomplete = np.isfinite(ecs) & np.isfinite(ce) & ~(valid >= min_valid_fraction)
    cnc = np.where(incomplete, np.nan, ecs - ce)
    with np.errstate(divide="ignore", invalid="ignore"):
        flux = np.where(area > 0, cnc * 1e6 / area, np.nan)   # Tg -> t, per km²
        ratio = np.where(ecs > 0, ce / ecs, np.inf)
    known = np.isfinite(ecs) & np.isfinite(ce) & ~incomplete
    ratio = np.where(known, ratio, np.nan)
    with np.errstate(invalid="ignore"):
        cer = ratio * cv
    status = np.where(incomplete, "incomplete", np.where(
        ~known, "missing", np.where(cnc > tolerance_tgco2, "surplus",
                                    np.where(cnc < -tolerance_tgco2, "deficit", "neutral"))))
    note = np.full(ecs.shape, "", dtype=object)
    note[~np.isfinite(ce)] = "no emission value for this region-year"
    note[~np.isfinite(ecs)] = "no sink: no pixel of the region has every input"
    note[~np.isfinite(ce) & ~np.isfinite(ecs)] = "no sink and no emission value"
    with np.errstate(invalid="ignore"):
        note[incomplete] = [f"sink known on {100 * v:.1f} % of the area (below "
                            f"balance.min_valid_fraction {100 * min_valid_fraction:.0f} %)"
                            for v in valid[incomplete]]
    return pd.DataFrame({
        "cnc_tgco2": cnc,
        "cnc_flux_tco2_km2": flux,
        "status": status,
        "status_note": note,
        "source_sink_ratio": ratio,
        "ecosystem_source": np.where(known, ecs <= 0, False),
        "cv": cv,
        "cer": cer,
    })


def load_emissions(path: str, *, region_col: str, units: str, years: list[int],
                   year_col: str | None = None, value_col: str | None = None,
                   layout: str = "long", year_columns: str = "{year}",
                   duplicates: str = "error", require_all_years: bool = True,
                   empty_values: str = "error") -> pd.DataFrame:
    """Read the finest-level emission table as (code, year, ce_tgco2); checks units and duplicates.

    ``layout: long`` has one row per region and year (``year_col``, ``value_col``); ``wide`` has
    one row per region and one column per year named by ``year_columns`` (e.g. ``C{year}`` for the
    CEADs county table). Several rows for one region and year are an error unless
    ``duplicates`` says how to combine them: ``sum`` (e.g. a development zone reported beside its
    district under the same code) or ``first`` (keep the first row, drop the others).

    A value of a requested year that is empty or not a number (``n/a``, ``-``, text) is an error
    naming its line and code: read as pandas reads by default it would become NaN and then 0 in
    every sum. With ``empty_values: missing`` such cells are kept as NaN (an unknown region-year,
    which :func:`sum_emissions` never counts as 0) and listed in the log."""
    from .io import parse_numbers, read_text_table

    if units not in EMISSION_UNITS:
        raise InputDataError(f"unknown emission units '{units}'", path=path,
                             variable="emissions.units",
                             fix=f"declare one of {sorted(EMISSION_UNITS)}")
    df = read_text_table(path, "emissions")
    if layout == "wide":
        pattern = re.compile(re.escape(year_columns).replace(r"\{year\}", r"(\d{4})"))
        ycols = {c: int(m.group(1)) for c in df.columns if (m := pattern.fullmatch(str(c)))}
        if region_col not in df.columns or not ycols:
            raise InputDataError(f"wide table needs column '{region_col}' and year columns "
                                 f"matching '{year_columns}' (columns: {list(df.columns)[:15]})",
                                 path=path, variable="emissions",
                                 fix="set emissions.region_col and emissions.year_columns "
                                     "(e.g. 'C{year}')")
        df = df[[region_col] + list(ycols)].rename_axis("_line").reset_index().melt(
            id_vars=["_line", region_col], var_name="_column", value_name="_value")
        df = df.set_index("_line").rename_axis(None)
        df["_year"] = df["_column"].map(ycols)
        year_col, value_col = "_year", "_value"
    missing = [c for c in (region_col, year_col, value_col) if c is None or c not in df.columns]
    if missing:
        raise InputDataError(f"columns {missing} not found (columns: {list(df.columns)})",
                             path=path, variable="emissions",
                             fix="set emissions.region_col/year_col/value_col to existing "
                                 "columns (or emissions.layout: wide for one column per year)")
    code = df[region_col].astype(str).str.strip()
    year = parse_numbers(df[year_col], pd.DataFrame({"code": code}), path=path,
                         variable="emissions", integer=True,
                         fix=f"write a 4-digit year in column '{year_col}' of every row")
    keep = year.isin(years)
    context = pd.DataFrame({"code": code, "year": year.astype("Int64")})[keep]
    value = parse_numbers(df.loc[keep, value_col], context, path=path, variable="emissions",
                          allow_missing=empty_values == "missing",
                          fix="write a number in every cell of the years you run (0 where a "
                              "region emits nothing), drop the years you do not run from the "
                              "table, or set emissions.empty_values: missing to treat such cells "
                              "as unknown (their parents are then missing in that year)")
    if value.isna().any():
        gaps = context[value.isna()]
        log.warning("%s: %d emission values are empty or not numbers and are treated as "
                    "unknown (emissions.empty_values: missing): %s", path, len(gaps),
                    "; ".join(f"line {i} ({c}, {y})" for i, c, y in
                              zip(gaps.index[:10], gaps["code"], gaps["year"])))
    df = pd.DataFrame({"code": code[keep], "year": year[keep].astype(int),
                       "ce_tgco2": value * EMISSION_UNITS[units]})
    dup = df[df.duplicated(["code", "year"], keep=False)]
    if len(dup):
        codes = sorted(dup["code"].unique())
        if duplicates == "error":
            raise InputDataError(f"{len(codes)} region codes have several rows for one year: "
                                 f"{codes[:10]}", path=path, variable="emissions",
                                 fix="keep one row per region and year, or set "
                                     "emissions.duplicates: sum (add them up) or first")
        share = dup["ce_tgco2"].sum() / max(df["ce_tgco2"].sum(), 1e-300)
        log.warning("%s: %d codes with several rows (%s, %.2f%% of emissions): %s", path,
                    len(codes), duplicates, 100 * share, codes[:10])
        if duplicates == "sum":     # an unknown row makes the sum unknown, never a partial one
            df = sum_emissions(df, "code")
        else:
            df = df.drop_duplicates(["code", "year"], keep="first")
    if (df["ce_tgco2"] < 0).any():
        bad = df.loc[df["ce_tgco2"] < 0, "code"].unique()[:10].tolist()
        raise InputDataError(f"negative emissions for regions {bad}", path=path,
                             variable="emissions", fix="check the value column and units")
    absent = sorted(set(years) - set(df["year"]))
    if absent and require_all_years:
        raise InputDataError(f"no emission rows for years {absent}", path=path,
                             variable="emissions",
                             fix="add those years or remove them from config 'years'")
    return df.sort_values(["code", "year"]).reset_index(drop=True)


GAP_RULES = {
    "missing": "their regions and every parent are missing in those years (emissions.gaps: "
               "missing)",
    "sum": "their parents are summed without them, the number left out given in "
           "ce_missing_members (emissions.gaps: sum)",
}


def emission_gaps(em: pd.DataFrame, years: list[int], key: str = "code") -> pd.DataFrame:
    """(``key``, year) of every region of the table and requested year without a known value:
    no row at all (the region has rows in other years) or an unknown cell. ``key`` is the
    region column (after :func:`match_emission_codes`, the finest level's, so that an old and a
    new code of one region count as one region)."""
    full = pd.MultiIndex.from_product([sorted(em[key].unique()), sorted(years)],
                                      names=[key, "year"])
    known = em.dropna(subset=["ce_tgco2"]).set_index([key, "year"]).index
    return full.difference(known).to_frame(index=False)


def report_gaps(em: pd.DataFrame, years: list[int], em_cfg: dict,
                key: str = "code") -> pd.DataFrame:
    """:func:`emission_gaps`, logged with what happens to them (``emissions.gaps``)."""
    gaps = emission_gaps(em, years, key)
    if len(gaps):
        log.warning("%s: %d region-years have no emission value (%s); %s", em_cfg["path"],
                    len(gaps), ", ".join(f"{c} in {y}" for c, y in
                                         gaps.head(10).itertuples(index=False)),
                    GAP_RULES[em_cfg.get("gaps", "missing")])
    return gaps


def fill_gaps(em: pd.DataFrame, years: list[int], key: str) -> pd.DataFrame:
    """The matched emission table (:func:`match_emission_codes`) with a row of unknown CE
    (NaN) for every region-year it lacks, so that such a region-year is missing from its region
    and its parents too instead of being left out of their sums."""
    full = pd.MultiIndex.from_product([sorted(em[key].unique()), sorted(years)],
                                      names=[key, "year"])
    absent = full.difference(em.set_index([key, "year"]).index).to_frame(index=False)
    if absent.empty:
        return em
    same = [c for c in em.columns if c.endswith("_code")]      # the region and its parents
    fill = absent.merge(em.drop_duplicates(key)[same], on=key, how="left")
    fill["code"], fill["ce_tgco2"], fill["match"] = fill[key], np.nan, "gap"
    return (pd.concat([em, fill[em.columns]], ignore_index=True)
            .sort_values(["code", "year"]).reset_index(drop=True))


def sum_emissions(em: pd.DataFrame, key: str, gaps: str = "missing") -> pd.DataFrame:
    """CE per (``key``, year), summed over the emission rows of each region.

    A region-year with an unknown member (NaN CE) is NaN with ``gaps: missing`` (the default:
    never a silent partial sum), or the sum of the known members with ``gaps: sum``, the number
    of unknown members then given in ``ce_missing_members``."""
    if gaps != "sum":
        return sum_known(em, [key, "year"], ["ce_tgco2"])
    g = em.groupby([key, "year"], sort=True)
    out = g["ce_tgco2"].sum(min_count=1).to_frame()     # no known member: unknown
    out["ce_missing_members"] = g["ce_tgco2"].size() - g["ce_tgco2"].count()
    return out.reset_index()


def sum_known(df: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Sums of ``columns`` by ``keys`` that are NaN wherever a member is NaN (pandas' ``sum``
    skips NaN, which turns an unknown member into a partial sum)."""
    g = df.groupby(keys, sort=True)[columns]
    out = g.sum()
    return out.where(g.count() == g.size().to_numpy()[:, None]).reset_index()


def load_socioeconomic(socio_cfg: dict, columns: list[str], years: list[int]) -> pd.DataFrame:
    """The ``socioeconomic`` table as (code, year, *columns) for ``years``: values that are
    empty or not numbers are an error naming their line; a code without a row in one of the
    years gets NaN there (so its parents' sums are unknown, never partial)."""
    from .io import parse_numbers, read_text_table

    path, rcol, ycol = socio_cfg["path"], socio_cfg["region_col"], socio_cfg["year_col"]
    df = read_text_table(path, "socioeconomic")
    absent = [c for c in [rcol, ycol, *columns] if c not in df.columns]
    if absent:
        raise InputDataError(f"columns {absent} not found (columns: {list(df.columns)})",
                             path=path, variable="socioeconomic",
                             fix="set socioeconomic.region_col/year_col/gdp_col/population_col "
                                 "(or balance.cv.column) to existing columns")
    code = df[rcol].astype(str).str.strip()
    year = parse_numbers(df[ycol], pd.DataFrame({"code": code}), path=path,
                         variable="socioeconomic", integer=True,
                         fix=f"write a 4-digit year in column '{ycol}' of every row")
    keep = year.isin(years)
    context = pd.DataFrame({"code": code, "year": year.astype("Int64")})[keep]
    out = pd.DataFrame({"code": code[keep], "year": year[keep].astype(int)})
    for c in columns:
        out[c] = parse_numbers(df.loc[keep, c], context.assign(column=c), path=path,
                               variable="socioeconomic",
                               fix=f"write a number in every cell of column '{c}' for the "
                                   "years you run")
    dup = out.duplicated(["code", "year"])
    if dup.any():
        raise InputDataError(f"several rows for one region and year: "
                             f"{sorted(out.loc[dup, 'code'].unique())[:10]}", path=path,
                             variable="socioeconomic", fix="keep one row per region and year")
    full = pd.MultiIndex.from_product([sorted(out["code"].unique()), sorted(years)],
                                      names=["code", "year"])
    return out.set_index(["code", "year"]).reindex(full).reset_index()


def load_emissions_config(em_cfg: dict, years: list[int],
                          require_all_years: bool = True) -> pd.DataFrame:
    """:func:`load_emissions` with the ``emissions`` section of the config."""
    return load_emissions(em_cfg["path"], region_col=em_cfg["region_col"],
                          year_col=em_cfg.get("year_col"), value_col=em_cfg.get("value_col"),
                          units=em_cfg["units"], years=years,
                          layout=em_cfg.get("layout", "long"),
                          year_columns=em_cfg.get("year_columns", "{year}"),
                          duplicates=em_cfg.get("duplicates", "error"),
                          require_all_years=require_all_years,
                          empty_values=em_cfg.get("empty_values", "error"))


def match_emission_codes(emissions: pd.DataFrame, hierarchy: pd.DataFrame, levels: list[str],
                         *, derive_parents: str | None, unmatched: str, path: str = "",
                         crosswalk: dict[str, str] | None = None,
                         select: dict | None = None) -> pd.DataFrame:
    """Attach the region of every level to each emission row.

    A code that is a finest-level region (``match = direct``), or that the optional ``crosswalk``
    (old code → region code) maps to one (``crosswalk``), takes that region and its parents from
    the region layer. Any other code keeps its own code at the finest level and, with
    ``derive_parents == 'adcode'``, takes its parents from the code itself (``own_code``): its
    emissions still reach its city and province, so nothing is lost when a county polygon was
    renamed or merged; it appears in the finest-level table as a row without polygon. Codes that
    reach no region at all are an error, or with ``unmatched: warn`` a warning that lists them
    with their share of total emissions, and they are dropped. With ``select``
    (``regions.select``) the rows whose region lies outside the selection are left out (logged
    with their share).
    """
    finest = levels[0]
    fcol = f"{finest}_code"
    h = hierarchy.drop_duplicates(fcol)[[f"{lv}_code" for lv in levels]]
    from .codes import classify_codes

    em = emissions.copy()
    match, em["region"] = classify_codes(em["code"], h[fcol], crosswalk)
    em["match"] = match.replace("unmatched", "own_code")   # may still reach parents by its code
    merged = em.merge(h, left_on="region", right_on=fcol, how="left")
    merged[fcol] = merged["region"]
    merged = merged.drop(columns="region")
    lost = merged[f"{levels[-1]}_code"].isna()
    if lost.any() and derive_parents == "adcode" and len(levels) > 1:
        from .regions import derive_adcode_parent

        for i, lv in enumerate(levels[1:], start=1):
            merged.loc[lost, f"{lv}_code"] = derive_adcode_parent(merged.loc[lost, "code"], i)
        lost = merged[f"{levels[-1]}_code"].isna()
    own = merged["match"].eq("own_code") & ~lost
    if own.any():
        share = merged.loc[own, "ce_tgco2"].sum() / max(merged["ce_tgco2"].sum(), 1e-300)
        log.warning("%s: %d emission codes match no polygon (%.2f%% of emissions); rolled up to "
                    "their parents by their own code: %s", path, merged.loc[own, "code"].nunique(),
                    100 * share, sorted(merged.loc[own, "code"].unique())[:20])
    if lost.any():
        codes = sorted(merged.loc[lost, "code"].unique())
        share = merged.loc[lost, "ce_tgco2"].sum() / max(merged["ce_tgco2"].sum(), 1e-300)
        msg = (f"{len(codes)} emission region codes are not in the region layer "
               f"({share:.2%} of total emissions): {codes[:20]}")
        if unmatched == "error":
            raise RegionError(msg, path=path, variable="emissions",
                              fix="correct the codes, add a crosswalk (emissions.crosswalk), set "
                                  "regions.derive_parents: adcode to roll them up by their own "
                                  "code, or set emissions.unmatched: warn to drop them")
        log.warning("%s: %s; dropped", path, msg)
        merged = merged[~lost]
    if select:
        inside = merged[f"{select['level']}_code"].isin([str(c) for c in select["codes"]])
        share = merged.loc[~inside, "ce_tgco2"].sum() / max(merged["ce_tgco2"].sum(), 1e-300)
        log.info("%s: %d emission codes (%.2f%% of the table's emissions) lie outside the "
                 "selected regions (regions.select) and are left out", path,
                 merged.loc[~inside, "code"].nunique(), 100 * share)
        merged = merged[inside]
    return merged


def emissions_by_region(em_cfg: dict, years: list[int], hierarchy: pd.DataFrame,
                        levels: list[str], *, derive_parents: str | None,
                        crosswalk: dict[str, str] | None, select: dict | None = None,
                        require_all_years: bool = True) -> pd.DataFrame:
    """The emission table of the ``emissions`` section with the region of every level attached
    (:func:`match_emission_codes`): the one path by which the budget and the scenario stage turn
    emission codes into regions, so they cannot diverge."""
    em = load_emissions_config(em_cfg, years, require_all_years=require_all_years)
    em = match_emission_codes(em, hierarchy, levels, derive_parents=derive_parents,
                              unmatched=em_cfg.get("unmatched", "error"), path=em_cfg["path"],
                              crosswalk=crosswalk, select=select)
    report_gaps(em, years, em_cfg, f"{levels[0]}_code")
    return fill_gaps(em, years, f"{levels[0]}_code")


def load_crosswalk_config(em_cfg: dict, path_crosswalk: str | None = None) -> dict | None:
    """The crosswalk of the ``emissions`` section: a given table, or the one the pipeline built
    (``path_crosswalk``) from an official code list; None without one."""
    from .codes import read_crosswalk

    cw = em_cfg.get("crosswalk")
    if not cw:
        return None
    return read_crosswalk(cw.get("table") or path_crosswalk)


def _rollup(df: pd.DataFrame, key: str, sum_cols: list[str], frac_cols: list[str]) -> pd.DataFrame:
    """Sum ``sum_cols`` by (key, year); ``frac_cols`` (shares of the area inside the grid,
    ``area_km2``) become shares of the whole region (``region_area_km2``, the polygons' area
    including any part outside the grid): the sum of the known area over the sum of the whole
    area (NaN-aware, min_count=1). ``outside_grid_share`` is the share of the region outside
    the grid."""
    tmp = df.copy()
    for c in frac_cols:
        tmp[c] = tmp[c] * tmp["area_km2"]
    g = tmp.groupby([key, "year"], sort=True)[sum_cols + ["region_area_km2"] + frac_cols].sum(
        min_count=1)
    for c in frac_cols:
        g[c] = g[c] / g["region_area_km2"]
    g["outside_grid_share"] = 1.0 - g["area_km2"] / g["region_area_km2"]
    return g.drop(columns="region_area_km2").reset_index()


def _zonal_years(zonal: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """A finest-level zonal table of one year, or of the climatology fluxes (no year column:
    the same totals for every year)."""
    if "year" in zonal:
        return zonal
    return pd.concat([zonal.assign(year=y) for y in years], ignore_index=True)[
        ["code", "year"] + [c for c in zonal.columns if c != "code"]]


def build_budget(*, zonal_paths: list[str], years: list[int], regions_table: pd.DataFrame,
                 levels: list[str], emissions_cfg: dict, socio_cfg: dict | None,
                 balance_cfg: dict, derive_parents: str | None,
                 fluxes: tuple[str, ...] = FLUX_VARS,
                 crosswalk: dict[str, str] | None = None,
                 select: dict | None = None) -> dict[str, pd.DataFrame]:
    """Budget tables per level (finest ... coarsest, plus the study area): one row per region-year.

    ``fluxes`` are the per-pixel fluxes of the run; without ECS (a run on lithology and runoff
    alone) the balance indicators are left out. Emission codes reach regions as
    :func:`match_emission_codes` says; a code that matches no polygon but whose parents are known
    is a row of its own (``in_region_layer`` false: CE only, no area or fluxes), so CE sums up the
    hierarchy without loss."""
    finest = levels[0]
    zonal = pd.concat([_zonal_years(pd.read_parquet(p), years) for p in zonal_paths],
                      ignore_index=True)
    zonal = zonal.rename(columns={"code": f"{finest}_code"})
    hier_cols = [f"{lv}_code" for lv in levels]
    zonal = zonal.merge(regions_table[hier_cols].drop_duplicates(f"{finest}_code"),
                        on=f"{finest}_code", how="left", validate="many_to_one")
    zonal[f"{STUDY_AREA}_code"] = "all"
    # the whole area of a region cut by the grid edge: what is outside has no known sink
    inside = (regions_table.drop_duplicates(f"{finest}_code").set_index(f"{finest}_code")
              .get("inside_grid_share"))
    zonal["region_area_km2"] = zonal["area_km2"] / (
        1.0 if inside is None else zonal[f"{finest}_code"].map(inside).astype("float64"))

    em = emissions_by_region(emissions_cfg, years, regions_table, levels,
                             derive_parents=derive_parents, crosswalk=crosswalk, select=select)
    em[f"{STUDY_AREA}_code"] = "all"
    with_balance = "ecs" in fluxes

    socio = None
    cv_mode = balance_cfg.get("cv", "none") if with_balance else "none"
    if cv_mode != "none":
        if not socio_cfg:
            raise ConfigError(f"balance.cv: {cv_mode} needs a 'socioeconomic' section")
        columns = ([socio_cfg["gdp_col"], socio_cfg["population_col"]]
                   if cv_mode == "gdp_per_capita_relative" else [cv_mode["column"]])
        socio = load_socioeconomic(socio_cfg, columns, years)
        socio = socio.rename(columns={"code": f"{finest}_code"})
        socio = socio.merge(regions_table[hier_cols].drop_duplicates(f"{finest}_code"),
                            on=f"{finest}_code", how="inner")
        socio[f"{STUDY_AREA}_code"] = "all"

    sum_cols = ["area_km2"] + [f"{v}_tgc" for v in fluxes]
    frac_cols = [f"{v}_valid_fraction" for v in fluxes]
    tol = float(balance_cfg.get("tolerance_tgco2", 0.0))
    tables = {}
    for level in list(levels) + [STUDY_AREA]:
        key = f"{level}_code"
        parent_cols = [f"{p}_code" for p in levels[levels.index(level) + 1:]] \
            if level != STUDY_AREA else []
        fl = _rollup(zonal, key, sum_cols, frac_cols)
        fl["in_region_layer"] = True
        ce = sum_emissions(em, key, emissions_cfg.get("gaps", "missing"))
        t = fl.merge(ce, on=[key, "year"], how="outer")
        t["in_region_layer"] = t["in_region_layer"].astype("boolean").fillna(False).astype(bool)
        # valid_fraction: share of the region's area where the last flux (ECS, or RCS in a run
        # without NPP and climate) and hence every input it needs is known
        t["valid_fraction"] = t[f"{fluxes[-1]}_valid_fraction"]
        min_valid = balance_cfg["min_valid_fraction"]
        t["rcs_tgco2"] = t["rcs_tgc"] * CO2_PER_C
        if with_balance:
            t["ecs_tgco2"] = t["ecs_tgc"] * CO2_PER_C
            cv = 1.0
            if cv_mode == "gdp_per_capita_relative":
                cols = [socio_cfg["gdp_col"], socio_cfg["population_col"]]
                g = sum_known(socio, [key, "year"], cols).set_index([key, "year"])
                tot = sum_known(socio, ["year"], cols).set_index("year")
                pc = g[socio_cfg["gdp_col"]] / g[socio_cfg["population_col"]]
                pc_all = tot[socio_cfg["gdp_col"]] / tot[socio_cfg["population_col"]]
                rel = (pc / pc_all.reindex(pc.index.get_level_values("year")).values).rename("cv")
                cv = t[[key, "year"]].merge(rel.reset_index(), on=[key, "year"],
                                            how="left")["cv"].values
            elif isinstance(cv_mode, dict):
                col = cv_mode["column"]
                g = socio.groupby([key, "year"])[col]
                g = g.mean().where(g.count() == g.size()).rename("cv").reset_index()
                cv = t[[key, "year"]].merge(g, on=[key, "year"], how="left")["cv"].values
            ind = balance_indicators(t["ecs_tgco2"], t["ce_tgco2"], t["area_km2"], cv, tol,
                                     valid_fraction=t["valid_fraction"],
                                     min_valid_fraction=min_valid)
            t = pd.concat([t, ind], axis=1)
            t.loc[~t["in_region_layer"], "status_note"] = (
                "an emission code without a polygon: CE only (tables/emission_code_match.csv)")
            t["imbalance_risk_index"] = t["source_sink_ratio"].rank(pct=True, method="average")
        if level != STUDY_AREA:
            info = regions_table.drop_duplicates(key)[[key, f"{level}_name"] + parent_cols]
            t = t.merge(info, on=key, how="left")
            if parent_cols and not t["in_region_layer"].all():
                # rows of emission codes without polygon: parents from the emission rows
                own = em.drop_duplicates(key).set_index(key)[parent_cols]
                t[parent_cols] = t[parent_cols].fillna(own.reindex(t[key]).reset_index(drop=True))
            t = t.rename(columns={key: "code", f"{level}_name": "name"})
        else:
            t = t.rename(columns={key: "code"})
            t["name"] = "study area"
        t.insert(0, "level", level)
        front = ["level", "code", "name", "year", "area_km2", "valid_fraction",
                 "outside_grid_share"]
        parents = [c for c in t.columns if c.endswith("_code") and c != "code"]
        rest = [c for c in t.columns if c not in front + parents]
        tables[level] = t[front + parents + rest].sort_values(["code", "year"]).reset_index(drop=True)
    return tables


def write_budget(*, zonal_paths: list[str], years: list[int], path_regions: str,
                 regions_cfg: dict, emissions_cfg: dict, socio_cfg: dict | None,
                 balance_cfg: dict, outputs: dict, fluxes: tuple[str, ...] = FLUX_VARS,
                 path_crosswalk: str | None = None) -> None:
    """Stage entry point: budget tables per level -> ``outputs[level] = (csv, parquet)``."""
    from .io import write_table
    from .regions import config_derive_parents, read_finest_table

    levels = list(regions_cfg["levels"])
    table = read_finest_table(path_regions)
    tables = build_budget(zonal_paths=zonal_paths, years=years, regions_table=table, levels=levels,
                          emissions_cfg=emissions_cfg, socio_cfg=socio_cfg, balance_cfg=balance_cfg,
                          derive_parents=config_derive_parents(regions_cfg),
                          fluxes=tuple(fluxes),
                          crosswalk=load_crosswalk_config(emissions_cfg, path_crosswalk),
                          select=regions_cfg.get("select"))
    for level, (csv, parquet) in outputs.items():
        write_table(tables[level], csv, parquet)
