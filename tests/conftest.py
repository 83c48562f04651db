"""Fixtures: a small grid, the demo's DAG run once per session; tests that use a DAG fixture
are marked ``workflow`` (``make test-fast`` leaves them out). Shared helpers: helpers.py."""

import pytest
from helpers import AEA, copy_workflow, run_snakemake

from carbonbudget.core.grid import Grid


@pytest.fixture
def small_grid():
    """5 columns × 4 rows of 1 km on an Albers equal-area grid, origin (0, 4000)."""
    return Grid.from_bounds(AEA, 1000.0, [0.0, 0.0, 5000.0, 4000.0])


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """Run the whole default (demo) DAG once in a fresh directory; yield that directory."""
    work = copy_workflow(tmp_path_factory.mktemp("demo_run"))
    proc = run_snakemake(work)
    if proc.returncode != 0:
        pytest.fail(f"demo DAG failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    (work / "run.log").write_text(proc.stdout + proc.stderr)  # what the user saw
    return work


# Fixtures that run a whole Snakemake DAG; a test using one is a workflow test, so that
# `make test-fast` (-m "not workflow") leaves it out wherever it lives.
DAG_FIXTURES = {"demo_run", "china_run", "huaihai_run"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DAG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.workflow)
