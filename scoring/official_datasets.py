"""The data dimension's datasets from organisations' own sites: what the ``official_datasets``
spider read this snapshot (store table ``official_datasets``) and, for every organisation no
machine-readable catalogue covers, the frozen published list (data/curated/other-source-
datasets.csv, as of 2025-09-07). A crawled catalogue replaces the frozen rows of its org
whole: TFDS is Google's catalogue now, not the 171 rows typed in 2025.

    crawled = read_official(db_path, "2025-10-07")        # [{org, source, name, modality, …}]
    rows, notes = other_datasets(curated.other_datasets, crawled)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

FROZEN = "data/curated/other-source-datasets.csv"
# The published pipeline's frozen other-source-datasets.jsonl of 2025-09-07 (its last release):
# a count that adds it is of kind `published`, as of that date, in every month.
FROZEN_AS_OF = "2025-09-07"
TABLE = "official_datasets"


def read_official(db_path, snapshot: str) -> list[dict]:
    """The snapshot's ``official_datasets`` rows (none for a store without the table)."""
    path = Path(db_path)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                            [TABLE]).fetchone():
            return []
        return [dict(r) for r in conn.execute(
            f"SELECT org, source, name, modality, lifecycle, url FROM [{TABLE}] "
            f"WHERE snapshot = ? ORDER BY source, name", [snapshot])]
    finally:
        conn.close()


def other_datasets(frozen: list[dict], crawled: list[dict]) -> tuple[list[dict], dict]:
    """(rows, notes): the crawled rows, then the frozen rows of the orgs no crawled catalogue
    covers; ``notes`` says per org where its rows came from (the cells' source text)."""
    covered: dict[str, set] = {}
    for row in crawled:
        covered.setdefault(row["org"], set()).add(row["source"])
    kept = [row for row in frozen if row["org"] not in covered]
    notes = {}
    for org, sources in covered.items():
        n = sum(1 for row in crawled if row["org"] == org)
        notes[org] = (f"official_datasets crawl ({n} datasets of {org}: "
                      f"{', '.join(sorted(sources))})")
    for row in kept:
        n = sum(1 for r in kept if r["org"] == row["org"])
        notes[row["org"]] = f"{FROZEN} ({n} datasets of {row['org']})"
    return [*crawled, *kept], notes
