"""GPU counts no plan can use whole: the nearest that work, ``--use-subset``, and ``--top-k`` in text.

The nearest usable counts are checked against a brute force that runs the search on every count in
turn and keeps those on which some plan that uses every GPU fits.
"""

from __future__ import annotations

import re

import pytest

from stargate.errors import InputError
from stargate.training.context import Workload, resolve_context
from stargate.training.job import NEAR_TIE, TrainRequest, train
from stargate.training.presets import preset
from stargate.training.search import search, usable_counts

DEEPSEEK = ["train", "--model", "deepseek-v3", "--accelerator", "mi355x", "--seq-len", "4096", "--global-batch", "15360"]


def _ctx(model: str, gpus: int, batch: int, framework: str = "megatron", acc: str = "h100", seq: int = 4096):
    w = Workload(accelerator=acc, gpus=gpus, seq_len=seq, global_batch=batch, framework=framework)
    return resolve_context(preset(model), w)


def _usable_by_brute_force(model: str, top: int, batch: int, framework: str) -> list[int]:
    """Every count up to ``top`` on which some plan using all the GPUs fits, one search per count."""
    return [c for c in range(1, top + 1) if search(_ctx(model, c, batch, framework), fewer_gpus=False).feasible > 0]


@pytest.mark.parametrize(("model", "batch", "framework"), [
    ("llama3.1-70b", 96, "megatron"),   # memory decides the small counts, divisibility the rest
    ("mixtral-8x7b", 96, "megatron"),   # expert-parallel groups
    ("llama3.1-70b", 60, "torchtitan"),  # any split of the layers, TP across domains
])
def test_nearest_usable_counts_match_a_brute_force(model, batch, framework):
    ok = _usable_by_brute_force(model, 80, batch, framework)
    assert ok and ok[0] > 1  # the small counts do not fit
    for n in range(1, 41):
        want_below = max((c for c in ok if c <= n), default=0)
        want_above = min((c for c in ok if n < c <= 2 * n), default=0)
        got = usable_counts(_ctx(model, n, batch, framework))
        assert (got.below, got.above) == (want_below, want_above), n


def test_a_count_no_plan_uses_is_refused_with_the_nearest_that_work(cli):
    ctx = _ctx("deepseek-v3", 50_000, 15360, acc="mi355x")
    near = usable_counts(ctx)
    assert near.below < 50_000 < near.above
    # The nearest counts really work: the search finds a plan using every GPU on each.
    for count in (near.below, near.above):
        r = search(_ctx("deepseek-v3", count, 15360, acc="mi355x"), fewer_gpus=False)
        assert r.feasible > 0 and r.gpus_used == count
    with pytest.raises(InputError) as e:
        train(TrainRequest(model="deepseek-v3", workload=ctx.workload))
    assert e.value.field == "gpus" and e.value.value == 50_000
    r = cli(*DEEPSEEK, "--gpus", "50000")
    assert r.code == 2 and r.stdout == "" and "\n" not in r.stderr.strip() and "Traceback" not in r.stderr
    assert r.stderr.startswith("stargate: error: --gpus: '50000' is not allowed; expected ")
    assert f"{near.below:,} (below)" in r.stderr and f"{near.above:,} (above)" in r.stderr and "--use-subset" in r.stderr


def test_use_subset_runs_on_the_largest_usable_subset(cli):
    near = usable_counts(_ctx("deepseek-v3", 50_000, 15360, acc="mi355x"))
    d = cli(*DEEPSEEK, "--gpus", "50000", "--use-subset", "--json").json()
    assert d["gpus"] == 50_000 and d["gpus_used"] == near.below and d["idle_gpus"] == 50_000 - near.below
    p = d["parallelism"]
    assert p["tp"] * p["pp"] * p["cp"] * p["dp"] == near.below
    assert all(a["gpus_used"] == near.below for a in d["alternatives"])
    # The same job on exactly that many GPUs finds the same plan.
    exact = cli(*DEEPSEEK, "--gpus", str(near.below), "--json").json()
    assert exact["parallelism"] == p and exact["step_time_s"] == pytest.approx(d["step_time_s"], rel=0.02)
    text = cli(*DEEPSEEK, "--gpus", "50000", "--use-subset").stdout
    assert f"{near.below:,} of 50,000 ({50_000 - near.below:,} idle)" in re.sub(r"\s+", " ", text)


def test_a_count_that_fits_is_answered_as_before(cli):
    d = cli(*DEEPSEEK, "--gpus", "49152", "--json").json()
    assert d["gpus_used"] == 49_152 and d["idle_gpus"] == 0 and d["fits"]


@pytest.mark.parametrize("gpus", ["8", "60"])
def test_use_subset_without_a_usable_subset_is_bad_input(cli, gpus):
    args = ["train", "--model", "llama3.1-405b", "--accelerator", "h100", "--gpus", gpus, "--seq-len", "8192",
            "--global-batch", "16"]
    r = cli(*args, "--use-subset")
    assert r.code == 2 and r.stdout == "" and "\n" not in r.stderr.strip() and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"stargate: error: --gpus: '{gpus}' is not allowed; expected a GPU count with a usable subset")
    above = usable_counts(_ctx("llama3.1-405b", int(gpus), 16, seq=8192)).above
    assert (f"{above:,}" in r.stderr) if above else (f"{2 * int(gpus):,}" in r.stderr)
    # Without --use-subset the job is answered: it does not fit, and the note says how many would do.
    answered = cli(*args, "--json")
    assert answered.code == 0
    d = answered.json()
    assert d["fits"] is False
    assert not above or any(f"{above:,}" in n for n in d["notes"])


@pytest.mark.parametrize("value", ["0", "1e9", "-3", "21", "three"])
def test_top_k_out_of_range_is_one_line(cli, value):
    r = cli("train", "--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "64", "--seq-len", "8192",
            "--global-batch", "512", "--top-k", value)
    assert r.code == 2 and r.stdout == "" and "\n" not in r.stderr.strip() and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"stargate: error: --top-k: '{value}' is not allowed; expected ")


def test_top_k_alternatives_in_text_with_near_ties(cli):
    args = ["train", "--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "64", "--seq-len", "8192",
            "--global-batch", "512", "--top-k", "5"]
    d = cli(*args, "--json").json()
    plans = [d, *d["alternatives"]]
    assert len(plans) == 5
    best = d["step_time_s"]
    for alt in d["alternatives"]:
        assert alt["step_time_s"] >= best
        assert alt["near_tie"] == (alt["step_time_s"] <= (1 + NEAR_TIE) * best)
    text = cli(*args).stdout
    table = text[text.index("Fastest plans"):]
    for i, p in enumerate(plans, 1):
        q = p["parallelism"]
        row = next(line for line in table.splitlines() if line.startswith(f"{i} "))
        assert f"dp{q['dp']}" in row and f"mbs{q['mbs']}" in row and f"{100 * p['mfu']:.1f}%" in row
        assert f"{p['step_time_s']:.3f}" in row
        assert ("≈" in row) == (i > 1 and p["near_tie"])
    assert any(a["near_tie"] for a in d["alternatives"])  # this job has near-ties to show
    one = cli(*args[:-1], "1").stdout
    assert "Fastest plans" not in one


def test_parallel_degrees_are_read_by_the_one_count_parser(cli):
    """`--dp 3.2e1` is 32, as `--gpus 1e5` is 100,000; a degree that is no count is named as typed."""
    base = ("train", "--model", "llama3.1-70b", "--accelerator", "h100", "--gpus", "1024", "--seq-len", "8k",
            "--global-batch", "1024", "--tp", "8", "--pp", "4", "--json")
    plain, written = cli(*base, "--dp", "32").json(), cli(*base, "--dp", "3.2e1").json()
    assert plain["parallelism"]["dp"] == written["parallelism"]["dp"] == 32
    for bad, why in (("8x", "a whole number like"), ("2M", "at most 1,000,000")):
        r = cli(*base[:-1], "--dp", bad)
        assert r.code == 2 and r.stderr.startswith(f"stargate: error: --dp: '{bad}'") and why in r.stderr
