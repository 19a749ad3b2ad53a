"""Serving objectives in sweeps: columns, one search per chip and workload, bad values, stable design ids."""

import pytest

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.sweep import evaluate
from stargate.sweep.spec import SweepSpec, design_ids, points

SPEC = {"name": "serve", "axes": {"accelerator": ["h100", "gb200"], "budget_usd": [1e9, 3e9, 1e10]},
        "fixed": {"model": "llama3.1-8b", "serving_model": "llama3.1-70b", "serving_tokens_per_user": 20}}


def _evaluate(spec: SweepSpec) -> dict:
    return evaluate.evaluate_chunk(points(spec, 0, spec.size))


def test_serving_columns_by_hand():
    """$ per million tokens from the point's TCO and tokens/s per GPU; tokens/s per MW from its facility power per GPU."""
    t = _evaluate(SweepSpec(**SPEC))
    assert len(t["design_id"]) == 6
    for i in range(6):
        per_gpu = t["serving_tokens_per_s_per_gpu"][i]
        assert per_gpu > 0 and t["serving_meets_limits"][i]
        assert t["serving_usd_per_million_tokens"][i] == pytest.approx(t["tco_usd_per_gpu_hour"][i] / (per_gpu * 3600) * 1e6)
        power_per_gpu = t["facility_power_w"][i] / t["gpus_built"][i]
        assert t["serving_tokens_per_mw"][i] == pytest.approx(per_gpu / power_per_gpu * 1e6)
    # one chip, one workload: one answer per GPU at every budget
    assert len({round(x, 9) for x, a in zip(t["serving_tokens_per_s_per_gpu"], t["accelerator"], strict=True) if a == "h100"}) == 1


def test_one_serving_search_per_chip_and_workload(monkeypatch):
    from stargate import capacity as serving

    calls = []
    real = serving.serve
    monkeypatch.setattr(serving, "serve", lambda *a, **k: calls.append(a[1].accelerator) or real(*a, **k))
    evaluate._serving_rate.cache_clear()
    _evaluate(SweepSpec(**SPEC))
    ids = [Catalog.load().accelerator(a).id for a in ("h100", "gb200")]
    assert sorted(calls) == sorted(ids)
    spec = {**SPEC, "axes": {**SPEC["axes"], "serving_tokens_per_user": [20, 40]}, "fixed": {"model": "llama3.1-8b"}}
    calls.clear()
    evaluate._serving_rate.cache_clear()
    t = _evaluate(SweepSpec(**spec))
    assert len(calls) == 4 and len(t["design_id"]) == 12  # 2 chips x 2 workloads, not 12 points


def test_serving_objectives_are_accepted():
    spec = SweepSpec(**{**SPEC, "objectives": ["-serving_tokens_per_s_per_gpu", "serving_usd_per_million_tokens",
                                               "-serving_tokens_per_mw"]})
    spec.check()


def test_a_spec_without_serving_fields_keeps_its_design_ids():
    """The serving fields stay out of a point (and its id) unless the spec gives them: these are the
    ids the same points had before the serving fields existed."""
    s = SweepSpec(name="a", axes={"accelerator": ["h100", "gb200"], "gpus": [8, 1024]})
    assert design_ids(points(s, 0, 4)) == ["0d8df2c739e758bb", "710a7e2466d0aa1f", "34305254b030d06b", "a5a25853ef7cef32"]


@pytest.mark.parametrize(
    ("axes", "field"),
    [
        ({"serving_tokens_per_user": [-1]}, "axes.serving_tokens_per_user[0]"),
        ({"serving_input_tokens": ["1x"]}, "axes.serving_input_tokens[0]"),
        ({"serving_precision": ["fp6"]}, "axes.serving_precision[0]"),
        ({"serving_model": ["nope"]}, "axes.serving_model[0]"),
        ({"serving_ttft_s": [float("inf")]}, "axes.serving_ttft_s[0]"),
    ],
)
def test_bad_serving_values(axes, field):
    spec = SweepSpec(name="bad", axes={"accelerator": ["h100"], "gpus": [8], **axes})
    with pytest.raises(InputError) as e:
        spec.check()
    assert e.value.field == field
