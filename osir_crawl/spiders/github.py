"""GitHub: ``github_repos``.

Listing: REST ``/orgs/{org}/repos?type=public&per_page=100``, following ``Link: rel="next"``.
Contributors (repos with at least OSIR_MIN_STARS stars): ``/repos/{o}/{r}/contributors?per_page=1
&anon=true`` and the page number of ``rel="last"`` (PyGithub's ``totalCount``); an empty
repository answers 204. Rate limits (``x-ratelimit-*``, ``retry-after``) are the
RateLimitMiddleware's; the token goes in the ``Authorization`` header (TokenAuthMiddleware).
"""

from __future__ import annotations

from urllib.parse import quote

from osir_crawl.spiders._forge import ForgeSpider, link_page


class GithubReposSpider(ForgeSpider):
    name = "github_repos"
    platform = "github"
    endpoint_setting = "GITHUB_API_URL"
    listing_query = (("type", "public"), ("sort", "full_name"))
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    step_fields = {"parse_contributors": ("contributors",)}

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
        item.contributors = last if last is not None else len(data) if isinstance(data, list) else None

    @staticmethod
    def json_body(response):
        if response.status == 204:  # an empty repository has no contributors
            return []
        return ForgeSpider.json_body(response)
