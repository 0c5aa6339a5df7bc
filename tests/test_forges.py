"""End to end: the forge spiders (GitHub, Gitee, GitCode, OpenI), pipelines and SQLite store
against the loopback forge fakes."""

from __future__ import annotations

import json
import time

import pytest

from osir_crawl.spiders._forge import license_name
from tests.conftest import async_test, rows
from tests.fakes.base import FixedWindow
from tests.fakes.forges import FakeForge, ForgeData, repo_row


SNAPSHOT = "2025-09-07"
SPIDERS = {"github": ("github_repos", "GITHUB_API_URL"), "gitee": ("gitee_repos", "GITEE_API_URL"),
           "gitcode": ("gitcode_repos", "GITCODE_API_URL"), "openi": ("openi_repos", "OPENI_ENDPOINT")}


def write_orgs(tmp_path, platform: str, accounts: dict[str, list[str]]):
    path = tmp_path / "orgs.yaml"
    path.write_text("".join(f"{org}:\n  {platform}: [{', '.join(names)}]\n"
                            for org, names in accounts.items()))
    return path


@pytest.fixture
def crawl(crawl):
    """The in-process crawl (tests/conftest.py) with this module's settings."""
    async def run(style, fake, db, orgs_file, settings=None, **kw):
        spider, endpoint = SPIDERS[style]
        return await crawl(spider, db, {endpoint: fake.api_url, "OSIR_SNAPSHOT": SNAPSHOT,
                                        "OSIR_ORGS": orgs_file, "OSIR_FORGE_PAGE_SIZE": 7,
                                        **(settings or {})}, **kw)
    return run


def expected_repos(fake, orgs):
    return sorted((r for org in orgs for r in fake.data.repos[org.casefold()]),
                  key=lambda r: r["full_name"])


@pytest.mark.slow  # timeouts and Retry-After waits
@async_test
async def test_github_pages_contributors_rate_limits_and_token(crawl, tmp_path):
    data = ForgeData.synthetic("github", {"FlagOpen": 23, "baaivision": 5, "deepseek-ai": 8})
    data.repos["flagopen"].append({"full_name": "FlagOpen/bad", "html_url": "https://github.com/"
                                   "FlagOpen/bad", "stargazers_count": -1})
    orgs = write_orgs(tmp_path, "github", {"BAAI": ["FlagOpen", "baaivision"],
                                           "Deepseek": ["deepseek-ai"]})
    db, token = tmp_path / "osir.db", "ghp_SECRETtoken42"
    # 10 requests per 2 s in GitHub's header style: the crawl needs ~27, so it must wait.
    with FakeForge("github", data, rate_limit=FixedWindow(10, 2, style="github")) as fake:
        # A primary-limit 403 (remaining 0, reset in 1 s) and a secondary-limit 403 (retry-after).
        fake.add_fault(match="page=2", status=403, body={"message": "API rate limit exceeded"},
                       headers={"x-ratelimit-remaining": "0",
                                "x-ratelimit-reset": str(int(time.time()) + 1)})
        fake.add_fault(match="repo-0003/contributors", status=403, headers={"retry-after": "1"},
                       body={"message": "You have exceeded a secondary rate limit"})
        fake.add_fault(match="repo-0005/contributors", status=500, times=99)
        proc = await crawl("github", fake, db, orgs, settings={"RETRY_TIMES": 1, "LOG_LEVEL": "DEBUG"},
                           env={"GITHUB_TOKEN": token}, check=False)
        assert proc.status == 1 and "osir-crawl:" in proc.line  # not finished: exit 1

    stored = {r["repo_id"]: r for r in rows(db, "SELECT * FROM repos")}
    valid = [r for r in expected_repos(fake, ["FlagOpen", "baaivision", "deepseek-ai"])
             if r["full_name"] != "FlagOpen/bad"]
    assert sorted(stored) == [r["full_name"] for r in valid]  # nothing lost to the rate limits
    for repo in valid:
        row = stored[repo["full_name"]]
        assert row["org"] == ("Deepseek" if repo["full_name"].startswith("deepseek") else "BAAI")
        # A listing's watchers_count is the star count: watchers NULL (subscribers_count is
        # only on the repository endpoint).
        assert (row["stars"], row["forks"], row["watchers"], row["open_issues"]) == (
            repo["stargazers_count"], repo["forks_count"], None, repo["open_issues_count"])
        assert row["license"] == license_name(repo["license"])
        assert (row["archived"], row["fork"]) == (int(repo["archived"]), int(repo["fork"]))
        assert row["pushed_at"] == repo["pushed_at"] and row["url"] == repo["html_url"]
        if repo["stargazers_count"] < 10 or repo["full_name"].endswith("repo-0005"):
            assert row["contributors"] is None  # below OSIR_MIN_STARS, or its request failed
        else:
            assert row["contributors"] == data.contributors[repo["full_name"]]
    [reject] = rows(db, "SELECT * FROM rejects")
    assert reject["repo_id"] == "FlagOpen/bad" and "stars is -1" in reject["reason"]
    failures = rows(db, "SELECT * FROM failures")
    assert sorted(f["repo_id"] for f in failures) == [
        r["full_name"] for r in valid
        if r["full_name"].endswith("repo-0005") and r["stargazers_count"] >= 10]
    assert {f["status"] for f in failures} == {500}
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    stats = json.loads(crawl_row["stats"])
    assert crawl_row["outcome"] == "incomplete" and crawl_row["rate_limited"] >= 2  # both 403s
    # x-ratelimit-remaining reached 0: the crawl paused until the reset instead of hammering on.
    # (Requests already in flight when it did can still meet a 429; they are retried.)
    assert len(fake.log) > 20 and stats["osir/rate_limit/pauses/exhausted"] >= 1
    assert "osir/rate_limit/gave_up" not in stats
    # The token went in the header, to the fake's host only, and nowhere else.
    assert all(s.headers.get("Authorization") == f"Bearer {token}" for s in fake.log)
    assert all(s.headers.get("X-Github-Api-Version") == "2022-11-28" for s in fake.log)
    assert token not in proc.log + proc.out and token.encode() not in db.read_bytes()


@pytest.mark.parametrize("style", ["gitee", "gitcode", "openi"])
@async_test
async def test_v5_and_gitea_forges_page_to_the_end(crawl, style, tmp_path):
    data = ForgeData.synthetic(style, {"mindspore": 15, "ascend": 7, "Empty": 0})
    orgs = write_orgs(tmp_path, style, {"Huawei": ["mindspore", "ascend", "Empty", "Gone"]})
    db, token = tmp_path / "osir.db", f"{style}-SECRET-token"
    with FakeForge(style, data, token=token if style == "gitcode" else None) as fake:
        fake.add_fault(match="page=2", status=502)  # transient: retried
        fake.add_fault(match="/orgs/ascend/repos", status=200, body=b'[{"full_na', times=1)
        proc = await crawl(style, fake, db, orgs, env={f"{style.upper()}_TOKEN": token},
                           settings={"LOG_LEVEL": "DEBUG"}, check=False)
        assert proc.status == 1 and "osir-crawl:" in proc.line  # not finished: exit 1
    stored = rows(db, "SELECT * FROM repos ORDER BY repo_id")
    expected = expected_repos(fake, ["mindspore", "ascend"])
    assert [r["repo_id"] for r in stored] == [r["full_name"] for r in expected]
    for row, repo in zip(stored, expected):
        assert row["org"] == "Huawei" and row["platform"] == style
        assert row["stars"] == repo.get("stargazers_count", repo.get("stars_count"))
        assert not row["url"].endswith(".git") and row["contributors"] is None
        assert row["pushed_at"] == repo.get("pushed_at", repo.get("updated_at"))
        assert row["language"] == repo.get("language")  # GitCode's listing has none
        assert row["mirror"] == (None if style != "openi" else int(repo["mirror"]))
        assert row["fork"] == int(repo["fork"])  # GitCode: the integer 1/0 of its schema
        if style == "openi":  # Gitea's licenses list
            assert row["license"] == (", ".join(repo["licenses"]) or None)
            assert row["archived"] == 0
        else:  # no archived field: the status string
            assert row["archived"] == {"开始": 0, "关闭": 1}[repo["status"]]
            assert row["license"] == repo["license"]
    # mindspore: 15 rows, 7 a page -> pages 1..3; with no total header (GitCode) a 4th, short
    # page is never needed because page 3 is already short. The empty org needs one request.
    listing = [s.path for s in fake.log if "/orgs/mindspore/" in s.path and s.status == 200]
    assert len(listing) == 3
    assert len([s for s in fake.log if "/orgs/Empty/" in s.path]) == 1
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["status"] == 404 and "/orgs/Gone/repos" in failure["url"]
    if style == "gitcode":  # the documented query parameter, and no header
        assert all(f"access_token={token}" in s.path for s in fake.log)
        assert not any(s.headers.get("Authorization") for s in fake.log)
    else:
        assert all(s.headers.get("Authorization") == f"token {token}" for s in fake.log)
        assert all("token" not in s.path for s in fake.log)  # never in the URL
    assert token not in proc.log + proc.out and token.encode() not in db.read_bytes()


@async_test
async def test_github_secondary_limit_without_retry_after_is_waited_out(crawl, tmp_path):
    """GitHub's secondary limit as recorded (403, requests remaining, no Retry-After): paused
    at least OSIR_RATE_LIMIT_SECONDARY_WAIT, longer on repeats, retried on the rate-limit
    budget, never a failure; the crawl is complete."""
    data = ForgeData.synthetic("github", {"FlagOpen": 12})
    orgs = write_orgs(tmp_path, "github", {"BAAI": ["FlagOpen"]})
    db = tmp_path / "osir.db"
    with FakeForge("github", data, secondary_limit=3) as fake:
        await crawl("github", fake, db, orgs, settings={"OSIR_RATE_LIMIT_SECONDARY_WAIT": 0.2,
                                                       "RETRY_TIMES": 0})
    assert sorted(r["repo_id"] for r in rows(db, "SELECT repo_id FROM repos")) == \
        [r["full_name"] for r in expected_repos(fake, ["FlagOpen"])]
    assert not rows(db, "SELECT * FROM failures")
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    stats = json.loads(crawl_row["stats"])
    assert crawl_row["outcome"] == "finished"
    assert stats["osir/rate_limit/secondary"] >= 2 and stats["osir/rate_limit/pauses/secondary"]
    assert len([s for s in fake.log if s.status == 403]) == stats["osir/rate_limit/secondary"]


@pytest.mark.slow  # timeouts and Retry-After waits
@async_test
async def test_gitcode_token_is_in_the_url_only_on_the_wire(crawl, tmp_path):
    """The token GitCode wants in the query string reaches GitCode and nothing else: not the
    log (DEBUG), the stats, the JOBDIR queue (retried requests), the failures' URLs or
    reasons (a timeout's message names the URL), nor the store."""
    data = ForgeData.synthetic("gitcode", {"mindspore": 15, "Ascend": 3})
    orgs = write_orgs(tmp_path, "gitcode", {"Huawei": ["mindspore", "Ascend"]})
    db, token, jobdir = tmp_path / "osir.db", "gc-SECRET-5f0e7", tmp_path / "job"
    with FakeForge("gitcode", data, token=token) as fake:
        fake.add_fault(match="/orgs/mindspore/repos", status=503, times=3)
        fake.add_fault(match="/orgs/Ascend/repos", delay=3, times=99)  # beyond the timeout
        proc = await crawl("gitcode", fake, db, orgs, env={"GITCODE_TOKEN": token}, settings={
            "LOG_LEVEL": "DEBUG", "JOBDIR": jobdir, "DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 3},
            check=False)
        assert proc.status == 1 and "osir-crawl:" in proc.line  # not finished: exit 1
        assert all(f"access_token={token}" in s.path for s in fake.log)
        assert len(rows(db, "SELECT * FROM repos")) == 15
        [failure] = rows(db, "SELECT * FROM failures")
        assert "took longer than" in failure["reason"] and "/orgs/Ascend/repos" in failure["url"]
        assert "access_token" not in failure["url"]
        assert token not in proc.out + proc.log
        assert not [p for p in tmp_path.rglob("*") if p.is_file() and token.encode()
                    in p.read_bytes()]
        assert json.loads(rows(db, "SELECT stats FROM crawls")[0]["stats"])["retry/count"] >= 3

        # Without a token GitCode refuses every request (the two listings and the catalogued
        # repository): said once, and each one on record.
        fake.log.clear()
        proc = await crawl("gitcode", fake, tmp_path / "anon.db", orgs, settings={"RETRY_TIMES": 0},
                           check=False)
        assert proc.status == 1 and "osir-crawl:" in proc.line  # not finished: exit 1
    assert "requires an access token" in proc.log
    assert {s.status for s in fake.log} == {401}
    failures = rows(tmp_path / "anon.db", "SELECT * FROM failures")
    assert [f["status"] for f in failures] == [401] * len(fake.log)
    assert sum("/orgs/" in f["url"] for f in failures) == 2


@pytest.mark.parametrize("legacy", [False, True], ids=["gitea-links", "pre-1.13-links"])
@async_test
async def test_openi_follows_gitea_link_headers(crawl, legacy, tmp_path):
    """OpenI (Gitea) pages by ``Link``: the spider takes the next page's number from it and
    keeps its own ``limit``, which a pre-1.13 Gitea drops from the link."""
    data = ForgeData.synthetic("openi", {"BAAI": 23})
    orgs = write_orgs(tmp_path, "openi", {"BAAI": ["BAAI"]})
    db = tmp_path / "osir.db"
    with FakeForge("openi", data, legacy_links=legacy) as fake:
        await crawl("openi", fake, db, orgs)
    assert [r["repo_id"] for r in rows(db, "SELECT repo_id FROM repos ORDER BY repo_id")] == \
        [r["full_name"] for r in expected_repos(fake, ["BAAI"])]
    pages = [s.path for s in fake.log]
    assert len(pages) == 4 and all("limit=7" in p for p in pages)  # 23 rows, 7 a page
    assert [p.split("page=")[1].split("&")[0] for p in pages] == ["1", "2", "3", "4"]


@async_test
async def test_github_contributor_list_too_large_is_unknown_not_a_failure(crawl, tmp_path):
    data = ForgeData.synthetic("github", {"FlagOpen": 6})
    big = [r["full_name"] for r in data.repos["flagopen"] if r["stargazers_count"] >= 10][0]
    data.too_large.add(big)
    orgs = write_orgs(tmp_path, "github", {"BAAI": ["FlagOpen"]})
    db = tmp_path / "osir.db"
    with FakeForge("github", data) as fake:
        proc = await crawl("github", fake, db, orgs)
    stored = {r["repo_id"]: r for r in rows(db, "SELECT * FROM repos")}
    assert stored[big]["contributors"] is None
    assert any(r["contributors"] is not None for r in stored.values())
    assert not rows(db, "SELECT * FROM failures")
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    assert crawl_row["outcome"] == "finished"
    assert json.loads(crawl_row["stats"])["osir/github/contributors_too_large"] == 1
    assert f"{big}: GitHub cannot list its contributors" in proc.log
    assert len([s for s in fake.log if big in s.path]) == 1  # not retried


@async_test
async def test_recrawl_replaces_the_snapshot(crawl, tmp_path):
    data = ForgeData.synthetic("github", {"FlagOpen": 9})
    orgs = write_orgs(tmp_path, "github", {"BAAI": ["FlagOpen"]})
    db = tmp_path / "osir.db"
    with FakeForge("github", data) as fake:
        await crawl("github", fake, db, orgs)
        gone = data.repos["flagopen"].pop(0)["full_name"]  # deleted upstream
        await crawl("github", fake, db, orgs)
    stored = [r["repo_id"] for r in rows(db, "SELECT repo_id FROM repos ORDER BY repo_id")]
    assert len(stored) == 8 and gone not in stored
    assert stored == sorted(r["full_name"] for r in data.repos["flagopen"])
    first, second = rows(db, "SELECT * FROM crawls ORDER BY started_at, rowid")
    assert (first["stale_removed"], second["stale_removed"]) == (0, 1)
    assert {r["crawl_id"] for r in rows(db, "SELECT crawl_id FROM repos")} == {
        second["crawl_id"]}  # every row rewritten by the second crawl


def test_licence_and_repo_row_shapes():
    assert license_name({"spdx_id": "MIT"}) == "MIT" and license_name("Apache-2.0") == "Apache-2.0"
    assert license_name(None) is None and license_name("") is None
    import random
    assert repo_row("gitee", "a/b", random.Random(1))["html_url"].endswith(".git")
