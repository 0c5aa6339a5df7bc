"""Code forges (GitHub, Gitee, GitCode, OpenI): list every registry account's repositories page by
page (``orgs/{account}/repos`` with a page number and a page size) into ``repos`` rows.

Pagination, in order of trust: a ``Link: rel="next"`` header (GitHub); a total-pages header
(Gitee ``total_page``, GitCode ``x-total-pages``); a total-count header (``total_count``,
``x-total``, Gitea's ``X-Total-Count``) divided by the page size; otherwise a short or empty
page ends the listing. A forge adds per-repo requests (GitHub's contributors count) through
``OsirSpider.enrich``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from osir_crawl.items import RepoItem
from osir_crawl.parsing import link_rels
from osir_crawl.registry import Account
from osir_crawl.spiders._base import OsirSpider
from osir_crawl.spiders._catalogue_checks import CatalogueChecks

TOTAL_PAGES_HEADERS = ("total_page", "x-total-pages")
TOTAL_COUNT_HEADERS = ("total_count", "x-total", "x-total-count")


class ForgeSpider(CatalogueChecks, OsirSpider):
    item_class = RepoItem
    listing_path = "/orgs/{account}/repos"
    listing_query: tuple[tuple[str, str], ...] = (("type", "public"),)
    page_param, size_param = "page", "per_page"
    page_size = 100  # the forge's maximum; OSIR_FORGE_PAGE_SIZE overrides (tests use small pages)
    headers: dict[str, str] = {}

    def configure(self, settings):
        super().configure(settings)
        self.page_size = settings.getint("OSIR_FORGE_PAGE_SIZE", 0) or self.page_size
        self.min_stars = settings.getint("OSIR_MIN_STARS", 10)

    async def start(self):
        for account in self.accounts():
            yield self.page_request(account, 1)
        for request in self.catalogue_requests():  # data/catalogue: see _catalogue_checks.py
            yield request

    def page_request(self, account: Account, page: int, url: str | None = None):
        if url is None:
            query = [*self.listing_query, (self.page_param, page), (self.size_param, self.page_size)]
            path = self.listing_path.format(account=quote(account.name, safe=""))
            url = f"{self.endpoint}{path}?{urlencode(query)}"
        return self.api_request(url, callback=self.parse_listing,
                                cb_kwargs={"account": account, "page": page})

    def api_request(self, url: str, callback, **kwargs):
        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}  # listing and steps
        return super().api_request(url, callback, **kwargs)

    def parse_listing(self, response, account: Account, page: int) -> Iterator:
        rows = self.json_body(response)
        if not isinstance(rows, list):
            yield from self.retry_or_fail(response, "listing is not a JSON array")
            return
        for row in self.listing_rows(rows):
            item = self.item_from(row, account)
            steps = self.detail_steps(row, item) if self.wants_details(item) else []
            yield from self.enrich(item, steps)
        if next_request := self.next_page(response, account, page, len(rows)):
            yield from self.follow(response, next_request)  # a repeated page is a failure

    def next_page(self, response, account: Account, page: int, count: int):
        if url := self.next_link(response):
            return self.page_request(account, page + 1, url)
        if response.headers.get("Link"):
            return None  # a Link header without rel="next": the last page
        pages = self.total_pages(response)
        more = page < pages if pages is not None else count >= self.page_size
        return self.page_request(account, page + 1) if more and count else None

    def total_pages(self, response) -> int | None:
        for name in TOTAL_PAGES_HEADERS:
            if (value := header_int(response, name)) is not None:
                return value
        for name in TOTAL_COUNT_HEADERS:
            if (value := header_int(response, name)) is not None:
                return math.ceil(value / self.page_size)
        return None

    # --- rows --------------------------------------------------------------------------------
    def item_from(self, row: dict, account: Account) -> RepoItem:
        url = row.get("html_url")
        if isinstance(url, str) and url.endswith(".git"):
            url = url[: -len(".git")]  # Gitee and GitCode give the clone URL
        return self.account_item(
            self.repo_id(row),
            account,
            url=url if isinstance(url, str) else None,
            stars=row.get(self.stars_field),
            forks=row.get("forks_count"),
            watchers=row.get("watchers_count"),
            open_issues=row.get("open_issues_count"),
            language=row.get("language") or None,
            license=licence(row.get("license")),
            archived=row.get("archived"),
            fork=row.get("fork"),
            pushed_at=row.get(self.pushed_field) or None,
        )

    stars_field = "stargazers_count"
    pushed_field = "pushed_at"

    def repo_id(self, row: dict):
        return row.get("full_name")

    def wants_details(self, item: RepoItem) -> bool:
        return False

    def detail_steps(self, row: dict, item: RepoItem) -> list[tuple[str, str]]:
        return []


def header_int(response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value.decode("latin-1").strip()) if value else None
    except ValueError:
        return None


def link_page(response, rel: str) -> int | None:
    """The ``page`` number of the ``Link`` URL with ``rel``, e.g. rel="last"."""
    header = response.headers.get("Link")
    url = link_rels(header.decode("latin-1")).get(rel) if header else None
    pages = parse_qs(urlsplit(url).query).get("page") if url else None
    return int(pages[0]) if pages and pages[0].isdigit() else None


def licence(value) -> str | None:
    """GitHub gives ``{"spdx_id": …}``, Gitee and GitCode a string, Gitea nothing."""
    if isinstance(value, dict):
        value = value.get("spdx_id") or value.get("key") or value.get("name")
    return value if isinstance(value, str) and value else None
