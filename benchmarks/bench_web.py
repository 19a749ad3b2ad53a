"""A bounded load test of the web API on loopback: concurrent /api/design requests.

Run: ``python benchmarks/bench_web.py [--requests 2000] [--concurrency 32]``; prints requests per
second, latency percentiles and the error count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from web_server import running_server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    import httpx

    accs = ("h100", "h200", "b200", "gb200", "gb300", "mi355x")
    bodies = [{"accelerator": accs[i % len(accs)], "budget": 1e9 * (1 + i % 97)} for i in range(args.requests)]
    with running_server() as url, httpx.Client(base_url=url, timeout=60,
                                               limits=httpx.Limits(max_connections=args.concurrency)) as c:
        def one(body: dict) -> tuple[int, float]:
            t = time.perf_counter()
            r = c.post("/api/design", json=body)
            return r.status_code, time.perf_counter() - t

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(one, bodies))
        wall = time.perf_counter() - t0
    lat = sorted(x for _, x in results)
    errors = sum(1 for code, _ in results if code != 200)
    print(f"{args.requests} POST /api/design, {args.concurrency} concurrent: {args.requests / wall:.0f} requests/s, "
          f"latency median {statistics.median(lat) * 1e3:.1f} ms, p99 {lat[int(0.99 * len(lat)) - 1] * 1e3:.1f} ms, "
          f"errors {errors}")


if __name__ == "__main__":
    main()
