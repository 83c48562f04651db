"""The method lives in the repository: docs/ is complete, cited correctly and in step with the
schema."""

import re
from pathlib import Path

from helpers import REPO

from carbonbudget.core.config import load_schema
from carbonbudget.core.config_reference import render_config_reference

SOURCES = [
    *sorted((REPO / "src/carbonbudget").rglob("*.py")),
    *sorted((REPO / "workflow/rules").glob("*.smk")),
    REPO / "Snakefile",
    *sorted((REPO / "config").rglob("*.yaml")),
    *sorted((REPO / "config").glob("*.csv")),
    *sorted((REPO / "workflow/report").glob("*.rst")),
    REPO / "README.md",
    REPO / "CHANGELOG.md",
    REPO / "src/carbonbudget/core/config.schema.yaml",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "tests").glob("*.py")),
    *sorted((REPO / "benchmarks").glob("*.py")),
    *sorted((REPO / "workflow/scripts").glob("*.py")),
]
# how the project's founding notes were cited; nothing in a clone can resolve them
OUTSIDE_REFERENCE = re.compile(
    "|".join(
        [
            "DESIGN" + r"\.md",
            "DESIGN" + " §",
            r"\bseed" + r" 00\d",
            "seed" + r" Eq\.",
            "seed" + " Table",
            r"\.\./shared" + "/seeds",
        ]
    ),
    re.IGNORECASE,
)


def test_config_reference_is_generated_from_the_schema():
    page = (REPO / "docs/config.md").read_text()
    assert page == render_config_reference(), (
        "docs/config.md is out of date: "
        "python -m carbonbudget.core.config_reference > docs/config.md"
    )


def test_every_schema_key_has_a_description():
    missing = []

    def walk(node, path):
        for key, sub in (node.get("properties") or {}).items():
            full = f"{path}.{key}" if path else key
            if not str(sub.get("description", "")).strip():
                missing.append(full)
            walk(sub, full)
            for alt in sub.get("oneOf", []):
                walk(alt, full)

    walk(load_schema(), "")
    assert not missing, missing


def test_no_reference_to_files_outside_the_repository():
    """Comments, messages and configs cite docs/ and papers by author and year, never the design
    file or seed numbers of the project's founding folder."""
    bad = []
    for path in SOURCES:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE_REFERENCE.search(line):
                bad.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not bad, bad


def test_cited_method_sections_exist():
    headings = {
        m.group(1) for m in re.finditer(r"^## (.+)$", (REPO / "docs/method.md").read_text(), re.M)
    }
    cited = set()
    for path in SOURCES:
        text = " ".join(path.read_text(encoding="utf-8").split())
        for m in re.finditer(r'docs/method\.md, "([^"]+)"(?: and "([^"]+)")?', text):
            cited |= {g for g in m.groups() if g}
    assert cited, "no section cited"
    assert cited <= headings, sorted(cited - headings)


def test_docs_index_lists_every_page():
    index = (REPO / "docs/README.md").read_text()
    for page in sorted(Path(REPO / "docs").glob("*.md")):
        if page.name != "README.md":
            assert f"({page.name})" in index, page.name


# conda-forge names of PyPI packages whose names differ
CONDA_NAMES = {"matplotlib": "matplotlib-base"}


def _requirement(spec: str) -> tuple[str, str]:
    """'dask[array]>=2024.1' -> ('dask', '>=2024.1')."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(.*?)\s*", spec)
    assert m, spec
    name = m.group(1).lower()
    return CONDA_NAMES.get(name, name), m.group(2).replace(" ", "")


def _conda_env(path: Path) -> dict[str, str]:
    import yaml

    env = yaml.safe_load(path.read_text())
    specs = [s for s in env["dependencies"] if isinstance(s, str)]
    # packages conda-forge does not carry come from PyPI, in the pip section
    specs += [s for d in env["dependencies"] if isinstance(d, dict) for s in d.get("pip", [])]
    return dict(_requirement(s) for s in specs if not s.startswith(("python=", "pip", "-e")))


def test_conda_environments_list_the_pyproject_dependencies_with_the_same_bounds():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    runtime = dict(_requirement(s) for s in project["dependencies"] + extras["cluster"])
    everything = dict(runtime)
    for extra in extras.values():
        everything.update(_requirement(s) for s in extra)
    # environment.yml: development (tests and lint included); the rules' env: what jobs import
    assert _conda_env(REPO / "environment.yml") == everything
    assert _conda_env(REPO / "workflow/envs/carbonbudget.yaml") == runtime


def test_the_lock_pins_every_dependency_to_one_version():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pinned = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[re.sub(r"[-_.]+", "-", name.lower())] = version
    names = {
        re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", s).group(0).lower()) for s in specs
    }
    assert sorted(names - set(pinned)) == []


def test_the_docs_site_builds_without_warnings(tmp_path):
    """`make docs`: every page of docs/ and the API of every module from its docstrings; with
    --strict a broken link or an API page that fails to render is an error."""
    import shutil
    import subprocess
    import sys

    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    assert mkdocs, "mkdocs is not installed: make install-test installs the docs extra"
    out = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "WARNING" not in out.stderr, out.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "regions" / "index.html").read_text()
    assert "build_budget" in api and "RegionTree" in api
    layers = ["core", "science", "regions", "inputs", "outputs", "pipeline"]
    assert all((tmp_path / "site" / "api" / layer / "index.html").exists() for layer in layers)
