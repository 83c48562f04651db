"""carbonbudget: per-pixel and regional carbon budgets from yearly rasters and emission tables.

The method, units and sources are in docs/method.md, the files in docs/data.md, the
configuration in docs/config.md; every public function carries units in its argument and column
names. The layers of the package and the import rule: docs/architecture.md.
"""


def __getattr__(name: str) -> str:
    """``__version__``, looked up in the installed distributions on first use: every job's
    script imports the package for the job server's client alone, which does not need it (the
    lookup and ``importlib.metadata`` cost each script ~15-40 ms)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # lazy: see above
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("carbonbudget")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
