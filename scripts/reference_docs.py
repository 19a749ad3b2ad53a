"""Rewrite the generated references in docs/ from the models: the scenario-file and
catalog-overlay pages (between their generated markers) and the JSON Schemas in docs/schemas/.

    python scripts/reference_docs.py

The test suite checks that the committed pages and schemas are what this writes.
"""

from __future__ import annotations

from pathlib import Path

from stargate.schema_docs import catalog_reference, replace_generated, scenario_reference
from stargate.schemas import SCHEMA_KINDS, schema_text

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main() -> None:
    """Write every generated part and name the files written."""
    for name, generated in (("scenario-file.md", scenario_reference()), ("catalog-overlay.md", catalog_reference())):
        page = DOCS / name
        page.write_text(replace_generated(page.read_text(encoding="utf-8"), generated), encoding="utf-8")
        print(page)
    for kind in SCHEMA_KINDS:
        path = DOCS / "schemas" / f"{kind}.schema.json"
        path.write_text(schema_text(kind), encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
