"""The project's own CLI and input-file fuzzer: hypothesis strategies and one oracle.

Strategies draw command lines for every answering command, mixing valid values with hostile ones
(non-finite and huge numbers, arithmetic in quantities, markup and terminal escapes, very long
strings, wrong types), and input files for every file the CLI reads (scenario, catalog overlay,
runs CSV, model config.json, sweep spec) by mutating a valid file: a leaf replaced with a hostile
YAML value, a key dropped or added, alias bombs, byte damage (BOM, invalid UTF-8, NUL, truncation)
and odd paths (a directory, a FIFO, ``/dev/zero``, a missing file, an oversize file).

:func:`run_case` runs one command line through the real entry point, in process, under a 10 s
alarm, and classifies what happened; the oracle (:data:`GOOD`) is the project's contract for bad
input: exit 0 with strict JSON under ``--json``, or exit 2 with exactly one line on stderr.
``tests/test_fuzz_cli.py`` runs a seeded subset in CI; ``benchmarks/fuzz_cli.py`` the full run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from stargate.catalog import Catalog
from stargate.training.presets import preset_names

CASE_SECONDS = 10.0
GOOD = {"ok", "bad_input"}

_CAT = Catalog.load()
ACCELERATORS = [a.id for a in _CAT.entries("accelerators")] + ["h100", "gb200", "mi355x"]
MODELS = preset_names()

HOSTILE_TEXT = [
    "", " ", "0", "-1", "-0", "+5", "1.5", "0.0001", "1e-9", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400",
    "1e-400", str(2**63), str(2**64 + 1), "9" * 30, "9" * 5000, "9**9**9 W", "10**10**8 W", "2**1024", "1_000",
    "0x10", "1,2,3", "1,inf", "1,,2", "$100B", "$-5B", "5 GW", " 5  GW ", "5GW", "5 GB", "5 W**9", "100 km", "8k",
    "abc", "[/]", "[bold]x[/bold]", "\x1b[2J\x1b[31mred", "\u202eevil", "\u2603", "💥", "x" * 20_000, "--json",
    "; rm -rf /", "' OR 1=1 --", "{{7*7}}", "${HOME}", "../../etc/passwd", "/dev/zero", "\\", "a\\", "null", "true",
]


def _values(valid: list[str]) -> st.SearchStrategy[str]:
    """Mostly valid values, often hostile ones, sometimes random text."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(HOSTILE_TEXT),
                     st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40))


INTS = ["1", "2", "8", "64", "1024", "16384", "100000"]
RANGED = {"--uncertainty": ["1", "10", "200", "1000", "0"], "--seed": ["0", "7", "4294967295", "4294967296", "-1"]}
"""``--uncertainty N --seed S`` of every command with ranges."""
OPTIONS: dict[str, dict[str, list[str]]] = {
    "design": {
        "--accelerator": ACCELERATORS, "--gpus": [*INTS, "1000..2000", "2000..1000", "8..8"],
        "--budget": ["1e9", "$10B", "100e9", "250M", "90e9..110e9", "$1B..$2B", "1e9..inf", "..1e9"],
        "--power": ["5 GW", "300 MW", "1e8", "4 GW..6 GW", "1 GW..1 MW"], **RANGED, "--fabric": ["infiniband", "ethernet"], "--system": ["dgx-h100", "gb200-nvl72"],
        "--energy": ["grid-us", "gas-ccgt", "smr"], "--systems-per-rack": ["1", "2", "4"],
        "--cooling": ["air", "direct_liquid", "rear_door"],
    },
    "fabric": {
        "--gpus": INTS, "--fabric": ["infiniband", "ethernet"], "--accelerator": ACCELERATORS,
        "--topology": ["fat-tree", "rail-optimized"], "--oversubscription": ["1", "1,3", "2,2,2"], "--planes": ["1", "2", "8"],
        "--switch": ["quantum-2", "spectrum-4", "tomahawk-6"], "--tiers": ["1", "2", "3"], "--sites": ["2", "3"],
        "--site-distance": ["100 km", "5 km", "600 km"], "--fiber-pairs": ["1", "4"], "--gradient": ["810 GB", "1 TB"],
        "--model-parallel": ["8", "64"], **RANGED,
    },
    "train": {
        "--model": MODELS, "--accelerator": ACCELERATORS, "--gpus": ["8", "64", "512", "4096"],
        "--seq-len": ["2048", "4096", "8192"], "--global-batch": ["64", "512", "2048"],
        "--precision": ["bf16", "fp8", "nvfp4"], "--fabric": ["infiniband", "ethernet"], "--tp": ["1", "2", "8"],
        "--pp": ["1", "2", "4"], "--dp": ["1", "8"], "--cp": ["1", "2"], "--ep": ["1", "8"], "--vp": ["1", "2"],
        "--mbs": ["1", "2"], "--recompute": ["none", "selective", "full"], "--sharding": ["zero1", "zero3"],
        "--tokens": ["1e12", "15e12"], "--top-k": ["1", "3"],
        "--framework": ["megatron", "megatron-bridge", "torchtitan", "llm-foundry", "deepspeed", "hai-llm"],
        "--fp8-recipe": ["delayed", "current", "block", "mxfp8", "nvfp4"], "--moe-load-imbalance": ["1", "1.2", "2"],
        **RANGED,
    },
    "infer": {
        "--model": MODELS, "--accelerator": ACCELERATORS, "--gpus": ["1", "8", "72", "1024", "64..128"], "--budget": ["$100M", "1e9", "$90M..$110M"],
        "--power": ["10 MW", "1e8"], "--input-tokens": ["128", "1024", "8k", "294.45"], "--output-tokens": ["128", "1k"],
        "--ttft": ["500 ms", "2 s", "0.2"], "--tpot": ["50 ms", "0.02"], "--tokens-per-user": ["20", "100"],
        "--precision": ["bf16", "fp8", "fp4"], "--kv-dtype": ["bf16", "fp8"], "--disaggregated": ["auto", "yes", "no"],
        "--framework": ["trtllm", "vllm", "sglang", "other"], "--fabric": ["infiniband", "ethernet"],
        "--scale-out": ["800 Gbit/s", "400 Gbit/s"], "--energy": ["grid-us", "smr"], **RANGED,
    },
    "plan": {"--builtin": ["stargate", "stargate-2025", "stargate-multisite"], "--scaling-law": ["chinchilla", "besiroglu2024"],
             **RANGED},
    "sensitivity": {"--builtin": ["stargate", "stargate-multisite"], "--phase": ["1", "3", "5", "Phase 5: Stargate", "6"],
                    "--samples": ["16", "32", "500"], "--seed": RANGED["--seed"]},
    "catalog list": {},
    "catalog show": {},
}
REQUIRED = {
    "design": ["--accelerator"], "fabric": ["--gpus"],
    "train": ["--model", "--accelerator", "--gpus", "--seq-len", "--global-batch"],
    "infer": ["--model", "--accelerator", "--input-tokens", "--output-tokens"],
}


@st.composite
def command_lines(draw: Any) -> list[str]:
    """One command line of an answering command, with valid and hostile option values."""
    command = draw(st.sampled_from(list(OPTIONS)))
    args = command.split()
    if command == "catalog list":
        args.append(draw(_values(["accelerators", "systems", "switches", "media"])))
    elif command == "catalog show":
        args.append(draw(_values(ACCELERATORS + ["quantum-2", "default", "grid-us"])))
    options = OPTIONS[command]
    chosen = set(REQUIRED.get(command, [])) | set(draw(st.lists(st.sampled_from(sorted(options)), max_size=4)) if options else ())
    if command in ("design", "infer") and not chosen & {"--gpus", "--budget", "--power"}:
        chosen.add(draw(st.sampled_from(["--gpus", "--budget", "--power"])))
    if command in ("plan", "sensitivity") and "--builtin" not in chosen:
        chosen.add("--builtin")
    for opt in sorted(chosen):
        value = draw(_values(options[opt]))
        args += [f"{opt}={value}"] if value.startswith("-") else [opt, value]
    if draw(st.booleans()):
        args.append("--json")
    if draw(st.integers(0, 9)) == 0:
        args.append(draw(st.sampled_from(["--no-such-option", "--gpus", "extra-argument", "--json=maybe"])))
    return args


# ---- files ------------------------------------------------------------------------------------

SCENARIO = """name: fuzz
description: a small scenario
phases:
  - name: one
    year: 2026
    accelerator: h100
    gpus: 1024
    fabric: infiniband
    model: llama3.1-8b
    reported: {source: the fuzzer, capex_usd: 1e9}
  - name: two
    year: 2027
    accelerator: gb200
    power_w: 50 MW
    energy_mix: [{source: grid-us, share: 0.5}, {source: gas-ccgt, share: 0.5}]
"""
CATALOG = """accelerators:
  - id: h100-sxm-80g
    price_usd: 30000
    tdp_w: 700 W
  - id: my-chip
    name: My chip
    source: the fuzzer's invention
    date: "2026"
    price_usd: 20000
    price_source: invented
    price_date: "2026"
    vendor: nobody
    year: 2026
    default_system: dgx-h100
    tdp_w: 700
"""
CONFIG_JSON = json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                          "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                          "vocab_size": 128256, "hidden_act": "silu", "tie_word_embeddings": False})
SPEC = """name: fuzz
axes:
  accelerator: [h100]
  gpus: [64, 128]
fixed: {model: llama3.1-8b, seq_len: 4096, global_batch: 256}
constraints: ["facility_power_w <= 5e9", "fits"]
objectives: [capex_usd, time_to_train_s]
chunk_size: 1
"""

HOSTILE_YAML = [
    ".nan", ".inf", "-.inf", "1e400", str(2**63), "9" * 400, "-1", "0", "null", "true", "[]", "{}", "[1, [2, [3]]]",
    '"9**9**9 W"', '"10**10**8 W"', '"[/]\\x1b[2J"', '"' + "x" * 5000 + '"', "!!binary aGk=", "!!python/object:os.system ls",
    "&a [*a]", "2026-01-01", "0x1F", "~", "'5 GW'", "'$1e400'", "*undefined",
]


def _yaml_leaves(text: str) -> list[int]:
    """Offsets just after ': ' on lines that carry a scalar value."""
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        i = line.find(": ")
        if i > 0 and line[i + 2:].strip() and not line[i + 2:].lstrip().startswith(("{", "[")):
            out.append(pos + i + 2)
        pos += len(line)
    return out


@st.composite
def mutated_text(draw: Any, base: str, yaml_like: bool = True) -> bytes:
    """A valid file damaged in one or two ways."""
    text = base
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["leaf", "drop", "add", "bomb", "bytes", "bom", "truncate", "deep"] if yaml_like
                                    else ["bytes", "bom", "truncate", "cell"]))
        if kind == "leaf" and _yaml_leaves(text):
            at = draw(st.sampled_from(_yaml_leaves(text)))
            end = text.find("\n", at)
            text = text[:at] + draw(st.sampled_from(HOSTILE_YAML)) + text[end if end >= 0 else len(text):]
        elif kind == "drop" and text:
            lines = text.splitlines(keepends=True)
            del lines[draw(st.integers(0, len(lines) - 1))]
            text = "".join(lines)
        elif kind == "add":
            text += draw(st.sampled_from(["colour: red\n", "phases: 7\n", "axes: {}\n", "- x\n", "a: b: c\n", "\t: tab\n"]))
        elif kind == "bomb":
            levels = draw(st.integers(3, 12))
            bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
                f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
                for i in range(1, levels))
            text = bomb + text
        elif kind == "deep":
            depth = draw(st.integers(50, 5000))
            text += "deep: " + "[" * depth + "]" * depth + "\n"
        elif kind == "cell" and text:
            lines = text.splitlines(keepends=True)
            row = draw(st.integers(1, max(len(lines) - 1, 1))) if len(lines) > 1 else 0
            cells = lines[row].rstrip("\n").split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(
                ["nan", "inf", "1e400", "-5", "9" * 400, "abc", '"a,b"', '"', "[/]", "\x1b[2J", "0"]))
            lines[row] = ",".join(cells) + "\n"
            text = "".join(lines)
    data = text.encode()
    for _ in range(draw(st.integers(0, 1))):
        kind = draw(st.sampled_from(["bytes", "bom", "truncate"]))
        if kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "truncate" and data:
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif kind == "bytes" and data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + draw(st.sampled_from([b"\xff", b"\x00", b"\xc3", b"\xed\xa0\x80", b"\r", b"\x1b"])) + data[at + 1:]
    return data


ODD_PATHS = ["DIR", "FIFO", "/dev/zero", "/dev/null", "MISSING", "BIG", "EMPTY"]


@dataclass(frozen=True)
class FileCase:
    """A command reading a file: which command, the file's bytes (or an odd path), extra options."""

    command: str
    data: bytes | None
    odd: str | None
    extra: tuple[str, ...]


def _runs_base() -> str:
    path = Path(__file__).resolve().parents[2] / "shared" / "validation" / "published_runs.csv"
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        return "".join(lines[:6])
    return ("run_id,source_id,model,n_layers,hidden_size,n_heads,vocab_size,seq_len,accelerator,num_gpus,tp,pp,dp,"
            "global_batch_seqs,measured_tokens_per_s_per_gpu\n1,s,m,32,4096,32,128256,8192,h100-sxm-80g,8,1,1,8,64,9000\n")


@st.composite
def file_cases(draw: Any) -> FileCase:
    """One command reading a hostile file."""
    command = draw(st.sampled_from(["plan", "catalog", "validate", "model", "sweep"]))
    base = {"plan": SCENARIO, "catalog": CATALOG, "validate": _runs_base(), "model": CONFIG_JSON, "sweep": SPEC}[command]
    odd = draw(st.sampled_from(ODD_PATHS)) if draw(st.integers(0, 7)) == 0 else None
    data = None if odd else draw(mutated_text(base, yaml_like=command != "validate"))
    return FileCase(command, data, odd, ("--json",) if draw(st.booleans()) else ())


def file_args(case: FileCase, folder: Path) -> list[str]:
    """The command line for a file case, writing its file under ``folder``."""
    name = {"plan": "s.yaml", "catalog": "c.yaml", "validate": "runs.csv", "model": "config.json", "sweep": "spec.yaml"}
    path = folder / name[case.command]
    if case.odd is None:
        path.write_bytes(case.data or b"")
    elif case.odd == "DIR":
        path.mkdir(exist_ok=True)
    elif case.odd == "FIFO":
        os.mkfifo(path)
    elif case.odd == "BIG":
        path.write_bytes(b"a: 1\n" * (5 * 1024 * 1024))
    elif case.odd == "EMPTY":
        path.write_bytes(b"")
    elif case.odd == "MISSING":
        pass
    else:
        path = Path(case.odd)
    p = str(path)
    args = {
        "plan": ["plan", p],
        "catalog": ["design", "--accelerator", "my-chip" if b"my-chip" in (case.data or b"") else "h100", "--gpus", "64",
                    "--catalog", p],
        "validate": ["validate", p, "--out", str(folder / "pred.csv")],
        "model": ["train", "--model", p, "--accelerator", "h100", "--gpus", "64", "--seq-len", "4096",
                  "--global-batch", "256"],
        "sweep": ["sweep", p, "--out", str(folder / "out")],
    }[case.command]
    return args + list(case.extra)


# ---- running one case and judging it ----------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What one command line did."""

    kind: str
    """``ok``, ``bad_input``, or a failure: ``exit_1``, ``exit_N``, ``traceback``, ``multiline``,
    ``invalid_json``, ``escape_in_output``, ``hang``."""
    code: int
    seconds: float
    detail: str


class _Hang(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _Hang


def _strict_json(text: str) -> None:
    def refuse(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    json.loads(text, parse_constant=refuse)


def run_case(args: list[str]) -> Outcome:
    """Run ``stargate ARGS`` in process through the real entry point and classify the result."""
    from stargate.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    start = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    argv = sys.argv
    try:
        sys.argv = ["stargate", *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as e:
        code = int(e.code or 0) if not isinstance(e.code, str) else 1
    except _Hang:
        return Outcome("hang", -1, time.perf_counter() - start, " ".join(args)[:300])
    except BaseException as e:  # noqa: BLE001 - anything escaping main() is the failure being looked for
        return Outcome("traceback", -1, time.perf_counter() - start, f"{type(e).__name__}: {e}"[:300])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        sys.argv = argv
    return judge(args, code, out.getvalue(), err.getvalue(), time.perf_counter() - start)


def judge(args: list[str], code: int, stdout: str, stderr: str, seconds: float) -> Outcome:
    """The oracle: exit 0 (strict JSON under --json, no raw escape codes) or exit 2 with one line."""
    if "Traceback" in stderr:
        return Outcome("traceback", code, seconds, stderr[-300:])
    if code == 2:
        lines = stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith("stargate: error: ") or len(lines[0]) > 1200 or stdout:
            return Outcome("multiline", code, seconds, stderr[:300])
        return Outcome("bad_input", code, seconds, lines[0][:200])
    if code != 0:
        return Outcome(f"exit_{code}", code, seconds, stderr[:300])
    if "--json" in args:
        try:
            _strict_json(stdout)
        except ValueError as e:
            return Outcome("invalid_json", code, seconds, str(e)[:300])
    if "\x1b" in stdout or "\x1b" in stderr:
        return Outcome("escape_in_output", code, seconds, " ".join(args)[:300])
    return Outcome("ok", code, seconds, "")
