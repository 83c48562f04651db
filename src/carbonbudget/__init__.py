"""carbonbudget: per-pixel and regional carbon budgets from yearly rasters and emission tables.

The method, units and sources are in docs/method.md, the files in docs/data.md, the
configuration in docs/config.md; every public function carries units in its argument and column
names. The layers of the package and the import rule: docs/architecture.md.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("carbonbudget")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
