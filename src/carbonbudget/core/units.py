"""Unit conversions applied once, at alignment, to the canonical units of docs/method.md, and the
range of values each variable can physically take in those units.

Canonical units:
- temperature: degC (monthly mean air temperature)
- precipitation: mm per time step (mm month-1 for monthly climate, mm yr-1 for annual)
- npp: g C m-2 yr-1
- runoff: mm yr-1

Every conversion is ``canonical = value * factor + offset`` applied after the product's own
scale factor and offset (e.g. MOD17A3's 0.0001).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from carbonbudget.core.errors import UnitError

# One mol of CO2 per mol of C: Tg CO2 = Tg C x 44.0095 / 12.011, written as the ratio of the
# rounded molar masses 44/12 as the method papers and the IPCC guidelines use it.
CO2_PER_C = 44.0 / 12.0

# Days per year used to turn a daily rate climatology into an annual total: the mean Gregorian
# year, because the inputs this is meant for (e.g. GRUN mm/day) are multi-decade means.
DAYS_PER_YEAR = 365.25

_CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "temperature": {
        "degC": (1.0, 0.0),
        "K": (1.0, -273.15),
    },
    "precipitation": {
        "mm": (1.0, 0.0),
        "cm": (10.0, 0.0),
        "m": (1000.0, 0.0),
        # a daily rate: times the days of the band's month (or year), see band_conversions
        "mm day-1": (1.0, 0.0),
    },
    "npp": {
        "g C m-2 yr-1": (1.0, 0.0),
        "kg C m-2 yr-1": (1000.0, 0.0),
        "t C km-2 yr-1": (1.0, 0.0),
    },
    "runoff": {
        "mm yr-1": (1.0, 0.0),
        "m yr-1": (1000.0, 0.0),
        "mm day-1": (DAYS_PER_YEAR, 0.0),
    },
    "et": {
        "mm yr-1": (1.0, 0.0),
        "m yr-1": (1000.0, 0.0),
        "mm day-1": (DAYS_PER_YEAR, 0.0),
    },
}

# Spellings users write for the same unit.
_ALIASES = {
    "°C": "degC",
    "degc": "degC",
    "celsius": "degC",
    "c": "degC",
    "kelvin": "K",
    "k": "K",
    "mm/month": "mm",
    "mm month-1": "mm",
    "mm/day": "mm day-1",
    "mm d-1": "mm day-1",
    "mm/yr": "mm yr-1",
    "mm/year": "mm yr-1",
    "m/yr": "m yr-1",
    "m/year": "m yr-1",
    "gc/m2/yr": "g C m-2 yr-1",
    "g c m-2 yr-1": "g C m-2 yr-1",
    "gc m-2 yr-1": "g C m-2 yr-1",
    "kgc/m2/yr": "kg C m-2 yr-1",
    "kg c m-2 yr-1": "kg C m-2 yr-1",
    "kgc m-2 yr-1": "kg C m-2 yr-1",
}

CANONICAL = {
    "temperature": "degC",
    "precipitation": "mm",
    "npp": "g C m-2 yr-1",
    "runoff": "mm yr-1",
    "et": "mm yr-1",
    "emission weights": "weight per unit area (relative)",
}


def normalise_unit(variable: str, units: str) -> str:
    """Return the canonical spelling of ``units`` for ``variable`` or raise :class:`UnitError`."""
    known = _CONVERSIONS.get(variable)
    if known is None:
        raise UnitError(
            f"no unit table for variable '{variable}'",
            variable=variable,
            fix=f"use one of {sorted(_CONVERSIONS)}",
        )
    if units in known:
        return units
    alias = _ALIASES.get(units.strip().lower())
    if alias in known:
        return alias
    raise UnitError(
        f"unknown units '{units}'",
        variable=variable,
        fix=f"declare one of {sorted(known)} in the config for {variable}",
    )


def conversion(variable: str, units: str) -> tuple[float, float]:
    """(factor, offset) that turn ``units`` into the canonical unit of ``variable``."""
    return _CONVERSIONS[variable][normalise_unit(variable, units)]


# Days of an average month of a multi-year climatology: February has 28.25 days, so the months
# add up to DAYS_PER_YEAR, the year runoff climatologies in mm day-1 are converted with.
_MEAN_DAYS = [31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def days_per_band(n_bands: int, timestep: str, year: int | None) -> list[float]:
    """Days covered by each band of a climate stack: the days of each month (``year`` None: a
    multi-year climatology, February 28.25 days) for monthly data, the days of the year for
    annual data."""
    if timestep == "annual":
        return [DAYS_PER_YEAR if year is None else 365.0 + calendar.isleap(year)] * n_bands
    days = _MEAN_DAYS if year is None else [calendar.monthrange(year, m)[1] for m in range(1, 13)]
    return [days[b % 12] for b in range(n_bands)]


def band_conversions(
    variable: str, units: str, n_bands: int, *, timestep: str = "monthly", year: int | None = None
) -> list[tuple[float, float]]:
    """(factor, offset) per band that turn ``units`` into the canonical unit of ``variable``.

    The same for every band, except precipitation given as a daily rate (``mm day-1``, as CMAP
    and many reanalyses store it): the canonical unit is mm per time step, so each band is
    multiplied by the days of its month (or year)."""
    unit = normalise_unit(variable, units)
    if variable == "precipitation" and unit == "mm day-1":
        return [(d, 0.0) for d in days_per_band(n_bands, timestep, year)]
    return [_CONVERSIONS[variable][unit]] * n_bands


@dataclass(frozen=True)
class Plausible:
    """Values a variable can take in its canonical unit. Outside ``hard`` is impossible on
    Earth (an error: a wrong unit, scale or nodata value); outside ``soft`` is rare but real (a
    warning). ``None`` leaves a side open (negative water fluxes have their own check)."""

    hard: tuple[float | None, float | None]
    soft: tuple[float | None, float | None]
    source: str


# The sources of every bound are in docs/method.md ("Plausible values").
PLAUSIBLE = {
    # monthly (or annual) mean near-surface air temperature, degC: a mean cannot pass the
    # extremes ever measured, -89.2 degC (Vostok, 1983) and 56.7 degC (Death Valley, 1913)
    ("temperature", "monthly"): Plausible(
        (-90.0, 60.0), (-75.0, 45.0), "WMO World Weather and Climate Extremes Archive"
    ),
    ("temperature", "annual"): Plausible(
        (-90.0, 60.0), (-60.0, 40.0), "WMO World Weather and Climate Extremes Archive"
    ),
    # mm per month: the wettest calendar month on record is 9,300 mm (Cherrapunji, July 1861)
    ("precipitation", "monthly"): Plausible(
        (None, 10000.0), (None, 3000.0), "WMO World Weather and Climate Extremes Archive"
    ),
    # mm per year: the wettest 12 months on record are 26,461 mm (Cherrapunji, 1860-61)
    ("precipitation", "annual"): Plausible(
        (None, 30000.0), (None, 12000.0), "WMO World Weather and Climate Extremes Archive"
    ),
    # g C m-2 yr-1: MOD17A3 stores NPP in -3000..32700 x 0.1 g C m-2 yr-1; no ecosystem fixes
    # more than ~5,000 g C m-2 yr-1 (GPP maxima ~4,000-5,000, NPP about half of GPP)
    ("npp", None): Plausible(
        (-1000.0, 5000.0),
        (-300.0, 3300.0),
        "Running & Zhao, MOD17 User's Guide (C6.1); Beer et al. 2010",
    ),
    # mm yr-1: runoff cannot exceed the wettest annual precipitation on record
    ("runoff", None): Plausible(
        (None, 30000.0),
        (None, 6000.0),
        "WMO World Weather and Climate Extremes Archive; Fekete et al. 2002",
    ),
    # mm yr-1: actual evapotranspiration rarely exceeds ~2,000 mm yr-1 (humid tropics)
    ("et", None): Plausible((None, 5000.0), (None, 2500.0), "Mu et al. 2011 (MOD16)"),
}


def plausible(variable: str, timestep: str | None = None) -> Plausible:
    """The :data:`PLAUSIBLE` entry of ``variable`` (climate variables by ``timestep``)."""
    if variable in ("temperature", "precipitation"):
        return PLAUSIBLE[(variable, timestep or "monthly")]
    return PLAUSIBLE[(variable, None)]


_UNIT_KEYS = {
    "temperature": "climate.temperature_units (degC or K), climate.temperature_scale and "
    "temperature_offset (e.g. scale 0.1 for a product in tenths of a degree)",
    "precipitation": "climate.precipitation_units (mm per month, cm, m or mm day-1), "
    "climate.precipitation_scale and precipitation_offset",
    "npp": "npp.units, npp.scale and npp.offset (MOD17A3: scale 0.0001, units kg C m-2 yr-1) "
    "and npp.valid_range for the product's fill codes",
    "runoff": "runoff.units, runoff.scale and runoff.offset, and runoff.valid_range for fill codes",
    "et": "runoff.et_units and runoff.et_scale",
}


def units_fix(variable: str) -> str:
    """The fix of a value that contradicts its declared units: the config keys to check."""
    return (
        f"check the nodata value of the file and {_UNIT_KEYS[variable]} (for scenario "
        "rasters the same keys under scenarios.*)"
    )
