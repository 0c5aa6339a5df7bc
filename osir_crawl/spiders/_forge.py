"""Code forges (GitHub, Gitee, GitCode, OpenI): list every registry account's repositories page by
page (``orgs/{account}/repos`` with a page number and a page size; spiders/_listing.py) into
``repos`` rows.

Pagination, in order of trust: a ``Link: rel="next"`` header (GitHub, Gitea); a total-pages
header (Gitee ``total_page``); a total-count header (``total_count``, Gitea's
``X-Total-Count``) divided by the page size; otherwise a short or empty page ends the listing.
A forge whose headers are undocumented (GitCode v5) pages by the short page only
(``link_pagination = False`` and no total headers). A forge adds per-repo requests (GitHub's
contributors count) through ``OsirSpider.enrich``.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from osir_crawl.inputs.registry import Account
from osir_crawl.items import RepoItem
from osir_crawl.parsing import as_bool, link_rels
from osir_crawl.spiders._catalogue_checks import CatalogueChecks
from osir_crawl.spiders._listing import ListingSpider
from osir_crawl.spiders._live_check import Check

TOTAL_PAGES_HEADERS = ("total_page",)
# Gitee/GitCode ``status`` -> archived: GitCode's v5 docs, "仓库归档" (PUT .../repo/{repo}/status,
# "仓库状态，0：开始，2：关闭"; xiongjiamu/test111 content/docs/openapi/repos.md §14).
ARCHIVED_BY_STATUS = {"开始": False, "关闭": True}
TOTAL_COUNT_HEADERS = ("total_count", "x-total-count")


class ForgeSpider(CatalogueChecks, ListingSpider):
    item_class = RepoItem
    listing_path = "/orgs/{account}/repos"
    listing_query: tuple[tuple[str, str], ...] = (("type", "public"),)
    page_param, size_param = "page", "per_page"
    page_size = 100  # the forge's maximum; OSIR_FORGE_PAGE_SIZE overrides (tests use small pages)
    headers: dict[str, str] = {}
    link_pagination = True  # follow `Link: rel="next"`
    total_pages_headers: tuple[str, ...] = TOTAL_PAGES_HEADERS
    total_count_headers: tuple[str, ...] = TOTAL_COUNT_HEADERS
    stars_field, pushed_field, language_field = "stargazers_count", "pushed_at", "language"

    checked_fields: tuple[str, ...] = ()  # what item_from reads from a listing row
    checked_optional: tuple[str, ...] = ()

    @classmethod
    def live_checks(cls):
        query = [*cls.listing_query, (cls.page_param, 1), (cls.size_param, 1)]
        return (Check(cls.platform, cls.endpoint_setting, f"{cls.listing_path}?{urlencode(query)}",
                      fields=cls.checked_fields, optional=cls.checked_optional,
                      account_platform=cls.platform),)

    def configure(self, settings):
        super().configure(settings)
        self.page_size = settings.getint("OSIR_FORGE_PAGE_SIZE", 0) or self.page_size
        self.min_stars = settings.getint("OSIR_MIN_STARS", 10)

    async def start(self):
        async for request in super().start():  # the accounts' listings (_listing.py)
            yield request
        for request in self.catalogue_requests():  # data/catalogue: see _catalogue_checks.py
            yield request

    def listing_request(self, account: Account, page: int = 1, url: str | None = None):
        if url is None:
            query = [*self.listing_query, (self.page_param, page),
                     (self.size_param, self.page_size)]
            path = self.listing_path.format(account=quote(account.name, safe=""))
            url = f"{self.endpoint}{path}?{urlencode(query)}"
        return self.api_request(url, callback=self.parse_listing,
                                cb_kwargs={"account": account, "page": page})

    def api_request(self, url: str, callback, **kwargs):
        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}  # listing and steps
        return super().api_request(url, callback, **kwargs)

    def next_request(self, response, account: Account, page: int, rows: list):
        if self.link_pagination:
            if url := self.next_link(response):
                return self.listing_request(account, page + 1, url)
            if response.headers.get("Link"):
                return None  # a Link header without rel="next": the last page
        pages = self.total_pages(response)
        more = page < pages if pages is not None else len(rows) >= self.page_size
        return self.listing_request(account, page + 1) if more and rows else None

    def listing_total(self, response) -> int | None:
        for name in self.total_count_headers:
            if (value := header_int(response, name)) is not None:
                return value
        return None

    def total_pages(self, response) -> int | None:
        for name in self.total_pages_headers:
            if (value := header_int(response, name)) is not None:
                return value
        for name in self.total_count_headers:
            if (value := header_int(response, name)) is not None:
                return math.ceil(value / self.page_size)
        return None

    # --- rows --------------------------------------------------------------------------------
    # Every field is read as the forge means it; a field the answer lacks is NULL, counted
    # with its reason (``osir/null/<field>/<reason>``, OsirSpider.unsent).
    def item_from(self, row: dict, account: Account) -> RepoItem:
        url = row.get("html_url")
        if isinstance(url, str) and url.endswith(".git"):
            url = url[: -len(".git")]  # Gitee and GitCode give the clone URL
        pushed = self.sent(row, self.pushed_field, "pushed_at")
        return self.account_item(
            self.repo_id(row),
            account,
            url=url if isinstance(url, str) else None,
            stars=self.sent(row, self.stars_field, "stars"),
            forks=self.sent(row, "forks_count", "forks"),
            watchers=self.watchers(row),
            open_issues=self.sent(row, "open_issues_count", "open_issues"),
            language=self.language(row),
            license=self.licence(row),
            archived=self.archived(row),
            fork=as_bool(self.sent(row, "fork")),
            pushed_at=pushed or None,
        )

    def watchers(self, row: dict):
        return self.sent(row, "watchers_count", "watchers")

    def language(self, row: dict):
        if not self.language_field:
            return self.unsent("language", f"{self.platform}_lists_no_language")
        return self.sent(row, self.language_field, "language") or None

    def licence(self, row: dict):
        """GitHub's ``license`` object, Gitee's and GitCode's string, or Gitea's (1.22+)
        ``licenses`` list of detected SPDX ids; an empty list or null: no licence found."""
        if "license" in row:
            return license_name(row["license"])
        if "licenses" in row:
            names = row["licenses"] if isinstance(row["licenses"], list) else []
            return ", ".join(n for n in names if isinstance(n, str) and n) or None
        return self.unsent("license", "no_license")

    def archived(self, row: dict):
        """``archived`` (GitHub, Gitea); Gitee and GitCode send none, only a ``status``
        string: GitCode's docs archive a repository by setting it to 2, "关闭" (closed), and
        0, "开始" (started), is the normal state. Another state ("暂停", paused, or a new
        one) leaves ``archived`` NULL, counted as ``osir/null/archived/status_<status>``."""
        if "archived" in row:
            return as_bool(row["archived"])
        if "status" not in row:
            return self.unsent("archived", "no_archived_or_status")
        status = row["status"]
        if status in ARCHIVED_BY_STATUS:
            return ARCHIVED_BY_STATUS[status]
        if not self.crawler.stats.get_value(f"osir/null/archived/status_{status}"):
            self.logger.warning("%s repository status %r: not known to mean archived or not; "
                                "archived left NULL", self.platform, status)
        return self.unsent("archived", f"status_{status}")

    def repo_id(self, row: dict):
        return row.get("full_name")


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


def license_name(value) -> str | None:
    """GitHub gives ``{"spdx_id": …}``, Gitee and GitCode a string."""
    if isinstance(value, dict):
        value = value.get("spdx_id") or value.get("key") or value.get("name")
    return value if isinstance(value, str) and value else None
