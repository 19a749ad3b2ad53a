"""The shipped catalog's words speak of its sources and assumptions, never of how the data was edited.

A note such as "re-sourced from 1.5 to 1.3" or "(was $3.216M)" tells a reader about an earlier
version of the file, not about the world; the figure's source and the assumption behind it are what
a planner needs. Citations of public bug trackers (``NVIDIA/nccl issue #1264``) are sources and stay.
"""

import re
from importlib import resources

import pytest

from stargate.catalog.schema import KINDS

PROCESS_WORDS = {
    "session": r"\bsessions?\b",
    "re-sourced": r"\bre-?sourced\b",
    "the tests": r"\bthe tests?\b",
    "this stop": r"\bthis stop\b",
    "we": r"\bwe\b",
    "was <old value>": r"\(was\b|\bwas [$\d]",
    "an issue (not a cited one)": r"\bissues?\b(?!\s*#\d)",
    "interim": r"\binterim\b",
    "updated": r"\b(?:price|value|figure|entry) updated\b",
    "this entry used": r"\bthis entry (?:used|uses now)\b",
    "helper": r"\bhelpers?\b",
    "re-verified/re-checked here": r"\bre-(?:verified|checked) (?:here|in)\b",
}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _texts():
    """Every string of every shipped entry, and every comment of the shipped YAML files."""
    from stargate.catalog import Catalog

    cat = Catalog.load()
    for kind in KINDS:
        for e in cat.entries(kind):
            for text in _strings(e.model_dump(mode="json")):
                yield f"{kind}/{e.id}", text
    for path in (resources.files("stargate.catalog") / "data").iterdir():
        if path.name.endswith(".yaml"):
            comments = [line.split("#", 1)[1] for line in path.read_text(encoding="utf-8").splitlines()
                        if line.lstrip().startswith("#")]
            yield path.name, " ".join(" ".join(comments).split())


@pytest.mark.parametrize("word", sorted(PROCESS_WORDS))
def test_catalog_text_speaks_of_sources_only(word):
    pattern = re.compile(PROCESS_WORDS[word], re.IGNORECASE)
    hits = [f"{where}: ...{text[max(0, m.start() - 60):m.end() + 40]}..."
            for where, text in _texts() for m in [pattern.search(text)] if m]
    assert not hits, "\n".join(hits)


def test_the_check_sees_what_it_refuses():
    """The patterns catch the phrasings they are for, and spare the cited bug trackers."""
    caught = ["not retrieved in this session", "Annual PUE re-sourced from 1.5", "(was $3.216M, derived",
              "runs of the upper tiers (was 10, the middle", "the value facility.yaml's interim estimate uses"]
    for text in caught:
        assert any(re.search(p, text, re.IGNORECASE) for p in PROCESS_WORDS.values()), text
    spared = ["NVIDIA/nccl issue #1264 (p2pBandwidthLatencyTest", "ROCm/rccl issue #1210", "the 80G part was a drop-in"]
    for text in spared:
        assert not any(re.search(p, text, re.IGNORECASE) for p in PROCESS_WORDS.values()), text
