"""Core work off the event loop, in worker processes, under a time cap that holds.

A thread cannot stop Python code that holds the GIL, so a cap enforced with ``asyncio.wait_for``
around a thread never fires while the work runs, and every other client waits. Here each request's
work runs in a worker *process*; a worker that runs past its cap is killed and replaced, so the
cap holds whatever the work does, and the event loop only ever waits on a pipe.

:class:`WorkerPool` keeps a few workers (started lazily, with the ``spawn`` start method: no
state is inherited from the server), each owned by one dispatch thread, so the pool works from
any event loop (and from FastAPI's ``TestClient``, which runs each request in a loop of its own).
Workers run in an empty directory of their own, so that no relative name can reach a file.
:class:`Memo` computes a result once per key and shares it, in flight or done, between requests.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from stargate.errors import InputError, clip, short_repr

__all__ = ["MAX_SECONDS", "MAX_WAIT_SECONDS", "Memo", "WorkBusy", "WorkError", "WorkFailed", "WorkTimeout",
           "WorkerPool", "encode_json"]

MAX_SECONDS = 8.0
"""Most compute time one request may take; past it the worker is killed and the request is a 503."""
MAX_WAIT_SECONDS = 10.0
"""Most time a request may wait for a free worker; past it the request is a 503 (the server is busy)."""
START_SECONDS = 60.0
"""Most time a new worker may take to import the core and say it is ready."""


class WorkError(Exception):
    """Work that gave no answer: ``status`` is the HTTP status to answer with, ``str()`` the reason."""

    status = 500


class WorkTimeout(WorkError):
    """The work ran past its cap; its worker was killed."""

    status = 503


class WorkBusy(WorkError):
    """No worker became free in time."""

    status = 503


class WorkFailed(WorkError):
    """The work raised an unexpected error, gave a non-finite number, or its worker died: a bug."""


def encode_json(value: Any) -> bytes:
    """Strict JSON (no ``NaN``/``Infinity``: a ``ValueError``), compact, UTF-8; numpy scalars as numbers.

    Examples
    --------
    >>> encode_json({"a": [1, 2.5, None]})
    b'{"a":[1,2.5,null]}'
    """
    def plain(o: Any) -> Any:
        if hasattr(o, "item") and callable(o.item):  # numpy scalar
            return o.item()
        raise TypeError(f"{type(o).__name__} is not JSON serializable")

    return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"), default=plain).encode()


def _portable(value: Any) -> Any:
    """An error's value as something that pickles and echoes safely: JSON scalars kept, others as a bounded repr."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else short_repr(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else short_repr(value)
    return short_repr(value)


def _answer(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Run one task; its outcome as a message that always pickles."""
    try:
        result = fn(*args)
    except InputError as e:
        return ("input", clip(str(e.field), 200), _portable(e.value), clip(str(e.allowed), 600))
    except Exception as e:  # noqa: BLE001 - a bug in the core: reported to the caller, never raised across the pipe
        return ("failed", f"{type(e).__name__}: {clip(str(e), 300)}")
    if isinstance(result, bytes | str):
        return ("ok", result)
    try:
        return ("ok", encode_json(result))
    except ValueError:  # NaN or an infinity: never sent
        return ("failed", "the answer holds a number that is not finite")
    except TypeError as e:
        return ("failed", f"the answer is not JSON ({clip(str(e), 200)})")


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the server dies (even by ``kill -9``)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # then the worker still exits when it finds its pipe closed


def _worker_main(conn: Any, workdir: str) -> None:
    """A worker process: answer ``(fn, args)`` messages until the pipe closes or says ``None``."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops its workers
    os.chdir(workdir)  # an empty directory: no relative name a request might carry reaches a file
    import stargate.web.tasks  # noqa: F401  (import the core once, before saying ready)

    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        if message is None:
            return
        fn, args = message
        conn.send(_answer(fn, args))


class _Worker:
    """One worker process and its pipe; used by one dispatch thread at a time."""

    def __init__(self, ctx: Any, workdir: str) -> None:
        self._ctx, self._workdir = ctx, workdir
        self.proc: Any = None
        self.conn: Any = None

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> tuple[Any, ...]:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        try:
            self.conn.send((fn, args))
            if not self.conn.poll(seconds):
                self.kill()
                raise WorkTimeout(f"computation over {seconds:g} s; ask for less")
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self.kill()
            raise WorkFailed("the worker process died") from None

    def _start(self) -> None:
        self.kill()
        parent, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(target=_worker_main, args=(child, self._workdir), daemon=True,
                                      name="stargate-web-worker")
        self.proc.start()
        child.close()
        self.conn = parent
        try:
            ready = parent.poll(START_SECONDS) and parent.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise WorkFailed("a worker process did not start")

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(5)
            self.proc = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class WorkerPool:
    """A few worker processes running tasks under a time cap; a worker past its cap is killed and replaced.

    Parameters
    ----------
    size : int
        Number of worker processes (each started on first use).
    max_seconds : float
        Default cap on one task's compute time.
    max_wait_seconds : float
        Most time a task may wait for a free worker before it is refused (:class:`WorkBusy`).
    """

    def __init__(self, size: int | None = None, max_seconds: float = MAX_SECONDS,
                 max_wait_seconds: float = MAX_WAIT_SECONDS) -> None:
        self.size = size or max(2, min(4, os.cpu_count() or 2))
        self.max_seconds, self.max_wait_seconds = max_seconds, max_wait_seconds
        self._ctx = multiprocessing.get_context("spawn")
        self._workdir = tempfile.mkdtemp(prefix="stargate-web-")
        self._local = threading.local()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="stargate-web-dispatch")
        self._finalizer = weakref.finalize(self, _shutdown, self._threads, self._workers, self._workdir)

    def submit(self, fn: Callable[..., Any], *args: Any, seconds: float | None = None) -> Future:
        """Queue ``fn(*args)`` (a module-level function, so that it pickles); a future of its answer."""
        return self._threads.submit(self._dispatch, fn, args, seconds or self.max_seconds, time.monotonic())

    async def run(self, fn: Callable[..., Any], *args: Any, seconds: float | None = None) -> Any:
        """``fn(*args)`` in a worker, awaited: its answer (JSON bytes for dicts), or the error it raised."""
        return await self.wait(self.submit(fn, *args, seconds=seconds))

    async def wait(self, future: Future, limit: float | None = None, shared: bool = False) -> Any:
        """Await a future from :meth:`submit` without blocking the event loop, for at most ``limit``
        seconds (default: long enough for any task to be queued, started and capped), then
        :class:`WorkBusy`; a ``shared`` future (from :class:`Memo`) is not cancelled when this
        request gives up or goes away."""
        if future.done():
            return future.result()
        limit = limit or self.max_wait_seconds + START_SECONDS + self.max_seconds
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting) if shared else waiting, timeout=limit)
        except TimeoutError:
            raise WorkBusy("the answer is still being computed; retry shortly") from None

    def close(self) -> None:
        """Stop every worker and the dispatch threads (also done when the pool is garbage-collected)."""
        self._finalizer()

    def _dispatch(self, fn: Callable[..., Any], args: tuple[Any, ...], seconds: float, queued: float) -> Any:
        if time.monotonic() - queued > self.max_wait_seconds:
            raise WorkBusy("the server is busy; retry shortly")
        worker = getattr(self._local, "worker", None)
        if worker is None:
            worker = self._local.worker = _Worker(self._ctx, self._workdir)
            with self._lock:
                self._workers.append(worker)
        kind, *rest = worker.call(fn, args, seconds)
        if kind == "ok":
            return rest[0]
        if kind == "input":
            raise InputError(*rest)
        raise WorkFailed(rest[0])


def _shutdown(threads: ThreadPoolExecutor, workers: list[_Worker], workdir: str) -> None:
    threads.shutdown(wait=False, cancel_futures=True)
    for w in list(workers):
        w.kill()
    shutil.rmtree(workdir, ignore_errors=True)


class Memo:
    """Answers computed once per key in a :class:`WorkerPool` and shared, in flight or done.

    A failed computation is forgotten, so the next request tries again; at most ``max_keys`` answers
    are kept (the oldest go first).
    """

    def __init__(self, pool: WorkerPool, max_keys: int = 16) -> None:
        self._pool, self._max_keys = pool, max_keys
        self._futures: OrderedDict[Hashable, Future] = OrderedDict()
        self._lock = threading.Lock()

    def future(self, key: Hashable, fn: Callable[..., Any], *args: Any, seconds: float | None = None) -> Future:
        """The future of ``fn(*args)`` under ``key``, submitted now unless one is in flight or done."""
        with self._lock:
            fut = self._futures.get(key)
            if fut is None or (fut.done() and (fut.cancelled() or fut.exception() is not None)):
                fut = self._futures[key] = self._pool.submit(fn, *args, seconds=seconds)
                while len(self._futures) > self._max_keys:
                    self._futures.popitem(last=False)
            return fut

    async def get(self, key: Hashable, fn: Callable[..., Any], *args: Any, seconds: float | None = None,
                  limit: float | None = None) -> Any:
        """The answer under ``key``: at once when it is known, else awaited (shared with other requests)
        for at most ``limit`` seconds (:meth:`WorkerPool.wait`); ``fn`` runs under the cap ``seconds``."""
        pool = self._pool
        limit = limit or pool.max_wait_seconds + START_SECONDS + (seconds or pool.max_seconds)
        return await pool.wait(self.future(key, fn, *args, seconds=seconds), limit, shared=True)
