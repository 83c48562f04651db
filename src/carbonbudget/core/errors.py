"""A small exception hierarchy: every error names what is wrong and how to fix it.

Catch :class:`CarbonBudgetError` to handle anything this package raises on purpose.
"""

from __future__ import annotations


class CarbonBudgetError(Exception):
    """Base class of all errors raised deliberately by carbonbudget."""

    headline = "a setting needs fixing"  # what kind of fix a stopped step needs, in words

    def block(self) -> list[str]:
        """The error as the lines a person reads: file, variable, problem, fix (those known)."""
        return [f"  problem:  {self}"]


class ConfigError(CarbonBudgetError):
    """The configuration is invalid (unknown key, wrong type, inconsistent settings)."""


class InputDataError(CarbonBudgetError):
    """An input file is missing, unreadable or holds implausible values.

    The message always names the file, the variable and a fix.
    """

    headline = "an input needs fixing"

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
        self.problem = message
        self.path = path
        self.variable = variable
        self.fix = fix

    def block(self) -> list[str]:
        """The error as the lines a person reads: file, variable, problem, fix (those known)."""
        rows = [("file", self.path), ("variable", self.variable)]
        rows += [("problem", self.problem), ("fix", self.fix)]
        return [f"  {k + ':':<9} {v}" for k, v in rows if v]


class UnitError(InputDataError):
    """Declared units are unknown, or the values contradict them (e.g. Kelvin declared as °C)."""


class GridError(CarbonBudgetError):
    """The target grid cannot be used (no CRS, a non-equal-area projection, no overlap)."""


class RegionError(InputDataError):
    """The region layer or a region table is inconsistent (duplicate or unmatched codes)."""


class InputChecksFailed(CarbonBudgetError):
    """Several input checks failed (``make check`` reports them all at once)."""

    def __init__(self, errors: list[CarbonBudgetError]):
        self.errors = errors
        self.headline = f"{len(errors)} problems to fix"
        super().__init__(f"{len(errors)} input check(s) failed: " + "; ".join(map(str, errors)))

    def block(self) -> list[str]:
        """Each failure's block, numbered."""
        lines: list[str] = []
        for i, err in enumerate(self.errors, 1):
            lines.append(f"  ({i} of {len(self.errors)})")
            lines += ["  " + line for line in err.block()]
        return lines
