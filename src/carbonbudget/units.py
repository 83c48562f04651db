"""Unit conversions applied once, at alignment, to the canonical units of DESIGN §1.

Canonical units:
- temperature: degC (monthly mean air temperature)
- precipitation: mm per time step (mm month-1 for monthly climate, mm yr-1 for annual)
- npp: g C m-2 yr-1
- runoff: mm yr-1

Every conversion is ``canonical = value * factor + offset`` applied after the product's own
scale factor and offset (e.g. MOD17A3's 0.0001).
"""

from __future__ import annotations

from .errors import UnitError

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
    "°C": "degC", "degc": "degC", "celsius": "degC", "c": "degC",
    "kelvin": "K", "k": "K",
    "mm/month": "mm", "mm month-1": "mm", "mm/yr": "mm yr-1", "mm/year": "mm yr-1",
    "m/yr": "m yr-1", "m/year": "m yr-1", "mm/day": "mm day-1", "mm d-1": "mm day-1",
    "gc/m2/yr": "g C m-2 yr-1", "g c m-2 yr-1": "g C m-2 yr-1", "gc m-2 yr-1": "g C m-2 yr-1",
    "kgc/m2/yr": "kg C m-2 yr-1", "kg c m-2 yr-1": "kg C m-2 yr-1", "kgc m-2 yr-1": "kg C m-2 yr-1",
}

CANONICAL = {
    "temperature": "degC",
    "precipitation": "mm",
    "npp": "g C m-2 yr-1",
    "runoff": "mm yr-1",
    "et": "mm yr-1",
}


def normalise_unit(variable: str, units: str) -> str:
    """Return the canonical spelling of ``units`` for ``variable`` or raise :class:`UnitError`."""
    known = _CONVERSIONS.get(variable)
    if known is None:
        raise UnitError(f"no unit table for variable '{variable}'", variable=variable,
                        fix=f"use one of {sorted(_CONVERSIONS)}")
    if units in known:
        return units
    alias = _ALIASES.get(units.strip().lower())
    if alias in known:
        return alias
    raise UnitError(
        f"unknown units '{units}'", variable=variable,
        fix=f"declare one of {sorted(known)} in the config for {variable}")


def conversion(variable: str, units: str) -> tuple[float, float]:
    """(factor, offset) that turn ``units`` into the canonical unit of ``variable``."""
    return _CONVERSIONS[variable][normalise_unit(variable, units)]
