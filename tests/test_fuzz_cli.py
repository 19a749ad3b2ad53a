"""The CLI and its input files under the project's own fuzzer (seeded subset; full run in benchmarks/fuzz_cli.py).

Every generated command line and file must end in exit 0 (strict JSON under ``--json``) or exit 2
with one line on stderr: no traceback, no exit 1, no hang over 10 s, no raw terminal escape.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fuzzing import GOOD, command_lines, file_args, file_cases, run_case
from hypothesis import HealthCheck, given, settings

CLI_CASES = int(os.environ.get("STARGATE_FUZZ_CLI_CASES", "400"))
FILE_CASES = int(os.environ.get("STARGATE_FUZZ_FILE_CASES", "150"))
_FUZZ = settings(max_examples=CLI_CASES, derandomize=True, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))


@_FUZZ
@given(command_lines())
def test_generated_command_lines_end_in_exit_0_or_one_line_exit_2(args):
    outcome = run_case(args)
    assert outcome.kind in GOOD, (args, outcome)


@settings(_FUZZ, max_examples=FILE_CASES)
@given(file_cases())
def test_generated_input_files_end_in_exit_0_or_one_line_exit_2(case):
    with tempfile.TemporaryDirectory() as folder:
        args = file_args(case, Path(folder))
        outcome = run_case(args)
    assert outcome.kind in GOOD, (args, case.data[:300] if case.data else case.odd, outcome)
