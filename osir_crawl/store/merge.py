"""Merging shard stores: the stores of one snapshot's shards (``-a shard=I/N``, one per node)
into one store, as if one machine had crawled it all.

    report = merge("data/osir.db", ["node1.db", "node2.db"])     # MergeRefused: why not

Before anything is written it checks, and refuses with the reason:

* one snapshot (or ``snapshot=`` names it) and one N across every shard crawl;
* every crawl of the snapshot in a shard store is a shard (``crawls.shard``), of one universe
  and one ``-a orgs=`` selection per spider;
* for every spider, each shard I of N was crawled exactly once across the stores (not missing,
  not in two stores), its latest crawl ``finished`` (not ``incomplete``, ``running``, killed or
  stopped) and no crawl of it still holds a lock;
* every record row of the snapshot in a shard store was written by one of those crawls;
* every record row passes the crawl's own validation again (osir_crawl/pipelines/validation.py, with
  the registry: an owner the registry does not give the row's org is refused): a shard store
  is not trusted to hold only what its crawl validated;
* no crawl id of the merge is already in the target for another spider or snapshot, and no
  reject or failure of a merged crawl belongs to another snapshot;
* no two rows share a key with different content (``crawl_id`` and ``fetched_at`` aside),
  across shards or with what the target holds; a key served identically twice is kept once.
  The target must not hold another crawl of a merged spider and snapshot.

Then, in one transaction on the target: the record rows, every ``crawls`` row of the snapshot
(``merged_from`` names the shard store), and their rejects and failures (new ids, same
``crawl_id``, so each stays traceable to its crawl and shard). Shard stores are only read. Rows
travel through a temporary table in chunks, so memory stays flat whatever the size.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from osir_crawl import shards, store
from osir_crawl.items import RECORD_ITEMS
from osir_crawl.pipelines.validation import problems
from osir_crawl.snapshots import check_snapshot

CHUNK = 20_000  # rows per fetch and insert
IGNORED = ("crawl_id", "fetched_at")  # columns that differ between equal crawls


class MergeRefused(Exception):
    """The merge would lose or double rows, or a shard is missing or incomplete."""


@dataclass
class Source:
    path: Path
    conn: sqlite3.Connection
    crawls: list[dict]  # crawls of the snapshot
    tables: set[str]


@dataclass
class MergeReport:
    snapshot: str
    count: int  # N
    spiders: dict = field(default_factory=dict)  # spider -> {shard label: crawl row}
    rows: dict = field(default_factory=lambda: defaultdict(int))  # table -> rows merged
    duplicates: dict = field(default_factory=lambda: defaultdict(int))  # key in 2 shards: kept once
    logs: dict = field(default_factory=lambda: defaultdict(int))  # rejects/failures copied

    def lines(self) -> list[str]:
        out = [f"merged snapshot {self.snapshot}: {len(self.spiders)} spider(s) x "
               f"{self.count} shards"]
        for spider, by_shard in sorted(self.spiders.items()):
            items = sum(c["items"] or 0 for c in by_shard.values())
            out.append(f"  {spider}: shards {', '.join(sorted(by_shard))} — {items:,} items")
        tables = ", ".join(f"{t} {n:,}" for t, n in self.rows.items() if n) or "none"
        out.append(f"  rows: {tables}")
        if any(self.duplicates.values()):
            out.append("  served identically by two shards, kept once: " + ", ".join(
                f"{t} {n:,}" for t, n in self.duplicates.items() if n))
        out.append(f"  rejects {self.logs['rejects']:,}, failures {self.logs['failures']:,}")
        return out


def merge(target, sources, snapshot: str | None = None, registry=None) -> MergeReport:
    paths = [Path(p).resolve() for p in sources]
    target = Path(target).resolve()
    if not paths:
        raise MergeRefused("no shard stores given")
    if target in paths:
        raise MergeRefused(f"{target} is both the target and a shard store")
    if len(set(paths)) < len(paths):
        twice = next(p for p in paths if paths.count(p) > 1)
        raise MergeRefused(f"{twice} is given twice: its shards would count twice")
    opened = [_open_source(p) for p in paths]
    try:
        snapshot = _snapshot_of(opened, snapshot)
        for src in opened:
            src.crawls = store.dict_rows(src.conn, "SELECT * FROM crawls WHERE snapshot = ? "
                                         "ORDER BY started_at, rowid", [snapshot])
        report = _check_shards(opened, snapshot)
        db = store.open_store(target)
        try:
            with store.write_transaction(db):
                _check_target(db, report, opened)
                merged = {c["crawl_id"] for by in report.spiders.values() for c in by.values()}
                for src in opened:
                    _check_rows_belong(src, snapshot, merged)
                    _check_rows_valid(src, snapshot, registry)
                    _check_logs(src, snapshot)
                    _copy_source(db, src, snapshot, merged, report)
        finally:
            db.close()
        return report
    finally:
        for src in opened:
            src.conn.close()


# --- reading the shard stores ------------------------------------------------------------------
def _open_source(path: Path) -> Source:
    if not path.is_file():
        raise MergeRefused(f"{path}: no such store")
    try:  # read-only: a merge never changes a shard store
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        conn.row_factory = sqlite3.Row
        tables = store.table_names(conn)
    except sqlite3.Error as exc:
        raise MergeRefused(f"{path}: cannot read the store: {exc}") from None
    if "crawls" not in tables:
        conn.close()
        raise MergeRefused(f"{path}: not a store (no crawls table)")
    return Source(path, conn, [], tables)


def _columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")]


def _snapshot_of(sources: list[Source], snapshot: str | None) -> str:
    if snapshot is not None:
        return check_snapshot(snapshot, "--snapshot")
    found = set()
    for src in sources:
        if "shard" in _columns(src.conn, "crawls"):
            found.update(r[0] for r in src.conn.execute(
                "SELECT DISTINCT snapshot FROM crawls WHERE coalesce(shard, '') != ''"))
    if not found:
        raise MergeRefused("no shard crawls in the given stores (crawled with -a shard=I/N?)")
    if len(found) > 1:
        raise MergeRefused(f"the shard stores hold several snapshots ({', '.join(sorted(found))})"
                           "; name one with --snapshot")
    return found.pop()


def _check_shards(sources: list[Source], snapshot: str) -> MergeReport:
    counts, seen = set(), {}  # (spider, label) -> (source, crawl)
    selection: dict[str, set] = defaultdict(set)  # spider -> {(universe, orgs)}
    for src in sources:
        if not src.crawls:
            raise MergeRefused(f"{src.path}: no crawl of snapshot {snapshot}")
        latest: dict[tuple, dict] = {}
        for crawl in src.crawls:  # in start order: later crawls of a shard win
            label = crawl.get("shard") or ""
            if not label:
                raise MergeRefused(f"{src.path}: crawl {crawl['crawl_id']} of {crawl['spider']} "
                                   f"{snapshot} is not a shard (crawled without -a shard=I/N); "
                                   "a shard store holds shard crawls only")
            counts.add(shards.Shard.parse(label).count)
            latest[(crawl["spider"], label)] = crawl
            selection[crawl["spider"]].add((crawl.get("universe") or "", crawl.get("orgs")))
        for key, crawl in latest.items():
            if key in seen:
                raise MergeRefused(f"shard {key[1]} of {key[0]} {snapshot} was crawled in both "
                                   f"{seen[key][0].path} and {src.path}: its rows would count "
                                   "twice")
            seen[key] = (src, crawl)
        locks = (store.dict_rows(src.conn, "SELECT * FROM crawl_locks WHERE snapshot = ?",
                                 [snapshot]) if "crawl_locks" in src.tables else [])
        for lock in locks:
            scope = store.scope_label(lock["spider"], snapshot, lock.get("shard"))
            raise MergeRefused(f"{src.path}: {scope} is still being "
                               f"crawled (crawl {lock['crawl_id']}, pid {lock['pid']} on "
                               f"{lock['host']}); merge once it has finished")
    if len(counts) > 1:
        raise MergeRefused(f"the shards disagree on N ({', '.join(map(str, sorted(counts)))}): "
                           "every shard store of a merge must come from the same split")
    count = counts.pop()
    report = MergeReport(snapshot, count)
    for (spider, label), (src, crawl) in sorted(seen.items()):
        if crawl["outcome"] != "finished":
            raise MergeRefused(f"{src.path}: shard {label} of {spider} {snapshot} did not "
                               f"finish (its last crawl {crawl['crawl_id']} is "
                               f"{crawl['outcome']}); crawl it again, then merge")
        report.spiders.setdefault(spider, {})[label] = crawl
    for spider, by_shard in report.spiders.items():
        missing = [f"{i}/{count}" for i in range(1, count + 1) if f"{i}/{count}" not in by_shard]
        if missing:
            raise MergeRefused(f"{spider} {snapshot}: shard(s) {', '.join(missing)} missing "
                               f"(found {', '.join(sorted(by_shard))}); every shard must be "
                               "crawled before the merge")
        if len(selection[spider]) > 1:
            raise MergeRefused(f"{spider} {snapshot}: the shards crawled different selections "
                               f"(universe, orgs: {sorted(selection[spider], key=str)})")
    return report


def _check_target(db, report: MergeReport, sources: list[Source]) -> None:
    """The target may hold other spiders or snapshots, and an earlier merge of these very
    crawls, never another crawl of a merged spider and snapshot."""
    ours = {c["crawl_id"] for src in sources for c in src.crawls}
    for src in sources:
        for crawl in src.crawls:
            row = db.execute("SELECT spider, snapshot FROM crawls WHERE crawl_id = ?",
                             [crawl["crawl_id"]]).fetchone()
            if row and (row[0], row[1]) != (crawl["spider"], crawl["snapshot"]):
                raise MergeRefused(
                    f"{src.path}: crawl id {crawl['crawl_id']} ({crawl['spider']} "
                    f"{crawl['snapshot']}) is in the target already, as a crawl of {row[0]} "
                    f"{row[1]}: merging would overwrite it and its rejects and failures")
    for spider in report.spiders:
        for row in db.execute("SELECT crawl_id, shard, outcome FROM crawls WHERE spider = ? AND "
                              "snapshot = ?", [spider, report.snapshot]).fetchall():
            if row[0] not in ours:
                raise MergeRefused(
                    f"the target already holds crawl {row[0]} of {spider} {report.snapshot} "
                    f"({row[2]}{', shard ' + row[1] if row[1] else ''}); merging shards beside "
                    "it could double or lose rows: merge into a store without it")


def _check_rows_belong(src: Source, snapshot: str, merged: set[str]) -> None:
    mine = {c["crawl_id"] for c in src.crawls} & merged
    for table in store.RECORD_TABLES:
        if table not in src.tables:
            continue
        marks = ", ".join("?" for _ in mine) or "NULL"
        stray = src.conn.execute(
            f"SELECT crawl_id, count(*) FROM [{table}] WHERE snapshot = ? AND "
            f"(crawl_id IS NULL OR crawl_id NOT IN ({marks})) GROUP BY crawl_id LIMIT 3",
            [snapshot, *mine]).fetchall()
        if stray:
            which = ", ".join(f"{n:,} by {cid or 'no crawl'}" for cid, n in stray)
            raise MergeRefused(f"{src.path}: {table} rows of {snapshot} written by crawls that "
                               f"are not the latest finished crawl of their shard ({which}); "
                               "the merge would lose or mix them")


ITEM_CLASSES = {cls.TABLE: cls for cls in RECORD_ITEMS}


def _check_rows_valid(src: Source, snapshot: str, registry) -> None:
    """Every record row of the snapshot, as the item it was stored from, passes validation."""
    for table, cls in ITEM_CLASSES.items():
        if table not in src.tables:
            continue
        fields = dataclasses.fields(cls)
        cursor = src.conn.execute(f"SELECT * FROM [{table}] WHERE snapshot = ?", [snapshot])
        bad, first = 0, None
        while chunk := cursor.fetchmany(CHUNK):
            for row in chunk:
                found = problems(_item(cls, fields, dict(row)), registry)
                if found:
                    bad += 1
                    first = first or f"{row['repo_id'] if 'repo_id' in row.keys() else ''}: " \
                                     f"{found[0]}"
        if bad:
            raise MergeRefused(f"{src.path}: {bad:,} {table} row(s) of {snapshot} fail "
                               f"validation (first: {first}); a crawl stores only valid rows")


def _item(cls, fields, row: dict):
    """The item a stored row was written from (JSON lists decoded, 0/1 as booleans)."""
    values = {}
    for f in fields:
        value = row.get(f.name)
        if value is None and "list" in str(f.type):
            value = []  # a column added since the row was written
        elif isinstance(value, str) and "list" in str(f.type):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        elif value in (0, 1) and not isinstance(value, bool) and "bool" in str(f.type) \
                and "int" not in str(f.type):
            value = bool(value)
        values[f.name] = value
    return cls(**values)


def _check_logs(src: Source, snapshot: str) -> None:
    ids = [c["crawl_id"] for c in src.crawls]
    marks = ", ".join("?" for _ in ids) or "NULL"
    for table in store.LOG_TABLES:
        if table not in src.tables or "snapshot" not in _columns(src.conn, table):
            continue
        other = src.conn.execute(
            f"SELECT count(*), min(snapshot) FROM [{table}] WHERE crawl_id IN ({marks}) AND "
            "snapshot IS NOT ?", [*ids, snapshot]).fetchone()
        if other[0]:
            raise MergeRefused(f"{src.path}: {other[0]:,} {table} row(s) of the merged crawls "
                               f"belong to another snapshot ({other[1]}), not {snapshot}")


# --- writing the target ------------------------------------------------------------------------
def _copy_source(db, src: Source, snapshot: str, merged: set[str], report: MergeReport) -> None:
    for table in store.RECORD_TABLES:
        if table in src.tables:
            _copy_records(db, src, table, snapshot, report)
    crawl_columns = [c for c in _columns(src.conn, "crawls") if c in store.SCHEMAS["crawls"]
                     ["columns"]]
    for crawl in src.crawls:
        row = {c: crawl[c] for c in crawl_columns}
        row["merged_from"] = os.fspath(src.path)
        db.table("crawls").upsert(row, pk="crawl_id")
    ids = [c["crawl_id"] for c in src.crawls]
    for table in store.LOG_TABLES:
        if table not in src.tables or not ids:
            continue
        marks = ", ".join("?" for _ in ids)
        db.execute(f"DELETE FROM [{table}] WHERE crawl_id IN ({marks})", ids)  # a re-merge
        columns = [c for c in _columns(src.conn, table) if c != "id"
                   and c in store.SCHEMAS[table]["columns"]]
        cursor = src.conn.execute(f"SELECT {_names(columns)} FROM [{table}] WHERE crawl_id IN "
                                  f"({marks}) ORDER BY id", ids)
        insert = (f"INSERT INTO [{table}] ({_names(columns)}) "
                  f"VALUES ({', '.join('?' for _ in columns)})")
        while chunk := cursor.fetchmany(CHUNK):
            db.conn.executemany(insert, [tuple(r) for r in chunk])
            report.logs[table] += len(chunk)


def _copy_records(db, src: Source, table: str, snapshot: str, report: MergeReport) -> None:
    spec = store.SCHEMAS[table]
    columns = [c for c in _columns(src.conn, table) if c in spec["columns"]]
    key = list(spec["pk"])
    content = [c for c in columns if c not in key and c not in IGNORED]
    db.execute("DROP TABLE IF EXISTS temp.incoming")
    db.execute(f"CREATE TEMP TABLE incoming AS SELECT {_names(columns)} FROM main.[{table}] "
               "WHERE 0")
    cursor = src.conn.execute(f"SELECT {_names(columns)} FROM [{table}] WHERE snapshot = ?",
                              [snapshot])
    insert = f"INSERT INTO temp.incoming VALUES ({', '.join('?' for _ in columns)})"
    while chunk := cursor.fetchmany(CHUNK):
        db.conn.executemany(insert, [tuple(r) for r in chunk])
    join = (f"FROM temp.incoming i JOIN main.[{table}] m ON "
            + " AND ".join(f"m.[{k}] = i.[{k}]" for k in key))
    differs = " OR ".join(f"m.[{c}] IS NOT i.[{c}]" for c in content) or "0"
    clash = db.execute(f"SELECT {', '.join(f'i.[{k}]' for k in key)}, m.crawl_id {join} "
                       f"WHERE {differs} LIMIT 1").fetchone()
    if clash:
        *where, crawl_id = clash
        total = db.execute(f"SELECT count(*) {join} WHERE {differs}").fetchone()[0]
        raise MergeRefused(
            f"{table} {' '.join(map(str, where))}: {src.path} and {_origin(db, crawl_id)} hold "
            f"different rows for one key ({total:,} such key(s) in {table}); merging would "
            "lose one of them")
    twice = db.execute(f"SELECT count(*) {join} WHERE m.crawl_id IS NOT i.crawl_id").fetchone()[0]
    added = db.execute(f"INSERT OR IGNORE INTO main.[{table}] ({_names(columns)}) SELECT "
                       f"{_names(columns)} FROM temp.incoming").rowcount
    report.rows[table] += added
    report.duplicates[table] += twice
    db.execute("DROP TABLE temp.incoming")


def _origin(db, crawl_id) -> str:
    """Where a target row came from: a shard store merged before, or the target itself."""
    row = db.execute("SELECT merged_from, shard FROM crawls WHERE crawl_id = ?",
                     [crawl_id]).fetchone()
    if row and row[0]:
        return f"{row[0]} (shard {row[1]}, crawl {crawl_id})"
    return f"the target (crawl {crawl_id})"


def _names(columns) -> str:
    return ", ".join(f"[{c}]" for c in columns)
