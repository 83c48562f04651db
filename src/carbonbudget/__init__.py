"""carbonbudget: per-pixel and regional carbon budgets from yearly rasters and emission tables.

The method, units and data contract are in DESIGN.md (shipped in the repository's docs); every
public function carries units in its argument and column names.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("carbonbudget")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
