"""Sweep constraints: boolean SQL expressions over the result columns, checked before any work.

A constraint is one DuckDB expression over the columns of a result row (``facility_power_w <= 5e9``,
``fits``, ``accelerator IN ('h100', 'gb200') AND mfu > 0.4``). Before a sweep computes anything,
each is parsed by DuckDB and bound against an empty table that has the results' exact schema
(:func:`~stargate.sweep.schema.result_columns`); it is refused, naming ``constraints[i]``, unless
it is

- at most :data:`MAX_CONSTRAINT_CHARS` characters, without ``;`` or comments;
- a single expression (the parsed statement is ``SELECT <expr> FROM <the empty table>`` and
  nothing else: no set operation, clause, subquery, window or aggregate);
- over known columns only, with deterministic scalar functions only (no table function such as
  ``read_csv``, so no file is ever read), on a connection with external access disabled;
- of type ``BOOLEAN``.

A design meets its constraints when it is feasible and every constraint is true for it; a
constraint that is NULL for a row, or fails on it (an overflowing cast), is not met
(``coalesce(TRY(expr), false)``). Constraints are evaluated by DuckDB over each chunk's Arrow
table at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from stargate.errors import InputError, clip

__all__ = ["MAX_CONSTRAINTS", "MAX_CONSTRAINT_CHARS", "compile_constraints", "meets_constraints"]

MAX_CONSTRAINT_CHARS = 500
"""Longest constraint expression accepted."""
MAX_CONSTRAINTS = 64
"""Most constraints a spec may list."""

_TABLE = "__stargate_results"
_ALLOWED = "a boolean DuckDB expression over the result columns, like 'facility_power_w <= 5e9' or 'fits'"
_CLASSES = {"COLUMN_REF", "CONSTANT", "COMPARISON", "CONJUNCTION", "OPERATOR", "FUNCTION", "CAST", "CASE",
            "BETWEEN", "TYPE", "COLLATE"}


def connection() -> Any:
    """A DuckDB connection that can read no file and change no setting (one thread)."""
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    for stmt in ("SET temp_directory=''", "SET allowed_directories=[]", "SET enable_external_access=false",
                 "SET lock_configuration=true"):
        con.execute(stmt)
    return con


def _empty(columns: dict[str, str]) -> Any:
    import pyarrow as pa

    types = {"bool": pa.bool_(), "string": pa.string(), "int64": pa.int64(), "double": pa.float64()}
    return pa.table({k: pa.array([], types[t]) for k, t in columns.items()})


@lru_cache(maxsize=1)
def _scalar_functions() -> frozenset[str]:
    """Names of DuckDB's deterministic scalar functions and macros without side effects."""
    con = connection()
    try:
        rows = con.execute("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN "
                           "('scalar', 'macro') AND NOT coalesce(has_side_effects, false) "
                           "AND coalesce(stability, 'CONSISTENT') = 'CONSISTENT'").fetchall()
    finally:
        con.close()
    return frozenset(r[0].lower() for r in rows)


def _refuse(i: int, text: str, why: str) -> InputError:
    return InputError(f"constraints[{i}]", text, f"{_ALLOWED} ({why})")


def _walk(node: Any, columns: set[str], found: list[str]) -> str | None:
    """The first reason to refuse the expression tree ``node``, or None; column names go to ``found``."""
    if isinstance(node, list):
        return next((r for r in (_walk(x, columns, found) for x in node) if r), None)
    if not isinstance(node, dict):
        return None
    kind = node.get("class")
    if kind is not None and kind not in _CLASSES:
        return f"{str(kind).lower().replace('_', ' ')} expressions are not allowed"
    if kind == "COLUMN_REF":
        names = node.get("column_names", [])
        name = ".".join(str(n) for n in names)
        if len(names) != 1 or name.lower() not in columns:
            return f"unknown column {clip(name, 60)!r}"
        found.append(name.lower())
    if kind == "FUNCTION":
        name = str(node.get("function_name", "")).lower()
        if node.get("schema") or node.get("catalog") or name not in _scalar_functions():
            return f"{clip(name, 60)}() is not a deterministic scalar function"
        orders = node.get("order_bys")
        if node.get("distinct") or node.get("filter") or (orders.get("orders") if isinstance(orders, dict) else orders):
            return f"{clip(name, 60)}() is an aggregate"
    return next((r for k, v in node.items() if k not in ("class", "type") and (r := _walk(v, columns, found))), None)


def _shape_problem(ast: dict[str, Any]) -> str | None:
    """Why the parsed ``SELECT <expr> FROM table`` is not exactly that, or None."""
    if ast.get("error"):
        return "DuckDB cannot parse it: " + clip(str(ast.get("error_message", "")).splitlines()[0], 160)
    stmts = ast.get("statements", [])
    if len(stmts) != 1:
        return "one expression, not several statements"
    node = stmts[0].get("node", {})
    source = node.get("from_table") or {}
    clauses = ("where_clause", "having", "qualify", "sample")
    if (node.get("type") != "SELECT_NODE" or len(node.get("select_list", [])) != 1 or node.get("modifiers")
            or node.get("group_expressions") or node.get("cte_map", {}).get("map") or any(node.get(c) for c in clauses)
            or source.get("type") != "BASE_TABLE" or source.get("table_name") != _TABLE
            or source.get("schema_name") or source.get("catalog_name")):
        return "a single expression"
    return None


def _check_one(con: Any, i: int, text: Any, columns: dict[str, str]) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _refuse(i, text, "a non-empty string")
    if len(text) > MAX_CONSTRAINT_CHARS:
        raise _refuse(i, text, f"at most {MAX_CONSTRAINT_CHARS} characters")
    if ";" in text or "--" in text or "/*" in text:
        raise _refuse(i, text, "no ';' and no comments")
    sql = f"SELECT ({text}) FROM {_TABLE}"
    rows = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()
    ast = json.loads(rows[0][0])
    why = _shape_problem(ast)
    if why is None:
        why = _walk(ast["statements"][0]["node"]["select_list"], set(columns), [])
    if why:
        raise _refuse(i, text, why)
    try:
        rel = con.sql(sql)
        kind, rows = str(rel.types[0]), rel.fetchall()
    except Exception as e:  # noqa: BLE001 - DuckDB raises many error types for an expression it cannot bind
        raise _refuse(i, text, clip(str(e).splitlines()[0], 160)) from None
    if rows:  # an aggregate gives one row over the empty table; an expression per row gives none
        raise _refuse(i, text, "an expression per row, not an aggregate")
    if kind != "BOOLEAN":
        raise _refuse(i, text, f"it is of type {kind}, not BOOLEAN")
    return text


def compile_constraints(constraints: Sequence[Any], columns: dict[str, str]) -> str:
    """Check every constraint against the result ``columns`` (name -> Arrow type) and return the SQL
    expression of ``meets_constraints``.

    Raises
    ------
    InputError
        Naming ``constraints[i]``, its text and what is allowed, for the first bad constraint.

    Examples
    --------
    >>> cols = {"feasible": "bool", "facility_power_w": "double", "fits": "bool"}
    >>> compile_constraints(["facility_power_w<=1e6", "fits"], cols)
    'coalesce(feasible, false) AND coalesce(TRY((facility_power_w<=1e6)), false) AND coalesce(TRY((fits)), false)'
    >>> compile_constraints(["power <= 1"], cols)
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: constraints[0]: 'power <= 1' is not allowed; expected a boolean DuckDB expression over the result columns, like 'facility_power_w <= 5e9' or 'fits' (unknown column 'power')
    """
    if len(constraints) > MAX_CONSTRAINTS:
        raise InputError("constraints", f"{len(constraints)} constraints", f"at most {MAX_CONSTRAINTS}")
    con = connection()
    try:
        con.register(_TABLE, _empty({k.lower(): t for k, t in columns.items()}))
        checked = [_check_one(con, i, c, {k.lower(): t for k, t in columns.items()}) for i, c in enumerate(constraints)]
    finally:
        con.close()
    return " AND ".join(["coalesce(feasible, false)", *(f"coalesce(TRY(({c})), false)" for c in checked)])


def meets_constraints(table: Any, expression: str) -> Any:
    """Evaluate a compiled constraint ``expression`` over an Arrow ``table``: a boolean Arrow array,
    one value per row, in row order."""
    con = connection()
    try:
        con.register(_TABLE, table)
        rel = con.sql(f"SELECT ({expression}) AS meets FROM {_TABLE}")
        out = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()
    finally:
        con.close()
    return out.column("meets").combine_chunks()
