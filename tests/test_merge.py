"""``scrapy merge``: shard stores of one snapshot into one store, and every refusal. The shard
stores are written directly through osir_crawl.store (what a finished shard crawl leaves), so
these tests run in milliseconds; tests/test_sharding.py merges real crawls."""

from __future__ import annotations

import pytest

from osir_crawl import store
from osir_crawl.store.merge import MergeRefused, merge
from tests.conftest import rows

SNAPSHOT = "2031-03-07"


def shard_store(path, shard, repos, spider="huggingface_models", snapshot=SNAPSHOT,
                outcome="finished", crawl_id=None, logs=True, **changes):
    """A store holding one finished shard crawl of ``repos`` (model ids)."""
    db = store.open_store(path)
    crawl_id = crawl_id or f"{spider}-{shard.replace('/', 'of')}-{snapshot}"
    store.record_crawl(db, {"crawl_id": crawl_id, "spider": spider, "snapshot": snapshot,
                            "shard": shard, "universe": "registry", "orgs": '["A"]',
                            "started_at": "2031-03-07T01:00:00+00:00", "outcome": outcome,
                            "items": len(repos)})
    store.write_rows(db, "models", [
        store.to_row({"platform": "huggingface", "repo_id": r, "org": "A", "owner": r[:1],
                      "name": r[2:], "url": f"https://hf/{r}", "downloads": 10,
                      **changes.get(r, {})},
                     {"snapshot": snapshot, "crawl_id": crawl_id, "fetched_at": "t"})
        for r in repos])
    if logs:
        store.write_rows(db, "failures", [{"crawl_id": crawl_id, "spider": spider,
                                           "snapshot": snapshot, "url": f"https://hf/{shard}",
                                           "reason": "HTTP 404", "status": 404}])
        store.write_rows(db, "rejects", [{"crawl_id": crawl_id, "spider": spider,
                                          "snapshot": snapshot, "item_type": "models",
                                          "reason": "downloads is -1", "payload": "{}"}])
    db.close()
    return path


@pytest.fixture
def two(tmp_path):
    return (shard_store(tmp_path / "n1.db", "1/2", ["a/x", "a/y"]),
            shard_store(tmp_path / "n2.db", "2/2", ["b/x"]))


def models(db):
    return rows(db, "SELECT repo_id, org, downloads, crawl_id FROM models ORDER BY repo_id")


def test_merge_keeps_every_row_crawl_and_log_with_its_shard(tmp_path, two):
    target = tmp_path / "osir.db"
    report = merge(target, two)
    assert [m["repo_id"] for m in models(target)] == ["a/x", "a/y", "b/x"]
    assert {t: n for t, n in report.rows.items() if n} == {"models": 3}
    crawls = rows(target, "SELECT crawl_id, shard, merged_from, outcome FROM crawls "
                          "ORDER BY shard")
    assert [(c["shard"], c["merged_from"], c["outcome"]) for c in crawls] == [
        ("1/2", str(two[0]), "finished"), ("2/2", str(two[1]), "finished")]
    for table in ("failures", "rejects"):  # each log row still names its crawl (and shard)
        logged = rows(target, f"SELECT l.crawl_id, c.shard FROM {table} l JOIN crawls c "
                              "USING (crawl_id) ORDER BY c.shard")
        assert [r["shard"] for r in logged] == ["1/2", "2/2"]
    # A second merge of the same shards changes nothing.
    merge(target, two)
    assert len(models(target)) == 3 and len(rows(target, "SELECT * FROM failures")) == 2


def test_a_missing_shard_is_refused(tmp_path, two):
    with pytest.raises(MergeRefused, match=r"shard\(s\) 2/2 missing"):
        merge(tmp_path / "osir.db", two[:1])


@pytest.mark.parametrize("outcome", ["incomplete", "running", "shutdown"])
def test_a_shard_that_did_not_finish_is_refused(tmp_path, two, outcome):
    late = shard_store(tmp_path / "late.db", "2/2", ["b/x"], outcome=outcome)
    with pytest.raises(MergeRefused, match=f"did not finish .*{outcome}"):
        merge(tmp_path / "osir.db", [two[0], late])
    assert not (tmp_path / "osir.db").exists() or not rows(tmp_path / "osir.db",
                                                           "SELECT * FROM models")


def test_a_shard_still_crawling_is_refused(tmp_path, two):
    db = store.open_store(two[1])
    lock = store.CrawlLock(db, "huggingface_models", SNAPSHOT, shard="2/2")
    lock.acquire()
    lock.claim("huggingface_models-2of2-" + SNAPSHOT)
    with pytest.raises(MergeRefused, match="still being crawled"):
        merge(tmp_path / "osir.db", two)
    lock.release()


def test_a_later_finished_crawl_of_a_shard_supersedes_its_incomplete_one(tmp_path, two):
    shard_store(two[1], "2/2", ["b/x"], outcome="incomplete", crawl_id="early", logs=False)
    db = store.open_store(two[1])  # the finished crawl started later
    db.execute("UPDATE crawls SET started_at = '2031-03-07T00:00:00+00:00' WHERE crawl_id = "
               "'early'")
    db.execute("UPDATE models SET crawl_id = 'huggingface_models-2of2-2031-03-07'")
    db.conn.commit()
    merge(tmp_path / "osir.db", two)
    assert {c["crawl_id"] for c in rows(tmp_path / "osir.db", "SELECT * FROM crawls")} >= {
        "early"}  # kept as history


def test_a_shard_crawled_twice_is_refused(tmp_path, two):
    again = shard_store(tmp_path / "again.db", "2/2", ["b/x"], crawl_id="another")
    with pytest.raises(MergeRefused, match="shard 2/2 .* crawled in both"):
        merge(tmp_path / "osir.db", [*two, again])
    with pytest.raises(MergeRefused, match="given twice"):
        merge(tmp_path / "osir.db", [two[0], two[1], two[1]])


def test_shards_of_different_splits_or_snapshots_are_refused(tmp_path, two):
    quarter = shard_store(tmp_path / "q.db", "3/4", ["c/x"], spider="github_repos")
    with pytest.raises(MergeRefused, match="disagree on N"):
        merge(tmp_path / "osir.db", [*two, quarter])
    other = shard_store(tmp_path / "o.db", "2/2", ["b/x"], snapshot="2031-04-07")
    with pytest.raises(MergeRefused, match="several snapshots"):
        merge(tmp_path / "osir.db", [two[0], other])
    with pytest.raises(MergeRefused, match="no crawl of snapshot 2031-03-07"):
        merge(tmp_path / "osir.db", [two[0], other], snapshot=SNAPSHOT)


def test_an_unsharded_crawl_in_a_shard_store_is_refused(tmp_path, two):
    db = store.open_store(two[1])
    store.record_crawl(db, {"crawl_id": "whole", "spider": "github_repos", "snapshot": SNAPSHOT,
                            "outcome": "finished", "started_at": "2031-03-07T02:00:00+00:00"})
    with pytest.raises(MergeRefused, match="crawl whole of github_repos .* is not a shard"):
        merge(tmp_path / "osir.db", two)


def test_one_key_with_two_contents_is_refused_and_nothing_is_written(tmp_path, two):
    clash = shard_store(tmp_path / "n2b.db", "2/2", ["b/x", "a/y"],
                        **{"a/y": {"downloads": 11}})
    target = tmp_path / "osir.db"
    with pytest.raises(MergeRefused, match=r"models huggingface a/y 2031-03-07: .*n2b.db and "
                                           r".*n1.db \(shard 1/2"):
        merge(target, [two[0], clash])
    assert not rows(target, "SELECT * FROM models") and not rows(target, "SELECT * FROM crawls")


def test_a_key_served_identically_by_two_shards_is_kept_once(tmp_path, two):
    same = shard_store(tmp_path / "n2b.db", "2/2", ["b/x", "a/y"])
    report = merge(tmp_path / "osir.db", [two[0], same])
    assert [m["repo_id"] for m in models(tmp_path / "osir.db")] == ["a/x", "a/y", "b/x"]
    assert report.duplicates["models"] == 1


def test_rows_of_other_crawls_in_a_shard_store_are_refused(tmp_path, two):
    db = store.open_store(two[0])
    store.write_rows(db, "models", [store.to_row(
        {"platform": "huggingface", "repo_id": "z/z", "org": "A", "owner": "z", "name": "z",
         "url": "u"}, {"snapshot": SNAPSHOT, "crawl_id": "forgotten", "fetched_at": "t"})])
    with pytest.raises(MergeRefused, match="not the latest finished crawl .*1 by forgotten"):
        merge(tmp_path / "osir.db", two)


def test_the_target_may_not_hold_another_crawl_of_a_merged_spider(tmp_path, two):
    target = shard_store(tmp_path / "osir.db", "", [], crawl_id="earlier", logs=False)
    with pytest.raises(MergeRefused, match="already holds crawl earlier of huggingface_models"):
        merge(target, two)
    other = shard_store(tmp_path / "keep.db", "", ["k/x"], spider="github_repos",
                        crawl_id="gh", logs=False)  # another spider: merged beside it
    merge(other, two)
    assert len(models(other)) == 4


def test_scrapy_merge_command(cli, tmp_path, two):
    cmd = ["merge", "--into", tmp_path / "osir.db"]
    ok = cli.scrapy(*cmd, *two)
    assert ok.status == 0, ok.err
    assert "huggingface_models: shards 1/2, 2/2 — 3 items" in ok.out
    refused = cli.scrapy(*cmd, two[0])
    assert refused.status == 1
    assert refused.err.strip().splitlines()[-1].startswith("osir-crawl: merge refused: ")


def test_the_crawl_report_of_a_merged_store_counts_every_shard(tmp_path, two):
    from osir_crawl.ops.report import build_report

    merge(tmp_path / "osir.db", two)
    [entry] = build_report(tmp_path / "osir.db", SNAPSHOT)["spiders"]
    assert (entry["spider"], entry["shards"], entry["outcome"]) == (
        "huggingface_models", ["1/2", "2/2"], "finished")
    assert (entry["items"], entry["rejects"], entry["failures"]) == (3, 2, 2)
