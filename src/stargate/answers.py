"""Answers from what a user hands over: flat options, request files and saved ``--json`` answers.

``stargate compare`` and the Python API (:mod:`stargate.api`) take a design or a training job as
flat ``key=value`` options named like the CLI's (``accelerator=gb200,budget=10e9``) or like the
request models' fields (``budget_usd``); this module turns them into the validated request models
(:class:`~stargate.scenario.DesignRequest`, :class:`~stargate.training.job.TrainRequest`), so a bad
value gets the usual one-line :class:`~stargate.errors.InputError` naming the key and the value as
typed. It also reads a file into an answer: a scenario YAML (run as a plan), a design or training
request in YAML, or the JSON that ``stargate design``, ``train`` or ``plan --json`` wrote.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.inputs import MAX_YAML_BYTES, load_yaml, read_text_file

__all__ = ["DESIGN_KEYS", "INFER_KEYS", "MAX_ANSWERS", "TRAIN_KEYS", "collect", "design_answer", "design_request",
           "infer_request", "load_answer", "split_pairs", "train_answer", "train_request"]

DESIGN_KEYS = {
    "accelerator": "accelerator", "gpus": "gpus", "budget": "budget_usd", "power": "power_w", "fabric": "fabric",
    "system": "system", "energy": "energy_source", "systems-per-rack": "systems_per_rack", "cooling": "cooling",
    "wacc": "wacc_per_year", "year": "year", "scale-out": "scale_out_bits_per_s", "topology": "topology",
    "pod-gpus": "pod_gpus", "taper": "taper", "storage": "storage", "finance": "finance",
}
"""Keys of a design given as options (``stargate design``'s option names) and the request fields they set."""
_WORKLOAD = ("accelerator", "gpus", "seq_len", "global_batch", "precision", "fabric", "framework", "fp8_recipe",
             "moe_load_imbalance", "topology", "scale_out_bits_per_s")
TRAIN_KEYS = {k.replace("_", "-"): k for k in (
    *_WORKLOAD, "model", "tp", "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding", "tokens", "top_k")}
"""Keys of a training job given as options (``stargate train``'s option names) and the request fields they set."""
TRAIN_KEYS["scale-out"] = "scale_out_bits_per_s"
INFER_KEYS = {k.replace("_", "-"): k for k in (
    "model", "accelerator", "gpus", "input_tokens", "output_tokens", "output_tokens_cv", "tokens_per_user", "precision",
    "kv_dtype", "disaggregated", "framework", "fabric", "max_replica_gpus")} | {
    "budget": "budget_usd", "power": "power_w", "ttft": "ttft_s", "tpot": "tpot_s", "scale-out": "scale_out_bits_per_s",
    "energy": "energy_source"}
"""Keys of a serving question given as options (``stargate infer``'s option names) and the request fields they set."""
MAX_PAIRS = 64
"""Most ``key=value`` pairs one option string may hold."""
MAX_FIGURE = 1e30
"""Largest magnitude of a number in a saved answer (the largest real one, a plan's FLOP, is ~1e28):
sums and differences of such figures never overflow."""

_PAIR_SPLIT = re.compile(r",(?=\s*[A-Za-z][A-Za-z0-9_-]*\s*=)")


def split_pairs(text: str, option: str) -> dict[str, str]:
    """``key=value`` pairs separated by commas, as a dict of the keys and values as typed.

    A comma splits only where a ``key=`` follows, so a value may hold commas (``budget=1,000,000``).

    Examples
    --------
    >>> split_pairs("accelerator=gb200, budget=$10B,power=5 GW", "--design")
    {'accelerator': 'gb200', 'budget': '$10B', 'power': '5 GW'}
    >>> split_pairs("gpus=1,024", "--design")
    {'gpus': '1,024'}
    >>> split_pairs("gb200", "--design")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --design: 'gb200' is not allowed; expected key=value pairs separated by commas \
(accelerator=gb200,budget=10e9)
    """
    pieces = _PAIR_SPLIT.split(text)
    if len(pieces) > MAX_PAIRS:
        raise InputError(option, text, f"at most {MAX_PAIRS} key=value pairs")
    out: dict[str, str] = {}
    for piece in pieces:
        key, eq, value = piece.partition("=")
        key = key.strip()
        if not eq or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key):
            raise InputError(option, piece.strip() or text, "key=value pairs separated by commas (accelerator=gb200,budget=10e9)")
        if key in out:
            raise InputError(option, piece.strip(), f"each key once ({key} is given twice)")
        out[key] = value.strip()
    return out


def _fields(options: dict[str, Any], keys: dict[str, str], where: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Request fields from options (CLI names or field names); also each field's key as the user wrote it."""
    fields: dict[str, Any] = {}
    typed: dict[str, str] = {}
    known = {**keys, **{f.replace("_", "-"): f for f in keys.values()}}
    for key, value in options.items():
        field = known.get(str(key).strip().lower().replace("_", "-"))
        if field is None:
            if where:
                raise InputError(where.strip(), f"{key}={value}", "keys among " + ", ".join(keys))
            raise InputError(str(key), value, "a keyword among " + ", ".join(k.replace("-", "_") for k in keys))
        if field in fields:
            raise InputError(f"{where}{key}", value, f"each setting once ({typed[field]} sets it too)")
        if value is not None:
            fields[field], typed[field] = value, str(key)
    return fields, typed


def _retyped(e: InputError, typed: dict[str, str], options: dict[str, Any], where: str) -> InputError:
    """The error re-addressed to the key and value as the user wrote them."""
    head = e.field.removeprefix("workload.").split(".")[0]
    if head not in typed:
        return InputError(f"{where.strip()} {e.field}".strip(), e.value, e.allowed)
    value = options[typed[head]]
    return InputError(f"{where}{typed[head]}", value if isinstance(value, str) else e.value, e.allowed)


def design_request(options: dict[str, Any], where: str = "") -> Any:
    """A validated :class:`~stargate.scenario.DesignRequest` from flat options.

    Parameters
    ----------
    options : dict
        Keys named like ``stargate design``'s options (``budget``, ``power``, ``scale-out``) or like the
        request's fields (``budget_usd``); values as typed (``"$10B"``, ``"5 GW"``) or numbers.
    where : str
        Prefix of the field in an error (``"--design "``).

    Examples
    --------
    >>> design_request({"accelerator": "gb200", "budget": "$10B", "fabric": "ethernet"}).budget_usd
    10000000000.0
    >>> design_request({"accelerator": "gb200", "budget": "-1"}, "--design ")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --design budget: '-1' is not allowed; expected a number above 0
    """
    from stargate.scenario import DesignRequest, validate

    fields, typed = _fields(options, DESIGN_KEYS, where)
    sized = [typed[k] for k in ("gpus", "budget_usd", "power_w") if k in fields]
    if len(sized) != 1:
        raise InputError(f"{where}sizing".strip(), ", ".join(sized) or "none", "exactly one of gpus, budget, power")
    try:
        return validate(DesignRequest, fields)
    except InputError as e:
        raise _retyped(e, typed, options, where) from None


def train_request(options: dict[str, Any], where: str = "") -> Any:
    """A validated :class:`~stargate.training.job.TrainRequest` from flat options.

    Keys are named like ``stargate train``'s options (``seq-len``, ``global-batch``, ``tp``) or like
    the request's fields; the workload's (accelerator, GPUs, sequence, batch, precision, ...) and the
    plan's (tp, pp, ..., tokens) sit side by side.

    Examples
    --------
    >>> r = train_request({"model": "llama3.1-8b", "accelerator": "h100", "gpus": 64, "seq-len": 8192,
    ...                    "global-batch": 512, "tp": 2})
    >>> r.workload.gpus, r.tp
    (64, 2)
    """
    from stargate.scenario import validate
    from stargate.training.job import TrainRequest
    from stargate.training.rules import check_fp8_recipe, check_framework

    fields, typed = _fields(options, TRAIN_KEYS, where)
    for k in ("framework", "fp8_recipe"):
        if isinstance(fields.get(k), str):
            fields[k] = fields[k].strip().lower()
    workload = {k: fields.pop(k) for k in _WORKLOAD if k in fields}
    try:
        if "framework" in workload:
            check_framework(workload["framework"])
        request = validate(TrainRequest, {**fields, "workload": workload})
        check_fp8_recipe(request.workload.precision, request.workload.fp8_recipe)
    except InputError as e:
        raise _retyped(e, typed, options, where) from None
    return request


def infer_request(options: dict[str, Any], where: str = "") -> Any:
    """A validated :class:`~stargate.serving.InferRequest` from flat options.

    Keys are named like ``stargate infer``'s options (``input-tokens``, ``ttft``, ``budget``) or like the
    request's fields (``ttft_s``); exactly one of ``gpus``, ``budget``, ``power`` sizes the machine, and
    the interactivity is given once (``tpot`` or ``tokens_per_user``).

    Examples
    --------
    >>> r = infer_request({"model": "llama3.1-70b", "accelerator": "h200", "gpus": 8, "input-tokens": "1k",
    ...                    "output_tokens": 1024, "ttft": "500 ms"})
    >>> r.gpus, r.input_tokens, r.ttft_s
    (8, 1000.0, 0.5)
    >>> infer_request({"model": "llama3.1-70b", "accelerator": "h200", "gpus": 8, "input_tokens": 1024,
    ...                "output_tokens": 1024, "tpot": 0.05, "tokens_per_user": 20})
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: tokens_per_user: 20 is not allowed; expected either tpot or tokens_per_user, not both
    """
    from stargate.scenario import validate
    from stargate.serving import InferRequest

    fields, typed = _fields(options, INFER_KEYS, where)
    sized = [typed[k] for k in ("gpus", "budget_usd", "power_w") if k in fields]
    if len(sized) != 1:
        raise InputError(f"{where}sizing".strip(), ", ".join(sized) or "none", "exactly one of gpus, budget, power")
    if "tpot_s" in fields and "tokens_per_user" in fields:
        raise InputError(f"{where}{typed['tokens_per_user']}", fields["tokens_per_user"],
                         f"either {typed['tpot_s']} or {typed['tokens_per_user']}, not both")
    try:
        return validate(InferRequest, fields)
    except InputError as e:
        raise _retyped(e, typed, options, where) from None


def design_answer(request: Any, catalog: Catalog) -> dict[str, Any]:
    """The JSON of ``stargate design`` for a request."""
    from stargate.cluster.design import design_cluster

    return design_cluster(request, catalog).model_dump(mode="json")


def train_answer(request: Any, catalog: Catalog) -> dict[str, Any]:
    """The JSON of ``stargate train`` for a request."""
    from stargate.training.job import train

    return train(request, catalog)


def _finite(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"a number out of range ({text[:40]})")
    return x


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(text: str, path: Path, field: str) -> Any:
    """JSON (strict: no NaN, no Infinity, no number that overflows) for a ``.json`` file, else YAML."""
    if path.suffix.lower() != ".json":
        return load_yaml(text, f"{field} {path.name}")
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise InputError(field, str(path), f"strict JSON ({str(e)[:120]})") from None


def load_answer(path: Path | str, catalog: Catalog, field: str = "file") -> tuple[str, dict[str, Any]]:
    """``(kind, answer)`` from a file: a scenario YAML (planned), a design or training request (run),
    or a saved ``--json`` answer of ``design``, ``train`` or ``plan`` (validated, not re-run).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    ...     _ = f.write("accelerator: h100\\ngpus: 1024\\n")
    >>> kind, answer = load_answer(f.name, Catalog.load())
    >>> kind, answer["racks"]
    ('design', 32)
    >>> os.unlink(f.name)
    """
    from stargate.compare import kind_of

    p = Path(path)
    data = _parse(read_text_file(p, field, MAX_YAML_BYTES), p, field)
    if not isinstance(data, dict):
        raise InputError(field, str(path), "a mapping: a scenario, a design or training request, or a saved answer")
    kind = kind_of(data)
    if kind is not None:
        return kind, _checked(kind, data, p, field)
    if "phases" in data:
        from stargate.plan import load_scenario, run_plan

        return "plan", run_plan(load_scenario(p), catalog).model_dump(mode="json")
    if "model" in data and "workload" in data:
        from stargate.scenario import validate
        from stargate.training.job import TrainRequest

        return "train", train_answer(validate(TrainRequest, data, f"{field} {p.name}"), catalog)
    if "accelerator" in data:
        from stargate.scenario import DesignRequest, validate

        return "design", design_answer(validate(DesignRequest, data, f"{field} {p.name}"), catalog)
    raise InputError(field, str(path), "a scenario YAML, a design or training request, or the JSON of "
                                       "`stargate design`, `train` or `plan --json`")


def _checked(kind: str, data: dict[str, Any], path: Path, field: str) -> dict[str, Any]:
    """A saved answer validated against the model that wrote it (a training answer: its figures)."""
    from stargate.compare import metrics_of
    from stargate.scenario import validate

    origin = f"{field} {path.name}"
    _check_magnitudes(data, origin)
    if kind == "design":
        from stargate.cluster.design import ClusterDesign

        return validate(ClusterDesign, data, origin).model_dump(mode="json")
    if kind == "plan":
        from stargate.plan import Plan

        return validate(Plan, data, origin).model_dump(mode="json")
    try:
        metrics_of(data, kind)
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        raise InputError(origin, type(e).__name__, "the JSON of `stargate train --json` (a figure is missing or "
                                                   "not a number)") from None
    return data


MAX_ANSWERS = 16
"""Most answers one comparison may hold."""


def collect(files: list[Path], designs: list[str], trains: list[str], builtins: list[str],
            catalog: Catalog) -> list[tuple[str, dict[str, Any]]]:
    """``(label, answer)`` for every file, ``--design``, ``--train`` and ``--builtin`` given, in that
    order; a label is the file's name, the option string as typed or the built-in scenario's name.

    Examples
    --------
    >>> pairs = collect([], ["accelerator=h100,gpus=8", "accelerator=h100,gpus=16"], [], [], Catalog.load())
    >>> [(label, answer["gpus"]) for label, answer in pairs]
    [('accelerator=h100,gpus=8', 8), ('accelerator=h100,gpus=16', 16)]
    """
    from stargate.errors import clip

    count = len(files) + len(designs) + len(trains) + len(builtins)
    if count > MAX_ANSWERS:
        raise InputError("compare", f"{count} answers", f"at most {MAX_ANSWERS} answers at once")
    if count < 2:
        raise InputError("compare", f"{count} answer(s)", "two or more designs, scenarios or training answers "
                                                          "(files, --design, --train or --builtin)")
    given = [(opt, values[0]) for opt, values in (("--design", designs), ("--train", trains), ("--builtin", builtins))
             if values]
    if len(given) > 1:  # known before any work: each option gives one kind
        raise InputError(*given[1], "answers of one kind: designs (--design), training jobs (--train) or plans "
                                    f"(--builtin), not {given[0][0]} with {given[1][0]}")
    out = [(Path(f).name, load_answer(f, catalog)[1]) for f in files]
    out += [(clip(d, 80), _from_option(d, "--design", catalog)) for d in designs]
    out += [(clip(t, 80), _from_option(t, "--train", catalog)) for t in trains]
    if builtins:
        from stargate.plan import builtin_scenario, run_plan

        for name in builtins:
            try:
                sc = builtin_scenario(name)
            except InputError as e:
                raise InputError("--builtin", name, e.allowed) from None
            out.append((name, run_plan(sc, catalog).model_dump(mode="json")))
    return out


def _from_option(text: str, option: str, catalog: Catalog) -> dict[str, Any]:
    """The answer to a ``--design`` or ``--train`` option string; an error names the key as typed."""
    options = split_pairs(text, option)
    design = option == "--design"
    request = (design_request if design else train_request)(options, f"{option} ")
    try:
        return (design_answer if design else train_answer)(request, catalog)
    except InputError as e:  # raised past validation (an unknown accelerator, a plan that cannot be made)
        _, typed = _fields(options, DESIGN_KEYS if design else TRAIN_KEYS, f"{option} ")
        raise _retyped(e, typed, options, f"{option} ") from None


def _check_magnitudes(data: Any, origin: str) -> None:
    """Every number of a saved answer at most :data:`MAX_FIGURE` in magnitude, else an InputError naming it.

    Examples
    --------
    >>> _check_magnitudes({"capex_usd": 1e308}, "file a.json")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: file a.json: capex_usd: 1e+308 is not allowed; expected a figure of at most 1e+30 in magnitude
    """
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_FIGURE:
            raise InputError(f"{origin}: {where}", value, f"a figure of at most {MAX_FIGURE:g} in magnitude")
