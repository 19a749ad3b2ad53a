"""SQL over a sweep's results: one read-only query on a locked-down connection, strict-JSON rows.

``stargate query DIR "SQL"`` runs exactly one statement that returns rows (``SELECT``, ``WITH``,
``FROM``, ``VALUES``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``, ``EXPLAIN``) on the connection of
:func:`~stargate.sweep.store.connect`: the verified chunks are the only files it can read, it can
write none (external access is disabled, the configuration locked), and it returns at most
:data:`MAX_ROWS` rows. :func:`json_value` turns what DuckDB returns into strict JSON: dates and
times as ISO 8601 strings, decimals as numbers, NaN and infinities as null, bytes as hex.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from pathlib import Path
from typing import Any

from stargate.errors import InputError, clip

__all__ = ["MAX_ROWS", "MAX_SQL_CHARS", "json_rows", "json_value", "run_query"]

MAX_SQL_CHARS = 100_000
"""Longest SQL text accepted."""
MAX_ROWS = 1_000_000
"""Most rows a query may return (add LIMIT for more)."""
_ALLOWED = "one read-only DuckDB query over `results` (SELECT, WITH, FROM, DESCRIBE, SUMMARIZE, EXPLAIN)"


def _statement(con: Any, sql: str) -> Any:
    import duckdb

    if not isinstance(sql, str) or len(sql) > MAX_SQL_CHARS:
        raise InputError("SQL", sql, f"{_ALLOWED} of at most {MAX_SQL_CHARS:,} characters")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise InputError("SQL", sql, f"valid DuckDB SQL over `results` ({clip(str(e).splitlines()[0], 200)})") from None
    if not statements:
        raise InputError("SQL", sql, f"{_ALLOWED} (this holds only spaces or comments)")
    if len(statements) > 1:
        raise InputError("SQL", sql, f"{_ALLOWED} (this holds {len(statements)} statements)")
    stmt = statements[0]
    if stmt.type not in (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
        raise InputError("SQL", sql, f"{_ALLOWED} (not a {str(stmt.type).rsplit('.', 1)[-1]} statement)")
    return stmt


def run_query(results: Path, sql: str) -> list[dict[str, Any]]:
    """Run one read-only query over a sweep's verified results; rows as dicts (DuckDB's Python values)."""
    import duckdb

    from stargate.sweep.store import connect

    con = connect(results)
    try:
        stmt = _statement(con, sql)
        try:
            cur = con.execute(stmt)
            names = [d[0] for d in cur.description or []]
            rows = cur.fetchmany(MAX_ROWS + 1)
        except duckdb.Error as e:
            raise InputError("SQL", sql, f"valid DuckDB SQL over `results` ({clip(str(e).splitlines()[0], 200)})") from None
    finally:
        con.close()
    if len(rows) > MAX_ROWS:
        raise InputError("SQL", sql, f"a query returning at most {MAX_ROWS:,} rows (add LIMIT)")
    return [dict(zip(names, r, strict=True)) for r in rows]


def json_value(v: Any) -> Any:
    """A value DuckDB returned, as strict JSON allows it.

    Examples
    --------
    >>> json_value(datetime.date(2024, 1, 1)), json_value(decimal.Decimal("1.50")), json_value(float("nan"))
    ('2024-01-01', 1.5, None)
    >>> json_value({"a": [float("inf"), b"\\x01"]})
    {'a': [None, '01']}
    """
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, decimal.Decimal):
        return float(v) if v.is_finite() and math.isfinite(float(v)) else None
    if isinstance(v, (datetime.date, datetime.time)):  # datetime is a date
        return v.isoformat()
    if isinstance(v, datetime.timedelta):
        return v.total_seconds()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [json_value(x) for x in v]
    if hasattr(v, "item"):  # a numpy scalar
        return json_value(v.item())
    return str(v)


def json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with every value made strict-JSON (:func:`json_value`)."""
    return [{k: json_value(v) for k, v in r.items()} for r in rows]
