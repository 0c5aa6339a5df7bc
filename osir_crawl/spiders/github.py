"""GitHub: ``github_repos``.

Listing: REST ``/orgs/{org}/repos?type=public&per_page=100``, following ``Link: rel="next"``.
Contributors (repos with at least OSIR_MIN_STARS stars): ``/repos/{o}/{r}/contributors?per_page=1
&anon=true`` and the page number of ``rel="last"`` (PyGithub's ``totalCount``); an empty
repository answers 204. GitHub documents a 403 for a repository whose history or contributor
list is too large to list through the API: its count stays NULL (unknown), the repo is named
in the log and counted in ``osir/github/contributors_too_large``; it is not a failed request
(no retry, the crawl stays complete). Rate limits (``x-ratelimit-*``, ``retry-after``) are the
RateLimitMiddleware's; the token goes in the ``Authorization`` header (TokenAuthMiddleware).

Watchers: a listing's ``watchers_count`` is the star count (GitHub kept the old name for
stars); the real watchers are ``subscribers_count``, sent only by the repository endpoint
(``/repos/{o}/{r}``). A row from that endpoint gives them; a listing row leaves ``watchers``
NULL, counted as ``osir/null/watchers/listing_has_only_stars`` (one request per repository
would be the price). ``open_issues_count`` counts open issues *and* pull requests.
"""

from __future__ import annotations

from urllib.parse import quote

from scrapy.spidermiddlewares.httperror import HttpError

from osir_crawl.spiders._forge import ForgeSpider, link_page

TOO_LARGE = b"too large to list contributors"


class GithubReposSpider(ForgeSpider):
    name = "github_repos"
    platform = "github"
    endpoint_setting = "GITHUB_API_URL"
    listing_query = (("type", "public"), ("sort", "full_name"))
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    step_fields = {"parse_contributors": ("contributors",)}
    checked_fields = ("full_name", "html_url", "stargazers_count", "forks_count",
                      "open_issues_count", "language", "license", "archived", "fork", "pushed_at")

    def watchers(self, row: dict):
        if "subscribers_count" in row:  # the repository endpoint's answer
            return row["subscribers_count"]
        return self.unsent("watchers", "listing_has_only_stars")

    def wants_details(self, item) -> bool:
        wanted = isinstance(item.stars, int) and item.stars >= self.min_stars and bool(item.name)
        self.crawler.stats.inc_value(f"osir/details/{'fetched' if wanted else 'skipped'}")
        return wanted

    def detail_steps(self, row, item):
        path = quote(item.repo_id, safe="/")
        return [(f"{self.endpoint}/repos/{path}/contributors?per_page=1&anon=true",
                 "parse_contributors")]

    def parse_contributors(self, response, data, item):
        last = link_page(response, "last")
        if last is None:  # a single page: its rows are the contributors
            last = len(data) if isinstance(data, list) else None
        item.contributors = last

    @staticmethod
    def json_body(response):
        if response.status == 204:  # an empty repository has no contributors
            return []
        return ForgeSpider.json_body(response)

    def on_failure(self, failure):
        request = failure.request
        if (failure.check(HttpError) and failure.value.response.status == 403
                and TOO_LARGE in failure.value.response.body
                and request.cb_kwargs.get("method") == "parse_contributors"):
            self.crawler.stats.inc_value("osir/github/contributors_too_large")
            self.logger.warning("%s: GitHub cannot list its contributors through the API (too "
                                "large); contributors left unknown",
                                request.cb_kwargs["item"].repo_id)
            yield from self.skip_step(request)
            return
        yield from super().on_failure(failure)
