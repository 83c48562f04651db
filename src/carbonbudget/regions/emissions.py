"""Emission tables: read, check, match to the region layer and sum up the hierarchy.

The emission table of the config (``emissions`` section) is read with every value checked (an empty
cell or a typo is an error, never a silent 0), its codes are matched to the finest-level polygons
(directly, through a crosswalk, or by their own code; :mod:`carbonbudget.regions.codes`), and
region-years without a value are kept as unknown so that no parent is a partial sum (docs/method.md,
"Regional budgets").
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from carbonbudget.core.errors import ConfigError, InputDataError, RegionError
from carbonbudget.core.io import parse_numbers, read_text_table, region_codes
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.regions.codes import classify_codes, read_crosswalk, read_crosswalk_names
from carbonbudget.regions.hierarchy import derive_adcode_parent

log = logging.getLogger(__name__)

# Emission units -> factor to Tg CO2.
EMISSION_UNITS = {
    "Mt CO2": 1.0,
    "Tg CO2": 1.0,
    "kt CO2": 1e-3,
    "Gg CO2": 1e-3,
    "t CO2": 1e-6,
    "Mt C": CO2_PER_C,
    "Tg C": CO2_PER_C,
}

# Plausibility of emissions (t CO2 km-2 yr-1 and Tg CO2 yr-1): the densest economies average
# well under 1e5 (Singapore about 7e4, Hong Kong about 4e4), the world emits about 3.7e4 Tg
# CO2 a year; a single small district with a power plant can reach 1e6.
MAX_STUDY_AREA_DENSITY_T_KM2 = 1e5
MAX_STUDY_AREA_TOTAL_TGCO2 = 4e4
MAX_REGION_DENSITY_T_KM2 = 1e6


def _number(x: float) -> str:
    """A number as a reader takes it in: 15,000 or 0.25."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def check_emission_magnitude(
    ce_tgco2: pd.Series, area_km2: pd.Series, *, year: int, path: str, units_key: str
) -> None:
    """Emissions per region (index: code) against plausible bounds: a study-area density or
    total no place on Earth has is an error naming the numbers and the unit key (kg declared
    as t gives 1,000 times the emissions); a region denser than any district is a warning
    naming it."""
    ce = ce_tgco2.astype("float64")
    area = area_km2.reindex(ce.index).astype("float64")
    total, km2 = float(np.nansum(ce)), float(np.nansum(area[ce.notna()]))
    density = total * 1e6 / km2 if km2 > 0 else np.nan
    if total > MAX_STUDY_AREA_TOTAL_TGCO2 or density > MAX_STUDY_AREA_DENSITY_T_KM2:
        raise InputDataError(
            f"{year}: the regions emit {_number(total)} Tg CO2 over {km2:,.0f} km², "
            f"{_number(density)} t CO2 km⁻² yr⁻¹: more than any country "
            f"(at most {MAX_STUDY_AREA_DENSITY_T_KM2:,.0f} t CO2 km⁻² yr⁻¹ over a study area, "
            f"{MAX_STUDY_AREA_TOTAL_TGCO2:,.0f} Tg CO2 in all)",
            path=path,
            variable=units_key,
            fix=f"check {units_key}: the values look like a smaller unit declared as a larger "
            "one (kg as t, t as Mt)",
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        per_region = ce * 1e6 / area
    dense = per_region[per_region > MAX_REGION_DENSITY_T_KM2].sort_values(ascending=False)
    if len(dense):
        log.warning(
            "%s: %d: %d regions emit more than %s t CO2 km-2 yr-1 (%s): check %s if this is not "
            "a small district with a large plant",
            path,
            year,
            len(dense),
            f"{MAX_REGION_DENSITY_T_KM2:,.0f}",
            ", ".join(f"{c} {_number(v)}" for c, v in dense.head(10).items()),
            units_key,
        )


def load_emissions(
    path: str,
    *,
    region_col: str,
    units: str,
    years: list[int],
    year_col: str | None = None,
    value_col: str | None = None,
    year_columns: str | None = None,
    duplicates: str = "error",
    require_all_years: bool = True,
    empty_values: str = "error",
) -> pd.DataFrame:
    """Read the finest-level emission table as (code, year, ce_tgco2); checks units and duplicates.

    Without ``year_columns`` (``emissions.layout: long``) the table has one row per region and
    year (``year_col``, ``value_col``); with it (``layout: wide``) one row per region and one
    column per year named by ``year_columns`` (e.g. ``C{year}`` for the CEADs county table).
    Several rows for one region and year are an error unless ``duplicates`` says how to combine
    them: ``sum`` (e.g. a development zone reported beside its
    district under the same code) or ``first`` (keep the first row, drop the others).

    A value of a requested year that is empty or not a number (``n/a``, ``-``, text) is an error
    naming its line and code: read as pandas reads by default it would become NaN and then 0 in
    every sum. With ``empty_values: missing`` such cells are kept as NaN (an unknown region-year,
    which :func:`sum_emissions` never counts as 0) and listed in the log."""
    if units not in EMISSION_UNITS:
        raise InputDataError(
            f"unknown emission units '{units}'",
            path=path,
            variable="emissions.units",
            fix=f"declare one of {sorted(EMISSION_UNITS)}",
        )
    df = read_text_table(path, "emissions")
    if year_columns:
        pattern = re.compile(re.escape(year_columns).replace(r"\{year\}", r"(\d{4})"))
        ycols = {c: int(m.group(1)) for c in df.columns if (m := pattern.fullmatch(str(c)))}
        if region_col not in df.columns or not ycols:
            raise InputDataError(
                f"wide table needs column '{region_col}' and year columns "
                f"matching '{year_columns}' (columns: {list(df.columns)[:15]})",
                path=path,
                variable="emissions",
                fix="set emissions.region_col and emissions.year_columns (e.g. 'C{year}')",
            )
        df = (
            df[[region_col] + list(ycols)]
            .rename_axis("_line")
            .reset_index()
            .melt(id_vars=["_line", region_col], var_name="_column", value_name="_value")
        )
        df = df.set_index("_line").rename_axis(None)
        df["_year"] = df["_column"].map(ycols)
        year_col, value_col = "_year", "_value"
    missing = [c for c in (region_col, year_col, value_col) if c is None or c not in df.columns]
    if missing:
        raise InputDataError(
            f"columns {missing} not found (columns: {list(df.columns)})",
            path=path,
            variable="emissions",
            fix="set emissions.region_col/year_col/value_col to existing "
            "columns (or emissions.layout: wide for one column per year)",
        )
    code = region_codes(df[region_col], path=path, variable="emissions.region_col")
    year = parse_numbers(
        df[year_col],
        pd.DataFrame({"code": code}),
        path=path,
        variable="emissions",
        integer=True,
        fix=f"write a 4-digit year in column '{year_col}' of every row",
    )
    keep = year.isin(years)
    context = pd.DataFrame({"code": code, "year": year.astype("Int64")})[keep]
    value = parse_numbers(
        df.loc[keep, value_col],
        context,
        path=path,
        variable="emissions",
        allow_missing=empty_values == "missing",
        fix="write a number in every cell of the years you run (0 where a "
        "region emits nothing), drop the years you do not run from the "
        "table, or set emissions.empty_values: missing to treat such cells "
        "as unknown (their parents are then missing in that year)",
    )
    if value.isna().any():
        gaps = context[value.isna()]
        log.warning(
            "%s: %d emission values are empty or not numbers and are treated as "
            "unknown (emissions.empty_values: missing): %s",
            path,
            len(gaps),
            "; ".join(
                f"line {i} ({c}, {y})"
                for i, c, y in zip(gaps.index[:10], gaps["code"], gaps["year"])
            ),
        )
    df = pd.DataFrame(
        {
            "code": code[keep],
            "year": year[keep].astype(int),
            "ce_tgco2": value * EMISSION_UNITS[units],
        }
    )
    dup = df[df.duplicated(["code", "year"], keep=False)]
    if len(dup):
        codes = sorted(dup["code"].unique())
        if duplicates == "error":
            raise InputDataError(
                f"{len(codes)} region codes have several rows for one year: {codes[:10]}",
                path=path,
                variable="emissions",
                fix="keep one row per region and year, or set "
                "emissions.duplicates: sum (add them up) or first",
            )
        share = dup["ce_tgco2"].sum() / max(df["ce_tgco2"].sum(), 1e-300)
        log.warning(
            "%s: %d codes with several rows (%s, %.2f%% of emissions): %s",
            path,
            len(codes),
            duplicates,
            100 * share,
            codes[:10],
        )
        if duplicates == "sum":  # an unknown row makes the sum unknown, never a partial one
            df = sum_emissions(df, "code")
        else:
            df = df.drop_duplicates(["code", "year"], keep="first")
    if (df["ce_tgco2"] < 0).any():
        bad = df.loc[df["ce_tgco2"] < 0, "code"].unique()[:10].tolist()
        raise InputDataError(
            f"negative emissions for regions {bad}",
            path=path,
            variable="emissions",
            fix="check the value column and units",
        )
    absent = sorted(set(years) - set(df["year"]))
    if absent and require_all_years:
        raise InputDataError(
            f"no emission rows for years {absent}",
            path=path,
            variable="emissions",
            fix="add those years or remove them from config 'years'",
        )
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
    full = pd.MultiIndex.from_product(
        [sorted(em[key].unique()), sorted(years)], names=[key, "year"]
    )
    known = em.dropna(subset=["ce_tgco2"]).set_index([key, "year"]).index
    return full.difference(known).to_frame(index=False)


def report_gaps(
    em: pd.DataFrame, years: list[int], em_cfg: dict, key: str = "code"
) -> pd.DataFrame:
    """:func:`emission_gaps`, logged with what happens to them (``emissions.gaps``)."""
    gaps = emission_gaps(em, years, key)
    if len(gaps):
        log.warning(
            "%s: %d region-years have no emission value (%s); %s",
            em_cfg["path"],
            len(gaps),
            ", ".join(f"{c} in {y}" for c, y in gaps.head(10).itertuples(index=False)),
            GAP_RULES[em_cfg["gaps"]],
        )
    return gaps


def fill_gaps(em: pd.DataFrame, years: list[int], key: str) -> pd.DataFrame:
    """The matched emission table (:func:`match_emission_codes`) with a row of unknown CE
    (NaN) for every region-year it lacks, so that such a region-year is missing from its region
    and its parents too instead of being left out of their sums."""
    full = pd.MultiIndex.from_product(
        [sorted(em[key].unique()), sorted(years)], names=[key, "year"]
    )
    absent = full.difference(em.set_index([key, "year"]).index).to_frame(index=False)
    if absent.empty:
        return em
    same = [c for c in em.columns if c.endswith("_code")]  # the region and its parents
    fill = absent.merge(em.drop_duplicates(key)[same], on=key, how="left")
    fill["code"], fill["ce_tgco2"], fill["match"] = fill[key], np.nan, "gap"
    return (
        pd.concat([em, fill[em.columns]], ignore_index=True)
        .sort_values(["code", "year"])
        .reset_index(drop=True)
    )


def sum_emissions(em: pd.DataFrame, key: str, gaps: str = "missing") -> pd.DataFrame:
    """CE per (``key``, year), summed over the emission rows of each region.

    A region-year with an unknown member (NaN CE) is NaN with ``gaps: missing`` (the default:
    never a silent partial sum), or the sum of the known members with ``gaps: sum``, the number
    of unknown members then given in ``ce_missing_members``."""
    if gaps != "sum":
        return sum_known(em, [key, "year"], ["ce_tgco2"])
    g = em.groupby([key, "year"], sort=True)
    out = g["ce_tgco2"].sum(min_count=1).to_frame()  # no known member: unknown
    out["ce_missing_members"] = g["ce_tgco2"].size() - g["ce_tgco2"].count()
    return out.reset_index()


def sum_known(df: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Sums of ``columns`` by ``keys`` that are NaN wherever a member is NaN (pandas' ``sum``
    skips NaN, which turns an unknown member into a partial sum)."""
    g = df.groupby(keys, sort=True)[columns]
    out = g.sum()
    return out.where(g.count() == g.size().to_numpy()[:, None]).reset_index()


def _wide_year_columns(em_cfg: dict) -> str | None:
    """The year columns' pattern of a wide emission table (``emissions.layout: wide``), None for
    a long one."""
    if em_cfg["layout"] != "wide":
        return None
    if not em_cfg.get("year_columns"):
        raise ConfigError("emissions.layout: wide needs emissions.year_columns (e.g. 'C{year}')")
    return em_cfg["year_columns"]


def load_emissions_config(
    em_cfg: dict, years: list[int], require_all_years: bool = True
) -> pd.DataFrame:
    """:func:`load_emissions` with the ``emissions`` section of the config."""
    return load_emissions(
        em_cfg["path"],
        region_col=em_cfg["region_col"],
        year_col=em_cfg.get("year_col"),
        value_col=em_cfg.get("value_col"),
        units=em_cfg["units"],
        years=years,
        year_columns=_wide_year_columns(em_cfg),
        duplicates=em_cfg["duplicates"],
        require_all_years=require_all_years,
        empty_values=em_cfg["empty_values"],
    )


def match_emission_codes(
    emissions: pd.DataFrame,
    hierarchy: pd.DataFrame,
    levels: list[str],
    *,
    derive_parents: str | None,
    unmatched: str,
    path: str = "",
    crosswalk: dict[str, str] | None = None,
    select: dict | None = None,
) -> pd.DataFrame:
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

    em = emissions.copy()
    match, em["region"] = classify_codes(em["code"], h[fcol], crosswalk)
    em["match"] = match.replace("unmatched", "own_code")  # may still reach parents by its code
    merged = em.merge(h, left_on="region", right_on=fcol, how="left")
    merged[fcol] = merged["region"]
    merged = merged.drop(columns="region")
    lost = merged[f"{levels[-1]}_code"].isna()
    if lost.any() and derive_parents == "adcode" and len(levels) > 1:
        for i, lv in enumerate(levels[1:], start=1):
            merged.loc[lost, f"{lv}_code"] = derive_adcode_parent(merged.loc[lost, "code"], i)
        lost = merged[f"{levels[-1]}_code"].isna()
    if select:
        # before the count of codes rolled up: a code outside the selection is left out, not
        # rolled up (a code reaching no parent stays, for the error below)
        inside = merged[f"{select['level']}_code"].isin([str(c) for c in select["codes"]]) | lost
        share = merged.loc[~inside, "ce_tgco2"].sum() / max(merged["ce_tgco2"].sum(), 1e-300)
        log.info(
            "%s: %d emission codes (%.2f%% of the table's emissions) lie outside the "
            "selected regions (regions.select) and are left out",
            path,
            merged.loc[~inside, "code"].nunique(),
            100 * share,
        )
        merged, lost = merged[inside], lost[inside]
    own = merged["match"].eq("own_code") & ~lost
    if own.any():
        share = merged.loc[own, "ce_tgco2"].sum() / max(merged["ce_tgco2"].sum(), 1e-300)
        log.warning(
            "%s: %d emission codes match no polygon (%.2f%% of emissions); rolled up to "
            "their parents by their own code: %s",
            path,
            merged.loc[own, "code"].nunique(),
            100 * share,
            sorted(merged.loc[own, "code"].unique())[:20],
        )
    if lost.any():
        codes = sorted(merged.loc[lost, "code"].unique())
        share = merged.loc[lost, "ce_tgco2"].sum() / max(merged["ce_tgco2"].sum(), 1e-300)
        msg = (
            f"{len(codes)} emission region codes are not in the region layer "
            f"({share:.2%} of total emissions): {codes[:20]}"
        )
        if unmatched == "error":
            raise RegionError(
                msg,
                path=path,
                variable="emissions",
                fix="correct the codes, add a crosswalk (emissions.crosswalk), set "
                "regions.derive_parents: adcode to roll them up by their own "
                "code, or set emissions.unmatched: warn to drop them",
            )
        log.warning("%s: %s; dropped", path, msg)
        merged = merged[~lost]
    return merged


def emissions_by_region(
    em_cfg: dict,
    years: list[int],
    hierarchy: pd.DataFrame,
    levels: list[str],
    *,
    derive_parents: str | None,
    crosswalk: dict[str, str] | None,
    select: dict | None = None,
    require_all_years: bool = True,
) -> pd.DataFrame:
    """The emission table of the ``emissions`` section with the region of every level attached
    (:func:`match_emission_codes`): the one path by which the budget and the scenario stage turn
    emission codes into regions, so they cannot diverge."""
    em = load_emissions_config(em_cfg, years, require_all_years=require_all_years)
    em = match_emission_codes(
        em,
        hierarchy,
        levels,
        derive_parents=derive_parents,
        unmatched=em_cfg["unmatched"],
        path=em_cfg["path"],
        crosswalk=crosswalk,
        select=select,
    )
    report_gaps(em, years, em_cfg, f"{levels[0]}_code")
    return fill_gaps(em, years, f"{levels[0]}_code")


def load_crosswalk_config(em_cfg: dict, path_crosswalk: str | None = None) -> dict | None:
    """The crosswalk of the ``emissions`` section: a given table, or the one the pipeline built
    (``path_crosswalk``) from an official code list; None without one."""
    cw = em_cfg.get("crosswalk")
    if not cw:
        return None
    table = cw.get("table") or path_crosswalk
    if table is None:
        raise ConfigError(
            "emissions.crosswalk: no crosswalk table; set emissions.crosswalk.table or "
            "emissions.crosswalk.old_codes so the pipeline builds one"
        )
    return read_crosswalk(table)


def load_crosswalk_names(em_cfg: dict, path_crosswalk: str | None = None) -> dict[str, str]:
    """The names of the old codes of the crosswalk of the ``emissions`` section (its
    ``old_name`` column), to name emission rows without a polygon; empty without one."""
    cw = em_cfg.get("crosswalk")
    table = (cw.get("table") or path_crosswalk) if cw else None
    return read_crosswalk_names(table) if table else {}
