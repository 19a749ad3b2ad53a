"""Transformer architectures: exact parameter counts and FLOPs per token.

Notation (scaling-book / PaLM): ``L`` layers, ``h`` hidden size, ``H`` query heads, ``K`` key/value
heads, ``d`` head dimension, ``f`` FFN width, ``V`` vocabulary, ``s`` sequence length.

Parameters per layer (biases and norm scales are counted: ``2h`` per layer):

- attention, multi-head / grouped / multi-query: ``h·H·d`` (Q) + ``2·h·K·d`` (K, V) + ``H·d·h`` (out);
- attention, multi-head latent (DeepSeek-V2/V3, arXiv:2405.04434 §2.1): ``h·r_q + r_q·H·(d_n + d_r)``
  (or ``h·H·(d_n + d_r)`` without a query rank), ``h·(r_kv + d_r) + r_kv·H·(d_n + d_v)``, ``H·d_v·h``;
- FFN: ``2·h·f`` for two-matrix MLPs (GeLU, squared ReLU), ``3·h·f`` for SwiGLU;
- mixture of experts: a router ``h·E`` plus ``E`` routed and ``S`` shared experts of width ``f_e``;
  a token uses ``top_k`` routed and all shared experts. Leading ``dense_layers`` use the dense FFN.

Embeddings are ``V·h``, plus ``V·h`` for an untied output head. Model FLOPs per token follow PaLM
(Chowdhery et al. 2022, App. B): ``6·N`` for the matmul parameters a token touches (the output head
included, the embedding lookup not) plus ``12·L·H·d·s`` for attention scores and values, counted
over the whole context (not halved for causal masks); sliding-window layers see ``min(s, w)``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from stargate.inputs import INPUT_CONFIG

__all__ = ["MLA", "MoE", "ModelSpec"]

_CONFIG = INPUT_CONFIG
MAX_DIM = 1 << 24
"""Largest size of any one model dimension (layers, width, heads, vocabulary, experts): 16.7M."""
Pos = Annotated[int, Field(gt=0, le=MAX_DIM)]
Count = Annotated[int, Field(ge=0, le=MAX_DIM)]


class MoE(BaseModel):
    """Mixture-of-experts feed-forward layers."""

    model_config = _CONFIG

    experts: Pos
    """Routed experts per MoE layer."""
    top_k: Pos
    """Routed experts each token uses."""
    expert_ffn: Pos
    """FFN width of one expert."""
    shared_experts: Count = 0
    """Always-active shared experts per MoE layer."""
    dense_layers: Count = 0
    """Leading layers with a dense FFN instead of experts."""


class MLA(BaseModel):
    """Multi-head latent attention ranks and head dimensions (DeepSeek-V2/V3)."""

    model_config = _CONFIG

    q_lora_rank: Count = 0
    """Query compression rank; 0 means no query compression."""
    kv_lora_rank: Pos
    """Key/value compression rank."""
    qk_nope_head_dim: Pos
    """Per-head query/key dimension without rotary embedding."""
    qk_rope_head_dim: Pos
    """Per-head query/key dimension with rotary embedding (the key part is shared by heads)."""
    v_head_dim: Pos
    """Per-head value dimension."""


class ModelSpec(BaseModel):
    """A decoder-only transformer.

    Examples
    --------
    >>> m = ModelSpec(name="tiny", n_layers=2, hidden_size=64, n_heads=4, ffn_hidden_size=256, vocab_size=1000)
    >>> m.params_total == 2 * (4 * 64 * 64 + 2 * 64 * 256 + 2 * 64) + 64 + 2 * 1000 * 64
    True
    """

    model_config = _CONFIG

    name: str
    """Model name."""
    n_layers: Pos
    """Transformer blocks."""
    hidden_size: Pos
    """Model width ``h``."""
    n_heads: Pos
    """Query heads ``H``."""
    n_kv_heads: Pos | None = None
    """Key/value heads ``K``; default: ``n_heads`` (multi-head attention)."""
    head_dim: Pos | None = None
    """Per-head dimension ``d``; default: ``hidden_size / n_heads``."""
    ffn_hidden_size: Pos | None = None
    """Width ``f`` of the dense FFN (all layers of a dense model; the leading layers of an MoE)."""
    ffn_kind: str = Field("gelu", pattern=r"^(gelu|swiglu|squared_relu)$")
    """``gelu`` or ``squared_relu`` (two matrices), or ``swiglu`` (three)."""
    vocab_size: Pos
    """Vocabulary size ``V``."""
    tied_embeddings: bool = False
    """Whether the output head shares the input embedding matrix."""
    mla: MLA | None = None
    """Multi-head latent attention, replacing the Q/K/V projections."""
    moe: MoE | None = None
    """Mixture-of-experts FFN layers."""
    sliding_window: Pos | None = None
    """Window of sliding-window attention layers (tokens)."""
    sliding_window_layers: Count = 0
    """How many layers use the sliding window (the others attend to the whole context)."""
    source: str = ""
    """Where the architecture comes from (paper, model card, config file)."""
    model_type: str = ""
    """Hugging Face ``config.json`` ``model_type`` (``gpt_oss``, ``llama``, ...): which implementation a serving
    engine runs, and so which parallel layouts it supports; empty: unknown (no engine restriction applies)."""
    release_year: Annotated[float, Field(ge=2015.0, le=2100.0)] | None = None
    """When the model's weights and config were first published (decimal year: 2024.99 = 2024-12-26); none: unknown."""
    architecture_year: Annotated[float, Field(ge=2015.0, le=2100.0)] | None = None
    """When a model of this architecture (the same attention kind, FFN or MoE layout and weight format, at any
    size) was first published, if earlier than ``release_year`` (Llama 3.1 405B has Llama 2 70B's); default:
    ``release_year``. Serving software matures per architecture: a new size runs on the kernels a known kind has."""

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.ffn_hidden_size is None and (self.moe is None or self.moe.dense_layers > 0):
            raise ValueError("ffn_hidden_size is needed for the dense FFN layers")
        if self.n_kv_heads is not None and self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_heads ({self.n_heads}) must be a multiple of n_kv_heads ({self.n_kv_heads})")
        if self.sliding_window_layers > self.n_layers:
            raise ValueError("sliding_window_layers cannot exceed n_layers")
        if self.moe is not None and self.moe.dense_layers > self.n_layers:
            raise ValueError("moe.dense_layers cannot exceed n_layers")
        if None not in (self.architecture_year, self.release_year) and self.architecture_year > self.release_year:  # type: ignore[operator]
            raise ValueError("architecture_year cannot be after release_year")
        return self

    @property
    def architecture_since(self) -> float | None:
        """Decimal year the architecture was first published (``architecture_year``, else ``release_year``).

        Examples
        --------
        >>> from stargate.training.presets import preset
        >>> preset("llama3.1-8b").release_year, preset("llama3.1-8b").architecture_since
        (2024.56, 2023.54)
        """
        return self.architecture_year if self.architecture_year is not None else self.release_year

    # --- shapes ---------------------------------------------------------------------------
    @property
    def kv_heads(self) -> int:
        """Key/value heads."""
        return self.n_kv_heads or self.n_heads

    @property
    def dim(self) -> int:
        """Per-head dimension of queries and keys."""
        if self.mla is not None:
            return self.mla.qk_nope_head_dim + self.mla.qk_rope_head_dim
        return self.head_dim or self.hidden_size // self.n_heads

    @property
    def v_dim(self) -> int:
        """Per-head dimension of values."""
        return self.mla.v_head_dim if self.mla is not None else self.dim

    @property
    def attention_kind(self) -> str:
        """``mla``, ``sliding_window_mixed``, ``mqa``, ``gqa`` or ``full``."""
        if self.mla is not None:
            return "mla"
        if self.sliding_window_layers:
            return "sliding_window_mixed"
        if self.kv_heads == 1:
            return "mqa"
        return "gqa" if self.kv_heads < self.n_heads else "full"

    @property
    def moe_layers(self) -> int:
        """Layers whose FFN is a mixture of experts."""
        return 0 if self.moe is None else self.n_layers - self.moe.dense_layers

    @property
    def dense_ffn_layers(self) -> int:
        """Layers with the dense FFN."""
        return self.n_layers - self.moe_layers

    # --- parameters -----------------------------------------------------------------------
    @property
    def attention_params(self) -> int:
        """Parameters of one attention block (projections only)."""
        h, H = self.hidden_size, self.n_heads
        if self.mla is not None:
            m = self.mla
            q = h * H * self.dim if m.q_lora_rank == 0 else h * m.q_lora_rank + m.q_lora_rank * (1 + H * self.dim)
            kv = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank * (1 + H * (m.qk_nope_head_dim + m.v_head_dim))
            return q + kv + H * m.v_head_dim * h
        return h * H * self.dim + 2 * h * self.kv_heads * self.dim + H * self.dim * h

    def _ffn(self, width: int) -> int:
        return (3 if self.ffn_kind == "swiglu" else 2) * self.hidden_size * width

    @property
    def dense_ffn_params(self) -> int:
        """Parameters of one dense FFN."""
        return self._ffn(self.ffn_hidden_size or 0)

    @property
    def expert_params(self) -> int:
        """Parameters of one expert."""
        return self._ffn(self.moe.expert_ffn) if self.moe else 0

    @property
    def embedding_params(self) -> int:
        """Input embedding plus untied output head."""
        return self.vocab_size * self.hidden_size * (1 if self.tied_embeddings else 2)

    def _layer_params(self, experts_counted: int) -> int:
        h = self.hidden_size
        moe = self.moe
        routed = 0 if moe is None else moe.experts * h + (experts_counted + moe.shared_experts) * self.expert_params
        blocks = self.n_layers * (self.attention_params + 2 * h)
        return blocks + self.dense_ffn_layers * self.dense_ffn_params + self.moe_layers * routed + h

    @property
    def params_total(self) -> int:
        """Every parameter, embeddings included."""
        return self._layer_params(self.moe.experts if self.moe else 0) + self.embedding_params

    @property
    def params_active(self) -> int:
        """Parameters a token uses: top-k routed plus shared experts."""
        return self._layer_params(self.moe.top_k if self.moe else 0) + self.embedding_params

    @property
    def matmul_params_active(self) -> int:
        """Matmul parameters a token touches: layers' projections and FFNs plus the output head."""
        return self.params_active - self.vocab_size * self.hidden_size * (0 if self.tied_embeddings else 1)

    # --- FLOPs ----------------------------------------------------------------------------
    def attention_context(self, seq_len: int) -> float:
        """Sum over layers of the context each layer attends to (tokens)."""
        w = min(self.sliding_window or seq_len, seq_len)
        return self.sliding_window_layers * w + (self.n_layers - self.sliding_window_layers) * seq_len

    def attention_flops_per_token(self, seq_len: int) -> float:
        """Forward FLOPs of attention scores and values per token, whole context (PaLM)."""
        return 2.0 * self.n_heads * (self.dim + self.v_dim) * self.attention_context(seq_len)

    def model_flops_per_token(self, seq_len: int) -> float:
        """Training model FLOPs per token: ``6·N_matmul + 3 x attention`` (no recompute).

        Examples
        --------
        >>> m = ModelSpec(name="t", n_layers=1, hidden_size=8, n_heads=1, ffn_hidden_size=32, vocab_size=10)
        >>> m.model_flops_per_token(4) == 6 * m.matmul_params_active + 12 * 1 * 1 * 8 * 4
        True
        """
        return 6.0 * self.matmul_params_active + 3.0 * self.attention_flops_per_token(seq_len)
