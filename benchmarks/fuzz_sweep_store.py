"""Bit flips in a finished sweep's results: how many change values, how many are caught.

Issue 10 found that 15.7% of single-bit flips in a finished sweep's Parquet silently changed the
values ``query`` and ``pareto`` then used. This flips ``--flips`` random single bits (seeded), one
at a time, anywhere in the chunk files and their digest files of a finished sweep (every byte
equally likely), and counts, per flip:

- ``value-changing``: the flipped chunk still reads, with other values (silent corruption if
  nothing verified it); ``unreadable``: the chunk no longer reads (a loud error anyway);
- ``detected``: the verifier names exactly the flipped chunk (what ``sweep`` recomputes and what
  ``query``/``pareto`` refuse).

Then it repairs one flipped chunk with a re-run and checks the results equal the originals.
Run: ``python benchmarks/fuzz_sweep_store.py [--flips 3000] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from pathlib import Path

import numpy as np
import yaml

SMALL = Path(__file__).resolve().parents[1] / "examples" / "sweep-small.yaml"


def _values(path: Path):
    import pyarrow.parquet as pq

    return pq.read_table(path).replace_schema_metadata(None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flips", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from stargate.sweep.engine import run_sweep
    from stargate.sweep.integrity import check_chunks
    from stargate.sweep.spec import SweepSpec

    spec = SweepSpec.model_validate(yaml.safe_load(SMALL.read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        run_sweep(spec, out)
        digest = json.loads((out / "spec.json").read_text())["hash"]
        files = sorted(out.glob("chunk-*.parquet")) + sorted(out.glob("chunk-*.sha256"))
        original = {f: f.read_bytes() for f in files}
        values = {f: _values(f) for f in files if f.suffix == ".parquet"}
        rng = np.random.default_rng(args.seed)
        counts = {"total": 0, "in chunks": 0, "value-changing": 0, "unreadable": 0, "detected": 0,
                  "value-changing detected": 0}
        weights = np.array([len(original[f]) for f in files], dtype=float)
        for _ in range(args.flips):
            f = files[rng.choice(len(files), p=weights / weights.sum())]  # every byte equally likely
            data = bytearray(original[f])
            data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
            f.write_bytes(bytes(data))
            chunk = f if f.suffix == ".parquet" else f.with_suffix("")
            _, bad = check_chunks(out, digest)
            hit = list(bad) == [chunk.name]
            counts["total"] += 1
            counts["detected"] += hit
            if f.suffix == ".parquet":
                counts["in chunks"] += 1
                changed = None
                with contextlib.suppress(Exception):
                    changed = not _values(f).equals(values[f])
                counts["unreadable"] += changed is None
                counts["value-changing"] += bool(changed)
                counts["value-changing detected"] += bool(changed) and hit
            f.write_bytes(original[f])
        victim = files[0]
        victim.write_bytes(original[victim][: len(original[victim]) // 2])
        repaired = run_sweep(spec, out)["repaired"]
        ok = list(repaired) == [victim.name] and _values(victim).equals(values[victim])
    share = counts["value-changing"] / max(counts["in chunks"], 1)
    print(f"{counts['total']:,} single-bit flips ({counts['in chunks']:,} in chunk files, the rest in digest files): "
          f"{counts['value-changing']:,} value-changing ({share:.1%} of chunk flips; silent without digests), "
          f"{counts['unreadable']:,} unreadable; detected by name: {counts['detected']:,} of {counts['total']:,} "
          f"({counts['value-changing detected']:,} of {counts['value-changing']:,} value-changing); "
          f"truncated chunk repaired by a re-run: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
