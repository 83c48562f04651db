"""The region hierarchy: read the finest-level polygons, derive parents, check codes
(docs/method.md, "Zonal totals").

Standard columns after :func:`read_regions`: ``{level}_code`` (str) and ``{level}_name`` for each
configured level, finest first, plus geometry in the grid CRS.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carbonbudget.core.errors import InputDataError, RegionError
from carbonbudget.core.io import atomic_output, read_text_table, region_codes

if TYPE_CHECKING:
    from typing import Any

log = logging.getLogger(__name__)


def derive_adcode_parent(codes: pd.Series, level_index: int) -> pd.Series:
    """Parent codes from Chinese 6-digit adcodes: city = first 4 digits + '00',
    province = first 2 digits + '0000' (``level_index`` 1 = city, 2 = province)."""
    keep = {1: 4, 2: 2}[level_index]
    bad = codes[~codes.str.fullmatch(r"\d{6}")]
    if len(bad):
        raise RegionError(
            f"codes {sorted(bad.unique())[:10]} are not 6-digit adcodes",
            variable="regions",
            fix="use 6-digit codes or give parent code columns",
        )
    return codes.str[:keep].str.pad(6, side="right", fillchar="0")


def read_regions(  # noqa: PLR0913 (one keyword per setting of a regions section)
    path: str,
    levels: dict,
    names: dict | None = None,
    *,
    crs: Any = None,
    derive_parents: str | None = None,
    layer: str | None = None,
    invalid_geometries: str = "repair",
    empty_geometries: str = "error",
    source_crs: str | None = None,
    select: dict | None = None,
    key: str = "regions",
) -> gpd.GeoDataFrame:
    """Read the finest-level polygon layer and return standard code/name columns per level.

    ``source_crs`` (``regions.crs``) is the CRS of the coordinates when the file carries none
    or a wrong one (GeoJSON is read as WGS84). Coordinates that cannot be longitudes and
    latitudes in a geographic CRS, and features without geometry (unless ``empty_geometries:
    drop``), are errors naming the fix; ``crs`` reprojects the result. ``select``
    (``regions.select``: ``{level, codes}``) keeps the regions whose code at that level is one
    of ``codes`` (a study area made of administrative units of a larger layer). ``key`` is the
    config section the file comes from (``region_layers.<name>`` for a region layer), named in
    the errors."""
    gdf = _read_polygons(path, layer, source_crs, key)
    level_names = list(levels)
    out = _level_columns(gdf, levels, names or {}, derive_parents, path)
    finest = f"{level_names[0]}_code"
    if select:
        out = select_regions(out, select, level_names, path)
    out = _without_empty(out, finest, empty_geometries, path)
    _check_codes_nest(out, level_names, path)
    out = _repaired(out, finest, invalid_geometries, path)
    if crs is not None:
        out = out.to_crs(crs)
    return out.sort_values(finest).reset_index(drop=True)


def _read_polygons(
    path: str, layer: str | None, source_crs: str | None, key: str = "regions"
) -> gpd.GeoDataFrame:
    """The polygon layer with its CRS (``source_crs`` declared over the file's), refusing a
    missing file, a layer without CRS and coordinates that cannot be longitudes and latitudes
    in a geographic CRS."""
    if not os.path.exists(path):
        raise InputDataError(
            "file not found", path=path, variable=key, fix=f"check {key}.path in the config"
        )
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputDataError(
            f"cannot read polygons ({exc})",
            path=path,
            variable=key,
            fix="check that the file is a valid vector layer",
        ) from exc
    if source_crs:
        gdf = gdf.set_crs(source_crs, allow_override=True)
    if gdf.crs is None:
        raise InputDataError(
            "the polygon layer has no CRS",
            path=path,
            variable=key,
            fix=f"write the layer with its CRS (e.g. EPSG:4326), or declare it with {key}.crs",
        )
    if gdf.crs.is_geographic and len(gdf) and not gdf.geometry.isna().all():
        x0, y0, x1, y1 = gdf.total_bounds
        if not (-360.0 <= x0 <= x1 <= 360.0 and -90.0 <= y0 <= y1 <= 90.0):
            raise InputDataError(
                f"coordinates reach {max(abs(x0), abs(x1)):.4g}, {max(abs(y0), abs(y1)):.4g}: "
                f"not longitudes and latitudes, but the layer's CRS ({gdf.crs.name}) is "
                "geographic (a GeoJSON file is always read as WGS84)",
                path=path,
                variable=key,
                fix=f"declare the CRS of the coordinates with {key}.crs (e.g. the projected CRS "
                "they were written in), or write the layer as a GeoPackage with its CRS",
            )
    return gdf


def _level_columns(
    gdf: gpd.GeoDataFrame, levels: dict, names: dict, derive_parents: str | None, path: str
) -> gpd.GeoDataFrame:
    """``{level}_code`` and ``{level}_name`` of every level (parents derived from the finest
    codes with ``derive_parents: adcode``; a level without a name column is named by its code)."""
    level_names = list(levels)
    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)
    for i, level in enumerate(level_names):
        col = levels[level]
        if col in gdf.columns:
            _refuse_null_codes(gdf, col, level, path)
            out[f"{level}_code"] = region_codes(
                gdf[col], path=path, variable=f"column '{col}'"
            ).values
        elif i > 0 and derive_parents == "adcode":
            out[f"{level}_code"] = derive_adcode_parent(out[f"{level_names[0]}_code"], i).values
        else:
            raise RegionError(
                f"column '{col}' for level '{level}' not found (columns: "
                f"{sorted(gdf.columns.drop('geometry'))})",
                path=path,
                variable="regions.levels",
                fix="name an existing column, or set regions.derive_parents: adcode",
            )
        ncol = names.get(level)
        out[f"{level}_name"] = (
            gdf[ncol].astype(str).values
            if ncol and ncol in gdf.columns
            else out[f"{level}_code"].values
        )
    return out


def _refuse_null_codes(gdf: gpd.GeoDataFrame, col: str, level: str, path: str) -> None:
    """A feature without a code would become the region 'nan' (or 'None'): an error counting
    them."""
    null = gdf[col].isna() | gdf[col].astype(str).str.strip().eq("")
    if null.any():
        raise RegionError(
            f"{int(null.sum())} features have no {level} code in column '{col}' (feature "
            f"numbers {[int(i) for i in np.flatnonzero(null.to_numpy())[:10]]})",
            path=path,
            variable="regions.levels",
            fix="give every feature its code, or drop the features that are not regions",
        )


def _without_empty(
    out: gpd.GeoDataFrame, finest: str, empty_geometries: str, path: str
) -> gpd.GeoDataFrame:
    """Features without geometry: an error, or dropped with a warning (``empty_geometries:
    drop``)."""
    empty = out.geometry.isna() | out.geometry.is_empty
    if not empty.any():
        return out
    bad = sorted(out.loc[empty, finest])
    if empty_geometries != "drop":
        raise RegionError(
            f"{len(bad)} features have an empty or missing geometry (codes {bad[:20]})",
            path=path,
            variable="regions",
            fix="give them their polygons, or set regions.empty_geometries: "
            "drop to leave them out (their emissions then reach no "
            "polygon)",
        )
    log.warning(
        f"{path}: dropped {len(bad)} features with an empty geometry (codes "
        f"{bad[:20]}; regions.empty_geometries: drop)"
    )
    return out[~empty]


def _check_codes_nest(out: gpd.GeoDataFrame, level_names: list[str], path: str) -> None:
    """One feature per finest code, and exactly one parent of each child at every level."""
    finest = f"{level_names[0]}_code"
    dup = out.loc[out[finest].duplicated(keep=False), finest]
    if len(dup):
        raise RegionError(
            f"duplicate {level_names[0]} codes {sorted(dup.unique())[:20]}",
            path=path,
            variable="regions",
            fix="dissolve multi-part regions into one feature per code first; if "
            f"'{level_names[0]}' is not the finest level, list regions.levels "
            "finest first (a YAML writer that sorts keys reorders them)",
        )
    for child, parent in zip(level_names[:-1], level_names[1:]):
        n_par = out.groupby(f"{child}_code")[f"{parent}_code"].nunique()
        if (n_par > 1).any():
            raise RegionError(
                f"{child} codes {sorted(n_par[n_par > 1].index)[:10]} have more than one {parent}",
                path=path,
                variable="regions",
                fix="fix the parent code columns so the hierarchy nests",
            )


def _repaired(
    out: gpd.GeoDataFrame, finest: str, invalid_geometries: str, path: str
) -> gpd.GeoDataFrame:
    """Invalid geometries: repaired with a warning, or an error (``invalid_geometries``)."""
    invalid = ~out.geometry.is_valid
    if not invalid.any():
        return out
    bad = sorted(out.loc[invalid, finest])[:10]
    if invalid_geometries != "repair":
        raise RegionError(
            f"{int(invalid.sum())} invalid geometries (codes {bad})",
            path=path,
            variable="regions",
            fix="repair them (e.g. shapely.make_valid) or set regions.invalid_geometries: repair",
        )
    log.warning(f"{path}: repaired {int(invalid.sum())} invalid geometries (codes {bad})")
    out.loc[invalid, "geometry"] = shapely.make_valid(out.loc[invalid, "geometry"].values)
    return out


def select_regions(
    regions: pd.DataFrame, select: dict, levels: list[str], path: str
) -> pd.DataFrame:
    """The rows of ``regions`` whose ``{select.level}_code`` is in ``select.codes``; a code that
    matches no region is an error naming it."""
    level = select["level"]
    if level not in levels:
        raise RegionError(
            f"regions.select.level '{level}' is not one of regions.levels {levels}",
            path=path,
            variable="regions.select",
            fix="name one of the configured levels",
        )
    codes = [str(c) for c in select["codes"]]
    col = regions[f"{level}_code"]
    absent = sorted(set(codes) - set(col))
    if absent:
        raise RegionError(
            f"regions.select names {level} codes {absent[:10]} that no region of the layer has",
            path=path,
            variable="regions.select",
            fix=f"give codes of the layer's {level} level (regions.levels)",
        )
    kept = regions[col.isin(codes)].copy()
    log.info(
        "%s: %d of %d regions selected (%s %s)",
        path,
        len(kept),
        len(regions),
        level,
        ", ".join(codes),
    )
    return _name_clipped_parents(kept, regions, level, levels)


def _plural(level: str) -> str:
    word = level.replace("_", " ")
    return f"{word[:-1]}ies" if word.endswith("y") else f"{word}s"


def _name_clipped_parents(
    kept: pd.DataFrame, regions: pd.DataFrame, level: str, levels: list[str]
) -> pd.DataFrame:
    """A region of a level coarser than the selected one that keeps only some of its members
    is named as a part ("山东省 (part: 4 of 16 cities)") in every table, chart and map: its
    budget is that of the selection, not of the whole province."""
    col = f"{level}_code"
    clipped = []
    for coarser in levels[levels.index(level) + 1 :]:
        pcol, ncol = f"{coarser}_code", f"{coarser}_name"
        whole = regions.groupby(pcol)[col].nunique()
        have = kept.groupby(pcol)[col].nunique()
        part = have[have < whole.reindex(have.index)]
        for code, n in part.items():
            rows = kept[pcol] == code
            name = kept.loc[rows, ncol].iloc[0] if ncol in kept else None
            label = f"part: {n} of {whole[code]} {_plural(level)}"
            kept.loc[rows, ncol] = f"{name} ({label})" if isinstance(name, str) else f"({label})"
            clipped.append(f"{coarser} {code} {name if isinstance(name, str) else ''} ({label})")
    if clipped:
        log.info("the selection keeps part of: %s", "; ".join(clipped))
    return kept


def config_derive_parents(reg: dict) -> str | None:
    """``regions.derive_parents`` of the config as the functions take it (None for 'none')."""
    derive = reg["derive_parents"]
    return None if derive == "none" else derive


def read_finest_table(path: str) -> pd.DataFrame:
    """The finest-level code/name columns of the ``regions`` layer, without geometry (reading
    1.5 million vertices to drop them costs seconds at country size)."""
    # lazy: pyogrio costs a second of start-up; only jobs that read polygons need it
    import pyogrio

    return pyogrio.read_dataframe(path, layer="regions", read_geometry=False)


def apply_groupings(regions: pd.DataFrame, groupings: dict, levels: list[str]) -> pd.DataFrame:
    """``regions`` with ``{name}_code`` and ``{name}_name`` of every grouping
    (``regions.groupings``: name -> {level, table, code_col, group_col, name_col}). Every
    region of the grouped level must be in exactly one row of the table: a region without a
    group would drop out of every group's sum, and one listed twice would count in two. Rows
    of codes the layer does not have (a national table used for a part of the country) are
    left out and logged."""
    out = regions.copy()
    for name, g in groupings.items():
        path, level = g["table"], g["level"]
        if level not in levels:
            raise RegionError(
                f"regions.groupings.{name}.level '{level}' is not one of regions.levels {levels}",
                variable="regions.groupings",
                fix="name the level whose codes the table lists",
            )
        table = read_text_table(path, f"regions.groupings.{name}")
        cols = [g["code_col"], g["group_col"]]
        absent = [c for c in cols if c not in table.columns]
        if absent:
            raise RegionError(
                f"columns {absent} not found (columns: {list(table.columns)})",
                path=path,
                variable=f"regions.groupings.{name}",
                fix="set code_col and group_col to the table's columns",
            )
        code = region_codes(
            table[g["code_col"]], path=path, variable=f"regions.groupings.{name}.code_col"
        )
        group = table[g["group_col"]].astype(str).str.strip()
        empty = group.eq("") | table[g["group_col"]].isna()
        if empty.any():
            raise RegionError(
                f"{level} codes {sorted(code[empty])[:20]} have no group",
                path=path,
                variable=f"regions.groupings.{name}",
                fix=f"give every row a value in '{g['group_col']}'",
            )
        twice = sorted(code[code.duplicated()].unique())
        if twice:
            raise RegionError(
                f"{level} codes {twice[:20]} are listed more than once",
                path=path,
                variable=f"regions.groupings.{name}",
                fix="list every region in one group only",
            )
        have = pd.Series(out[f"{level}_code"].unique())
        missing = sorted(have[~have.isin(code)])
        if missing:
            raise RegionError(
                f"{level} codes {missing[:20]} of the region layer have no group"
                + (f" ({len(missing)} in all)" if len(missing) > 20 else ""),
                path=path,
                variable=f"regions.groupings.{name}",
                fix="add a row for each (a group of their own if they belong to none)",
            )
        extra = sorted(set(code) - set(have))
        if extra:
            log.info(
                "%s: %d codes not in the region layer left out (%s)",
                path,
                len(extra),
                ", ".join(extra[:10]),
            )
        names = (
            table[g["name_col"]].astype(str).str.strip()
            if g["name_col"] in table.columns
            else group
        )
        name_of = _group_names(group, names, path, f"regions.groupings.{name}")
        group_of = dict(zip(code, group))
        out[f"{name}_code"] = out[f"{level}_code"].map(group_of)
        out[f"{name}_name"] = out[f"{name}_code"].map(name_of)
    return out


def _group_names(group: pd.Series, names: pd.Series, path: str, variable: str) -> dict:
    """Group code -> its name; a group code given two names is an error naming both (the map
    would show one of them at random)."""
    pairs = pd.DataFrame({"group": group, "name": names}).drop_duplicates()
    clash = pairs[pairs["group"].duplicated(keep=False)]
    if len(clash):
        listed = "; ".join(
            f"{g}: {', '.join(sorted(rows['name']))}" for g, rows in clash.groupby("group")
        )
        raise RegionError(
            f"group codes with more than one name: {listed}",
            path=path,
            variable=variable,
            fix="give each group code one name in every row",
        )
    return dict(zip(pairs["group"], pairs["name"]))


def overlapping_pairs(polys: gpd.GeoDataFrame, code_col: str, max_share: float) -> pd.DataFrame:
    """Pairs of polygons whose shared area exceeds ``max_share`` of the smaller one: (code_a,
    code_b, shared area and share of the smaller, in the layer's CRS units), code_a < code_b.
    Candidates come from a spatial index; touching neighbours share no area."""
    geoms = polys.geometry.values
    left, right = polys.sindex.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    # most candidates are neighbours that only touch: a DE-9IM test of their interiors drops
    # them at a third of the cost of building each pair's intersection
    shapes = np.asarray(geoms)
    inside = shapely.relate_pattern(shapes[left], shapes[right], "T********")
    left, right = left[inside], right[inside]
    if not len(left):
        return pd.DataFrame(columns=["code_a", "code_b", "shared_area", "share_of_smaller"])
    shared = shapely.area(shapely.intersection(shapes[left], shapes[right]))
    smaller = np.minimum(shapely.area(shapes[left]), shapely.area(shapes[right]))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(smaller > 0, shared / smaller, 0.0)
    over = share > max_share
    codes = polys[code_col].to_numpy()
    a, b = codes[left[over]], codes[right[over]]
    out = pd.DataFrame(
        {
            "code_a": [min(x, y) for x, y in zip(a, b)],
            "code_b": [max(x, y) for x, y in zip(a, b)],
            "shared_area": shared[over],
            "share_of_smaller": share[over],
        }
    )
    return out.sort_values("shared_area", ascending=False).reset_index(drop=True)


def resolve_overlaps(
    polys: gpd.GeoDataFrame,
    code_col: str,
    *,
    policy: str,
    max_share: float,
    path: str,
    variable: str,
) -> gpd.GeoDataFrame:
    """Polygons that overlap beyond ``max_share`` of the smaller one would be summed twice: an
    error naming the pairs and their shared area (``policy`` error), or (``first``) each shared
    part kept by the region whose code sorts first and cut from the other, with a warning."""
    pairs = overlapping_pairs(polys, code_col, max_share)
    if pairs.empty:
        return polys
    km2 = 1e-6 if polys.crs is not None and polys.crs.is_projected else None
    listed = ", ".join(
        f"{r.code_a} and {r.code_b} ("
        + (f"{r.shared_area * km2:,.1f} km², " if km2 else "")
        + f"{100 * r.share_of_smaller:.1f} % of the smaller)"
        for r in pairs.head(10).itertuples()
    )
    more = f" and {len(pairs) - 10} more" if len(pairs) > 10 else ""
    if policy != "first":
        raise RegionError(
            f"{len(pairs)} pairs of polygons overlap: {listed}{more}; the shared area would be "
            "summed into both regions and twice into every parent",
            path=path,
            variable=variable,
            fix=f"correct the polygons, or set {variable}.overlaps: first to give each shared "
            f"part to the region whose code sorts first (slivers below {variable}."
            "max_overlap_share are left as they are)",
        )
    log.warning(
        "%s: %d pairs of polygons overlap (%s%s); each shared part stays with the region whose "
        "code sorts first (%s.overlaps: first)",
        path,
        len(pairs),
        listed,
        more,
        variable,
    )
    out = polys.copy()
    index = {c: i for i, c in enumerate(out[code_col])}
    for r in pairs.itertuples():
        ia, ib = index[r.code_a], index[r.code_b]
        cut = shapely.make_valid(shapely.difference(out.geometry.iloc[ib], out.geometry.iloc[ia]))
        # a difference can leave lines and points where the two touch: keep the area
        parts = [g for g in shapely.get_parts(cut) if g.geom_type in ("Polygon", "MultiPolygon")]
        out.loc[out.index[ib], "geometry"] = shapely.union_all(parts)
    return out


def read_config_regions(
    reg: dict, crs: Any = None, *, check_overlaps: bool = True
) -> gpd.GeoDataFrame:
    """:func:`read_regions` with the ``regions`` section of the config (in ``crs`` if given),
    with the code and name columns of every grouping (:func:`apply_groupings`); returns
    (polygons, level names finest first, derive_parents or None). ``check_overlaps`` False,
    for a caller that reads only the codes and names: the overlaps are neither tested nor cut
    (the regions check reports them, once; on 2,800 counties the test is 4 s of 5)."""
    derive = config_derive_parents(reg)
    regions = read_regions(
        reg["path"],
        reg["levels"],
        reg.get("names"),
        crs=crs,
        derive_parents=derive,
        layer=reg.get("layer"),
        invalid_geometries=reg["invalid_geometries"],
        empty_geometries=reg["empty_geometries"],
        source_crs=reg.get("crs"),
        select=reg.get("select"),
    )
    finest = list(reg["levels"])[0]
    if check_overlaps:
        regions = resolve_overlaps(
            regions,
            f"{finest}_code",
            policy=reg["overlaps"],
            max_share=reg["max_overlap_share"],
            path=reg["path"],
            variable="regions",
        )
    regions = apply_groupings(regions, reg.get("groupings") or {}, list(reg["levels"]))
    return regions, list(reg["levels"]), derive


def write_checked_regions(regions: gpd.GeoDataFrame, path: str) -> None:
    """The regions of :func:`read_config_regions` as GeoParquet (:func:`read_checked_regions`):
    the geometries as WKB, every coordinate as read, so that a job that reads them gets the
    polygons the checks passed, without reading, checking and cutting them again."""
    with atomic_output(path) as tmp:
        regions.to_parquet(tmp, index=False)


def read_checked_regions(path: str, crs: Any) -> gpd.GeoDataFrame:
    """The regions :func:`write_checked_regions` stored, in ``crs``, the CRS they were written
    in (given again as the caller defines it: GeoParquet stores it as PROJJSON, whose WKT need
    not be the same text, and the coverage cache key digests that text)."""
    regions = gpd.read_parquet(path)
    return regions.set_crs(crs, allow_override=True)


def level_table(regions: gpd.GeoDataFrame, levels: list[str], level: str) -> pd.DataFrame:
    """One row per region of ``level``: its code, name and the codes of its parents (sorted); a
    grouping (not in ``levels``) has no parents: it need not nest in the hierarchy."""
    i = levels.index(level) if level in levels else len(levels)
    cols = [f"{level}_code", f"{level}_name"] + [f"{p}_code" for p in levels[i + 1 :]]
    tab = pd.DataFrame(regions[cols]).drop_duplicates(f"{level}_code")
    return tab.sort_values(f"{level}_code").reset_index(drop=True)


def dissolve_level(
    regions: gpd.GeoDataFrame,
    levels: list[str],
    level: str,
    members: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Polygons of ``level`` as the union of their members: the finest-level polygons, or
    ``members``, the dissolved polygons of a finer level carrying ``{level}_code`` (the same
    union from fewer, larger pieces: provinces from 339 cities take half the time of provinces
    from 2,800 counties)."""
    tab = level_table(regions, levels, level)
    source = regions if members is None else members
    geom = source.dissolve(by=f"{level}_code")[["geometry"]].reset_index()
    return gpd.GeoDataFrame(
        tab.merge(geom, on=f"{level}_code"), geometry="geometry", crs=regions.crs
    )


def level_layer(level: str) -> str:
    """Name of the layer holding the polygons of ``level`` in the regions GeoPackage."""
    return f"level_{level}"


def read_level_polygons(path: str, level: str) -> gpd.GeoDataFrame:
    """Polygons of ``level`` with a ``code`` column, from the layer ``level_polygons`` wrote
    (dissolved once there; dissolving the provinces of ~2,800 counties takes seconds)."""
    return _read_level_layer(path, level_layer(level), level)


def _read_level_layer(path: str, layer: str, level: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    return gdf.rename(columns={f"{level}_code": "code"})


def display_layer(level: str) -> str:
    """Name of the layer holding the map-drawing polygons of ``level``."""
    return f"display_{level}"


def display_geometries(polys: gpd.GeoDataFrame, resolution: float) -> gpd.GeoDataFrame:
    """Polygons simplified for drawing maps, never for computing: Douglas-Peucker with a
    tolerance of half a pixel or 1/1500 of the layer's width (half a screen pixel of a 7.5-inch
    map at 100 dpi), whichever is larger. Per polygon and without topology repair (a shared-edge
    coverage simplification is far slower; docs/performance.md): gaps it may open between
    neighbours are below a screen pixel. A polygon that
    would vanish keeps its original shape."""
    minx, _, maxx, _ = polys.total_bounds
    tol = max(resolution / 2.0, (maxx - minx) / 1500.0)
    out = polys.copy()
    simple = polys.geometry.simplify(tol, preserve_topology=False)
    out["geometry"] = simple.where(~simple.is_empty, polys.geometry)
    return out


def read_display_polygons(path: str, level: str) -> gpd.GeoDataFrame:
    """The map-drawing polygons of ``level`` (``code`` column), from ``level_polygons``."""
    return _read_level_layer(path, display_layer(level), level)


def read_finest(path: str) -> gpd.GeoDataFrame:
    """The finest-level polygons with every level's code and name columns."""
    return gpd.read_file(path, layer="regions", engine="pyogrio")
