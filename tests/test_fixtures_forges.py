"""Fixture tests of the forge spiders' callbacks (tests/spider_fixtures.py): GitHub, Gitee,
GitCode, OpenI, and the catalogue checks. Saved answers in tests/fixtures/<spider>/."""

from __future__ import annotations

from osir_crawl.items import CatalogueCountItem, CatalogueRepoItem
from osir_crawl.spiders.gitcode import GitcodeReposSpider
from osir_crawl.spiders.gitee import GiteeReposSpider
from osir_crawl.spiders.github import GithubReposSpider
from osir_crawl.spiders.openi import OpeniReposSpider
from tests.spider_fixtures import build, feed, started, stats

GITHUB = "https://api.github.com"
GITHUB_PAGES = (f'<{GITHUB}/organizations/120623516/repos?type=public&sort=full_name&per_page=100'
                f'&page=2>; rel="next", <{GITHUB}/organizations/120623516/repos?type=public'
                f'&sort=full_name&per_page=100&page=4>; rel="last"')


def test_github_listing_contributors_and_next_page():
    spider = build(GithubReposSpider, orgs="BAAI")
    listing = started(spider)[0]
    assert listing.url == (f"{GITHUB}/orgs/FlagOpen/repos?type=public&sort=full_name&page=1"
                           "&per_page=100")
    assert listing.headers["X-GitHub-Api-Version"] == b"2022-11-28"
    items, (contributors, following) = feed(listing, "github_repos/repos-FlagOpen-page1.json",
                                            headers={"Link": GITHUB_PAGES})
    [notes] = items  # 3 stars, below OSIR_MIN_STARS: no contributors request
    assert (notes.repo_id, notes.org, notes.stars, notes.fork, notes.archived, notes.license,
            notes.language, notes.pushed_at, notes.contributors) == (
        "FlagOpen/FlagAttention-notes", "BAAI", 3, True, True, None, None, None, None)
    assert contributors.url == (f"{GITHUB}/repos/FlagOpen/FlagEmbedding/contributors"
                                "?per_page=1&anon=true")
    assert following.url == GITHUB_PAGES[1:GITHUB_PAGES.index(">")]  # as linked
    assert following.cb_kwargs["page"] == 2

    last = (f'<{GITHUB}/repositories/644325627/contributors?per_page=1&anon=true&page=112>;'
            ' rel="last"')
    [item], [] = feed(contributors, "github_repos/contributors-FlagEmbedding.json",
                      headers={"Link": last})
    assert (item.repo_id, item.url, item.stars, item.forks, item.watchers, item.open_issues,
            item.language, item.license, item.pushed_at, item.contributors) == (
        "FlagOpen/FlagEmbedding", "https://github.com/FlagOpen/FlagEmbedding", 10512, 781,
        None, 655, "Python", "MIT", "2025-09-04T03:16:26Z", 112)
    # A listing's watchers_count is the star count: NULL, with the reason counted.
    assert stats(spider)["osir/null/watchers/listing_has_only_stars"] == 2


def test_github_empty_repository_has_no_contributors():
    spider = build(GithubReposSpider, orgs="BAAI")
    _, (contributors, _) = feed(started(spider)[0], "github_repos/repos-FlagOpen-page1.json",
                                headers={"Link": GITHUB_PAGES})
    [item], [] = feed(contributors, None, status=204)
    assert item.contributors == 0


def test_github_catalogue_repository_and_its_counting_rule():
    spider = build(GithubReposSpider, orgs="BAAI")
    [check] = [r for r in started(spider) if r.url == f"{GITHUB}/repos/FlagOpen/FlagScale"]
    [], (contributors, tree, *others) = feed(check, "github_repos/repo-FlagScale.json")
    assert contributors.cb_kwargs["method"] == "parse_contributors"
    assert tree.url == f"{GITHUB}/repos/FlagOpen/FlagScale/git/trees/main?recursive=1"
    assert [r.cb_kwargs["key"] for r in (tree, *others)] == [
        "flagscale.chips", "flagscale.lifecycle", "flagscale.heterogeneous_training"]
    [repo], [] = feed(contributors, "github_repos/contributors-FlagEmbedding.json")
    assert isinstance(repo, CatalogueRepoItem)
    assert (repo.repo_id, repo.entry, repo.exists, repo.archived, repo.default_branch,
            repo.stars, repo.contributors) == ("FlagOpen/FlagScale", "flagscale", True, False,
                                               "main", 372, 1)
    [count], [] = feed(tree, "github_repos/tree-FlagScale-main.json")
    assert isinstance(count, CatalogueCountItem)
    assert (count.rule, count.field, count.value, count.names, count.refs) == (
        "flagscale.chips", "chips", 3, ["Ascend", "Cambricon_MLU", "Metax_C550"], ["main"])

    [gone], [] = feed(check, None, status=404)  # the repository vanished: an answer
    assert gone.exists is False and stats(spider)["osir/catalogue/repos_missing"] == 1


def test_gitee_pages_by_total_page_and_clone_urls():
    spider = build(GiteeReposSpider, orgs="Baidu")
    listing = started(spider)[0]
    assert listing.url == ("https://gitee.com/api/v5/orgs/paddlepaddle/repos?type=public&page=1"
                           "&per_page=100")
    items, [following] = feed(listing, "gitee_repos/repos-paddlepaddle-page1.json",
                              headers={"total_count": "102", "total_page": "2"})
    assert [(i.repo_id, i.url, i.license, i.language, i.stars) for i in items] == [
        ("paddlepaddle/Paddle", "https://gitee.com/paddlepaddle/Paddle", "Apache-2.0", "C++",
         2321),
        ("paddlepaddle/PaddleNLP", "https://gitee.com/paddlepaddle/PaddleNLP", None, None, 523)]
    assert following.url.endswith("/orgs/paddlepaddle/repos?type=public&page=2&per_page=100")
    _, requests = feed(following, "gitee_repos/repos-paddlepaddle-page1.json",
                       headers={"total_count": "102", "total_page": "2"})
    assert requests == []  # page 2 of 2


def test_gitcode_short_page_ends_and_no_token_in_the_url():
    spider = build(GitcodeReposSpider, orgs="Huawei")
    listing = started(spider)[0]
    assert "access_token" not in listing.url  # added on the wire only (TokenAuthMiddleware)
    [item], [] = feed(listing, "gitcode_repos/repos-mindspore-page1.json",
                      headers={"Link": '<https://api.gitcode.com/x?page=2>; rel="next"'})
    assert (item.repo_id, item.url, item.language, item.stars, item.license) == (
        "mindspore/mindspore", "https://gitcode.com/mindspore/mindspore", None, 4433,
        "Apache-2.0")


def test_openi_builds_the_next_page_from_the_link_page_number():
    spider = build(OpeniReposSpider, orgs="BAAI")
    listing = started(spider)[0]
    legacy = '<https://git.openi.org.cn/api/v1/orgs/BAAI/repos?page=2>; rel="next"'  # pre-1.13
    items, [following] = feed(listing, "openi_repos/repos-BAAI-page1.json",
                              headers={"Link": legacy, "X-Total-Count": "51"})
    assert following.url == "https://openi.pcl.ac.cn/api/v1/orgs/BAAI/repos?page=2&limit=50"
    assert [(i.repo_id, i.stars, i.mirror, i.pushed_at) for i in items] == [
        ("BAAI/Aquila2", 57, False, "2025-03-20T16:12:05+08:00"),
        ("BAAI/FlagEmbedding", 4, True, "2025-08-01T09:00:00+08:00")]
    _, requests = feed(following, "openi_repos/repos-BAAI-page1.json",
                       headers={"Link": '<https://openi.pcl.ac.cn/api/v1/orgs/BAAI/repos?page=1'
                                        '&limit=50>; rel="first"'})
    assert requests == []  # a Link without rel="next": the last page
