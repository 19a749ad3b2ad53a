"""Write the reference-clusters table of ``docs/world.md`` from the model as it stands.

Rebuilds every row of ``shared/validation/clusters.csv`` (``stargate validate clusters.csv``) and
replaces the markdown table between the ``<!-- clusters-table -->`` markers of the page, and does
the same for ``tests/reference/other_clusters.csv`` (sites outside the shared file) between the
``<!-- other-clusters-table -->`` markers, so the page shows exactly what the code answers;
``tests/test_reference_clusters.py`` checks that it does.

Run: ``python scripts/clusters_table.py [CLUSTERS.csv]``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stargate.references.clusters import read_clusters
from stargate.references.metrics import check_clusters, markdown_table

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "world.md"
CLUSTERS = ROOT.parent / "shared" / "validation" / "clusters.csv"
OTHER = ROOT / "tests" / "reference" / "other_clusters.csv"
MARK = "<!-- clusters-table -->"
OTHER_MARK = "<!-- other-clusters-table -->"


def _put(text: str, mark: str, table: str) -> str:
    return re.sub(f"{mark}.*?{mark}", lambda _: f"{mark}\n{table}\n{mark}", text, count=1, flags=re.DOTALL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clusters", nargs="?", type=Path, default=CLUSTERS)
    args = ap.parse_args()
    text = _put(PAGE.read_text(encoding="utf-8"), MARK, markdown_table(check_clusters(read_clusters(args.clusters))))
    text = _put(text, OTHER_MARK, markdown_table(check_clusters(read_clusters(OTHER))))
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
