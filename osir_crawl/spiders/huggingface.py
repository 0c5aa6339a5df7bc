"""Hugging Face Hub: ``huggingface_models`` and ``huggingface_datasets``.

Listing: ``/api/models?author=ACCOUNT&expand[]=…`` (the expand list is a whitelist: only the
properties asked for come back, and the Hub refuses an unknown one with 400), following
``Link: rel="next"``; ``-a universe=all`` also ``sort=downloads`` with no author, down to the
floor (spiders/_hub.py). Models also ask for ``config`` (``model_type``, ``architectures``).
Details: models with downloads >= OSIR_MIN_DOWNLOADS get ``childrenModelCount`` and the
discussions count; every dataset (the data dimension counts datasets whatever their downloads,
and the published records carry community and usage counts for all of them) gets the
discussions count and ``dataset_usage`` (models whose card names the dataset, all pages
counted).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from osir_crawl.inputs.registry import Account
from osir_crawl.items import DatasetItem, ModelItem
from osir_crawl.spiders._hub import HubSpider
from osir_crawl.spiders._live_check import Check

COMMON_EXPAND = ("downloads", "downloadsAllTime", "likes", "createdAt", "lastModified", "tags")
MODEL_EXPAND = COMMON_EXPAND + ("pipeline_tag", "library_name", "safetensors", "config")


class HuggingfaceSpider(HubSpider):
    platform = "huggingface"
    endpoint_setting = "HF_ENDPOINT"
    kind = ""  # "models" | "datasets": the API path segment
    url_prefix = ""  # of a repo's page: "datasets/"
    expand: tuple[str, ...] = ()
    step_fields = {
        "parse_discussions": ("discussions", "discussions_open"),
        "parse_children": ("descendants",),
        "parse_usage": ("dataset_usage",),
    }

    check_label = ""
    check_optional: tuple[str, ...] = ()

    @classmethod
    def live_checks(cls):
        query = urlencode([("limit", 1), *(("expand[]", e) for e in cls.expand)])
        return (Check(cls.check_label, cls.endpoint_setting,
                      f"/api/{cls.kind}?author={{account}}&{query}", fields=("id",) + cls.expand,
                      optional=cls.check_optional, account_platform=cls.platform),)

    def configure(self, settings):
        super().configure(settings)
        self.page_size = settings.getint("HF_PAGE_SIZE", 1000)

    def listing_request(self, account: Account | None, page: int = 1, url: str | None = None):
        # The whole Hub: sort=downloads, as huggingface_hub's list_models(sort="downloads")
        # sends it; the Hub sorts descending only (its `direction` is gone since v1.5).
        if url is None:
            who = [("author", account.name)] if account else [("sort", "downloads")]
            query = [*who, ("limit", self.page_size), *(("expand[]", e) for e in self.expand)]
            url = f"{self.endpoint}/api/{self.kind}?{urlencode(query)}"
        return self.api_request(url, callback=self.parse_listing,
                                cb_kwargs={"account": account, "page": page})

    def next_request(self, response, account: Account | None, page: int, rows: list):
        if next_url := self.next_link(response):  # the Hub's cursor
            return self.listing_request(account, page + 1, next_url)
        return None

    def repo_page(self, repo_id) -> str:
        return f"{self.endpoint}/{self.url_prefix}{repo_id}"

    def row_fields(self, row: dict) -> dict:
        return {"downloads": self.sent(row, "downloads"),
                "downloads_total": self.sent(row, "downloadsAllTime", "downloads_total"),
                "tags": row.get("tags") or [], "created_at": row.get("createdAt"),
                "last_modified": row.get("lastModified")}

    def repo_url(self, repo_id: str, suffix: str = "") -> str:
        return f"{self.endpoint}/api/{self.kind}/{quote(repo_id)}{suffix}"

    def parse_discussions(self, response, data, item):
        data = data if isinstance(data, dict) else {}
        count = self.sent(data, "count", "discussions")
        closed = data.get("numClosedDiscussions")
        item.discussions = count
        if isinstance(count, int) and isinstance(closed, int):
            item.discussions_open = count - closed


class HuggingfaceModelsSpider(HuggingfaceSpider):
    name = "huggingface_models"
    kind = "models"
    item_class = ModelItem
    expand = MODEL_EXPAND
    check_label = "huggingface"
    check_optional = ("pipeline_tag", "library_name", "safetensors", "config")  # per repo

    def row_fields(self, row: dict) -> dict:
        config = row.get("config") if isinstance(row.get("config"), dict) else {}
        architectures = config.get("architectures")
        return {
            **super().row_fields(row),
            "pipeline_tag": row.get("pipeline_tag"),
            "library": row.get("library_name"),
            "params": self.params_of(row),
            "model_type": config.get("model_type") if config
            else self.unsent("model_type", "no_config"),
            "architectures": architectures if architectures is not None else [],
        }

    def params_of(self, row: dict):
        """``safetensors.total``, the sum over dtypes. A repo without safetensors weights
        (recorded: espnet/kan-bayashi_ljspeech_vits) has no ``safetensors`` key: NULL, counted
        (``osir/null/params/no_safetensors``), never 0."""
        safetensors = row.get("safetensors")
        if not isinstance(safetensors, dict):
            return self.unsent("params", "no_safetensors")
        if "total" not in safetensors:
            return self.unsent("params", "no_safetensors_total")
        return safetensors["total"]

    def detail_steps(self, row: dict, item) -> list[tuple[str, str]]:
        repo_id = row.get("id")
        if not isinstance(repo_id, str):
            return []
        return [
            (self.repo_url(repo_id, "?expand[]=childrenModelCount"), "parse_children"),
            (self.repo_url(repo_id, "/discussions"), "parse_discussions"),
        ]

    def parse_children(self, response, data, item):
        """``childrenModelCount``: a count (huggingface_hub's ModelInfo types it ``int``); some
        answers break it down by relation (``{"adapter": n, "finetune": n, "merge": n,
        "quantized": n}``), summed here as OSIR-LMTS summed the model-tree box. An answer
        without the key leaves ``descendants`` NULL, counted (``osir/null/descendants/…``)."""
        data = data if isinstance(data, dict) else {}
        count = self.sent(data, "childrenModelCount", "descendants")
        if isinstance(count, dict):
            parts = list(count.values())
            if all(isinstance(n, int) and not isinstance(n, bool) for n in parts):
                self.crawler.stats.inc_value("osir/huggingface/children_by_relation")
                count = sum(parts)
        item.descendants = count


class HuggingfaceDatasetsSpider(HuggingfaceSpider):
    name = "huggingface_datasets"
    kind = "datasets"
    item_class = DatasetItem
    expand = COMMON_EXPAND
    check_label = "huggingface_datasets"
    url_prefix = "datasets/"

    def wants_details(self, item) -> bool:
        """Every dataset: the data dimension has no download threshold (OSIR-LMTS method)."""
        self.crawler.stats.inc_value("osir/details/fetched")
        return True

    def detail_steps(self, row: dict, item) -> list[tuple[str, str]]:
        repo_id = row.get("id")
        if not isinstance(repo_id, str):
            return []
        usage = urlencode(
            [("filter", f"dataset:{repo_id}"), ("limit", self.page_size), ("expand[]", "likes")]
        )
        return [
            (self.repo_url(repo_id, "/discussions"), "parse_discussions"),
            (f"{self.endpoint}/api/models?{usage}", "parse_usage"),
        ]

    def parse_usage(self, response, rows, item):
        """Distinct model ids over all pages (a row can come again on the next page).

        The ids seen so far travel on the item (an attribute, not a field: never stored), so
        the next page's request carries them into the JOBDIR and a resumed crawl goes on
        counting where it stopped."""
        seen = getattr(item, "usage_seen", set())
        seen.update(r["id"] if isinstance(r, dict) and "id" in r else repr(r)
                    for r in (rows if isinstance(rows, list) else []))
        item.dataset_usage = len(seen)
        if more := self.next_link(response):
            item.usage_seen = seen
            return more
        vars(item).pop("usage_seen", None)
        return None
