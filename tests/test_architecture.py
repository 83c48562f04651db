"""The plan of the package (docs/architecture.md) as a contract: layers import only downward,
no module imports itself through others, imports sit at the top of a module unless a comment
says why one is lazy, the Snakefile's parse stays light, and every rule has its stage."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "carbonbudget"
# lowest first: a module may import its own layer and the layers before it
LAYERS = ["core", "science", "regions", "inputs", "outputs", "pipeline"]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def internal_imports(path: Path, tree: ast.Module | None = None):
    """(node, imported module) of every import of this package in the file, anywhere in it."""
    tree = tree or ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import; import by full name")
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == ("carbonbudget")
        ):
            for alias in node.names:  # `from carbonbudget.outputs import maps` imports a module
                sub = f"{node.module}.{alias.name}"
                yield node, sub if sub in MODULES else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "carbonbudget":
                    yield node, alias.name


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {
        name: {target for _, target in internal_imports(path)} - {name}
        for name, path in modules.items()
    }


def upward_imports(modules: dict[str, Path]) -> list[str]:
    found = []
    for name, path in modules.items():
        own = layer_of(name)
        if own is None:
            continue
        for node, target in internal_imports(path):
            other = layer_of(target)
            if other is not None and LAYERS.index(other) > LAYERS.index(own):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {own} imports {target}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def unexplained_lazy_imports(path: Path) -> list[str]:
    """Imports inside functions without a ``# lazy:`` comment above their block of imports."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    top = {id(n) for n in tree.body}
    for n in tree.body:  # `if TYPE_CHECKING:` and `try:` blocks at module level count as top
        if isinstance(n, ast.If | ast.Try):
            top |= {id(m) for m in n.body}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in top:
            continue
        i = node.lineno - 2  # the line above, then upwards over the imports of the same block
        while i >= 0 and re.match(r"\s*(import |from |\)|[\w, ]+,?$)", lines[i]):
            i -= 1
        if i < 0 or "# lazy:" not in lines[i]:
            found.append(
                f"{path.relative_to(REPO)}:{node.lineno}: {lines[node.lineno - 1].strip()}"
            )
    return found


def test_every_module_lives_in_a_layer():
    loose = [n for n in MODULES if n != "carbonbudget" and layer_of(n) is None]
    assert loose == [], f"modules outside the layers of docs/architecture.md: {loose}"


def test_layers_import_only_downward():
    assert upward_imports(MODULES) == []


def test_the_layer_rule_catches_an_upward_import(tmp_path):
    core = tmp_path / "src" / "carbonbudget" / "core"
    core.mkdir(parents=True)
    bad = core / "bad.py"
    bad.write_text("from carbonbudget.outputs.maps import save_map\n")
    global PACKAGE, REPO
    saved = PACKAGE, REPO
    PACKAGE, REPO = tmp_path / "src" / "carbonbudget", tmp_path
    try:
        found = upward_imports({"carbonbudget.core.bad": bad})
    finally:
        PACKAGE, REPO = saved
    assert found == ["src/carbonbudget/core/bad.py:1: core imports carbonbudget.outputs.maps"]


def test_no_import_cycles():
    assert cycles(import_graph(MODULES)) == []
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_sit_at_the_top_unless_a_comment_says_why_not():
    found = [line for path in MODULES.values() for line in unexplained_lazy_imports(path)]
    assert found == [], "function-local imports without '# lazy: <why>' above them"


# what a Snakefile parse must not pull in (seconds of start-up for every `snakemake` call)
HEAVY = ("numba", "dask", "xarray", "matplotlib", "scipy", "geopandas", "rasterio", "sklearn")


def snakefile_imports() -> list[str]:
    text = (REPO / "Snakefile").read_text()
    return sorted(set(re.findall(r"^from (carbonbudget[\w.]*) import", text, re.M)))


def test_the_snakefile_imports_nothing_heavy():
    modules = snakefile_imports()
    assert "carbonbudget.pipeline.paths" in modules
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules)
    code += f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the Snakefile's imports load {out.stdout.strip()}"


def rules_by_file() -> dict[str, set[str]]:
    """Rule names per rule file, as grep finds them (``rule name:``, ``use rule a as name``)."""
    out = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        names = set(re.findall(r"^\s*rule (\w+):", text, re.M))
        names |= set(re.findall(r"^\s*use rule \w+ as (\w+)", text, re.M))
        out[smk.stem] = names
    return out


SHIM_IMPORT = "from carbonbudget.pipeline.jobserver import run"


def test_every_rule_runs_the_stage_of_its_name_in_the_module_of_its_file():
    import importlib

    rules = rules_by_file()
    snakefile_rules = set(re.findall(r"^rule (\w+):", (REPO / "Snakefile").read_text(), re.M))
    assert snakefile_rules == {"publish"}
    registered = set()
    for stem, names in rules.items():
        text = (REPO / "workflow" / "rules" / f"{stem}.smk").read_text()
        scripts = set(re.findall(r'script:\s*"\.\./scripts/(\w+)\.py"', text))
        assert scripts == {stem}, f"{stem}.smk runs {scripts}, not scripts/{stem}.py"
        shim = (REPO / "workflow" / "scripts" / f"{stem}.py").read_text()
        # the shim imports the job server's client alone: the stage module is the server's
        assert f'run(snakemake, "carbonbudget.pipeline.stages.{stem}")' in shim
        assert re.findall(r"^(?:from|import) .*", shim, re.M) == [SHIM_IMPORT], stem
        module = importlib.import_module(f"carbonbudget.pipeline.stages.{stem}")
        assert set(module.stage.by_rule) == names, stem
        registered |= names
    all_rules = set().union(*rules.values()) | snakefile_rules
    assert all_rules == registered | {"publish"}
    snakefile = (REPO / "Snakefile").read_text()
    assert 'script:\n        "workflow/scripts/publish.py"' in snakefile
    shim = (REPO / "workflow" / "scripts" / "publish.py").read_text()
    assert 'run(snakemake, "carbonbudget.pipeline.stages.publish")' in shim
    assert set(importlib.import_module("carbonbudget.pipeline.stages.publish").stage.by_rule) == {
        "publish"
    }


@pytest.mark.parametrize("stem", sorted(rules_by_file()))
def test_a_rule_file_has_no_rule_built_in_a_loop(stem):
    text = (REPO / "workflow" / "rules" / f"{stem}.smk").read_text()
    assert not re.search(r"^\s+name:", text, re.M), f"{stem}.smk names a rule at run time"


def test_the_project_layout_in_the_docs_is_the_tree():
    text = (REPO / "docs" / "architecture.md").read_text()
    block = text.split("<!-- layout -->")[1].split("<!-- /layout -->")[0]
    listed = set(re.findall(r"^  (\S+\.py)\s", block, re.M))
    tree = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and p.parent != PACKAGE
    }
    assert listed == tree, {"not in the docs": tree - listed, "not in the tree": listed - tree}
