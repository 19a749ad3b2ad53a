"""Reading what users hand the tool: files, YAML and the values echoed back in errors.

Everything a user gives Stargate — a scenario, a catalog overlay, a sweep spec, a model's
``config.json``, a runs CSV — is read here, so that one set of rules holds everywhere
(``docs/security.md``):

- a file must be a regular file (not a FIFO, a device or a directory) of bounded size, opened
  without blocking, and UTF-8 text (a byte-order mark is accepted and dropped);
- YAML is read with the safe loader, and the document's size once aliases are expanded is
  counted on the node graph *before* anything is constructed, so a "billion laughs" file is
  refused in microseconds instead of expanding;
- values echoed in error messages are cut to a bounded length (:func:`short_repr`).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict

from stargate.errors import InputError, short_repr
from stargate.format import format_bound

__all__ = [
    "INPUT_CONFIG", "MAX_BATCH", "MAX_CATALOG_INT", "MAX_CATALOG_NUMBER", "MAX_FILE_BYTES", "MAX_GPUS", "MAX_PARALLEL",
    "MAX_POWER_W", "MAX_SEQ_LEN", "MAX_SITE_DISTANCE_M", "MAX_TOKENS", "MAX_USD", "MAX_YAML_BYTES", "MAX_YAML_NODES", "allowed_text", "check_writable", "load_yaml", "read_text_file", "short_repr",
    "write_bytes_atomic", "write_text_atomic",
]

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest input file read (16 MiB: the largest shipped runs file is under 1 MiB)."""
MAX_YAML_BYTES = 2 * 1024 * 1024
"""Largest YAML or JSON input (scenario, catalog overlay, sweep spec, config.json): 2 MiB."""
MAX_YAML_NODES = 1_000_000
"""Most YAML nodes a document may hold with its aliases expanded (the shipped catalog has ~20,000)."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Bounds on what any input may ask for. They are far beyond any machine planned today (the largest,
# ~1M accelerators), so they never refuse a real question; they exist so that no input can make a
# closed form overflow, a search run for hours, or an error blame an internal step.
MAX_GPUS = 30_000_000
"""Most accelerators one design, fabric or job may have: 30x the largest planned machines, and the
most the fabric model can lay out for every accelerator in the catalog (checked by a test)."""
MAX_SEQ_LEN = 16 * 1024 * 1024
"""Longest sequence (tokens): 16M, above the longest context any model is trained at."""
MAX_BATCH = 100_000_000
"""Largest global batch (sequences)."""
MAX_PARALLEL = 1_000_000
"""Largest degree of any one kind of parallelism, or micro-batch."""
MAX_TOKENS = 1e18
"""Largest token budget: over 3,000 times the ~3e14-token stock of human text."""
MAX_USD = 1e13
"""Largest budget: $10 trillion."""
MAX_POWER_W = 1e12
"""Largest power cap: 1 TW (30M accelerators draw tens of GW)."""
MIN_SCALE_OUT_BITS_PER_S = 1e9
"""Least scale-out bandwidth one GPU may be given (bit/s): 1 Gbit/s, 25x below the slowest catalog part's
(TPU v3, 25 Gbit/s); below it a fabric would share one switch port among thousands of GPUs."""
SITE_FIBER_PAIRS = 4
"""Fibre pairs of a link between sites unless a request or a phase says otherwise."""
MAX_SITE_FIBER_PAIRS = 100_000
"""Most fibre pairs one link between sites may have."""
MAX_SCALE_OUT_BITS_PER_S = 25.6e12
"""Most scale-out bandwidth one GPU may be given (bit/s): eight 3.2T NICs, past any part announced."""
MAX_SITE_DISTANCE_M = 20_000e3
"""Longest fibre route between two adjacent sites (m): 20,000 km, about half the Earth's
circumference (20,004 km along the equator), the farthest apart two places on its surface lie."""
MAX_CATALOG_NUMBER = 1e20
"""Largest magnitude of any number in a catalog entry (the largest shipped is 1.5e16 FLOP/s)."""
MAX_CATALOG_INT = 1_000_000_000
"""Largest integer in a catalog entry (GPUs per system, rack units, ...)."""

INPUT_CONFIG = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False)
"""Pydantic settings of every input model: frozen, no unknown fields, every float finite."""


def read_text_file(path: Path | str, field: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a user's text file: a regular file of at most ``max_bytes``, UTF-8 (BOM accepted).

    Parameters
    ----------
    path : Path or str
        The file, as the user named it.
    field : str
        The option or field that named it, for the error message.
    max_bytes : int
        Size limit.

    Raises
    ------
    InputError
        If the file cannot be opened, is not a regular file, is too large or is not UTF-8.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("wb", suffix=".yaml", delete=False) as f:
    ...     _ = f.write(b"\\xef\\xbb\\xbfa: 1\\n")
    >>> read_text_file(f.name, "scenario")
    'a: 1\\n'
    >>> os.unlink(f.name)
    """
    text_path = str(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting forever.
        fd = os.open(text_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(field, text_path, f"a readable file ({e.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(field, text_path, "a regular file (not a directory, FIFO or device)")
        if info.st_size > max_bytes:
            raise InputError(field, text_path, f"a file of at most {max_bytes:,} bytes (it has {info.st_size:,})")
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            data = f.read(max_bytes + 1)  # a file that grows while being read is still bounded
    except OSError as e:
        raise InputError(field, text_path, f"a readable file ({e.strerror})") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise InputError(field, text_path, f"a file of at most {max_bytes:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(field, text_path, f"UTF-8 text (byte {e.start} is not UTF-8)") from None


def check_writable(path: Path | str, field: str) -> Path:
    """Check, before any work, that an output file can be written: its folder exists and is
    writable, and the path is not a folder. Returns the path.

    Examples
    --------
    >>> check_writable("/no/such/folder/out.csv", "--out")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --out: '/no/such/folder/out.csv' is not allowed; expected a file in an existing, writable folder
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise InputError(field, str(path), "a file path, not a folder")
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(field, str(path), "a file in an existing, writable folder")
    if p.exists() and not (p.is_file() and os.access(p, os.W_OK)):
        raise InputError(field, str(path), "a writable regular file")
    return p


def write_text_atomic(path: Path | str, text: str, field: str) -> None:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically (:func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"), field)


def write_bytes_atomic(path: Path | str, data: bytes, field: str) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place, so that a reader never
    sees half a file and a failure leaves the old file as it was; an unwritable path is bad input.

    Examples
    --------
    >>> write_bytes_atomic("/no/such/folder/plan.xlsx", b"PK", "--xlsx")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --xlsx: '/no/such/folder/plan.xlsx' is not allowed; expected a file in an existing, writable folder
    """
    import tempfile

    p = check_writable(path, field)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), _file_mode(p))  # mkstemp's 0600 would hide the file from the user's group
        os.replace(tmp, p)
    except OSError as e:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
        raise InputError(field, str(path), f"a writable file ({e.strerror})") from None


def _file_mode(path: Path) -> int:
    """The mode a written file gets: an existing file's own, else 0666 less the process's umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def load_yaml(text: str, field: str, max_nodes: int = MAX_YAML_NODES) -> Any:
    """Parse YAML safely: safe loader, aliases expanded at most to ``max_nodes`` nodes.

    A syntax error, a recursive alias or a document over the node limit becomes an
    :class:`InputError` naming ``field``.

    Examples
    --------
    >>> load_yaml("a: 1", "file")
    {'a': 1}
    >>> bomb = "a: &a [x, x]\\nb: &b [*a, *a]\\nc: &c [*b, *b]\\nd: [*c, *c]"
    >>> load_yaml(bomb, "file", max_nodes=20)
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: file: 'YAML that expands to over 20 nodes' is not allowed; expected a file without deeply nested aliases (a YAML bomb)
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, field, max_nodes)
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "not YAML"
        raise InputError(field, f"invalid YAML{where}", f"valid YAML ({short_repr(problem, 80)})") from None
    except RecursionError:
        raise InputError(field, "YAML nested too deeply", "a file with less nesting") from None
    finally:
        loader.dispose()


def _check_size(root: yaml.Node, field: str, max_nodes: int) -> None:
    """Count the nodes of the document with every alias expanded, without expanding it.

    Aliases are the same node object reached twice, so the expanded size of a node is computed
    once per node object (memoized, iterative post-order): linear in the file, whatever it expands to.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1
            for child in _children(node):
                total += size[id(child)]
            if total > max_nodes:
                raise InputError(field, f"YAML that expands to over {max_nodes:,} nodes",
                                 "a file without deeply nested aliases (a YAML bomb)")
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise InputError(field, "a recursive YAML alias", "a document without self-references")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        x = int(x)
    return f"{x:,}" if isinstance(x, int) else f"{x:,.6g}"


_BOUNDS = {"greater_than": ("gt", "above"), "greater_than_equal": ("ge", "of at least"), "less_than": ("lt", "below"),
           "less_than_equal": ("le", "of at most")}
"""Pydantic's bound errors: the bound's key and how "expected a number ..." words it."""
_ALLOWED = {
    "finite_number": lambda c: "a finite number",
    "int_parsing": lambda c: "a whole number",
    "int_from_float": lambda c: "a whole number",
    "int_type": lambda c: "a whole number",
    "float_parsing": lambda c: "a number",
    "float_type": lambda c: "a number",
    "bool_parsing": lambda c: "true or false",
    "string_type": lambda c: "text",
    "string_too_long": lambda c: f"text of at most {_num(c['max_length'])} characters",
    "too_long": lambda c: f"at most {_num(c['max_length'])} items",
    "missing": lambda c: "a value (this field is required)",
    "extra_forbidden": lambda c: "no such field; see the documented fields",
}


def allowed_text(err: Any) -> str:
    """What a pydantic error says is allowed, phrased to complete "expected ...".

    Examples
    --------
    >>> allowed_text({"type": "less_than_equal", "ctx": {"le": 10_000_000}, "msg": ""})
    'a number of at most 10,000,000'
    >>> allowed_text({"type": "less_than_equal", "loc": ("power_w",), "ctx": {"le": 1e12}, "msg": ""})
    'a value of at most 1 TW'
    >>> allowed_text({"type": "string_pattern_mismatch", "ctx": {"pattern": "^(none|full)$"}, "msg": ""})
    'one of none, full'
    """
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    cause = ctx.get("error")
    if isinstance(cause, InputError):  # a validator raised the project's own error: its own words
        return str(cause.allowed)
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        field = str((err.get("loc") or ("",))[-1])
        bound = format_bound(ctx[key], field)
        return f"a number {words} {bound}" if bound == _num(ctx[key]) else f"a value {words} {bound}"
    if kind in _ALLOWED:
        return _ALLOWED[kind](ctx)
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        inner = pattern.removeprefix("^(").removesuffix(")$")
        if inner != pattern and all(part.isalnum() for part in inner.replace("-", "").split("|")):
            return "one of " + ", ".join(inner.split("|"))
        return f"text matching {pattern}"
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]
