"""Shards: a deterministic split (stable across processes, machines and Python's hash salt),
crawl locks and stale-row removal scoped to one shard."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from osir_crawl import shards, store
from tests.conftest import ROOT, async_test

SNAPSHOT = "2031-03-07"


@pytest.mark.slow  # interpreters of their own: a hash seed each
def test_the_split_is_stable_case_blind_and_covers_every_key():
    keys = [f"author-{i}/model-{i}" for i in range(2000)]
    of = {k: shards.shard_of(k, 4) for k in keys}
    assert set(of.values()) == {1, 2, 3, 4}
    assert all(400 < list(of.values()).count(i) < 600 for i in range(1, 5))  # balanced
    assert shards.shard_of("BAAI", 4) == shards.shard_of("baai", 4)  # accounts are case-blind
    assert [shards.Shard(i, 4).owns("BAAI/bge-m3") for i in range(1, 5)].count(True) == 1
    # Another process with another hash salt computes the same partition.
    code = ("from osir_crawl import shards; "
            "print([shards.shard_of(f'author-{i}/model-{i}', 4) for i in range(2000)])")
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        assert out.stdout.strip() == str([of[k] for k in keys])


def test_shard_arguments():
    assert shards.Shard.parse("2/4") == shards.Shard(2, 4) and str(shards.Shard(2, 4)) == "2/4"
    assert shards.Shard.parse("") is None and shards.Shard.parse(None) is None
    for bad in ("0/4", "5/4", "2", "a/b", "2/0"):
        with pytest.raises(ValueError, match="shard"):
            shards.Shard.parse(bad)
    assert not shards.overlap("1/2", "2/2")
    assert shards.overlap("1/2", "1/2") and shards.overlap("", "1/2")
    assert shards.overlap("1/2", "1/4")  # other splits cut across


def test_locks_of_disjoint_shards_coexist_and_overlapping_ones_exclude(tmp_path):
    db = store.open_store(tmp_path / "osir.db")
    first = store.CrawlLock(db, "huggingface_models", SNAPSHOT, shard="1/2")
    second = store.CrawlLock(db, "huggingface_models", SNAPSHOT, shard="2/2")
    first.acquire()
    second.acquire()
    for shard in ("", "1/2", "3/4"):
        with pytest.raises(store.ScopeLocked, match="shard 1/2 is being crawled"):
            store.CrawlLock(db, "huggingface_models", SNAPSHOT, shard=shard).acquire()
    first.release()
    second.release()
    whole = store.CrawlLock(db, "huggingface_models", SNAPSHOT)
    whole.acquire()
    with pytest.raises(store.ScopeLocked, match=r"huggingface_models 2031-03-07 is being"):
        store.CrawlLock(db, "huggingface_models", SNAPSHOT, shard="2/2").acquire()


def test_a_shard_removes_stale_rows_of_its_own_partition_only(tmp_path):
    db = store.open_store(tmp_path / "osir.db")
    owners = [f"acct{i}" for i in range(40)]
    store.write_rows(db, "models", [store.to_row(
        {"platform": "huggingface", "repo_id": f"{o}/m", "org": "A", "owner": o, "name": "m",
         "url": "u"}, {"snapshot": SNAPSHOT, "crawl_id": "earlier", "fetched_at": "t"})
        for o in owners])
    mine = shards.Shard(1, 2)
    scope = {"platform": "huggingface", "org": ["A"], "owner": store.InShard(mine)}
    removed = store.remove_stale_rows(db, "models", SNAPSHOT, "now", scope)
    left = [r["owner"] for r in db.query("SELECT owner FROM models")]
    assert removed == sum(mine.owns(o) for o in owners) and 0 < removed < 40
    assert left == [o for o in owners if not mine.owns(o)]
    prefixed = {"platform": "huggingface", "org": store.StartsWith("huggingface:")}
    assert store.remove_stale_rows(db, "models", SNAPSHOT, "now", prefixed) == 0


def test_logs_are_superseded_only_within_what_a_crawl_covers(tmp_path):
    db = store.open_store(tmp_path / "osir.db")
    for crawl_id, shard, universe in (("s1", "1/2", "registry"), ("s2", "2/2", "registry"),
                                      ("all", "", "all")):
        store.record_crawl(db, {"crawl_id": crawl_id, "spider": "x", "snapshot": SNAPSHOT,
                                "shard": shard or None, "universe": universe})
        store.write_rows(db, "failures", [{"crawl_id": crawl_id, "spider": "x",
                                           "snapshot": SNAPSHOT, "url": "u", "reason": "r"}])
    store.record_crawl(db, {"crawl_id": "s1b", "spider": "x", "snapshot": SNAPSHOT,
                            "shard": "1/2", "universe": "registry"})
    assert store.supersede_logs(db, "x", SNAPSHOT, "s1b", "1/2", "registry") == 1  # s1 only
    assert {r["crawl_id"] for r in db.query("SELECT crawl_id FROM failures")} == {"s2", "all"}
    store.record_crawl(db, {"crawl_id": "r", "spider": "x", "snapshot": SNAPSHOT,
                            "universe": "registry"})
    assert store.supersede_logs(db, "x", SNAPSHOT, "r", "", "registry") == 1  # not universe's
    assert {r["crawl_id"] for r in db.query("SELECT crawl_id FROM failures")} == {"all"}


@async_test
async def test_every_spider_splits_its_start_requests_among_shards(monkeypatch):
    """``-a shard=I/N`` on every spider of ``scrapy list`` (the shipped registry): the shards'
    start requests are disjoint and together the unsharded crawl's; a spider reading one
    indivisible thing (a board, BAAI's platform, the replay) runs in exactly one shard."""
    import functools

    from scrapy.crawler import Crawler
    from scrapy.spiderloader import get_spider_loader
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.project import get_project_settings

    from osir_crawl.spiders import _board, _catalogue_checks

    monkeypatch.chdir(ROOT)  # scrapy.cfg, data/orgs.yaml, data/catalogue
    read_once = functools.cache(_board.load_catalogue)  # the same files for every instance
    for module in (_board, _catalogue_checks):
        monkeypatch.setattr(module, "load_catalogue", read_once)
    settings = get_project_settings()
    loader = get_spider_loader(settings)

    async def urls(spider):
        return [r.url async for r in spider.start() if hasattr(r, "url")]

    def spider(name, **args):
        cls = loader.load(name)
        if name == "legacy_import":
            args["root"] = str(ROOT / "data" / "published" / "months")
        crawler = Crawler(cls, settings)
        crawler.stats = MemoryStatsCollector(crawler)  # start() counts what it requests
        return cls.from_crawler(crawler, **args)

    for name in sorted(loader.list()):
        if loader.load(name).shard_unit() is not None:  # one board, platform or replay
            for count in (2, 4):
                owners = [spider(name, shard=f"{i}/{count}").in_shard()
                          for i in range(1, count + 1)]
                assert owners.count(True) == 1, name
            continue
        whole = await urls(spider(name))
        for count in (2, 4):
            parts = [await urls(spider(name, shard=f"{i}/{count}"))
                     for i in range(1, count + 1)]
            assert sorted(u for part in parts for u in part) == sorted(whole), (name, count)
            if len(whole) >= 8:  # many accounts: really split (a stable hash, not luck)
                assert sum(1 for part in parts if part) > 1, (name, count)
