"""The catalog: accelerators, systems, facility, storage, network and energy data.

The shipped catalog is YAML under ``catalog/data``; every number in it carries a source and a
date. A user's own YAML file (same schema, any subset of sections) is laid over it with
:meth:`Catalog.load`: an entry whose ``id`` exists already is updated field by field, a new
``id`` adds an entry (and must then be complete). Lookups accept canonical ids and aliases and
suggest the nearest ids when a name is unknown.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stargate.catalog.schema import (
    KINDS,
    Accelerator,
    CatalogData,
    CoolingTech,
    EnergySource,
    Entry,
    Finance,
    ItOverhead,
    ServingBenchmark,
    Storage,
    System,
)
from stargate.errors import InputError
from stargate.inputs import MAX_YAML_BYTES, allowed_text, load_yaml, read_text_file

__all__ = ["Catalog", "load_yaml"]

_DATA_FILES = (
    "accelerators.yaml", "systems.yaml", "facility.yaml", "energy.yaml", "network.yaml", "wan.yaml", "compute.yaml",
    "reliability.yaml", "serving_benchmarks.yaml",
)


class Catalog:
    """Resolved catalog data with lookups by id or alias.

    Examples
    --------
    >>> cat = Catalog.load()
    >>> cat.accelerator("h100").id
    'h100-sxm-80g'
    >>> cat.system(cat.accelerator("gb200").default_system).gpus_per_system
    72
    """

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        self._by_kind: dict[str, dict[str, Entry]] = {
            kind: {e.id: e for e in getattr(data, kind)} for kind in KINDS
        }
        self._aliases = {a: acc.id for acc in data.accelerators for a in acc.aliases}

    @classmethod
    def load(cls, overlay: Path | str | None = None) -> Catalog:
        """The shipped catalog, with the user's file ``overlay`` laid over it if given."""
        if overlay is None:
            return _shipped()
        path = Path(overlay)
        text = read_text_file(path, "--catalog", MAX_YAML_BYTES)
        user = load_yaml(text, f"catalog {path.name}")
        return cls(_merge(_shipped().data, user, f"catalog {path.name}"))

    def overlaid(self, user: dict[str, Any], origin: str) -> Catalog:
        """This catalog with ``user``'s sections laid over it, as a ``--catalog`` file's are (``origin``
        names the overlay in errors).

        Examples
        --------
        >>> cheaper = Catalog.load().overlaid({"accelerators": [{"id": "h100-sxm-80g", "price_usd": 20000}]}, "prices")
        >>> cheaper.accelerator("h100").price_usd
        20000.0
        """
        return Catalog(_merge(self.data, user, origin))

    def entries(self, kind: str) -> tuple[Entry, ...]:
        """All entries of one section (``accelerators``, ``systems``, ...)."""
        return tuple(self._by_kind[self.kind(kind)].values())

    def get(self, kind: str, name: str, field: str | None = None) -> Entry:
        """Entry ``name`` (id, or alias for accelerators) of section ``kind``."""
        table = self._by_kind[kind]
        key = str(name).strip().lower()
        if kind == "accelerators":
            key = self._aliases.get(key, key)
        if key in table:
            return table[key]
        names = list(table) + (list(self._aliases) if kind == "accelerators" else [])
        near = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise InputError(field or kind, name, f"a known id; {hint}see `stargate catalog list {kind}`")

    def find(self, name: str) -> tuple[str, Entry]:
        """Look ``name`` up: ``KIND/ID`` (``finance/default``) in that section, a bare id in every section;
        returns ``(kind, entry)``. A bare id that several sections use is refused with the ``KIND/ID`` to write.

        Examples
        --------
        >>> Catalog.load().find("finance/default")[0]
        'finance'
        >>> Catalog.load().find("h100")[1].id
        'h100-sxm-80g'
        """
        if "/" in str(name):
            kind, _, key = str(name).partition("/")
            return (k := self.kind(kind)), self.get(k, key.strip(), "id")
        found = []
        for kind in KINDS:
            try:
                found.append((kind, self.get(kind, name)))
            except InputError:
                continue
        if len(found) == 1:
            return found[0]
        if found:
            paths = ", ".join(f"{kind}/{e.id}" for kind, e in found)
            raise InputError("id", name, f"KIND/ID: '{name}' is an id in {len(found)} sections ({paths})")
        everything = [i for kind in KINDS for i in self._by_kind[kind]] + list(self._aliases)
        near = difflib.get_close_matches(str(name).lower(), everything, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise InputError("id", name, f"an id in the catalog; {hint}see `stargate catalog list`")

    @staticmethod
    def kind(name: str) -> str:
        """The section ``name`` means: a section's name, singular or plural, ``-`` or ``_``.

        Examples
        --------
        >>> Catalog.kind("energy-source"), Catalog.kind("wan"), Catalog.kind("floor_plan")
        ('energy_sources', 'wan', 'floor_plans')
        """
        key = str(name).strip().lower().replace("-", "_")
        for kind in KINDS:
            if key in (kind, kind.removesuffix("s"), kind + "s"):
                return kind
        raise InputError("kind", name, f"one of {', '.join(KINDS)}")

    def accelerator(self, name: str) -> Accelerator:
        """Accelerator by id or alias."""
        return self.get("accelerators", name, "accelerator")  # type: ignore[return-value]

    def system(self, name: str) -> System:
        """System (server or rack) by id."""
        return self.get("systems", name, "system")  # type: ignore[return-value]

    def cooling(self, name: str) -> CoolingTech:
        """Cooling technology by id."""
        return self.get("cooling", name, "cooling")  # type: ignore[return-value]

    def storage(self, name: str = "default") -> Storage:
        """Storage provisioning by id."""
        return self.get("storage", name, "storage")  # type: ignore[return-value]

    def energy_source(self, name: str) -> EnergySource:
        """Energy source by id."""
        return self.get("energy_sources", name, "energy_source")  # type: ignore[return-value]

    def finance(self, name: str = "default") -> Finance:
        """Maintenance rates and depreciation periods by id."""
        return self.get("finance", name, "finance")  # type: ignore[return-value]

    def it_overhead(self, name: str = "default") -> ItOverhead:
        """Non-accelerator IT (CPU, management and service halls) by id."""
        return self.get("it_overhead", name, "it_overhead")  # type: ignore[return-value]

    def serving_benchmark(self, name: str) -> ServingBenchmark:
        """Serving benchmark (workload lengths and latency limits) by id.

        Examples
        --------
        >>> b = Catalog.load().serving_benchmark("llama2-70b-99.9")
        >>> b.output_tokens_mean.value, b.server_ttft_p99_s.value, b.input_tokens_max.value
        (294.45, 2.0, 1024.0)
        """
        return self.get("serving_benchmarks", name, "serving_benchmark")  # type: ignore[return-value]


@cache
def _shipped() -> Catalog:
    raw: dict[str, list[Any]] = {}
    folder = resources.files("stargate.catalog") / "data"
    for name in _DATA_FILES:
        doc = load_yaml(folder.joinpath(name).read_text(encoding="utf-8"), name)
        for section, entries in doc.items():
            raw.setdefault(section, []).extend(entries)
    return Catalog(_validate(raw, "shipped catalog"))


def _merge(base: CatalogData, user: Any, origin: str) -> CatalogData:
    """Lay the user's sections over ``base``: same id updates fields, a new id adds an entry."""
    if not isinstance(user, dict):
        raise InputError(origin, type(user).__name__, f"a mapping with sections {', '.join(KINDS)}")
    unknown = sorted(set(user) - set(KINDS))
    if unknown:
        raise InputError(f"{origin}: section", unknown[0], f"one of {', '.join(KINDS)}")
    raw: dict[str, list[Any]] = {k: [e.model_dump() for e in getattr(base, k)] for k in KINDS}
    for system in raw["systems"]:
        del system["price_usd"]  # derived again from the chips and the rest, either of which the file may change
    for section, entries in user.items():
        if not isinstance(entries, list):
            raise InputError(f"{origin}: {section}", type(entries).__name__, "a list of entries")
        index = {e["id"]: i for i, e in enumerate(raw[section])}
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict) or "id" not in entry:
                raise InputError(f"{origin}: {section}[{n}]", entry, "a mapping with an 'id' field")
            key = str(entry["id"])
            if key in index:
                merged = {**raw[section][index[key]], **entry}
                _drop_replaced_bands(merged, entry)
                if section == "systems" and "price_usd" in entry and "rest_of_system_usd" not in entry:
                    del merged["rest_of_system_usd"]  # a whole price given: the rest follows from it
                raw[section][index[key]] = merged
            else:
                index[key] = len(raw[section])
                raw[section].append(entry)
    return _validate(raw, origin)


def _drop_replaced_bands(merged: dict[str, Any], given: dict[str, Any]) -> None:
    """A number the file replaces loses the shipped sourced band and class of the number it replaces
    (the file's own ``bands`` and ``field_confidence``, if given, stay)."""
    for mapping in ("bands", "field_confidence"):
        if mapping in given or not isinstance(merged.get(mapping), dict):
            continue
        merged[mapping] = {k: v for k, v in merged[mapping].items() if k.split(".", 1)[0] not in given}


def _price_systems(raw: dict[str, list[Any]], origin: str) -> None:
    """Give every system (raw mappings, in place) both its whole price and the rest of it.

    A system's ``price_usd`` is its accelerators at their price plus ``rest_of_system_usd``;
    given one, the other is derived; given both, they must agree. Entries too malformed to
    price are left as they are, for the schema to name what is wrong.
    """
    chips: dict[str, float] = {}
    for acc in raw.get("accelerators") or []:
        with contextlib.suppress(KeyError, TypeError, ValueError, OverflowError):
            chips[str(acc["id"])] = float(acc["price_usd"])
    for system in raw.get("systems") or []:
        if not isinstance(system, dict):
            continue
        where = f"{origin}: systems[id={system.get('id')}]"
        price, rest = system.get("price_usd"), system.get("rest_of_system_usd")
        whole, part = _usd(price, f"{where}.price_usd"), _usd(rest, f"{where}.rest_of_system_usd")
        try:
            chip, count = chips[str(system["accelerator"])], int(system["gpus_per_system"])
        except (KeyError, TypeError, ValueError):
            continue
        field = f"{where}.price_usd"
        if whole is None and part is not None:
            system["price_usd"] = count * chip + part
        elif whole is not None and part is None:
            if whole < count * chip:
                raise InputError(field, price, f"at least the price of its {count} accelerators (${count * chip:,.0f})")
            system["rest_of_system_usd"] = whole - count * chip
        elif whole is not None and part is not None and abs(whole - (count * chip + part)) > 0.005:
            raise InputError(field, price, f"its {count} accelerators plus rest_of_system_usd "
                                           f"(${count * chip + part:,.2f}), or only one of the two")


def _usd(value: Any, field: str) -> float | None:
    """A price as a float (None if absent); anything else is the user's one-line error."""
    if value is None:
        return None
    try:
        usd = float(value)
    except (TypeError, ValueError, OverflowError):
        usd = math.nan
    if not math.isfinite(usd):
        raise InputError(field, value, "a finite number of US dollars")
    return usd


def _validate(raw: dict[str, list[Any]], origin: str) -> CatalogData:
    _price_systems(raw, origin)
    try:
        data = CatalogData.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = list(err["loc"])
        where = f"{loc[0]}[{loc[1]}]" if len(loc) > 1 else str(loc[0])
        if len(loc) > 1 and isinstance(loc[1], int):
            entry = raw.get(str(loc[0]), [])[loc[1]]
            if isinstance(entry, dict) and "id" in entry:
                where = f"{loc[0]}[id={entry['id']}]"
        field = ".".join(str(p) for p in loc[2:]) or "entry"
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InputError) and not field.endswith(cause.field):
            # a validator named a field inside the entry (``bands.price_usd``) or inside the field (a band's ``high``)
            field = cause.field if field == "entry" else f"{field}.{cause.field}"
            err["input"] = cause.value
        raise InputError(f"{origin}: {where}.{field}", err.get("input"), allowed_text(err)) from None
    _check_references(data, origin)
    return data


def _check_references(data: CatalogData, origin: str) -> None:
    for kind in KINDS:
        seen: set[str] = set()
        for e in getattr(data, kind):
            if e.id in seen:
                raise InputError(f"{origin}: {kind}.id", e.id, "ids that are unique within a section")
            seen.add(e.id)
    names = [n for a in data.accelerators for n in (a.id, *a.aliases)]
    if len(names) != len(set(names)):
        twice = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{origin}: accelerators.aliases", twice, "aliases unique among accelerator ids and aliases")
    systems = {s.id: s for s in data.systems}
    accelerators = {a.id: a for a in data.accelerators}
    for a in data.accelerators:
        if a.default_system not in systems:
            raise InputError(f"{origin}: accelerators[id={a.id}].default_system", a.default_system, "the id of a system")
        if a.same_die_as is not None and (a.same_die_as not in accelerators or a.same_die_as == a.id):
            raise InputError(f"{origin}: accelerators[id={a.id}].same_die_as", a.same_die_as, "the id of another accelerator")
    scale_up = {t.id for t in data.scale_up}
    for a in data.accelerators:
        if scale_up and a.scale_up not in scale_up:
            raise InputError(f"{origin}: accelerators[id={a.id}].scale_up", a.scale_up, "the id of a scale_up entry")
    switches, nics = {w.id for w in data.switches}, {n.id for n in data.nics}
    for f in data.fabrics:
        for sid in f.switch_by_speed.values():
            if sid not in switches:
                raise InputError(f"{origin}: fabrics[id={f.id}].switch_by_speed", sid, "the id of a switch")
        for nid in f.nic_by_speed.values():
            if nid not in nics:
                raise InputError(f"{origin}: fabrics[id={f.id}].nic_by_speed", nid, "the id of a NIC")
    for s in data.systems:
        if s.accelerator not in accelerators:
            raise InputError(f"{origin}: systems[id={s.id}].accelerator", s.accelerator, "the id of an accelerator")
        acc = accelerators[s.accelerator]
        if s.year is not None and s.year < acc.year:
            raise InputError(f"{origin}: systems[id={s.id}].year", s.year,
                             f"a year no earlier than its accelerator's ({acc.id} ships from {acc.year})")
        if s.power_max_w < s.gpus_per_system * acc.tdp_w:
            raise InputError(
                f"{origin}: systems[id={s.id}].power_max_w", s.power_max_w,
                f"at least its {s.gpus_per_system} accelerators at TDP ({s.gpus_per_system * acc.tdp_w:,.0f} W)",
            )
