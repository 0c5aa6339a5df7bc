"""Unit tests: count parsing, and the pure parts of the ModelScope, OpenDataLab, BAAI and
browser spiders (no network, no browser)."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.utils.project import get_project_settings
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from osir_crawl.parsing import parse_count, parse_total
from osir_crawl.spiders._browser import BrowserSpider, abort_heavy
from osir_crawl.spiders.baai import BaaiDatasetsSpider, listing_of
from osir_crawl.spiders.huggingface import HuggingfaceModelsSpider
from osir_crawl.spiders.modelscope import ModelScopeModelsSpider, error_of
from osir_crawl.spiders.opendatalab import OpenDataLabDatasetsSpider, _owner_name, records_from_json

from tests.conftest import async_test


def configured(spider_cls):
    """A spider configured from the project settings (registry, endpoint), without a crawl."""
    spider = spider_cls()
    spider.configure(get_project_settings())
    return spider


@pytest.mark.parametrize("text, value", [
    ("10.3k", 10300), ("1.7k", 1700), ("3.1m", 3_100_000), ("295,137", 295137), ("-", 0),
    ("2k", 2000), ("0.5k", 500), ("1.05k", 1050), ("48", 48), (" 12 ", 12), ("1.2M", 1_200_000),
    ("1.25万", 12500), ("3亿", 300_000_000), ("", 0), ("—", 0), ("999+", 999),
    ("1.5b", 1_500_000_000),
    (7, 7), (7.0, 7),
])
def test_parse_count(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["abc", "1.2.3k", "k", "12 datasets", None, True, [], "-5"])
def test_parse_count_unreadable_is_none(text):
    assert parse_count(text) is None


def test_parse_total():
    assert parse_total("全部 144 数据集") == 144
    assert parse_total("共1,234数据集") == 1234
    assert parse_total("数据集") is None and parse_total("") is None


def test_modelscope_error_envelope():
    assert error_of(b'{"success": false, "code": "RateLimitExceed", "message": "slow"}') == (
        "RateLimitExceed", "slow")
    assert error_of(b'{"success": false}') == ("UnknownError", "")
    assert error_of(b'{"success": true, "data": {}}') is None
    assert error_of(b"<html>") is None


def test_opendatalab_records_from_page_json():
    captured = [
        {"url": "/api/user", "data": {"code": 200, "data": {"name": "guest"}}},
        {"url": "/api/datasets", "data": {"code": 200, "data": {"total": 30, "list": [
            {"name": "OpenLane", "orgName": "OpenDriveLab", "downloadCount": 10300,
             "likeCount": 48}]}}},
    ]
    rows, total = records_from_json(captured)
    assert total == 30 and rows[0]["name"] == "OpenLane"
    assert records_from_json(captured[:1]) is None
    assert records_from_json([{"data": [{"datasetName": "x", "downloads": "1k"}]}]) == (
        [{"datasetName": "x", "downloads": "1k"}], None)


def test_opendatalab_item_from_record_and_links():
    spider = configured(OpenDataLabDatasetsSpider)
    account = spider.accounts()[0]
    item = spider.item_from_record({"name": "OpenLane", "path": "/OpenDriveLab/OpenLane",
                                    "downloadCount": "10.3k", "likes": 48}, account)
    assert (item.repo_id, item.downloads_total, item.likes, item.org) == (
        "OpenDriveLab/OpenLane", 10300, 48, "ShanghaiAILab")
    assert item.url == "https://opendatalab.com/OpenDriveLab/OpenLane"
    assert _owner_name("https://opendatalab.com/OpenXDLab/GTA-Human") == ("OpenXDLab", "GTA-Human")
    assert _owner_name("/Open%20Lab/a%2Bb") == ("Open Lab", "a+b")
    assert _owner_name("/OpenLane") == (None, None)


def test_baai_listing_and_item():
    assert listing_of({"code": 200, "data": {"total": 2, "list": [{}]}}) == ([{}], 2)
    assert listing_of({"code": 401, "data": None}) is None
    spider = configured(BaaiDatasetsSpider)
    spider.org = "BAAI"
    item = spider.item_from({"uriName": "BAAI-CCI3-HQ", "downloadNumb": 249, "subscribedNumb": 6,
                             "tags": ["文本"], "createTime": "2024-09-19T14:24:37.000+00:00"})
    assert (item.repo_id, item.owner, item.downloads_total, item.likes, item.platform) == (
        "BAAI/BAAI-CCI3-HQ", "BAAI", 249, 6, "baai_data")
    assert item.url == "https://data.baai.ac.cn/datadetail/BAAI-CCI3-HQ"


def test_modelscope_item_fields():
    spider = configured(ModelScopeModelsSpider)
    account = spider.registry.accounts_on("modelscope", ["BAAI"])[0]
    item = spider.item_from({"id": "BAAI/bge-m3", "downloads": 1466321, "likes": 265,
                             "tasks": ["sentence-similarity", "feature-extraction"],
                             "params": 567754752, "tags": ["library:pytorch"]}, account)
    assert (item.downloads, item.downloads_total, item.pipeline_tag, item.library) == (
        None, 1466321, "sentence-similarity", "pytorch")
    assert item.tags == ["library:pytorch", "task:sentence-similarity", "task:feature-extraction"]
    assert item.url == "https://modelscope.cn/models/BAAI/bge-m3"


def test_only_browser_spiders_enable_playwright():
    handler = "osir_crawl.spiders._browser.LazyPlaywrightHandler"  # starts Playwright on demand
    assert issubclass(load_object(handler), ScrapyPlaywrightDownloadHandler)
    # ModelScope renders each repo page for its community count (交流反馈).
    for spider_cls in (OpenDataLabDatasetsSpider, BaaiDatasetsSpider, ModelScopeModelsSpider):
        crawler = Crawler(spider_cls, get_project_settings())  # applies custom_settings
        # http(s) through the browser handler; every other scheme stays off (issue 25).
        assert crawler.settings.getdict("DOWNLOAD_HANDLERS") == {
            "http": handler, "https": handler, "data": None, "file": None, "ftp": None,
            "s3": None}
        assert crawler.settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")["executable_path"] \
            .endswith("chromium")
    for spider_cls in (HuggingfaceModelsSpider,):
        crawler = Crawler(spider_cls, get_project_settings())  # applies custom_settings
        assert handler not in crawler.settings.getdict("DOWNLOAD_HANDLERS").values()
    assert issubclass(OpenDataLabDatasetsSpider, BrowserSpider)


def test_browser_pages_have_a_slot_of_their_own_that_autothrottle_leaves_alone():
    """A page's latency is Chromium's rendering and the settle waits: AutoThrottle would space
    the pages ~latency/2 apart. Pages go in a slot as wide as the browser's open pages."""
    settings = get_project_settings()
    settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 6, priority="cmdline")
    crawler = Crawler(ModelScopeModelsSpider, settings)
    slot = ModelScopeModelsSpider.browser_slot()
    assert crawler.settings.getdict("DOWNLOAD_SLOTS")[slot] == {"concurrency": 6, "delay": 0.0}
    crawler = Crawler(OpenDataLabDatasetsSpider, get_project_settings())
    assert crawler.settings.getdict("DOWNLOAD_SLOTS")[OpenDataLabDatasetsSpider.browser_slot()] \
        == {"concurrency": 2, "delay": 0.0}
    spider = configured(ModelScopeModelsSpider)
    request = spider.browser_request("https://modelscope.cn/models/BAAI/bge-m3", spider.parse)
    assert request.meta["download_slot"] == slot
    assert request.meta["autothrottle_dont_adjust_delay"] is True
    assert request.meta["playwright_page_goto_kwargs"] == {"wait_until": "domcontentloaded"}
    assert request.meta["playwright_page_methods"][0].args[2] == spider.ready_for


@async_test
async def test_the_ready_wait_ends_the_quiet_wait_only_when_it_succeeds():
    from osir_crawl.spiders._browser import _first_of

    async def scenario():
        quiet, never, ended = asyncio.Event(), asyncio.Event(), []

        async def idle():
            await quiet.wait()
            ended.append("idle")

        async def bad_selector():
            raise ValueError("not a selector")

        async def ready():
            ended.append("ready")

        waiting = asyncio.ensure_future(_first_of([idle(), bad_selector()]))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()  # a failed ready wait does not end it
        quiet.set()
        await waiting
        await _first_of([never.wait(), ready()])  # the ready selector: no quiet to wait for
        assert ended == ["idle", "ready"]

    await scenario()


def test_abort_heavy_resources():
    class Req:
        def __init__(self, kind):
            self.resource_type = kind
    assert all(abort_heavy(Req(k)) for k in ("image", "font", "media", "stylesheet"))
    assert not any(abort_heavy(Req(k)) for k in ("document", "xhr", "fetch", "script"))


def test_modelscope_community_tab():
    from osir_crawl.spiders.modelscope import community_count
    assert community_count(["模型介绍", "交流反馈", "12"]) == 12  # the badge in its own node
    assert community_count(["交流反馈12"]) == 12  # as the OSIR-LMTS crawler's regex read it
    assert community_count(["交流反馈（1,024）"]) == 1024
    assert community_count(["交流反馈"]) == 0  # the tab without a number
    assert community_count(["模型介绍", "模型文件"]) is None  # no tab: unknown
