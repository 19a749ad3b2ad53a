"""Reference clusters: reproduce each row of a clusters file and compare with what was published.

A clusters file (``shared/validation/clusters.csv``; format in its ``clusters_README.md``) holds
published figures about real AI clusters, one checkable figure per row: the inputs to reproduce
(accelerator, GPU count or power or budget, fabric, and the setting in words), the metric to
compare, the published value and the band a credible model should land in, with its source.

Each row is rebuilt from its own cells only, through the same public entry points a user has
(:func:`~stargate.cluster.design.design_cluster`, :func:`~stargate.fabric.design.design_fabric`,
the training search, the reliability model). The setting's words are read by the small, fixed
vocabulary of :data:`SETTING_WORDS` (cooling, rack packing, pods and taper, a training job, a run
length, a recovery strategy); words outside it change nothing. Nothing here knows a site: a
metric is computed the same way for every row that asks for it.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from stargate.errors import InputError, clip
from stargate.inputs import read_text_file
from stargate.units import parse_quantity

__all__ = ["COLUMNS", "SETTING_WORDS", "ClusterRef", "Setting", "is_clusters_file", "read_clusters", "read_setting"]

COLUMNS = ("ref_id", "what", "accelerator", "gpus", "power", "budget_usd", "fabric", "setting", "metric",
           "published", "low", "high", "unit", "source", "date", "confidence", "notes")
"""The columns of a clusters file (``clusters_README.md``)."""


class ClusterRef(BaseModel):
    """One published figure about a real cluster, and the inputs that reproduce it."""

    model_config = ConfigDict(frozen=True)

    ref_id: str
    """Stable id of the row."""
    what: str
    """The question, in words."""
    accelerator: str
    """Accelerator id or alias."""
    gpus: int | None
    """GPU count, if the source fixes it."""
    power_w: float | None
    """Power (W), if the source fixes it (facility power, unless the setting says IT power)."""
    budget_usd: float | None
    """Budget (USD), if the source fixes it."""
    fabric: str | None
    """Scale-out fabric family, if the source fixes it."""
    setting: str
    """How the cluster was built, in words."""
    metric: str
    """What to compare (a key of :data:`METRICS`)."""
    published: float
    """The published figure."""
    low: float
    """Low end of the credible band."""
    high: float
    """High end of the credible band."""
    unit: str
    """Unit of the figure."""
    source: str
    """Where the figure comes from."""
    date: str
    """When it was published."""
    confidence: str
    """high, medium or low."""
    notes: str = ""
    """What the figure covers, and how to read it (its recovery words are read as the setting's)."""


@dataclass(frozen=True, slots=True)
class Setting:
    """What the words of a row's ``setting`` fix, by :data:`SETTING_WORDS`."""

    cooling: str | None = None
    systems_per_rack: int | None = None
    it_power_w: float | None = None
    pods: int | None = None
    pod_gpus: int | None = None
    taper: float | None = None
    switch: str | None = None
    """A scale-out switch the row names (catalog id, e.g. ``quantum-x800``)."""
    planes: int | None = None
    """Fabric planes the row names ('2 planes of 400G')."""
    gpus_at_least: int | None = None
    model: str | None = None
    seq_len: int | None = None
    global_batch: int | None = None
    precision: str = "bf16"
    run_days: float | None = None
    warm_spares: bool = False
    recovery: tuple[str, ...] = ()
    """Recovery strategies the words name (catalog ids); none named: storage checkpoints and a full restart."""
    words: tuple[str, ...] = field(default=())
    """The phrases that were read."""


def _int(text: str) -> int:
    text = text.replace(",", "").lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


SETTING_WORDS: tuple[tuple[str, Callable[[re.Match[str]], dict[str, Any]]], ...] = (
    (r"direct[- ]liquid", lambda m: {"cooling": "direct_liquid"}),
    (r"racks of (\d+) \S+ servers", lambda m: {"systems_per_rack": int(m[1])}),
    (r"IT power = ([\d.]+ ?[kMGT]?W)", lambda m: {"it_power_w": parse_quantity(m[1], "power", "setting")}),
    (r"(\d+) pods of ([\d,]+) GPUs", lambda m: {"pods": int(m[1]), "pod_gpus": _int(m[2])}),
    (r"(\d+(?:\.\d+)?):1 oversubscribed", lambda m: {"taper": float(m[1])}),
    (r"\b(Quantum-X800|Quantum-2|Spectrum-4|Tomahawk-5|Tomahawk-6)\b[^,;]*switches",
     lambda m: {"switch": m[1].lower()}),
    (r"\b(\d) planes\b", lambda m: {"planes": int(m[1])}),
    (r">\s*([\d,.]+k?) GPUs", lambda m: {"gpus_at_least": _int(m[1])}),
    (r"^([a-z][a-z0-9.\-]+-\d+(?:\.\d+)?[bt]),", lambda m: {"model": m[1]}),
    (r"seq (\d+)", lambda m: {"seq_len": int(m[1])}),
    (r"\((\d+) x (\d+)\)", lambda m: {"global_batch": int(m[1])}),
    (r"\b(BF16|FP8|FP16)\b", lambda m: {"precision": m[1].lower()}),
    (r"(\d+)-day (?:run|job)", lambda m: {"run_days": float(m[1])}),
    (r"(\d+)-month (?:run|job)", lambda m: {"run_days": 30.4 * float(m[1])}),
    (r"warm standbys|warm spares", lambda m: {"warm_spares": True}),
    (r"storage checkpoints?", lambda m: {"recovery": ("storage-restart",)}),
    (r"in-memory|peer checkpoints?", lambda m: {"recovery": ("memory-restart",)}),
    (r"replica-scoped|elastic", lambda m: {"recovery": ("elastic",)}),
)
"""The setting vocabulary: a pattern and the inputs it fixes. Case-insensitive except model ids."""


def read_setting(text: str) -> Setting:
    """The inputs a row's setting words fix.

    Examples
    --------
    >>> s = read_setting("8 pods of 3,072 GPUs, non-blocking inside a pod, 7:1 oversubscribed above")
    >>> s.pods, s.pod_gpus, s.taper
    (8, 3072, 7.0)
    >>> read_setting("llama3.1-405b, seq 8192, 16M-token batch (2048 x 8192), BF16").model
    'llama3.1-405b'
    """
    s = Setting()
    for pattern, fix in SETTING_WORDS:
        flags = 0 if pattern.startswith("^") else re.IGNORECASE
        m = re.search(pattern, text.strip(), flags)
        if m:
            fixed = fix(m)
            if "recovery" in fixed:  # several strategies may be named: each is allowed
                fixed["recovery"] = (*s.recovery, *fixed["recovery"])
            s = replace(s, **fixed, words=(*s.words, m[0]))
    return s


def _number(row: dict[str, str], key: str, path: str) -> float | None:
    cell = row.get(key, "").strip()
    if not cell:
        return None
    try:
        v = float(cell)
    except ValueError:
        raise InputError(f"{path}: row {row.get('ref_id', '?')}.{key}", cell, "a number") from None
    if not math.isfinite(v):
        raise InputError(f"{path}: row {row.get('ref_id', '?')}.{key}", cell, "a finite number")
    return v


def is_clusters_file(header: list[str]) -> bool:
    """Whether a CSV header is a clusters file's (it has ``ref_id``, ``metric`` and the band)."""
    return {"ref_id", "metric", "published", "low", "high"} <= set(header)


def read_clusters(path: Path | str) -> list[ClusterRef]:
    """The rows of a clusters file, checked.

    Examples
    --------
    >>> from stargate.clusters import read_clusters  # doctest: +SKIP
    >>> read_clusters("../shared/validation/clusters.csv")[0].metric  # doctest: +SKIP
    'it_power_w'
    """
    p = Path(path)
    text = read_text_file(p, "clusters")
    try:
        rows = [{k: v for k, v in r.items() if k is not None} for r in csv.DictReader(io.StringIO(text, newline=""), restval="")]
    except csv.Error as e:
        raise InputError("clusters", str(p), f"a CSV file ({clip(str(e), 80)})") from None
    if not rows or not is_clusters_file(list(rows[0])):
        raise InputError("clusters", str(p), "a CSV with the columns of clusters_README.md (ref_id, metric, published, low, high, ...)")
    from stargate.references.metrics import METRICS

    out = []
    for row in rows:
        metric = row.get("metric", "").strip()
        if metric not in METRICS:
            raise InputError(f"{p.name}: row {row.get('ref_id', '?')}.metric", metric, f"one of {', '.join(sorted(METRICS))}")
        power = row.get("power", "").strip()
        gpus = _number(row, "gpus", p.name)
        out.append(ClusterRef(
            ref_id=row["ref_id"], what=row.get("what", ""), accelerator=row.get("accelerator", "").strip(),
            gpus=int(gpus) if gpus is not None else None,
            power_w=parse_quantity(power, "power", f"{p.name}: row {row['ref_id']}.power") if power else None,
            budget_usd=_number(row, "budget_usd", p.name), fabric=row.get("fabric", "").strip() or None,
            setting=row.get("setting", ""), metric=metric,
            published=_number(row, "published", p.name) or 0.0, low=_number(row, "low", p.name) or 0.0,
            high=_number(row, "high", p.name) or 0.0, unit=row.get("unit", ""), source=row.get("source", ""),
            date=row.get("date", ""), confidence=row.get("confidence", ""), notes=row.get("notes", ""),
        ))
    return out
