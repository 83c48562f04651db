"""The configuration reference (docs/config.md), generated from the schema.

``python -m carbonbudget.core.config_reference > docs/config.md`` writes it; tests/test_docs.py
checks that the page in the repository is what this module makes of the schema, so the two cannot
drift apart.
"""

from __future__ import annotations

import json

from carbonbudget.core.config import load_schema

HEADER = """# Configuration reference

Every key of the configuration: its type, default and meaning. Generated from
`src/carbonbudget/core/config.schema.yaml` by `python -m carbonbudget.core.config_reference >
docs/config.md` (a test keeps the two in step); do not edit by hand. Unknown keys are refused, so a
misspelt key fails before anything runs. A section that is absent takes its defaults; a config given
with `--configfile` is complete by itself (nothing of the demo config leaks into it). Units of the
values are those the descriptions name; the method behind each key is in docs/method.md.
"""


def _type(node: dict) -> str:
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "oneOf" in node and "type" not in node:
        return " or ".join(_type(alt) for alt in node["oneOf"]) or "see description"
    t = node.get("type", "")
    if isinstance(t, list):
        return " or ".join(t)
    if t == "array" and isinstance(node.get("items"), dict):
        inner = _type(node["items"])
        n = node.get("minItems"), node.get("maxItems")
        size = f" of {n[0]}" if n[0] and n[0] == n[1] else ""
        return f"list{size} of {inner}" if inner else "list"
    return t or ("object" if "properties" in node else "")


def _default(node: dict) -> str:
    if "default" not in node:
        return ""
    return f"`{json.dumps(node['default'], ensure_ascii=False)}`"


def _rows(node: dict, path: str, required: set[str]) -> list[str]:
    rows = []
    for key, sub in (node.get("properties") or {}).items():
        full = f"{path}.{key}" if path else key
        desc = " ".join(str(sub.get("description", "")).split())
        need = "yes" if key in required else ""
        rows.append(f"| `{full}` | {_type(sub)} | {_default(sub)} | {need} | {desc} |")
        rows += _rows(sub, full, set(sub.get("required", [])))
        for alt in sub.get("oneOf", []):
            rows += _rows(alt, full, set(alt.get("required", [])))
    return rows


def render_config_reference(schema: dict | None = None) -> str:
    """The Markdown page: one table per top-level section."""
    schema = schema or load_schema()
    out = [HEADER]
    required = set(schema.get("required", []))
    for key, sub in schema["properties"].items():
        desc = " ".join(str(sub.get("description", "")).split())
        need = " (required)" if key in required else ""
        out.append(f"\n## `{key}`{need}\n\n{desc}\n")
        out.append("| key | type | default | required | meaning |")
        out.append("|---|---|---|---|---|")
        out.append(
            f"| `{key}` | {_type(sub)} | {_default(sub)} | {'yes' if need else ''} | {desc} |"
        )
        out += _rows(sub, key, set(sub.get("required", [])))
        for alt in sub.get("oneOf", []):
            out += _rows(alt, key, set(alt.get("required", [])))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_config_reference(), end="")
