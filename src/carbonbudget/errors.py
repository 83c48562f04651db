"""A small exception hierarchy: every error names what is wrong and how to fix it.

Catch :class:`CarbonBudgetError` to handle anything this package raises on purpose.
"""

from __future__ import annotations


class CarbonBudgetError(Exception):
    """Base class of all errors raised deliberately by carbonbudget."""


class ConfigError(CarbonBudgetError):
    """The configuration is invalid (unknown key, wrong type, inconsistent settings)."""


class InputDataError(CarbonBudgetError):
    """An input file is missing, unreadable or holds implausible values.

    The message always names the file, the variable and a fix.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        variable: str | None = None,
        fix: str | None = None,
    ):
        parts = []
        if variable:
            parts.append(f"[{variable}]")
        if path:
            parts.append(f"{path}:")
        parts.append(message)
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))
        self.path = path
        self.variable = variable
        self.fix = fix


class UnitError(InputDataError):
    """Declared units are unknown, or the values contradict them (e.g. Kelvin declared as °C)."""


class GridError(CarbonBudgetError):
    """The target grid cannot be used (no CRS, a non-equal-area projection, no overlap)."""


class RegionError(InputDataError):
    """The region layer or a region table is inconsistent (duplicate or unmatched codes)."""
