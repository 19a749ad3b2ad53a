"""Model shapes: parameter and FLOP counts against published figures and hand calculations."""

import json
from pathlib import Path

import pytest

from stargate.errors import InputError
from stargate.training.model import ModelSpec
from stargate.training.presets import from_hf_config, load_model, preset, preset_names

FIXTURES = Path(__file__).parent / "fixtures" / "hf"


@pytest.mark.parametrize(
    ("name", "total", "active"),
    [  # published counts: Meta model cards / HF safetensors, Mistral, DeepSeek-V3 report, Brown et al. 2020
        ("llama3.1-8b", 8_030_261_248, None),
        ("llama3.1-70b", 70_553_706_496, None),
        ("llama3.1-405b", 405e9, None),
        ("gpt3-175b", 175e9, None),
        ("megatron-1t", 1008e9, None),
        ("mixtral-8x7b", 46.7e9, 12.9e9),
        ("deepseek-v3", 671e9, 37e9),
        ("qwen3-235b-a22b", 235e9, 22e9),
    ],
)
def test_presets_match_published_parameter_counts(name, total, active):
    m = preset(name)
    assert m.params_total == pytest.approx(total, rel=0.01)
    if active:
        assert m.params_active == pytest.approx(active, rel=0.02)


def test_required_presets_exist():
    names = set(preset_names())
    for required in ("gpt3-175b", "megatron-1t", "llama3-8b", "llama3-70b", "llama3.1-8b", "llama3.1-70b", "llama3.1-405b",
                     "mixtral-8x7b", "mixtral-8x22b", "deepseek-v3", "qwen3-235b-a22b", "gpt-oss-120b", "mpt-7b", "mpt-30b"):
        assert required in names


def test_flops_follow_palm_appendix_b():
    # 6N + 12 L H Q T per token for training, N = matmul parameters a token touches.
    m = preset("gpt3-175b")
    L, H, Q, T = 96, 96, 128, 2048
    assert m.model_flops_per_token(T) == pytest.approx(6 * m.matmul_params_active + 12 * L * H * Q * T)
    # "Transformer Math 101": C ~ 6 P D when attention is small next to the parameters.
    assert m.model_flops_per_token(T) / (6 * m.params_total) == pytest.approx(1.0, abs=0.06)


def test_moe_uses_top_k_experts_only():
    m = preset("mixtral-8x7b")
    assert m.params_active < m.params_total / 3
    dense_like = ModelSpec(name="x", n_layers=32, hidden_size=4096, n_heads=32, n_kv_heads=8, ffn_hidden_size=2 * 14336,
                           ffn_kind="swiglu", vocab_size=32000)
    # Two experts of 14336 per token cost what one 28672-wide FFN costs, plus the router.
    assert m.params_active == dense_like.params_total + 32 * 8 * 4096


def test_sliding_window_layers_see_less_context():
    m = preset("gpt-oss-120b")
    full = m.model_copy(update={"sliding_window": None, "sliding_window_layers": 0})
    assert m.attention_flops_per_token(8192) < full.attention_flops_per_token(8192)


@pytest.mark.parametrize("fixture", ["llama-3.1-8b", "mixtral-8x7b", "deepseek-v3", "qwen3-235b-a22b", "gpt-oss-120b"])
def test_hf_config_import_matches_the_preset(fixture):
    spec, _ = load_model(str(FIXTURES / f"{fixture}.json"))
    name = {"llama-3.1-8b": "llama3.1-8b"}.get(fixture, fixture)
    assert spec.params_total == pytest.approx(preset(name).params_total, rel=0.002)
    assert spec.params_active == pytest.approx(preset(name).params_active, rel=0.002)


def test_gpt2_naming_and_unused_keys():
    cfg = json.loads((FIXTURES / "gpt2.json").read_text())
    spec, unused = from_hf_config(cfg, "gpt2")
    # 124,439,808 published, less 1024 x 768 learned positions and the biases the spec does not count.
    assert spec.params_total == pytest.approx(124_439_808 - 1024 * 768, rel=0.01)
    assert spec.tied_embeddings and "n_positions" in unused


def test_bad_model_inputs(tmp_path):
    with pytest.raises(InputError) as e:
        preset("llama-9000")
    assert e.value.field == "model"
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(InputError):
        load_model(str(bad))
    with pytest.raises(ValueError):
        ModelSpec(name="x", n_layers=2, hidden_size=64, n_heads=6, n_kv_heads=4, ffn_hidden_size=256, vocab_size=10)


def test_model_type_read_from_config_and_preset():
    # config.json's model_type names the implementation an engine runs (its supported layouts depend on it)
    cfg = json.loads((FIXTURES / "gpt-oss-120b.json").read_text())
    spec, _ = from_hf_config(cfg, "gpt-oss-120b")
    assert spec.model_type == "gpt_oss" == preset("gpt-oss-120b").model_type
    assert preset("llama3.1-8b").model_type == ""  # unknown: no engine restriction applies
