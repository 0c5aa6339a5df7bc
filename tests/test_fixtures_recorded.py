"""Recorded answers of the real services (each fixture's sidecar, ``<name>.source.json``, names
its public source) and the divergences they showed, fed to the spiders' callbacks and to the
middlewares; written answers stand in only where no recording exists (sidecar ``recorded:
false``). See docs/platforms.md, "Where each fixture comes from"."""

from __future__ import annotations

import json

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from osir_crawl.items import RepoItem
from osir_crawl.middlewares import RateLimitMiddleware
from osir_crawl.middlewares.rate_limits import MARGIN
from osir_crawl.inputs.registry import Account
from osir_crawl.spiders.gitcode import GitcodeReposSpider
from osir_crawl.spiders.gitee import GiteeReposSpider
from osir_crawl.spiders.github import GithubReposSpider
from osir_crawl.spiders.huggingface import HuggingfaceModelsSpider
from osir_crawl.spiders.lmarena import LmarenaSpider
from osir_crawl.spiders.openi import OpeniReposSpider
from osir_crawl.pipelines.validation import problems
from tests.spider_fixtures import FIXTURES, build, feed, fixture, recorded, sidecar, started, stats

GITHUB = "https://api.github.com"


def test_every_fixture_says_where_it_comes_from():
    for path in FIXTURES.rglob("*"):
        if not path.is_file() or path.name.endswith((".source.json", ".md", ".pyc")):
            continue
        if path.relative_to(FIXTURES).parts[0] == "legacy_import":
            meta = json.loads((FIXTURES / "legacy_import/2025-09-07.source.json").read_text())
        else:
            name = str(path.relative_to(FIXTURES)).rsplit(".", 1)[0]
            if not (FIXTURES / f"{name}.source.json").is_file():
                pytest.fail(f"tests/fixtures/{name}.source.json is missing: say where the "
                            "answer comes from (recorded: its public source, status and "
                            "headers; written: why), see docs/platforms.md")
            meta = sidecar(name)
        if meta["recorded"]:
            assert meta["source"].get("commit") or meta["source"].get("url"), path
            assert meta["source"].get("licence") and "status" in meta, path
        else:
            assert meta["why"], path


# --- GitHub ------------------------------------------------------------------------------------
def test_github_repository_endpoint_gives_the_real_watchers():
    """The recorded repository answer (octokit/fixtures): ``watchers_count`` 0 is the star
    count, ``subscribers_count`` 1 the watchers; a listing row has only the former."""
    spider = build(GithubReposSpider, orgs="BAAI")
    row = json.loads(fixture("github_repos/repo-hello-world.json"))
    item = spider.item_from(row, Account("github", "octokit-fixture-org", "BAAI"))
    assert (item.repo_id, item.url, item.stars, item.watchers, item.forks, item.open_issues,
            item.archived, item.fork, item.license, item.language, item.pushed_at) == (
        "octokit-fixture-org/hello-world", "https://github.com/octokit-fixture-org/hello-world",
        0, 1, 0, 0, False, False, None, None, "2017-11-03T20:11:46Z")
    assert problems(item) == []
    listing_row = {k: v for k, v in row.items() if k != "subscribers_count"}
    assert spider.item_from(listing_row, Account("github", "x", "BAAI")).watchers is None
    assert stats(spider)["osir/null/watchers/listing_has_only_stars"] == 1

    # The same recorded answer through the catalogue check, which asks that endpoint.
    [check] = [r for r in started(spider) if r.url == f"{GITHUB}/repos/FlagOpen/FlagScale"]
    [], (contributors, tree, *_) = feed(check, "github_repos/repo-hello-world.json",
                                    **recorded("github_repos/repo-hello-world"))
    assert tree.url == f"{GITHUB}/repos/FlagOpen/FlagScale/git/trees/master?recursive=1"
    catalogued = contributors.cb_kwargs["item"]  # where this endpoint is asked: the watchers
    assert (catalogued.stars, catalogued.watchers, catalogued.archived) == (0, 1, False)


def secondary_limit(url: str) -> Response:
    """GitHub's secondary-limit 403 as recorded: remaining 14, a reset, no Retry-After."""
    meta = sidecar("github_repos/secondary-limit-403")
    return Response(url, status=meta["status"], headers=meta["headers"],
                    body=fixture("github_repos/secondary-limit-403.json"))


@pytest.mark.parametrize("least", [60.0, 0.25])  # the default, and a test's small setting
def test_github_secondary_limit_is_waited_out_longer_on_repeats(least):
    crawler = get_crawler(settings_dict={"OSIR_RATE_LIMIT_SECONDARY_WAIT": least,
                                         "OSIR_RATE_LIMIT_MAX_WAIT": least * 3,
                                         "OSIR_RATE_LIMIT_MAX_RETRIES": 30})
    middleware = RateLimitMiddleware.from_crawler(crawler)
    url = f"{GITHUB}/orgs/FlagOpen/repos?type=public&per_page=100"
    request, waits = Request(url), []
    for _ in range(3):
        retry = middleware.process_response(request, secondary_limit(url))
        assert isinstance(retry, Request) and retry.dont_filter  # waited out, not a failure
        assert "retry_times" not in retry.meta  # not RETRY_TIMES: the rate limit's own budget
        window = middleware.window(url)
        waits.append(window.paused_until - window.clock() - MARGIN)
        window.paused_until = 0.0  # as if the wait had passed
        request = retry
    # At least a minute (the setting), doubled on each repeat, capped at OSIR_RATE_LIMIT_MAX_WAIT.
    assert waits == pytest.approx([least, 2 * least, 3 * least], abs=0.05)
    assert request.meta["osir_rate_limit_retries"] == 3
    assert middleware.window(url).budget == 14  # the primary window's requests still stand
    ok = Response(url, status=200, headers={"x-ratelimit-remaining": "13"})
    assert middleware.process_response(request, ok) is ok  # served: waits start over
    middleware.process_response(Request(url), secondary_limit(url))
    window = middleware.window(url)
    assert window.paused_until - window.clock() - MARGIN == pytest.approx(least, abs=0.05)
    crawl_stats = crawler.stats.get_stats()
    assert crawl_stats["osir/rate_limit/secondary"] == 4
    assert crawl_stats["osir/rate_limit/pauses/secondary"] == 4
    assert "osir/rate_limit/gave_up" not in crawl_stats


def test_a_403_that_is_not_a_rate_limit_is_left_to_the_spider():
    middleware = RateLimitMiddleware.from_crawler(get_crawler())
    url = f"{GITHUB}/repos/torvalds/linux/contributors?per_page=1&anon=true"
    too_large = Response(url, status=403, headers={"x-ratelimit-remaining": "4000"},
                         body=b'{"message": "The history or contributor list is too large to '
                              b'list contributors for this repository via the API."}')
    assert middleware.process_response(Request(url), too_large) is too_large


# --- Gitee, GitCode, OpenI (Gitea) ---------------------------------------------------------------
def test_gitee_recorded_listing_reads_status_for_archived():
    spider = build(GiteeReposSpider, orgs="Baidu")
    listing = started(spider)[0]
    [item], [following] = feed(listing, "gitee_repos/repos-kit101.json",
                               **recorded("gitee_repos/repos-kit101"))
    assert (item.repo_id, item.url, item.stars, item.forks, item.watchers, item.open_issues,
            item.language, item.license, item.archived, item.fork, item.pushed_at) == (
        "kit101/drone-yml-test", "https://gitee.com/kit101/drone-yml-test", 0, 0, 1, 2, None,
        None, False, False, "2021-09-30T18:10:23+08:00")  # status "开始": not archived
    assert following.cb_kwargs["page"] == 2  # total_page 3
    assert not [k for k in stats(spider) if k.startswith("osir/null/")]  # all sent
    row = json.loads(fixture("gitee_repos/repos-kit101.json"))[0]
    account = Account("gitee", "kit101", "Baidu")
    assert spider.item_from({**row, "status": "关闭"}, account).archived is True
    assert spider.item_from({**row, "status": "暂停"}, account).archived is None  # unknown
    assert stats(spider)["osir/null/archived/status_暂停"] == 1


def test_gitcode_documented_answer_and_integer_booleans():
    spider = build(GitcodeReposSpider, orgs="Huawei")
    listing = started(spider)[0]
    [item], [] = feed(listing, "gitcode_repos/repos-openharmony.json",
                      **recorded("gitcode_repos/repos-openharmony"))
    assert (item.repo_id, item.url, item.stars, item.forks, item.watchers, item.license,
            item.archived, item.fork, item.language) == (
        "openharmony/.gitee", "https://gitcode.com/openharmony/.gitee", 0, 4, 1, None, False,
        False, None)
    assert stats(spider)["osir/null/language/gitcode_lists_no_language"] == 1
    # The newer documented schema: fork (and private, public) as the integers 1/0.
    items, [] = feed(listing, "gitcode_repos/repos-integer-booleans.json")
    assert [(i.repo_id, i.fork, i.archived) for i in items] == [
        ("mindspore/mindspore", False, False), ("mindspore/mindspore-legacy", True, True)]
    assert [problems(i) for i in items] == [[], []]  # not rejected ("fork is 0")


def test_integer_booleans_are_valid_and_other_integers_are_not():
    repo = RepoItem(platform="gitcode", repo_id="a/b", org="Huawei", owner="a", name="b",
                    url="https://gitcode.com/a/b", fork=0, archived=1)
    assert problems(repo) == []
    repo.fork = 2
    assert problems(repo) == ["fork is 2: expected true or false"]


def test_openi_gitea_recorded_answer_and_the_licenses_list():
    spider = build(OpeniReposSpider, orgs="BAAI")
    listing = started(spider)[0]
    [item], [] = feed(listing, "openi_repos/repos-gitea.json",
                      **recorded("openi_repos/repos-gitea"))
    assert (item.repo_id, item.url, item.stars, item.watchers, item.open_issues, item.archived,
            item.mirror, item.fork, item.pushed_at, item.license) == (
        "go-gitea/gitea", "https://try.gitea.io/go-gitea/gitea", 0, 2, 0, False, False, False,
        "2017-11-16T22:07:01Z", None)
    assert stats(spider)["osir/null/license/no_license"] == 1  # Gitea before 1.22: none sent
    items, _ = feed(listing, "openi_repos/repos-BAAI-page1.json")
    assert [(i.repo_id, i.license) for i in items] == [("BAAI/Aquila2", "Apache-2.0"),
                                                       ("BAAI/FlagEmbedding", None)]
    assert stats(spider)["osir/null/license/no_license"] == 1  # [] is an answer: none found


# --- Hugging Face ------------------------------------------------------------------------------
@pytest.mark.parametrize("answer,descendants", [("model-without-children", None),
                                                ("model-children-by-relation", 412)])
def test_hub_children_count_missing_or_by_relation(answer, descendants):
    spider = build(HuggingfaceModelsSpider, orgs="BAAI")
    _, (children, _) = feed(started(spider)[0], "huggingface_models/models-BAAI.json",
                            headers={"Link": '<https://huggingface.co/api/models?cursor=x>; '
                                             'rel="next"'})
    _, [discussions] = feed(children, f"huggingface_models/{answer}.json")
    [item], [] = feed(discussions, "huggingface_models/discussions-BAAI-bge-m3.json")
    assert item.descendants == descendants and problems(item) == []
    counted = stats(spider).get("osir/null/descendants/no_childrenModelCount")
    assert counted == (1 if descendants is None else None)


# --- LMArena -----------------------------------------------------------------------------------
def test_lmarena_subset_with_score_columns_is_scored_and_ranked():
    spider = build(LmarenaSpider, {"OSIR_SNAPSHOT": "2025-10-01"})
    request = spider.rows_request("lmarena-ai/leaderboard-dataset", "agent", "latest", 0)
    items, [] = feed(request, "lmarena/rows-agent.json")
    entries = {e.model: e for e in items if hasattr(e, "model")}
    assert {m: (e.board, e.rank, e.score) for m, e in entries.items()} == {
        "claude-opus-4-1": ("lmarena_agent", 1, 1342.5),
        "deepseek-v3.1": ("lmarena_agent", 2, 1301.7),
        "qwen3-235b-a22b": ("lmarena_agent", 3, 1288.4)}
    assert entries["deepseek-v3.1"].scores == {"rating_lower": 1290.2, "rating_upper": 1313.2,
                                               "vote_count": 3015}
    assert "osir/null/score/no_rating_or_score" not in stats(spider)
