"""Results that cannot lie: chunk digests, the spec hash in every chunk, a lock on the directory.

Each chunk ``chunk-NNNNNN.parquet`` is written with a digest file beside it,
``chunk-NNNNNN.parquet.sha256`` (the SHA-256 of the Parquet file's bytes, in the format
``sha256sum -c`` reads), and carries in its Parquet metadata the hash of the spec that produced it
(``stargate.spec_hash``) and its own index (``stargate.chunk``). A chunk is trusted only when

1. its digest file exists and matches the file's bytes (any flipped bit, truncation or rewrite
   of the file is caught: a changed file has another SHA-256);
2. the spec hash it carries is the directory's (a chunk copied in from another sweep, even with
   its digest file, is caught);
3. the index it carries is the one in its name (a chunk renamed to another slot is caught).

A chunk that fails is reported by name; ``sweep`` moves it (and its digest file) to
``quarantine/`` and computes it again, ``query`` and ``pareto`` refuse the directory until then.
Writers hold an advisory lock (``flock`` on ``.lock``) for the whole sweep, so two sweeps never
write one directory at once, and every temporary file has a unique name (pid and random token).
The digests detect accidents (bit rot, truncation, copies, mix-ups), not forgery: whoever can write
the directory can also write a matching digest.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stargate.errors import InputError, clip

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, documented in docs/sweeps.md
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DirectoryInUse",
    "check_chunks",
    "chunk_index",
    "chunk_name",
    "digest_path",
    "lock_directory",
    "quarantine",
    "temp_path",
    "write_atomic",
]

LOCK_NAME = ".lock"
QUARANTINE = "quarantine"
_CHUNK = re.compile(r"chunk-(\d{6,9})\.parquet")
_DIGEST_LINE = re.compile(r"([0-9a-f]{64})  (\S+)\n?")
_held: set[int] = set()


def chunk_name(index: int) -> str:
    """File name of chunk ``index``.

    Examples
    --------
    >>> chunk_name(3)
    'chunk-000003.parquet'
    """
    return f"chunk-{index:06d}.parquet"


def chunk_index(name: str) -> int | None:
    """The index in a chunk's file name, or None if it is not one."""
    m = _CHUNK.fullmatch(name)
    return int(m.group(1)) if m else None


def digest_path(chunk: Path) -> Path:
    """The digest file of a chunk."""
    return chunk.with_name(chunk.name + ".sha256")


def temp_path(final: Path) -> Path:
    """A unique temporary name beside ``final`` (hidden, with the pid and a random token)."""
    return final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write_atomic(final: Path, data: bytes) -> None:
    """Write ``data`` to ``final`` through a uniquely named temporary file and an atomic rename."""
    tmp = temp_path(final)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _open_regular(path: Path) -> Any:
    """Open ``path`` for reading only if it is a regular file (a FIFO or device is never waited on)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return os.fdopen(fd, "rb")


def sha256_file(path: Path) -> str:
    """SHA-256 of a regular file's bytes, read in blocks."""
    h = hashlib.sha256()
    with _open_regular(path) as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def write_digest(chunk: Path, digest: str) -> None:
    """Record the SHA-256 of ``chunk`` beside it (``sha256sum -c`` format), atomically."""
    write_atomic(digest_path(chunk), f"{digest}  {chunk.name}\n".encode())


def _recorded(chunk: Path) -> str | None:
    try:
        with _open_regular(digest_path(chunk)) as f:
            text = f.read(200).decode("ascii")
    except (OSError, UnicodeDecodeError):
        return None
    m = _DIGEST_LINE.fullmatch(text)
    return m.group(1) if m and m.group(2) == chunk.name else None


def chunk_problem(chunk: Path, spec_hash: str | None) -> tuple[str | None, str | None]:
    """Why ``chunk`` cannot be trusted (None if it can), and the spec hash it carries.

    ``spec_hash`` None accepts any spec hash (the caller compares them).
    """
    import pyarrow.parquet as pq

    recorded = _recorded(chunk)
    if recorded is None:
        return "has no valid digest file (written by another tool or version, or its digest was lost)", None
    try:
        actual = sha256_file(chunk)
    except OSError as e:
        return f"cannot be read ({e.strerror})", None
    if actual != recorded:
        return "is damaged: its SHA-256 does not match the digest written with it", None
    try:
        meta = pq.read_metadata(chunk).metadata or {}
    except Exception:  # noqa: BLE001 - pyarrow raises several error types for a file it cannot parse
        return "is not a Parquet file Stargate wrote", None
    carried = meta.get(b"stargate.spec_hash", b"").decode(errors="replace")
    if spec_hash is not None and carried != spec_hash:
        return f"belongs to another sweep ({_spec_name(meta)}, spec {clip(carried, 20)})", carried
    if meta.get(b"stargate.chunk", b"").decode(errors="replace") != str(chunk_index(chunk.name)):
        return "holds another chunk's rows (its recorded index differs from its name)", carried
    return None, carried


def _spec_name(meta: dict[bytes, bytes]) -> str:
    try:
        return clip(str(json.loads(meta.get(b"stargate.spec", b"{}")).get("name", "?")), 40)
    except (ValueError, AttributeError):
        return "?"


def check_chunks(out: Path, spec_hash: str | None) -> tuple[dict[int, Path], dict[str, str]]:
    """Verify every chunk of ``out``: the trusted ones by index, and a problem per untrusted file name.

    With ``spec_hash`` None, the directory's spec is the one most chunks carry.
    """
    good: dict[int, Path] = {}
    bad: dict[str, str] = {}
    carried: dict[int, str] = {}
    for path in sorted(out.glob("chunk-*.parquet")):
        index = chunk_index(path.name)
        if index is None:
            continue
        problem, carried_hash = chunk_problem(path, spec_hash)
        if problem:
            bad[path.name] = problem
        else:
            good[index] = path
            carried[index] = carried_hash or ""
    if spec_hash is None and good:
        counts: dict[str, int] = {}
        for h in carried.values():
            counts[h] = counts.get(h, 0) + 1
        main = max(counts, key=lambda h: (counts[h], h))
        for index in [i for i, h in carried.items() if h != main]:
            bad[good.pop(index).name] = f"belongs to another sweep (spec {clip(carried[index], 20)})"
    return good, bad


def quarantine(out: Path, names: list[str]) -> Path:
    """Move untrusted chunks (and their digest files) to ``out/quarantine/``; returns that folder."""
    folder = out / QUARANTINE
    folder.mkdir(exist_ok=True)
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    for name in names:
        for src in (out / name, digest_path(out / name)):
            if src.exists():
                os.replace(src, folder / f"{src.name}.{stamp}")
    return folder


def remove_stale_temps(out: Path) -> None:
    """Delete temporary files a killed writer left (call only while holding the lock)."""
    for stale in out.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


class DirectoryInUse(InputError):
    """Another sweep holds the results directory's lock."""

    def __init__(self, out: Path, pid: str) -> None:
        super().__init__("--out", str(out), "a directory no other sweep is writing")
        self.args = (f"--out: {clip(str(out), 200)} is in use by another sweep (pid {pid or 'unknown'})",)


@contextlib.contextmanager
def lock_directory(out: Path) -> Iterator[None]:
    """Hold the advisory lock of results directory ``out`` (which must exist) while the block runs.

    Raises
    ------
    DirectoryInUse
        If another process holds it.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    try:
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as e:
        raise InputError("--out", str(out), f"a directory this user can write ({e.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise DirectoryInUse(out, clip(pid, 12)) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held.add(fd)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)


def _close_inherited_locks() -> None:
    """In a forked child: drop the parent's lock descriptors, so that a child that outlives its
    parent cannot keep the directory locked (the lock stays held by the parent's own descriptor)."""
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)


def read_spec_record(out: Path) -> tuple[dict[str, Any] | None, str]:
    """The directory's ``spec.json`` and its state: ``ok``, ``missing`` or ``damaged`` (unreadable,
    or its hash does not match its spec)."""
    from stargate.inputs import MAX_YAML_BYTES, read_text_file
    from stargate.sweep.store import spec_hash

    path = out / "spec.json"
    if not path.exists():
        return None, "missing"
    try:
        record = json.loads(read_text_file(path, "spec.json", MAX_YAML_BYTES))
        ok = record["hash"] == spec_hash(json.dumps(record["spec"], sort_keys=True))
    except (InputError, ValueError, KeyError, TypeError, RecursionError):
        return None, "damaged"
    return (record, "ok") if ok else (None, "damaged")
