"""The crawl run, the store pipeline and the rejects recorder, built with Scrapy's get_crawler
and driven by hand: no crawl, no network, milliseconds."""

import json
import sqlite3

import pytest
import scrapy
from scrapy.core.engine import ExecutionEngine
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from osir_crawl.extensions import resume
from osir_crawl.extensions.crawl_run import CrawlRun, ReplayCrawlRun
from osir_crawl.items import ModelItem, RequestFailure
from osir_crawl.pipelines import (DuplicateItem, InvalidItem, RejectsRecorder, StorePipeline)

SNAPSHOT = "2025-09-07"
PIPELINES = {"osir_crawl.pipelines.StorePipeline": 900,
             "osir_crawl.pipelines.RejectsRecorder": 950}


class StoreSpider(scrapy.Spider):
    name = "store_test"
    selected_orgs = ["Org-A"]

    def store_scope(self):
        return {"models": {"platform": "huggingface", "org": self.selected_orgs}}


def model(name: str, **fields) -> ModelItem:
    return ModelItem(platform="huggingface", repo_id=f"acct-a/{name}", org="Org-A",
                     owner="acct-a", name=name, url=f"https://huggingface.co/acct-a/{name}",
                     **fields)


class Crawl:
    """One crawl's run, store pipeline and rejects recorder, as Scrapy builds them."""

    def __init__(self, db, run_class=CrawlRun, spider_class=StoreSpider, state=None,
                 **settings):
        self.crawler = get_crawler(spider_class, {
            "OSIR_DB": str(db), "OSIR_SNAPSHOT": SNAPSHOT, "OSIR_STORE_BATCH_SIZE": 2,
            "ITEM_PIPELINES": PIPELINES, **settings})
        self.spider = self.crawler.spider = spider_class.from_crawler(self.crawler)
        if state is not None:
            self.spider.state = state  # as SpiderState loads it from the JOBDIR
        self.run = run_class.from_crawler(self.crawler)  # an extension: before the pipelines
        extensions = self.crawler.extensions
        extensions.middlewares = (*extensions.middlewares, self.run)
        self.crawler.engine = ExecutionEngine(self.crawler, lambda _: None)
        self.store = self.crawler.get_item_pipeline(StorePipeline)
        self.rejects = self.crawler.get_item_pipeline(RejectsRecorder)
        self.stats = self.crawler.stats
        self.run.spider_opened(self.spider)

    def close(self, reason="finished"):
        self.store.close_spider()
        self.rejects.close_spider()
        self.run.spider_closed(self.spider, reason)


def rows(db, sql, params=()):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def test_records_are_written_in_batches_with_the_crawl_stamp_and_the_outcome(tmp_path):
    db = tmp_path / "osir.db"
    crawl = Crawl(db)
    for name in ("m1", "m2", "m3"):
        crawl.store.process_item(model(name, downloads=10))
    assert len(rows(db, "SELECT * FROM models")) == 2  # one batch of two; one row buffered
    crawl.close()
    models = rows(db, "SELECT * FROM models ORDER BY repo_id")
    assert [m["repo_id"] for m in models] == ["acct-a/m1", "acct-a/m2", "acct-a/m3"]
    assert {(m["snapshot"], m["crawl_id"]) for m in models} == {(SNAPSHOT, crawl.run.crawl_id)}
    [run] = rows(db, "SELECT * FROM crawls")
    assert run["outcome"] == "finished" and run["items"] == 3 and run["orgs"] == '["Org-A"]'
    assert json.loads(run["stats"])["osir/store/batches"] == 2
    assert not rows(db, "SELECT * FROM crawl_locks")  # released


def test_a_failure_goes_to_disk_before_the_record_it_was_enriching(tmp_path):
    db = tmp_path / "osir.db"
    crawl = Crawl(db, OSIR_STORE_BATCH_SIZE=1000)
    crawl.store.process_item(RequestFailure(url="https://huggingface.co/api/x", reason="HTTP 500",
                                            status=500, item_type="models",
                                            repo_id="acct-a/m1"))
    crawl.store.process_item(model("m1"))
    crawl.store.flush("models")  # a batch of records: its failures first
    assert [f["repo_id"] for f in rows(db, "SELECT * FROM failures")] == ["acct-a/m1"]
    crawl.close()
    [run] = rows(db, "SELECT * FROM crawls")
    assert run["outcome"] == "incomplete" and run["failed_requests"] == 1


def test_an_unstorable_record_becomes_a_reject_and_its_batch_is_kept(tmp_path):
    db = tmp_path / "osir.db"
    crawl = Crawl(db)
    crawl.store.process_item(model("fine", downloads=5))
    crawl.store.process_item(model("huge", downloads=2**70))  # past SQLite's 64 bits
    crawl.close()
    assert [m["repo_id"] for m in rows(db, "SELECT * FROM models")] == ["acct-a/fine"]
    [reject] = rows(db, "SELECT * FROM rejects")
    assert reject["repo_id"] == "acct-a/huge" and reject["item_type"] == "models"
    assert reject["reason"] == f"downloads is {2**70}: too large to store"
    assert str(2**70) in reject["payload"] and reject["snapshot"] == SNAPSHOT
    stats = crawl.stats
    assert stats.get_value("osir/stored") == 1 and stats.get_value("osir/stored/models") == 1
    assert stats.get_value("osir/rejected") == 1
    assert stats.get_value("osir/store/unstorable") == 1
    [run] = rows(db, "SELECT * FROM crawls")
    assert (run["items"], run["rejected"]) == (1, 1)


def test_invalid_drops_are_recorded_and_duplicates_are_not(tmp_path):
    db = tmp_path / "osir.db"
    crawl = Crawl(db)
    crawl.rejects.item_dropped(model("bad", downloads=-1), None,
                               InvalidItem("downloads is negative (-1)"), crawl.spider)
    crawl.rejects.item_dropped(model("twice"), None, DuplicateItem("duplicate"), crawl.spider)
    crawl.close()
    [reject] = rows(db, "SELECT * FROM rejects")
    assert reject["repo_id"] == "acct-a/bad" and reject["reason"] == "downloads is negative (-1)"
    assert reject["url"] == "https://huggingface.co/acct-a/bad"
    assert reject["crawl_id"] == crawl.run.crawl_id and reject["spider"] == "store_test"


def test_a_drop_signalled_after_the_pipelines_closed_is_still_recorded(tmp_path):
    db = tmp_path / "osir.db"
    crawl = Crawl(db)
    crawl.store.close_spider()
    crawl.rejects.close_spider()
    crawl.rejects.item_dropped(model("late", likes="many"), None, InvalidItem("likes"),
                               crawl.spider)
    crawl.run.spider_closed(crawl.spider, "finished")  # the run flushes every writer first
    assert [r["repo_id"] for r in rows(db, "SELECT * FROM rejects")] == ["acct-a/late"]


def test_a_complete_crawl_removes_what_it_did_not_see_again_and_a_partial_one_does_not(
        tmp_path):
    db = tmp_path / "osir.db"
    first = Crawl(db)
    for name in ("kept", "gone"):
        first.store.process_item(model(name))
    first.close()
    partial = Crawl(db)
    partial.store.process_item(model("kept"))
    partial.close(reason="shutdown")
    assert {m["repo_id"] for m in rows(db, "SELECT * FROM models")} == {
        "acct-a/kept", "acct-a/gone"}
    complete = Crawl(db)
    complete.store.process_item(model("kept"))
    complete.close()
    assert [m["repo_id"] for m in rows(db, "SELECT * FROM models")] == ["acct-a/kept"]
    runs = {r["crawl_id"]: r for r in rows(db, "SELECT * FROM crawls")}
    assert runs[complete.run.crawl_id]["stale_removed"] == 1
    assert runs[partial.run.crawl_id]["outcome"] == "shutdown"


def test_a_killed_crawl_resumes_with_its_id_and_skips_what_it_stored(tmp_path):
    db, jobdir = tmp_path / "osir.db", tmp_path / "job"
    killed = Crawl(db, JOBDIR=str(jobdir))
    killed.store.process_item(model("m1"))
    killed.store.process_item(model("m2"))  # a full batch: on disk
    killed.run.db.close()  # killed: no close, the marker stays; its lock goes silent
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE crawl_locks SET host = 'elsewhere', process = 'other:1:1', "
                     "heartbeat_at = '2000-01-01T00:00:00+00:00'")
    assert (jobdir / resume.MARKER).exists()
    resumed = Crawl(db, JOBDIR=str(jobdir))
    assert resumed.run.crawl_id == killed.run.crawl_id
    assert resumed.run.stored_before_kill == {("models", "huggingface", "acct-a/m1"),
                                     ("models", "huggingface", "acct-a/m2")}
    assert resumed.stats.get_value("osir/resume/kept_rows") == 2
    resumed.store.process_item(model("m1"))  # stored before the kill: skipped, not counted
    resumed.store.process_item(model("m3"))
    resumed.close()
    [run] = rows(db, "SELECT * FROM crawls")
    assert run["items"] == 3 and run["outcome"] == "finished"
    assert not (jobdir / resume.MARKER).exists()


def test_a_gracefully_stopped_crawl_resumes_with_its_id_and_counts_what_it_stored(tmp_path):
    db = tmp_path / "osir.db"
    stopped = Crawl(db, state={})  # Scrapy's SpiderState: the run puts its id in it
    stopped.store.process_item(model("m1"))
    stopped.close(reason="shutdown")
    resumed = Crawl(db, state=dict(stopped.spider.state))
    assert resumed.run.crawl_id == stopped.run.crawl_id == stopped.spider.state["osir_crawl_id"]
    assert resumed.stats.get_value("osir/resumed") == 1
    assert resumed.stats.get_value("osir/stored") == 1  # counted from the store
    assert not resumed.run.stored_before_kill  # nothing is skipped: the JOBDIR queue is intact
    resumed.store.process_item(model("m2"))
    resumed.close()
    [run] = rows(db, "SELECT * FROM crawls")
    assert (run["outcome"], run["items"]) == ("finished", 2)


def test_a_replay_stamps_each_row_with_its_month_and_runs_under_the_latest(tmp_path):
    class ReplaySpider(StoreSpider):
        name = "replay_test"
        months = ["2025-08-07", SNAPSHOT]

    db = tmp_path / "osir.db"
    crawl = Crawl(db, run_class=ReplayCrawlRun, spider_class=ReplaySpider,
                  OSIR_SNAPSHOT="2030-01-01")
    august = model("m1")
    august.replay_snapshot = "2025-08-07"
    crawl.store.process_item(august)
    crawl.rejects.item_dropped(august, None, InvalidItem("x"), crawl.spider)
    crawl.store.process_item(model("m2"))  # no month: the run's
    crawl.close()
    assert {(m["repo_id"], m["snapshot"]) for m in rows(db, "SELECT * FROM models")} == {
        ("acct-a/m1", "2025-08-07"), ("acct-a/m2", SNAPSHOT)}
    assert rows(db, "SELECT snapshot FROM rejects") == [{"snapshot": "2025-08-07"}]
    assert rows(db, "SELECT snapshot FROM crawls") == [{"snapshot": SNAPSHOT}]


def test_without_a_store_or_a_spider_nothing_is_built(tmp_path):
    with pytest.raises(NotConfigured):
        CrawlRun.from_crawler(get_crawler(StoreSpider, {"OSIR_DB": ""}))
    with pytest.raises(NotConfigured):  # `scrapy shell`: no spider yet
        CrawlRun.from_crawler(get_crawler(StoreSpider, {"OSIR_DB": str(tmp_path / "x.db")}))
    with pytest.raises(NotConfigured):  # a writer needs the crawl run
        StorePipeline.from_crawler(get_crawler(StoreSpider))


def test_an_item_of_a_type_no_table_stores_is_a_reject_with_its_reason(tmp_path):
    """A spider yielding a new kind of item (a dict, a dataclass outside RECORD_ITEMS) must
    not see it pass through unstored and untraced."""
    from dataclasses import dataclass

    @dataclass
    class Novel:
        url: str
        value: int

    db = tmp_path / "osir.db"
    crawl = Crawl(db)
    crawl.store.process_item(model("fine"))
    crawl.store.process_item(Novel(url="https://example.org/x", value=3))
    crawl.store.process_item({"repo_id": "acct-a/d", "stars": 1})
    crawl.close()
    rejects = rows(db, "SELECT * FROM rejects ORDER BY rowid")
    assert [(r["item_type"], r["reason"]) for r in rejects] == [
        ("Novel", "unknown item type Novel: no store table takes it (osir_crawl/items.py "
                  "RECORD_ITEMS)"),
        ("dict", "unknown item type dict: no store table takes it (osir_crawl/items.py "
                 "RECORD_ITEMS)")]
    assert rejects[0]["url"] == "https://example.org/x" and rejects[1]["repo_id"] == "acct-a/d"
    assert json.loads(rejects[0]["payload"]) == {"url": "https://example.org/x", "value": 3}
    assert crawl.stats.get_value("osir/rejected/unknown_item_type") == 2
    assert crawl.stats.get_value("osir/stored") == 1
    [run] = rows(db, "SELECT * FROM crawls")
    assert (run["items"], run["rejected"]) == (1, 2)
