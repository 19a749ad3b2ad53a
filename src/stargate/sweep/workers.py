"""Worker processes that die with their parent.

A ``--processes N`` sweep runs its chunks in a process pool. If the driver is killed
(``kill -9``, the OOM killer), nothing closes the pool: its workers would wait on their task
queue forever, holding memory and CPU. :func:`die_with_parent`, the pool's initializer, makes each
worker follow its parent in two independent ways:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment the
  parent thread that started it exits (the pool starts its workers from the driver's main thread,
  which lives as long as the driver);
- everywhere, a daemon thread that checks twice a second that the worker's parent is still the
  driver (``os.getppid()`` changes when the parent dies and the worker is re-parented) and exits
  at once when it is not.

Dask's local workers (``--dask-local N``) are started by Dask's nannies inside the driver
process; Dask itself ends each worker whose parent goes away (its ``parent_alive`` pipe closes).
Workers of a remote ``--scheduler`` are not the driver's processes: they stay up and the
scheduler drops the dead client's tasks.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["POLL_S", "die_with_parent"]

POLL_S = 0.5
"""How often the watchdog thread looks at its parent."""
_PR_SET_PDEATHSIG = 1


def _pdeathsig() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(POLL_S)
        if os.getppid() != parent_pid:
            os._exit(70)


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit when ``parent_pid`` (its parent) dies; a pool initializer."""
    _pdeathsig()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(70)
    threading.Thread(target=_watch, args=(parent_pid,), daemon=True, name="stargate-parent-watch").start()
