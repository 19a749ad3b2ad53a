"""Print a pip constraints file that pins every direct dependency to its declared lower bound.

Reads ``pyproject.toml`` (the core dependencies and the extras named, following an extra that
names another extra of this project) and writes one ``name==lower`` line per requirement with a
``>=`` bound, so that ``pip install -c lowest.txt -e ".[test]"`` installs the oldest versions the
project claims to support. CI runs the test suite in such an environment::

    python scripts/lowest_versions.py test > lowest.txt
    python -m pip install -c lowest.txt -e ".[test]"

A requirement without a lower bound is an error: every direct dependency must state the oldest
version that works.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def requirements(project: dict, extras: list[str]) -> list[Requirement]:
    """The core requirements and those of ``extras``, recursing into this project's own extras."""
    name = canonicalize_name(project["name"])
    optional = project.get("optional-dependencies", {})
    todo, seen, out = list(extras), set(), [Requirement(r) for r in project.get("dependencies", [])]
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        if extra not in optional:
            raise SystemExit(f"lowest_versions: no extra {extra!r} in pyproject.toml")
        seen.add(extra)
        for text in optional[extra]:
            req = Requirement(text)
            if canonicalize_name(req.name) == name:
                todo.extend(req.extras)
            else:
                out.append(req)
    return out


def lower_bound(req: Requirement) -> str:
    """The version after ``>=`` in ``req``'s specifier; exits when there is none."""
    bounds = [s.version for s in req.specifier if s.operator == ">="]
    if len(bounds) != 1:
        raise SystemExit(f"lowest_versions: {req} needs exactly one '>=' lower bound")
    return bounds[0]


def main(argv: list[str]) -> None:
    """Write the constraints for the extras named on the command line to stdout."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {canonicalize_name(r.name): lower_bound(r) for r in requirements(project, argv)}
    sys.stdout.write("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
