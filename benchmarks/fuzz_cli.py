"""Full run of the project's CLI and input-file fuzzer (tests/fuzzing.py), with counts.

    python benchmarks/fuzz_cli.py [--cli 10000] [--files 3000] [--seed 0]

Prints, per outcome kind, how many cases ended that way, the slowest case, and up to ten
examples of every failure. The contract: only ``ok`` and ``bad_input`` outcomes, none over 10 s.
CI runs a seeded subset of the same strategies (tests/test_fuzz_cli.py).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import GOOD, command_lines, file_args, file_cases, run_case
from hypothesis import HealthCheck, Phase, given, seed, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", type=int, default=10_000, help="generated command lines")
    parser.add_argument("--files", type=int, default=3_000, help="generated input files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    slowest = [0.0, ""]

    def record(case_args: list[str], outcome) -> None:
        counts[outcome.kind] += 1
        if outcome.seconds > slowest[0]:
            slowest[:] = [outcome.seconds, " ".join(case_args)[:160]]
        if outcome.kind not in GOOD and len(examples[outcome.kind]) < 10:
            examples[outcome.kind].append(f"{' '.join(case_args)[:200]!r} -> {outcome.detail[:200]!r}")

    opts = settings(max_examples=args.cli, database=None, deadline=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))

    @seed(args.seed)
    @opts
    @given(command_lines())
    def cli_case(case_args: list[str]) -> None:
        record(case_args, run_case(case_args))

    @seed(args.seed)
    @settings(opts, max_examples=args.files)
    @given(file_cases())
    def file_case(case) -> None:
        with tempfile.TemporaryDirectory() as folder:
            case_args = file_args(case, Path(folder))
            record(case_args, run_case(case_args))

    start = time.perf_counter()
    cli_case()
    cli_s = time.perf_counter() - start
    total_cli = sum(counts.values())
    file_case()
    files_s = time.perf_counter() - start - cli_s
    print(f"command lines: {total_cli:,} in {cli_s:.0f} s; files: {sum(counts.values()) - total_cli:,} in {files_s:.0f} s")
    for kind, n in counts.most_common():
        print(f"  {kind:18s} {n:7,}")
    print(f"slowest case: {slowest[0]:.2f} s ({slowest[1]})")
    for kind, lines in examples.items():
        print(f"\n{kind}:")
        for line in lines:
            print("  " + line)
    sys.exit(0 if set(counts) <= GOOD else 1)


if __name__ == "__main__":
    main()
