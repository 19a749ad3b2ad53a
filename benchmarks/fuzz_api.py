"""Fuzz the JSON API of a live ``stargate serve``: schemathesis over the OpenAPI schema plus raw
hostile requests (the same generators as ``tests/test_api_fuzz.py``, at scale).

Run: ``python benchmarks/fuzz_api.py [--cases 10000] [--seed 0] [--schema-share 0.3] [--oversize 10]``;
prints, per fuzzer and in total, the cases sent, HTTP 5xx, invalid JSON, requests without a response,
the slowest answer and the time taken, then the first failures if any. Exit status 1 if any.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from web_server import fuzz_hostile, fuzz_schema, running_server

# schemathesis runs this many cases per example requested (valid and invalid data over the operations).
_SCHEMA_CASES_PER_EXAMPLE = 9


def _report(name: str, stats: object, took: float) -> None:
    print(f"{name}: {stats.summary()}; {took:.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=10_000, help="total requests (about)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schema-share", type=float, default=0.3, help="part of the cases from schemathesis")
    ap.add_argument("--oversize", type=int, default=10, help="chunked 64 MiB bodies among the hostile cases")
    args = ap.parse_args()
    examples = round(args.cases * args.schema_share / _SCHEMA_CASES_PER_EXAMPLE)
    runs = []
    t0 = time.perf_counter()
    with running_server() as url:
        if examples > 0:
            t = time.perf_counter()
            runs.append(("schemathesis", fuzz_schema(url, examples, args.seed)))
            _report(*runs[-1], time.perf_counter() - t)
        t = time.perf_counter()
        hostile = max(0, args.cases - sum(stats.cases for _, stats in runs))
        runs.append(("hostile", fuzz_hostile(url, hostile, args.seed, args.oversize)))
        _report(*runs[-1], time.perf_counter() - t)
    every = [stats for _, stats in runs]
    failures = [f for stats in every for f in stats.failures]
    print(f"total: {sum(s.cases for s in every)} cases, {sum(s.server_errors for s in every)} HTTP 5xx, "
          f"{sum(s.invalid_json for s in every)} invalid JSON, {sum(s.transport_errors for s in every)} without a "
          f"response, max latency {max(s.max_latency_s for s in every):.2f} s; {time.perf_counter() - t0:.1f} s")
    for f in failures[:20]:
        print("  " + f[:500])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
