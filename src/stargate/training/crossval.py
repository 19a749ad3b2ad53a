"""``stargate validate --cv``: cross-validated figures beside the in-sample ones.

The model's fitted constants (:data:`stargate.training.calibration.PARAMS`) are refitted on the runs
file without each source (``--cv source``) or each accelerator generation (``--cv generation``), and
the left-out rows are predicted with those constants (:func:`stargate.training.calibration.cross_validate`).
The report gains ``cv_by``, ``cross_validated`` (the shape of the in-sample ``summary``) and, per row,
``cv_predicted_tokens_per_s_per_gpu`` and ``cv_error``. The refit needs scipy (the ``calibrate`` extra).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from stargate.catalog import Catalog
from stargate.errors import InputError, MissingExtra
from stargate.training.calibration import CV_BY, cross_validate
from stargate.training.validate import summarize

__all__ = ["CV_BY", "add_cross_validation", "check_cv"]

def check_cv(by: str) -> None:
    """Raise the one-line error for a ``--cv`` value that is not allowed, or a missing scipy.

    Examples
    --------
    >>> check_cv("source")
    >>> check_cv("sauce")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --cv: 'sauce' is not allowed; expected source or generation
    """
    if by not in CV_BY:
        raise InputError("--cv", by, " or ".join(CV_BY))
    if importlib.util.find_spec("scipy") is None:
        raise MissingExtra("--cv", "calibrate", "scipy")


def add_cross_validation(report: dict[str, Any], rows: list[dict[str, str]], by: str, catalog: Catalog,
                         progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """``report`` (``summary`` and ``rows`` of ``stargate validate``) with the leave-one-``by``-out figures.

    ``progress(done, total, what)`` is told of each refit (one on every row, then one per group). On
    the whole ``published_runs.csv`` this takes minutes: each refit predicts every row a few hundred times.

    Examples
    --------
    >>> add_cross_validation({"summary": {}, "rows": []}, [], "source", Catalog.load())["cv_by"]
    'source'
    """
    check_cv(by)
    held = cross_validate(rows, by, catalog, progress) if rows else []
    out = {**report, "cv_by": by, "cross_validated": summarize(held)}
    for row, r in zip(out["rows"], held, strict=True):
        d = r.as_dict()
        row.update(cv_predicted_tokens_per_s_per_gpu=d["predicted_tokens_per_s_per_gpu"], cv_error=d["error"])
    return out
