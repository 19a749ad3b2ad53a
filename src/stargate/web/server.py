"""Running the web app: the listening socket, checked before anything starts, and uvicorn with
connection limits, so that neither a bad ``--host``/``--port`` nor a slow client gets a traceback
or a connection held open.

What is guaranteed against slow or idle clients (h11 protocol):

- a connection that has not sent a complete request head within ``HEADER_SECONDS`` of opening (or
  of its previous response) is closed, however slowly it trickles bytes (:func:`guarded_protocol`);
- a request head over ``MAX_HEAD_BYTES`` is refused (400) by h11;
- a body must arrive within ``BODY_SECONDS`` (408) and stay under ``MAX_BODY_BYTES`` (413)
  (:class:`stargate.web.safety.BodyLimit`);
- an idle keep-alive connection is closed after ``KEEP_ALIVE_SECONDS``;
- past ``MAX_CONNECTIONS`` open connections and requests, new requests get a 503.

Not guaranteed: a client that reads its response very slowly holds its connection until it
finishes or goes away (bounded by the response size), and many slow clients can still use up
``MAX_CONNECTIONS``; put a reverse proxy in front of a server that faces the internet.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

from stargate.errors import InputError

__all__ = ["HEADER_SECONDS", "KEEP_ALIVE_SECONDS", "MAX_CONNECTIONS", "MAX_HEAD_BYTES", "bind", "guarded_protocol",
           "run_server", "server_config"]

HEADER_SECONDS = 10.0
"""Most time a connection may take to send a complete request head."""
KEEP_ALIVE_SECONDS = 5
"""Idle time after which a keep-alive connection is closed."""
MAX_CONNECTIONS = 100
"""Most connections and requests at once; past it new requests get a 503."""
MAX_HEAD_BYTES = 16 * 1024
"""Largest request line plus headers."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, or an :class:`InputError` naming ``--host`` or ``--port``.

    Examples
    --------
    >>> bind("127.0.0.1", 70000)
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --port: 70000 is not allowed; expected a TCP port from 1 to 65535
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError("--port", port, "a TCP port from 1 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError, ValueError):
        raise InputError("--host", host, "an address or name of this machine, such as 127.0.0.1, ::1 or 0.0.0.0"
                         ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart at once after a stop
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise InputError("--port", port, "a free port (another program is listening on this one)") from None
        if e.errno in (errno.EACCES, errno.EPERM):
            raise InputError("--port", port, "a port this user may open (ports under 1024 need privileges)") from None
        raise InputError("--host", host, f"an address of this machine ({e.strerror or e})") from None
    sock.set_inheritable(True)
    return sock


def guarded_protocol(header_seconds: float = HEADER_SECONDS) -> Any:
    """uvicorn's h11 protocol, closing a connection whose request head is not complete within
    ``header_seconds`` of opening or of its previous response (uvicorn has no such timeout: its
    keep-alive timer stops at the first byte, so a client trickling a byte at a time is never closed)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _guard: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._guard is not None:
                self._guard.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._guard is not None:
                self._guard.cancel()
            self._guard = self.loop.call_later(header_seconds, self._expire)

        def _expire(self) -> None:
            waiting = self.cycle is None or self.cycle.response_complete  # no request in progress
            if waiting and not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


def server_config(app: Any, header_seconds: float = HEADER_SECONDS) -> Any:
    """The uvicorn configuration: h11 with the head timeout and size cap, keep-alive and concurrency limits."""
    import uvicorn

    return uvicorn.Config(app, http=guarded_protocol(header_seconds), log_level="warning",
                          timeout_keep_alive=KEEP_ALIVE_SECONDS, limit_concurrency=MAX_CONNECTIONS,
                          h11_max_incomplete_event_size=MAX_HEAD_BYTES, timeout_graceful_shutdown=5,
                          server_header=False)


def run_server(sock: socket.socket, host: str, sweep_dir: Path | None = None) -> None:
    """Serve the dashboard and API on ``sock`` (from :func:`bind`, for ``host``) until interrupted."""
    import uvicorn

    from stargate.web.app import create_app

    uvicorn.Server(server_config(create_app(sweep_dir, host=host))).run(sockets=[sock])
