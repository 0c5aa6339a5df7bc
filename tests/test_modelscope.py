"""End to end: the real ModelScope spiders, pipelines and SQLite store against the fake."""

from __future__ import annotations

import json

import pytest

from tests.conftest import async_test, rows
from tests.fakes.modelscope import FakeModelScope, ScopeData


OWNERS = {"BAAI": "BAAI", "deepseek-ai": "Deepseek", "01ai": "01-AI"}
INVALID = [
    {"id": "BAAI/negative", "downloads": -3, "likes": 0, "tasks": []},
    {"downloads": 5, "likes": 1, "owner": "BAAI"},  # no id
    {"id": "BAAI/dated", "downloads": 5, "likes": 1, "created_at": "yesterday"},
]


def scope_data() -> ScopeData:
    data = ScopeData.load(list(OWNERS))
    data.models[5:5] = INVALID  # inside BAAI's listing, so they cross page boundaries
    return data


@pytest.fixture
def fake():
    with FakeModelScope(scope_data()) as server:
        yield server


@pytest.fixture
def crawl(crawl):
    """The in-process crawl (tests/conftest.py) of the OpenAPI listing; the community pages
    (Chromium) are left to their own test."""
    async def run(spider, fake, db, **kw):
        settings = {"MODELSCOPE_ENDPOINT": fake.url, "MODELSCOPE_PAGE_SIZE": 20,
                    "OSIR_SNAPSHOT": "2025-09-07", "OSIR_RATE_LIMIT_DEFAULT_WAIT": 0.5,
                    "MODELSCOPE_COMMUNITY": 0, **kw.pop("settings", {})}
        return await crawl(spider, db, settings, **kw)
    return run


def valid(rows_, owners=OWNERS):
    return [r for r in rows_ if r not in INVALID and r["id"].split("/")[0] in owners]


@async_test
async def test_models_every_valid_repo_once_with_throttling(crawl, fake, tmp_path):
    db = tmp_path / "osir.db"
    throttled = {"success": False, "code": "RateLimitExceed", "message": "too many requests",
                 "request_id": "r"}
    # Throttling in a 200 body (with Retry-After), then as a real 429; a transient error body.
    fake.add_fault(match="owner=BAAI&page_number=2", status=200, body=throttled, times=2,
                   headers={"Retry-After": "1"})
    fake.add_fault(match="owner=BAAI&page_number=4", status=429, body=throttled)
    fake.add_fault(match="owner=deepseek-ai&page_number=2", status=200,
                   body={"success": False, "code": "SystemError", "message": "busy"})
    proc = await crawl("modelscope_models", fake, db, settings={"RETRY_TIMES": 2},
                       args={"orgs": "BAAI,Deepseek,01-AI"})

    stored = rows(db, "SELECT * FROM models ORDER BY repo_id")
    expected = valid(fake.data.models)
    assert [r["repo_id"] for r in stored] == sorted(m["id"] for m in expected)
    by_id = {r["repo_id"]: r for r in stored}
    for model in expected:
        row = by_id[model["id"]]
        assert row["platform"] == "modelscope"
        assert row["org"] == OWNERS[model["id"].split("/")[0]]
        assert row["downloads"] is None  # ModelScope gives no 30-day figure
        assert (row["downloads_total"], row["likes"]) == (model["downloads"], model["likes"])
        assert row["params"] == (model["params"] or None)  # 0: unknown, not a count
        assert row["pipeline_tag"] == model["tasks"][0]
        assert f"task:{model['tasks'][0]}" in json.loads(row["tags"])
        assert row["library"] == next(t[8:] for t in model["tags"] if t.startswith("library:"))
        assert row["url"] == f"{fake.url}/models/{model['id']}"
    assert sorted((r["repo_id"] or "", r["reason"]) for r in rows(db, "SELECT * FROM rejects")) == [
        ("", "repo_id is missing (got None)"),
        ("BAAI/dated", "created_at is 'yesterday': expected an ISO-8601 date"),
        ("BAAI/negative", "downloads_total is -3: counts cannot be negative"),
    ]
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    assert crawl_row["outcome"] == "finished" and crawl_row["failed_requests"] == 0
    stats = json.loads(crawl_row["stats"])
    assert stats["osir/modelscope/rate_limit_bodies"] == 2  # the 429 needed no rewrite
    assert stats["osir/rate_limit/retries"] == 3  # waited out, not spent from RETRY_TIMES
    assert stats["retry/count"] == 1  # only the SystemError body used the normal retries
    assert stats["osir/modelscope/error/SystemError"] == 1
    assert "rate limit (429)" in proc.log
    # Every listing page asked for 20 rows; no page was requested twice except the retried ones.
    pages = [s.path for s in fake.log]
    assert all("page_size=20" in p for p in pages)
    assert len(pages) == len(set(pages)) + 4

    before = {t: rows(db, f"SELECT count(*) n FROM {t}")[0]["n"]
              for t in ("models", "rejects", "failures")}
    await crawl("modelscope_models", fake, db, args={"orgs": "BAAI,Deepseek,01-AI"})
    after = {t: rows(db, f"SELECT count(*) n FROM {t}")[0]["n"]
             for t in ("models", "rejects", "failures")}
    assert after == before


@async_test
async def test_errors_are_recorded_and_the_3000_cap_is_reported(crawl, fake, tmp_path):
    db = tmp_path / "osir.db"
    fake.add_fault(match="owner=deepseek-ai&page_number=2", status=200, times=99,
                   body={"success": False, "code": "OperationNotAllowed", "message": "denied"})
    fake.add_fault(match="owner=01ai", status=400, times=99,
                   body={"success": False, "code": "InputParameterError", "message": "bad"})
    # A cap of 40 rows (2 pages of 20) stands in for the API's 3000.
    unfinished = await crawl("modelscope_models", fake, db,
                             settings={"RETRY_TIMES": 1, "MODELSCOPE_MAX_ROWS": 40},
                             args={"orgs": "BAAI,Deepseek,01-AI"}, check=False)
    assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    failures = rows(db, "SELECT status, reason FROM failures ORDER BY reason")
    baai_total = len([m for m in fake.data.models if m.get("id", "").startswith("BAAI/")
                      or m.get("owner") == "BAAI"])
    assert failures == sorted([
        {"status": 400, "reason": "HTTP 400 InputParameterError: bad"},
        {"status": 200, "reason": "ModelScope error OperationNotAllowed: denied"},
        {"status": 200, "reason": f"BAAI has {baai_total} models; the OpenAPI lists only the "
                                  "first 40 (page_number * page_size <= 40)"},
    ], key=lambda f: f["reason"])
    counts = {r["org"]: r["n"] for r in rows(db, "SELECT org, count(*) n FROM models GROUP BY org")}
    assert counts["BAAI"] == 40 - len(INVALID)  # the first 40 rows, less the invalid ones
    assert counts["Deepseek"] == 20  # page 1 of 20 before page 2 failed
    assert "01-AI" not in counts
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    assert crawl_row["outcome"] == "incomplete" and crawl_row["failed_requests"] == 3


@async_test
async def test_datasets_and_token(crawl, fake, tmp_path):
    db = tmp_path / "osir.db"
    token = "ms-secretTOKEN456"
    proc = await crawl("modelscope_datasets", fake, db, args={"orgs": "BAAI"},
                       env={"MODELSCOPE_API_TOKEN": token}, settings={"LOG_LEVEL": "DEBUG"})
    expected = valid(fake.data.datasets, {"BAAI"})
    stored = rows(db, "SELECT * FROM datasets ORDER BY repo_id")
    assert [r["repo_id"] for r in stored] == sorted(d["id"] for d in expected)
    row = stored[0]
    source = next(d for d in expected if d["id"] == row["repo_id"])
    assert (row["org"], row["downloads_total"], row["likes"]) == (
        "BAAI", source["downloads"], source["likes"])
    assert row["url"] == f"{fake.url}/datasets/{row['repo_id']}"
    assert fake.log and all(s.headers.get("Authorization") == f"Bearer {token}"
                            for s in fake.log)
    assert token not in proc.log + proc.out
    assert token.encode() not in db.read_bytes()


@pytest.mark.slow  # Chromium
@pytest.mark.parametrize("spider", ["modelscope_models", "modelscope_datasets"])
@async_test
async def test_community_counts_from_the_repo_pages(crawl, spider, tmp_path):
    """The 交流反馈 tab of each repo page above OSIR_MIN_DOWNLOADS, rendered in Chromium (no
    API is documented), as the OSIR-LMTS crawler read it; a page without the tab is retried,
    then recorded; repos under the threshold get no page."""
    kind = spider.split("_")[1]
    data = ScopeData.synthetic({"BAAI": 24})
    repos = getattr(data, kind)
    low, broken = repos[0], repos[1]
    low["downloads"], broken["downloads"] = 3, 5000
    data.community[repos[2]["id"]] = 12_345  # shown as "12,345"
    db = tmp_path / "osir.db"
    with FakeModelScope(data) as fake:
        fake.add_fault(match=f"/{kind}/{broken['id']}", status=200, times=99,
                       body="<html><body><main>维护中</main></body></html>")
        # The broken page is waited for twice: 6 s each, not the default 15.
        run = await crawl(spider, fake, db, settings={"MODELSCOPE_COMMUNITY": 1,
                                                      "RETRY_TIMES": 1,
                                                      "OSIR_BROWSER_SETTLE_TIMEOUT": 6},
                          args={"orgs": "BAAI"}, check=False)
        assert run.status == 1 and "osir-crawl:" in run.line  # not finished: exit 1
    stored = {r["repo_id"]: r for r in rows(db, f"SELECT * FROM {kind}")}
    assert len(stored) == len(repos)
    for repo in repos:
        got = stored[repo["id"]]["discussions"]
        if repo in (low, broken):
            assert got is None
        else:
            assert got == data.community[repo["id"]], repo["id"]
    assert stored[repos[2]["id"]]["discussions"] == 12_345
    pages = [s.path for s in fake.log if s.path.startswith(f"/{kind}/")]
    assert f"/{kind}/{low['id']}" not in pages
    assert pages.count(f"/{kind}/{broken['id']}") == 2  # retried once
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["reason"] == "no 交流反馈 tab on the repo page"
    assert failure["repo_id"] == broken["id"] and failure["item_type"] == kind
    # What crawlall's progress line reads: the listing's total, the pages Chromium rendered.
    assert (run.stats["osir/progress/listings"], run.stats["osir/progress/announced"],
            run.stats["osir/progress/expected"]) == (1, 1, len(repos))
    assert run.stats["osir/browser/pages_queued"] == run.stats["osir/browser/pages_done"] \
        == len(pages) == len(repos)  # every repo but the low one; the broken one twice


@pytest.mark.parametrize("value, community", [("0", False), ("", True), (None, True)])
def test_community_pages_follow_the_environment(value, community, monkeypatch, cli):
    """As every platform setting: the variable of the same name (README: ``export
    MODELSCOPE_COMMUNITY=0``), then the default (the pages are read)."""
    monkeypatch.delenv("MODELSCOPE_COMMUNITY", raising=False)
    if value is not None:
        monkeypatch.setenv("MODELSCOPE_COMMUNITY", value)
    proc = cli.scrapy("settings", "--getbool", "MODELSCOPE_COMMUNITY")
    assert proc.out.strip() == str(community), proc.err
