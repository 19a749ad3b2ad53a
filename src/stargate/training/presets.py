"""Model presets, and import of a Hugging Face ``config.json`` read from disk.

Presets live in ``training/presets.yaml`` (each with its source). :func:`from_hf_config` maps the
keys Hugging Face configs use for the same thing (``num_hidden_layers``/``n_layer``/``num_layers``,
``hidden_size``/``n_embd``/``d_model``, ...) onto :class:`ModelSpec`, parsing the JSON itself: no
``transformers``, no remote code. Keys it does not use are reported, not guessed at.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from stargate.errors import InputError, clip
from stargate.inputs import MAX_YAML_BYTES, load_yaml, read_text_file
from stargate.scenario import validate
from stargate.training.model import MLA, ModelSpec, MoE

__all__ = ["from_hf_config", "load_model", "preset", "preset_names"]

_ALIASES = {
    "n_layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "n_heads": ("num_attention_heads", "n_head"),
    "n_kv_heads": ("num_key_value_heads",),
    "head_dim": ("head_dim",),
    "ffn_hidden_size": ("intermediate_size", "ffn_dim", "n_inner"),
    "vocab_size": ("vocab_size",),
}
_EXPERTS = ("num_local_experts", "num_experts", "n_routed_experts")
_EXPERT_FFN = ("moe_intermediate_size", "intermediate_size")
_USED = {k for keys in _ALIASES.values() for k in keys} | set(_EXPERTS) | set(_EXPERT_FFN) | {
    "num_experts_per_tok", "n_shared_experts", "first_k_dense_replace", "q_lora_rank", "kv_lora_rank",
    "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "hidden_act", "tie_word_embeddings", "sliding_window",
    "layer_types", "model_type", "activation_function",
}


@cache
def _presets() -> dict[str, ModelSpec]:
    text = (resources.files("stargate.training") / "presets.yaml").read_text(encoding="utf-8")
    models = [validate(ModelSpec, m, "presets.yaml") for m in load_yaml(text, "presets.yaml")["models"]]
    return {m.name: m for m in models}


def preset_names() -> list[str]:
    """Names of the shipped model presets."""
    return sorted(_presets())


def preset(name: str) -> ModelSpec:
    """A shipped model preset by name.

    Examples
    --------
    >>> round(preset("llama3.1-405b").params_total / 1e9)
    406
    """
    table = _presets()
    key = name.strip().lower()
    if key not in table:
        import difflib

        near = difflib.get_close_matches(key, list(table), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise InputError("model", name, f"a preset name or a config.json path; {hint}presets: {', '.join(sorted(table))}")
    return table[key]


def _first(cfg: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((cfg[k] for k in keys if cfg.get(k) is not None), None)


def from_hf_config(cfg: dict[str, Any], name: str = "imported") -> tuple[ModelSpec, list[str]]:
    """A :class:`ModelSpec` from a Hugging Face config dict, and the keys that were not used.

    Examples
    --------
    >>> spec, unused = from_hf_config({"n_layer": 12, "n_embd": 768, "n_head": 12, "vocab_size": 50257,
    ...                               "activation_function": "gelu_new"})
    >>> spec.ffn_hidden_size, spec.tied_embeddings
    (3072, True)
    """
    spec: dict[str, Any] = {"name": name, "source": "Hugging Face config.json"}
    for field, keys in _ALIASES.items():
        value = _first(cfg, keys)
        if value is not None:
            spec[field] = value
    act = str(cfg.get("hidden_act") or cfg.get("activation_function") or "gelu").lower()
    gated = act in ("silu", "swish", "swiglu") or "glu" in act
    spec["ffn_kind"] = "swiglu" if gated else ("squared_relu" if act == "relu2" else "gelu")
    model_type = str(cfg.get("model_type", "")).lower()
    if model_type:
        spec["model_type"] = model_type
    spec["tied_embeddings"] = bool(cfg.get("tie_word_embeddings", model_type in ("gpt2",) or "n_embd" in cfg))
    experts = _first(cfg, _EXPERTS)
    if experts:
        expert_ffn = cfg.get("moe_intermediate_size") or cfg.get("intermediate_size")
        dense = int(cfg.get("first_k_dense_replace") or 0)
        spec["moe"] = MoE(experts=experts, top_k=cfg["num_experts_per_tok"], expert_ffn=expert_ffn,
                          shared_experts=int(cfg.get("n_shared_experts") or 0), dense_layers=dense)
        if not dense:
            spec.pop("ffn_hidden_size", None)
    if cfg.get("kv_lora_rank"):
        spec["mla"] = MLA(q_lora_rank=cfg.get("q_lora_rank") or 0, kv_lora_rank=cfg["kv_lora_rank"],
                          qk_nope_head_dim=cfg["qk_nope_head_dim"], qk_rope_head_dim=cfg["qk_rope_head_dim"],
                          v_head_dim=cfg["v_head_dim"])
        spec.pop("head_dim", None)
    if "ffn_hidden_size" not in spec and "moe" not in spec and "hidden_size" in spec:
        spec["ffn_hidden_size"] = 4 * spec["hidden_size"]  # GPT-2 convention: n_inner null means 4h
    layer_types = cfg.get("layer_types") or []
    if cfg.get("sliding_window") and layer_types:
        spec["sliding_window"] = cfg["sliding_window"]
        spec["sliding_window_layers"] = sum(1 for t in layer_types if "sliding" in str(t))
    unused = sorted(k for k in cfg if k not in _USED)
    return validate(ModelSpec, spec, f"config {name}"), unused


def load_model(name_or_path: str) -> tuple[ModelSpec, list[str]]:
    """A preset by name, or a Hugging Face ``config.json`` by path; with the unused config keys.

    A preset name always means the preset, even if a file of that name sits in the working folder;
    anything else is read as a file.
    """
    if name_or_path in preset_names():
        return preset(name_or_path), []
    path = Path(name_or_path)
    if path.suffix == ".json" or _is_file(path):
        text = read_text_file(path, "model", MAX_YAML_BYTES)
        try:
            cfg = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as e:
            raise InputError("model", name_or_path, f"valid JSON (line {e.lineno}: {e.msg})") from None
        except ValueError as e:  # NaN/Infinity, or an integer of thousands of digits
            raise InputError("model", name_or_path, f"JSON with finite numbers ({clip(str(e), 80)})") from None
        if not isinstance(cfg, dict):
            raise InputError("model", name_or_path, "a JSON object of model settings")
        return from_hf_config(cfg, path.stem)
    return preset(name_or_path), []


def _is_file(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long for a path, or holding a NUL: not a file
        return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")
