"""What stands between the network and the core: body caps on the stream, a Host allow-list on
loopback, and error bodies that are valid JSON, bounded, and shaped as the published OpenAPI schema.

Every 422 body is FastAPI's ``HTTPValidationError``: ``{"detail": [{"loc", "msg", "type", "input"}]}``
where ``loc`` names the field as the request wrote it and ``input`` echoes its value, bounded
(:func:`echo`). Nothing non-finite or unbounded from a request ever reaches a response.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from typing import Any

import anyio
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stargate.errors import MAX_ECHO_CHARS, clip, short_repr

__all__ = ["BodyLimit", "ErrorMessage", "FieldError", "HostAllowList", "echo", "error_response", "is_loopback",
           "loopback_hosts", "validation_error"]

MAX_ERRORS = 20
"""Most entries in one 422 body (a body with a thousand unknown keys gets the first twenty)."""
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
"""Host header names a server bound to loopback answers to (any port)."""


def echo(value: Any, depth: int = 0) -> Any:
    """A request value as a 422 body may echo it: JSON as JSON, bounded (strings cut in the middle,
    containers to two levels and six items); anything non-finite, huge or not JSON as bounded text.

    Examples
    --------
    >>> echo(5), echo("5 GB"), echo(float("nan")), echo(10**5000)
    (5, '5 GB', 'nan', 'an integer of about 5,000 digits')
    >>> echo({"gpus": 8, "oversubscription": list(range(100))})
    {'gpus': 8, 'oversubscription': [0, 1, 2, 3, 4, 5, '... 94 more']}
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else short_repr(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return clip(value, MAX_ECHO_CHARS if depth == 0 else 40)
    if isinstance(value, bytes | bytearray):
        return clip(bytes(value[:4096]).decode("utf-8", "replace"))
    if isinstance(value, dict | list | tuple) and depth < 2:
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        more = [f"... {len(items) - 6} more"] if len(items) > 6 else []
        if isinstance(value, dict):
            out = {clip(str(k), 40): echo(v, depth + 1) for k, v in items[:6]}
            return out | ({"...": more[0]} if more else {})
        return [echo(v, depth + 1) for _, v in items[:6]] + more
    return short_repr(value, 40)


def error_response(status: int, content: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response; strict JSON whatever ``content`` holds (non-finite numbers become text)."""
    try:
        json.dumps(content, allow_nan=False)
    except (ValueError, TypeError):
        content = json.loads(json.dumps(content, default=short_repr, allow_nan=True),
                             parse_constant=lambda name: name)
    return JSONResponse(status_code=status, content=content, headers=headers)


class ErrorMessage(BaseModel):
    """An error that is not about one field: too large, too slow, busy, not found."""

    detail: str


class FieldError(Exception):
    """A request field that holds a value not allowed: rendered as a one-entry 422."""

    def __init__(self, loc: list[str | int], msg: str, value: Any, kind: str = "value_error") -> None:
        super().__init__(msg)
        self.loc, self.msg, self.value, self.kind = loc, msg, value, kind

    def response(self) -> JSONResponse:
        """The 422 response naming the field and echoing the value."""
        entry = {"loc": [clip(p) if isinstance(p, str) else p for p in self.loc], "msg": clip(self.msg, 600),
                 "type": self.kind, "input": echo(self.value)}
        return error_response(422, {"detail": [entry]})


def _user_loc(loc: tuple[Any, ...]) -> list[str | int]:
    """``loc`` as the request wrote it: where, the key, then list indexes (no union-member tags)."""
    if not loc:
        return ["body"]
    out: list[str | int] = [str(loc[0])]
    if len(loc) > 1:
        out.append(loc[1] if isinstance(loc[1], int) else clip(str(loc[1])))
    out += [p for p in loc[2:] if isinstance(p, int)]
    return out


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 for a body the models refuse: one entry per field, bounded, in the OpenAPI schema's shape."""
    detail, seen = [], set()
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    for err in errors:
        loc = _user_loc(tuple(err.get("loc", ())))
        if tuple(loc) in seen:
            continue  # a union gives one error per member; the first names the field
        seen.add(tuple(loc))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid" and isinstance(err.get("ctx"), dict):
            msg = f"{msg}: {err['ctx'].get('error', '')}"
        entry = {"loc": loc, "msg": clip(msg, 300), "type": clip(str(err.get("type", "value_error")), 60)}
        if err.get("type") != "json_invalid" and "input" in err:
            entry["input"] = echo(err["input"])
        detail.append(entry)
        if len(detail) == MAX_ERRORS:
            break
    detail = detail or [{"loc": ["body"], "msg": "invalid request", "type": "value_error"}]
    return error_response(422, {"detail": detail})


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Pure ASGI middleware: read each request's body, however it is framed (``Content-Length`` or
    chunked), counting bytes as they arrive; more than ``max_bytes`` is a 413 at once, a body not
    complete within ``max_seconds`` a 408. The app then sees the buffered body.

    Parameters
    ----------
    app : ASGIApp
        The application to protect.
    max_bytes : int
        Largest body accepted.
    max_seconds : float
        Most time the whole body may take to arrive (a slow client cannot hold a request open).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_seconds: float = 10.0) -> None:
        self.app, self.max_bytes, self.max_seconds = app, max_bytes, max_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = {"detail": f"request body over {self.max_bytes} bytes"}
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or len(declared) > 12 or int(declared) > self.max_bytes:
            await _send_json(send, 413, too_large)
            return
        body: bytes | None = None
        try:
            with anyio.move_on_after(self.max_seconds):
                body = await self._read(receive)
        except _TooLarge:
            await _send_json(send, 413, too_large)
            return
        if body is None:  # the client went away, or was too slow
            await _send_json(send, 408, {"detail": f"request body not received within {self.max_seconds:g} s"})
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::[0-9]{1,5})?")


def is_loopback(host: str | None) -> bool:
    """Whether a bind address serves this machine only.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host is None:
        return False
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_hosts(bind: str) -> tuple[str, ...]:
    """Host names a server bound to the loopback address ``bind`` answers to: the usual three and
    ``bind`` itself (``127.0.0.2``, ``[::1]``).

    Examples
    --------
    >>> loopback_hosts("127.0.0.2")
    ('localhost', '127.0.0.1', '[::1]', '127.0.0.2')
    """
    name = bind.strip("[]").lower()
    name = f"[{name}]" if ":" in name else name
    return LOOPBACK_HOSTS if name in LOOPBACK_HOSTS else (*LOOPBACK_HOSTS, name)


class HostAllowList:
    """Pure ASGI middleware: answer only requests whose ``Host`` header names one of ``hosts`` (any
    port); others get a 400. On a server bound to loopback this stops DNS rebinding, where a web
    page makes a browser send requests to 127.0.0.1 under the attacker's host name."""

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...] = LOOPBACK_HOSTS) -> None:
        self.app, self.hosts = app, tuple(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            values = [v for k, v in scope.get("headers") or [] if k == b"host"]
            match = _HOST.fullmatch(values[0].decode("latin-1")) if len(values) == 1 else None
            if match is None or match["name"].lower() not in self.hosts:
                if scope["type"] == "http":
                    await _send_json(send, 400, {"detail": f"Host header not allowed; this server answers to "
                                                           f"{', '.join(self.hosts)} only"})
                return
        await self.app(scope, receive, send)
