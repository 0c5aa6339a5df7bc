"""End to end: baai_datasets against the fake — the JSON listing, and the browser fallback
(Debian's Chromium) when the API refuses anonymous calls."""

from __future__ import annotations

import json

import pytest

from tests.conftest import async_test, rows
from tests.fakes.baai import API, SESSION, FakeBaai, load_datasets


INVALID = [{"id": 1, "uriName": "Negative", "downloadNumb": -2, "subscribedNumb": 0},
           {"id": 2, "datasetName": "no uri", "downloadNumb": 4, "subscribedNumb": 0}]


@pytest.fixture
def datasets():
    data = load_datasets()
    data[3:3] = INVALID
    return data


@pytest.fixture
def crawl(crawl):
    """The in-process crawl (tests/conftest.py) with this module's settings."""
    async def run(fake, db, **kw):
        settings = {"BAAI_DATA_URL": fake.url, "OSIR_SNAPSHOT": "2025-09-07",
                    **kw.pop("settings", {})}
        return await crawl("baai_datasets", db, settings, **kw)
    return run


def expected(datasets) -> dict[str, tuple]:
    return {f"BAAI/{d['uriName']}": (d["downloadNumb"], d["subscribedNumb"])
            for d in datasets if d not in INVALID and d["subscribedNumb"] >= 0}


@async_test
async def test_json_listing_paged_by_offset(crawl, datasets, tmp_path):
    db = tmp_path / "osir.db"
    with FakeBaai(datasets) as fake:
        fake.add_fault(match=API, status=503, skip=1)  # the second page, once
        proc = await crawl(fake, db, settings={"BAAI_PAGE_SIZE": 20}, args={"orgs": "BAAI,Deepseek"})
        assert "Starting download handler" not in proc.log  # Playwright was never started
        stored = rows(db, "SELECT * FROM datasets")
        assert {r["repo_id"]: (r["downloads_total"], r["likes"]) for r in stored} \
            == expected(datasets)
        assert len(stored) == len(expected(datasets))
        first = next(d for d in datasets if d not in INVALID)
        row = next(r for r in stored if r["repo_id"] == f"BAAI/{first['uriName']}")
        assert (row["platform"], row["org"], row["owner"], row["name"]) == (
            "baai_data", "BAAI", "BAAI", first["uriName"])
        assert row["url"] == f"{fake.url}/datadetail/{first['uriName']}"
        assert json.loads(row["tags"]) == first["tags"]
        assert row["created_at"] == first["createTime"] and row["downloads"] is None
        assert sorted(r["reason"] for r in rows(db, "SELECT * FROM rejects")) == sorted([
            "downloads_total is -2: counts cannot be negative",
            "repo_id is missing (got None)",
        ] + [f"likes is {d['subscribedNumb']}: counts cannot be negative"  # in the real data
             for d in datasets if d not in INVALID and d["subscribedNumb"] < 0])
        posts = [s for s in fake.log if s.method == "POST"]
        assert len(posts) == -(-len(datasets) // 20) + 1  # the pages, and the 503 retried
        [crawl_row] = rows(db, "SELECT * FROM crawls")
        assert crawl_row["outcome"] == "finished" and crawl_row["retries"] == 1
        assert "playwright/browser_count" not in json.loads(crawl_row["stats"])  # no browser

        before = rows(db, "SELECT count(*) n FROM datasets")
        await crawl(fake, db, args={"orgs": "BAAI"})
        assert rows(db, "SELECT count(*) n FROM datasets") == before

        fake.log.clear()  # an org without baai_data: nothing to ask
        await crawl(fake, tmp_path / "other.db", args={"orgs": "Deepseek"})
        assert not fake.log


@pytest.mark.slow  # Chromium
@pytest.mark.parametrize("refusal", FakeBaai.REFUSALS)
@async_test
async def test_browser_fallback_on_every_form_of_refusal(crawl, refusal, datasets, tmp_path):
    """401/403, or a 200 with an error code, an empty body or a login page: the page is read
    instead, with the session it obtains (no credentials configured)."""
    db = tmp_path / "osir.db"
    with FakeBaai(datasets, refusal=refusal) as fake:
        proc = await crawl(fake, db)
        assert proc.log.count("Starting download handler") == 1  # on the first page, once
        stored = rows(db, "SELECT * FROM datasets")
        assert {r["repo_id"]: (r["downloads_total"], r["likes"]) for r in stored} \
            == expected(datasets)
        assert {r["org"] for r in stored} == {"BAAI"}
        assert len(rows(db, "SELECT * FROM rejects")) == len(datasets) - len(stored)
        [crawl_row] = rows(db, "SELECT * FROM crawls")
        assert crawl_row["outcome"] == "finished"
        stats = json.loads(crawl_row["stats"])
        assert stats["osir/baai/browser_fallback"] == 1
        form = {"401": "HTTP_401", "403": "HTTP_403", "error_code": "code_401",
                "empty": "empty_body", "login_page": "html_page"}[refusal]
        assert stats[f"osir/baai/refusal/{form}"] == 1
        assert stats["playwright/request_count/aborted"] >= 12  # cover images, stylesheet
        calls = [(s.status, SESSION in (s.headers.get("Cookie") or ""))
                 for s in fake.log if s.method == "POST"]
        # Refused without a session; then the page's own call and the full one from the page.
        status = int(refusal) if refusal in ("401", "403") else 200
        assert calls[0] == (status, False) and calls[1:] == [(200, True)] * (len(calls) - 1)
        assert len(calls) >= 3
        assert not [s for s in fake.log if s.path.startswith("/static/cover")]


@pytest.mark.slow  # Chromium
@async_test
async def test_fallback_that_finds_no_listing_is_a_failure(crawl, datasets, tmp_path):
    db = tmp_path / "osir.db"
    with FakeBaai(datasets, require_session=True) as fake:
        fake.add_fault(match="/dataset", status=200, times=99,
                       body="<html><body>维护中</body></html>")
        unfinished = await crawl(fake, db, settings={"RETRY_TIMES": 0}, check=False)
        assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["reason"] == "the /dataset page fetched no dataset listing"
    assert rows(db, "SELECT outcome FROM crawls") == [{"outcome": "incomplete"}]
