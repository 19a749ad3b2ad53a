"""Typed errors for bad input.

Every error raised for bad input names the field, the value and what is allowed, so that the
shells can print it as one line (the CLI, with exit code 2) or as an HTTP 422 body. What is echoed
is bounded (:data:`MAX_ECHO_CHARS`) and has its control characters escaped, whatever the input.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["MAX_ECHO_CHARS", "InputError", "MissingExtra", "clip", "short_repr"]

MAX_ECHO_CHARS = 120
"""Longest echo of a user's value in an error message; longer values are cut in the middle."""

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 6, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 4 * MAX_ECHO_CHARS, 4 * MAX_ECHO_CHARS, 4 * MAX_ECHO_CHARS


def clip(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """``text`` with control characters escaped, cut in the middle to at most ``limit`` characters.

    Examples
    --------
    >>> clip("a\\x1b[31mb")
    'a\\\\x1b[31mb'
    >>> len(clip("x" * 1000, 50))
    50
    """
    if len(text) > 8 * limit:
        text = text[: 4 * limit] + text[-4 * limit:]  # never escape a huge string whole
    text = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)
    if len(text) <= limit:
        return text
    keep = limit - 5
    return text[: keep - keep // 3] + " ... " + text[-(keep // 3):]


def short_repr(value: Any, limit: int = MAX_ECHO_CHARS) -> str:
    """A bounded ``repr``: containers to three levels and six items, strings and numbers cut in the
    middle, control characters escaped; never longer than ``limit``.

    Examples
    --------
    >>> short_repr("5 GW")
    "'5 GW'"
    >>> len(short_repr("x" * 10_000))
    120
    >>> short_repr({"a": [1] * 100_000})
    "{'a': [1, 1, 1, 1, 1, 1, ...]}"
    >>> short_repr(10 ** 5000)
    'an integer of about 5,000 digits'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4000:
        return clip(f"an integer of about {int(value.bit_length() * 0.30103):,} digits", limit)
    return clip(_REPR.repr(value), limit)


class InputError(ValueError):
    """Bad input: a field holds a value that is not allowed.

    Parameters
    ----------
    field : str
        The field (option, YAML key or catalog path) that holds the value.
    value : Any
        The offending value.
    allowed : str
        What is allowed instead, phrased to complete "expected ...".

    Examples
    --------
    >>> print(InputError("budget", -1.0, "a positive number of US dollars"))
    budget: -1.0 is not allowed; expected a positive number of US dollars
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{clip(str(field), 200)}: {short_repr(value)} is not allowed; expected {clip(str(allowed), 400)}")


class MissingExtra(InputError):
    """An option needs an optional extra that is not installed (exit code 2, like bad input).

    Examples
    --------
    >>> print(MissingExtra("--cv", "calibrate", "scipy"))
    --cv needs the calibrate extra (scipy is not installed): pip install 'stargate[calibrate]'
    """

    def __init__(self, option: str, extra: str, package: str) -> None:
        super().__init__(option, package, f"the {extra} extra installed: pip install 'stargate[{extra}]'")
        self.args = (f"{option} needs the {extra} extra ({package} is not installed): pip install 'stargate[{extra}]'",)
