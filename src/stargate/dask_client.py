"""The Dask backend of the commands that offer one: a local cluster or a running scheduler.

``stargate sweep`` evaluates its chunks of designs and ``stargate plan --uncertainty`` its chunks of
samples on Dask when asked: ``--dask-local N`` starts a local cluster of N worker processes (one thread
each) for the command's lifetime, ``--scheduler tcp://HOST:PORT`` connects to a running one whose workers
have the same version of Stargate installed. Both evaluate the same chunks with the same code as the
in-process backend, so results are identical bit for bit, whichever backend computed them.

A ``--scheduler`` is reached at once (within :data:`SCHEDULER_TIMEOUT_S`), so an address where nothing
answers is a one-line error before any work. Dask ends a local worker whose parent goes away (its
``parent_alive`` pipe closes); the workers of a remote scheduler drop a dead client's tasks.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from stargate.errors import InputError

__all__ = ["MAX_WORKERS", "SCHEDULER_TIMEOUT_S", "check_backend", "connect", "dask_map", "require_for_samples", "session"]

MAX_WORKERS = 256
"""Most local processes or local Dask workers one command may start."""
SCHEDULER_TIMEOUT_S = 5
"""How long to try to reach a ``--scheduler`` before giving up."""
_ADDRESS = re.compile(r"tcp://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})):(\d{1,5})")


def check_backend(scheduler: str | None = None, dask_local: int = 0) -> None:
    """Check the Dask options before any work: a whole number of local workers from 0 (none) to
    :data:`MAX_WORKERS`, an address of the form ``tcp://HOST:PORT``, and not both.

    Examples
    --------
    >>> check_backend("tcp://10.0.0.5:8786")
    >>> check_backend("10.0.0.5")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --scheduler: '10.0.0.5' is not allowed; expected a Dask scheduler address tcp://HOST:PORT
    """
    if isinstance(dask_local, bool) or not isinstance(dask_local, int) or not 0 <= dask_local <= MAX_WORKERS:
        raise InputError("--dask-local", dask_local, f"a whole number from 1 to {MAX_WORKERS}")
    if scheduler is not None:
        m = _ADDRESS.fullmatch(scheduler)
        if not m or not 1 <= int(m.group(1)) <= 65535:
            raise InputError("--scheduler", scheduler, "a Dask scheduler address tcp://HOST:PORT")
        if dask_local:
            raise InputError("--dask-local", dask_local, "either --scheduler or --dask-local, not both")


def require_for_samples(samples: int, scheduler: str | None, dask_local: Any,
                        names: tuple[str, str] = ("--scheduler", "--dask-local"), samples_option: str = "--uncertainty N") -> None:
    """The Dask options of a Monte Carlo, once :func:`check_backend` has passed them: given only with samples
    to evaluate, and then with the dask extra installed. The option is named as in ``names`` and its value
    echoed as given (on a command line, the text typed).

    Examples
    --------
    >>> require_for_samples(0, None, None)
    >>> require_for_samples(0, None, "2")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --dask-local: '2' is not allowed; expected only with --uncertainty N (Dask's workers evaluate its samples)
    """
    from stargate.extras import require

    if scheduler is None and dask_local in (None, 0):
        return
    option, value = (names[0], scheduler) if scheduler is not None else (names[1], dask_local)
    if not samples:
        raise InputError(option, value, f"only with {samples_option} (Dask's workers evaluate its samples)")
    require(option, "dask")


def connect(scheduler: str | None, local_workers: int) -> tuple[Any, Any]:
    """A client of the scheduler at ``scheduler``, or of a new local cluster of ``local_workers``
    processes: ``(client, cluster)``, the cluster None for a remote scheduler. An address where no
    scheduler answers within :data:`SCHEDULER_TIMEOUT_S` is an :class:`~stargate.errors.InputError`."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        return Client(cluster), cluster
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": f"{SCHEDULER_TIMEOUT_S}s"}):
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
    except (OSError, TimeoutError) as e:
        raise InputError("--scheduler", scheduler, f"the address of a running Dask scheduler (none answered "
                                                   f"within {SCHEDULER_TIMEOUT_S} s: {type(e).__name__})") from None


@contextlib.contextmanager
def session(scheduler: str | None, local_workers: int) -> Iterator[Any]:
    """:func:`connect`'s client for the block; the client and any local cluster are closed after it."""
    held = connect(scheduler, local_workers)
    try:
        yield held[0]
    finally:
        for thing in held:
            if thing is not None:
                thing.close()


def dask_map(client: Any, function: Callable[..., Any], *args: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """``function(*row)`` for each row of ``args`` on the client's workers: ``(row index, result)`` as each
    result arrives, each task's memory released once its result is read."""
    from dask.distributed import as_completed

    futures = client.map(function, *args, pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    for f in as_completed(futures):
        yield index[f.key], f.result()
        f.release()
