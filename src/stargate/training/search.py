"""The fastest parallel plan the chosen framework can run, found in stages and evaluated as arrays.

Candidates are generated in stages, each pruned before the next, so that nothing is as long as
the GPU count and no full cross product is built:

1. **layouts** — (pp, vp) pairs whose layer split the framework supports (``framework_rules.yaml``:
   even, Megatron-Core's smaller first/last stages, or any near-equal split), (tp, cp) pairs that
   divide the heads and the sequence and stay inside a scale-up domain unless the framework runs TP
   across domains, then the expert-parallel degrees that divide the experts;
2. **data parallelism** — per layout and micro-batch size, the largest ``dp <= N / (tp·cp·pp)`` that
   divides the batch into whole micro-batches, satisfies the expert-parallel grouping and the
   interleaved schedule's micro-batch rule (found among the divisors of the batch: O(sqrt batch));
3. **recompute and sharding** the framework offers (ZeRO-2/3 with pipelines only where it runs them).

Memory is computed for every candidate (cheap); the step time for those that fit. When no plan uses
all ``N`` GPUs exactly, the fastest plan on fewer GPUs is returned (or, with ``largest_subset``, the
fastest on the most GPUs any plan fits on) and the idle GPUs are reported; :func:`usable_counts`
gives the nearest counts below and above ``N`` that some plan uses whole. The global batch moves only
when the caller allows it (``batch_tolerance``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stargate.errors import InputError
from stargate.training.context import TrainingContext
from stargate.training.estimate import Estimate, estimate
from stargate.training.memory import memory_per_gpu
from stargate.training.plans import RECOMPUTE, SHARDING, Plans
from stargate.training.rules import (
    FrameworkRules,
    SearchLimits,
    check_fixed,
    divisors,
    framework_rules,
    search_limits,
    stage_layers,
    tp_values,
)

__all__ = ["SearchResult", "UsableCounts", "candidate_plans", "nothing_allowed", "search", "usable_counts"]

_I = np.int64


def _grid(*axes: np.ndarray | list[int]) -> list[np.ndarray]:
    mesh = np.meshgrid(*(np.asarray(a, dtype=_I) for a in axes), indexing="ij")
    return [m.ravel() for m in mesh]


def _pick(values: Any, fixed: Any) -> np.ndarray:
    return np.array([int(fixed)], dtype=_I) if fixed is not None else np.asarray(values, dtype=_I)


def _layouts(ctx: TrainingContext, rules: FrameworkRules, lim: SearchLimits, fixed: dict[str, Any]) -> dict[str, np.ndarray]:
    """(tp, cp, pp, vp, ep, sp) combinations that satisfy every rule not involving dp or the batch."""
    m, w = ctx.model, ctx.workload
    n, layers, seq = w.gpus, m.n_layers, w.seq_len
    # Pipeline: (pp, vp) pairs whose split the framework supports, within the model's stage-balance limit.
    pp_max = min(layers, lim.max_pp, n) if rules.pp else 1
    pp, vp = _grid(_pick(np.arange(1, pp_max + 1), fixed.get("pp")), _pick(lim.vp_values if rules.vp else [1], fixed.get("vp")))
    ok, heaviest = stage_layers(layers, pp, vp, rules.pp_split)
    ok &= (vp == 1) | (rules.vp & (pp >= rules.vp_min_pp))
    if fixed.get("pp") is None:
        ok &= heaviest * pp <= (1 + lim.max_stage_imbalance) * layers
    pp, vp = pp[ok], vp[ok]
    # Tensor and context parallelism: heads, domain, sequence (and sequence parallelism's split of it).
    cps = [c for c in lim.cp_values if c == 1 or (seq % (2 * c) == 0 and seq // c >= lim.cp_min_tokens_per_rank)]
    tp, cp = _grid(_pick(tp_values(m, rules, ctx.scale_up_domain, n, lim.max_tp_domains), fixed.get("tp")),
                   _pick(cps if rules.cp else [1], fixed.get("cp")))
    sp_off = fixed.get("sp") is False or rules.sp_mode != "with_tp"
    sp = (tp > 1) & (not sp_off)
    per_rank = np.where(cp > 1, 2 * cp, 1) * np.where(sp & rules.sp_seq_divisible_by_tp, tp, 1)
    ok = (seq % per_rank == 0) & (tp * cp <= n)
    tp, cp, sp = tp[ok], cp[ok], sp[ok]
    # Experts: degrees dividing the experts.
    if m.moe is not None and rules.ep:
        eps = divisors(m.moe.experts)
        eps = eps[eps <= min(lim.max_ep, n)]
    else:
        eps = np.ones(1, dtype=_I)
    i_pp, i_tp, ep = _grid(np.arange(len(pp)), np.arange(len(tp)), _pick(eps, fixed.get("ep")))
    out = {"tp": tp[i_tp], "cp": cp[i_tp], "sp": sp[i_tp], "pp": pp[i_pp], "vp": vp[i_pp], "ep": ep}
    ok = out["tp"] * out["cp"] * out["pp"] <= n
    if rules.sp_required_with_tp_and_ep:
        ok &= (out["ep"] == 1) | (out["tp"] == 1) | out["sp"]
    return {k: v[ok] for k, v in out.items()}


def _divisor_bounded(k: np.ndarray, bound: np.ndarray, batch_divisors: np.ndarray, *, at_least: bool = False) -> np.ndarray:
    """For each row, the largest divisor of ``k`` (itself a divisor of the batch) that is <= ``bound``
    (with ``at_least``: the smallest that is >= it); 0 where there is none.

    Rows are grouped by ``k`` with one sort (a batch has at most a few hundred divisors, so few groups).
    """
    out = np.zeros(len(k), dtype=_I)
    if not len(k):
        return out
    order = np.argsort(k, kind="stable")
    values, starts = np.unique(k[order], return_index=True)
    ends = np.append(starts[1:], len(k))
    for value, a, b in zip(values.tolist(), starts.tolist(), ends.tolist(), strict=True):
        if value <= 0:
            continue
        rows = order[a:b]
        divs = batch_divisors[value % batch_divisors == 0]
        if at_least:
            idx = np.searchsorted(divs, bound[rows], side="left")
            out[rows] = np.where(idx < len(divs), divs[np.minimum(idx, len(divs) - 1)], 0)
        else:
            idx = np.searchsorted(divs, bound[rows], side="right") - 1
            out[rows] = np.where(idx >= 0, divs[np.maximum(idx, 0)], 0)
    return out


def _dp_rules(rules: FrameworkRules, lim: SearchLimits, lay: dict[str, np.ndarray], fixed: dict[str, Any],
              batch: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each layout x micro-batch size, with what its data-parallel degree must satisfy: ``dp = q·d`` for
    ``d`` a divisor of ``k`` (``dp·mbs·r`` divides the batch), and ``dp <= cap`` (rows, q, r, k, cap)."""
    idx, mbs = _grid(np.arange(len(lay["tp"])), _pick(lim.mbs_values, fixed.get("mbs")))
    rows = {k: v[idx] for k, v in lay.items()}
    rows["mbs"] = mbs
    tp, cp, pp, vp, ep = rows["tp"], rows["cp"], rows["pp"], rows["vp"], rows["ep"]
    # dp must be a multiple of q for the expert-parallel groups to tile the ranks.
    q = ep // np.gcd(ep, tp * cp) if rules.ep_group == "tp_cp_dp" else ep
    interleaved = vp > 1
    # Megatron's interleaved schedule: micro-batches a multiple of pp, i.e. dp x mbs x pp divides the batch.
    r = mbs * np.where(interleaved & (rules.vp_microbatches == "multiple_of_pp"), pp, 1)
    rq = r * q
    k = np.where(batch % rq == 0, batch // np.maximum(rq, 1), 0)
    # Interleaved schedules need at least pp micro-batches (the bubble formula's full pipeline).
    need = np.maximum(pp * lim.interleave_min_microbatches_per_pp, 1)
    cap = np.where(interleaved, batch // (mbs * need), np.iinfo(_I).max)
    return rows, q, r, k, cap


def _rounds_ok(rules: FrameworkRules, rows: dict[str, np.ndarray], dp: np.ndarray, batch: int) -> np.ndarray:
    """PyTorch pipelining's interleaved rule: micro-batches a multiple of ``max(1, micro // pp)``."""
    micro = np.where(dp > 0, batch // np.maximum(dp * rows["mbs"], 1), 0)
    if rules.vp_microbatches != "rounds":
        return np.ones(len(dp), dtype=bool)
    return (rows["vp"] == 1) | (micro % np.maximum(1, micro // rows["pp"]) == 0)


def _with_dp(ctx: TrainingContext, rules: FrameworkRules, lim: SearchLimits, lay: dict[str, np.ndarray],
             fixed: dict[str, Any], batch: int) -> dict[str, np.ndarray]:
    """Each layout x micro-batch size with the largest data-parallel degree the rules allow on at most
    ``N`` GPUs (rows with none are dropped)."""
    n = ctx.workload.gpus
    rows, q, r, k, cap = _dp_rules(rules, lim, lay, fixed, batch)
    bound = np.minimum(n // (rows["tp"] * rows["cp"] * rows["pp"]), cap)
    if fixed.get("dp") is not None:
        d = np.full(len(k), int(fixed["dp"]), dtype=_I)
        ok = (k > 0) & (d <= bound) & (d % q == 0) & (batch % (d * r) == 0)
        dp = np.where(ok, d, 0)
    else:
        dp = q * _divisor_bounded(k, bound // q, divisors(batch))
    dp = np.where(_rounds_ok(rules, rows, dp, batch), dp, 0)
    keep = dp > 0
    rows = {k_: v[keep] for k_, v in rows.items()}
    rows["dp"] = dp[keep]
    return rows


def _expand(ctx: TrainingContext, rules: FrameworkRules, rows: dict[str, np.ndarray], fixed: dict[str, Any]) -> Plans:
    """Rows x recompute x sharding, as the framework offers them."""
    return _expand_index(ctx, rules, rows, fixed)[1]


def _expand_index(ctx: TrainingContext, rules: FrameworkRules, rows: dict[str, np.ndarray],
                  fixed: dict[str, Any]) -> tuple[np.ndarray, Plans]:
    """:func:`_expand`, with the row each plan came from."""
    allowed_sharding = rules.sharding_moe if ctx.model.moe is not None else rules.sharding
    recompute = [RECOMPUTE.index(fixed["recompute"])] if fixed.get("recompute") else [RECOMPUTE.index(v) for v in rules.recompute]
    sharding = [SHARDING.index(fixed["sharding"])] if fixed.get("sharding") else [SHARDING.index(v) for v in allowed_sharding]
    i, rc, sh = _grid(np.arange(len(rows["tp"])), recompute, sharding)
    pp, group = rows["pp"][i], rows["dp"][i] * rows["cp"][i]
    ok = (pp == 1) | np.isin(sh, [SHARDING.index(v) for v in rules.sharding_with_pp])
    if not fixed.get("sharding"):
        # With nothing to shard over (dp x cp = 1) every sharding is the same plan: keep the first.
        ok &= (group > 1) | (sh == min(sharding))
    i, rc, sh = i[ok], rc[ok], sh[ok]
    f = np.float64
    return i, Plans(rows["tp"][i].astype(f), rows["pp"][i].astype(f), rows["dp"][i].astype(f), rows["cp"][i].astype(f),
                         rows["ep"][i].astype(f), rows["vp"][i].astype(f), rows["mbs"][i].astype(f), rc.astype(f),
                    sh.astype(f), rows["sp"][i].astype(f))


def _prepare(ctx: TrainingContext, fixed: dict[str, Any] | None) -> tuple[FrameworkRules, SearchLimits, dict[str, Any]]:
    fixed = {k: v for k, v in (fixed or {}).items() if v is not None}
    rules, lim = framework_rules(ctx.workload.framework), search_limits()
    check_fixed(rules, ctx.model, ctx.workload.seq_len, ctx.scale_up_domain, ctx.workload.gpus, fixed)
    return rules, lim, fixed


def candidate_plans(ctx: TrainingContext, fixed: dict[str, Any] | None = None, *, fewer_gpus: bool = False,
                    batch: int | None = None) -> Plans:
    """Every plan the framework can run for the job (``fixed`` pins any axis, ``dp`` included).

    By default the plans use all the job's GPUs; with ``fewer_gpus`` each layout also appears with the
    largest data-parallel degree that fits in fewer (its ``gpus`` then says how many it uses).

    Examples
    --------
    >>> from stargate.training.context import Workload, resolve_context
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_context(preset("gpt3-175b"), Workload(accelerator="a100", gpus=1536, seq_len=2048, global_batch=1536))
    >>> p = candidate_plans(ctx)
    >>> bool((p.gpus == 1536).all()) and bool((p.tp <= 8).all())
    True
    """
    rules, lim, fixed = _prepare(ctx, fixed)
    return _candidates(ctx, rules, lim, fixed, batch or ctx.workload.global_batch, fewer_gpus)


def _candidates(ctx: TrainingContext, rules: FrameworkRules, lim: SearchLimits, fixed: dict[str, Any], batch: int,
                fewer_gpus: bool) -> Plans:
    rows = _with_dp(ctx, rules, lim, _layouts(ctx, rules, lim, fixed), fixed, batch)
    if not fewer_gpus:
        exact = rows["tp"] * rows["cp"] * rows["pp"] * rows["dp"] == ctx.workload.gpus
        rows = {k: v[exact] for k, v in rows.items()}
    return _expand(ctx, rules, rows, fixed)


@dataclass(frozen=True)
class UsableCounts:
    """The GPU counts nearest a job's on which a plan of its framework runs and fits in memory."""

    below: int
    """The largest such count at most the job's (the job's own when it is one); 0 if none."""
    above: int
    """The smallest such count above the job's, up to twice it; 0 if none."""


def usable_counts(ctx: TrainingContext, fixed: dict[str, Any] | None = None) -> UsableCounts:
    """The nearest GPU counts, at most and above the job's, that some plan the framework can run uses
    whole and fits on.

    Every layout (tp, cp, pp, vp, ep, mbs) uses ``tp·cp·pp·dp`` GPUs for each data-parallel degree its
    rules allow (``dp = q·d``, ``d`` a divisor of the batch over ``mbs`` and the groups): below, the
    largest degree within the job's GPUs; above, the smallest past them that fits in memory (memory
    falls as ``dp`` grows: ZeRO shards over more ranks, fewer micro-batches are in flight), found by
    stepping through the divisors for the layouts that do not fit yet, all layouts at once.

    Examples
    --------
    >>> from stargate.training.context import Workload, resolve_context
    >>> from stargate.training.presets import preset
    >>> w = Workload(accelerator="mi355x", gpus=50_000, seq_len=4096, global_batch=15360)
    >>> usable_counts(resolve_context(preset("deepseek-v3"), w))
    UsableCounts(below=49920, above=51200)
    """
    rules, lim, fixed = _prepare(ctx, fixed)
    batch = ctx.workload.global_batch
    plans = _candidates(ctx, rules, lim, fixed, batch, True)
    fits = _memory_fits(ctx, plans, batch)[0]
    below = int(plans.gpus[fits].max()) if fits.any() else 0
    return UsableCounts(below, _usable_above(ctx, rules, lim, fixed, batch))


def _usable_above(ctx: TrainingContext, rules: FrameworkRules, lim: SearchLimits, fixed: dict[str, Any],
                  batch: int) -> int:
    """The smallest count in ``(N, 2N]`` some plan uses whole and fits on (0 if none)."""
    n = ctx.workload.gpus
    upper = 2 * n
    wide = replace(ctx, workload=ctx.workload.model_copy(update={"gpus": upper}))
    rows, q, _, k, cap = _dp_rules(rules, lim, _layouts(wide, rules, lim, fixed), fixed, batch)
    mp = rows["tp"] * rows["cp"] * rows["pp"]
    divs = divisors(batch)
    top = np.minimum(upper // mp, cap)
    if fixed.get("dp") is not None:
        want = int(fixed["dp"])
        top = np.where((want <= top) & (want % q == 0), want, 0)
    # Layouts that do not fit even at their largest degree never will (memory falls as dp grows).
    live = _fits_at(ctx, rules, rows, q * _divisor_bounded(k, top // q, divs), fixed, batch)
    lo = np.where(fixed.get("dp") is not None, top // np.maximum(q, 1), n // mp // q + 1)
    best = upper + 1
    while live.any():
        dp = q * _divisor_bounded(k, lo, divs, at_least=True)
        live &= (dp > 0) & (dp <= top) & (mp * dp > n) & (mp * dp < best)
        if not live.any():
            break
        ok = np.zeros(len(live), dtype=bool)
        ok[live] = _fits_at(ctx, rules, {key: v[live] for key, v in rows.items()}, dp[live], fixed, batch)
        if ok.any():
            best = min(best, int((mp * dp)[ok].min()))
        live &= ~ok
        lo = dp // np.maximum(q, 1) + 1
    return best if best <= upper else 0


def _fits_at(ctx: TrainingContext, rules: FrameworkRules, rows: dict[str, np.ndarray], dp: np.ndarray,
             fixed: dict[str, Any], batch: int) -> np.ndarray:
    """Per row, whether the layout with data parallelism ``dp`` fits in memory with some recompute and
    sharding the framework offers (False where ``dp`` is 0 or breaks the interleaved rounds rule)."""
    out = np.zeros(len(dp), dtype=bool)
    valid = (dp > 0) & _rounds_ok(rules, rows, dp, batch)
    if not valid.any():
        return out
    sub = {key: v[valid] for key, v in rows.items()}
    sub["dp"] = dp[valid]
    i, plans = _expand_index(ctx, rules, sub, fixed)
    fits = _memory_fits(ctx, plans, batch)[0]
    hit = np.zeros(len(sub["dp"]), dtype=bool)
    hit[i[fits]] = True
    out[np.flatnonzero(valid)] = hit
    return out


@dataclass(frozen=True)
class SearchResult:
    """The best plans found, and how the search went."""

    best: Estimate
    """Estimates of the top plans, fastest first."""
    candidates_evaluated: int
    feasible: int
    search_time_s: float
    smallest_memory: Any
    """Memory breakdown of the least memory-hungry candidate (for a job that cannot fit)."""
    gpus_requested: int = 0
    gpus_used: int = 0
    """GPUs the best plan uses (fewer than requested when no plan the framework runs uses them all)."""
    global_batch: int = 0
    """Global batch of the plans (differs from the request only when ``batch_tolerance`` allowed it)."""
    framework: str = ""
    notes: tuple[str, ...] = ()
    gpus_most: int = 0
    """The most GPUs any plan that fits uses (at most the request)."""

    @property
    def idle_gpus(self) -> int:
        """Requested GPUs the best plan leaves idle."""
        return max(self.gpus_requested - self.gpus_used, 0)


def _memory_fits(ctx: TrainingContext, plans: Plans, batch: int) -> tuple[np.ndarray, np.ndarray, Any]:
    w = ctx.workload
    micro = np.maximum(batch // np.maximum(plans.dp * plans.mbs, 1), 1)
    mem = memory_per_gpu(ctx.model, plans, w.seq_len, micro, precision=w.precision, framework=w.framework,
                         accelerator=ctx.accelerator)
    return mem.total <= ctx.hbm_usable_bytes, mem.total, mem


def _with_batch(ctx: TrainingContext, batch: int) -> TrainingContext:
    if batch == ctx.workload.global_batch:
        return ctx
    return replace(ctx, workload=ctx.workload.model_copy(update={"global_batch": int(batch)}))


def _rounded_batches(ctx: TrainingContext, rules: FrameworkRules, lim: SearchLimits, fixed: dict[str, Any],
                     tolerance: float) -> list[int]:
    """Global batches within ``tolerance`` of the request that let some layout use every GPU, nearest first."""
    w = ctx.workload
    lay = _layouts(ctx, rules, lim, fixed)
    model_parallel = lay["tp"] * lay["cp"] * lay["pp"]
    whole = w.gpus % model_parallel == 0
    lay = {k: v[whole] for k, v in lay.items()}
    dp = w.gpus // (lay["tp"] * lay["cp"] * lay["pp"])
    if fixed.get("dp") is not None:
        keep = dp == int(fixed["dp"])
        lay, dp = {k: v[keep] for k, v in lay.items()}, dp[keep]
    found: set[int] = set()
    for mbs in (int(fixed["mbs"]),) if fixed.get("mbs") else lim.mbs_values:
        step = dp * mbs * np.where((lay["vp"] > 1) & (rules.vp_microbatches == "multiple_of_pp"), lay["pp"], 1)
        floor = np.where(lay["vp"] > 1, dp * mbs * lay["pp"], step)
        b = np.maximum(np.rint(w.global_batch / step) * step, floor)
        near = np.abs(b - w.global_batch) <= tolerance * w.global_batch
        found.update(int(v) for v in np.unique(b[near]) if 0 < v != w.global_batch)
    return sorted(found, key=lambda v: (abs(v - w.global_batch), -v))[:4]


def _best(ctx: TrainingContext, plans: Plans, fits: np.ndarray, top_k: int) -> tuple[Estimate, int]:
    pool = plans.take(fits)
    e = estimate(ctx, pool)
    ok = np.flatnonzero(e.fits)
    order = ok[np.argsort(e.step_time_s[ok], kind="stable")][:top_k]
    return estimate(ctx, pool.take(order)), len(ok)


def search(ctx: TrainingContext, fixed: dict[str, Any] | None = None, top_k: int = 3, *, fewer_gpus: bool = True,
           batch_tolerance: float = 0.0, largest_subset: bool = False) -> SearchResult:
    """Fastest plans the workload's framework can run that fit in memory, on at most the job's GPUs.

    Plans using all ``N`` GPUs are preferred; when none fits (no layout factors ``N``, or none of
    those fits in memory), ``batch_tolerance > 0`` first allows a global batch within that fraction of
    the request that some layout can split over all ``N``, and then (``fewer_gpus``) the fastest plan
    on fewer GPUs is taken — with ``largest_subset``, the fastest on the most GPUs any plan fits on
    (and a note when a smaller subset would train faster). A fixed option the framework cannot run
    raises :class:`InputError`.

    Examples
    --------
    >>> from stargate.training.context import Workload, resolve_context
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_context(preset("llama3.1-8b"), Workload(accelerator="h100", gpus=64, seq_len=8192, global_batch=512))
    >>> r = search(ctx)
    >>> r.feasible > 0 and bool(r.best.fits.all()) and r.gpus_used == 64
    True
    """
    t0 = time.perf_counter()
    rules, lim, fixed = _prepare(ctx, fixed)
    w = ctx.workload
    plans = _candidates(ctx, rules, lim, fixed, w.global_batch, fewer_gpus)
    fits, total, mem = _memory_fits(ctx, plans, w.global_batch)
    evaluated = len(plans)
    if evaluated == 0:
        empty = estimate(ctx, plans)
        return SearchResult(empty, 0, 0, time.perf_counter() - t0, {}, w.gpus, 0, w.global_batch, rules.id)
    exact = plans.gpus == w.gpus
    # Options, each (context, plans, which to estimate, batch, note): all GPUs at the requested batch; or
    # else all GPUs at a nearby batch (when allowed) and the fastest plans on fewer GPUs.
    options: list[tuple[TrainingContext, Plans, np.ndarray, int, str]] = []
    if (fits & exact).any():
        options.append((ctx, plans, fits & exact, w.global_batch, ""))
    else:
        if batch_tolerance > 0:
            for b in _rounded_batches(ctx, rules, lim, fixed, batch_tolerance):
                alt = _candidates(ctx, rules, lim, fixed, b, False)
                alt_fits = _memory_fits(ctx, alt, b)[0]
                evaluated += len(alt)
                if alt_fits.any():
                    note = f"global batch rounded from {w.global_batch:,} to {b:,} sequences so that a plan uses all {w.gpus:,} GPUs"
                    options.append((_with_batch(ctx, b), alt, alt_fits, b, note))
        if fewer_gpus and fits.any():
            most = plans.gpus == plans.gpus[fits].max() if largest_subset else True
            options.append((ctx, plans, fits & most, w.global_batch, ""))
    if not options:
        i = int(np.argmin(total))
        least = {k: float(v[i]) for k, v in mem.as_arrays().items()}
        empty = estimate(ctx, plans.take(slice(0, 0)))
        return SearchResult(empty, evaluated, 0, time.perf_counter() - t0, least, w.gpus, 0, w.global_batch, rules.id)
    chosen = None
    for run_ctx, cand, use, batch, note in options:
        best, feasible = _best(run_ctx, cand, use, top_k)
        if not len(best.plans):
            continue
        # Throughput of the whole job: the options differ in GPUs used and (when allowed) in batch.
        rate = float(best.tokens_per_s_per_gpu[0] * best.plans.gpus[0])
        if chosen is None or rate > chosen[0]:
            chosen = (rate, best, feasible, batch, note, int(cand.gpus[use].max()))
    if chosen is None:
        empty = estimate(ctx, plans.take(slice(0, 0)))
        return SearchResult(empty, evaluated, 0, time.perf_counter() - t0, {}, w.gpus, 0, w.global_batch, rules.id)
    _, best, feasible, batch, note, most = chosen
    notes = [note] if note else []
    used = int(best.plans.gpus[0])
    if used < w.gpus:
        which = "the largest usable subset is" if largest_subset else "the fastest uses"
        notes.append(f"no plan {rules.id} can run fits on all {w.gpus:,} GPUs with a batch of {batch:,}: {which} "
                     f"{used:,} and leaves {w.gpus - used:,} idle" +
                     (f" (the most any plan can use is {most:,})" if most > used else ""))
        if largest_subset:
            notes.extend(_faster_subset(ctx, plans, fits, best, used))
    return SearchResult(best, evaluated, feasible, time.perf_counter() - t0, {}, w.gpus, used, batch, rules.id,
                        tuple(notes), most)


def _faster_subset(ctx: TrainingContext, plans: Plans, fits: np.ndarray, best: Estimate, used: int) -> list[str]:
    """A note when the fastest plan on fewer GPUs than the largest subset trains the job faster."""
    fastest, _ = _best(ctx, plans, fits & (plans.gpus < used), 1)
    if not len(fastest.plans):
        return []
    rate = float(fastest.tokens_per_s_per_gpu[0] * fastest.plans.gpus[0])
    gain = rate / float(best.tokens_per_s_per_gpu[0] * used) - 1.0
    if gain <= 0.001:
        return []
    return [(f"a plan on {int(fastest.plans.gpus[0]):,} GPUs trains the job {100 * gain:.1f}% faster (more tokens/s "
             "in all) than the largest subset")]


def nothing_allowed(ctx: TrainingContext, fixed: dict[str, Any]) -> InputError:
    """The one-line error for a job no plan of its framework can run (every option considered)."""
    rules, m, w = framework_rules(ctx.workload.framework), ctx.model, ctx.workload
    given = {k: v for k, v in fixed.items() if v is not None}
    tps = tp_values(m, rules, ctx.scale_up_domain, w.gpus, search_limits().max_tp_domains).tolist()
    return InputError("parallelism", given or "none", (
        f"a plan {rules.id} can run on at most {w.gpus:,} GPUs: tp x pp x cp x dp <= the GPUs, dp x mbs dividing the "
        f"batch of {w.global_batch:,}, tp in {tps} (dividing the {m.n_heads} heads and the domain of "
        f"{ctx.scale_up_domain}), pp x vp splitting the {m.n_layers} layers ({rules.pp_split} split)"))

