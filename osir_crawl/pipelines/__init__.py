"""Item pipelines, one concern each: dedup (300), validate (400), store (900), rejects (950).

Dedup runs first so a record repeated across pages is rejected (if invalid) only once.

Each counts what it changed or dropped in Scrapy stats under ``osir/``. Invalid items are
dropped with :class:`InvalidItem`; the rejects recorder hears the drop (``item_dropped``) and
writes the item to ``rejects`` with its reason, so nothing a spider saw is silently lost; an
item of a type no table stores is a reject too (``osir/rejected/unknown_item_type``). The
store pipeline and the rejects recorder (each a :class:`BatchWriter`) write through the crawl
run (osir_crawl/extensions/crawl_run.py), which names the crawl, records its outcome and flushes them.
"""

from __future__ import annotations

import dataclasses
import functools
import logging

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from osir_crawl import store
from osir_crawl.extensions.crawl_run import REPLAY_SNAPSHOT, CrawlRun
from osir_crawl.items import RECORD_ITEMS, RequestFailure, record_key
from osir_crawl.pipelines.validation import problems

logger = logging.getLogger(__name__)


class InvalidItem(DropItem):
    """An item that failed validation; it goes to ``rejects``."""

    def __init__(self, reason: str):
        super().__init__(reason, log_level="INFO")


class DuplicateItem(DropItem):
    def __init__(self, reason: str):
        super().__init__(reason, log_level="DEBUG")


class _Component:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


class ValidatePipeline(_Component):
    """Required fields, types, non-negative counts. Failing items are dropped as InvalidItem."""

    def process_item(self, item):
        if not isinstance(item, RECORD_ITEMS):
            return item
        found = problems(item, getattr(self.crawler.spider, "registry", None))
        if found:
            self.stats.inc_value("osir/rejected")
            self.stats.inc_value(f"osir/rejected/{item.TABLE}")
            raise InvalidItem("; ".join(found))
        self.stats.inc_value("osir/validated")
        return item


class DedupPipeline(_Component):
    """One row per (table, key) per crawl: later copies (a row repeated across pages) drop.
    Items without a usable key pass on, for validation to reject with a reason."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.seen: set[tuple] = set()

    def process_item(self, item):
        if not isinstance(item, RECORD_ITEMS):
            return item
        key = record_key(item)
        if not all(isinstance(part, str) and part for part in key):
            return item
        if key in self.seen:
            self.stats.inc_value("osir/duplicates")
            self.stats.inc_value(f"osir/duplicates/{item.TABLE}")
            raise DuplicateItem(f"duplicate of {'/'.join(map(str, key))} in this crawl")
        self.seen.add(key)
        return item


class ReplayDedupPipeline(DedupPipeline):
    """Dedup within one month of ``legacy_import``: the same repo in two months is two
    snapshots (the item's ``replay_snapshot``), not a duplicate."""

    month = None

    def process_item(self, item):
        month = getattr(item, REPLAY_SNAPSHOT, None)
        if month != self.month:
            self.month = month
            self.seen.clear()
        return super().process_item(item)


class BatchWriter:
    """Rows batched per table, each batch written in one transaction through the crawl run. A
    row SQLite cannot take (an integer past 64 bits, a lone surrogate) must not take its whole
    batch with it: the batch is written again row by row, and :meth:`unstorable` decides."""

    def __init__(self, crawler):
        self.crawler, self.stats = crawler, crawler.stats
        self.run = crawler.get_extension(CrawlRun)
        if self.run is None:
            raise NotConfigured("no CrawlRun extension: nothing to store")
        self.batch_size = crawler.settings.getint("OSIR_STORE_BATCH_SIZE", 500)
        self.buffers: dict[str, list[dict]] = {}
        self.run.writers.append(self)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def buffer(self, table: str, row: dict):
        rows = self.buffers.setdefault(table, [])
        rows.append(row)
        if len(rows) >= self.batch_size:
            self.flush(table)

    def flush_all(self):
        for table in list(self.buffers):
            self.flush(table)

    def close_spider(self):  # Scrapy's pipeline hook; drops signalled later: the run flushes
        self.flush_all()

    def flush(self, table: str):
        rows = self.buffers.pop(table, [])
        with self.run.writing():
            self._write_batch(table, rows)
        self.stats.inc_value("osir/store/batches")

    def _write_batch(self, table: str, rows: list[dict]):
        try:
            store.write_rows(self.run.db, table, rows)
        except store.ROW_ERRORS as exc:
            logger.warning("a batch of %d %s rows failed (%s): writing them one by one",
                           len(rows), table, type(exc).__name__)
            for row in rows:
                try:
                    store.write_rows(self.run.db, table, [row])
                except store.ROW_ERRORS as row_exc:
                    self.stats.inc_value("osir/store/unstorable")
                    self.unstorable(table, row, unstorable_reason(row, row_exc))

    def unstorable(self, table: str, row: dict, reason: str):
        """A log row must be kept: with what SQLite cannot hold made printable."""
        store.write_rows(self.run.db, table, [escaped(row)])


def unstorable_reason(row: dict, exc: Exception) -> str:
    for name, value in row.items():
        if isinstance(value, str) and not _encodable(value):
            return f"{name} is not valid Unicode (it holds a lone surrogate)"
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            return f"{name} is {value}: too large to store"
    return f"could not be stored: {type(exc).__name__}: {exc}"[:500]


def escaped(row: dict) -> dict:
    """The row with what SQLite cannot hold made printable."""
    return {k: v.encode("utf-8", "backslashreplace").decode() if isinstance(v, str)
            else str(v) if isinstance(v, int) and not -(2**63) <= v < 2**63 else v
            for k, v in row.items()}


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def fields_of(item) -> dict:
    """An item's fields, not copied: ``dataclasses.asdict`` deep-copies every list and dict, a
    quarter of the store pipeline's time per item, and the row turns them into JSON anyway."""
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}


class StorePipeline(BatchWriter):
    """Writes records and request failures to the store in batches (see crawl_run.py). A record
    the store cannot take is counted as stored no more and goes to the rejects recorder, as
    does an item of a type no table stores (named in its reason)."""

    def process_item(self, item):
        if self.run.failed:
            return item  # the crawl is stopping: the store cannot take it
        if isinstance(item, RequestFailure):
            self.stats.inc_value("osir/failed_requests")
            row = fields_of(item)
            row.update(crawl_id=self.run.crawl_id, spider=self.crawler.spider.name,
                       snapshot=self.run.snapshot_of(item), failed_at=store.utc_now())
            self.buffer("failures", row)
        elif isinstance(item, RECORD_ITEMS):
            if self.run.was_stored_before_kill(item):
                return item  # stored before the crawl was killed; counted already
            stamp = {"snapshot": self.run.snapshot_of(item), "crawl_id": self.run.crawl_id,
                     "fetched_at": store.utc_now()}
            self.buffer(item.TABLE, store.to_row(fields_of(item), stamp))
            self.stats.inc_value("osir/stored")
            self.stats.inc_value(f"osir/stored/{item.TABLE}")
        else:  # no table stores it: a reject with the reason, never passed on unseen
            self.stats.inc_value("osir/rejected/unknown_item_type")
            self.rejects.record_unknown(item)
        return item

    def flush(self, table: str):
        if table in store.RECORD_TABLES and self.buffers.get("failures"):
            # An item is yielded after its failed detail requests: their rows go to disk
            # first, so a crawl killed in between never keeps the row without its failures
            # (a resume skips the rows it stored: their failures would not come back).
            self.flush("failures")
        super().flush(table)

    def unstorable(self, table: str, row: dict, reason: str):
        if table not in store.RECORD_TABLES:
            return super().unstorable(table, row, reason)
        self.stats.inc_value("osir/stored", -1)  # counted as stored; it is a reject after all
        self.stats.inc_value(f"osir/stored/{table}", -1)
        self.rejects.record_unstorable(table, row, reason)

    @functools.cached_property
    def rejects(self) -> RejectsRecorder:
        recorder = self.crawler.get_item_pipeline(RejectsRecorder)
        if recorder is None:
            raise RuntimeError("ITEM_PIPELINES lacks osir_crawl.pipelines.RejectsRecorder")
        return recorder


class RejectsRecorder(BatchWriter):
    """Writes to ``rejects`` the items validation dropped (heard from Scrapy's ``item_dropped``)
    and the records the store could not take, each with its reason. It processes no items."""

    def __init__(self, crawler):
        super().__init__(crawler)
        crawler.signals.connect(self.item_dropped, signals.item_dropped)

    def item_dropped(self, item, response, exception, spider):
        if not isinstance(exception, InvalidItem) or self.run.failed:
            return
        fields = dataclasses.asdict(item) if dataclasses.is_dataclass(item) else dict(item)
        self.buffer("rejects", self._reject(
            self.run.snapshot_of(item), getattr(item, "TABLE", type(item).__name__), fields,
            str(exception), fields.get("url") or (response.url if response else None),
            store.reject_payload(fields)))

    def record_unknown(self, item):
        """An item of a type no table stores (a spider yielding something new): a reject."""
        self.stats.inc_value("osir/rejected")
        kind = type(item).__name__
        if dataclasses.is_dataclass(item):
            fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
        elif isinstance(item, dict):
            fields = dict(item)
        else:
            fields = {"repr": repr(item)}
        reason = (f"unknown item type {kind}: no store table takes it (osir_crawl/items.py "
                  f"RECORD_ITEMS)")
        self.buffer("rejects", self._reject(
            self.run.snapshot_of(item), kind, fields, reason, fields.get("url"),
            store.reject_payload(fields)))

    def record_unstorable(self, table: str, row: dict, reason: str):
        """A record row SQLite refused, written at once (its batch is being written)."""
        self.stats.inc_value("osir/rejected")
        reject = self._reject(row["snapshot"], table, row, reason, row.get("url"),
                              store.reject_payload(row, ensure_ascii=True))  # always storable
        store.write_rows(self.run.db, "rejects", [escaped(reject)])

    def _reject(self, snapshot: str, item_type: str, fields: dict, reason: str, url,
                payload: str) -> dict:
        return {
            "crawl_id": self.run.crawl_id, "spider": self.crawler.spider.name,
            "snapshot": snapshot, "item_type": item_type,
            "repo_id": _text(fields.get("repo_id") or fields.get("model")), "reason": reason,
            "payload": payload, "url": _text(url), "rejected_at": store.utc_now(),
        }


def _text(value) -> str | None:
    return None if value is None else str(value)
