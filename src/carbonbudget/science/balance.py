"""Balance indicators (docs/method.md, "Balance indicators"), per region-year and per pixel.

Per region-year (:func:`balance_indicators`; the regional sums are
:func:`carbonbudget.regions.budget.build_budget`'s):

- ``cnc_tgco2 = ecs_tgco2 − ce_tgco2`` and ``cnc_flux_tco2_km2``;
- ``status``: surplus / deficit / neutral against ``tolerance_tgco2`` ("missing" if CNC is NaN);
- ``source_sink_ratio = ce / ecs`` where ECS > 0; where ECS ≤ 0 the land is itself a net
  source: ratio = +inf and ``ecosystem_source = True`` (never NaN, never negative);
- ``cer = ce / ecs × cv`` (Shi et al. 2022) with the same ECS ≤ 0 rule;
- ``imbalance_risk_index``: percentile rank in [0, 1] of the ratio among all region-years of
  the level (this project's definition; Ji et al. 2024 gives no formula).

Per pixel (:func:`pixel_cnc`, :func:`pixel_status`): CNC = ECS × 44/12 − CE in t CO2 km⁻² yr⁻¹
and its sign as a class (docs/method.md, "Emissions on the grid").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carbonbudget.core.units import CO2_PER_C

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

STUDY_AREA = "study_area"
# A region-year whose sink is known on less of its area (but at least on
# balance.min_valid_fraction) keeps its status, with a note saying on how much it rests.
PARTIAL_BELOW = 0.95
PARTIAL_NOTE_END = "ECS is that part's, CE the whole region's"


def balance_indicators(
    ecs_tgco2: ArrayLike,
    ce_tgco2: ArrayLike,
    area_km2: ArrayLike,
    cv: ArrayLike = 1.0,
    tolerance_tgco2: float = 0.0,
    *,
    valid_fraction: ArrayLike | None = None,
    min_valid_fraction: float = 0.0,
) -> pd.DataFrame:
    """CNC, its flux, status, source/sink ratio, ecosystem-source flag, CER and a note per
    region-year (arrays in, frame out).

    A region-year whose sink is known on less than ``min_valid_fraction`` of its area
    (``valid_fraction``) gets none of them: a sink of part of the region set against the whole
    region's emissions would be wrong, so its status is ``incomplete``, the values NaN and the
    note says why; one known on less than :data:`PARTIAL_BELOW` keeps them with a note giving
    the share; a region-year without ECS or CE is ``missing``."""
    ecs = np.asarray(ecs_tgco2, dtype="float64")
    ce = np.asarray(ce_tgco2, dtype="float64")
    area = np.asarray(area_km2, dtype="float64")
    cv = np.broadcast_to(np.asarray(cv, dtype="float64"), ecs.shape)
    valid = (
        np.ones_like(ecs) if valid_fraction is None else np.asarray(valid_fraction, dtype="float64")
    )
    incomplete = np.isfinite(ecs) & np.isfinite(ce) & ~(valid >= min_valid_fraction)
    cnc = np.where(incomplete, np.nan, ecs - ce)
    with np.errstate(divide="ignore", invalid="ignore"):
        flux = np.where(area > 0, cnc * 1e6 / area, np.nan)  # Tg -> t, per km²
        ratio = np.where(ecs > 0, ce / ecs, np.inf)
    known = np.isfinite(ecs) & np.isfinite(ce) & ~incomplete
    ratio = np.where(known, ratio, np.nan)
    with np.errstate(invalid="ignore"):
        cer = ratio * cv
    status = np.where(
        incomplete,
        "incomplete",
        np.where(
            ~known,
            "missing",
            np.where(
                cnc > tolerance_tgco2,
                "surplus",
                np.where(cnc < -tolerance_tgco2, "deficit", "neutral"),
            ),
        ),
    )
    note = np.full(ecs.shape, "", dtype=object)
    note[~np.isfinite(ce)] = "no emission value for this region-year"
    note[~np.isfinite(ecs)] = "no sink: no pixel of the region has every input"
    note[~np.isfinite(ce) & ~np.isfinite(ecs)] = "no sink and no emission value"
    with np.errstate(invalid="ignore"):
        note[incomplete] = [
            f"sink known on {100 * v:.1f} % of the area (below "
            f"balance.min_valid_fraction {100 * min_valid_fraction:.0f} %)"
            for v in valid[incomplete]
        ]
        partial = known & (valid < PARTIAL_BELOW)
    note[partial] = [
        f"sink known on {100 * v:.1f} % of the area: {PARTIAL_NOTE_END}" for v in valid[partial]
    ]
    return pd.DataFrame(
        {
            "cnc_tgco2": cnc,
            "cnc_flux_tco2_km2": flux,
            "status": status,
            "status_note": note,
            "source_sink_ratio": ratio,
            "ecosystem_source": np.where(known, ecs <= 0, False),
            "cv": cv,
            "cer": cer,
        }
    )


# The carbon intensity column of a GDP currency (socioeconomic.gdp_currency) starts with this
INTENSITY_PREFIX = "ce_intensity_kgco2_per_"
# The summed population (persons) and GDP (units of the currency) of a region, beside them
POPULATION_COLUMN = "population_persons"
GDP_PREFIX = "gdp_"

# Per-pixel status classes: the sign of CNC (0: no value)
PIXEL_STATUS = {1: "deficit (CNC < 0)", 2: "balanced (CNC = 0)", 3: "surplus (CNC > 0)"}


def pixel_cnc(ecs_gc_m2: np.ndarray, ce_tco2_km2: np.ndarray) -> np.ndarray:
    """CNC per pixel in t CO2 km⁻² yr⁻¹: ECS (g C m⁻² yr⁻¹, which is t C km⁻² yr⁻¹) × 44/12
    − CE (t CO2 km⁻² yr⁻¹); NaN where either is unknown."""
    return np.asarray(ecs_gc_m2, dtype="float64") * CO2_PER_C - ce_tco2_km2


def pixel_status(cnc: np.ndarray) -> np.ndarray:
    """The class of :data:`PIXEL_STATUS` of each pixel's CNC: 1 deficit, 2 balanced, 3 surplus,
    0 where CNC is unknown."""
    return np.select([cnc < 0, cnc == 0, cnc > 0], [1, 2, 3], 0)
