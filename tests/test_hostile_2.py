"""Hostile conditions, second round (issue 25): requests dropped in silence, callback errors, a
``file:`` link, endless listings, a store deleted or failing under a crawl, tokens of two
platforms on one host, exit statuses, rate-limit windows of a day, response size caps, case
variants of one Hub id, ids that fail validation, an empty listing of an account with rows."""

from __future__ import annotations

import gzip
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from osir_crawl import lost_requests
from osir_crawl.commands.crawl import exit_status, exit_verdict
from osir_crawl.middlewares import TokenAuthMiddleware
from osir_crawl.pipelines import DedupPipeline
from osir_crawl.registry import Account
from osir_crawl.spiders.huggingface import HuggingfaceModelsSpider
from tests import prewarmed
from tests.conftest import ROOT, crawl_env, rows, run_crawl
from tests.fakes.huggingface import FakeHuggingFace, HubData, _model_row
from tests.spider_fixtures import build, feed, started, stats
from tests.test_hostile import HeldHub, error_lines, orgs_file
from tests.test_resume import crawl_cmd

SNAPSHOT = "2025-09-07"
slow = pytest.mark.slow


def hub_crawl(tmp_path, data, faults=(), settings=None, accounts=("acct-a",), db=None,
              fake=None):
    """One ``huggingface_models`` crawl of ``accounts`` against the fake; (proc, db, fake)."""
    db = db or tmp_path / "osir.db"
    fake = fake or FakeHuggingFace(data)
    with fake as hf:
        for fault in faults:
            hf.add_fault(**fault)
        proc = run_crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, list(accounts)),
            "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "RETRY_TIMES": 1,
            **(settings or {})}, check=False, timeout=180)
    return proc, db, hf


def popular(data: HubData, account="acct-a", n=8) -> HubData:
    """Every model of ``account`` wants details (downloads above OSIR_MIN_DOWNLOADS)."""
    for i, row in enumerate(r for r in data.models if r["author"] == account):
        row["downloads"] = 10_000 + i
    return data


def outcome(db) -> dict:
    [crawl] = rows(db, "SELECT * FROM crawls")
    return crawl


# --- requests dropped anywhere are failures ---------------------------------------------------
@slow
def test_a_url_longer_than_the_limit_is_a_failure_not_a_silent_drop(tmp_path):
    """Scrapy's UrlLengthMiddleware dropped the detail request of a repo with a long id (and a
    long next-page cursor) with an INFO line: the row was neither stored nor rejected."""
    data = popular(HubData.synthetic({"acct-a": 4}, datasets_per_account=0))
    data.models[0]["id"] = "acct-a/" + "模" * 260  # a valid, long CJK name
    proc, db, _ = hub_crawl(tmp_path, data, settings={"URLLENGTH_LIMIT": 600})
    failures = rows(db, "SELECT * FROM failures")
    assert [f for f in failures if "URLLENGTH_LIMIT" in f["reason"]], failures
    assert outcome(db)["outcome"] == "incomplete"
    assert proc.returncode == 1
    stored = {r["repo_id"] for r in rows(db, "SELECT repo_id FROM models")}
    assert data.models[0]["id"] in stored  # kept, its detail fields unknown
    assert len(stored) == 4


@slow
def test_a_redirect_to_a_page_already_fetched_is_a_failure(tmp_path):
    """The scheduler's duplicate filter dropped it without a trace (request_dropped)."""
    data = popular(HubData.synthetic({"acct-a": 3}, datasets_per_account=0))
    spider = build(HuggingfaceModelsSpider, {"HF_PAGE_SIZE": 5})
    listing = urlsplit(spider.listing_request(Account("huggingface", "acct-a", "Org")).url)
    proc, db, _ = hub_crawl(tmp_path, data, faults=[dict(
        match="/api/models/acct-a/model-00001?", status=302,
        headers={"Location": f"{listing.path}?{listing.query}"})])
    failures = rows(db, "SELECT * FROM failures")
    assert outcome(db)["outcome"] == "incomplete", failures
    assert proc.returncode == 1
    assert len(failures) == 1 and failures[0]["repo_id"] == "acct-a/model-00001"
    assert "already requested" in failures[0]["reason"]


@slow
def test_a_callback_exception_is_a_failure_of_its_request(tmp_path):
    """A body nested 100,000 deep: RecursionError in the callback. Only spider_exceptions/*
    stats used to say so, and the crawl ended 'finished'."""
    data = HubData.synthetic({"acct-a": 12}, datasets_per_account=0)
    nested = b"[" * 100_000 + b"]" * 100_000
    proc, db, _ = hub_crawl(tmp_path, data, faults=[dict(
        match="cursor=5", status=200, body=nested, times=99,
        headers={"Content-Type": "application/json"})])
    [failure] = rows(db, "SELECT * FROM failures")
    assert "RecursionError" in failure["reason"] and "cursor=5" in failure["url"]
    assert outcome(db)["outcome"] == "incomplete"
    assert proc.returncode == 1 and "incomplete" in error_lines(proc.stderr)[-1]
    assert len(rows(db, "SELECT * FROM models")) == 5  # the first page's rows


@slow
def test_a_file_link_is_never_followed(tmp_path):
    """A Link header naming a local file: the file is not read, the listing is incomplete."""
    secret = tmp_path / "secret.json"
    secret.write_text('[{"id": "acct-a/from-a-file", "downloads": 9}]')
    data = HubData.synthetic({"acct-a": 3}, datasets_per_account=0)
    proc, db, hf = hub_crawl(tmp_path, data, faults=[dict(
        match="author=acct-a", headers={"Link": f'<file://{secret}>; rel="next"'})])
    [failure] = rows(db, "SELECT * FROM failures")
    assert "not an http(s) URL" in failure["reason"]
    assert "acct-a/from-a-file" not in {r["repo_id"] for r in rows(db, "SELECT * FROM models")}
    assert proc.returncode == 1


def test_only_http_is_ever_downloaded():
    """Other schemes fail in the first downloader middleware, and have no handler at all."""
    crawler = get_crawler(settings_dict=dict(build(HuggingfaceModelsSpider).settings))
    assert all(crawler.settings.getdict("DOWNLOAD_HANDLERS")[s] is None
               for s in ("file", "ftp", "s3", "data"))
    refuse = lost_requests.RefusedRequestMiddleware(crawler.stats)
    for url in ("file:///etc/passwd", "ftp://h/x", "s3://b/k", "data:,[]"):
        with pytest.raises(IgnoreRequest, match="not an http"):
            refuse.process_request(Request(url))
    assert refuse.process_request(Request("https://huggingface.co/api/models")) is None


@slow
def test_an_endless_listing_is_cut_at_the_page_cap_with_a_failure(tmp_path):
    """Every page links a new next page: the crawl ends, incomplete, at the cap."""
    data = HubData.synthetic({"acct-a": 40}, datasets_per_account=0)
    proc, db, _ = hub_crawl(tmp_path, data, settings={"OSIR_MAX_PAGES_PER_LISTING": 3})
    [failure] = rows(db, "SELECT * FROM failures")
    assert "OSIR_MAX_PAGES_PER_LISTING" in failure["reason"] and "cursor=15" in failure["url"]
    assert len(rows(db, "SELECT * FROM models")) == 15
    assert outcome(db)["outcome"] == "incomplete" and proc.returncode == 1


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
