"""ModelScope (魔搭): ``modelscope_models`` and ``modelscope_datasets``.

Listing: the public OpenAPI v1, ``/openapi/v1/{models|datasets}?owner=ACCOUNT&page_number=N
&page_size=50`` with the ``{success, data: {total_count, models|datasets}, request_id}``
envelope, page by page until ``page_number * page_size >= total_count``. The API serves at most
``page_number * page_size <= 3000`` rows per query: an owner with more is crawled up to the cap
and recorded as a failure (the crawl is then ``incomplete``), never silently cut. ``-a
universe=all`` also lists the whole platform (no owner, ``sort=downloads``) down to the floor
(spiders/_hub.py), under the same cap: a listing cut at 3,000 rows still above the floor is a
failure too.

Errors come as ``success: false`` bodies, with HTTP 200 or an error status.
:class:`ModelScopeErrorMiddleware` turns ``RateLimitExceed`` (any status) into a 429 so the
project's RateLimitMiddleware waits (``Retry-After`` or its default) and retries on its own
budget; other codes are retried within RETRY_TIMES, then stored in ``failures`` with the code.

ModelScope's ``downloads`` is cumulative: it goes to ``downloads_total`` (``downloads``, the
30-day figure, stays NULL). ``params`` 0 or missing is unknown (NULL), not a count.
``MODELSCOPE_API_TOKEN`` is sent as a Bearer header by TokenAuthMiddleware when set.

Community ("交流反馈", the model dimension's ``issue`` indicator): no API is documented (the
OpenAPI, the SDK and modelscope_hub have none; the site's own calls are undocumented), so, as
the OSIR-LMTS crawler did, Chromium renders the repo page of each repo with downloads_total >=
OSIR_MIN_DOWNLOADS and the number of the tab ``交流反馈N`` goes to ``discussions``. A page with
no such tab is retried, then recorded in ``failures`` (``discussions`` NULL).
``MODELSCOPE_COMMUNITY=0`` leaves the pages out (no browser; ``discussions`` NULL).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from scrapy.spidermiddlewares.httperror import HttpError

from osir_crawl.inputs.registry import Account
from osir_crawl.items import DatasetItem, ModelItem
from osir_crawl.middlewares import error_of
from osir_crawl.spiders._base import UnusableResponse
from osir_crawl.spiders._browser import BrowserSpider
from osir_crawl.spiders._hub import HubSpider
from osir_crawl.spiders._listing import ListingCut
from osir_crawl.spiders._live_check import Check

MAX_ROWS = 3000  # the OpenAPI refuses page_number * page_size > 3000
COMMUNITY_TAB = "交流反馈"
# "交流反馈12" as the OSIR-LMTS crawler read it (regex 交流反馈([\d,]+)); "交流反馈 (12)" too.
COMMUNITY_COUNT = re.compile(COMMUNITY_TAB + r"\s*[(（]?\s*([\d,]+)")


def community_count(texts) -> int | None:
    """The count of the 交流反馈 tab in a rendered page's text nodes; 0 for a tab without a
    number; None when the page has no such tab."""
    text = " ".join(t.strip() for t in texts if t.strip())
    if COMMUNITY_TAB not in text:
        return None
    found = COMMUNITY_COUNT.search(text)
    return int(found.group(1).replace(",", "")) if found else 0


def tasks_of(row: dict) -> list:
    """A row's task names (``tasks``: objects with a name, or names)."""
    return [t.get("name") if isinstance(t, dict) else t for t in row.get("tasks") or []]


class ModelScopeSpider(HubSpider, BrowserSpider):
    platform = "modelscope"
    endpoint_setting = "MODELSCOPE_ENDPOINT"
    kind = ""  # "models" | "datasets": the API path segment and the envelope's list key
    page_steps = frozenset({"parse_community"})
    step_fields = {"parse_community": ("discussions",)}
    # The repo page's tab bar; a number in the tab is what is read, so it ends the wait; a tab
    # without one (0, or a count still loading) waits at most 2 s for network quiet: the
    # site's scripts keep polling, so waiting for network idle first would cost the full
    # timeout.
    wait_for = f"text={COMMUNITY_TAB}"
    ready_for = f"text=/{COMMUNITY_COUNT.pattern}/"
    quick_settle_ms = 2000
    # Four repo pages at once (their own download slot, see _browser.py); the API, four too.
    custom_settings = {**BrowserSpider.custom_settings, "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
                       "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4}

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        # At spider priority: `scrapy crawl` re-applies project-priority dicts over this one.
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        # Before RateLimitMiddleware (560).
        middlewares["osir_crawl.middlewares.ModelScopeErrorMiddleware"] = 570
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")

    def configure(self, settings):
        super().configure(settings)
        self.page_size = max(1, min(50, settings.getint("MODELSCOPE_PAGE_SIZE", 50)))
        self.max_rows = settings.getint("MODELSCOPE_MAX_ROWS", MAX_ROWS)
        self.community = settings.getbool("MODELSCOPE_COMMUNITY", True)

    def listing_request(self, account: Account | None, page: int = 1, url: str | None = None):
        # The whole platform (account None): no owner, most downloaded first (modelscope_hub's
        # list_models(sort="downloads")); ModelScope's downloads are cumulative.
        who = {"owner": account.name} if account else {"sort": "downloads"}
        query = urlencode({**who, "page_number": page, "page_size": self.page_size})
        return self.api_request(
            url or f"{self.endpoint}/openapi/v1/{self.kind}?{query}",
            callback=self.parse_listing,
            cb_kwargs={"account": account, "page": page},
        )

    def rows_of(self, response) -> list:
        body = self.json_body(response)
        if isinstance(body, dict) and body.get("success") is False:
            code, message = error_of(response.body)
            self.crawler.stats.inc_value(f"osir/modelscope/error/{code}")
            raise UnusableResponse(f"ModelScope error {code}: {message}")
        rows, total = self.listing_of(body)
        if not isinstance(rows, list) or not isinstance(total, int):
            raise UnusableResponse(f"no data.{self.kind} list in the envelope")
        return rows

    def listing_of(self, body) -> tuple:
        """(rows, total_count) of the ``{success, data: {total_count, <kind>}}`` envelope."""
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return None, None
        return data.get(self.kind), data.get("total_count")

    def listing_total(self, response) -> int | None:
        return self.listing_of(self.json_body(response))[1]

    def next_request(self, response, account: Account | None, page: int, rows: list):
        total = self.listing_of(self.json_body(response))[1]  # (Scrapy caches the decoded body)
        if page * self.page_size >= total or not rows:
            return None
        if (page + 1) * self.page_size > self.max_rows:
            listed_so_far = page * self.page_size
            who = (f"{account.name} has" if account else
                   f"ModelScope lists {total} {self.kind}, and those ranked after the first "
                   f"{listed_so_far} by downloads may still have")
            what = (f"{total} {self.kind}" if account else
                    f"{self.universe_floor} downloads or more (OSIR_UNIVERSE_MIN_DOWNLOADS)")
            raise ListingCut(f"{who} {what}; the OpenAPI lists only the first {listed_so_far} "
                             f"(page_number * page_size <= {self.max_rows})")
        return self.listing_request(account, page + 1)

    def wants_details(self, item) -> bool:
        """The community count's page (MODELSCOPE_COMMUNITY), for popular repos."""
        return self.community and super().wants_details(item)

    def detail_steps(self, row: dict, item) -> list[tuple[str, str]]:
        return [(item.url, "parse_community")]

    def parse_community(self, response, data, item):
        count = community_count(response.xpath(
            "//body//text()[not(ancestor::script) and not(ancestor::style)]").getall())
        if count is None:
            raise UnusableResponse(f"no {COMMUNITY_TAB} tab on the repo page")
        item.discussions = count

    def on_failure(self, failure):
        """An error status: name the ModelScope error code in the failure when there is one."""
        if failure.check(HttpError):
            response = failure.value.response
            if error := error_of(response.body):
                code, message = error
                self.crawler.stats.inc_value(f"osir/modelscope/error/{code}")
                yield from self.record_failure(
                    failure.request, f"HTTP {response.status} {code}: {message}", response.status
                )
                return
        yield from super().on_failure(failure)

    def repo_page(self, repo_id) -> str:
        return f"{self.endpoint}/{self.kind}/{quote(str(repo_id))}"

    def row_fields(self, row: dict) -> dict:
        tags = row.get("tags") if row.get("tags") is not None else []
        tags = list(tags) if isinstance(tags, list) else tags  # not a list: validation rejects
        if isinstance(tags, list):  # tasks also as "task:…" tags, as the API tags some of them
            tags += [f"task:{t}" for t in tasks_of(row)
                     if isinstance(t, str) and f"task:{t}" not in tags]
        return {"downloads_total": row.get("downloads"), "tags": tags,
                "created_at": row.get("created_at"), "last_modified": row.get("last_modified")}


class ModelScopeModelsSpider(ModelScopeSpider):
    name = "modelscope_models"
    kind = "models"
    item_class = ModelItem

    @classmethod
    def live_checks(cls):
        return (Check("modelscope", cls.endpoint_setting,
                      "/openapi/v1/models?owner={account}&page_number=1&page_size=1",
                      rows=("data", "models"), account_platform="modelscope",
                      fields=("id", "downloads", "likes", "tasks", "tags", "created_at",
                              "last_modified", "params"),
                      note="community counts come from rendered pages (not checked)"),)

    def row_fields(self, row: dict) -> dict:
        fields, tasks = super().row_fields(row), tasks_of(row)
        libraries = [t[len("library:"):] for t in fields["tags"] or [] if isinstance(t, str)
                     and t.startswith("library:")]
        params = row.get("params")
        return {
            **fields,
            "params": params if params != 0 else None,  # 0: the API does not know, not "< 500M"
            "pipeline_tag": tasks[0] if tasks and isinstance(tasks[0], str) else None,
            "library": libraries[0] if libraries else None,
        }


class ModelScopeDatasetsSpider(ModelScopeSpider):
    name = "modelscope_datasets"
    kind = "datasets"
    item_class = DatasetItem

    @classmethod
    def live_checks(cls):
        return (Check("modelscope_datasets", cls.endpoint_setting,
                      "/openapi/v1/datasets?owner={account}&page_number=1&page_size=1",
                      rows=("data", "datasets"), account_platform="modelscope",
                      fields=("id", "downloads", "likes", "tags", "created_at",
                              "last_modified"), optional=("tasks",)),)
