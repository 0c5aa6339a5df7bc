"""Hostile conditions, second round (issue 25): requests dropped in silence, callback errors, a
``file:`` link, endless listings, a store deleted or failing under a crawl, tokens of two
platforms on one host, exit statuses, rate-limit windows of a day, response size caps, case
variants of one Hub id, ids that fail validation, an empty listing of an account with rows."""

from __future__ import annotations

import gzip
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from osir_crawl.middlewares import lost_requests
from osir_crawl.commands.crawl import exit_status
from osir_crawl.middlewares import TokenAuthMiddleware
from osir_crawl.pipelines import DedupPipeline
from osir_crawl.inputs.registry import Account
from osir_crawl.spiders.huggingface import HuggingfaceModelsSpider
from tests.conftest import ROOT, async_test, crawl_env, rows, run_crawl
from tests.fakes.huggingface import FakeHuggingFace, HubData, _model_row
from tests.spider_fixtures import build, feed, started, stats
from tests.test_hostile import HeldHub, error_lines, orgs_file
from tests.test_resume import crawl_cmd

SNAPSHOT = "2025-09-07"
slow = pytest.mark.slow


async def hub_crawl(crawl, tmp_path, data, faults=(), settings=None, accounts=("acct-a",),
                    db=None):
    """One ``huggingface_models`` crawl (in process) of ``accounts`` against the fake;
    (result, db, fake)."""
    db = db or tmp_path / "osir.db"
    with FakeHuggingFace(data) as hf:
        for fault in faults:
            hf.add_fault(**fault)
        result = await crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, list(accounts)),
            "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "RETRY_TIMES": 1,
            **(settings or {})}, check=False)
    return result, db, hf


def popular(data: HubData, account="acct-a", n=8) -> HubData:
    """Every model of ``account`` wants details (downloads above OSIR_MIN_DOWNLOADS)."""
    for i, row in enumerate(r for r in data.models if r["author"] == account):
        row["downloads"] = 10_000 + i
    return data


def outcome(db) -> dict:
    [crawl] = rows(db, "SELECT * FROM crawls")
    return crawl


# --- requests dropped anywhere are failures ---------------------------------------------------
@async_test
async def test_a_url_longer_than_the_limit_is_a_failure_not_a_silent_drop(crawl, tmp_path):
    """Scrapy's UrlLengthMiddleware dropped the detail request of a repo with a long id (and a
    long next-page cursor) with an INFO line: the row was neither stored nor rejected."""
    data = popular(HubData.synthetic({"acct-a": 4}, datasets_per_account=0))
    data.models[0]["id"] = "acct-a/" + "模" * 260  # a valid, long CJK name
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, settings={"URLLENGTH_LIMIT": 600})
    failures = rows(db, "SELECT * FROM failures")
    assert [f for f in failures if "URLLENGTH_LIMIT" in f["reason"]], failures
    assert outcome(db)["outcome"] == "incomplete"
    assert proc.status == 1
    stored = {r["repo_id"] for r in rows(db, "SELECT repo_id FROM models")}
    assert data.models[0]["id"] in stored  # kept, its detail fields unknown
    assert len(stored) == 4


@async_test
async def test_a_redirect_to_a_page_already_fetched_is_a_failure(crawl, tmp_path):
    """The scheduler's duplicate filter dropped it without a trace (request_dropped)."""
    data = popular(HubData.synthetic({"acct-a": 3}, datasets_per_account=0))
    spider = build(HuggingfaceModelsSpider, {"HF_PAGE_SIZE": 5})
    listing = urlsplit(spider.listing_request(Account("huggingface", "acct-a", "Org")).url)
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, faults=[dict(
        match="/api/models/acct-a/model-00001?", status=302,
        headers={"Location": f"{listing.path}?{listing.query}"})])
    failures = rows(db, "SELECT * FROM failures")
    assert outcome(db)["outcome"] == "incomplete", failures
    assert proc.status == 1
    assert len(failures) == 1 and failures[0]["repo_id"] == "acct-a/model-00001"
    assert "already requested" in failures[0]["reason"]


@async_test
async def test_a_callback_exception_is_a_failure_of_its_request(crawl, tmp_path):
    """A body nested 100,000 deep: RecursionError in the callback. Only spider_exceptions/*
    stats used to say so, and the crawl ended 'finished'."""
    data = HubData.synthetic({"acct-a": 12}, datasets_per_account=0)
    nested = b"[" * 100_000 + b"]" * 100_000
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, faults=[dict(
        match="cursor=5", status=200, body=nested, times=99,
        headers={"Content-Type": "application/json"})])
    [failure] = rows(db, "SELECT * FROM failures")
    assert "RecursionError" in failure["reason"] and "cursor=5" in failure["url"]
    assert outcome(db)["outcome"] == "incomplete"
    assert proc.status == 1 and "incomplete" in proc.line
    assert len(rows(db, "SELECT * FROM models")) == 5  # the first page's rows


class BrokenPipeline:
    """A pipeline with a bug: it raises (not DropItem) for one repository."""

    def process_item(self, item):
        if getattr(item, "repo_id", "").endswith("model-00001"):
            raise ValueError("a bug in a pipeline")
        return item


@async_test
async def test_an_item_a_pipeline_fails_on_is_a_failure(crawl, tmp_path):
    """Scrapy logs an item_error and goes on: the row was lost without a trace."""
    from osir_crawl.settings import ITEM_PIPELINES

    data = HubData.synthetic({"acct-a": 4}, datasets_per_account=0)
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, settings={"ITEM_PIPELINES": json.dumps(
        {**ITEM_PIPELINES, f"{__name__}.BrokenPipeline": 350})})
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["repo_id"] == "acct-a/model-00001" and "a bug in a pipeline" in \
        failure["reason"]
    assert len(rows(db, "SELECT * FROM models")) == 3
    assert proc.status == 1 and "incomplete" in proc.line


class ErrbackWithABug(HuggingfaceModelsSpider):
    """The Hugging Face spider with an errback that raises."""

    def on_failure(self, failure):
        raise RuntimeError("a bug in an errback")


@async_test
async def test_an_errback_that_raises_is_a_failure(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 12}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with FakeHuggingFace(data) as hf:
        hf.add_fault(match="cursor=5", status=404, times=99)
        proc = await crawl(ErrbackWithABug, db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
            "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT}, check=False)
    [failure] = rows(db, "SELECT * FROM failures")
    assert "cursor=5" in failure["url"] and "a bug in an errback" in failure["reason"]
    assert proc.status == 1 and "incomplete" in proc.line


@async_test
async def test_a_file_link_is_never_followed(crawl, tmp_path):
    """A Link header naming a local file: the file is not read, the listing is incomplete."""
    secret = tmp_path / "secret.json"
    secret.write_text('[{"id": "acct-a/from-a-file", "downloads": 9}]')
    data = HubData.synthetic({"acct-a": 3}, datasets_per_account=0)
    proc, db, hf = await hub_crawl(crawl, tmp_path, data, faults=[dict(
        match="author=acct-a", headers={"Link": f'<file://{secret}>; rel="next"'})])
    [failure] = rows(db, "SELECT * FROM failures")
    assert "not an http(s) URL" in failure["reason"]
    assert "acct-a/from-a-file" not in {r["repo_id"] for r in rows(db, "SELECT * FROM models")}
    assert proc.status == 1


def test_only_http_is_ever_downloaded():
    """Other schemes fail in the first downloader middleware, and have no handler at all (the
    browser spiders' handlers too)."""
    from osir_crawl.spiders.baai import BaaiDatasetsSpider

    crawler = get_crawler(settings_dict=dict(build(HuggingfaceModelsSpider).settings))
    for cls in (HuggingfaceModelsSpider, BaaiDatasetsSpider):
        handlers = build(cls).crawler.settings.getwithbase("DOWNLOAD_HANDLERS")
        assert all(handlers[s] is None for s in ("file", "ftp", "s3", "data")), cls
    refuse = lost_requests.RefusedRequestMiddleware(crawler.stats)
    for url in ("file:///etc/passwd", "ftp://h/x", "s3://b/k", "data:,[]"):
        with pytest.raises(IgnoreRequest, match="not an http"):
            refuse.process_request(Request(url))
    assert refuse.process_request(Request("https://huggingface.co/api/models")) is None


@async_test
async def test_an_endless_listing_is_cut_at_the_page_cap_with_a_failure(crawl, tmp_path):
    """Every page links a new next page: the crawl ends, incomplete, at the cap."""
    data = HubData.synthetic({"acct-a": 40}, datasets_per_account=0)
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, settings={"OSIR_MAX_PAGES_PER_LISTING": 3})
    [failure] = rows(db, "SELECT * FROM failures")
    assert "OSIR_MAX_PAGES_PER_LISTING" in failure["reason"] and "cursor=15" in failure["url"]
    assert len(rows(db, "SELECT * FROM models")) == 15
    assert outcome(db)["outcome"] == "incomplete" and proc.status == 1


class EndlessHub(FakeHuggingFace):
    """Every listing page links a next page with a new cursor: a listing that never ends."""

    def list_repos(self, kind, query, body):
        reply = super().list_repos(kind, query, body)
        cursor = int(dict(query).get("cursor") or 0) + 1
        rest = [(k, v) for k, v in query if k != "cursor"] + [("cursor", str(cursor))]
        reply.headers["Link"] = f'<{self.url}/api/{kind}?{urlencode(rest)}>; rel="next"'
        return reply


@async_test
async def test_a_listing_that_never_ends_stops_at_the_cap_with_a_failure(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 3}, datasets_per_account=0)
    with EndlessHub(data) as hf:
        run = await crawl("huggingface_models", tmp_path / "osir.db", {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
            "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "OSIR_MAX_PAGES_PER_LISTING": 25},
            check=False)
        listed = [s for s in hf.log if s.path.startswith("/api/models?")]
    assert len(listed) == 25
    [failure] = rows(tmp_path / "osir.db", "SELECT * FROM failures")
    assert "listing cut at 25 pages" in failure["reason"] and "cursor=25" in failure["url"]
    assert run.status == 1 and "incomplete" in run.line
    assert len(rows(tmp_path / "osir.db", "SELECT * FROM models")) == 3


def test_page_cap_counts_pages_of_one_listing():
    spider = build(HuggingfaceModelsSpider, {"OSIR_MAX_PAGES_PER_LISTING": 2}, orgs="BAAI")
    first = started(spider)[0]
    link = {"Link": '<https://huggingface.co/api/models?cursor=%s>; rel="next"'}
    _, requests = feed(first, "huggingface_models/models-BAAI.json",
                       headers={"Link": link["Link"] % 2})
    [second] = [r for r in requests if r.cb_kwargs.get("page") == 2]
    items, requests = feed(second, "huggingface_models/models-BAAI.json",
                           headers={"Link": link["Link"] % 3})
    assert not [r for r in requests if r.cb_kwargs.get("page") == 3]
    [failure] = [i for i in items if type(i).__name__ == "RequestFailure"]
    assert "OSIR_MAX_PAGES_PER_LISTING" in failure.reason and "cursor=3" in failure.url
    assert stats(spider)["osir/pagination/page_cap"] == 1


# --- scoring build: only finished crawls, folder and tables as one -------------------------------
from osir_crawl.store import open_store, record_crawl  # noqa: E402
from scoring.cli import main as scoring_main  # noqa: E402
from tests.test_build import SEP  # noqa: E402
from tests.test_build import store as store  # noqa: E402,F401  -- the small store fixture


def crawl_row(db_path, spider, outcome, started="2025-09-07T01:00:00+00:00"):
    db = open_store(db_path)
    record_crawl(db, {"crawl_id": f"{spider}-{outcome}-{started}", "spider": spider,
                      "snapshot": SEP, "started_at": started, "outcome": outcome})
    db.close()


def test_build_refuses_a_snapshot_whose_crawls_did_not_finish(store, tmp_path, capsys):
    crawl_row(store, "huggingface_models", "finished")
    crawl_row(store, "github_repos", "incomplete")
    out = tmp_path / "out"
    assert scoring_main(["build", "--snapshot", SEP, "--db", str(store), "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "github_repos incomplete" in err and "--allow-incomplete" in err
    assert not out.exists()
    assert not rows(store, "SELECT * FROM sqlite_master WHERE name = 'rankings'") or \
        not rows(store, "SELECT * FROM rankings")

    # Told to, it ranks, and the folder, the table and the report say so.
    assert scoring_main(["build", "--snapshot", SEP, "--db", str(store), "--out", str(out),
                         "--allow-incomplete", "-q"]) == 0
    assert "warning: built with --allow-incomplete" in capsys.readouterr().err
    assert "github_repos" in (out / "incomplete-crawls.csv").read_text()
    marks = {r["incomplete"] for r in rows(store, "SELECT incomplete FROM rankings")}
    assert len(marks) == 1 and "github_repos" in marks.pop()

    # A later finished crawl of the spider supersedes the incomplete one.
    crawl_row(store, "github_repos", "finished", started="2025-09-07T05:00:00+00:00")
    assert scoring_main(["build", "--snapshot", SEP, "--db", str(store), "--out", str(out),
                         "-q"]) == 0
    assert not (out / "incomplete-crawls.csv").exists()
    assert {r["incomplete"] for r in rows(store, "SELECT incomplete FROM rankings")} == {None}


def test_a_build_swaps_its_folder_in_and_clears_a_killed_builds_leftovers(store, tmp_path):
    out = tmp_path / "rankings" / SEP
    assert scoring_main(["build", "--snapshot", SEP, "--db", str(store), "--out", str(out),
                         "-q"]) == 0
    (out / "ecosystem").mkdir()
    (out / "ecosystem" / "kept.csv").write_text("org\n")
    # What a build killed mid-way leaves: its new folder, temporaries of a dead process.
    dead = subprocess.Popen(["true"])
    dead.wait()
    (out.parent / f".{SEP}.new-{dead.pid}").mkdir()
    (out.parent / f".{SEP}.new-{dead.pid}" / "overall-rank.csv").write_text("half")
    (out / f".overall-rank.csv.tmp-{dead.pid}").write_text("half")
    assert scoring_main(["build", "--snapshot", SEP, "--db", str(store), "--out", str(out),
                         "-q"]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == [SEP]
    assert not list(out.glob(".*"))
    assert (out / "ecosystem" / "kept.csv").read_text() == "org\n"  # carried over
    assert (out / "overall-rank.csv").read_text().startswith("org")


@slow
def test_a_killed_build_leaves_the_folder_and_tables_of_one_build(store, tmp_path):
    """SIGKILL at any moment of a build: the folder is the old or the new build, matching the
    store's rows (their built_at), and the next build clears what the killed one left."""
    out = tmp_path / "rankings" / SEP
    cmd = [sys.executable, "-m", "scoring", "build", "--snapshot", SEP, "--db", str(store),
           "--out", str(out), "-q"]
    assert subprocess.run(cmd, cwd=ROOT, env=crawl_env()).returncode == 0
    for delay in (0.5, 1.0, 1.5, 2.0, 3.0):
        proc = subprocess.Popen(cmd, cwd=ROOT, env=crawl_env())
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        built = {r["built_at"] for r in rows(store, "SELECT DISTINCT built_at FROM rankings")}
        assert len(built) == 1
        assert not [p for p in out.iterdir() if p.name.endswith(".csv") and p.stat().st_size == 0]
        assert (out / "overall-rank.csv").exists()
    assert subprocess.run(cmd, cwd=ROOT, env=crawl_env()).returncode == 0
    assert sorted(p.name for p in out.parent.iterdir()) == [SEP]
    assert not list(out.glob(".*"))


# --- scrapy merge trusts no shard store ------------------------------------------------------------
from osir_crawl import store as osir_store  # noqa: E402
from osir_crawl.store.merge import MergeRefused, merge  # noqa: E402
from osir_crawl.inputs.registry import load_registry  # noqa: E402
from tests.test_merge import SNAPSHOT as MERGED, shard_store  # noqa: E402


def test_merge_revalidates_every_record(tmp_path):
    """−5 downloads, 'lots' of likes: rows no crawl would have stored are refused."""
    good = shard_store(tmp_path / "n1.db", "1/2", ["a/x"])
    bad = shard_store(tmp_path / "n2.db", "2/2", ["b/x", "b/y"],
                      **{"b/x": {"downloads": -5}, "b/y": {"likes": "lots"}})
    with pytest.raises(MergeRefused, match=r"2 models row\(s\) .* fail validation .*b/x: "
                                           "downloads is -5"):
        merge(tmp_path / "osir.db", [good, bad])
    assert not (tmp_path / "osir.db").exists() or not rows(tmp_path / "osir.db",
                                                           "SELECT * FROM models")


def test_merge_validates_owners_against_the_registry(tmp_path):
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text("A:\n  huggingface: [a, b]\n")
    one = shard_store(tmp_path / "n1.db", "1/2", ["a/x"])
    other = shard_store(tmp_path / "n2.db", "2/2", ["z/stolen"])  # credited to A, owner z
    with pytest.raises(MergeRefused, match="owner 'z' is not an account of A"):
        merge(tmp_path / "osir.db", [one, other], registry=load_registry(orgs))


def test_merge_refuses_a_crawl_id_of_another_snapshot_or_spider(tmp_path):
    target = tmp_path / "osir.db"
    earlier = shard_store(target, "1/1", ["a/old"], snapshot="2031-02-07", crawl_id="same-id")
    before = rows(earlier, "SELECT * FROM failures")
    one = shard_store(tmp_path / "n1.db", "1/2", ["a/x"], crawl_id="same-id")
    two = shard_store(tmp_path / "n2.db", "2/2", ["b/x"])
    with pytest.raises(MergeRefused, match="crawl id same-id .* in the target already"):
        merge(target, [one, two])
    assert rows(target, "SELECT snapshot FROM crawls") == [{"snapshot": "2031-02-07"}]
    assert rows(target, "SELECT * FROM failures") == before


def test_merge_refuses_logs_of_another_snapshot(tmp_path):
    one = shard_store(tmp_path / "n1.db", "1/2", ["a/x"])
    two = shard_store(tmp_path / "n2.db", "2/2", ["b/x"])
    db = osir_store.open_store(two)
    osir_store.write_rows(db, "failures", [{
        "crawl_id": "huggingface_models-2of2-" + MERGED, "spider": "huggingface_models",
        "snapshot": "2031-01-07", "url": "https://hf/old", "reason": "HTTP 500"}])
    db.close()
    with pytest.raises(MergeRefused, match="failures row.* another snapshot .*2031-01-07"):
        merge(tmp_path / "osir.db", [one, two])


# --- exit status -----------------------------------------------------------------------------------
def ran(stats: dict):
    """A crawler after a crawl, as ``exit_status`` reads it."""
    crawler = get_crawler(HuggingfaceModelsSpider)
    crawler._stats = type("Stats", (), {"get_stats": lambda self: stats})()
    return crawler


@pytest.mark.parametrize("stats, says", [
    ({"finish_reason": "finished", "osir/outcome": "incomplete", "osir/failed_requests": 3},
     "huggingface_models incomplete: 3 failed requests"),
    ({"finish_reason": "shutdown", "osir/outcome": "shutdown"}, "stopped before the end"),
    ({"finish_reason": "closespider_timeout", "osir/outcome": "closespider_timeout"},
     "ended closespider_timeout"),
    ({"finish_reason": "store_error", "osir/outcome": "store_error",
      "osir/fatal": "cannot write to the store x: disk I/O error"}, "disk I/O error"),
    ({"finish_reason": "host_unreachable", "osir/unreachable": "h: refused"}, "unreachable"),
    ({"finish_reason": "finished"}, None),  # no crawl run (no store): Scrapy's reason
])
def test_only_a_finished_crawl_exits_zero(stats, says):
    status, line = exit_status(ran(stats))
    if says is None:
        assert (status, line) == (0, "")
    else:
        assert status == 1 and line.startswith("osir-crawl: ") and says in line
    assert exit_status(ran({"finish_reason": "finished", "osir/outcome": "finished"})) == (0, "")


# --- tokens belong to their platform ---------------------------------------------------------------
def test_two_platforms_on_one_host_never_get_each_others_token():
    from osir_crawl.spiders.github import GithubReposSpider

    tokens = {"HF_TOKEN": "hf-secret", "GITHUB_TOKEN": "gh-secret"}
    for hf, gh in (("http://gw.example:8080/hf", "http://gw.example:8080/gh"),
                   ("http://gw.example:8080", "http://gw.example:8080")):  # one endpoint, even
        settings = {**tokens, "HF_ENDPOINT": hf, "GITHUB_API_URL": gh}
        for cls, own, other in ((HuggingfaceModelsSpider, "Bearer hf-secret", "gh-secret"),
                                (GithubReposSpider, "Bearer gh-secret", "hf-secret")):
            spider = build(cls, settings)
            auth = TokenAuthMiddleware.from_crawler(spider.crawler)
            mine = Request(f"{spider.endpoint}/api/x")
            auth.process_request(mine)
            assert mine.headers.get("Authorization") == own.encode()
            for url in (f"{hf}/api/models", f"{gh}/orgs/x/repos", "http://gw.example:8080/x"):
                request = Request(url)
                auth.process_request(request)
                assert other.encode() not in (request.headers.get("Authorization") or b"")
    # Under another path of the same host: not the platform's endpoint, no token.
    spider = build(HuggingfaceModelsSpider, {**tokens, "HF_ENDPOINT": "http://gw.example/hf",
                                             "GITHUB_API_URL": "http://gw.example/gh"})
    auth = TokenAuthMiddleware.from_crawler(spider.crawler)
    request = Request("http://gw.example/gh/orgs/x/repos")
    auth.process_request(request)
    assert b"Authorization" not in request.headers


def test_crawlall_keeps_token_settings_off_its_children_s_command_lines():
    from osir_crawl.commands import crawlall

    forwarded, secrets = crawlall.without_secrets(
        ["HF_TOKEN=hf-secret", "GITHUB_TOKEN=a=b", "HF_PAGE_SIZE=5"])
    assert forwarded == ["HF_PAGE_SIZE=5"]
    assert secrets == {"HF_TOKEN": "hf-secret", "GITHUB_TOKEN": "a=b"}


@slow
def test_crawlall_gives_tokens_to_its_children_in_the_environment(tmp_path):
    """``-s HF_TOKEN=…`` given to crawlall never lands on a child's command line (``ps``): a
    real crawlall, its spider held mid-crawl and read in /proc."""
    data = HubData.synthetic({"acct-a": 20}, datasets_per_account=0)
    db, jobs = tmp_path / "osir.db", tmp_path / "jobs"
    with HeldHub(data, hold="10") as hf:
        cmd = [sys.executable, "-m", "scrapy", "crawlall", "--snapshot", SNAPSHOT, "--only",
               "huggingface_models", "--skip-scoring", "--jobs-dir", str(jobs),
               "--logs-dir", str(tmp_path / "logs"), "--reports-dir", str(tmp_path / "reports"),
               "-s", f"OSIR_DB={db}", "-s", f"OSIR_ORGS={orgs_file(tmp_path, ['acct-a'])}",
               "-s", f"HF_ENDPOINT={hf.url}", "-s", "HF_PAGE_SIZE=5", "-s", "DOWNLOAD_TIMEOUT=120",
               "-s", "OSIR_STATS_INTERVAL=0.2", "-s", "HF_TOKEN=hf-secret",
               "-s", "GITHUB_TOKEN=a=b"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=crawl_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert hf.held.wait(90), "the spider never reached its held page"
            stats = jobs / SNAPSHOT / "huggingface_models.stats.json"
            deadline = time.monotonic() + 30
            while not stats.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            child = json.loads(stats.read_text())["pid"]
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            environ = dict(e.split(b"=", 1) for e in
                           Path(f"/proc/{child}/environ").read_bytes().split(b"\0") if b"=" in e)
        finally:
            hf.release.set()
            _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert b"huggingface_models" in cmdline and b"HF_PAGE_SIZE=5" in cmdline
    assert not [a for a in cmdline if b"secret" in a or b"a=b" in a], cmdline
    assert environ[b"HF_TOKEN"] == b"hf-secret" and environ[b"GITHUB_TOKEN"] == b"a=b"
    assert all(s.headers.get("Authorization") == "Bearer hf-secret" for s in hf.log)


# --- hub ids, ids that fail validation -------------------------------------------------------------
def listing_of(spider, request, body: list):
    from scrapy.http import TextResponse

    response = TextResponse(request.url, body=json.dumps(body).encode(), request=request,
                            encoding="utf-8")
    out = list(request.callback(response, **request.cb_kwargs))
    return [o for o in out if not isinstance(o, Request)], [o for o in out
                                                           if isinstance(o, Request)]


def test_case_variants_of_one_hub_repo_are_one_row():
    spider = build(HuggingfaceModelsSpider, orgs="BAAI")
    first = started(spider)[0]
    rows_ = [_model_row(i, 10_000, random.Random(1)) for i in
             ("BAAI/Model-A", "baai/model-a", "BAAI/MODEL-A", "BAAI/other")]
    items, requests = listing_of(spider, first, rows_)
    assert items == [] and len(requests) == 2  # details for Model-A once, and for other
    assert stats(spider)["osir/duplicates"] == 2
    dedup = DedupPipeline(spider.crawler)
    item = requests[0].cb_kwargs["item"]
    dedup.process_item(item)
    twin = type(item)(**{**vars(item), "repo_id": item.repo_id.swapcase()})
    with pytest.raises(Exception, match="duplicate"):
        dedup.process_item(twin)


def test_no_request_for_an_id_that_fails_validation():
    """An id ``../../etc/passwd`` used to produce a token-bearing request to another API path."""
    spider = build(HuggingfaceModelsSpider, orgs="BAAI")
    first = started(spider)[0]
    rows_ = [_model_row("BAAI/good", 10_000, random.Random(1))]
    for bad in ("../../etc/passwd", "BAAI/../../api/whoami", "BAAI/a/b"):
        rows_.append({**rows_[0], "id": bad})
    items, requests = listing_of(spider, first, rows_)
    assert [r.cb_kwargs["item"].repo_id for r in requests] == ["BAAI/good"]
    assert sorted(i.repo_id for i in items) == sorted(r["id"] for r in rows_[1:])  # rejected
    assert stats(spider)["osir/details/not_requested"] == 3


@async_test
async def test_an_empty_listing_of_an_account_with_rows_is_a_failure_not_a_deletion(
        crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 6, "acct-b": 3}, datasets_per_account=0)
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, accounts=("acct-a", "acct-b"))
    assert proc.status == 0 and len(rows(db, "SELECT * FROM models")) == 9
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, accounts=("acct-a", "acct-b"), db=db,
                                  faults=[
        dict(match="author=acct-a&", status=200, body=[], times=99)])
    assert proc.status == 1
    [failure] = rows(db, "SELECT * FROM failures")
    assert "listing of acct-a is empty" in failure["reason"] and "6 of its rows" in \
        failure["reason"]
    assert len(rows(db, "SELECT * FROM models WHERE owner = 'acct-a'")) == 6  # kept
    [_, second] = rows(db, "SELECT * FROM crawls ORDER BY started_at, rowid")
    assert second["outcome"] == "incomplete" and second["stale_removed"] in (0, None)


# --- bounded work: rate-limit windows, response sizes ----------------------------------------------
@async_test
async def test_a_day_long_rate_limit_window_fails_fast_instead_of_stalling(crawl, tmp_path):
    """``RateLimit: "api";r=0;t=86400`` on a 200 used to stall the host 900 s per attempt."""
    data = popular(HubData.synthetic({"acct-a": 8}, datasets_per_account=0))
    started_at = time.monotonic()
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, faults=[dict(
        match="author=acct-a&", headers={"RateLimit": '"api";r=0;t=86400'})])
    assert time.monotonic() - started_at < 90
    failures = rows(db, "SELECT * FROM failures")
    assert failures and all("more than OSIR_RATE_LIMIT_MAX_WAIT" in f["reason"]
                            for f in failures)
    assert proc.status == 1


@slow
def test_sigterm_ends_a_rate_limit_wait_and_the_resume_is_exact(tmp_path):
    """A 10-minute window (within OSIR_RATE_LIMIT_MAX_WAIT) is waited out; SIGTERM during it
    stops the crawl at once (exit 1, shutdown), and the JOBDIR resume fetches what waited."""
    data = popular(HubData.synthetic({"acct-a": 12}, datasets_per_account=0))
    db, jobdir = tmp_path / "osir.db", tmp_path / "job"
    with FakeHuggingFace(data) as hf:
        hf.add_fault(match="cursor=5", status=429, headers={"RateLimit": '"api";r=0;t=600'})
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
                    "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "JOBDIR": jobdir}
        proc = subprocess.Popen(crawl_cmd(db, settings), cwd=ROOT, env=crawl_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not [s for s in hf.log if s.status == 429] and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # the pause has begun
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert time.monotonic() - stopped_at < 30, "SIGTERM waited for the rate-limit window"
        assert proc.returncode == 1 and "shutdown" in error_lines(err)[-1], err[-3000:]
        hf.faults.clear()
        resumed = run_crawl("huggingface_models", db, settings, check=False, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert len(rows(db, "SELECT * FROM models")) == 12
    assert rows(db, "SELECT outcome FROM crawls") == [{"outcome": "finished"}]
    assert not rows(db, "SELECT * FROM failures")


def test_response_size_caps_are_set():
    settings = build(HuggingfaceModelsSpider).settings
    assert settings.getint("DOWNLOAD_MAXSIZE") == 64 * 1024 * 1024
    assert settings.getint("DOWNLOAD_WARNSIZE") == 16 * 1024 * 1024


@pytest.mark.parametrize("kind", ["gzip bomb", "huge body"])
@async_test
async def test_an_answer_past_the_size_cap_is_a_recorded_failure(crawl, tmp_path, kind):
    data = HubData.synthetic({"acct-a": 12}, datasets_per_account=0)
    if kind == "gzip bomb":  # 3 MB of zeros in a few kB; inflated past the cap
        fault = dict(body=gzip.compress(b"[" + b" " * 3_000_000 + b"]"),
                     headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    else:
        fault = dict(body=b"[" + b" " * 3_000_000 + b"]",
                     headers={"Content-Type": "application/json"})
    proc, db, _ = await hub_crawl(crawl, tmp_path, data, settings={"DOWNLOAD_MAXSIZE": 1_000_000},
                                  faults=[
        dict(match="cursor=5", status=200, times=99, **fault)])
    [failure] = rows(db, "SELECT * FROM failures")
    assert "cursor=5" in failure["url"]
    assert "max size" in failure["reason"] or "maxsize" in failure["reason"].lower() \
        or "larger than" in failure["reason"], failure["reason"]
    assert len(rows(db, "SELECT * FROM models")) == 5
    assert proc.status == 1


# --- the store failing or vanishing under a crawl --------------------------------------------------
@slow
def test_a_deleted_store_is_a_store_error_never_finished(tmp_path):
    data = HubData.synthetic({"acct-a": 30}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with HeldHub(data, hold="10") as hf:
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
                    "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "DOWNLOAD_TIMEOUT": 120}
        proc = subprocess.Popen(crawl_cmd(db, settings), cwd=ROOT, env=crawl_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert hf.held.wait(90)
            for path in tmp_path.glob("osir.db*"):
                path.unlink()
        finally:
            hf.release.set()
            _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err[-3000:]
    assert [line for line in error_lines(err) if "deleted or replaced" in line], err[-3000:]
    assert "finished" not in error_lines(err)[-1]


@slow
def test_a_resume_after_a_store_error_fetches_what_was_lost(tmp_path):
    """The store fails mid-way (here: inserts into models fail); the JOBDIR is left to be
    recovered, so the same command, once the store is fixed, ends with every row."""
    data = HubData.synthetic({"acct-a": 30}, datasets_per_account=0)
    db, jobdir = tmp_path / "osir.db", tmp_path / "job"
    with HeldHub(data, hold="10") as hf:
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
                    "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "OSIR_STORE_BATCH_SIZE": 2,
                    "DOWNLOAD_TIMEOUT": 120, "JOBDIR": jobdir}
        proc = subprocess.Popen(crawl_cmd(db, settings), cwd=ROOT, env=crawl_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert hf.held.wait(90)
            conn = sqlite3.connect(db, timeout=60)
            conn.execute("CREATE TRIGGER full BEFORE INSERT ON models BEGIN "
                         "INSERT INTO gone VALUES (1); END")
            conn.commit()
            conn.close()
        finally:
            hf.release.set()
            _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1 and "cannot write to the store" in err
        lost = 30 - len(rows(db, "SELECT * FROM models"))
        assert lost > 0
        assert (jobdir / "osir-running.json").exists()  # to be recovered, not resumed
        conn = sqlite3.connect(db)
        conn.execute("DROP TRIGGER full")
        conn.commit()
        conn.close()
        again = run_crawl("huggingface_models", db, settings, check=False, timeout=180)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(rows(db, "SELECT * FROM models")) == 30
    [crawl] = rows(db, "SELECT * FROM crawls")
    assert crawl["outcome"] == "finished"
