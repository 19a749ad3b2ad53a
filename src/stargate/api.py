"""The Python API: the functions behind the CLI, returning what its ``--json`` prints, as Python objects.

Each function takes plain keyword arguments named like the request models' fields (or like the
CLI's options: ``budget="$10B"`` and ``budget_usd=10e9`` are the same), or a request model, and
returns the same answer the matching command prints with ``--json``:

========================  ===============================================  ======================================
function                  takes                                            returns
========================  ===============================================  ======================================
:func:`design`            a :class:`~stargate.scenario.DesignRequest`      :class:`~stargate.cluster.design.ClusterDesign`
                          or its fields
:func:`fabric`            :class:`~stargate.fabric.design.FabricRequest`   dict (``stargate fabric --json``)
                          or its fields
:func:`train`             a :class:`~stargate.training.job.TrainRequest`   dict (``stargate train --json``)
                          or flat options (``seq_len``, ``tp``, ...)
:func:`infer`             a :class:`~stargate.serving.InferRequest`        dict (``stargate infer --json``)
                          or flat options (``input_tokens``, ``ttft``, ...)
:func:`plan`              a :class:`~stargate.scenario.Scenario`, a        :class:`~stargate.plan.Plan`
                          scenario file or a built-in scenario's name
:func:`sensitivity`       a scenario, as :func:`plan`, and a phase         dict (``stargate sensitivity --json``)
:func:`sweep`             a sweep spec (file, dict or model), a folder     counts of chunks and points
:func:`query`             a sweep folder and one SQL query                 list of row dicts
:func:`compare`           two or more answers of one kind                  :class:`~stargate.compare.Comparison`
:func:`to_pandas`         any of the answers above                         a pandas ``DataFrame``
========================  ===============================================  ======================================

Bad input raises :class:`~stargate.errors.InputError` naming the argument, the value as given
and what is allowed, the same words the CLI prints. ``to_pandas`` needs pandas (the ``analysis``
extra: ``pip install 'stargate[analysis]'``). A walk-through: ``docs/api.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stargate.answers import design_request, infer_request, train_request
from stargate.catalog import Catalog
from stargate.errors import InputError

if TYPE_CHECKING:
    from pandas import DataFrame

    from stargate.cluster.design import ClusterDesign
    from stargate.compare import Comparison
    from stargate.plan import Plan

__all__ = ["compare", "design", "fabric", "infer", "plan", "query", "sensitivity", "sweep", "to_pandas", "train"]

CatalogLike = Catalog | Path | str | None
"""A catalog: the shipped one (None), a loaded :class:`~stargate.catalog.Catalog`, or the path of
an overlay YAML laid over the shipped one (like the CLI's ``--catalog``)."""


def _catalog(catalog: CatalogLike) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else Catalog.load(Path(catalog) if catalog is not None else None)


def _request(request: Any, options: dict[str, Any], build: Any) -> Any:
    """The request given, or the one ``build`` makes of the keywords; both at once is an error."""
    if request is None:
        return build(options)
    if options:
        key = next(iter(options))
        raise InputError(key, options[key], "either a request or keywords, not both")
    return request


def design(request: Any = None, /, *, catalog: CatalogLike = None, uncertainty: int = 0, seed: int = 0,
           **options: Any) -> ClusterDesign:
    """Design one cluster, like ``stargate design``.

    Parameters
    ----------
    request : DesignRequest, optional
        The request; or give its fields as keywords instead.
    catalog : Catalog, path or None
        The catalog (default: the shipped one).
    **options
        ``accelerator`` and exactly one of ``gpus``, ``budget_usd`` (or ``budget``), ``power_w`` (or
        ``power``); ``fabric``, ``system``, ``energy_source``, ``cooling``, ``year``, ... Quantities
        take numbers in SI units or strings with units (``"5 GW"``, ``"$10B"``); the sizing may be a range,
        ``"90e9..110e9"``, answered at its midpoint.
    uncertainty : int
        Latin hypercube samples of every uncertain input, as ``--uncertainty N`` (0: none).
    seed : int
        Seed of the samples, as ``--seed``.

    Returns
    -------
    ClusterDesign
        As ``stargate design --json`` prints it (``.model_dump(mode="json")`` gives the same JSON); with
        ``uncertainty``, a :class:`~stargate.uncertainty.design.RangedDesign` that adds ``ranges`` and ``uncertainty``.

    Examples
    --------
    >>> d = design(accelerator="h100", gpus=1024)
    >>> d.gpus, d.racks, d.cooling
    (1024, 32, 'air')
    >>> d.capex_breakdown_usd["accelerators"] > d.capex_breakdown_usd["network"]
    True
    >>> design(accelerator="gb200", power="1 GW", fabric="ethernet").facility_power_w <= 1e9
    True
    >>> r = design(accelerator="h100", budget="0.9e9..1.1e9", uncertainty=500, seed=1).ranges["gpus"]
    >>> r["p10"] < r["p50"] < r["p90"]
    True
    """
    from stargate.uncertainty.design import design_answer
    from stargate.uncertainty.options import samples
    from stargate.uncertainty.options import seed as read_seed

    n, s = samples(uncertainty, "uncertainty"), read_seed(seed, "seed")
    options, ranges = _sizing_ranges(options)
    return design_answer(_request(request, options, design_request), _catalog(catalog), ranges, n, s)


def _sizing_ranges(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The options with a sizing typed as ``LOW..HIGH`` at its midpoint, and its range by request field."""
    from stargate.answers import DESIGN_KEYS
    from stargate.uncertainty.options import SIZING_RANGES, typed_ranges

    sizing = {}
    for key in options:
        field = DESIGN_KEYS.get(str(key).replace("_", "-"), str(key))
        if field in SIZING_RANGES:
            sizing[field] = str(key)
    try:
        point, ranges = typed_ranges({f: options[k] for f, k in sizing.items()}, sizing)
    except InputError as e:
        raise InputError(sizing.get(e.field, e.field), options.get(sizing.get(e.field, ""), e.value), e.allowed) from None
    return {**options, **{k: point[f] for f, k in sizing.items()}}, ranges


def fabric(request: Any = None, /, *, catalog: CatalogLike = None, compare: bool = False, uncertainty: int = 0,
           seed: int = 0, **options: Any) -> dict[str, Any]:
    """Design the scale-out network, like ``stargate fabric``.

    Parameters
    ----------
    request : FabricRequest, optional
        The request; or give its fields as keywords instead.
    catalog : Catalog, path or None
        The catalog (default: the shipped one).
    compare : bool
        InfiniBand and Ethernet side by side (``fabrics`` and ``comparison``).
    **options
        :class:`~stargate.fabric.design.FabricRequest` fields: ``gpus``, ``fabric``, ``accelerator``,
        ``topology``, ``oversubscription`` (a list, from the leaf up), ``planes``, ``switch``, ``tiers``,
        ``year``, ...
    uncertainty, seed : int
        Latin hypercube samples of every part's price and power (0: none) and their seed, as
        ``--uncertainty N --seed S``: the answer adds ``ranges`` and ``uncertainty`` (one fabric, not ``compare``).

    Returns
    -------
    dict
        As ``stargate fabric --json`` prints it.

    Examples
    --------
    >>> f = fabric(gpus=4096, fabric="ethernet")
    >>> f["tiers"], f["fabric_capex_usd"] > 0
    (2, True)
    >>> from stargate.fabric.design import FabricRequest
    >>> fabric(FabricRequest(gpus=4096, fabric="ethernet")) == f
    True
    """
    from stargate.fabric.design import FabricRequest
    from stargate.fabric.report import fabric_report
    from stargate.scenario import validate
    from stargate.uncertainty.design import fabric_model
    from stargate.uncertainty.options import samples, with_ranges
    from stargate.uncertainty.options import seed as read_seed

    n, s = samples(uncertainty, "uncertainty"), read_seed(seed, "seed")
    if n and compare:
        raise InputError("uncertainty", uncertainty, "0 with compare (ranges are for one fabric)")
    given = _request(request, options, dict)
    raw = given.model_dump() if hasattr(given, "model_dump") else given
    cat = _catalog(catalog)
    report = fabric_report(raw, cat, compare)
    return with_ranges(report, fabric_model(validate(FabricRequest, raw), cat), n, s) if n else report


def train(request: Any = None, /, *, catalog: CatalogLike = None, uncertainty: int = 0, seed: int = 0,
          **options: Any) -> dict[str, Any]:
    """Estimate one training job, like ``stargate train``; parallelism left out is searched.

    Parameters
    ----------
    request : TrainRequest, optional
        The request; or give its options as keywords instead.
    catalog : Catalog, path or None
        The catalog (default: the shipped one).
    uncertainty : int
        Latin hypercube samples of every uncertain input, as ``--uncertainty N`` (0: none): the answer
        then has ``ranges`` (P10/P50/P90 of each headline) and an ``uncertainty`` block.
    seed : int
        Seed of the Monte Carlo; the same seed gives the same ranges.
    **options
        ``model``, ``accelerator``, ``gpus``, ``seq_len``, ``global_batch``, and optionally
        ``precision``, ``fabric``, ``framework``, ``tp``, ``pp``, ``dp``, ``cp``, ``ep``, ``vp``,
        ``mbs``, ``recompute``, ``sharding``, ``tokens``, ``top_k``.

    Returns
    -------
    dict
        As ``stargate train --json`` prints it: ``step_time_s`` and its ``breakdown_s``, ``mfu``,
        ``parallelism``, ``memory_per_gpu_bytes``, ``time_to_train``, ...

    Examples
    --------
    >>> job = train(model="llama3.1-8b", accelerator="h100", gpus=64, seq_len=8192, global_batch=512)
    >>> job["fits"], sorted(job["parallelism"])[:3]
    (True, ['cp', 'dp', 'ep'])
    >>> abs(sum(job["breakdown_s"].values()) - job["step_time_s"]) < 1e-9 * job["step_time_s"]
    True
    >>> job = train(model="llama3.1-8b", accelerator="h100", gpus=64, seq_len=8192, global_batch=512, uncertainty=500)
    >>> r = job["ranges"]["mfu"]
    >>> r["p10"] < job["mfu"] < r["p90"]
    True
    """
    from stargate.training.job import train as run
    from stargate.uncertainty.training import train_model

    req, cat = _request(request, options, train_request), _catalog(catalog)
    return _with_ranges(run(req, cat), uncertainty, seed, lambda answer: train_model(req, cat, answer))


def _with_ranges(answer: dict[str, Any], uncertainty: int, seed: int, model: Any) -> dict[str, Any]:
    """The answer, with its ranges over ``uncertainty`` samples of ``model(answer)`` when asked for."""
    from stargate.uncertainty.options import samples, with_ranges
    from stargate.uncertainty.options import seed as read_seed

    n, s = samples(uncertainty, "uncertainty"), read_seed(seed, "seed")
    return with_ranges(answer, model(answer), n, s) if n else answer


def infer(request: Any = None, /, *, catalog: CatalogLike = None, uncertainty: int = 0, seed: int = 0,
          **options: Any) -> dict[str, Any]:
    """Serving capacity of a machine for one model and workload, like ``stargate infer``.

    Parameters
    ----------
    request : InferRequest, optional
        The request; or give its options as keywords instead.
    catalog : Catalog, path or None
        The catalog (default: the shipped one).
    uncertainty : int
        Latin hypercube samples of every uncertain input, as for :func:`train` (0: none).
    seed : int
        Seed of the Monte Carlo.
    **options
        ``model``, ``accelerator``, exactly one of ``gpus``, ``budget`` (or ``budget_usd``), ``power`` (or
        ``power_w``); ``input_tokens``, ``output_tokens``; optionally ``ttft`` (``ttft_s``), ``tpot``
        (``tpot_s``) or ``tokens_per_user``, ``precision``, ``kv_dtype``, ``disaggregated``, ``framework``,
        ``fabric``, ``scale_out``, ``energy``, ``max_replica_gpus``. Latencies take seconds or times with
        a unit (``"200 ms"``); token counts take ``"1k"``.

    Returns
    -------
    dict
        As ``stargate infer --json`` prints it: ``tokens_per_s_per_gpu``, ``tokens_per_s``, ``ttft_s``,
        ``tpot_s``, ``max_concurrency``, ``kv_cache_bytes_per_gpu``, ``deployment``, ``frontier``,
        ``tokens_per_mw``, ``usd_per_million_tokens``, ...

    Examples
    --------
    >>> out = infer(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens="1k", output_tokens="1k",
    ...             tpot="50 ms")
    >>> out["meets_limits"], out["tpot_p99_s"] <= 0.05, out["deployment"]["replicas"] >= 1
    (True, True, True)
    >>> cost = out["tco_usd_per_gpu_hour"] * 8 / (out["tokens_per_s"] * 3600) * 1e6
    >>> abs(cost - out["usd_per_million_tokens"]) < 1e-9 * cost
    True
    >>> r = infer(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens="1k", output_tokens="1k",
    ...           uncertainty=500)["ranges"]["usd_per_million_tokens"]
    >>> r["p10"] < r["p50"] < r["p90"]
    True
    """
    from stargate.serving import infer as run
    from stargate.uncertainty.serving import infer_model

    req, cat = _request(request, options, infer_request), _catalog(catalog)
    return _with_ranges(run(req, cat), uncertainty, seed, lambda answer: infer_model(req, cat, answer))


def plan(scenario: Any = None, /, *, builtin: str | None = None, scaling_law: str = "besiroglu2024",
         catalog: CatalogLike = None, uncertainty: int = 0, seed: int = 0, scheduler: str | None = None,
         dask_local: int = 0) -> Plan:
    """Run the whole chain for every phase of a scenario, like ``stargate plan``.

    Parameters
    ----------
    scenario : Scenario, dict, path or None
        A scenario (model, or a dict as the YAML holds it) or the path of a scenario YAML; with
        neither this nor ``builtin``, the built-in Stargate scenario.
    builtin : str, optional
        A built-in scenario by name (``stargate``, ``stargate-amd-ethernet``, ``stargate-multisite``, ...).
    scaling_law : str
        ``besiroglu2024`` (default) or ``chinchilla``.
    catalog : Catalog, path or None
        The catalog (default: the shipped one).
    uncertainty : int
        Samples of the Monte Carlo over every uncertain input (0: none), like ``--uncertainty N``.
    seed : int
        Seed of the samples, like ``--seed``.
    scheduler : str, optional
        Evaluate the samples on the Dask scheduler at this address (``tcp://HOST:PORT``), like ``--scheduler``.
    dask_local : int
        Evaluate the samples on a local Dask cluster of this many workers (0: in this process), like
        ``--dask-local``. Either backend gives the same ranges as this process.

    Returns
    -------
    Plan
        As ``stargate plan --json`` prints it; with ``uncertainty``, a
        :class:`~stargate.uncertainty.plan.RangedPlan` (each phase's ``ranges``, ``totals["ranges"]``
        and the ``uncertainty`` block).

    Examples
    --------
    >>> p = plan()
    >>> len(p.phases), p.phases[0].accelerator, p.totals["capex_usd"] > 1e11
    (5, 'v100-32g', True)
    >>> small = plan({"name": "demo", "phases": [{"name": "P1", "year": 2024, "accelerator": "h100", "gpus": 1024}]})
    >>> small.totals["gpus"]
    1024.0
    >>> ranged = plan(uncertainty=100, seed=1)
    >>> r = ranged.phases[-1].ranges["gpus"]
    >>> r["p10"] <= ranged.phases[-1].gpus <= r["p90"], ranged.uncertainty["samples"]
    (True, 100)
    """
    from stargate.plan import run_plan
    from stargate.uncertainty.options import samples
    from stargate.uncertainty.options import seed as read_seed
    from stargate.uncertainty.plan import ranged_plan

    n, s = samples(uncertainty, "uncertainty"), read_seed(seed, "seed")
    _samples_backend(n, scheduler, dask_local)
    scenario, ranges = _scenario(scenario, builtin)
    cat = _catalog(catalog)
    return ranged_plan(scenario, cat, run_plan(scenario, cat, scaling_law), n, s, law=scaling_law, ranges=ranges,
                       scheduler=scheduler, dask_local=dask_local)


def _samples_backend(n: int, scheduler: str | None, dask_local: int) -> None:
    """Check ``scheduler`` and ``dask_local`` (given only with samples to evaluate) and that Dask is installed."""
    from stargate.dask_client import check_backend, require_for_samples

    try:
        check_backend(scheduler, dask_local)
    except InputError as e:
        raise InputError(e.field.lstrip("-").replace("-", "_"), e.value, e.allowed) from None
    require_for_samples(n, scheduler, dask_local, ("scheduler", "dask_local"), "uncertainty > 0")


def _scenario(scenario: Any, builtin: str | None) -> tuple[Any, list[Any] | None]:
    """A scenario given as a model, a dict, a path or a built-in's name, and the ranges its phases type."""
    from stargate.plan import builtin_scenario, read_scenario
    from stargate.uncertainty.plan import scenario_with_ranges

    if scenario is not None and builtin is not None:
        raise InputError("builtin", builtin, "either a scenario or builtin, not both")
    if isinstance(scenario, (str, Path)):
        return scenario_with_ranges(*read_scenario(scenario))
    if isinstance(scenario, dict):
        return scenario_with_ranges(scenario, "scenario")
    return (builtin_scenario(builtin or "stargate") if scenario is None else scenario), None


def sensitivity(scenario: Any = None, /, *, builtin: str | None = None, phase: int | str | None = None,
                samples: int = 512, seed: int = 0, sobol: bool = True, scaling_law: str = "besiroglu2024",
                catalog: CatalogLike = None) -> dict[str, Any]:
    """Which uncertain inputs move each headline of one phase of a plan most, like ``stargate sensitivity``.

    Parameters
    ----------
    scenario, builtin, scaling_law, catalog
        As :func:`plan`.
    phase : int or str, optional
        The phase, by name or number (1: the first); the last by default.
    samples : int
        Base samples of the Sobol design (a power of two), like ``--samples``.
    seed : int
        Seed of the Sobol design.
    sobol : bool
        False: one-at-a-time swings only (``--no-sobol``; no SALib needed).

    Returns
    -------
    dict
        As ``stargate sensitivity --json`` prints it: ``phase``, ``headlines`` (per headline, the inputs by
        swing: ``input``, ``key``, ``low``, ``high``, ``swing``, ``sobol_total``, ``sobol_first``, ...).

    Examples
    --------
    >>> s = sensitivity(phase=3, sobol=False)
    >>> s["phase"], s["headlines"]["goodput"][0]["key"].startswith("failure_rates/")
    ('Phase 3: H100 supercomputer (Eagle)', True)
    """
    from stargate.plan import run_plan
    from stargate.uncertainty.options import seed as read_seed
    from stargate.uncertainty.plan import phase_index, plan_sensitivity, sobol_base

    base, s = sobol_base(samples, "samples"), read_seed(seed, "seed")
    sc, ranges = _scenario(scenario, builtin)
    cat = _catalog(catalog)
    p = run_plan(sc, cat, scaling_law)
    i = phase_index(p, phase, "phase")
    return plan_sensitivity(sc, cat, p, i, base, s, sobol, scaling_law, ranges[i] if ranges else None)


def sweep(spec: Any, out: Path | str, *, processes: int = 1, allow_large: bool = False) -> dict[str, Any]:
    """Evaluate a design-space sweep into Parquet files under ``out``, like ``stargate sweep``
    (resumable: a second call on the same folder computes only what is missing).

    Parameters
    ----------
    spec : SweepSpec, dict, path
        The spec (model, dict as the YAML holds it, or the YAML's path).
    out : path
        Results folder.
    processes : int
        Local worker processes (1: in this process).
    allow_large : bool
        Run a sweep larger than the spec's ``max_points`` (the CLI's ``--yes``).

    Returns
    -------
    dict
        Counts: ``points``, ``chunks``, ``computed``, ``skipped`` and ``repaired`` chunks.

    Examples
    --------
    >>> import tempfile
    >>> spec = {"name": "tiny", "axes": {"accelerator": ["h100", "gb200"], "gpus": [1024]},
    ...         "fixed": {"model": "llama3.1-8b"}}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     counts = sweep(spec, folder)
    ...     rows = query(folder, "SELECT accelerator, gpus_built FROM results ORDER BY accelerator")
    >>> counts["points"], [(r["accelerator"], r["gpus_built"]) for r in rows]
    (2, [('gb200', 1080), ('h100', 1024)])
    """
    from stargate.inputs import MAX_YAML_BYTES, load_yaml, read_text_file
    from stargate.scenario import validate
    from stargate.sweep.engine import run_sweep
    from stargate.sweep.spec import SweepSpec

    if isinstance(spec, (str, Path)):
        spec = load_yaml(read_text_file(spec, "spec", MAX_YAML_BYTES), f"spec {Path(spec).name}")
    if not isinstance(spec, SweepSpec):
        spec = validate(SweepSpec, spec, "spec")
    spec.check()
    if spec.size > spec.max_points and not allow_large:
        raise InputError("spec", f"{spec.size:,} points", f"at most max_points={spec.max_points:,} without allow_large=True")
    return run_sweep(spec, Path(out), processes)


def query(results: Path | str, sql: str) -> list[dict[str, Any]]:
    """One read-only DuckDB query over a sweep's verified results (table ``results``), like ``stargate query``.

    Examples
    --------
    See :func:`sweep`.
    """
    from stargate.sweep.query import run_query

    return run_query(Path(results), sql)


def compare(*answers: Any, labels: list[str] | None = None) -> Comparison:
    """Answers side by side, like ``stargate compare``: deltas against the first and what accounts for them.

    Parameters
    ----------
    *answers
        Two or more answers of one kind: designs (:func:`design`), plans (:func:`plan`) or training
        jobs (:func:`train`), as returned or as their JSON dicts.
    labels : list of str, optional
        A name for each answer (default: ``1``, ``2``, ...).

    Returns
    -------
    Comparison
        ``items`` and ``deltas``, as ``stargate compare --json`` prints them. The parts of each
        delta (``deltas[i].metrics[name].parts``) add up to the delta.

    Examples
    --------
    >>> a = design(accelerator="gb200", budget="$10B", fabric="ethernet")
    >>> b = design(accelerator="mi355x", budget="$10B")
    >>> c = compare(a, b, labels=["GB200", "MI355X"])
    >>> cap = c.deltas[0].metrics["capex_usd"]
    >>> abs(sum(cap.parts.values()) - cap.delta) < 1e-6 * abs(cap.base)
    True
    >>> max(cap.parts, key=lambda k: abs(cap.parts[k]))
    'accelerators'
    """
    from stargate.compare import compare as run

    names = labels if labels is not None else [str(i) for i in range(1, len(answers) + 1)]
    if len(names) != len(answers):
        raise InputError("labels", names, f"one label per answer ({len(answers)})")
    data = [a.model_dump(mode="json") if hasattr(a, "model_dump") else a for a in answers]
    return run(list(zip(names, data, strict=True)))


def to_pandas(obj: Any, table: str | None = None) -> DataFrame:
    """An answer as a pandas DataFrame: the table ``--csv`` prints (a plan: one of its workbook's sheets).

    Parameters
    ----------
    obj
        A design, fabric or training answer (one row per figure: ``table``, ``name``, ``unit``,
        ``value``); a plan (one row per phase, the sheet ``table`` of ``plan --xlsx``: ``Phases`` by
        default, or ``Capex``, ``Power``, ``Opex and TCO``, ``Training``, ``Reliability``,
        ``Outcome``, ...); a serving answer (:func:`infer`: its figures, or with ``table="frontier"``
        one row per frontier point); a comparison (a row per metric and part, a column per answer and delta);
        or a list of row dicts (:func:`query`).
    table : str, optional
        For a plan: which sheet; for a serving answer: ``frontier``.

    Raises
    ------
    ImportError
        If pandas is not installed (it comes with the ``analysis`` extra).

    Examples
    --------
    >>> df = to_pandas(design(accelerator="h100", gpus=1024))
    >>> list(df.columns)
    ['table', 'name', 'unit', 'value']
    >>> capex = df[df.table == "capex_breakdown_usd"]
    >>> bool(abs(capex.value.sum() - df.set_index("name").loc["capex_usd", "value"]) < 1e-3)
    True
    >>> to_pandas(plan(), "Capex").shape[0]
    5
    >>> f = to_pandas(infer(model="llama3.1-8b", accelerator="h100", gpus=1, input_tokens=512, output_tokens=128),
    ...               "frontier")
    >>> bool(f.tokens_per_s_per_gpu.is_monotonic_increasing), bool(f.tokens_per_s_per_user.is_monotonic_decreasing)
    (True, True)
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas needs pandas, which comes with the analysis extra: "
                          "pip install 'stargate[analysis]'") from None
    from stargate.compare import Comparison
    from stargate.report.export import answer_rows, comparison_rows, plan_sheets

    if isinstance(obj, Comparison):
        rows = comparison_rows(obj)
        return pd.DataFrame(rows[1:], columns=rows[0])
    if isinstance(obj, list):
        return pd.DataFrame(obj)
    data = obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj
    if isinstance(data, dict) and "phases" in data and "totals" in data:
        sheets = plan_sheets(data, [])
        name = table or "Phases"
        if name not in sheets or name == "Sources":
            raise InputError("table", name, "one of " + ", ".join(k for k in sheets if k != "Sources"))
        rows = sheets[name]
        return pd.DataFrame(rows[1:], columns=rows[0])
    if isinstance(data, dict) and table == "frontier" and "frontier" in data and "deployment" in data:
        return pd.DataFrame(data["frontier"])  # a serving answer's throughput-interactivity frontier
    if table is not None:
        raise InputError("table", table, "no table for this answer (only a plan has several; a serving answer "
                                         "has its frontier)")
    rows = answer_rows(data)
    return pd.DataFrame(rows[1:], columns=rows[0])
