"""The SQLite store: explicit schema, batched upserts, crawl bookkeeping, the crawl lock.

Plain sqlite-utils, no Scrapy, so operations and tests can open a store directly. During a
crawl only the crawl run and its writers (osir_crawl/extensions/crawl_run.py) write to it. Every table,
the crawlers' and scoring's, is declared in osir_crawl/store/schema.py (from the item dataclasses)
and created by :func:`ensure_schema`; scoring's are written by ``scoring/store.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import sqlite_utils

from osir_crawl import items, shards
from osir_crawl.store.schema import CRAWL_TABLES, SCHEMAS

RECORD_TABLES = tuple(item.TABLE for item in items.RECORD_ITEMS)
LOG_TABLES = ("rejects", "failures")  # owned by the latest crawl of a spider and snapshot


MAX_PAYLOAD = 20_000  # characters of a rejected item kept in ``rejects.payload``
# An error of one row (SQLite cannot hold a value), not of the store: the row is rejected.
ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError,
              sqlite3.InterfaceError, ValueError, OverflowError)


class StoreError(Exception):
    """The store cannot be opened or written (damaged, read-only, no room, no folder): a crawl
    stops on it with this one-line message and a non-zero exit."""


def store_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of the store itself rather than of one row."""
    return isinstance(exc, (StoreError, sqlite3.Error)) and not isinstance(exc, ROW_ERRORS)


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def dict_rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    """Rows as dicts (``conn.row_factory`` is ``sqlite3.Row``)."""
    return [dict(r) for r in conn.execute(sql, list(params))]


def open_store(path: str | os.PathLike) -> sqlite_utils.Database:
    """Open (creating if needed) the store with its schema, in WAL mode; StoreError if it
    cannot be (a corrupt or read-only file, a folder that cannot be made)."""
    path = os.fspath(path)
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        db = sqlite_utils.Database(path)
        shards.register(db.conn)  # osir_shard(key, N): a shard's stale rows (see InShard)
        db.execute("PRAGMA busy_timeout = 60000")
        _enable_wal(db)
        with write_transaction(db):  # crawls starting at once on a new store take turns
            ensure_schema(db)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from exc
    return db


def _enable_wal(db: sqlite_utils.Database, attempts: int = 50) -> None:
    """WAL mode; switching a new store needs it to itself, and SQLite does not wait (busy
    timeout) for that: another process opening the same new store at once makes it fail
    with "database is locked" for a moment, so try again."""
    for attempt in range(attempts):
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def ensure_schema(db: sqlite_utils.Database, tables=CRAWL_TABLES) -> None:
    """Create ``tables`` (osir_crawl/store/schema.py) and add the columns introduced since a store
    was created; never drop any."""
    for name in tables:
        spec, table = SCHEMAS[name], db.table(name)
        defaults = spec["not_null"]
        if not table.exists():
            table.create(spec["columns"], pk=spec["pk"] if len(spec["pk"]) > 1 else spec["pk"][0],
                         not_null=set(defaults), defaults=defaults)
        else:
            missing = {c: t for c, t in spec["columns"].items() if c not in table.columns_dict}
            for column, col_type in missing.items():
                table.add_column(column, col_type)
            if table.pks != list(spec["pk"]):  # a key widened since (crawl_locks: the shard)
                with write_transaction(db):
                    for column, value in defaults.items():
                        db.execute(f"UPDATE [{name}] SET [{column}] = ? WHERE [{column}] IS NULL",
                                   [value])
                    table.transform(pk=spec["pk"], not_null=set(defaults), defaults=defaults)
        for columns in spec["indexes"]:
            table.create_index(columns, if_not_exists=True)


def to_row(record: Mapping, stamp: Mapping) -> dict:
    """A store row from an item's fields: JSON for lists/dicts, ints for booleans."""
    row = dict(record)
    for key, value in row.items():
        if isinstance(value, (list, dict)):
            row[key] = json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))
        elif isinstance(value, bool):
            row[key] = int(value)
    row.update(stamp)
    return row


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """A write transaction that takes the write lock first (``BEGIN IMMEDIATE``); nested, a
    savepoint. Crawls running at once share the store, and a deferred ``BEGIN`` that reads
    (sqlite-utils looks up tables and columns) before it writes cannot wait for another
    writer: SQLite fails it at once with "database is locked". IMMEDIATE waits busy_timeout."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.conn.execute("COMMIT")


def write_rows(db: sqlite_utils.Database, table: str, rows: list[dict]) -> None:
    """Upsert rows of one table in one transaction (the caller batches)."""
    if not rows:
        return
    spec = SCHEMAS[table]
    with write_transaction(db):
        if table in LOG_TABLES:
            db.table(table).insert_all(rows)
        else:
            db.table(table).upsert_all(rows, pk=spec["pk"])


@dataclasses.dataclass(frozen=True)
class InShard:
    """A scope condition: the column's value falls in this shard (osir_crawl/shards.py)."""

    shard: shards.Shard


@dataclasses.dataclass(frozen=True)
class StartsWith:
    """A scope condition: the column's value begins with ``prefix`` (case-sensitive)."""

    prefix: str


def scope_condition(column: str, value) -> tuple[str, list]:
    """SQL and parameters for one ``column: value`` of a crawl's scope: a value, a list of
    values, or an :class:`InShard` / :class:`StartsWith` condition."""
    if isinstance(value, InShard):
        return (f"{shards.SQL_FUNCTION}([{column}], ?) = ?",
                [value.shard.count, value.shard.index])
    if isinstance(value, StartsWith):
        return f"substr([{column}], 1, ?) = ?", [len(value.prefix), value.prefix]
    if isinstance(value, (list, tuple, set)):
        values = list(value)
        return f"[{column}] IN ({', '.join('?' for _ in values)})", values
    return f"[{column}] = ?", [value]


def remove_stale_rows(
    db: sqlite_utils.Database, table: str, snapshot: str, crawl_id: str, scope: Mapping
) -> int:
    """Delete rows of ``snapshot`` within ``scope`` that an earlier crawl wrote and this one
    did not see again (a repo deleted or renamed upstream), so a re-crawl replaces the snapshot."""
    # Never rows of a crawl still running (it holds a lock), whatever scope it writes.
    where = ["snapshot = ?", "crawl_id != ?",
             "crawl_id NOT IN (SELECT crawl_id FROM crawl_locks WHERE crawl_id IS NOT NULL)"]
    params: list = [snapshot, crawl_id]
    for column, value in scope.items():
        sql, values = scope_condition(column, value)
        where.append(sql)
        params.extend(values)
    with write_transaction(db):  # nests (a savepoint) inside a crawl's close-out
        cursor = db.execute(f"DELETE FROM [{table}] WHERE {' AND '.join(where)}", params)
    return cursor.rowcount


def supersede_logs(db: sqlite_utils.Database, spider: str, snapshot: str, crawl_id: str,
                   shard: str = "", universe: str = "") -> int:
    """Rejects and failures of earlier crawls of this spider and snapshot are replaced by ours,
    those of crawls it covers: any shard if it is unsharded, else its own shard; any universe
    if it crawled ``universe=all``, else registry crawls only."""
    where, params = "spider = ? AND snapshot = ? AND crawl_id != ?", [spider, snapshot, crawl_id]
    covered, covered_params = [], []
    if shard:
        covered.append("coalesce(shard, '') = ?")
        covered_params.append(shard)
    if universe != "all":
        covered.append("coalesce(universe, '') != 'all'")
    if covered:  # keep the logs of crawls outside what this one covers
        where += (" AND crawl_id NOT IN (SELECT crawl_id FROM crawls WHERE spider = ? AND "
                  f"snapshot = ? AND NOT ({' AND '.join(covered)}))")
        params += [spider, snapshot, *covered_params]
    removed = 0
    with write_transaction(db):
        for table in LOG_TABLES:
            removed += db.execute(f"DELETE FROM [{table}] WHERE {where}", params).rowcount
    return removed


def record_crawl(db: sqlite_utils.Database, row: Mapping) -> None:
    with write_transaction(db):
        db.table("crawls").upsert(dict(row), pk="crawl_id")


def count_rows(db: sqlite_utils.Database, table: str, where: str = "", params: Iterable = ()) -> int:
    sql = f"SELECT count(*) FROM [{table}]" + (f" WHERE {where}" if where else "")
    return db.execute(sql, list(params)).fetchone()[0]


def reject_payload(payload: Mapping, ensure_ascii: bool = False) -> str:
    """A rejected item as JSON for ``rejects.payload``, at most MAX_PAYLOAD characters: a hostile
    record (a 9 MB field, a million tags) is cut, and ``_truncated`` says so and how big it was.
    The identity fields stay whole, so the row still says whose record it was."""
    text = json.dumps(payload, ensure_ascii=ensure_ascii, default=str)
    if len(text) <= MAX_PAYLOAD:
        return text
    note = f"truncated: the item was {len(text):,} characters of JSON (limit {MAX_PAYLOAD:,})"
    short = {k: _shortened(v) for k, v in payload.items()}
    cut = json.dumps({**short, "_truncated": note}, ensure_ascii=ensure_ascii, default=str)
    if len(cut) <= MAX_PAYLOAD:
        return cut
    keep = {k: v for k, v in short.items() if k in ("platform", "repo_id", "org", "board",
                                                    "model", "url")}
    return json.dumps({**keep, "_truncated": note}, ensure_ascii=ensure_ascii, default=str)


def _shortened(value, limit: int = 500):
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}... [{len(value):,} characters]"
    if isinstance(value, (list, tuple)) and len(value) > 20:
        return [_shortened(v) for v in value[:20]] + [f"... [{len(value):,} entries]"]
    if isinstance(value, dict) and len(value) > 20:
        return {**{k: _shortened(v) for k, v in list(value.items())[:20]},
                "...": f"[{len(value):,} entries]"}
    return value


# --- the crawl lock ------------------------------------------------------------------------------
LOCK_HEARTBEAT = 30.0  # seconds between the heartbeats of a running crawl
LOCK_STALE_AFTER = 300.0  # a lock held elsewhere this long without a heartbeat is a dead crawl's


class ScopeLocked(StoreError):
    """Another crawl of the same spider and snapshot is running."""


class CrawlLock:
    """One crawl at a time per spider, snapshot and shard, held in the store itself (a
    ``crawl_locks`` row) so that it binds however a crawl is started: ``scrapy crawl``, scrapyd,
    crawlall, another JOBDIR, another machine sharing the store. Two crawls of one scope would
    otherwise each delete, at close, the rows the other wrote. Shards of the same N are
    disjoint and run side by side; an unsharded crawl, or a shard of another N, overlaps every
    shard (see ``shards.overlap``).

    The holder keeps a heartbeat. A lock whose holder is gone is taken over, so a killed crawl
    can be resumed: on this machine the holder is gone when its process is (pid and start
    time, so a reused pid does not count); from elsewhere, after ``stale_after`` seconds
    without a heartbeat."""

    def __init__(self, db: sqlite_utils.Database, spider: str, snapshot: str,
                 stale_after: float = LOCK_STALE_AFTER, shard: str = ""):
        self.db, self.spider, self.snapshot, self.stale_after = db, spider, snapshot, stale_after
        self.shard = shard
        self.pid = os.getpid()
        self.process = process_identity(self.pid) or ""
        self.host = socket.gethostname()

    @property
    def name(self) -> str:
        return scope_label(self.spider, self.snapshot, self.shard)

    def acquire(self) -> str | None:
        """Take the lock, or raise ScopeLocked naming its live holder. Returns a note when the
        lock of a crawl that is gone was taken over."""
        notes = []
        with write_transaction(self.db):
            for holder in self._holders():
                alive, why = self._alive(holder)
                what = _scope(holder)
                if alive:
                    raise ScopeLocked(f"{what} is being crawled by {_describe(holder)}; "
                                      f"not starting {self.name}")
                notes.append(f"took over the crawl lock of {what} from {_describe(holder)}: "
                             f"{why}")
                self.db.execute("DELETE FROM crawl_locks WHERE spider = ? AND snapshot = ? "
                                "AND shard = ?", [self.spider, self.snapshot, holder["shard"]])
            now = utc_now()
            self.db.execute(
                "INSERT OR REPLACE INTO crawl_locks (spider, snapshot, shard, crawl_id, host, pid, "
                "process, started_at, heartbeat_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                [self.spider, self.snapshot, self.shard, self.host, self.pid, self.process, now,
                 now])
        return "; ".join(notes) or None

    def claim(self, crawl_id: str) -> None:
        """Name the crawl holding the lock (its rows are then safe from other close-outs)."""
        self._update("crawl_id = ?", [crawl_id])

    def beat(self) -> None:
        """The heartbeat; raises ScopeLocked if another crawl took the lock over meanwhile."""
        self._update("heartbeat_at = ?", [utc_now()])

    def release(self) -> None:
        with write_transaction(self.db):
            self.db.execute(f"DELETE FROM crawl_locks WHERE {self._mine}", self._key)

    # --- holders -----------------------------------------------------------------------------
    _mine = "spider = ? AND snapshot = ? AND shard = ? AND pid = ? AND process = ? AND host = ?"

    @property
    def _key(self) -> list:
        return [self.spider, self.snapshot, self.shard, self.pid, self.process, self.host]

    def _update(self, assignment: str, params: list) -> None:
        with write_transaction(self.db):
            changed = self.db.execute(f"UPDATE crawl_locks SET {assignment} WHERE {self._mine}",
                                      [*params, *self._key]).rowcount
            if not changed:
                holder = next(iter(self._holders()), None)
                raise ScopeLocked(f"lost the crawl lock of {self.name} to "
                                  f"{_describe(holder) if holder else 'nobody'}")

    def _holders(self) -> list[dict]:
        """The locks of crawls that may write rows of this one's scope."""
        cursor = self.db.execute("SELECT * FROM crawl_locks WHERE spider = ? AND snapshot = ?",
                                 [self.spider, self.snapshot])
        names = [c[0] for c in cursor.description]
        held = [dict(zip(names, row)) for row in cursor.fetchall()]
        return [h for h in held if shards.overlap(h["shard"] or "", self.shard)]

    def _alive(self, holder: dict) -> tuple[bool, str]:
        """Whether the holder still runs, and why we think it does not."""
        here = self.process.rpartition(":")[0]
        if here and (holder["process"] or "").rpartition(":")[0] == here:  # this machine
            if process_identity(holder["pid"]) == holder["process"]:
                return True, ""
            return False, f"its process {holder['pid']} has ended"
        if holder["host"] == self.host and not _running(holder["pid"]):  # no /proc to ask
            return False, f"its process {holder['pid']} has ended"
        try:
            beat = dt.datetime.fromisoformat(holder["heartbeat_at"])
            silent = (dt.datetime.now(dt.timezone.utc) - beat).total_seconds()
        except (TypeError, ValueError):
            silent = float("inf")
        if silent < self.stale_after:
            return True, ""
        return False, f"no heartbeat for {silent:.0f}s"


def scope_label(spider: str, snapshot: str, shard: str | None) -> str:
    """What a crawl lock covers, as messages name it: ``spider snapshot[ shard I/N]``."""
    return f"{spider} {snapshot}" + (f" shard {shard}" if shard else "")


def _scope(holder: dict) -> str:
    return scope_label(holder["spider"], holder["snapshot"], holder["shard"])


def _describe(holder: dict) -> str:
    crawl = f"crawl {holder['crawl_id']}" if holder.get("crawl_id") else "a crawl starting"
    return (f"{crawl} (pid {holder['pid']} on {holder['host']}, since {holder['started_at']}, "
            f"last heartbeat {holder['heartbeat_at']})")


def _running(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError, TypeError):  # another user's process, or no pid at all
        return True
    return True


def process_identity(pid: int) -> str | None:
    """``boot id:pid namespace:start time`` of a running process (Linux), else None. Equal only
    for the same process: a pid reused after a reboot or by another process differs."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError, TypeError):
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # a zombie has ended, unreaped
        return None
    return f"{boot}:{namespace}:{fields[19]}"
