"""Resuming a JOBDIR crawl that was killed (SIGKILL, OOM, power loss) rather than stopped.

Scrapy's JOBDIR is written for a graceful stop: ``requests.seen`` grows as requests are
*scheduled*, while the queue's index and ``spider.state`` are saved only at close. After a
kill, the requests that were in flight (and every queued one) are marked seen but were never
answered, so a plain resume skips them and ends "finished" with rows missing.

So a running crawl keeps a marker in its JOBDIR (``osir-running.json``: its crawl id), removed
when the spider closes. A crawl that finds the marker knows its predecessor was killed: it
drops the unreliable request state, keeps the crawl id, and re-lists everything; items this
crawl id already stored are complete (the store writes an item only once its enrichment
chain is done), so they are skipped without detail requests. Rejects and failures of the
killed run are dropped and found again, except failures of the rows it stored.

The crawl run (osir_crawl/extensions/crawl_run.py) recovers the JOBDIR only once it holds the crawl lock
of its spider and snapshot (store.CrawlLock, taken over from the killed run): a second process
pointed at the JOBDIR of a crawl that is still running stops before touching it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sqlite_utils

from osir_crawl import store
from osir_crawl.items import key_of

MARKER = "osir-running.json"


def recover_killed_job(jobdir: str | None) -> str | None:
    """The crawl id of a killed run of this JOBDIR, after discarding its request state."""
    if not jobdir or not (marker := Path(jobdir, MARKER)).exists():
        return None
    try:
        crawl_id = json.loads(marker.read_text())["crawl_id"]
    except (ValueError, KeyError, TypeError):
        crawl_id = None  # a torn marker: start afresh, still without the stale request state
    Path(jobdir, "requests.seen").unlink(missing_ok=True)
    shutil.rmtree(Path(jobdir, "requests.queue"), ignore_errors=True)
    return crawl_id


def mark_running(jobdir: str | None, crawl_id: str) -> None:
    if jobdir:
        Path(jobdir).mkdir(parents=True, exist_ok=True)
        tmp = Path(jobdir, MARKER + ".tmp")
        tmp.write_text(json.dumps({"crawl_id": crawl_id}))
        tmp.replace(Path(jobdir, MARKER))  # atomic: never a torn marker


def mark_closed(jobdir: str | None) -> None:
    if jobdir:
        Path(jobdir, MARKER).unlink(missing_ok=True)


def stored_keys(db: sqlite_utils.Database, crawl_id: str, item_classes) -> set[tuple]:
    """(table, *key) of every record row the crawl already stored."""
    stored = set()
    for cls in item_classes:
        if cls.TABLE in db.table_names():
            columns = ", ".join(f"[{c}]" for c in cls.KEY)
            for row in db.execute(f"SELECT {columns} FROM [{cls.TABLE}] WHERE crawl_id = ?",
                                  [crawl_id]):
                stored.add(key_of(cls.TABLE, row))
    return stored


def prune_logs(db: sqlite_utils.Database, crawl_id: str, stored: set[tuple]) -> int:
    """Drop the killed run's rejects and the failures not tied to a row it stored (both come
    back when their pages are fetched again); returns the failures kept."""
    with store.write_transaction(db):  # the write lock first: other crawls may be writing
        db.execute("DELETE FROM rejects WHERE crawl_id = ?", [crawl_id])
        failures = db.execute("SELECT id, item_type, repo_id FROM failures WHERE crawl_id = ?",
                              [crawl_id]).fetchall()
        # (hub ids are folded to lower case in the keys: compare folded)
        stored_ids = {(table, str(key[-1]).lower()) for table, *key in stored}
        stale = [i for i, table, repo_id in failures
                 if (table, str(repo_id).lower()) not in stored_ids]
        for i in stale:
            db.execute("DELETE FROM failures WHERE id = ?", [i])
    return len(failures) - len(stale)
