"""Interpolation on measured grids, in log space, and the checks every lookup shares.

All tables hold ``log2`` of a rate (TFLOP/s or GB/s) on axes that are ``log2`` of a size. Between
grid points the rate is interpolated multilinearly in those coordinates (so it lies between its
neighbours); outside the grid the coordinates are clamped to its edge, which holds the edge rate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError

__all__ = ["Grid", "PairGrid", "bracket", "memoize_scalars", "positive", "result"]

F = TypeVar("F", bound=Callable[..., Any])
_PLAIN = (str, int, float, np.generic, Catalog)


def bracket(axis: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices ``i0, i1`` and weight ``w`` with ``x ≈ (1 - w)·axis[i0] + w·axis[i1]``, ``x`` clamped to the axis.

    Examples
    --------
    >>> i0, i1, w = bracket(np.array([0.0, 1.0, 3.0]), np.array([-1.0, 2.0, 9.0]))
    >>> i0.tolist(), i1.tolist(), w.tolist()
    ([0, 1, 1], [1, 2, 2], [0.0, 0.5, 1.0])
    """
    n = axis.size
    if n == 1:
        zero = np.zeros(np.shape(x), dtype=np.intp)
        return zero, zero, np.zeros(np.shape(x))
    xc = np.clip(x, axis[0], axis[-1])
    i0 = np.clip(np.searchsorted(axis, xc, side="right") - 1, 0, n - 2)
    i1 = i0 + 1
    return i0, i1, (xc - axis[i0]) / (axis[i1] - axis[i0])


class Grid:
    """Multilinear interpolation of ``values`` (log2 rates) on a regular grid of log2 axes.

    Parameters
    ----------
    axes : sequence of numpy.ndarray
        Sorted axis values (sizes, not logs).
    values : numpy.ndarray
        log2 of the rate at every grid point, shape ``[len(a) for a in axes]``.

    Examples
    --------
    >>> g = Grid([np.array([1, 4]), np.array([2, 8])], np.array([[0.0, 2.0], [2.0, 4.0]]))
    >>> float(g(np.log2(2.0), np.log2(4.0)))
    2.0
    """

    def __init__(self, axes: list[np.ndarray], values: np.ndarray) -> None:
        self.lo = tuple(float(a[0]) for a in axes)
        self.hi = tuple(float(a[-1]) for a in axes)
        self.axes = tuple(np.log2(np.asarray(a, dtype=float)) for a in axes)
        self.values = np.ascontiguousarray(values, dtype=float).ravel()
        shape = values.shape
        self.strides = tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))

    def __call__(self, *log2_coords: np.ndarray) -> np.ndarray:
        """log2 of the interpolated rate at the given log2 coordinates (broadcast together)."""
        terms = [((i0 * st, 1.0 - w), (i1 * st, w))
                 for ax, c, st in zip(self.axes, log2_coords, self.strides, strict=True)
                 for i0, i1, w in (bracket(ax, c),)]
        corners: list[tuple[Any, Any]] = list(terms[0])
        for axis in terms[1:]:  # combine axis by axis: offsets add, weights multiply
            corners = [(o + oa, wt * wa) for o, wt in corners for oa, wa in axis]
        out = 0.0
        for offset, weight in corners:
            out = out + weight * self.values[offset]
        return np.asarray(out, dtype=float)


class PairGrid:
    """An attention table: log2 rate over (head pair, batch, x) with irregular head pairs.

    The pairs are the measured ``(query heads, kv heads)`` combinations. A query is placed between
    the two measured query-head counts around it (log2), and within each of those between the two
    measured GQA ratios ``heads / kv_heads`` around its own (log2, clamped); batch and ``x``
    (sequence length, or KV tokens + 1) are interpolated in log2 as in :class:`Grid`.

    Examples
    --------
    >>> pairs = np.array([[8, 1], [8, 8]])
    >>> v = np.array([[[1.0]], [[3.0]]])  # two pairs, one batch, one x
    >>> g = PairGrid(pairs, np.array([1]), np.array([1.0]), v)
    >>> round(float(g(np.log2(8.0), np.log2(8 / 4), 0.0, 0.0)), 3)  # GQA ratio 2: a third of the way from 1 to 8
    2.333
    """

    def __init__(self, pairs: np.ndarray, batch: np.ndarray, x: np.ndarray, values: np.ndarray) -> None:
        hq = pairs[:, 0].astype(float)
        lg = np.log2(hq / pairs[:, 1])
        self.hq_axis = np.unique(hq)
        self.lhq = np.log2(self.hq_axis)
        width = max(int((hq == h).sum()) for h in self.hq_axis)
        self.row_lg = np.empty((len(self.hq_axis), width))
        self.row_pair = np.empty((len(self.hq_axis), width), dtype=np.intp)
        for r, h in enumerate(self.hq_axis):
            idx = np.flatnonzero(hq == h)
            idx = idx[np.argsort(lg[idx])]
            pad = np.concatenate([idx, np.repeat(idx[-1:], width - len(idx))])
            self.row_lg[r], self.row_pair[r] = lg[pad], pad
        self.inner = Grid([batch, x], values[0])
        self.values = np.ascontiguousarray(values, dtype=float).reshape(len(pairs), -1)

    def __call__(self, log2_heads, log2_gqa, log2_batch, log2_x) -> np.ndarray:
        """log2 of the interpolated rate (arguments broadcast together; the head-pair bracket is
        computed on the broadcast shape of the head arguments only, usually a scalar)."""
        lhq, lg = np.broadcast_arrays(np.asarray(log2_heads, dtype=float), np.asarray(log2_gqa, dtype=float))
        h0, h1, wh = bracket(self.lhq, lhq)
        b0, b1, wb = bracket(self.inner.axes[0], np.asarray(log2_batch, dtype=float))
        x0, x1, wx = bracket(self.inner.axes[1], np.asarray(log2_x, dtype=float))
        nx = self.inner.axes[1].size
        cells = [(b0 * nx + x0, (1 - wb) * (1 - wx)), (b0 * nx + x1, (1 - wb) * wx),
                 (b1 * nx + x0, wb * (1 - wx)), (b1 * nx + x1, wb * wx)]
        out = 0.0
        for row, w_row in ((h0, 1.0 - wh), (h1, wh)):
            for pair, w_pair in self._gqa(row, lg):
                w_hp = w_row * w_pair
                for cell, w_cell in cells:
                    out = out + (w_hp * w_cell) * self.values[pair, cell]
        return np.asarray(out, dtype=float)

    def _gqa(self, row: np.ndarray, lg: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The two measured pairs of query-head row ``row`` around GQA ratio ``lg``, with weights."""
        glist = self.row_lg[row]
        lgc = np.clip(lg, glist[..., 0], glist[..., -1])
        width = glist.shape[-1]
        j0 = np.clip((glist <= lgc[..., None]).sum(-1) - 1, 0, max(width - 2, 0))
        j1 = np.minimum(j0 + 1, width - 1)
        g0 = np.take_along_axis(glist, j0[..., None], -1)[..., 0]
        g1 = np.take_along_axis(glist, j1[..., None], -1)[..., 0]
        span = g1 - g0
        wg = np.where(span > 0, (lgc - g0) / np.where(span > 0, span, 1.0), 0.0)
        return [(self.row_pair[row, j0], 1.0 - wg), (self.row_pair[row, j1], wg)]


def positive(name: str, value: Any, *, integer: bool = False) -> np.ndarray:
    """``value`` as a float array, every element finite and > 0 (whole numbers if ``integer``), else
    :class:`~stargate.errors.InputError` naming ``name``.

    Examples
    --------
    >>> positive("m", [1, 2]).tolist()
    [1.0, 2.0]
    >>> positive("m", 0)
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: m: 0.0 is not allowed; expected a positive finite number
    """
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, value, "a positive finite number or an array of them") from None
    ok = np.isfinite(a) & (a > 0)
    if integer:
        ok &= a == np.floor(a)
    if not ok.all():
        bad = a[~ok].ravel()[0] if a.ndim else a
        raise InputError(name, float(bad), f"a positive finite {'whole ' if integer else ''}number")
    return a


def result(x: np.ndarray, *inputs: Any) -> float | np.ndarray:
    """A Python float when every input was a scalar, else the array."""
    if all(np.ndim(i) == 0 for i in inputs):
        return float(x)
    return x


def memoize_scalars(fn: F) -> F:
    """Memoize a pure lookup for calls whose arguments are all plain scalars (numbers, strings,
    None, a catalog), so that a search asking for the same shape again pays a dictionary lookup.
    Calls with arrays (or anything else) go straight to ``fn``.

    Examples
    --------
    >>> calls = []
    >>> @memoize_scalars
    ... def square(x):
    ...     calls.append(x)
    ...     return x * x
    >>> square(3), square(3), len(calls)
    (9, 9, 1)
    >>> square(np.array([2, 3])).tolist(), len(calls)
    ([4, 9], 2)
    """
    cached = lru_cache(maxsize=1 << 16)(fn)

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if all(a is None or isinstance(a, _PLAIN) for a in (*args, *kwargs.values())):
            return cached(*args, **kwargs)
        return fn(*args, **kwargs)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
