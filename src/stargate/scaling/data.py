"""Training data: tokens needed against the stock of public human text, and synthetic tokens.

The stock is Epoch AI's estimate of the effective stock of quality- and repetition-adjusted
public human-generated text: about 3.1e14 tokens (median; 90% interval 1e14 to 1e15), Villalobos
et al., "Will we run out of data? Limits of LLM scaling based on human-generated data" (ICML 2024,
arXiv:2211.04325 v2). When a run needs more tokens than that, the rest is synthetic; generating a
token costs about 2 FLOPs per generator parameter (a forward pass, Kaplan et al. 2020), and only a
``keep`` fraction of generated tokens survives filtering, so each kept token costs
``2 N_gen / keep`` FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HUMAN_TEXT_STOCK_TOKENS", "DataNeed", "data_need"]

HUMAN_TEXT_STOCK_TOKENS = 3.1e14
"""Epoch AI's median effective stock of public human text (Villalobos et al. 2024)."""


@dataclass(frozen=True, slots=True)
class DataNeed:
    """Where a run's tokens come from."""

    tokens_needed: float
    human_tokens: float
    synthetic_tokens: float
    synthetic_generation_flops: float
    synthetic_share_of_compute: float
    """Generation FLOPs over the training FLOPs of the phase."""


def data_need(tokens: float, training_flops: float, generator_params: float, keep: float = 0.3,
              stock: float = HUMAN_TEXT_STOCK_TOKENS) -> DataNeed:
    """Human and synthetic tokens for a run, and what generating the synthetic ones costs.

    ``keep`` (fraction of generated tokens kept after filtering) is an assumption, not a published
    constant; pass your own.

    Examples
    --------
    >>> d = data_need(4e14, 1e28, 1e12, keep=0.5)
    >>> d.synthetic_tokens, d.synthetic_generation_flops
    (90000000000000.0, 3.6e+26)
    """
    human = min(tokens, stock)
    synthetic = max(tokens - stock, 0.0)
    gen = 2.0 * generator_params * synthetic / keep
    return DataNeed(tokens, human, synthetic, gen, gen / training_flops if training_flops else 0.0)
