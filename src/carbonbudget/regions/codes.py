"""Region-code reconciliation: crosswalks between administrative divisions and the match report.

Emission tables and polygons usually come from different years of the administrative division
(the CEADs county table uses the 2010 codes, current boundaries the codes of today). A crosswalk
maps each old code to the code of the polygon that now covers it (many-to-one allowed: merged
counties share a new code).

:func:`build_crosswalk` derives one from the official code list of the old division (GB/T 2260
lists give code and name only, no change records), against the codes and names of the region
layer, in this order:

1. ``same_code``: the old code is a region of the layer;
2. ``same_name_city``: exactly one *new* region (its code is not in the old list: an existing
   unit with the same name is a different place, e.g. the two 桥东区 of Shijiazhuang and
   Zhangjiakou) of the same parent city (first four digits) has the same name once the unit
   suffix is removed (a county that became a district, 县 → 区, keeps its name:
   芜湖市繁昌县 340222 → 繁昌区 340212);
3. ``same_name_province``: the same inside the province (a county moved to another city:
   巢湖市庐江县 341421 → 合肥市庐江县 340124);
4. otherwise unmatched (``new_code`` empty): merged, split or renamed units cannot be traced from
   code lists alone; their emissions still reach their city and province through their own code
   (see :func:`carbonbudget.science.balance.match_emission_codes`) and the match report lists them.

No package does this (the GB2260 projects publish the lists, not crosswalks), hence the code here.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import pandas as pd

from carbonbudget.core.errors import InputDataError
from carbonbudget.core.io import read_table, region_codes

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

# Generic district names that say nothing about the place (城区 "urban district", 市辖区 "districts
# under the city"...): never matched by name.
GENERIC_NAMES = {"市辖区", "城区", "郊区", "矿区", "新区", "开发区"}
# Unit suffixes of Chinese county-level names, longest first (自治县 before 县).
_SUFFIXES = ("自治县", "自治旗", "特区", "林区", "县", "区", "市", "旗")
_SUFFIX_RE = re.compile("(" + "|".join(_SUFFIXES) + ")$")

MATCH_KINDS = ("direct", "crosswalk", "unmatched", "outside_selection")


def name_stem(name: str) -> str:
    """A county-level name without its unit suffix ('繁昌县' and '繁昌区' → '繁昌'; a one-character
    stem keeps its suffix: '和县' stays '和县', since '和' would match unrelated names)."""
    name = str(name).strip()
    stem = _SUFFIX_RE.sub("", name)
    return stem if len(stem) >= 2 else name


def build_crosswalk(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Crosswalk old → new code from two (code, name) tables; see the module docstring.

    Returns one row per old code (sorted): ``old_code``, ``old_name``, ``new_code`` (empty when
    unmatched), ``new_name``, ``method``.
    """
    for label, tab in (("old", old), ("new", new)):
        if not {"code", "name"} <= set(tab.columns):
            raise ValueError(f"{label} table needs columns code and name, got {list(tab.columns)}")
    old = old.assign(code=old["code"].astype(str).str.strip()).drop_duplicates("code")
    new = new.assign(code=new["code"].astype(str).str.strip()).drop_duplicates("code")
    new_names = dict(zip(new["code"], new["name"]))
    cand = new[~new["code"].isin(set(old["code"])) & ~new["name"].isin(GENERIC_NAMES)]
    cand = cand.assign(
        stem=cand["name"].map(name_stem), city=cand["code"].str[:4], province=cand["code"].str[:2]
    )
    by_city = cand.groupby(["city", "stem"])["code"].agg(list).to_dict()
    by_prov = cand.groupby(["province", "stem"])["code"].agg(list).to_dict()
    rows = []
    for code, name in zip(old["code"], old["name"]):
        stem = name_stem(name)
        if code in new_names:
            target, method = code, "same_code"
        elif name in GENERIC_NAMES:
            target, method = "", "unmatched"
        elif len(hit := by_city.get((code[:4], stem), [])) == 1:
            target, method = hit[0], "same_name_city"
        elif len(hit := by_prov.get((code[:2], stem), [])) == 1:
            target, method = hit[0], "same_name_province"
        else:
            target, method = "", "unmatched"
        rows.append((code, name, target, new_names.get(target, ""), method))
    out = pd.DataFrame(rows, columns=["old_code", "old_name", "new_code", "new_name", "method"])
    return out.sort_values("old_code").reset_index(drop=True)


def read_code_list(path: str, code_col: str, name_col: str) -> pd.DataFrame:
    """An official code list (CSV or tab-separated) as (code, name); county-level codes only
    (6 digits not ending in '00': province and prefecture rows are dropped)."""
    sep = "\t" if str(path).endswith((".tsv", ".tab")) else ","
    tab = read_table(path, "emissions.crosswalk.old_codes", dtype=str, sep=sep)
    missing = [c for c in (code_col, name_col) if c not in tab.columns]
    if missing:
        raise InputDataError(
            f"columns {missing} not found (columns: {list(tab.columns)})",
            path=path,
            variable="emissions.crosswalk",
            fix="set emissions.crosswalk.code_col and name_col",
        )
    out = pd.DataFrame(
        {
            "code": region_codes(tab[code_col], path=path, variable="emissions.crosswalk.code_col"),
            "name": tab[name_col].astype(str).str.strip(),
        }
    )
    return out[out["code"].str.fullmatch(r"\d{6}") & ~out["code"].str.endswith("00")]


def read_crosswalk(path: str) -> dict[str, str]:
    """Old code → new code from a crosswalk CSV (columns old_code, new_code; rows with an empty
    new_code are unmatched and left out). An old code with two new codes is an error."""
    tab = read_table(path, "emissions.crosswalk", dtype=str, keep_default_na=False)
    if not {"old_code", "new_code"} <= set(tab.columns):
        raise InputDataError(
            f"a crosswalk needs columns old_code and new_code (columns: {list(tab.columns)})",
            path=path,
            variable="emissions.crosswalk",
            fix="rename the columns, or build one from an official code list "
            "(emissions.crosswalk.old_codes)",
        )
    tab = tab[tab["new_code"].str.strip() != ""]
    tab = tab.assign(old_code=tab["old_code"].str.strip(), new_code=tab["new_code"].str.strip())
    clash = tab.groupby("old_code")["new_code"].nunique()
    if (clash > 1).any():
        raise InputDataError(
            f"old codes {sorted(clash[clash > 1].index)[:10]} map to more than one new code",
            path=path,
            variable="emissions.crosswalk",
            fix="a crosswalk is many-to-one: give each old code one new code "
            "(split units cannot be crosswalked; leave them unmatched)",
        )
    return dict(zip(tab["old_code"], tab["new_code"]))


def read_crosswalk_names(path: str) -> dict[str, str]:
    """Old code → its name, from a crosswalk with an ``old_name`` column (the one the pipeline
    builds from an official code list has it); empty without one. Names the emission rows that
    reach no polygon (a district code since split or renamed)."""
    tab = read_table(path, "emissions.crosswalk", dtype=str, keep_default_na=False)
    if not {"old_code", "old_name"} <= set(tab.columns):
        return {}
    tab = tab[tab["old_name"].str.strip() != ""]
    return dict(zip(tab["old_code"].str.strip(), tab["old_name"].str.strip()))


def classify_codes(
    codes: pd.Series, region_codes: Iterable[str], crosswalk: dict[str, str] | None
) -> tuple[pd.Series, pd.Series]:
    """How each code reaches a region: ``direct`` (it is a region), ``crosswalk`` (the crosswalk
    maps it to a region) or ``unmatched``; and the region it reaches (its own code when
    unmatched). The one rule :func:`match_report` and
    :func:`carbonbudget.science.balance.match_emission_codes` share."""
    region_codes = set(region_codes)
    walked_to = codes.map(crosswalk or {})
    direct = codes.isin(region_codes)
    walked = ~direct & walked_to.isin(region_codes)
    match = (
        pd.Series("unmatched", index=codes.index).mask(walked, "crosswalk").mask(direct, "direct")
    )
    return match, codes.where(~walked, walked_to)


def match_report(
    emissions: pd.DataFrame, region_codes: Iterable[str], crosswalk: dict[str, str] | None
) -> pd.DataFrame:
    """How each emission code reaches a polygon (:func:`classify_codes`), with its total
    emission over the years (``ce_tgco2``) and its share of the table's total (``share``);
    ``region_code`` is empty when unmatched. ``emissions`` has columns code, year, ce_tgco2."""
    tot = emissions.groupby("code", sort=True)["ce_tgco2"].sum()
    codes = pd.Series(tot.index, index=tot.index)
    match, region = classify_codes(codes, region_codes, crosswalk)
    rep = pd.DataFrame(
        {
            "code": tot.index,
            "match": match.values,
            "region_code": region.where(match != "unmatched", "").values,
            "ce_tgco2": tot.values,
        }
    )
    rep["share"] = rep["ce_tgco2"] / max(float(rep["ce_tgco2"].sum()), 1e-300)
    return rep


def match_summary(report: pd.DataFrame) -> dict:
    """Codes and emission share per kind of match (the numbers the run log and checks report)."""
    out = {}
    for kind in MATCH_KINDS:
        sel = report[report["match"] == kind]
        out[kind] = {"codes": int(len(sel)), "share": float(sel["share"].sum())}
    return out
