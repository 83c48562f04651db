"""The method lives in the repository: docs/ is complete, cited correctly and in step with the
schema (issue 18)."""

import re
from pathlib import Path

from carbonbudget.config import load_schema
from carbonbudget.docs import render_config_reference

from conftest import REPO

SOURCES = [*sorted((REPO / "src/carbonbudget").glob("*.py")),
           *sorted((REPO / "workflow/rules").glob("*.smk")), REPO / "Snakefile",
           *sorted((REPO / "config").rglob("*.yaml")), *sorted((REPO / "config").glob("*.csv")),
           *sorted((REPO / "workflow/report").glob("*.rst")), REPO / "README.md",
           REPO / "src/carbonbudget/config.schema.yaml"]


def test_config_reference_is_generated_from_the_schema():
    page = (REPO / "docs/config.md").read_text()
    assert page == render_config_reference(), (
        "docs/config.md is out of date: python -m carbonbudget.docs > docs/config.md")


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
            if re.search(r"DESIGN\.md|DESIGN §|\bseed 00\d|seed Eq\.|seed Table|\.\./shared/seeds",
                         line):
                bad.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not bad, bad


def test_cited_method_sections_exist():
    headings = {m.group(1) for m in re.finditer(r"^## (.+)$", (REPO / "docs/method.md").read_text(),
                                                re.M)}
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
