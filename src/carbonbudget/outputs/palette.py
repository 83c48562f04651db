"""Every colour the outputs use, in one place, so a variable keeps one colour meaning across the
PNG maps, the charts, the GeoPackage styles and the per-pixel rasters.

The palettes are ColorBrewer's, chosen for the common colour-vision deficiencies.
"""

from __future__ import annotations

import math

# One colour meaning on every map: what helps a region's balance (a sink, a surplus, a sink or
# CNC rising, emissions falling) is blue, what hurts it (emissions, risk, a deficit, a sink
# falling) is red; pale is neutral, grey is "no value". ColorBrewer RdBu, which stays readable
# with the common colour-vision deficiencies (red/green pairs do not).
GOOD = ("#d1e5f0", "#67a9cf", "#2166ac")  # light to strong
BAD = ("#fddbc7", "#ef8a62", "#b2182b")
NEUTRAL = "#f7f7f7"
NOT_SIGNIFICANT = "#eeeeee"

# Variables whose larger values hurt the balance; every other variable (ECS, NEP, NPP, RCS, CNC)
# helps it as it grows.
HIGHER_IS_WORSE = ("ce", "cer", "rh", "emissions")


def higher_is_better(variable: str) -> bool:
    """Whether a larger value of ``variable`` (a column such as ``cnc_tgco2`` or a name such as
    ``ce``) helps the balance."""
    return variable.split("_")[0].lower() not in HIGHER_IS_WORSE


def _high_low(variable: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The colours of the high and the low side of ``variable``."""
    return (GOOD, BAD) if higher_is_better(variable) else (BAD, GOOD)


def lisa_colours(variable: str) -> dict[str, str]:
    """Colours of the LISA clusters of ``variable``: a cluster of high values takes the colour
    its high values have on the variable's own map (a CNC surplus cluster is blue as a surplus
    is; an emission hot cluster is red), outliers the lighter shade of their own value."""
    high, low = _high_low(variable)
    return {
        "HH": high[2],
        "HL": high[1],
        "LH": low[1],
        "LL": low[2],
        "not significant": NOT_SIGNIFICANT,
        "not computed": "#ffffff",
    }


def gi_colours(variable: str) -> dict[str, str]:
    """Colours of the Getis–Ord Gi* classes of ``variable``, on the same rule as
    :func:`lisa_colours`: a hot spot takes the colour of high values of the variable."""
    high, low = _high_low(variable)
    return {
        "hot spot 99%": high[2],
        "hot spot 95%": high[1],
        "hot spot 90%": high[0],
        "not significant": NOT_SIGNIFICANT,
        "cold spot 90%": low[0],
        "cold spot 95%": low[1],
        "cold spot 99%": low[2],
        "not computed": "#ffffff",
    }


def trend_class_colours(variable: str) -> dict[str, str]:
    """Colours of the trend classes of Zhang et al. (2022) for ``variable``: an increase of CNC
    (or of a sink) is blue and its decreases red, by strength; for emissions the other way."""
    up, down = _high_low(variable)
    return {
        "increase": up[2],
        "no change": NEUTRAL,
        "slight decrease": down[0],
        "significant decrease": down[1],
        "sharp decrease": down[2],
        "undetermined": "#cccccc",
    }


# Period-mean maps per level: (total column, density column, colour map, centre of a
# diverging scale or None, what it shows, unit of the total, unit of the density). Densities are
# the default (outputs.maps.values): a total makes a large region look important. The colour
# maps are ColorBrewer's, readable with the common colour-vision deficiencies.
BUDGET_MAPS: dict[str, tuple[str, str, str, float | None, str, str, str]] = {
    "ecs": (
        "ecs_tgco2",
        "ecs_flux_tco2_km2",
        "Greens",
        None,
        "Ecosystem carbon sink (ECS)",
        "Tg CO2 yr⁻¹",
        "t CO2 km⁻² yr⁻¹",
    ),
    "ce": (
        "ce_tgco2",
        "ce_flux_tco2_km2",
        "Oranges",
        None,
        "Carbon emissions (CE)",
        "Tg CO2 yr⁻¹",
        "t CO2 km⁻² yr⁻¹",
    ),
    "cnc": (
        "cnc_tgco2",
        "cnc_flux_tco2_km2",
        "RdBu",
        0.0,
        "Carbon neutral capacity (CNC = ECS − CE)",
        "Tg CO2 yr⁻¹",
        "t CO2 km⁻² yr⁻¹",
    ),
    "cer": (
        "cer",
        "cer",
        "RdBu_r",
        1.0,
        "Carbon emission risk (CER = CE / ECS × Cv)",
        "ratio",
        "ratio",
    ),
    "rcs": (
        "rcs_tgco2",
        "rcs_flux_tco2_km2",
        "YlGn",
        None,
        "Rock-weathering carbon sink (RCS)",
        "Tg CO2 yr⁻¹",
        "t CO2 km⁻² yr⁻¹",
    ),
}


# Classes of P(CNC > 0): the tails of the 95 % interval (robust), of the 90 % interval, and the
# two sides of an even chance (ColorBrewer RdBu, red = deficit as the CNC maps)
P_SURPLUS_CLASSES = {
    "< 2.5 %: deficit, robust": (0.0, 0.025, "#b2182b"),
    "2.5 – 5 %": (0.025, 0.05, "#ef8a62"),
    "5 – 50 %: deficit more likely": (0.05, 0.5, "#fddbc7"),
    "50 – 95 %: surplus more likely": (0.5, 0.95, "#d1e5f0"),
    "95 – 97.5 %": (0.95, 0.975, "#67a9cf"),
    "≥ 97.5 %: surplus, robust": (0.975, 1.0 + 1e-9, "#2166ac"),
    "no value": (math.nan, math.nan, "#ffffff"),
}


# The main driver of a region's change of CE (carbonbudget.science.decomposition): red where it
# raises CE, blue where it lowers it, one shade per factor; the factors of the extended
# identity (urbanisation, industry) take the shades between (ColorBrewer RdBu, 11 classes)
DRIVER_COLOURS = {
    "population (raises CE)": BAD[0],
    "urbanisation (raises CE)": "#f4a582",
    "affluence (raises CE)": BAD[2],
    "GDP per urban resident (raises CE)": "#67001f",
    "industry share (raises CE)": "#d6604d",
    "intensity (raises CE)": BAD[1],
    "industry intensity (raises CE)": "#ef8a62",
    "population (lowers CE)": GOOD[0],
    "urbanisation (lowers CE)": "#92c5de",
    "affluence (lowers CE)": GOOD[1],
    "GDP per urban resident (lowers CE)": "#4393c3",
    "industry share (lowers CE)": "#053061",
    "intensity (lowers CE)": GOOD[2],
    "industry intensity (lowers CE)": "#2166ac",
    "no value": "#ffffff",
}

SCENARIO_COLOURS = {"observed": "black"}


STATUS_COLOURS = {
    "surplus": "#2166ac",
    "neutral": "#f7f7f7",
    "deficit": "#b2182b",
    "incomplete": "#bdbdbd",
}


# Per-pixel status classes (carbonbudget.science.balance.PIXEL_STATUS) as RGB for the colour
# table of the status raster: the colours of the regions' status
def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


PIXEL_STATUS_COLOURS = {
    1: _rgb(STATUS_COLOURS["deficit"]),
    2: _rgb(STATUS_COLOURS["neutral"]),
    3: _rgb(STATUS_COLOURS["surplus"]),
}
