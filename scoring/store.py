"""The SQLite store as scoring sees it: read with ``pandas.read_sql``, written with plain sqlite3.

    open_store(path, write=False)          the one way scoring opens the store (read-only unless
                                           it writes; writing creates scoring's own tables);
                                           path: default_store(), $OSIR_DB or data/osir.db
    snapshots(conn)                        the snapshots holding models or datasets
    previous_snapshot(snapshots, date)     method §4.1: closest to date - 30 days, within 15 days
    read_records(conn, kind, snapshot)     the load step: one read per table and snapshot
    read_totals(conn, kind, snapshot)      cumulative downloads, the next month's baseline
    read_previous_build(conn, snapshot)    last month's ranks and summaries (for the deltas)
    read_summaries(conn, snapshot)         a built snapshot's summary tables
    write_build(conn, snapshot, ...)       a build's summaries, rankings and classification

The crawlers own the record tables; scoring's (summaries, rankings, classification) are
declared beside them in ``osir_crawl/store/schema.py``, created by the same ``ensure_schema`` when
scoring opens the store to write, and written only by ``scoring build`` (one build per snapshot). The ecosystem build
(``--universe all``: every organisation found, registered or not) writes the same tables under
the ``ecosystem_`` prefix, so the registry's ranking is never replaced by it.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import sqlite_utils

from osir_crawl.inputs.registry import UNREGISTERED_SEPARATOR  # no Scrapy
from osir_crawl.ops.outputs import DEFAULT_STORE
from osir_crawl.store import ensure_schema  # sqlite-utils, no Scrapy
from osir_crawl.store.schema import ECOSYSTEM, SCHEMAS, SCORING_TABLES

from .errors import ScoringError

SNAPSHOT_WINDOW = (30, 15)  # previous = closest to date - 30 days, at most 15 days off
TABLES = {name: SCHEMAS[name] for name in ("summaries", "rankings", "classification")}
# The store columns a build reads, under the names the summaries use.
RECORD_COLUMNS = {
    "models": {"platform": "platform", "repo_id": "repo_id", "org": "org", "owner": "owner",
               "name": "name", "downloads": "downloads", "downloads_total": "downloads_total",
               "likes": "likes", "discussions": "community", "descendants": "usage",
               "params": "params", "pipeline_tag": "pipeline_tag", "library": "library",
               "tags": "tags", "model_type": "model_type", "architectures": "architectures"},
    "datasets": {"platform": "platform", "repo_id": "repo_id", "org": "org", "owner": "owner",
                 "name": "name", "downloads": "downloads", "downloads_total": "downloads_total",
                 "likes": "likes", "discussions": "community", "dataset_usage": "usage",
                 "tags": "tags"},
}
INTEGER_COLUMNS = ("downloads", "downloads_total", "likes", "community", "usage", "params")
UNIVERSES = ("registry", "all")
CHUNK = 100_000  # rows per read_sql chunk and per insert batch: bounds the memory of a read
TEXT = "string[pyarrow]"  # Arrow-backed: a million names in a few buffers, not Python objects


def default_store() -> Path:
    """``$OSIR_DB``, else the repository's ``data/osir.db`` (where the crawlers write)."""
    return Path(os.environ.get("OSIR_DB") or Path(__file__).resolve().parents[1] / DEFAULT_STORE)


def open_store(path=None, write: bool = False) -> sqlite3.Connection:
    path = Path(path or default_store())
    if not path.is_file():
        raise ScoringError(f"{path}: store not found (set OSIR_DB or --db)")
    if not write:
        return sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=60)
    conn = sqlite3.connect(path, timeout=60)
    with conn:
        ensure_schema(sqlite_utils.Database(conn), SCORING_TABLES)
    return conn


def table_of(name: str, universe: str = "registry") -> str:
    """The store table of one of scoring's TABLES in a universe's build."""
    return ECOSYSTEM + name if universe == "all" else name


def unfinished_crawls(conn, snapshot: str) -> list[dict]:
    """The latest crawl of each spider (and shard, universe) of ``snapshot`` whose outcome is
    not ``finished`` (incomplete, stopped, store_error, still running…)."""
    if not has_table(conn, "crawls"):
        return []
    latest = {}
    for r in conn.execute(
            "SELECT spider, crawl_id, outcome, coalesce(shard, '') AS shard, "
            "coalesce(universe, '') AS universe FROM crawls WHERE snapshot = ? "
            "ORDER BY started_at, rowid", [snapshot]):
        latest[(r[0], r[3], r[4])] = {"spider": r[0], "crawl_id": r[1], "outcome": r[2]}
    return [c for c in latest.values() if c["outcome"] != "finished"]


def has_table(conn, name) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [name]).fetchone() is not None


def table_columns(conn, name) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info([{name}])")}


def snapshots(conn, tables=("models", "datasets")) -> list[str]:
    found = set()
    for table in tables:
        if has_table(conn, table):
            found.update(r[0] for r in conn.execute(f"SELECT DISTINCT snapshot FROM [{table}]"))
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


def read_sql(sql, conn, **kw):
    """``pandas.read_sql`` (all chunks read), with SQLite's own error when the store fails
    (pandas wraps it in an error of its own that the command line's boundary does not know)."""
    try:
        result = pd.read_sql(sql, conn, **kw)
        return list(result) if kw.get("chunksize") else result
    except pd.errors.DatabaseError as err:
        cause = err.__cause__
        raise (cause if isinstance(cause, sqlite3.Error) else sqlite3.DatabaseError(str(err)))


def _read(conn, sql, params, columns, what):
    chunks = read_sql(sql, conn, params=params, chunksize=CHUNK)
    frame = (pd.concat(chunks, ignore_index=True) if chunks
             else pd.DataFrame(columns=columns))
    for column in frame.columns:  # an empty or all-NULL read says nothing of the type
        if column in INTEGER_COLUMNS:
            frame[column] = _counts(frame, column, what)
        elif not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(TEXT)
    return frame


def _counts(frame, column, what) -> pd.Series:
    """A column of counts as nullable integers; anything else (a fraction, infinity, text, a
    negative count) is an error naming the row, never a silently changed number."""
    cells = frame[column]
    if cells.dtype == "int64" and not (cells < 0).any():
        return cells.astype("Int64")
    values = pd.to_numeric(cells, errors="coerce").astype("float64")
    whole = np.isfinite(values) & (values == np.round(values)) & (values >= 0)
    bad = np.flatnonzero((cells.notna() & ~whole).to_numpy())
    if len(bad):
        row = frame.iloc[bad[0]]
        name = f", repo {row['repo_id']!r}" if "repo_id" in frame else ""
        value = row[column].item() if hasattr(row[column], "item") else row[column]
        raise ScoringError(f"{what}{name}, column {column!r}: {value!r} is not a count "
                           f"(a whole number >= 0)")
    return values.astype("Int64")


def _where(conn, kind, snapshot):
    """``store osir.db, table models, snapshot 2025-09-07``: where a read's rows come from."""
    path = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    return f"store {Path(path).name or 'in memory'}, table {kind}, snapshot {snapshot}"


def _of_universe(universe: str) -> str:
    """SQL keeping a universe's rows: every row, or (registry) none of unregistered authors."""
    return "" if universe == "all" else f" AND instr(coalesce(org, ''), '{UNREGISTERED_SEPARATOR}') = 0"


def read_records(conn, kind: str, snapshot: str, universe: str = "registry") -> pd.DataFrame:
    """One snapshot's rows of ``models`` or ``datasets`` in store order, with the columns of
    :data:`RECORD_COLUMNS` under their summary names (a column an older store lacks: NULL);
    rows of unregistered authors only for ``universe="all"``."""
    have = table_columns(conn, kind)
    wanted = RECORD_COLUMNS[kind]
    select = ", ".join(f"[{c}] AS [{name}]" if c in have else f"NULL AS [{name}]"
                       for c, name in wanted.items())
    return _read(conn, f"SELECT {select} FROM [{kind}] WHERE snapshot = ?"
                       f"{_of_universe(universe)} ORDER BY rowid",
                 [snapshot], list(wanted.values()), _where(conn, kind, snapshot))


def read_totals(conn, kind: str, snapshot: str, universe: str = "registry") -> pd.DataFrame:
    """platform, repo_id, downloads_total of one snapshot's rows that have a total."""
    return _read(conn, f"SELECT platform, repo_id, downloads_total FROM [{kind}] "
                       "WHERE snapshot = ? AND downloads_total IS NOT NULL"
                       f"{_of_universe(universe)} ORDER BY rowid",
                 [snapshot], ["platform", "repo_id", "downloads_total"],
                 _where(conn, kind, snapshot))


def read_previous_build(conn, snapshot: str, universe: str = "registry"):
    """(snapshot, profile, {output stem: ranks by org}, {dimension: summary frame}) of the month
    before ``snapshot`` in the ``rankings`` table (of the universe), or (None, None, {}, {})."""
    prev = previous_snapshot(built_snapshots(conn, universe), snapshot)
    if prev is None:
        return None, None, {}, {}
    return (prev, *read_build(conn, prev, universe))


def built_snapshots(conn, universe: str = "registry") -> list[str]:
    """The snapshots with rankings in the store (of the universe), in order."""
    rankings = table_of("rankings", universe)
    if not has_table(conn, rankings):
        return []
    return sorted(r[0] for r in conn.execute(f"SELECT DISTINCT snapshot FROM [{rankings}]"))


def read_build(conn, snapshot: str, universe: str = "registry"):
    """(profile, {output stem: ranks by org}, {dimension: summary frame}) of ``snapshot``'s
    build in the store, or (None, {}, {}) when it has none."""
    rankings = table_of("rankings", universe)
    if not has_table(conn, rankings):
        return None, {}, {}
    ranks = read_sql(f"SELECT dimension, org, rank, profile FROM [{rankings}] WHERE snapshot = ? "
                     "ORDER BY rowid", conn, params=[snapshot])
    if ranks.empty:
        return None, {}, {}
    by_stem = {f"{dim}-rank": rows.set_index("org")["rank"]
               for dim, rows in ranks.groupby("dimension", sort=False)}
    return ranks.profile.iloc[0], by_stem, read_summaries(conn, snapshot, universe)


def read_summaries(conn, snapshot: str, universe: str = "registry") -> dict:
    """{dimension: summary frame indexed by org} of a built snapshot, as the build wrote them
    (the ``summaries`` table of the universe; rows and columns in written order)."""
    values = read_sql(f"SELECT dimension, org, indicator, value FROM "
                      f"[{table_of('summaries', universe)}] WHERE snapshot = ? ORDER BY rowid",
                      conn, params=[snapshot])
    summaries = {}
    for dim, rows in values.groupby("dimension", sort=False):
        table = rows.pivot(index="org", columns="indicator", values="value")
        table = table.reindex(index=rows.org.unique(), columns=rows.indicator.unique())
        table.columns.name = None
        summaries[dim] = table.apply(_int_if_whole)
    return summaries


def _int_if_whole(column: pd.Series) -> pd.Series:
    """A stored REAL column whose values are all whole numbers, as integers (as written)."""
    if column.notna().all() and (column == column.round()).all():
        return column.astype("int64")
    return column


def write_build(conn, snapshot, summaries: pd.DataFrame, rankings: pd.DataFrame,
                classification: pd.DataFrame, universe: str = "registry") -> None:
    """Replace this snapshot's rows of scoring's three tables, in one transaction."""
    with conn:
        write_build_rows(conn, snapshot, summaries, rankings, classification, universe)


def write_build_rows(conn, snapshot, summaries: pd.DataFrame, rankings: pd.DataFrame,
                     classification: pd.DataFrame, universe: str = "registry") -> None:
    """:func:`write_build`'s rows, in the caller's transaction (not committed here).
    Classification rows go in in key order: SQLite's b-trees take sorted inserts (and later
    the snapshot's deletion) several times faster than scattered ones."""
    key = list(TABLES["classification"]["pk"][1:])
    classification = classification.sort_values(key, kind="stable")
    for table, rows in (("summaries", summaries), ("rankings", rankings),
                        ("classification", classification)):
        name = table_of(table, universe)
        conn.execute(f"DELETE FROM [{name}] WHERE snapshot = ?", [snapshot])
        columns = list(TABLES[table]["columns"])
        sql = (f"INSERT INTO [{name}] ({', '.join(f'[{c}]' for c in columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        for start in range(0, len(rows), CHUNK):
            part = rows.iloc[start:start + CHUNK]
            cells = [_cells(part[c]) if c in part else [snapshot] * len(part)
                     for c in columns]
            conn.executemany(sql, zip(*cells))


def _cells(column: pd.Series) -> list:
    """Python values for sqlite3 (None for missing)."""
    return column.to_numpy(dtype=object, na_value=None).tolist()
