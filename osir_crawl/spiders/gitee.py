"""Gitee (API v5): ``gitee_repos``. ``/orgs/{org}/repos?type=public&page&per_page=100``; the
``total_page`` header (or a short page) ends the listing.

Gitee's repository has no ``archived``: its state is the string ``status`` ("开始" in a
recorded answer, tests/fixtures/gitee_repos/repos-kit101.json), read by ForgeSpider.archived.

GITEE_TOKEN goes in the ``Authorization`` header (TokenAuthMiddleware), never in the URL: Gitee
documents an ``access_token`` query parameter, and a URL is logged, retried and stored in
``failures``, so a token there would leak.
"""

from osir_crawl.spiders._forge import ForgeSpider


class GiteeReposSpider(ForgeSpider):
    name = "gitee_repos"
    platform = "gitee"
    raw_file_path = "/repos/{repo}/raw/{path}"  # counting rules read files raw
    endpoint_setting = "GITEE_API_URL"
    checked_fields = ("full_name", "html_url", "stargazers_count", "forks_count",
                      "watchers_count", "open_issues_count", "language", "license", "status",
                      "fork", "pushed_at")

