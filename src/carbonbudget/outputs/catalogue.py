"""Which maps and quick looks a run draws, decided from the configuration alone.

Light on purpose: the Snakefile imports it to name the outputs of the map rules, so it pulls in
neither matplotlib nor geopandas (its words come from the equally light language module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from carbonbudget.outputs.language import quantity_phrase

if TYPE_CHECKING:
    from collections.abc import Sequence


def trend_variable(fluxes: Sequence[str]) -> str:
    """The region series the trend figures and maps show: CNC, or CE in a run without ECS."""
    return "cnc_tgco2" if "ecs" in fluxes else "ce_tgco2"


MAP_KINDS = ("ecs", "ce", "cnc", "cer", "cnc_trend")


# what the report lists each map of a level as
MAP_TITLES = {
    "ecs": "Ecosystem carbon sink (ECS)",
    "ce": "Carbon emissions (CE)",
    "cnc": "Carbon neutral capacity (CNC)",
    "cer": "Carbon emission risk (CER)",
    "rcs": "Rock-weathering carbon sink (RCS)",
    "cnc_trend": "Trend class of CNC",
    "ce_trend": "Trend class of CE",
    "p_surplus": "Probability of a surplus",
    "ce_drivers": "Main driver of the change of CE",
    "ce_compare": "A second emission source against the table",
}


# what a LISA cluster of high (HH) and of low (LL) values of a variable is, for the captions
CLUSTERS = {
    "cnc": ("a surplus cluster", "a deficit cluster"),
    "ce": ("a cluster of large emitters", "a cluster of small emitters"),
    "ecs": ("a cluster of strong sinks", "a cluster of weak sinks"),
}


def cluster_words(variable: str) -> dict[str, str]:
    """The words a LISA or Gi* caption uses for ``variable``: the quantity, and what its HH
    and LL clusters are (a surplus cluster is a cluster of high CNC, not of high CE)."""
    hh, ll = CLUSTERS.get(
        variable.split("_")[0], ("a cluster of high values", "a cluster of low values")
    )
    return {"quantity": quantity_phrase(variable).render("en"), "hh": hh, "ll": ll}


def spatial_map_title(kind: str, variable: str) -> str:
    """What the report lists a LISA (``kind`` lisa) or Gi* (hotspots) map of ``variable`` as:
    the quantity in words, not its column name."""
    what = quantity_phrase(variable).render("en")
    return f"LISA clusters of {what}" if kind == "lisa" else f"Hot and cold spots (Gi*) of {what}"


RCS_ONLY_MAP_KINDS = ("ce", "rcs", "ce_trend")  # a run without NPP and climate (no ECS)


def map_kinds(
    fluxes: Sequence[str],
    uncertainty: bool = False,
    decomposition: bool = False,
    compare: bool = False,
) -> tuple[str, ...]:
    """The maps a run draws per level: the balance maps, or CE and RCS without ECS; with the
    uncertainty model, the probability of a surplus too; with the emission decomposition, the
    main driver of the change of CE; with a second emission source, its difference."""
    drivers: tuple[str, ...] = ("ce_drivers",) if decomposition else ()
    drivers += ("ce_compare",) if compare else ()
    if "ecs" not in fluxes:
        return RCS_ONLY_MAP_KINDS + drivers
    return MAP_KINDS + (("p_surplus",) if uncertainty else ()) + drivers


def layer_map_kinds(fluxes: Sequence[str], grid_ce: bool) -> tuple[str, ...]:
    """The maps of an independent region layer: those of the regions when emissions reach it
    from the grid (no interval: the uncertainty model is the hierarchy's), else its sink."""
    if grid_ce:
        return tuple(k for k in map_kinds(fluxes) if k != "p_surplus")
    return ("ecs",) if "ecs" in fluxes else ("rcs",)


def decomposition_rasters(change_path, first: int, last: int) -> dict[str, tuple]:
    """The per-pixel parts of the change of RH the report shows in its decomposition section
    (``change_path(part, first, last)``: their rasters), each with its title and unit."""
    words = {"rh_temperature": "temperature", "rh_precipitation": "precipitation"}
    return {
        f"pixel_delta_{part}": (
            change_path(part, first, last),
            f"Change of heterotrophic respiration due to {word}, {first}–{last}",
            "g C m⁻² yr⁻¹",
            "reversed",  # more respiration, less sink: red
        )
        for part, word in words.items()
    }


def quicklook_rasters(
    periods: dict[str, str],
    trend_vars: Sequence[str],
    flux_path,
    trend_path,
    cnc_year: str | None = None,
    ce_year: str | None = None,
) -> dict[str, tuple[str, str, str, bool]]:
    """The per-pixel rasters the report shows: ECS, NEP and RCS (those computed; ``periods``
    maps each to the period shown: the last year, or the climatology), CNC of ``cnc_year``
    when the emissions are on the grid (CE of ``ce_year`` when there is no sink), and the OLS
    slope of ECS (or of the first trend variable), each with its title and unit."""
    names = {
        "ecs": "Ecosystem carbon sink (ECS)",
        "nep": "Net ecosystem productivity (NEP)",
        "rcs": "Rock-weathering carbon sink (RCS)",
    }
    out = {}
    for var in ("ecs", "nep", "rcs"):
        if var in periods:
            when = "from climatologies" if not periods[var].isdigit() else periods[var]
            out[f"pixel_{var}"] = (
                flux_path(var, periods[var]),
                f"{names[var]}, {when}",
                "g C m⁻² yr⁻¹",
                var != "rcs",
            )
    if ce_year and not cnc_year:  # CE on the grid without a sink (CNC shows it otherwise)
        out["pixel_ce"] = (
            flux_path("ce", ce_year),
            f"Carbon emissions per pixel, each region's CE spread by the weights, {ce_year}",
            "t CO2 km⁻² yr⁻¹",
            False,
        )
    if cnc_year:
        out["pixel_cnc"] = (
            flux_path("cnc", cnc_year),
            f"Carbon neutral capacity per pixel (CNC = ECS − CE), {cnc_year}",
            "t CO2 km⁻² yr⁻¹",
            True,
        )
    if trend_vars:
        var = "ecs" if "ecs" in trend_vars else trend_vars[0]
        name = names.get(var, var.upper())
        out[f"trend_{var}"] = (
            trend_path(var, "slope"),
            f"Trend of the {name[0].lower()}{name[1:]}: OLS slope per year",
            "g C m⁻² yr⁻²",
            True,
        )
    return out
