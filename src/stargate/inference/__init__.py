"""Serving performance: what N accelerators serve of a model, to how many users, at what latency.

- :class:`ServingRequest` — the question (model-independent inputs: chip, GPUs, workload, limits, formats);
- :func:`serve` — the best deployment under the limits and the throughput–interactivity frontier;
- :mod:`~stargate.inference.kv` — KV cache and weights in memory; :mod:`~stargate.inference.step` —
  forward times from the measured kernels; :mod:`~stargate.inference.search` — the vectorized search.

Examples
--------
>>> from stargate.inference import ServingRequest, serve
>>> from stargate.training.presets import preset
>>> r = serve(preset("llama3.1-8b"), ServingRequest(accelerator="h100", gpus=1, input_tokens=512, output_tokens=128))
>>> r.tokens_per_s > 1000
True
"""

from stargate.inference.request import ServingRequest
from stargate.inference.serve import Deployment, ServingResult, serve

__all__ = ["Deployment", "ServingRequest", "ServingResult", "serve"]
