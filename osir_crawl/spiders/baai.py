"""BAAI data platform (data.baai.ac.cn): ``baai_datasets``.

The site's own JSON listing, ``POST {BAAI_DATA_URL}/api/datahub/search/v1/getAllDataset`` with
``{limit, offset, datasetName, startTime, endTime, orderBy}`` (platform-apis.md §11), paged by
``offset`` until ``data.total``. Every dataset belongs to the registry org(s) with
``baai_data: true`` (the platform is BAAI's own; with several, the first is used and a warning
logged). ``downloads_total`` = ``downloadNumb``, ``likes`` = ``subscribedNumb``, ``repo_id``
``BAAI/<uriName>``, ``url`` ``{BAAI_DATA_URL}/datadetail/{uriName}``.

When the API refuses an anonymous client, in any of the forms it takes — 401/403; a 200 whose
body is empty, an HTML (login) page, not JSON, or JSON with an error ``code`` and no
``data.list`` — Chromium opens ``{BAAI_DATA_URL}/dataset`` and keeps the listing JSON the page
fetches; if the page fetched only its first page, the same request is repeated from inside the
page (its cookies) for all ``total`` rows. The original crawler sent session cookies; none are
configured or stored here. Stat ``osir/baai/refusal/<form>`` names the form that was met.
"""

from __future__ import annotations

import json

from scrapy.http import JsonRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy_playwright.page import PageMethod

from osir_crawl.inputs.registry import Account
from osir_crawl.items import DatasetItem
from osir_crawl.spiders._browser import BrowserSpider, fetch_in_page
from osir_crawl.spiders._live_check import Check

API = "/api/datahub/search/v1/getAllDataset"
OWNER = "BAAI"


def listing_body(offset: int, limit: int) -> dict:
    return {"limit": limit, "offset": offset, "datasetName": "", "startTime": None,
            "endTime": None, "orderBy": "5"}


def listing_of(data) -> tuple[list, int | None] | None:
    """(rows, total) of a ``{code, data: {total, list}}`` body, or None."""
    inner = data.get("data") if isinstance(data, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("list"), list):
        return None
    total = inner.get("total")
    return inner["list"], total if isinstance(total, int) else None


def refusal_form(response, data) -> str:
    """How a 200 answer without a listing refused: empty, html, not-json, or code N."""
    if not response.body.strip():
        return "empty body"
    if data is None:
        looks_html = response.body.lstrip()[:1] == b"<" or b"html" in (
            response.headers.get("Content-Type") or b"")
        return "html page" if looks_html else "not json"
    code = data.get("code") if isinstance(data, dict) else None
    return f"code {code}: no data.list" if code is not None else "no data.list"


class BaaiDatasetsSpider(BrowserSpider):
    name = "baai_datasets"
    platform = "baai_data"
    endpoint_setting = "BAAI_DATA_URL"
    item_class = DatasetItem
    capture = (API,)

    @classmethod
    def live_checks(cls):
        return (Check("baai_data", cls.endpoint_setting, API, method="POST",
                      body=listing_body(0, 1), rows=("data", "list"),
                      fields=("uriName", "downloadNumb", "subscribedNumb", "createTime",
                              "updateTime", "tags"),
                      note="a refusal sends the crawl to the page (Chromium)"),)

    @classmethod
    def shard_unit(cls) -> str:
        return cls.platform  # one organisation's platform: read whole, by one shard

    def configure(self, settings):
        super().configure(settings)
        self.page_size = settings.getint("BAAI_PAGE_SIZE", 1000)
        self.org: str | None = None
        self.fell_back = False

    @classmethod
    def nothing_to_crawl(cls, registry, orgs):
        if not any(o in orgs for o in registry.orgs_with_flag("baai_data")):
            return f"no selected org has baai_data: true in {registry.path}"
        return None

    async def start(self):
        orgs = [o for o in self.registry.orgs_with_flag("baai_data") if o in self.selected_orgs]
        if not orgs:
            self.nothing_to_do(self.nothing_to_crawl(self.registry, self.selected_orgs))
            return
        if len(orgs) > 1:
            self.logger.warning("several orgs have baai_data: true (%s); datasets go to %s",
                                ", ".join(orgs), orgs[0])
        self.org = orgs[0]
        yield self.api_request_at(0)

    def api_request_at(self, offset: int):
        return JsonRequest(
            f"{self.endpoint}{API}", data=listing_body(offset, self.page_size),
            callback=self.parse_api, errback=self.api_failed, cb_kwargs={"offset": offset},
            headers={"Origin": self.endpoint, "Referer": f"{self.endpoint}/dataset"},
        )

    def parse_api(self, response, offset: int):
        data = self.json_body(response)
        found = listing_of(data)
        if found is None or found[1] is None:
            yield from self.fall_back(refusal_form(response, data))
            return
        rows, total = found
        yield from map(self.item_from, self.listing_rows(rows))
        if rows and offset + len(rows) < total:
            yield self.api_request_at(offset + len(rows))

    def api_failed(self, failure):
        status = failure.value.response.status if failure.check(HttpError) else None
        if status in (401, 403):
            yield from self.fall_back(f"HTTP {status}")
            return
        yield from self.on_failure(failure)

    def fall_back(self, form: str):
        """The API refused: read the listing through the page, once per crawl."""
        kind = form.split(":")[0].replace(" ", "_")
        self.crawler.stats.inc_value(f"osir/baai/refusal/{kind}")
        if self.fell_back:
            return
        self.fell_back = True
        self.logger.warning("the listing API refused (%s): reading it through the page", form)
        self.crawler.stats.inc_value("osir/baai/browser_fallback")
        yield self.browser_request(f"{self.endpoint}/dataset", callback=self.parse_page,
                                   cb_kwargs={"refetched": False})

    def parse_page(self, response, refetched: bool):
        rows, total = {}, None
        for body in self.captured(response):
            if found := listing_of(body["data"]):
                for row in found[0]:  # the page's first page is also in the full listing
                    rows[json.dumps(row, sort_keys=True, default=str)] = row
                total = found[1] if found[1] is not None else total
        if total is None:
            yield from self.record_failure(response.request,
                                           "the /dataset page fetched no dataset listing")
            return
        if len(rows) < total and not refetched:  # the page showed its first page only
            yield self.browser_request(
                response.url, callback=self.parse_page, cb_kwargs={"refetched": True},
                page_methods=[PageMethod(fetch_in_page, API, "POST", listing_body(0, total))],
                dont_filter=True,
            )
            return
        yield from map(self.item_from, self.listing_rows(list(rows.values())))
        if len(rows) < total:
            yield from self.record_failure(
                response.request, f"the page's listing gave {len(rows)} of {total} datasets")

    def item_from(self, row: dict) -> DatasetItem:
        uri = row.get("uriName")
        return self.account_item(
            f"{OWNER}/{uri}" if isinstance(uri, str) and uri else None,
            Account(self.platform, OWNER, self.org),
            url=f"{self.endpoint}/datadetail/{uri}",
            downloads_total=row.get("downloadNumb"),
            likes=row.get("subscribedNumb"),
            tags=row.get("tags") if row.get("tags") is not None else [],
            created_at=row.get("createTime"),
            last_modified=row.get("updateTime"),
        )
