"""Which parallel plans a training framework can run (``framework_rules.yaml``), and checks of them.

The search offers only plans that satisfy the workload's framework's documented rules (each rule in
the YAML names its source); :func:`check_fixed` refuses a degree the user fixed that breaks one, with
an :class:`~stargate.errors.InputError` naming the option. The pure helpers here (divisors, the
pipeline split) are shared by the search and the reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from math import gcd, isqrt
from typing import Any

import numpy as np

from stargate.errors import InputError
from stargate.inputs import load_yaml
from stargate.training.model import ModelSpec

__all__ = ["FP8_RECIPES", "FrameworkRules", "SearchLimits", "check_fixed", "check_fp8_recipe", "check_framework",
           "divisors", "framework_rules", "frameworks", "pipeline_split", "pp_split", "search_limits", "stage_layers", "stage_sizes",
           "tp_values"]

FP8_RECIPES = ("tensor", "delayed", "current", "rowwise", "block", "mxfp8", "nvfp4")
"""Low-precision scaling recipes a workload may name (``Workload.fp8_recipe``)."""


@dataclass(frozen=True)
class FrameworkRules:
    """The documented rules of one framework (see ``framework_rules.yaml`` for each field)."""

    id: str
    tp: bool
    tp_divides: tuple[str, ...]
    tp_beyond_domain: bool
    sp_mode: str
    """``with_tp`` (on whenever tp > 1) or ``never``."""
    sp_required_with_tp_and_ep: bool
    sp_seq_divisible_by_tp: bool
    pp: bool
    pp_split: str
    """``even``, ``first_last`` (Megatron-Core) or ``any``."""
    vp: bool
    vp_min_pp: int
    vp_microbatches: str
    """``multiple_of_pp`` (Megatron-Core) or ``rounds`` (PyTorch pipelining)."""
    cp: bool
    cp_seq_multiple_of_2cp: bool
    ep: bool
    ep_group: str
    """``tp_cp_dp`` (ep divides tp·cp·dp) or ``dp`` (ep divides dp)."""
    sharding: tuple[str, ...]
    sharding_with_pp: tuple[str, ...]
    sharding_moe: tuple[str, ...]
    recompute: tuple[str, ...]
    batch_divisible_by: str
    """``dp_mbs`` or ``dp``."""
    sources: dict[str, str]


@dataclass(frozen=True)
class SearchLimits:
    """How far the search enumerates, and where the performance model stops being honest."""

    max_stage_imbalance: float
    interleave_min_microbatches_per_pp: int
    max_tp_domains: int
    max_pp: int
    max_ep: int
    cp_values: tuple[int, ...]
    cp_min_tokens_per_rank: int
    vp_values: tuple[int, ...]
    mbs_values: tuple[int, ...]


@cache
def _document() -> dict[str, Any]:
    text = (resources.files("stargate.training") / "framework_rules.yaml").read_text(encoding="utf-8")
    return load_yaml(text, "framework_rules.yaml")


def _merged(table: dict[str, dict], fid: str, depth: int = 0) -> dict[str, Any]:
    entry = table[fid]
    if "inherits" not in entry or depth > 8:
        return dict(entry)
    base = _merged(table, entry["inherits"], depth + 1)
    base.update({k: v for k, v in entry.items() if k != "inherits"})
    return base


def frameworks() -> tuple[str, ...]:
    """The framework ids that have rules."""
    return tuple(f["id"] for f in _document()["frameworks"])


@cache
def framework_rules(framework: str) -> FrameworkRules:
    """The rules of ``framework`` (an :class:`InputError` naming the allowed ids for any other).

    Examples
    --------
    >>> r = framework_rules("llm-foundry")
    >>> r.tp, r.pp, r.sharding
    (False, False, ('none', 'zero2', 'zero3'))
    >>> framework_rules("nemo").pp_split
    'first_last'
    """
    table = {f["id"]: f for f in _document()["frameworks"]}
    if framework not in table:
        raise InputError("framework", framework, f"one of {', '.join(table)}")
    e = _merged(table, framework)

    def part(key: str) -> dict[str, Any]:
        return e.get(key) or {}

    tp, sp, pp, vp, cp, ep = part("tp"), part("sequence_parallel"), part("pp"), part("vp"), part("cp"), part("ep")
    sh, rc, batch = part("sharding"), part("recompute"), part("batch")
    allowed_sharding = tuple(sh.get("allowed", ("none",)))
    sources = {k: str(v.get("source", "")) for k, v in e.items() if isinstance(v, dict)}
    sources["framework"] = str(e.get("source", ""))
    return FrameworkRules(
        id=framework,
        tp=bool(tp.get("allowed", False)), tp_divides=tuple(tp.get("divides", ("n_heads",))),
        tp_beyond_domain=bool(tp.get("beyond_domain", False)),
        sp_mode=str(sp.get("mode", "never")), sp_required_with_tp_and_ep=bool(sp.get("required_with_tp_and_ep", False)),
        sp_seq_divisible_by_tp=bool(sp.get("seq_divisible_by_tp", False)),
        pp=bool(pp.get("allowed", False)), pp_split=str(pp.get("split", "even")),
        vp=bool(vp.get("allowed", False)), vp_min_pp=int(vp.get("min_pp", 2)),
        vp_microbatches=str(vp.get("microbatches", "multiple_of_pp")),
        cp=bool(cp.get("allowed", False)), cp_seq_multiple_of_2cp=bool(cp.get("seq_multiple_of_2cp", True)),
        ep=bool(ep.get("allowed", False)), ep_group=str(ep.get("group", "tp_cp_dp")),
        sharding=allowed_sharding, sharding_with_pp=tuple(sh.get("with_pp", allowed_sharding)),
        sharding_moe=tuple(sh.get("moe", allowed_sharding)),
        recompute=tuple(rc.get("allowed", ("none",))), batch_divisible_by=str(batch.get("divisible_by", "dp_mbs")),
        sources=sources,
    )


def check_framework(framework: str) -> str:
    """``framework`` if it has rules, else an :class:`InputError` naming the field, the value and the ids.

    Examples
    --------
    >>> check_framework("torchtitan")
    'torchtitan'
    >>> check_framework("jax")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: framework: 'jax' is not allowed; expected one of megatron, nemo, nemo-2, megatron-bridge, hai-llm, torchtitan, llm-foundry, deepspeed
    """
    known = frameworks()
    if framework not in known:
        raise InputError("framework", framework, f"one of {', '.join(known)}")
    return framework


def check_fp8_recipe(precision: str, recipe: str | None) -> None:
    """Refuse a low-precision recipe the precision does not run: an :class:`InputError` on ``fp8_recipe``.

    FP8 recipes (per-tensor ``tensor``/``delayed``/``current``, ``rowwise``, ``block``, ``mxfp8``) go
    with ``fp8`` or ``mxfp8``; ``nvfp4`` goes with ``nvfp4``; ``bf16``/``fp16`` run no low-precision GEMMs.

    Examples
    --------
    >>> check_fp8_recipe("fp8", "block")
    >>> check_fp8_recipe("bf16", "block")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: fp8_recipe: 'block' is not allowed; expected no recipe with precision bf16 (it runs no low-precision GEMMs), or precision fp8 or mxfp8
    """
    if recipe is None:
        return
    if recipe not in FP8_RECIPES:
        raise InputError("fp8_recipe", recipe, f"one of {', '.join(FP8_RECIPES)}")
    if precision in ("bf16", "fp16"):
        want = "nvfp4" if recipe == "nvfp4" else "fp8 or mxfp8"
        raise InputError("fp8_recipe", recipe, f"no recipe with precision {precision} (it runs no low-precision GEMMs), "
                         f"or precision {want}")
    if (recipe == "nvfp4") != (precision == "nvfp4"):
        allowed = "nvfp4" if precision == "nvfp4" else ", ".join(r for r in FP8_RECIPES if r != "nvfp4")
        raise InputError("fp8_recipe", recipe, f"a recipe precision {precision} runs: {allowed}")


@cache
def search_limits() -> SearchLimits:
    """The search's own limits (the ``search`` section of ``framework_rules.yaml``)."""
    s = _document()["search"]
    return SearchLimits(
        float(s["max_stage_imbalance"]), int(s["interleave_min_microbatches_per_pp"]), int(s["max_tp_domains"]),
        int(s["max_pp"]), int(s["max_ep"]), tuple(int(v) for v in s["cp_values"]), int(s["cp_min_tokens_per_rank"]),
        tuple(int(v) for v in s["vp_values"]), tuple(int(v) for v in s["mbs_values"]),
    )


def divisors(n: int) -> np.ndarray:
    """Sorted divisors of ``n`` (trial division up to its square root: O(sqrt n), never O(n)).

    Examples
    --------
    >>> divisors(96).tolist()
    [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96]
    """
    n = int(n)
    if n < 1:
        return np.zeros(0, dtype=np.int64)
    small = np.arange(1, isqrt(n) + 1, dtype=np.int64)
    small = small[n % small == 0]
    return np.unique(np.concatenate([small, n // small]))


def _tp_sizes(model: ModelSpec, rules: FrameworkRules) -> dict[str, int]:
    sizes = {"n_heads": model.n_heads, "n_kv_heads": model.kv_heads}
    if model.ffn_hidden_size:
        sizes["ffn_hidden_size"] = model.ffn_hidden_size
    return {k: v for k, v in sizes.items() if k in rules.tp_divides}


def tp_values(model: ModelSpec, rules: FrameworkRules, domain: int, gpus: int, max_domains: int) -> np.ndarray:
    """Tensor-parallel degrees the framework can run for ``model`` on scale-up domains of ``domain``.

    A degree divides every size in ``rules.tp_divides``; it divides the domain (a group never
    straddles two domains) or, where the framework allows TP beyond a domain, is a multiple of it
    (at most ``max_domains`` domains).
    """
    if not rules.tp:
        return np.ones(1, dtype=np.int64)
    g = 0
    for v in _tp_sizes(model, rules).values():
        g = gcd(g, v)
    cand = divisors(g)
    inside = (cand <= domain) & (domain % cand == 0)
    beyond = (cand > domain) & (cand % domain == 0) & (cand <= max_domains * domain) if rules.tp_beyond_domain else False
    return cand[(inside | beyond) & (cand <= gpus)]


def stage_layers(layers: int, pp: np.ndarray, vp: np.ndarray, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Whether ``layers`` split into ``pp`` stages of ``vp`` chunks under ``split``, and the layers
    of the heaviest stage (arrays).

    ``even``: ``pp·vp`` divides the layers. ``first_last`` (Megatron-Core's first/last-stage
    options): the middle stages hold ``k = vp·ceil(L / (pp·vp))`` layers each and the first and last
    stages share the rest, each a positive multiple of ``vp`` and at most ``k``. ``any``: near-equal
    stages, each with at least one layer per chunk.
    """
    pp = np.asarray(pp, dtype=np.int64)
    vp = np.asarray(vp, dtype=np.int64)
    chunks = pp * vp
    even = layers % chunks == 0
    k = vp * (-(-layers // chunks))
    if split == "even":
        return even, np.where(even, layers // pp, k)
    if split == "any":
        return chunks <= layers, k
    rest = layers - (pp - 2) * k
    uneven = (pp >= 2) & (rest >= 2 * vp) & (rest % vp == 0) & (rest <= 2 * k)
    return even | uneven, np.where(even, layers // pp, k)


def pp_split(framework: str) -> str:
    """How ``framework`` splits layers over pipeline stages (``framework_rules.yaml``); a framework
    without rules (a published run's own stack) splits them near-equally (``any``).

    Examples
    --------
    >>> pp_split("megatron"), pp_split("megascale")
    ('first_last', 'any')
    """
    return framework_rules(framework).pp_split if framework in frameworks() else "any"


def stage_sizes(layers: int, pp: Any, vp: Any, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layers on the first, each middle and the last pipeline stage of every plan (integer arrays).

    A split that ``pp·vp`` divides gives ``L/pp`` to every stage; Megatron-Core's ``first_last`` split,
    where it applies, has middle stages of ``k = vp·ceil(L/(pp·vp))`` and smaller first and last ones
    (:func:`pipeline_split`). Any other uneven split — the near-equal splits of ``any`` frameworks, or a
    layout given outright — is taken as the balanced one that Megatron-Core
    (``account_for_embedding/loss_in_pipeline_split``) and torchtitan use, counting the embedding and
    the loss as a layer each: middle stages of ``vp·ceil((L+2)/(pp·vp))`` layers, the first and last
    sharing the rest (the last taking an odd one). With one stage all three are ``L``; with two there
    is no middle stage (0).

    Examples
    --------
    >>> [a.tolist() for a in stage_sizes(61, [1, 8, 16], [1, 1, 1], "first_last")]
    [[61, 6, 2], [61, 8, 4], [61, 7, 3]]
    >>> [a.tolist() for a in stage_sizes(126, [8, 16], [4, 8], "any")]
    [[15, 7], [16, 8], [15, 7]]
    """
    pp = np.atleast_1d(np.asarray(pp, dtype=np.int64))
    vp = np.atleast_1d(np.asarray(vp, dtype=np.int64))
    ok, k = stage_layers(layers, pp, vp, split)
    even = layers % (pp * vp) == 0
    first_last = (split == "first_last") & ok & ~even
    mid = np.where(even, layers // pp, np.where(first_last, k, vp * -(-(layers + 2) // (pp * vp))))
    rest = layers - (pp - 2) * mid
    short = rest < 0  # more stages than a balanced split can fill: near-equal without the accounting
    mid = np.where(short, layers // pp, mid)
    rest = np.where(short, layers - (pp - 2) * mid, rest)
    first = np.where(first_last, vp * (rest // (2 * vp)), rest // 2)
    first, last = np.where(even, mid, first), np.where(even, mid, rest - first)
    one = pp == 1
    return np.where(one, layers, first), np.where(one, layers, np.where(pp == 2, 0, mid)), np.where(one, layers, last)


def pipeline_split(layers: int, pp: int, vp: int, split: str) -> dict[str, int] | None:
    """Layers on the first, each middle, and the last pipeline stage of Megatron-Core's uneven split
    (None for an even split, and for ``any``: the framework spreads the layers itself, near-equally).

    Examples
    --------
    >>> pipeline_split(61, 16, 1, "first_last")
    {'first': 2, 'middle': 4, 'last': 3}
    >>> pipeline_split(96, 8, 1, "first_last") is None
    True
    """
    if pp <= 1 or layers % (pp * vp) == 0:
        return None
    if split != "first_last":
        return None
    k = vp * -(-layers // (pp * vp))
    rest = layers - (pp - 2) * k
    first = vp * (rest // (2 * vp))
    return {"first": first, "middle": k, "last": rest - first}


def _allowed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def check_fixed(rules: FrameworkRules, model: ModelSpec, seq_len: int, domain: int, gpus: int,
                fixed: dict[str, Any]) -> None:
    """Refuse a degree the user fixed that ``rules`` forbid: an :class:`InputError` naming the option.

    What the fixed options decide alone (or with the model, the sequence and the domain) is checked
    here; combinations with searched degrees are left to the search.

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> check_fixed(framework_rules("megatron"), preset("gpt3-175b"), 2048, 8, 1024, {"tp": 16})
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: tp: 16 is not allowed; expected a degree of tensor parallelism megatron can run: dividing the 96 heads, the 96 key/value heads, the 49152 FFN width, within one 8-GPU scale-up domain (dividing it): 1, 2, 4, 8
    """
    f = {k: v for k, v in fixed.items() if v is not None}
    fw = rules.id
    tp, pp, vp, cp, ep = (int(f.get(k, 1)) for k in ("tp", "pp", "vp", "cp", "ep"))
    if "tp" in f and tp > 1:
        if not rules.tp:
            raise InputError("tp", tp, f"1 ({fw} has no tensor parallelism)")
        ok = tp_values(model, rules, domain, max(gpus, tp), 1 << 30)
        if tp not in ok:
            labels = {"n_heads": "heads", "n_kv_heads": "key/value heads", "ffn_hidden_size": "FFN width"}
            what = ", ".join(f"the {v} {labels[k]}" for k, v in _tp_sizes(model, rules).items())
            where = (f"dividing the {domain}-GPU scale-up domain or a multiple of it" if rules.tp_beyond_domain else
                     f"within one {domain}-GPU scale-up domain (dividing it)")
            raise InputError("tp", tp, f"a degree of tensor parallelism {fw} can run: dividing {what}, {where}: "
                             f"{_allowed(ok.tolist())}")
    if "pp" in f and pp > 1:
        if not rules.pp:
            raise InputError("pp", pp, f"1 ({fw} has no pipeline parallelism)")
        if not bool(stage_layers(model.n_layers, np.array([pp]), np.array([1]), rules.pp_split)[0][0]):
            kind = {"even": f"dividing the {model.n_layers} layers",
                    "first_last": f"splitting the {model.n_layers} layers into equal middle stages and smaller first "
                                  "and last ones",
                    "any": f"at most the {model.n_layers} layers"}[rules.pp_split]
            raise InputError("pp", pp, f"a pipeline degree {fw} can run, {kind}")
    if "vp" in f and vp > 1:
        if not rules.vp:
            raise InputError("vp", vp, f"1 ({fw} has no interleaved pipeline schedule)")
        if "pp" in f and pp < rules.vp_min_pp:
            raise InputError("vp", vp, f"1 with pp={pp}: {fw}'s interleaved schedule needs pp >= {rules.vp_min_pp}")
        if "pp" in f and not bool(stage_layers(model.n_layers, np.array([pp]), np.array([vp]), rules.pp_split)[0][0]):
            raise InputError("vp", vp, f"a virtual-pipeline depth whose chunks split the {model.n_layers} layers over "
                             f"pp={pp} stages as {fw} requires")
    if "cp" in f and cp > 1:
        if not rules.cp:
            raise InputError("cp", cp, f"1 ({fw} has no context parallelism)")
        if rules.cp_seq_multiple_of_2cp and seq_len % (2 * cp):
            raise InputError("cp", cp, f"a context-parallel degree with 2 x cp dividing the sequence of {seq_len}")
    if "ep" in f and ep > 1:
        if model.moe is None:
            raise InputError("ep", ep, "1 (the model has no experts)")
        if not rules.ep:
            raise InputError("ep", ep, f"1 ({fw} has no expert parallelism)")
        if model.moe.experts % ep:
            raise InputError("ep", ep, f"an expert-parallel degree dividing the {model.moe.experts} experts")
    if "sharding" in f:
        s = f["sharding"]
        allowed = rules.sharding_moe if model.moe is not None else rules.sharding
        if s not in allowed:
            raise InputError("sharding", s, f"one of {_allowed(allowed)} for {fw}" + (" with MoE layers" if model.moe else ""))
        if pp > 1 and s not in rules.sharding_with_pp:
            raise InputError("sharding", s, f"one of {_allowed(rules.sharding_with_pp)}: {fw} runs no other with "
                             f"pipeline parallelism (pp={pp})")
    if "recompute" in f and f["recompute"] not in rules.recompute:
        raise InputError("recompute", f["recompute"], f"one of {_allowed(rules.recompute)} for {fw}")
    if "sp" in f and not f["sp"] and rules.sp_required_with_tp_and_ep and tp > 1 and ep > 1:
        raise InputError("sp", False, f"true: {fw} needs sequence parallelism with tensor and expert parallelism")
    if "sp" in f and f["sp"] and (rules.sp_mode == "never" or ("tp" in f and tp == 1)):
        raise InputError("sp", True, f"false ({fw} has no sequence parallelism)" if rules.sp_mode == "never"
                         else "false with tp=1 (sequence parallelism splits over the tensor-parallel group)")
    if "tp" in f and tp > 1 and rules.sp_mode == "with_tp" and rules.sp_seq_divisible_by_tp and f.get("sp", True) \
            and seq_len % (tp * (2 * cp if cp > 1 else 1)):
        raise InputError("tp", tp, f"a degree dividing the {seq_len}-token sequence per context-parallel rank "
                         "(sequence parallelism splits it over tp)")
