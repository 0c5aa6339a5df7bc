"""The SQLite store, as scoring sees it: plain sqlite3 reads, sqlite-utils writes, no Scrapy.

    open_store(path)                       the store with its schema (osir_crawl.store, no Scrapy)
    snapshots(db, tables)                  the snapshots holding rows in any of ``tables``
    previous_snapshot(snapshots, date)     method §4.1: closest to date - 30 days, within 15 days
    records(db, table, snapshot)           the rows of one snapshot, as dicts
    write_build(db, snapshot, ...)         summaries, rankings and classification of one build
    previous_ranks(db, snapshot)           last month's ranks from the ``rankings`` table
"""

from __future__ import annotations

import datetime as dt
import os

from osir_crawl import store as _store

SNAPSHOT_WINDOW = (30, 15)  # previous = closest to date - 30 days, at most 15 days off


def open_store(path):
    if not os.path.exists(path):
        from .errors import ScoringError
        raise ScoringError(f"{path}: store not found (set OSIR_DB or --db)")
    return _store.open_store(path)


def snapshots(db, tables=("models", "datasets")):
    found = set()
    for table in tables:
        found.update(r[0] for r in db.execute(f"SELECT DISTINCT snapshot FROM [{table}]"))
    return sorted(found)


def previous_snapshot(candidates, date):
    """The snapshot closest to ``date`` - 30 days, if within 15 days of it (else None)."""
    target = dt.date.fromisoformat(date) - dt.timedelta(days=SNAPSHOT_WINDOW[0])
    best = None
    for snap in candidates:
        if snap >= date:
            continue
        off = abs((dt.date.fromisoformat(snap) - target).days)
        if off <= SNAPSHOT_WINDOW[1] and (best is None or off < best[0]):
            best = (off, snap)
    return best and best[1]


def records(db, table, snapshot):
    cursor = db.execute(f"SELECT * FROM [{table}] WHERE snapshot = ? ORDER BY rowid", [snapshot])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def write_build(db, snapshot, summary_rows, ranking_rows, classification_rows):
    """Replace this snapshot's rows of the three build tables, in one transaction."""
    with db.conn:
        for table, rows in (("summaries", summary_rows), ("rankings", ranking_rows),
                            ("classification", classification_rows)):
            db.execute(f"DELETE FROM [{table}] WHERE snapshot = ?", [snapshot])
            if rows:
                db.table(table).insert_all(rows, batch_size=1000)


def previous_ranks(db, snapshot):
    """(snapshot, {output stem: {org: rank}, "profile": its build profile},
    {dimension: {org: {indicator: value}}}) of the month before ``snapshot`` in the
    ``rankings`` table, or (None, {}, {})."""
    built = [r[0] for r in db.execute("SELECT DISTINCT snapshot FROM rankings")]
    prev = previous_snapshot(built, snapshot)
    if prev is None:
        return None, {}, {}
    ranks: dict = {}
    for dim, org, rank, profile in db.execute(
            "SELECT dimension, org, rank, profile FROM rankings WHERE snapshot = ? ORDER BY rowid",
            [prev]):
        ranks.setdefault(f"{dim}-rank", {})[org] = rank
        ranks.setdefault("profile", profile)
    sums: dict = {}
    for dim, org, ind, value in db.execute(
            "SELECT dimension, org, indicator, value FROM summaries WHERE snapshot = ? "
            "ORDER BY rowid", [prev]):
        sums.setdefault(dim, {}).setdefault(org, {})[ind] = value
    return prev, ranks, sums
