"""JSON Schemas of the scenario and catalog-overlay files, and the reference pages written from
them: what an editor checks is what the program reads, and the committed copies are current."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from stargate.catalog import Catalog
from stargate.catalog.schema import KINDS
from stargate.scenario import Scenario
from stargate.schema_docs import BEGIN, END, catalog_reference, scenario_reference
from stargate.schemas import json_schema, model_schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCENARIOS = sorted((ROOT / "src/stargate/scenarios").glob("*.yaml"))
CATALOG_FILES = sorted((ROOT / "src/stargate/catalog/data").glob("*.yaml"))


def _validator(schema: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _yaml_blocks(page: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)


# -- the CLI and the committed copies --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["scenario", "catalog"])
def test_schema_command_prints_the_committed_schema(cli, tmp_path, kind):
    # Old: no `stargate schema`, no schema anywhere.
    r = cli("schema", kind)
    assert r.code == 0 and r.stderr == ""
    committed = json.loads((DOCS / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
    assert json.loads(r.stdout) == committed, "run python scripts/reference_docs.py"
    out = tmp_path / f"{kind}.json"
    assert cli("schema", kind, "-o", str(out)).code == 0
    assert out.read_text(encoding="utf-8") == r.stdout
    assert committed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_command_bad_input_is_one_line(cli, tmp_path):
    r = cli("schema", "sweep")
    assert (r.code, r.stdout) == (2, "")
    assert r.stderr == "stargate: error: KIND: 'sweep' is not allowed; expected scenario or catalog\n"
    r = cli("schema", "scenario", "-o", str(tmp_path / "no" / "such" / "x.json"))
    assert r.code == 2 and r.stderr.startswith("stargate: error: --output: ") and r.stderr.count("\n") == 1


# -- the schemas say what the program reads --------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid_against_the_schema(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in _validator(json_schema("scenario")).iter_errors(data)]
    assert errors == []
    Scenario.model_validate(data)


def test_scenario_schema_accepts_quantities_and_refuses_what_the_model_refuses():
    v = _validator(json_schema("scenario"))
    sizing = {"gpus", "budget_usd", "power_w"}

    def scenario(extra: dict) -> dict:  # one phase, sized by 8 GPUs unless the extra sizes it
        phase = {"name": "p", "year": 2026, "accelerator": "gb200", **({} if sizing & set(extra) else {"gpus": 8})}
        return {"name": "s", "phases": [{**phase, **extra}]}

    good = [{"power_w": "1.2 GW"}, {"power_w": 1.2e9}, {"budget_usd": "$40B"}, {"gpus": 1024},
            {"scale_out_bits_per_s": "800 Gbit/s"}, {"fabric": "ethernet"}]
    bad = [{"power_w": -1}, {"power_w": 2e12}, {"gpus": 0}, {"gpus": 1.5}, {"fabric": "token-ring"},
           {"sites": 65}, {"powr_w": 1e9}, {"energy_mix": [{"source": "grid-us", "share": 1.5}]}]
    for extra in good:
        assert v.is_valid(scenario(extra)), extra
        Scenario.model_validate(scenario(extra))
    for extra in bad:
        assert not v.is_valid(scenario(extra)), extra
        with pytest.raises(ValueError):
            Scenario.model_validate(scenario(extra))
    assert not v.is_valid({"name": "s", "phases": []})  # at least one phase


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.name)
def test_every_shipped_catalog_file_is_valid_as_a_whole_catalog_and_as_an_overlay(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _validator(model_schema("catalog")).is_valid(data)
    assert _validator(json_schema("catalog")).is_valid(data)


def test_catalog_overlay_schema_takes_an_update_by_id_alone_and_refuses_unknown_fields():
    overlay, whole = _validator(json_schema("catalog")), _validator(model_schema("catalog"))
    update = {"accelerators": [{"id": "gb200-186g", "price_usd": 45000}]}
    assert overlay.is_valid(update) and not whole.is_valid(update)  # an update needs only its id
    assert not overlay.is_valid({"accelerators": [{"id": "gb200-186g", "price": 45000}]})
    assert not overlay.is_valid({"chips": []})
    assert not overlay.is_valid({"accelerators": [{"id": "gb200-186g", "price_usd": -1}]})
    assert overlay.is_valid({"accelerators": [{"id": "x", "tdp_w": "1.2 kW"}]})
    required = set(model_schema("catalog")["$defs"]["Accelerator"]["required"])
    assert {"tdp_w", "price_usd", "default_system"} <= required
    assert all(f in json_schema("catalog")["$defs"]["Accelerator"]["description"] for f in required - {"id"})


# -- the reference pages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("page", "render"), [("scenario-file.md", scenario_reference),
                                              ("catalog-overlay.md", catalog_reference)])
def test_reference_pages_are_current(page, render):
    text = (DOCS / page).read_text(encoding="utf-8")
    assert f"{BEGIN}\n{render()}{END}" in text, "run python scripts/reference_docs.py"


def test_scenario_reference_has_every_field_with_its_docstring():
    from stargate.scenario import EnergyShare, Phase, Reported, ServingWorkload

    page = (DOCS / "scenario-file.md").read_text(encoding="utf-8")
    for model in (Scenario, Phase, Reported, EnergyShare, ServingWorkload):
        for name, field in model.model_fields.items():
            assert f"| `{name}` |" in page, (model.__name__, name)
            first = field.description.split()[0]
            assert first in page, (model.__name__, name)


def test_catalog_reference_has_every_section_and_field():
    page = (DOCS / "catalog-overlay.md").read_text(encoding="utf-8")
    for kind, model in KINDS.items():
        section = page.split(f"### `{kind}`: {model.__name__}\n", 1)[1].split("\n### ", 1)[0]
        for name in model.model_fields:
            assert f"| `{name}` |" in section, (kind, name)


def test_the_examples_in_the_reference_pages_load(tmp_path):
    (scenario,) = _yaml_blocks(DOCS / "scenario-file.md")
    data = yaml.safe_load(scenario)
    assert _validator(json_schema("scenario")).is_valid(data)
    cat = Catalog.load()
    from stargate.scenario import check_availability

    check_availability(Scenario.model_validate(data), cat)
    (overlay,) = _yaml_blocks(DOCS / "catalog-overlay.md")
    assert _validator(json_schema("catalog")).is_valid(yaml.safe_load(overlay))
    path = tmp_path / "overlay.yaml"
    path.write_text(overlay, encoding="utf-8")
    merged = Catalog.load(path)
    assert merged.accelerator("gb200").price_usd == 32000 != cat.accelerator("gb200").price_usd
    assert merged.energy_source("grid-us").price_usd_per_mwh == 62
    assert merged.accelerator("gb200").tdp_w == cat.accelerator("gb200").tdp_w  # the rest stays


# -- links and the glossary ------------------------------------------------------------------------------------------


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but '-' and '_' dropped, spaces to '-'."""
    heads = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


@pytest.mark.parametrize("page", ["glossary.md", "scenario-file.md", "catalog-overlay.md"])
def test_links_in_the_reference_pages_resolve(page):
    path = DOCS / page
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
        if target.startswith("http"):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file) if file else path
        assert dest.exists(), target
        if anchor:
            assert anchor in _anchors(dest), target


def test_glossary_defines_the_design_terms():
    page = (DOCS / "glossary.md").read_text(encoding="utf-8")
    terms = re.findall(r"^\| (.+?) \|", page, flags=re.MULTILINE)
    for term in ("`tp`", "`pp`", "`vp`", "`dp`", "`cp`", "`ep`", "`sp`", "`mbs`, `gbs`", "scale-up domain",
                 "scale-out", "IT power", "facility power", "goodput", "MFU", "PUE", "WACC", "MTBF"):
        assert term in terms, term
