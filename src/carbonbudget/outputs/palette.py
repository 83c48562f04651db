"""Every colour the outputs use, in one place, so a variable keeps one colour meaning across the
PNG maps, the charts, the GeoPackage styles and the per-pixel rasters.

The palettes are ColorBrewer's, chosen for the common colour-vision deficiencies.
"""

from __future__ import annotations

import math

# Categorical colours of the spatial-statistics maps (ColorBrewer RdBu-like; grey = not
# significant).
LISA_COLOURS = {
    "HH": "#d7191c",
    "HL": "#fdae61",
    "LH": "#abd9e9",
    "LL": "#2c7bb6",
    "not significant": "#eeeeee",
    "not computed": "#ffffff",
}


GI_COLOURS = {
    "hot spot 99%": "#b2182b",
    "hot spot 95%": "#ef8a62",
    "hot spot 90%": "#fddbc7",
    "not significant": "#eeeeee",
    "cold spot 90%": "#d1e5f0",
    "cold spot 95%": "#67a9cf",
    "cold spot 99%": "#2166ac",
    "not computed": "#ffffff",
}


TREND_CLASS_COLOURS = {
    "increase": "#1a9641",
    "no change": "#ffffbf",
    "slight decrease": "#fdae61",
    "significant decrease": "#f46d43",
    "sharp decrease": "#d7191c",
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
        "rcs_gc_m2",
        "YlGn",
        None,
        "Rock-weathering carbon sink (RCS)",
        "Tg CO2 yr⁻¹",
        "g C m⁻² yr⁻¹",
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


SCENARIO_COLOURS = {"observed": "black"}


STATUS_COLOURS = {
    "surplus": "#2166ac",
    "neutral": "#f7f7f7",
    "deficit": "#b2182b",
    "incomplete": "#bdbdbd",
}


# Per-pixel status classes (carbonbudget.science.balance.PIXEL_STATUS) as RGB for the colour
# table of the status raster: the ends and middle of ColorBrewer RdYlBu, as the regions' status
PIXEL_STATUS_COLOURS = {1: (215, 25, 28), 2: (255, 255, 191), 3: (44, 123, 182)}
