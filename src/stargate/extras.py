"""Optional extras: the libraries each one installs, and the one-line error when one is missing.

The core (``stargate design``, ``fabric``, ``train``, ``plan``, ``report``, ``catalog``) needs
none of them. The web server, sweeps and their Dask backend, the refits of ``validate --cv``, and the
Sobol indices of ``stargate sensitivity`` each come with an extra, named in
``pyproject.toml``; a command that needs one that is not installed says which, and how to install it,
and exits with code 2.
"""

from __future__ import annotations

import importlib

from stargate.errors import MissingExtra

__all__ = ["EXTRAS", "require"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "web": ("fastapi", "uvicorn"),
    "sweep": ("duckdb", "pyarrow"),
    "dask": ("dask.distributed",),
    "calibrate": ("scipy",),
    "uncertainty": ("SALib",),
}
"""Modules each extra provides, as imported (``pip install 'stargate[EXTRA]'`` installs them)."""


def require(what: str, extra: str) -> None:
    """Import the modules of ``extra``, or raise :class:`MissingExtra` naming ``what`` needs it.

    Parameters
    ----------
    what : str
        The command or option that needs the extra, as the user typed it (``'stargate serve'``).
    extra : str
        A key of :data:`EXTRAS`.

    Examples
    --------
    >>> import sys
    >>> saved = sys.modules.get("duckdb")
    >>> sys.modules["duckdb"] = None  # as if it were not installed
    >>> try:
    ...     require("'stargate query'", "sweep")
    ... except MissingExtra as e:
    ...     print(e)
    'stargate query' needs the sweep extra (duckdb is not installed): pip install 'stargate[sweep]'
    >>> if saved is None:
    ...     del sys.modules["duckdb"]
    ... else:
    ...     sys.modules["duckdb"] = saved
    """
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            raise MissingExtra(what, extra, module.split(".")[0]) from None
