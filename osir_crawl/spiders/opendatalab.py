"""OpenDataLab: ``opendatalab_datasets``.

There is no public listing API, so Chromium renders each registry creator's listing,
``{OPENDATALAB_URL}/?createdBy={uid}&pageNo={n}&pageSize=12&sort=downloadCount`` (platform key
``opendatalab``: creator ids), page after page. Each page is read from the JSON the page itself
fetched when it carries dataset records (exact counts), else from the rendered cards (the
layout the OSIR-LMTS crawler read: "10.3k"-style counts, the total as "N 数据集").

``repo_id`` is ``org_on_site/dataset`` from the card link (``/{org}/{dataset}``); the counts are
cumulative (``downloads_total``) and ``likes``. A creator whose pages show fewer distinct datasets
than its announced total is recorded as a failure (crawl ``incomplete``).

``pageNo`` counts from ``OPENDATALAB_FIRST_PAGE`` (0, as in the reference crawler's URLs).
The real XHR's field names are not documented: ``records_from_json`` accepts the usual aliases
(case-insensitively).
"""

from __future__ import annotations

import math
from urllib.parse import unquote, urlencode, urlsplit

from osir_crawl.inputs.registry import Account
from osir_crawl.items import DatasetItem
from osir_crawl.parsing import alias_value, json_lists, parse_count, parse_total
from osir_crawl.spiders._browser import BrowserSpider
from osir_crawl.spiders._live_check import Check

PAGE_SIZE = 12  # what the site shows per page
NAME_KEYS = ("name", "datasetName", "dataset_name")
OWNER_KEYS = ("orgName", "org", "owner", "namespace", "creatorName", "publisherName")
PATH_KEYS = ("path", "fullName", "repoId", "link", "url")
DOWNLOAD_KEYS = ("downloadCount", "downloadNum", "downloads", "download_count", "downloadTotal")
LIKE_KEYS = ("likeCount", "likes", "starCount", "favoriteCount", "collectCount")
TOTAL_KEYS = ("total", "totalCount", "total_count", "count")


def records_from_json(captured: list[dict]) -> tuple[list, int | None] | None:
    """(records, total) from the first captured body holding a list of dataset records
    (its first one an object with a name and a download count), the shallowest in the body;
    the total from the object holding the list. None when no body looks like a listing."""
    for body in captured:
        for rows, holder in json_lists(body.get("data")):
            if rows and isinstance(rows[0], dict) and alias_value(rows[0], NAME_KEYS) is not None \
                    and alias_value(rows[0], DOWNLOAD_KEYS) is not None:
                total = alias_value(holder, TOTAL_KEYS) if holder is not None else None
                return rows, total if isinstance(total, int) else None
    return None


class OpenDataLabDatasetsSpider(BrowserSpider):
    name = "opendatalab_datasets"
    platform = "opendatalab"
    endpoint_setting = "OPENDATALAB_URL"
    item_class = DatasetItem
    capture = ()  # every JSON the page fetches; records_from_json picks the listing
    wait_for = r"text=/[0-9]\s*数据集/"  # the total: the listing has rendered

    @classmethod
    def live_checks(cls):
        return (Check("opendatalab", cls.endpoint_setting, "/",
                      note="listing rendered in Chromium: fields not checked"),)
    shard_by = "org"  # accounts are creator ids, not the owners of the rows

    def configure(self, settings):
        super().configure(settings)
        self.first_page = settings.getint("OPENDATALAB_FIRST_PAGE", 0)
        self.seen: dict[str, set[str]] = {}  # creator id -> repo ids

    async def start(self):
        for account in self.accounts():
            self.seen[account.name] = set()
            yield self.page_request(account, self.first_page)

    def page_request(self, account: Account, page_no: int):
        query = urlencode({"createdBy": account.name, "pageNo": page_no,
                           "pageSize": PAGE_SIZE, "sort": "downloadCount"})
        return self.browser_request(f"{self.endpoint}/?{query}", callback=self.parse_page,
                                    cb_kwargs={"account": account, "page_no": page_no})

    def parse_page(self, response, account: Account, page_no: int):
        found = records_from_json(self.captured(response))
        if found is not None:
            rows, total = found
            self.crawler.stats.inc_value("osir/opendatalab/pages_from_json")
        else:
            rows = self.card_records(response)
            total = parse_total(" ".join(response.xpath("//body//text()").getall()))
            self.crawler.stats.inc_value("osir/opendatalab/pages_from_dom")
        items = [self.item_from_record(row, account) for row in self.listing_rows(rows)]
        for item in items:
            if isinstance(item.repo_id, str):
                self.seen[account.name].add(item.repo_id)
            yield item
        if total is None:
            yield from self.record_failure(
                response.request, "no dataset total on the page (JSON or 'N 数据集')")
            return
        pages = max(1, math.ceil(total / PAGE_SIZE))
        if items and page_no + 1 < self.first_page + pages:
            yield self.page_request(account, page_no + 1)
            return
        seen = len(self.seen[account.name])
        if seen < total:
            yield from self.record_failure(
                response.request,
                f"creator {account.name}: {seen} distinct datasets on its pages, "
                f"the site announces {total}",
            )

    @staticmethod
    def card_records(response) -> list[dict]:
        """The rendered cards as records (the layout the OSIR-LMTS crawler read): the card's
        link, its displayed counts."""
        return [{"path": card.attrib["href"],
                 "downloadCount": parse_count(card.xpath(
                     "normalize-space(./div[2]/div[2]/span[last()])").get()),
                 "likeCount": parse_count(card.xpath(
                     "normalize-space(./div[1]/div[2]/div[1]/div/span)").get())}
                for card in response.xpath("//a[@href][div[2]/div[2]/span]")]

    def item_from_record(self, row: dict, account: Account) -> DatasetItem:
        name, owner = alias_value(row, NAME_KEYS), alias_value(row, OWNER_KEYS)
        path = alias_value(row, PATH_KEYS)
        if isinstance(path, str) and path.strip("/").count("/") >= 1:
            owner, name = _owner_name(path)
        owner = owner if isinstance(owner, str) else None
        name = name if isinstance(name, str) else None
        repo_id = f"{owner}/{name}" if owner and name else None
        return self.account_item(
            repo_id, account, url=f"{self.endpoint}/{repo_id}" if repo_id else None,
            downloads_total=parse_count(alias_value(row, DOWNLOAD_KEYS)),
            likes=parse_count(alias_value(row, LIKE_KEYS)),
        )


def _owner_name(link: str) -> tuple[str | None, str | None]:
    """("OpenDriveLab", "OpenLane") from "/OpenDriveLab/OpenLane" or a full URL."""
    parts = [unquote(p) for p in urlsplit(link).path.split("/") if p]
    return (parts[-2], parts[-1]) if len(parts) >= 2 else (None, None)
