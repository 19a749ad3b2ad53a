"""Which measured chip an accelerator's kernel times come from, and how they are scaled.

Nine chips are measured (``a100_sxm`` ... ``gb300``, and the PCIe cards ``l40s`` and
``rtx_pro_6000_server``; :func:`stargate.kernels.tables.chips`). Each
serves the catalog accelerators listed under ``serves`` in the manifest; the first is the measured
device itself and uses the tables as they are. Every other accelerator borrows a measured chip:

- the one listed in ``serves`` (``a100-40g``, ``h800-80g``, the 500 W ``h100-hbm2e-96g-500w``), else
- the nearest 8-GPU-board chip (A100, H100, H200, B200, B300) in log2 of dense 16-bit peak and
  HBM bandwidth (the GB200/GB300 tables have only 2- and 4-GPU collectives), among those whose
  measured formats cover the chip's FP8 and FP4 units (an FP4 chip borrows a Blackwell table); ties go to the older.

Borrowed times are scaled by datasheet ratios from the catalog (``peak_flops_per_s``,
``hbm_bw_bytes_per_s``, ``scale_up_bw_bytes_per_s_bidir``): compute-bound work by the ratio of
dense peaks of the precision, memory-bound work and decode attention by the ratio of HBM
bandwidths, collectives by the ratio of scale-up bandwidths. Ops that can be either (GEMM,
attention, MoE) split the source time by the source chip's roofline (see :meth:`KernelSource.scale`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from stargate.catalog import Catalog
from stargate.catalog.schema import Accelerator
from stargate.errors import InputError
from stargate.kernels import tables

__all__ = ["PRECISION", "KernelSource", "kernel_source", "resolve"]

PRECISION = {"bf16": "bf16", "fp8": "fp8", "fp8_block": "fp8", "nvfp4": "fp4"}
"""Catalog precision (``peak_flops_per_s`` key) of each kernel dtype."""
_BOARD_CHIPS = ("a100_sxm", "h100_sxm", "h200_sxm", "b200_sxm", "b300_sxm")


@dataclass(frozen=True)
class KernelSource:
    """Where an accelerator's kernel times come from.

    Attributes
    ----------
    accelerator : str
        Catalog id of the accelerator the times are for.
    chip : str
        Measured chip whose tables are read.
    peak_flops_per_s : dict
        The accelerator's dense datasheet peaks by precision (for efficiencies).
    source_peak_flops_per_s, source_hbm_bw_bytes_per_s : dict, float
        The measured chip's datasheet numbers (catalog entry of its device).
    compute_scale : dict
        Accelerator peak / source peak, per precision both have.
    memory_scale, comm_scale : float
        HBM and scale-up bandwidth ratios, accelerator / source.
    borrowed_from : str
        Empty when measured on this accelerator; else a sentence naming the chip and the factors.
    """

    accelerator: str
    chip: str
    peak_flops_per_s: dict[str, float]
    hbm_bw_bytes_per_s: float
    source_peak_flops_per_s: dict[str, float]
    source_hbm_bw_bytes_per_s: float
    compute_scale: dict[str, float] = field(default_factory=dict)
    memory_scale: float = 1.0
    comm_scale: float = 1.0
    borrowed_from: str = ""

    @property
    def measured(self) -> bool:
        """True when the tables were measured on this accelerator (no scaling)."""
        return not self.borrowed_from

    def peak(self, precision: str) -> float:
        """The accelerator's dense peak FLOP/s for ``precision`` (bf16 falls back to fp16)."""
        p = self.peak_flops_per_s.get(precision) or (self.peak_flops_per_s.get("fp16") if precision == "bf16" else None)
        if not p:
            raise InputError("dtype", precision, f"a precision {self.accelerator} has a peak for in the catalog: "
                             f"{', '.join(self.peak_flops_per_s)}")
        return p

    def scale(self, precision: str, time_s: np.ndarray, flop: np.ndarray, bytes_: np.ndarray) -> np.ndarray:
        """Time on this accelerator from ``time_s`` measured on :attr:`chip`.

        The source time is split by the source chip's roofline: the fraction
        ``f = (flop / peak) / (flop / peak + bytes / hbm_bw)`` is compute-bound and scales by the
        peak ratio, the rest by the HBM-bandwidth ratio.
        """
        if self.measured:
            return time_s
        ratio = self.compute_scale.get(precision)
        if ratio is None:
            self.peak(precision)  # raises when the accelerator has no such peak
            raise InputError("dtype", precision, f"a precision both {self.accelerator} and {self.chip} have")
        tc = flop / self.source_peak_flops_per_s[precision]
        tm = bytes_ / self.source_hbm_bw_bytes_per_s
        fc = tc / (tc + tm)
        return time_s * (fc / ratio + (1.0 - fc) / self.memory_scale)


STATIC_POWER_FRACTION = 0.1
"""Share of the reference board power that does not scale with the clock (leakage, HBM, fans, board):
about an idle H100's 70 W of its 700 W (an assumption, stated)."""


def power_clock_factor(tdp_w: float, reference_tdp_w: float, peak_ratio: float = 1.0) -> float:
    """Compute-bound speed of a part capped at ``tdp_w`` against its datasheet peak, relative to the part of the
    same silicon at ``reference_tdp_w`` that sustains its own peak (``peak_ratio``: this part's datasheet peak over
    that part's).

    Dynamic CMOS power is ``C·V²·f``. Below the knee of the voltage-frequency curve the voltage sits at its floor,
    so dynamic power falls in proportion to the clock (and to the active units): running the datasheet peak
    would take ``Ps + (P0 - Ps)·peak_ratio``, and a cap below that leaves
    ``(P - Ps) / ((P0 - Ps)·peak_ratio)`` of it, ``Ps`` the static power (:data:`STATIC_POWER_FRACTION` of
    ``P0``). Memory-bound work keeps its speed (HBM clocks are not capped). A part with at least the power its
    datasheet peak needs runs at that peak.

    The proportional law is what the measurements show: the 500 W H100 of the training file trains 11.6% slower in
    the median than the earlier cube law, ``((P - Ps)/(P0 - Ps))^(1/3)``, predicted and 1.1% slower than this one
    does; the H100 NVL serves Llama 2 70B at 0.67 of the SXM part per GPU (NVIDIA's v4.1 MLPerf configurations, both
    two tensor ranks), where datasheet ratios say 0.89; the MI350X serves at 0.72-0.80 of the MI355X where
    datasheets say 0.92 (``docs/calibration.md``).

    Examples
    --------
    >>> round(power_clock_factor(500, 700), 3)  # the same datasheet at 500 W
    0.683
    >>> round(power_clock_factor(400, 700, 835.5 / 989.4), 3)  # H100 NVL: GH100 at 400 W, its peak 0.84x the SXM's
    0.62
    >>> round(power_clock_factor(600, 700, 835.5 / 989.4), 3)  # H200 NVL: nearly the power its lower clock needs
    0.996
    """
    static = STATIC_POWER_FRACTION * reference_tdp_w
    needed = static + (reference_tdp_w - static) * peak_ratio
    if tdp_w >= needed:
        return 1.0
    return float((tdp_w - static) / (needed - static))


def _peaks(acc: Accelerator) -> dict[str, float]:
    p = {str(k): float(v) for k, v in acc.peak_flops_per_s.items()}
    p.setdefault("bf16", p.get("fp16", 0.0))
    return p


def _nearest(acc: Accelerator, catalog: Catalog) -> str:
    def ref(chip: str) -> Accelerator:
        return catalog.accelerator(tables.manifest()["chips"][chip]["serves"][0])

    def distance(chip: str) -> float:
        r = ref(chip)
        return math.hypot(math.log2(acc.peak_16bit_flops_per_s / r.peak_16bit_flops_per_s),
                          math.log2(acc.hbm_bw_bytes_per_s / r.hbm_bw_bytes_per_s))
    # A chip with FP4 or FP8 matrix units borrows one whose tables measured those formats, where one exists.
    low = {p for p in acc.peak_flops_per_s if str(p) in ("fp8", "fp4")}
    able = [c for c in _BOARD_CHIPS if low <= set(ref(c).peak_flops_per_s)]
    return min(able or _BOARD_CHIPS, key=distance)


_TABLE_DTYPE = {"bf16": "bf16", "fp16": "bf16", "fp8": "fp8", "fp4": "nvfp4"}


def _table_fraction(chip: str, precision: str, peak: float) -> float:
    """The measured chip's best GEMM rate in ``precision`` over its datasheet peak (its own achieved fraction)."""
    dtype = _TABLE_DTYPE.get(precision, "bf16")
    if dtype not in tables.dtypes(chip, "gemm"):
        dtype = "bf16"
    return min(1.0, tables.gemm_best_tflops(chip, dtype) * 1e12 / peak)


@lru_cache(maxsize=256)
def _resolve(name: str, catalog: Catalog) -> KernelSource:
    chips = tables.manifest()["chips"]
    if name in chips:
        acc = catalog.accelerator(chips[name]["serves"][0])
        chip = name
    else:
        acc = catalog.get("accelerators", name, "chip")  # type: ignore[assignment]
        chip = next((c for c, v in chips.items() if acc.id in v["serves"]), None) or _nearest(acc, catalog)
    ref = catalog.accelerator(chips[chip]["serves"][0])
    peaks, ref_peaks = _peaks(acc), _peaks(ref)
    src = KernelSource(acc.id, chip, peaks, acc.hbm_bw_bytes_per_s, ref_peaks, ref.hbm_bw_bytes_per_s)
    if acc.id == ref.id:
        return src
    # Same silicon at a lower power limit (the 500 W H100, the H100 NVL, the MI350X) runs slower clocks than its
    # datasheet's; other chips' peaks say it all.
    die = catalog.accelerator(acc.same_die_as) if acc.same_die_as else (ref if acc.id in chips[chip]["serves"] else None)
    clock = (power_clock_factor(acc.tdp_w, die.tdp_w, acc.peak_16bit_flops_per_s / die.peak_16bit_flops_per_s)
             if die is not None else 1.0)
    compute = {p: clock * peaks[p] / ref_peaks[p] for p in peaks if p in ref_peaks and peaks[p] and ref_peaks[p]}
    memory = acc.hbm_bw_bytes_per_s / ref.hbm_bw_bytes_per_s
    if acc.achieved_matmul_fraction is not None:  # measured throughput against the tables' own best
        compute = {p: r * acc.achieved_matmul_fraction / _table_fraction(chip, p, ref_peaks[p]) for p, r in compute.items()}
    if acc.achieved_hbm_fraction is not None:
        curve = tables.memory_curve(chip)
        if curve is not None:
            memory = acc.hbm_bw_bytes_per_s * acc.achieved_hbm_fraction / curve[2]
    comm = acc.scale_up_bw_bytes_per_s_bidir / ref.scale_up_bw_bytes_per_s_bidir
    factors = [f"power-capped clock x{clock:.3g}"] if clock < 1.0 else []
    factors += [f"{p} compute x{r:.3g}" for p, r in compute.items() if p in ("bf16", "fp8", "fp4") and r != 1.0]
    factors += [f"{what} x{r:.3g}" for what, r in (("memory", memory), ("scale-up", comm)) if r != 1.0]
    measured = acc.achieved_matmul_fraction is not None or acc.achieved_hbm_fraction is not None
    scaled = f"scaled by {'measured throughput' if measured else 'datasheet ratios'} ({', '.join(factors) or 'all 1'})"
    if acc.id in chips[chip]["serves"]:
        note = f"{acc.id}: kernel tables of {chip} ({chips[chip]['device']}), {scaled}"
    else:
        note = f"{acc.id} has no measured kernel tables: borrows {chip} ({chips[chip]['device']}), {scaled}"
    return KernelSource(acc.id, chip, peaks, acc.hbm_bw_bytes_per_s, ref_peaks, ref.hbm_bw_bytes_per_s,
                        compute, memory, comm, note)


def resolve(chip: str, catalog: Catalog | None = None) -> KernelSource:
    """The :class:`KernelSource` for ``chip``: a measured chip name (``h100_sxm``) or a catalog
    accelerator id or alias (``h100``, ``mi300x``). Unknown names raise
    :class:`~stargate.errors.InputError` naming the field ``chip``.

    Examples
    --------
    >>> resolve("h100").chip, resolve("h100").measured
    ('h100_sxm', True)
    >>> resolve("gb200").accelerator
    'gb200-186g'
    """
    if not isinstance(chip, str):
        raise InputError("chip", chip, "a measured chip name or a catalog accelerator id")
    return _resolve(chip.strip().lower(), catalog or Catalog.load())


def kernel_source(accelerator_id: str, catalog: Catalog | None = None) -> KernelSource:
    """Which measured chip ``accelerator_id`` uses, with the scale factors and a ``borrowed_from`` note.

    Parameters
    ----------
    accelerator_id : str
        Catalog accelerator id or alias, or a measured chip name.
    catalog : Catalog, optional
        Catalog for the datasheet numbers; the shipped one by default.

    Returns
    -------
    KernelSource

    Examples
    --------
    >>> kernel_source("h100-sxm-80g").borrowed_from
    ''
    >>> src = kernel_source("mi300x")  # measured, not datasheet, throughput: 45% of its bf16 peak vs H200's 86%
    >>> src.chip, round(src.compute_scale["bf16"], 3), round(src.memory_scale, 3)
    ('h200_sxm', 0.689, 0.984)
    >>> round(kernel_source("mi355x").compute_scale["bf16"], 3)  # no measured fraction: the datasheet ratio
    1.111
    >>> kernel_source("h800").chip, round(kernel_source("h800").comm_scale, 3)
    ('h100_sxm', 0.444)
    >>> kernel_source("l40s-48g").chip, kernel_source("l40s-48g").measured
    ('l40s', True)
    """
    return resolve(accelerator_id, catalog)
