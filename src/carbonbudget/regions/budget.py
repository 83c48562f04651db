"""Regional budgets (docs/method.md, "Regional budgets"): finest-level flux totals and emissions
summed to every level, with the balance indicators of :mod:`carbonbudget.science.balance`.

County (finest-level) flux totals come from :mod:`carbonbudget.regions.zonal`; parents are the
sums of their children. Emissions (CE) are summed up the hierarchy by the emission table's own
codes. Intensity indicators (per capita, per unit of GDP) are ratios of sums at every level.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbonbudget.core.config import FLUX_VARS, grouping_levels
from carbonbudget.core.errors import ConfigError, InputDataError
from carbonbudget.core.io import parse_numbers, read_text_table, region_codes
from carbonbudget.core.units import CO2_PER_C
from carbonbudget.regions.emissions import (
    check_emission_magnitude,
    emissions_by_region,
    sum_emissions,
    sum_known,
)
from carbonbudget.regions.hierarchy import read_finest_table
from carbonbudget.science.balance import (
    GDP_PREFIX,
    INTENSITY_PREFIX,
    PARTIAL_NOTE_END,
    POPULATION_COLUMN,
    STUDY_AREA,
    balance_indicators,
)

log = logging.getLogger(__name__)


def read_region_years(
    path: str,
    region_col: str,
    year_col: str,
    columns: list[str],
    years: list[int],
    *,
    variable: str,
    fix_columns: str,
    names: tuple[dict[str, str], str] | None = None,
    region_label: str = "code",
) -> pd.DataFrame:
    """A table of one row per region and year as (code, year, *columns) for ``years``: cells
    read as text, so a value that is empty or not a number is an error naming its line (by
    the region as the file writes it, under ``region_label``, its year and column), as is a
    missing column (``fix_columns``) or a second row of one region and year. ``names``:
    ({name: code}, fix) where the region column holds names; a name without a code is an
    error with that fix."""
    df = read_text_table(path, variable)
    absent = [c for c in [region_col, year_col, *columns] if c not in df.columns]
    if absent:
        raise InputDataError(
            f"columns {absent} not found (columns: {list(df.columns)})",
            path=path,
            variable=variable,
            fix=fix_columns,
        )
    written = region_codes(df[region_col], path=path, variable=f"{variable}.region_col")
    code = written
    if names is not None:
        known, fix = names
        unknown = sorted(set(written) - set(known))
        if unknown:
            raise InputDataError(
                f"{len(unknown)} region name(s) have no code in the names table: {unknown[:10]}",
                path=path,
                variable=variable,
                fix=fix,
            )
        code = written.map(known)
    year = parse_numbers(
        df[year_col],
        pd.DataFrame({region_label: written}),
        path=path,
        variable=variable,
        integer=True,
        fix=f"write a 4-digit year in column '{year_col}' of every row",
    )
    keep = year.isin(years)
    context = pd.DataFrame({region_label: written, "year": year.astype("Int64")})[keep]
    out = pd.DataFrame({"code": code[keep], "year": year[keep].astype(int)})
    for c in columns:
        out[c] = parse_numbers(
            df.loc[keep, c],
            context.assign(column=c),
            path=path,
            variable=variable,
            fix=f"write a number in every cell of column '{c}' for the years you run",
        )
    dup = out.duplicated(["code", "year"])
    if dup.any():
        raise InputDataError(
            f"several rows for one region and year: {sorted(out.loc[dup, 'code'].unique())[:10]}",
            path=path,
            variable=variable,
            fix="keep one row per region and year"
            + (" (two names of one region in the names table map to one code)" if names else ""),
        )
    return out


def load_socioeconomic(socio_cfg: dict, columns: list[str], years: list[int]) -> pd.DataFrame:
    """The ``socioeconomic`` table as (code, year, *columns) for ``years``
    (:func:`read_region_years`); a code without a row in one of the years gets NaN there (so
    its parents' sums are unknown, never partial)."""
    out = read_region_years(
        socio_cfg["path"],
        socio_cfg["region_col"],
        socio_cfg["year_col"],
        columns,
        years,
        variable="socioeconomic",
        fix_columns="set socioeconomic.region_col/year_col/gdp_col/population_col "
        "(or balance.cv.column) to existing columns",
    )
    full = pd.MultiIndex.from_product(
        [sorted(out["code"].unique()), sorted(years)], names=["code", "year"]
    )
    return out.set_index(["code", "year"]).reindex(full).reset_index()


POPULATION_UNITS = {"persons": 1.0, "thousand": 1e3, "ten_thousand": 1e4, "million": 1e6}


def intensity_column(currency: str) -> str:
    """The carbon intensity column of a currency: kg CO2 per unit of it."""
    return f"{INTENSITY_PREFIX}{currency.lower()}"


def gdp_column(currency: str) -> str:
    """The summed GDP column of a currency, in units of it."""
    return f"{GDP_PREFIX}{currency.lower()}"


def _intensity(
    t: pd.DataFrame, socio: pd.DataFrame, socio_cfg: dict, key: str, with_balance: bool
) -> pd.DataFrame:
    """CE (and ECS) per capita and CE per unit of GDP of every row of ``t`` (one level): the
    level's emissions over the sums of its members' population and GDP (a ratio of sums, never
    a sum or mean of the members' ratios; unknown when a member's value is), and those sums
    (persons, units of the currency: the factors of the emission decomposition)."""
    cols = [c for c in (socio_cfg.get("population_col"), socio_cfg.get("gdp_col")) if c]
    sums = sum_known(socio, [key, "year"], cols).set_index([key, "year"])
    sums = sums.reindex(pd.MultiIndex.from_frame(t[[key, "year"]]))
    out = pd.DataFrame(index=t.index)
    if socio_cfg.get("population_unit"):
        people = (
            sums[socio_cfg["population_col"]].to_numpy()
            * POPULATION_UNITS[socio_cfg["population_unit"]]
        )
        out[POPULATION_COLUMN] = people
        with np.errstate(divide="ignore", invalid="ignore"):
            out["ce_per_capita_tco2"] = t["ce_tgco2"].to_numpy() * 1e6 / people
            if with_balance:
                out["ecs_per_capita_tco2"] = t["ecs_tgco2"].to_numpy() * 1e6 / people
    if socio_cfg.get("gdp_currency"):
        money = sums[socio_cfg["gdp_col"]].to_numpy() * float(socio_cfg["gdp_scale"])
        out[gdp_column(socio_cfg["gdp_currency"])] = money
        with np.errstate(divide="ignore", invalid="ignore"):
            out[intensity_column(socio_cfg["gdp_currency"])] = (
                t["ce_tgco2"].to_numpy() * 1e9 / money
            )
    return out


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
        min_count=1
    )
    for c in frac_cols:
        g[c] = g[c] / g["region_area_km2"]
    g["outside_grid_share"] = 1.0 - g["area_km2"] / g["region_area_km2"]
    return g.drop(columns="region_area_km2").reset_index()


def group_emissions(
    em: pd.DataFrame, regions_table: pd.DataFrame, groupings: dict[str, str]
) -> pd.DataFrame:
    """The emission rows with the group of every grouping, through the code of the level it
    groups; a row whose region of that level has no polygon (an emission code without one, at
    the grouped level) cannot be placed in a group: an error naming the codes, never a CE left
    out of every group's sum."""
    for name, level in groupings.items():
        group_of = regions_table.drop_duplicates(f"{level}_code").set_index(f"{level}_code")[
            f"{name}_code"
        ]
        em[f"{name}_code"] = em[f"{level}_code"].map(group_of)
        lost = em[f"{name}_code"].isna() & em["ce_tgco2"].notna()
        if lost.any():
            codes = sorted(em.loc[lost, f"{level}_code"].astype(str).unique())
            raise InputDataError(
                f"emissions of {level} codes {codes[:10]} cannot be put in a group of "
                f"'{name}': no polygon of the region layer has these {level} codes",
                variable=f"regions.groupings.{name}",
                fix="group a coarser level, or give these emission codes a polygon "
                "(tables/emission_code_match.csv lists how each code was matched)",
            )
    return em


def _zonal_years(zonal: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """A finest-level zonal table of one year, or of the climatology fluxes (no year column:
    the same totals for every year)."""
    if "year" in zonal:
        return zonal
    return pd.concat([zonal.assign(year=y) for y in years], ignore_index=True)[
        ["code", "year"] + [c for c in zonal.columns if c != "code"]
    ]


@dataclass(frozen=True)
class RegionTree:
    """The regions a budget sums over: the finest-level table (``{level}_code`` and
    ``{level}_name`` of every level, ``{name}_code`` of every grouping, optionally
    ``inside_grid_share``), the levels finest first, and the groupings (name -> the level it
    groups: levels of their own that need not nest, so their tables have no parent codes)."""

    table: pd.DataFrame
    levels: list[str]
    groupings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str, regions_cfg: dict) -> RegionTree:
        """The tree of the finest-level table at ``path`` (rule build_regions) with the levels
        and groupings of the ``regions`` section."""
        return cls(
            read_finest_table(path), list(regions_cfg["levels"]), grouping_levels(regions_cfg)
        )

    @property
    def finest(self) -> str:
        """The finest level."""
        return self.levels[0]

    def codes(self) -> pd.DataFrame:
        """One row per finest region with the code of every level and grouping."""
        cols = [f"{lv}_code" for lv in [*self.levels, *self.groupings]]
        return self.table[cols].drop_duplicates(f"{self.finest}_code")


@dataclass(frozen=True)
class EmissionMatch:
    """How the emission table's codes reach the regions (:func:`match_emission_codes`):
    parents derived from the codes (``derive_parents``), a crosswalk from old codes, and the
    selection of regions the run keeps (``regions.select``)."""

    derive_parents: str | None = None
    crosswalk: dict[str, str] | None = None
    select: dict | None = None
    names: dict[str, str] | None = None  # code -> name of codes without a polygon


def matched_emissions(
    emissions_cfg: dict, years: list[int], regions: RegionTree, match: EmissionMatch
) -> pd.DataFrame:
    """An emission table with the code of every level, grouping and the study area of each
    row: what the budget sums (and a second source, summed the same way)."""
    em = emissions_by_region(
        emissions_cfg,
        years,
        regions.table,
        regions.levels,
        derive_parents=match.derive_parents,
        crosswalk=match.crosswalk,
        select=match.select,
    )
    em = group_emissions(em, regions.table, regions.groupings)
    em[f"{STUDY_AREA}_code"] = "all"
    return em


def build_budget(
    *,
    zonal_paths: list[str],
    years: list[int],
    regions: RegionTree,
    emissions_cfg: dict,
    socio_cfg: dict | None,
    balance_cfg: dict,
    match: EmissionMatch | None = None,
    fluxes: tuple[str, ...] = FLUX_VARS,
    statistics_paths: list[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Budget tables per level (finest ... coarsest, the groupings, the study area): one row per
    region-year.

    ``fluxes`` are the per-pixel fluxes of the run; without ECS (a run on lithology and runoff
    alone) the balance indicators are left out. Emission codes reach regions as ``match`` says
    (:func:`match_emission_codes`); a code that matches no polygon but whose parents are known
    is a row of its own (``in_region_layer`` false: CE only, no area or fluxes), so CE sums up
    the hierarchy without loss.

    ``statistics_paths``: the uncertainty model's finest-level statistics (same layout as the
    zonal tables); they are summed up the hierarchy like the fluxes, with ``ce_sq_tgco2`` (the
    sum of the members' CE²), for :func:`carbonbudget.science.uncertainty.add_intervals`."""
    match = match or EmissionMatch()
    zonal, stat_cols = _finest_totals(zonal_paths, statistics_paths, years, regions)
    em = matched_emissions(emissions_cfg, years, regions, match)
    with_balance = "ecs" in fluxes
    cv_mode: Any = balance_cfg["cv"] if with_balance else "none"
    socio = _socioeconomic(socio_cfg, cv_mode, years, regions)
    level = _LevelBudget(
        zonal=zonal,
        emissions=em,
        gaps=emissions_cfg["gaps"],
        socio=socio,
        socio_cfg=socio_cfg or {},
        cv_mode=cv_mode,
        balance_cfg=balance_cfg,
        sum_cols=["area_km2"] + [f"{v}_tgc" for v in fluxes] + stat_cols,
        fluxes=fluxes,
        regions=regions,
        statistics=bool(stat_cols),
        names=dict(match.names or {}),
    )
    tables = {lv: level.table(lv) for lv in [*regions.levels, *regions.groupings, STUDY_AREA]}
    _warn_cut(tables[regions.finest])
    _warn_ce_part(tables, regions.finest)
    tables = {lv: tab.drop(columns=["_cut"], errors="ignore") for lv, tab in tables.items()}
    for year, rows in tables[regions.finest].groupby("year"):
        rows = rows.set_index("code")
        check_emission_magnitude(
            rows["ce_tgco2"],
            rows["area_km2"],
            year=int(year),
            path=emissions_cfg["path"],
            units_key="emissions.units",
        )
    return tables


def _warn_cut(finest: pd.DataFrame) -> None:
    """One warning naming the finest regions whose fluxes another input's gap cuts."""
    if "_cut" not in finest or not finest["_cut"].any():
        return
    cut = finest[finest["_cut"]]
    worst = cut.sort_values("valid_fraction").drop_duplicates("code").head(5)
    log.warning(
        "%d region-years of %d regions have RH or NEP known on more of the region than the "
        "totals cover (another input has no value there; their status_note says which): %s",
        len(cut),
        cut["code"].nunique(),
        "; ".join(f"{r.code} {r.year}: {r.status_note}" for r in worst.itertuples()),
    )


# CE standing for less of a region's area than this is said to be so (status_note, a warning)
CE_PART_BELOW = 1.0 - 1e-9


def _ce_part(t: pd.DataFrame) -> pd.Series:
    """The region-years whose known CE stands for only part of their area."""
    share = t.get("ce_known_area_fraction")
    if share is None:
        return pd.Series(False, index=t.index)
    return t["ce_tgco2"].notna() & (share < CE_PART_BELOW)


def _note_ce_part(t: pd.DataFrame) -> pd.DataFrame:
    """status_note of the region-years whose CE sums members covering only part of the area
    (the sink is the whole region's, so CNC leans to a surplus)."""
    part = _ce_part(t)
    if not part.any() or "status_note" not in t:
        return t
    notes = [
        f"CE known on {100 * share:.1f} % of the area (members without emissions left out; "
        "the sink is the whole area's)"
        for share in t.loc[part, "ce_known_area_fraction"]
    ]
    t.loc[part, "status_note"] = [
        f"{old}; {new}" if isinstance(old, str) and old else new
        for old, new in zip(t.loc[part, "status_note"], notes)
    ]
    return t


def _warn_ce_part(tables: dict[str, pd.DataFrame], finest: str) -> None:
    """One warning naming the parents whose CE omits members: their CE (and CE per km²) is
    that of part of their area (a province without any county in the emission table)."""
    rows = []
    for level, t in tables.items():
        if level == finest:
            continue
        part = t[_ce_part(t)]
        last = part[part["year"] == part["year"].max()] if len(part) else part
        rows += [
            f"{level} {r.code}{f' {r.name}' if isinstance(r.name, str) else ''}: "
            f"{100 * r.ce_known_area_fraction:.1f} %"
            for r in last.sort_values("ce_known_area_fraction").itertuples()
        ]
    if rows:
        log.warning(
            "CE of %d parent regions sums members covering only part of their area (members "
            "without emissions are left out, their area is not): the share in the last year, "
            "%s (column ce_known_area_fraction)",
            len(rows),
            "; ".join(rows[:8]) + ("; ..." if len(rows) > 8 else ""),
        )


def _finest_totals(
    zonal_paths: list[str],
    statistics_paths: list[str] | None,
    years: list[int],
    regions: RegionTree,
) -> tuple[pd.DataFrame, list[str]]:
    """The finest-level zonal totals of every year (with the uncertainty statistics' columns,
    returned as the second item), the code of every level and grouping, and the whole area of
    each region (``region_area_km2``: a region cut by the grid edge has no known sink outside
    it)."""
    finest = regions.finest
    zonal = pd.concat(
        [_zonal_years(pd.read_parquet(p), years) for p in zonal_paths], ignore_index=True
    )
    stat_cols: list[str] = []
    if statistics_paths:
        stats = pd.concat(
            [_zonal_years(pd.read_parquet(p), years) for p in statistics_paths],
            ignore_index=True,
        )
        stat_cols = [c for c in stats.columns if c not in ("code", "year")]
        zonal = zonal.merge(stats, on=["code", "year"], how="left", validate="one_to_one")
    zonal = zonal.rename(columns={"code": f"{finest}_code"})
    zonal = zonal.merge(regions.codes(), on=f"{finest}_code", how="left", validate="many_to_one")
    zonal[f"{STUDY_AREA}_code"] = "all"
    inside = (
        regions.table.drop_duplicates(f"{finest}_code")
        .set_index(f"{finest}_code")
        .get("inside_grid_share")
    )
    zonal["region_area_km2"] = zonal["area_km2"] / (
        1.0 if inside is None else zonal[f"{finest}_code"].map(inside).astype("float64")
    )
    return zonal, stat_cols


def _socioeconomic(
    socio_cfg: dict | None, cv_mode: Any, years: list[int], regions: RegionTree
) -> pd.DataFrame | None:
    """The socio-economic columns the run needs (for Cv, per capita and intensity indicators),
    per finest region with the code of every level; None when it needs none."""
    if cv_mode != "none" and not socio_cfg:
        raise ConfigError(f"balance.cv: {cv_mode} needs a 'socioeconomic' section")
    socio_cfg = socio_cfg or {}
    columns = []
    if cv_mode == "gdp_per_capita_relative":
        columns += [socio_cfg["gdp_col"], socio_cfg["population_col"]]
    elif isinstance(cv_mode, dict):
        columns.append(cv_mode["column"])
    if socio_cfg.get("population_unit"):
        columns.append(socio_cfg["population_col"])
    if socio_cfg.get("gdp_currency"):
        columns.append(socio_cfg["gdp_col"])
    columns = list(dict.fromkeys(columns))
    if not columns:
        return None
    finest = regions.finest
    socio = load_socioeconomic(socio_cfg, columns, years)
    socio = socio.rename(columns={"code": f"{finest}_code"})
    socio = socio.merge(regions.codes(), on=f"{finest}_code", how="inner")
    socio[f"{STUDY_AREA}_code"] = "all"
    return socio


# A flux known on more of a region than it is summed over (the totals are over the pixels where
# every flux is known, so NPP = NEP + RH and ECS = NEP + RCS hold) says so in status_note when
# the difference passes this share of the region's area.
CUT_NOTE_SHARE = 0.05
# what a flux needs: the input whose gap a missing flux points to
FLUX_INPUTS = {"rh": "climate", "nep": "NPP or climate", "rcs": "runoff or lithology"}


def _note_cut_fluxes(t: pd.DataFrame, fluxes: tuple[str, ...]) -> pd.DataFrame:
    """status_note of the region-years whose RH or NEP is known on more of the region than
    the totals cover, naming the flux whose gap cut them and the shares."""
    own = {v: t[f"{v}_own_fraction"] for v in fluxes if f"{v}_own_fraction" in t}
    if not own:
        return t
    summed = t["valid_fraction"]
    # the flux known on the least of the region (none for a row without pixels: CE only)
    frame = pd.DataFrame({v: own[v] for v in own if v in FLUX_INPUTS})
    values = frame.to_numpy(dtype="float64")
    lowest = np.argmin(np.where(np.isfinite(values), values, np.inf), axis=1)
    limiter = pd.Series(
        np.where(np.isfinite(values).any(axis=1), frame.columns.to_numpy()[lowest], None),
        index=t.index,
    )
    notes = []
    for i in t.index:
        cut = [v for v in ("rh", "nep") if v in own and own[v][i] - summed[i] > CUT_NOTE_SHARE]
        lim = limiter[i]
        if not cut or not isinstance(lim, str) or lim in cut:
            notes.append("")
            continue
        notes.append(
            f"{' and '.join(v.upper() for v in cut)} summed over the {100 * summed[i]:.0f} % of "
            f"the area where every flux is known (known on "
            f"{', '.join(f'{100 * own[v][i]:.0f} %' for v in cut)}): "
            f"{lim.upper()} has no value on {100 * (1 - own[lim][i]):.0f} % "
            f"({FLUX_INPUTS[lim]} missing there)"
        )
    note = pd.Series(notes, index=t.index)
    has = note != ""
    # the cut note gives the share the sink rests on: it replaces the note that says only that
    t.loc[has, "status_note"] = [
        f"{old}; {new}" if old and not old.endswith(PARTIAL_NOTE_END) else new
        for old, new in zip(t.loc[has, "status_note"], note[has])
    ]
    t["_cut"] = has
    return t


# the columns every budget table starts with, before the parent codes
FRONT_COLUMNS = [
    "level",
    "code",
    "name",
    "year",
    "area_km2",
    "valid_fraction",
    "outside_grid_share",
]


@dataclass
class _LevelBudget:
    """What every level's table is made of; :meth:`table` sums one level."""

    zonal: pd.DataFrame
    emissions: pd.DataFrame
    gaps: str
    socio: pd.DataFrame | None
    socio_cfg: dict
    cv_mode: Any
    balance_cfg: dict
    sum_cols: list[str]
    fluxes: tuple[str, ...]
    regions: RegionTree
    statistics: bool  # the uncertainty model's statistics are summed too
    names: dict[str, str] = field(default_factory=dict)  # of codes without a polygon

    def table(self, level: str) -> pd.DataFrame:
        """The budget table of one level: fluxes and CE summed from the finest regions, the
        balance and intensity indicators, names and parent codes, columns in order."""
        key = f"{level}_code"
        t = self._sums(key)
        if "ecs" in self.fluxes:
            t = self._balance(t, key)
            t = _note_cut_fluxes(t, self.fluxes)
            t = _note_ce_part(t)
        t = t.drop(columns=[c for c in t if c.endswith("_own_fraction")])
        if self.socio_cfg.get("population_unit") or self.socio_cfg.get("gdp_currency"):
            assert self.socio is not None
            t = pd.concat(
                [t, _intensity(t, self.socio, self.socio_cfg, key, "ecs" in self.fluxes)], axis=1
            )
        t = self._named(t, level, key)
        t.insert(0, "level", level)
        parents = [c for c in t.columns if c.endswith("_code") and c != "code"]
        rest = [c for c in t.columns if c not in FRONT_COLUMNS + parents]
        return (
            t[FRONT_COLUMNS + parents + rest].sort_values(["code", "year"]).reset_index(drop=True)
        )

    def _sums(self, key: str) -> pd.DataFrame:
        """Flux totals and CE of each region-year of the level (rows of emission codes
        without a polygon: CE only), with ``valid_fraction`` and RCS in Tg CO2."""
        frac_cols = [f"{v}_valid_fraction" for v in self.fluxes]
        frac_cols += [f"{v}_own_fraction" for v in self.fluxes if f"{v}_own_fraction" in self.zonal]
        fl = _rollup(self.zonal, key, self.sum_cols, frac_cols)
        fl["in_region_layer"] = True
        em = self.emissions
        ce = sum_emissions(em, key, self.gaps)
        if self.statistics:
            # Σ CE² of the members: the variance weight of emission errors independent
            # between finest regions
            sq = sum_emissions(em.assign(ce_tgco2=em["ce_tgco2"] ** 2), key, self.gaps)
            ce = ce.merge(
                sq[[key, "year", "ce_tgco2"]].rename(columns={"ce_tgco2": "ce_sq_tgco2"}),
                on=[key, "year"],
            )
        t = fl.merge(ce, on=[key, "year"], how="outer")
        t = t.merge(self._ce_known_area(key), on=[key, "year"], how="left")
        t["in_region_layer"] = t["in_region_layer"].astype("boolean").fillna(False).astype(bool)
        # valid_fraction: share of the region's area where the last flux (ECS, or RCS in a run
        # without NPP and climate) and hence every input it needs is known
        t["valid_fraction"] = t[f"{self.fluxes[-1]}_valid_fraction"]
        t["rcs_tgco2"] = t["rcs_tgc"] * CO2_PER_C
        return t

    @functools.cached_property
    def _rows_with_ce(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(finest region, year) pairs with a known CE: by their own emission row, and by their
        own row or a CE-only row (a code without a polygon, reaching its parents by its code:
        an old code of a district since split), which stands for the members of the finest
        region with a polygon it reaches that have no row of their own. Every level's
        ``ce_known_area_fraction`` reads them: computed once."""
        fcol = f"{self.regions.finest}_code"
        em = self.emissions[self.emissions["ce_tgco2"].notna()]
        mapped = set(self.zonal[fcol])
        direct = em.loc[em[fcol].isin(mapped), [fcol, "year"]].drop_duplicates()
        covered = [direct]
        own = em[~em[fcol].isin(mapped)]
        for level in self.regions.levels[1:]:
            lcol = f"{level}_code"
            present = set(self.zonal[lcol])
            here = own[own[lcol].isin(present)][[lcol, "year"]].drop_duplicates()
            if len(here):
                members = self.zonal[[fcol, lcol, "year"]].merge(here, on=[lcol, "year"])
                covered.append(members[[fcol, "year"]])
            own = own[~own[lcol].isin(present)]
        return direct, pd.concat(covered).drop_duplicates()

    def _ce_known_area(self, key: str) -> pd.DataFrame:
        """``ce_known_area_fraction`` of each (``key``, year): the share of the region's area
        (inside the grid) whose finest regions have a known CE. A parent sums the emission
        rows it has: a member without a row (Tibet in a table that lists none of its counties)
        leaves its emissions out while its area stays in, so this share says how much of the
        region its CE stands for (:attr:`_rows_with_ce`)."""
        fcol = f"{self.regions.finest}_code"
        # a finest region is known by its own row only; a coarser one also by the rows above
        direct, with_parents = self._rows_with_ce
        known = direct if key == fcol else with_parents
        cols = list(dict.fromkeys([key, fcol, "year", "area_km2"]))
        z = self.zonal[cols].merge(known.assign(_known=True), on=[fcol, "year"], how="left")
        z["_known_area"] = z["area_km2"].where(z["_known"].notna(), 0.0)
        g = z.groupby([key, "year"], sort=True)[["_known_area", "area_km2"]].sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            share = g["_known_area"] / g["area_km2"].where(g["area_km2"] > 0)
        return share.rename("ce_known_area_fraction").reset_index()

    def _balance(self, t: pd.DataFrame, key: str) -> pd.DataFrame:
        """ECS in Tg CO2 and the balance indicators (docs/method.md, "Balance indicators")."""
        t["ecs_tgco2"] = t["ecs_tgc"] * CO2_PER_C
        ind = balance_indicators(
            t["ecs_tgco2"],
            t["ce_tgco2"],
            t["area_km2"],
            self._cv(t, key),
            float(self.balance_cfg["tolerance_tgco2"]),
            valid_fraction=t["valid_fraction"],
            min_valid_fraction=self.balance_cfg["min_valid_fraction"],
        )
        t = pd.concat([t, ind], axis=1)
        t.loc[~t["in_region_layer"], "status_note"] = (
            "an emission code without a polygon: CE only (tables/emission_code_match.csv)"
        )
        t["imbalance_risk_index"] = t["source_sink_ratio"].rank(pct=True, method="average")
        return t

    def _cv(self, t: pd.DataFrame, key: str) -> Any:
        """The CER weight Cv of every row (docs/method.md, "Balance indicators"): 1, GDP per
        capita relative to the study area's, or the mean of a column over the members."""
        if self.cv_mode == "gdp_per_capita_relative":
            assert self.socio is not None
            gdp, pop = self.socio_cfg["gdp_col"], self.socio_cfg["population_col"]
            g = sum_known(self.socio, [key, "year"], [gdp, pop]).set_index([key, "year"])
            tot = sum_known(self.socio, ["year"], [gdp, pop]).set_index("year")
            pc_all = tot[gdp] / tot[pop]
            rel = g[gdp] / g[pop] / pc_all.reindex(g.index.get_level_values("year")).values
            rel = rel.rename("cv").reset_index()
            return t[[key, "year"]].merge(rel, on=[key, "year"], how="left")["cv"].values
        if isinstance(self.cv_mode, dict):
            assert self.socio is not None
            g = self.socio.groupby([key, "year"])[self.cv_mode["column"]]
            g = g.mean().where(g.count() == g.size()).rename("cv").reset_index()
            return t[[key, "year"]].merge(g, on=[key, "year"], how="left")["cv"].values
        return 1.0

    def _named(self, t: pd.DataFrame, level: str, key: str) -> pd.DataFrame:
        """The region's name and parent codes (from the emission rows for emission codes
        without a polygon); the study area is code 'all'."""
        if level == STUDY_AREA:
            t = t.rename(columns={key: "code"})
            t["name"] = "study area"
            return t
        levels = self.regions.levels
        parent_cols = (
            [f"{p}_code" for p in levels[levels.index(level) + 1 :]] if level in levels else []
        )
        info = self.regions.table.drop_duplicates(key)[[key, f"{level}_name"] + parent_cols]
        t = t.merge(info, on=key, how="left")
        if parent_cols and not t["in_region_layer"].all():
            own = self.emissions.drop_duplicates(key).set_index(key)[parent_cols]
            t[parent_cols] = t[parent_cols].fillna(own.reindex(t[key]).reset_index(drop=True))
        t = t.rename(columns={key: "code", f"{level}_name": "name"})
        if self.names:  # a code without a polygon, named by the code list the run reads
            t["name"] = t["name"].fillna(t["code"].map(self.names))
        return t
