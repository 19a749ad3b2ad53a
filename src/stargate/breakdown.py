"""Named, additive breakdowns: the parts of a total, each with a name.

Time, memory, power and cost are reported as breakdowns whose parts add up to the total. A
breakdown is a frozen dataclass of floats (or numpy arrays of candidates); ``total`` is the
sum of its fields, and ``as_dict`` gives ``{part: value}`` for reports.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Base class: subclasses declare one float field per part.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True, slots=True)
    ... class Split(Breakdown):
    ...     a: float
    ...     b: float
    >>> Split(1.0, 2.5).total
    3.5
    """

    @property
    def total(self) -> Any:
        """Sum of all parts."""
        parts = [getattr(self, f.name) for f in fields(self)]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    def as_dict(self, index: int = 0) -> dict[str, float]:
        """Parts as a ``{name: float}`` mapping; for arrays of candidates, those of candidate ``index``."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = float(v) if isinstance(v, (int, float)) else float(np.ravel(v)[index if np.size(v) > 1 else 0])
        return out

    def as_arrays(self) -> dict[str, Any]:
        """Parts as a ``{name: value}`` mapping, values as they are (arrays for candidates)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def scaled(self, factor: Any) -> Any:
        """The same breakdown with every part multiplied by ``factor``."""
        return type(self)(*(getattr(self, f.name) * factor for f in fields(self)))
