"""Fixture tests of the hub spiders' callbacks (tests/spider_fixtures.py): Hugging Face models
and datasets, ModelScope models and datasets. Saved answers in tests/fixtures/<spider>/."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from osir_crawl.items import RequestFailure
from osir_crawl.spiders.huggingface import HuggingfaceDatasetsSpider, HuggingfaceModelsSpider
from osir_crawl.spiders.modelscope import ModelScopeDatasetsSpider, ModelScopeModelsSpider
from tests.spider_fixtures import FIXTURES, PROJECT, build, feed, started, stats

HF_NEXT = ('<https://huggingface.co/api/models?author=BAAI&limit=1000&expand%5B%5D=downloads'
           '&cursor=eyIkb3IiOlt7Il9pZCI6eyIkZ3QiOiI2NzIwYzFhMiJ9fV19>; rel="next"')


def test_every_spider_has_saved_answers():
    spiders = SpiderLoader.from_settings(Settings(PROJECT)).list()  # what `scrapy list` shows
    assert len(spiders) == 18
    assert sorted(d.name for d in FIXTURES.iterdir() if d.is_dir()) == sorted(spiders)


def query(request) -> dict:
    return parse_qs(urlsplit(request.url).query)


def test_huggingface_models_listing_details_and_next_page():
    spider = build(HuggingfaceModelsSpider, orgs="BAAI")
    first = started(spider)
    assert [query(r)["author"] for r in first] == [["BAAI"], ["FlagRelease"], ["CofeAI"],
                                                  ["OmniGen2"]]
    assert query(first[0])["expand[]"] == ["downloads", "downloadsAllTime", "likes", "createdAt",
                                           "lastModified", "tags", "pipeline_tag",
                                           "library_name", "safetensors", "config"]
    items, requests = feed(first[0], "huggingface_models/models-BAAI.json",
                           headers={"Link": HF_NEXT})
    [small] = items  # below OSIR_MIN_DOWNLOADS (50): no detail requests
    assert (small.repo_id, small.org, small.owner, small.downloads, small.downloads_total,
            small.params, small.architectures) == ("BAAI/Aquila-VL-2B-llava-qwen", "BAAI",
                                                   "BAAI", 31, 2231, None, [])
    assert small.url == "https://huggingface.co/BAAI/Aquila-VL-2B-llava-qwen"
    children, following = requests
    assert children.url == ("https://huggingface.co/api/models/BAAI/bge-m3"
                            "?expand%5B%5D=childrenModelCount")
    assert following.url == HF_NEXT[1:HF_NEXT.index(">")]  # the Hub's cursor, as linked
    assert following.cb_kwargs["page"] == 2 and following.cb_kwargs["account"].name == "BAAI"

    _, [discussions] = feed(children, "huggingface_models/model-BAAI-bge-m3.json")
    assert discussions.url == "https://huggingface.co/api/models/BAAI/bge-m3/discussions"
    [item], [] = feed(discussions, "huggingface_models/discussions-BAAI-bge-m3.json")
    assert (item.repo_id, item.downloads, item.downloads_total, item.likes, item.params,
            item.model_type, item.architectures, item.pipeline_tag, item.library) == (
        "BAAI/bge-m3", 4236147, 61534720, 2231, 567754752, "xlm-roberta", ["XLMRobertaModel"],
        "sentence-similarity", "sentence-transformers")
    assert (item.descendants, item.discussions, item.discussions_open) == (412, 97, 17)
    assert stats(spider)["osir/listing/rows"] == 2
    assert stats(spider)["osir/details/fetched"] == stats(spider)["osir/details/skipped"] == 1

    # A page without rel="next" is the last; its rows are those of page 1 again: the one whose
    # details are being fetched already is a duplicate, dropped without requests of its own.
    items, requests = feed(following, "huggingface_models/models-BAAI.json")
    assert requests == [] and [i.repo_id for i in items] == ["BAAI/Aquila-VL-2B-llava-qwen"]
    assert stats(spider)["osir/duplicates"] == 1


def test_huggingface_listing_that_is_not_an_array_is_retried():
    spider = build(HuggingfaceModelsSpider, orgs="BAAI")
    request = started(spider)[0]
    [], [retry] = feed(request, "huggingface_models/model-BAAI-bge-m3.json")  # an object
    assert retry.url == request.url and retry.dont_filter
    assert retry.meta["retry_times"] == 1


def test_huggingface_datasets_usage_is_counted_over_all_pages():
    spider = build(HuggingfaceDatasetsSpider, orgs="BAAI")
    [], [discussions] = feed(started(spider)[0], "huggingface_datasets/datasets-BAAI.json")
    assert discussions.url == ("https://huggingface.co/api/datasets/BAAI/Infinity-Instruct"
                               "/discussions")
    [], [usage] = feed(discussions, "huggingface_datasets/discussions-BAAI-Infinity-Instruct.json")
    assert query(usage) == {"filter": ["dataset:BAAI/Infinity-Instruct"], "limit": ["1000"],
                            "expand[]": ["likes"]}
    more = '<https://huggingface.co/api/models?filter=dataset%3AX&cursor=Mg>; rel="next"'
    [], [page2] = feed(usage, "huggingface_datasets/usage-page1.json", headers={"Link": more})
    assert page2.url == "https://huggingface.co/api/models?filter=dataset%3AX&cursor=Mg"
    [item], [] = feed(page2, "huggingface_datasets/usage-page2.json")
    assert (item.repo_id, item.url, item.discussions, item.discussions_open) == (
        "BAAI/Infinity-Instruct", "https://huggingface.co/datasets/BAAI/Infinity-Instruct", 41, 3)
    assert item.dataset_usage == 3  # lab/llama3-8b-ii came on both pages: once
    assert item.downloads == 3174 and item.downloads_total == 186325


def test_modelscope_models_listing_community_page_and_next_page():
    spider = build(ModelScopeModelsSpider, {"MODELSCOPE_PAGE_SIZE": 2}, orgs="BAAI")
    [request] = started(spider)
    assert request.url == ("https://modelscope.cn/openapi/v1/models?owner=BAAI&page_number=1"
                           "&page_size=2")
    items, (community, following) = feed(request, "modelscope_models/models-BAAI-page1.json")
    [emu] = items  # 12 downloads: no community page
    assert (emu.repo_id, emu.downloads, emu.downloads_total, emu.params, emu.pipeline_tag,
            emu.library) == ("BAAI/Emu3-Gen", None, 12, None, "text-to-image-synthesis",
                             "transformers")  # params 0: unknown
    assert emu.tags == ["license:apache-2.0", "library:transformers",
                        "task:text-to-image-synthesis"]
    assert emu.url == "https://modelscope.cn/models/BAAI/Emu3-Gen"
    assert community.url == "https://modelscope.cn/models/BAAI/bge-m3"
    assert community.meta["playwright"] and community.cb_kwargs["method"] == "parse_community"
    assert query(following) == {"owner": ["BAAI"], "page_number": ["2"], "page_size": ["2"]}

    [item], [] = feed(community, "modelscope_models/repo-page-bge-m3.html")
    assert (item.repo_id, item.downloads_total, item.likes, item.discussions, item.params,
            item.pipeline_tag, item.library) == ("BAAI/bge-m3", 184310, 96, 12, 567754752,
                                                 "sentence-embedding", "pytorch")


def test_modelscope_page_without_the_community_tab_is_retried():
    spider = build(ModelScopeModelsSpider, {"MODELSCOPE_PAGE_SIZE": 2}, orgs="BAAI")
    _, (community, _) = feed(started(spider)[0], "modelscope_models/models-BAAI-page1.json")
    [], [retry] = feed(community, "modelscope_models/repo-page-still-loading.html")
    assert retry.url == community.url and retry.meta["retry_times"] == 1


def test_modelscope_cap_and_error_envelope():
    spider = build(ModelScopeModelsSpider, {"MODELSCOPE_PAGE_SIZE": 2, "MODELSCOPE_MAX_ROWS": 2},
                   orgs="BAAI")
    request = started(spider)[0]
    items, requests = feed(request, "modelscope_models/models-BAAI-page1.json")
    [failure] = [i for i in items if isinstance(i, RequestFailure)]
    assert failure.reason == ("BAAI has 3 models; the OpenAPI lists only the first 2 "
                              "(page_number * page_size <= 2)")
    assert [r.cb_kwargs.get("method") for r in requests] == ["parse_community"]  # no page 2

    [], [retry] = feed(request, "modelscope_models/rate-limited.json")
    assert retry.url == request.url
    assert stats(spider)["osir/modelscope/error/RateLimitExceed"] == 1


def test_modelscope_datasets_without_community_pages():
    spider = build(ModelScopeDatasetsSpider, {"MODELSCOPE_COMMUNITY": False}, orgs="BAAI")
    [item], [] = feed(started(spider)[0], "modelscope_datasets/datasets-BAAI-page1.json")
    assert (item.repo_id, item.org, item.downloads_total, item.likes, item.discussions,
            item.created_at, item.url) == (
        "BAAI/CCI3-HQ", "BAAI", 1520, 21, None, "2024-09-19T14:24:37Z",
        "https://modelscope.cn/datasets/BAAI/CCI3-HQ")
    assert item.tags == ["license:apache-2.0", "task:text-generation"]
