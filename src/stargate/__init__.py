"""Stargate: a planner and simulator for AI supercomputers.

The core (catalog, cluster, economics, ...) is pure: typed, frozen inputs in, typed results
with named, additive breakdowns out, no I/O. The shells (CLI, reports) are thin.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stargate")
    """The installed distribution's version (``pyproject.toml`` is its one source)."""
except PackageNotFoundError:  # a source tree run without installing it
    __version__ = "0+unknown"

_API = ("compare", "design", "fabric", "infer", "plan", "query", "sensitivity", "sweep", "to_pandas", "train")


def __getattr__(name: str) -> object:
    """The Python API's functions at the package root (``stargate.design(...)``), imported on first use
    so that ``import stargate`` and the CLI stay fast (:mod:`stargate.api`)."""
    if name in _API:
        from stargate import api

        return getattr(api, name)
    raise AttributeError(f"module 'stargate' has no attribute {name!r}")
