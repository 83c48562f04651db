"""What several test files share: the repository's path, small rasters, the demo's config,
running the workflow in a fresh folder, and a stand-in for Snakemake's job object that runs
any stage without Snakemake. Fixtures are in conftest.py."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

REPO = Path(__file__).resolve().parents[1]


AEA = (
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)


def write_raster(path, data, grid, dtype="float32", nodata=np.nan, crs="grid"):
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    profile = dict(
        driver="GTiff",
        width=grid.width,
        height=grid.height,
        count=data.shape[0],
        dtype=dtype,
        nodata=nodata,
        transform=grid.transform,
    )
    if crs == "grid":
        profile["crs"] = grid.crs
    elif crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(dtype))
    return str(path)


CSV_ROUNDING = (
    5e-12  # 12 significant digits (carbonbudget.core.io.write_table): the largest relative error
)


def assert_within_csv_rounding(actual, expected, magnitude):
    """``actual`` = ``expected`` up to the rounding of the CSV values they were computed from:
    each is written with 12 significant digits, so an identity between them holds to 5e-12 of
    the sum of the magnitudes of its terms (a difference of close numbers, or a sum of many,
    is not known to 1e-12 of itself)."""
    actual, expected, magnitude = (
        np.asarray(x, dtype="float64") for x in (actual, expected, magnitude)
    )
    excess = np.abs(actual - expected) / (CSV_ROUNDING * magnitude)
    assert (excess <= 1.0).all(), f"off by up to {excess.max():.1f} x the CSV rounding"


def assert_csv_difference(diff, a, b):
    """diff = a - b, three columns of a CSV (:func:`assert_within_csv_rounding`)."""
    diff, a, b = (np.asarray(x, dtype="float64") for x in (diff, a, b))
    assert_within_csv_rounding(diff, a - b, np.abs(diff) + np.abs(a) + np.abs(b))


def snakemake_bin():
    return str(Path(sys.executable).with_name("snakemake"))


# What a runnable copy of the workflow needs (the workstation profile included)
WORKFLOW_ITEMS = ("Snakefile", "workflow", "config", "profiles")


def copy_workflow(work: Path) -> Path:
    """Copy the workflow (Snakefile, rules, configs, profile) into ``work``; return ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    for item in WORKFLOW_ITEMS:
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / item)
    return work


def run_snakemake(work: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Snakemake on 2 cores in ``work`` (its own Snakefile), GDAL's cache bounded."""
    return subprocess.run(
        [snakemake_bin(), "--cores", "2", "--directory", str(work)]
        + ["-s", str(work / "Snakefile"), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, GDAL_CACHEMAX="256"),
        timeout=timeout,
    )


class Named(list):
    """A list whose items also have names, as Snakemake's ``input``/``output``/``params``."""

    def __init__(self, *items, **named):
        super().__init__([*items, *named.values()])
        self._names = dict(named)
        for k, v in named.items():
            setattr(self, k, v)

    def items(self):
        return self._names.items()

    def get(self, key, default=None):
        return self._names.get(key, default)

    def __getitem__(self, key):
        return self._names[key] if isinstance(key, str) else super().__getitem__(key)


def job(rule, *, input=None, output=None, params=None, wildcards=None, threads=1):
    """A stand-in for Snakemake's ``snakemake`` object, to call a stage of
    :mod:`carbonbudget.pipeline.stages` without Snakemake."""
    from types import SimpleNamespace

    def named(v):
        if isinstance(v, Named):
            return v
        return Named(*v) if isinstance(v, list) else Named(**(v or {}))

    return SimpleNamespace(
        rule=rule,
        input=named(input),
        output=named(output),
        params=named(params),
        wildcards=named(wildcards),
        threads=threads,
        log=[],
    )


def demo_config() -> dict:
    """The demo's configuration as a user has it (config/config.yaml, paths relative to the
    working directory)."""
    import yaml

    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def planned_jobs(work, *args):
    """{rule: count} of the jobs a dry run of the workflow in ``work`` would execute."""
    out = run_snakemake(work, "-n", *args).stdout
    jobs, on = {}, False
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Job stats"):
            on = True
        elif on and len(parts) >= 2 and parts[1].isdigit():
            if parts[0] == "total":
                break
            jobs[parts[0]] = int(parts[1])
    return jobs


def emission_section(path, **options) -> dict:
    """The ``emissions`` section of a small test table (columns c, y, v in Mt CO2) at ``path``,
    with the schema's defaults and ``options``."""
    from carbonbudget.core.config import fill_section

    return fill_section(
        "emissions",
        {
            "path": str(path),
            "region_col": "c",
            "year_col": "y",
            "value_col": "v",
            "units": "Mt CO2",
            **options,
        },
    )


def qgis_python() -> str:
    """A Python that can import QGIS (Debian's python3-qgis); skips the test without one."""
    for exe in ("/usr/bin/python3", shutil.which("python3")):
        if (
            exe
            and subprocess.run([exe, "-c", "import qgis.core"], capture_output=True).returncode == 0
        ):
            return exe
    pytest.skip("QGIS's Python bindings are not installed (apt install python3-qgis)")


def browser_dom(page: Path, why_skip: str, budget_ms: int = 15000) -> str:
    """The DOM of ``page`` after headless Chromium ran its scripts for ``budget_ms`` of virtual
    time; skips the test with ``why_skip`` on a machine without Chromium."""
    chromium = next(
        (
            shutil.which(b)
            for b in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(b)
        ),
        None,
    )
    if chromium is None:
        pytest.skip(f"no Chromium on this machine (apt install chromium){why_skip}")
    return subprocess.run(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu"]
        + [f"--virtual-time-budget={budget_ms}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
