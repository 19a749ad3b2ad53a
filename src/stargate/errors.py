"""Typed errors for bad input.

Every error raised for bad input names the field, the value and what is allowed, so that the
shells can print it as one line (the CLI, with exit code 2) or as an HTTP 422 body.
"""

from __future__ import annotations

from typing import Any


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
        super().__init__(f"{field}: {value!r} is not allowed; expected {allowed}")
