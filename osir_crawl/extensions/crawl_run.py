"""The crawl run: one crawl's bookkeeping in the store, as a Scrapy extension.

:class:`CrawlRun` opens the store and takes the crawl lock of its spider, snapshot and shard
(store.CrawlLock) when Scrapy builds it, before any request and before the scheduler reads
the JOBDIR: a store that cannot be opened, or a scope another crawl is running, ends the
process with one line. It then names the crawl (a new id, or the id of the run it resumes,
gracefully stopped or killed: see osir_crawl/extensions/resume.py), keeps the lock's heartbeat, and at
close writes the crawl's outcome and removes the rows a complete crawl did not see again, in
one transaction. A store that fails at any point stops the crawl at once (``osir/fatal`` in
the stats, which makes ``scrapy crawl`` exit 1: see osir_crawl/commands/crawl.py).

The rows of the crawl are written by the store pipeline and the rejects recorder
(osir_crawl/pipelines/, BatchWriter), which the run flushes before it closes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import uuid

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from osir_crawl import shards, store
from osir_crawl.extensions import resume
from osir_crawl.items import RECORD_ITEMS, record_key
from osir_crawl.rules.eval_rules import OpenWeights
from osir_crawl.snapshots import check_snapshot

logger = logging.getLogger(__name__)
REPLAY_SNAPSHOT = "replay_snapshot"  # item attribute: the month a replayed record was published


class CrawlRun:
    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler, self.stats = crawler, crawler.stats
        self.path = settings.get("OSIR_DB")
        if not self.path:
            raise NotConfigured("OSIR_DB is empty")
        if crawler.spider is None:  # `scrapy shell` builds components before its spider
            raise NotConfigured("no spider: nothing to store")
        self.snapshot = self.crawl_snapshot()
        self.shard = shards.label(getattr(crawler.spider, "shard", None))  # "" unsharded
        self.universe = getattr(crawler.spider, "universe", None) or ""
        self.jobdir = settings.get("JOBDIR")
        self.crawl_id: str | None = None
        self.killed_crawl_id: str | None = None  # the killed run of the JOBDIR this one resumes
        self.stored_before_kill: set[tuple] = set()  # record keys a killed run of it stored
        self.started_at = store.utc_now()
        self.earlier: dict = {}  # a resumed crawl's figures from its earlier processes
        self.failed: str | None = None  # why the store cannot be written, once it cannot
        self.writers: list = []  # pipelines.BatchWriter: flushed at close, emptied on failure
        self.db, self.lock = self._open_and_lock()
        self.file_id = self._file_id()  # the store file opened: a deleted one is a store error
        self.jobdir_invalid: list[str] = []  # why a JOBDIR resume would not be exact
        self.heartbeat = LoopingCall(self._beat)
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def crawl_snapshot(self) -> str:
        """The snapshot of the crawl's lock and ``crawls`` row."""
        return self.crawler.settings.get("OSIR_SNAPSHOT")

    def snapshot_of(self, item) -> str:
        """The snapshot a row written for ``item`` belongs to."""
        return self.snapshot

    def _open_and_lock(self):
        spider, settings = self.crawler.spider, self.crawler.settings
        db = None
        try:
            check_snapshot(self.snapshot, "OSIR_SNAPSHOT")
            db = store.open_store(self.path)
            lock = store.CrawlLock(db, spider.name, self.snapshot, stale_after=settings.getfloat(
                "OSIR_LOCK_STALE_AFTER", store.LOCK_STALE_AFTER), shard=self.shard)
            if note := lock.acquire():
                logger.warning(note)
        except (ValueError, store.StoreError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            if isinstance(exc, sqlite3.Error):  # the lock could not be written
                exc = f"cannot write to the store {self.path}: {exc}"
            raise SystemExit(f"osir-crawl: {exc}") from None
        # Only now is the JOBDIR this crawl's to recover (see osir_crawl/extensions/resume.py).
        self.killed_crawl_id = resume.recover_killed_job(self.jobdir)
        return db, lock

    # --- opening -------------------------------------------------------------------------------
    def spider_opened(self, spider):
        with self.writing():
            self._start_crawl(spider)
        if not self.failed:
            self.heartbeat.start(self.crawler.settings.getfloat(
                "OSIR_LOCK_HEARTBEAT", store.LOCK_HEARTBEAT), now=False)

    def _start_crawl(self, spider):
        # After SpiderState has loaded spider.state, so a JOBDIR resume keeps its crawl id.
        state = getattr(spider, "state", None)
        if killed := self.killed_crawl_id:  # see osir_crawl/extensions/resume.py
            self.crawl_id = killed
            self._resume_counts(spider, killed=True)
        elif state is not None and state.get("osir_crawl_id"):
            self.crawl_id = state["osir_crawl_id"]
            self._resume_counts(spider, killed=False)
        else:
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            self.crawl_id = f"{spider.name}-{stamp}-{uuid.uuid4().hex[:6]}"
            if state is not None:
                state["osir_crawl_id"] = self.crawl_id
        self.lock.claim(self.crawl_id)
        self.stats.set_value("osir/crawl_id", self.crawl_id)
        store.record_crawl(self.db, {
            "crawl_id": self.crawl_id, "spider": spider.name, "snapshot": self.snapshot,
            "orgs": json.dumps(getattr(spider, "selected_orgs", None)),
            "shard": self.shard or None, "universe": self.universe or None,
            "started_at": self.started_at, "outcome": "running",
        })
        resume.mark_running(self.jobdir, self.crawl_id)

    def _resume_counts(self, spider, killed: bool):
        """A resumed crawl counts what it stored before; after a kill it also skips it."""
        self.stats.inc_value("osir/resumed")
        # The crawl's row keeps its first start and adds up every process's figures, so the
        # report shows the whole crawl, not the last process of it.
        earlier = self.db.execute(
            "SELECT started_at, requests, retries, rate_limited FROM crawls WHERE crawl_id = ?",
            [self.crawl_id]).fetchone()
        if earlier is not None:
            self.started_at = earlier[0] or self.started_at
            self.earlier = {"requests": earlier[1] or 0, "retries": earlier[2] or 0,
                            "rate_limited": earlier[3] or 0}
        stored = resume.stored_keys(self.db, self.crawl_id, RECORD_ITEMS)
        if killed:
            resume.prune_logs(self.db, self.crawl_id, stored)
            self.stored_before_kill = stored
            self.stats.set_value("osir/resume/kept_rows", len(stored))
        where = ("crawl_id = ?", [self.crawl_id])
        self.stats.set_value("osir/stored", len(stored))
        self.stats.set_value("osir/rejected", store.count_rows(self.db, "rejects", *where))
        self.stats.set_value("osir/failed_requests", store.count_rows(self.db, "failures", *where))

    # --- during the crawl ----------------------------------------------------------------------
    def _file_id(self):
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def check_file(self):
        """The store file is still the one opened: SQLite goes on writing to a deleted (or
        replaced) file's open descriptor, and the crawl's rows would vanish with it."""
        if self._file_id() != self.file_id:
            raise store.StoreError(f"the store {self.path} was deleted or replaced during the "
                                   "crawl: its rows are lost")

    def invalidate_jobdir(self, why: str):
        """A resume of this JOBDIR would skip requests whose rows were lost (a store error,
        requests abandoned in a shutdown): it is left marked as killed, so the next run of it
        re-lists everything and skips only the rows stored (osir_crawl/extensions/resume.py)."""
        if self.jobdir and why not in self.jobdir_invalid:
            self.jobdir_invalid.append(why)

    def was_stored_before_kill(self, item) -> bool:
        """Whether the killed run this crawl resumes stored ``item`` (complete): the spider
        asks before fetching its details again, the store pipeline before writing it."""
        return bool(self.stored_before_kill) and record_key(item) in self.stored_before_kill

    def open_weights(self, access=()) -> OpenWeights:
        """The store's hub models up to this snapshot, against which a board spider resolves
        whether a model has open weights: spiders ask the run, which alone reads the store."""
        return OpenWeights.from_conn(self.db.conn, self.snapshot, access)

    def _beat(self):
        with self.writing():
            self.lock.beat()

    @contextlib.contextmanager
    def writing(self):
        """Store work; a failure of the store itself (not of a row) stops the crawl at once,
        with one line, and ``scrapy crawl`` exits 1 (osir_crawl/commands/crawl.py)."""
        try:
            self.check_file()
            yield
        except Exception as exc:
            if not store.store_failure(exc):
                raise
            if self.db.conn.in_transaction:
                self.db.conn.rollback()
            if self.failed:
                return
            self.failed = str(exc) if isinstance(exc, store.StoreError) else (
                f"cannot write to the store {self.path}: {exc}")
            for writer in self.writers:  # rows are lost now: the crawl ends as store_error
                writer.buffers.clear()
            self.invalidate_jobdir("the store failed")
            self.stats.set_value("osir/fatal", self.failed)
            logger.error(self.failed)
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                deferred_from_coro(engine.close_spider_async(reason="store_error"))

    # --- closing -------------------------------------------------------------------------------
    def spider_closed(self, spider, reason):
        if self.heartbeat.running:
            self.heartbeat.stop()
        with self.writing():
            if self.crawl_id is not None:
                self._close_crawl(spider, reason)
            else:  # stopped before it began
                self.lock.release()
        self.db.close()

    def _close_crawl(self, spider, reason):
        for writer in self.writers:  # rows signalled after the pipelines closed (drops)
            writer.flush_all()
        stats = self.stats.get_stats()
        failed = stats.get("osir/failed_requests", 0)
        outcome = reason if reason != "finished" else ("finished" if not failed else "incomplete")
        if self.failed:  # rows were lost on the way: never a complete crawl
            outcome = "store_error"
        self.stats.set_value("osir/outcome", outcome)  # the exit status (commands/crawl.py)
        # One transaction: readers see the old snapshot and crawl rows, or the new ones.
        self.db.execute("BEGIN IMMEDIATE")  # see store.write_transaction
        stale = self._remove_stale(spider) if outcome == "finished" else 0
        finished_at = store.utc_now()
        store.record_crawl(self.db, {
            "crawl_id": self.crawl_id, "finished_at": finished_at, "finish_reason": reason,
            "outcome": outcome, "items": stats.get("osir/stored", 0),
            "rejected": stats.get("osir/rejected", 0),
            "duplicates": stats.get("osir/duplicates", 0), "failed_requests": failed,
            "retries": stats.get("retry/count", 0) + self.earlier.get("retries", 0),
            "rate_limited": (stats.get("osir/rate_limit/responses", 0)
                             + self.earlier.get("rate_limited", 0)),
            "requests": (stats.get("downloader/request_count", 0)
                         + self.earlier.get("requests", 0)), "stale_removed": stale,
            "stats": json.dumps({**stats, "finish_reason": reason, "finish_time": finished_at},
                                default=str, sort_keys=True),
        })
        self.lock.release()
        self.check_file()  # before the commit: a deleted store is never "finished"
        self.db.commit()
        if self.jobdir_invalid:
            logger.warning("JOBDIR %s is left to be recovered as a killed crawl's (%s): a "
                           "resume re-lists everything and skips the rows stored",
                           self.jobdir, "; ".join(self.jobdir_invalid))
        else:
            resume.mark_closed(self.jobdir)
        summary = (f"crawl {self.crawl_id} {outcome}: {stats.get('osir/stored', 0)} stored, "
                   f"{stats.get('osir/rejected', 0)} rejected, "
                   f"{stats.get('osir/duplicates', 0)} duplicates, {failed} failed requests "
                   f"-> {self.path}")
        (logger.info if outcome == "finished" else logger.warning)("%s", summary)
        self.stats.set_value("osir/summary", summary)  # `scrapy crawl` repeats it last

    def _remove_stale(self, spider) -> int:
        """A complete crawl replaces its snapshot within its scope; a partial one only adds."""
        stale = 0
        for table, scopes in spider.store_scope().items():
            for scope in scopes if isinstance(scopes, list) else [scopes]:
                stale += store.remove_stale_rows(self.db, table, self.snapshot, self.crawl_id,
                                                 store_conditions(scope))
        store.supersede_logs(self.db, spider.name, self.snapshot, self.crawl_id, self.shard,
                             self.universe)
        if stale:
            self.stats.set_value("osir/store/stale_removed", stale)
        return stale


def store_conditions(scope: dict) -> dict:
    """A spider's scope (OsirSpider.store_scope: plain data) as the store's conditions."""
    return {column: store.InShard(value) if isinstance(value, shards.Shard)
            else store.StartsWith(value["prefix"]) if isinstance(value, dict) else value
            for column, value in scope.items()}


class ReplayCrawlRun(CrawlRun):
    """The run of ``legacy_import``: each row is stamped with the month it was published in
    (the item's ``replay_snapshot``); the lock and ``crawls`` row carry the latest month."""

    def crawl_snapshot(self) -> str:
        return self.crawler.spider.months[-1]

    def snapshot_of(self, item) -> str:
        return getattr(item, REPLAY_SNAPSHOT, None) or self.snapshot
