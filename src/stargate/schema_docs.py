"""Markdown references of the scenario file and the catalog overlay, written from their schemas.

Every field's row (name, type and bounds, default, description) comes from the pydantic models
through :func:`stargate.schemas.model_schema`, so the pages in ``docs/`` cannot drift from what
the program reads: ``python scripts/reference_docs.py`` rewrites the part of each page between
its ``<!-- generated -->`` markers, and a test checks that the pages are current.
"""

from __future__ import annotations

import json
import re
from typing import Any

from stargate.schemas import QUANTITY_STRING, model_schema

__all__ = ["BEGIN", "END", "catalog_reference", "replace_generated", "scenario_reference"]

BEGIN = "<!-- generated: python scripts/reference_docs.py; do not edit below -->"
END = "<!-- /generated -->"

_ROLE = re.compile(r":(?:mod|func|class|data|meth|attr):`~?([^`]+)`")


def _text(s: str) -> str:
    """A docstring as one Markdown table cell: RST literals as code, no newlines, pipes escaped."""
    s = _ROLE.sub(r"`\1`", s.replace("``", "`"))
    return " ".join(s.split()).replace("|", "\\|")


def _anchor(name: str) -> str:
    return name.lower()


def _bounds(node: dict[str, Any]) -> str:
    marks = [("exclusiveMinimum", ">"), ("minimum", "≥"), ("exclusiveMaximum", "<"), ("maximum", "≤")]
    return ", ".join(f"{sign} {_number(node[key])}" for key, sign in marks if key in node)


def _number(v: float) -> str:
    """Short and exact: ``1e+13``, ``16,777,216``, ``0.5``."""
    short = f"{v:g}"
    return short if float(short) == v else f"{int(v):,}" if float(v).is_integer() else repr(v)


def _type(node: dict[str, Any]) -> str:
    """A schema node as words: ``number > 0 or quantity string``, ``list of [Phase](#phase)``."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in node:
        parts = [_type(n) for n in node["anyOf"] if n.get("type") != "null"]
        nullable = len(parts) < len(node["anyOf"])
        return " or ".join(dict.fromkeys(parts)) + (" or null" if nullable else "")
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "any")
    if node == QUANTITY_STRING:
        return "quantity string"
    if kind == "array":
        return "list of " + _type(node.get("items", {}))
    if kind == "object":
        return "mapping of string to " + _type(node.get("additionalProperties", {}))
    limits = _bounds(node)
    if kind == "string":
        limits = f"pattern `{node['pattern']}`" if "pattern" in node else ""
    return f"{kind} {limits}".strip()


def _default(name: str, prop: dict[str, Any], required: list[str]) -> str:
    if "default" in prop:
        return f"`{json.dumps(prop['default'], ensure_ascii=False)}`"
    return "required" if name in required else "—"


def _fields(defn: dict[str, Any], heading: str) -> list[str]:
    required = defn.get("required", [])
    lines = [f"| field | type | {heading} | description |", "|---|---|---|---|"]
    for name, prop in defn.get("properties", {}).items():
        kind = _type(prop).replace("|", "\\|")
        lines.append(f"| `{name}` | {kind} | {_default(name, prop, required)} | {_text(prop.get('description', ''))} |")
    return lines


def _section(name: str, defn: dict[str, Any], level: str, heading: str) -> list[str]:
    lines = [f"{level} {name}", ""]
    if defn.get("description"):
        lines += [_text(defn["description"]), ""]
    if "enum" in defn:
        return lines + ["One of " + ", ".join(f"`{v}`" for v in defn["enum"]) + ".", ""]
    return lines + _fields(defn, heading) + [""]


def _reached(schema: dict[str, Any], start: Any) -> list[str]:
    """Names of the ``$defs`` reached from ``start``, in the order first referenced."""
    seen: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and (name := ref.rsplit("/", 1)[1]) not in seen:
                seen.append(name)
                walk(schema["$defs"][name])
            for key, value in node.items():
                if key != "$defs":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(start)
    return seen


def scenario_reference() -> str:
    """The generated part of ``docs/scenario-file.md``: the top level, then each type it uses.

    Examples
    --------
    >>> page = scenario_reference()
    >>> "| `phases` | list of [Phase](#phase) | required |" in page
    True
    """
    schema = model_schema("scenario")
    lines = _section("Scenario (the file)", schema, "###", "default")
    for name in _reached(schema, schema):
        lines += _section(name, schema["$defs"][name], "###", "default")
    return "\n".join(lines).rstrip() + "\n"


def catalog_reference() -> str:
    """The generated part of ``docs/catalog-overlay.md``: every section, its entries' fields (what a
    new entry must give), then the types they use.

    Examples
    --------
    >>> page = catalog_reference()
    >>> "### `accelerators`: Accelerator" in page and "| `tdp_w` |" in page
    True
    """
    from stargate.catalog.schema import KINDS

    schema = model_schema("catalog")
    defs = schema["$defs"]
    lines = ["| section | entries |", "|---|---|"]
    lines += [f"| [`{kind}`](#{kind}-{_anchor(model.__name__)}) | {_text(defs[model.__name__].get('description', ''))} |"
              for kind, model in KINDS.items()]
    lines.append("")
    shared: list[str] = []
    for kind, model in KINDS.items():
        name = model.__name__
        lines += _section(f"`{kind}`: {name}", defs[name], "###", "new entry")
        shared += [n for n in _reached(schema, defs[name]) if n not in shared and n not in
                   {m.__name__ for m in KINDS.values()}]
    lines += ["## Types used by the entries", ""]
    for name in shared:
        lines += _section(name, defs[name], "###", "default")
    return "\n".join(lines).rstrip() + "\n"


def replace_generated(page: str, generated: str) -> str:
    """``page`` with the text between its generated markers replaced by ``generated``.

    Examples
    --------
    >>> replace_generated(f"intro\\n{BEGIN}\\nold\\n{END}\\n", "new\\n")
    'intro\\n<!-- generated: python scripts/reference_docs.py; do not edit below -->\\nnew\\n<!-- /generated -->\\n'
    """
    head, sep, rest = page.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError("the page has no generated markers")
    return f"{head}{BEGIN}\n{generated}{END}{tail}"
