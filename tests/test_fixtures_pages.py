"""Fixture tests of the callbacks of the spiders that read a site's own JSON or its rendered pages
(tests/spider_fixtures.py): BAAI data platform and OpenDataLab. A rendered page is its saved
DOM, with the JSON the page fetched (``browser_json``) from a saved ``*.captured.json``."""

from __future__ import annotations

import json

from osir_crawl.items import RequestFailure
from osir_crawl.spiders.baai import BaaiDatasetsSpider
from osir_crawl.spiders.opendatalab import OpenDataLabDatasetsSpider
from tests.spider_fixtures import build, feed, started, stats

BAAI = "https://data.baai.ac.cn"


def test_baai_api_listing_pages_by_offset():
    spider = build(BaaiDatasetsSpider, {"BAAI_PAGE_SIZE": 2})
    [request] = started(spider)
    assert request.url == f"{BAAI}/api/datahub/search/v1/getAllDataset" and request.method == "POST"
    assert json.loads(request.body) == {"limit": 2, "offset": 0, "datasetName": "",
                                        "startTime": None, "endTime": None, "orderBy": "5"}
    items, [following] = feed(request, "baai_datasets/getAllDataset-offset0.json")
    assert [(i.repo_id, i.org, i.owner, i.name, i.downloads_total, i.likes) for i in items] == [
        ("BAAI/BAAI-CCI4.0-M2-Base-v1", "BAAI", "BAAI", "BAAI-CCI4.0-M2-Base-v1", 294, 1),
        ("BAAI/BAAI-CCI4.0-M2-Extra-v1", "BAAI", "BAAI", "BAAI-CCI4.0-M2-Extra-v1", 24, 0)]
    assert items[0].url == f"{BAAI}/datadetail/BAAI-CCI4.0-M2-Base-v1"
    assert items[0].tags == ["文本", "预训练"] and items[0].created_at.startswith("2025-08-21")
    assert json.loads(following.body)["offset"] == 2
    [last], [] = feed(following, "baai_datasets/getAllDataset-offset2.json")
    assert last.repo_id == "BAAI/BAAI-CCI4.0-M2-CoT-v1"
    assert stats(spider)["osir/listing/rows"] == 3


def test_baai_refusal_falls_back_to_the_page_once_and_reads_all_rows():
    spider = build(BaaiDatasetsSpider, {"BAAI_PAGE_SIZE": 2})
    [request] = started(spider)
    [], [page] = feed(request, "baai_datasets/login-page.html",
                      headers={"Content-Type": "text/html; charset=utf-8"})
    assert page.url == f"{BAAI}/dataset" and page.meta["playwright"]
    assert feed(request, "baai_datasets/not-logged-in.json") == ([], [])  # once per crawl
    assert stats(spider)["osir/baai/refusal/html_page"] == 1
    assert stats(spider)["osir/baai/refusal/code_401"] == 1

    # The page fetched its first page only: the same request again, from inside the page.
    [], [refetch] = feed(page, "baai_datasets/dataset-page.html",
                         captured="baai_datasets/dataset-page.captured.json")
    method = refetch.meta["playwright_page_methods"][1]
    assert refetch.cb_kwargs == {"refetched": True}
    assert method.args[1:] == ("POST", {"limit": 3, "offset": 0, "datasetName": "",
                                        "startTime": None, "endTime": None, "orderBy": "5"})
    items, [] = feed(refetch, "baai_datasets/dataset-page.html",
                     captured="baai_datasets/dataset-page-refetched.captured.json")
    assert sorted(i.repo_id for i in items) == ["BAAI/BAAI-CCI4.0-M2-Base-v1",
                                                "BAAI/BAAI-CCI4.0-M2-CoT-v1",
                                                "BAAI/BAAI-CCI4.0-M2-Extra-v1"]


def test_opendatalab_rendered_cards():
    spider = build(OpenDataLabDatasetsSpider, orgs="ShanghaiAILab")
    first = started(spider)
    assert first[0].url == ("https://opendatalab.com/?createdBy=12199&pageNo=0&pageSize=12"
                            "&sort=downloadCount") and first[0].meta["playwright"]
    items, [] = feed(first[0], "opendatalab_datasets/creator-12199-page0.html")
    assert [(i.repo_id, i.org, i.downloads_total, i.likes, i.url) for i in items] == [
        ("OpenDriveLab/OpenLane", "ShanghaiAILab", 10300, 48,
         "https://opendatalab.com/OpenDriveLab/OpenLane"),
        ("OpenDriveLab/OpenLane-V2", "ShanghaiAILab", 5500, 17,
         "https://opendatalab.com/OpenDriveLab/OpenLane-V2"),
        ("OpenDriveLab/DriveLM", "ShanghaiAILab", 0, 9,
         "https://opendatalab.com/OpenDriveLab/DriveLM")]  # "-": none
    assert stats(spider)["osir/opendatalab/pages_from_dom"] == 1
    assert stats(spider)["osir/listing/rows"] == 3


def test_opendatalab_page_json_pages_and_a_short_creator():
    spider = build(OpenDataLabDatasetsSpider, orgs="ShanghaiAILab")
    request = started(spider)[1]  # creator 11828
    items, [following] = feed(request, "opendatalab_datasets/rendered-shell.html",
                              captured="opendatalab_datasets/creator-11828-page0.captured.json")
    assert [(i.repo_id, i.downloads_total, i.likes) for i in items] == [
        ("OpenMMLab/MMBench", 2000000, 60), ("OpenDataLab/OmniDocBench", 10300, 33)]
    assert following.cb_kwargs["page_no"] == 1 and "pageNo=1" in following.url
    items, [] = feed(following, "opendatalab_datasets/rendered-shell.html",
                     captured="opendatalab_datasets/creator-11828-page1.captured.json")
    failure = items.pop()
    assert isinstance(failure, RequestFailure)
    assert failure.reason == ("creator 11828: 3 distinct datasets on its pages, the site "
                              "announces 14")
    assert [i.repo_id for i in items] == ["OpenDataLab/WanJuan1.0", "OpenDataLab/OmniDocBench"]
    assert stats(spider)["osir/opendatalab/pages_from_json"] == 2


def test_opendatalab_page_without_a_total_is_a_failure():
    spider = build(OpenDataLabDatasetsSpider, orgs="ShanghaiAILab")
    [failure], [] = feed(started(spider)[0], "opendatalab_datasets/rendered-shell.html")
    assert failure.reason == "no dataset total on the page (JSON or 'N 数据集')"
