"""JSON Schemas of the files a user writes: a scenario, and a catalog overlay.

Both are exported from the pydantic models that read the files, with each field's docstring as
its description, so that an editor (VS Code's YAML extension, any ``yaml-language-server``
client) completes and checks the files as the program does. Two things are adapted to the files:

- a quantity read with a unit (``power_w: "5 GW"``, ``budget_usd: "$100B"``) accepts a number
  or a string, as the model does;
- a catalog overlay entry needs only its ``id`` when it updates a shipped entry (its other fields
  are laid over the shipped ones); a new id must be complete, which the model checks on load.

``stargate schema scenario`` and ``stargate schema catalog`` print them; copies are committed
under ``docs/schemas/``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["QUANTITY_STRING", "SCHEMA_KINDS", "json_schema", "model_schema", "schema_text"]

SCHEMA_KINDS = ("scenario", "catalog")
"""The files that have a schema."""

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
QUANTITY_STRING = {"type": "string", "description": "A number with its unit or scale ('5 GW', '$100B', '800 Gbit/s')."}
"""The string form a quantity may take besides a number (SI base units)."""


class _FileSchema(GenerateJsonSchema):
    """Pydantic's schema, with a number read through a converter accepting its string form too."""

    def function_before_schema(self, schema: core_schema.BeforeValidatorFunctionSchema) -> JsonSchemaValue:
        inner = self.generate_inner(schema["schema"])
        if inner.get("type") in ("number", "integer"):
            return {"anyOf": [inner, QUANTITY_STRING]}
        return inner


_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def _bounds(node: Any) -> Any:
    """Pydantic's bounds left around a converter (``gt``, ``le``: no JSON Schema keywords) as JSON
    Schema's, on the number they bound."""
    if isinstance(node, list):
        return [_bounds(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _bounds(v) for k, v in node.items() if k not in _BOUNDS}
    if len(out.get("allOf", ())) == 1 and "$ref" not in out:  # one reference with siblings: pydantic < 2.9's form
        out.update(out.pop("allOf")[0])
    bounds = {_BOUNDS[k]: v for k, v in node.items() if k in _BOUNDS}
    if bounds:
        numbers = [b for b in out.get("anyOf", [out]) if b.get("type") in ("number", "integer")]
        for b in numbers or [out]:
            b.update(bounds)
    return out


_SYSTEM_PRICES = ("rest_of_system_usd", "price_usd")
"""A system file entry gives one of these (:class:`stargate.catalog.schema.System`)."""


def _model(kind: str) -> type[BaseModel]:
    from stargate.catalog.schema import CatalogData
    from stargate.scenario import Scenario

    return Scenario if kind == "scenario" else CatalogData


def model_schema(kind: str) -> dict[str, Any]:
    """The schema of the model that reads a ``scenario`` or ``catalog`` file, every field as the
    model requires it (a catalog entry complete), quantities as numbers or strings.

    Examples
    --------
    >>> "tdp_w" in model_schema("catalog")["$defs"]["Accelerator"]["required"]
    True
    """
    from stargate.errors import InputError

    if kind not in SCHEMA_KINDS:
        raise InputError("KIND", kind, " or ".join(SCHEMA_KINDS))
    schema: dict[str, Any] = _bounds(_model(kind).model_json_schema(schema_generator=_FileSchema))
    system = schema.get("$defs", {}).get("System")
    if system is not None:  # a file prices a system by its rest or its whole price; the catalog derives the other
        system["required"] = [f for f in system["required"] if f not in _SYSTEM_PRICES]
        system["anyOf"] = [{"required": [f]} for f in _SYSTEM_PRICES]
    return schema


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``scenario`` or ``catalog`` overlay file.

    Parameters
    ----------
    kind : str
        One of :data:`SCHEMA_KINDS`.

    Returns
    -------
    dict
        The schema, ``$defs`` holding one definition per model.

    Examples
    --------
    >>> s = json_schema("scenario")
    >>> s["required"]
    ['name', 'phases']
    >>> power = s["$defs"]["Phase"]["properties"]["power_w"]["anyOf"]  # 5e9 or "5 GW", or left out
    >>> [branch["type"] for branch in power[0]["anyOf"]], power[1]["type"]
    (['number', 'string'], 'null')
    >>> json_schema("catalog")["$defs"]["Accelerator"]["required"]
    ['id']
    """
    from stargate.catalog.schema import KINDS

    schema = model_schema(kind)
    if kind == "catalog":
        for entry in KINDS.values():
            d = schema["$defs"][entry.__name__]
            full = [f for f in d.get("required", []) if f != "id"]
            d["required"] = ["id"]
            if full:
                d["description"] = (d.get("description", "") + f"\n\nA new id must also give: {', '.join(full)}.").strip()
    return {"$schema": _DIALECT, **schema}


def schema_text(kind: str) -> str:
    """:func:`json_schema` as the text committed under ``docs/schemas/`` (2-space indent, keys sorted).

    Examples
    --------
    >>> schema_text("scenario").splitlines()[1]
    '  "$defs": {'
    """
    return json.dumps(json_schema(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
