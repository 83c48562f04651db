"""Fixtures: a small grid, the demo's DAG run once per session; tests that use a DAG fixture
are marked ``workflow`` (``make test-fast`` leaves them out), those that run an example on
real data ``rare`` (``make test`` leaves them to ``make test-rare``); with pytest-xdist (``make
test`` runs two workers) the tests of the demo's DAG share one worker, those of a module another.
Shared helpers: helpers.py."""

import json
import os
import shutil
import tempfile
from pathlib import Path

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
# the examples on real data (minutes each): a test using one is a rare case, which `make test`
# leaves to `make test-rare` (CI runs both), as it does the SLURM cluster's test
RARE_FIXTURES = {"china_run", "huaihai_run"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if DAG_FIXTURES & fixtures:
            item.add_marker(pytest.mark.workflow)
        if RARE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.rare)
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: tell the scheduler the groups
        groups = {item.nodeid: _group(item) for item in items}
        _write_groups(Path(config.workerinput[GROUPS_KEY]), config.workerinput["workerid"], groups)


# Tests on pytest-xdist's workers go in groups, one group to one worker: the tests that use the
# demo's DAG, so that one worker runs that session fixture (~1 min) once, and each module's
# other tests, which share its module fixtures. xdist's own `--dist loadgroup` cannot do this
# here: it renames the tests through an attribute pytest 9 no longer reads. The workers know
# each test's fixtures, the scheduler (in the controlling process) does not: each worker writes
# the groups of what it collected to a file the scheduler reads.
GROUPS_KEY = "carbonbudget_test_groups"


def _module(nodeid):
    return nodeid.split("::")[0]


def _group(item):
    return "demo_run" if "demo_run" in getattr(item, "fixturenames", ()) else _module(item.nodeid)


def _write_groups(folder, worker, groups):
    path = folder / f"{worker}.json"
    path.with_suffix(".part").write_text(json.dumps(groups))
    os.replace(path.with_suffix(".part"), path)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist, in the controlling process: where the workers write their groups."""
    node.workerinput[GROUPS_KEY] = str(_groups_folder(node.config))


_GROUPS_FOLDER = pytest.StashKey[Path]()


def _groups_folder(config):
    """The controlling process's folder for the workers' groups, made once, removed at the end."""
    if _GROUPS_FOLDER not in config.stash:
        folder = Path(tempfile.mkdtemp(prefix="carbonbudget-test-groups-"))
        config.stash[_GROUPS_FOLDER] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    return config.stash[_GROUPS_FOLDER]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduler by scope (whole groups to a worker, largest first), with the
    groups the workers wrote; `--dist each` and `no` keep their own."""
    if config.getvalue("dist") not in ("load", "loadscope", "loadfile", "loadgroup"):
        return None
    # lazy: pytest-xdist is optional; this hook runs only where it is installed
    from xdist.scheduler import LoadScopeScheduling

    folder = _groups_folder(config)

    class ByGroup(LoadScopeScheduling):
        groups: dict | None = None

        def _split_scope(self, nodeid):
            if self.groups is None:  # every worker has collected before the first call
                self.groups = json.loads(sorted(folder.glob("*.json"))[0].read_text())
            return self.groups.get(nodeid, _module(nodeid))

    return ByGroup(config, log)
