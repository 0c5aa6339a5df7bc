"""The Hub's real answers, recorded by huggingface_hub's VCR cassette
``TestInferenceClient.test_hf_inference_get_recommended_model_has_recommendation.yaml``
(tests/fixtures/huggingface_models/model-*.source.json), through the models spider's callbacks
and Scrapy's redirect handling.

The recordings are of ``GET /api/models/{id}``: a model's info as the Hub serves it, the
``ModelInfo`` object whose properties a listing's ``expand[]`` picks (all those the spider asks
for except ``downloadsAllTime``). The spider reads them from the account's listing, so the
recorded object is served as that listing's one row; its detail step
(``?expand[]=childrenModelCount``) is answered by the same recording, which has no
``childrenModelCount``. No cassette records a listing (``/api/models?author=``), a dataset or
discussions: the discussions step is answered by the written fixture.
"""

from __future__ import annotations

import json

import pytest
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

from osir_crawl.middlewares import RecordedOffsiteMiddleware
from osir_crawl.pipelines.validation import problems
from osir_crawl.spiders.huggingface import HuggingfaceModelsSpider
from tests.spider_fixtures import build, feed, fixture, recorded, sidecar, started, stats

HUB = "https://huggingface.co"
MODELS = "huggingface_models"
WRITTEN_DISCUSSIONS = f"{MODELS}/discussions-BAAI-bge-m3.json"


def listing_of(spider, author: str):
    [request] = [r for r in started(spider) if f"author={author}&" in r.url]
    return request


def one_row_listing(spider, author: str, answer: str) -> list:
    """What the account's listing callback yields for a page (with the recording's status and
    headers) whose one row is the recorded model info: no item yet, its first detail step."""
    request = listing_of(spider, author)
    page = TextResponse(request.url, body=b"[" + fixture(f"{MODELS}/{answer}.json") + b"]",
                        request=request, encoding="utf-8", **recorded(f"{MODELS}/{answer}"))
    return list(request.callback(page, **request.cb_kwargs))


@pytest.mark.parametrize("org,author,answer,expected", [
    ("Meta", "facebook", "model-facebook-bart-base", dict(
        repo_id="facebook/bart-base", owner="facebook", name="bart-base",
        url=f"{HUB}/facebook/bart-base", params=139420416, likes=178, downloads=2924294,
        pipeline_tag="feature-extraction", library="transformers", model_type="bart",
        architectures=["BartModel"], created_at="2022-03-02T23:29:05.000Z",
        last_modified="2022-11-16T23:23:10.000Z")),
    ("Google", "google-t5", "model-google-t5-t5-small", dict(
        repo_id="google-t5/t5-small", owner="google-t5", name="t5-small",
        url=f"{HUB}/google-t5/t5-small", params=60506880, likes=433, downloads=5747624,
        pipeline_tag="translation", library="transformers", model_type="t5",
        architectures=["T5ForConditionalGeneration"], created_at="2022-03-02T23:29:04.000Z",
        last_modified="2023-06-30T02:31:26.000Z")),
])
def test_recorded_model_info_is_read_as_the_hub_means_it(org, author, answer, expected):
    spider = build(HuggingfaceModelsSpider, orgs=org)
    hub = json.loads(fixture(f"{MODELS}/{answer}.json"))
    [children] = one_row_listing(spider, author, answer)
    repo_id = expected["repo_id"]
    assert children.url == f"{HUB}/api/models/{repo_id}?expand%5B%5D=childrenModelCount"

    _, [discussions] = feed(children, f"{MODELS}/{answer}.json",
                            **recorded(f"{MODELS}/{answer}"))
    assert discussions.url == f"{HUB}/api/models/{repo_id}/discussions"
    [item], [] = feed(discussions, WRITTEN_DISCUSSIONS)

    assert {k: getattr(item, k) for k in expected} == expected
    assert item.org == org and item.platform == "huggingface"
    # params: safetensors.total (the sum over dtypes), not one dtype's count
    by_dtype = hub["safetensors"]["parameters"]
    assert item.params == hub["safetensors"]["total"] == sum(by_dtype.values())
    assert item.tags == hub["tags"] and "license:apache-2.0" in item.tags
    # downloads is the Hub's 30-day count; the all-time count is only sent when expanded
    assert item.downloads_total is None and item.descendants is None  # not sent: NULL, not 0
    counted = stats(spider)
    assert counted["osir/null/downloads_total/no_downloadsAllTime"] == 1
    assert counted["osir/null/descendants/no_childrenModelCount"] == 1
    assert counted["osir/details/fetched"] == 1
    assert problems(item) == []


def test_recorded_redirect_of_a_renamed_repo_is_followed_on_the_same_host():
    """``t5-small`` was renamed ``google-t5/t5-small``: the Hub answers its old path with 307
    and a relative ``Location``. Scrapy's RedirectMiddleware follows it within huggingface.co
    (the offsite filter lets it through), with the step's callback and item unchanged; the
    renamed repo's recorded answer then completes the item under the id its account lists."""
    spider = build(HuggingfaceModelsSpider, orgs="Google")
    [children] = one_row_listing(spider, "google-t5", "model-google-t5-t5-small")
    # The same step asked by the repo's former path (e.g. a request queued before the rename).
    old = children.replace(url=f"{HUB}/api/models/t5-small?expand%5B%5D=childrenModelCount")
    moved = sidecar(f"{MODELS}/model-t5-small-307")
    assert (moved["status"], moved["headers"]["Location"]) == (307,
                                                              "/api/models/google-t5/t5-small")
    answer = Response(old.url, status=moved["status"], headers=moved["headers"],
                      body=fixture(f"{MODELS}/model-t5-small-307.txt"), request=old)

    crawler = spider.crawler
    redirects = RedirectMiddleware.from_crawler(crawler)
    followed = redirects.process_response(old, answer)
    # The Location as recorded has no query; the recorded request had none either, so whether
    # the Hub keeps ``expand[]`` on a redirect is unknown: without it, the answer is the full
    # model info, which has no childrenModelCount (NULL, counted, below).
    assert followed.url == f"{HUB}/api/models/google-t5/t5-small"
    assert followed.method == "GET" and followed.meta["redirect_urls"] == [old.url]
    assert followed.meta["redirect_reasons"] == [307]
    assert followed.callback == old.callback and followed.errback == old.errback
    assert followed.cb_kwargs["item"] is old.cb_kwargs["item"]
    offsite = RecordedOffsiteMiddleware.from_crawler(crawler)
    offsite.spider_opened(spider)
    assert offsite.process_request(followed) is None  # same host: fetched, not refused
    with pytest.raises(IgnoreRequest):  # (a Location on another host would be refused)
        offsite.process_request(followed.replace(url="https://elsewhere.example/api/models/x"))

    _, [discussions] = feed(followed, f"{MODELS}/model-google-t5-t5-small.json",
                            **recorded(f"{MODELS}/model-google-t5-t5-small"))
    [item], [] = feed(discussions, WRITTEN_DISCUSSIONS)
    assert (item.repo_id, item.owner, item.url, item.org) == (
        "google-t5/t5-small", "google-t5", f"{HUB}/google-t5/t5-small", "Google")
    assert item.descendants is None  # the redirected answer had no childrenModelCount
    assert stats(spider)["osir/null/descendants/no_childrenModelCount"] == 1
    assert problems(item) == []


def test_a_former_id_without_owner_is_rejected_not_requested():
    """The Hub still answers ``t5-small`` (by redirect), but a row with an id without an owner
    is not one the store can hold: the item is left for validation to reject, and no detail
    request is made for it."""
    spider = build(HuggingfaceModelsSpider, orgs="Google")
    request = listing_of(spider, "google-t5")
    row = {**json.loads(fixture(f"{MODELS}/model-google-t5-t5-small.json")), "id": "t5-small"}
    item = spider.item_from(row, request.cb_kwargs["account"])
    out = list(spider.complete(row, item))
    assert out == [item] and problems(item)  # rejected by validation, with a reason
    assert stats(spider)["osir/details/not_requested"] == 1


def test_recorded_model_without_safetensors_has_no_params_not_zero():
    """A repo with no safetensors weights (espnet's VITS: an ESPnet checkpoint) has neither
    ``safetensors`` nor ``config``: params and model_type are NULL, each counted."""
    spider = build(HuggingfaceModelsSpider, orgs="Meta")
    request = listing_of(spider, "facebook")  # any account's listing: the row is what is read
    answer = "model-espnet-kan-bayashi_ljspeech_vits"
    row = json.loads(fixture(f"{MODELS}/{answer}.json"))
    item = spider.item_from(row, request.cb_kwargs["account"])
    assert (item.repo_id, item.params, item.model_type, item.architectures, item.downloads,
            item.likes, item.pipeline_tag, item.library, item.created_at, item.last_modified) == (
        "espnet/kan-bayashi_ljspeech_vits", None, None, [], 2354, 219, "text-to-speech",
        "espnet", "2022-03-02T23:29:05.000Z", "2021-10-23T20:27:43.000Z")
    counted = stats(spider)
    assert counted["osir/null/params/no_safetensors"] == 1
    assert counted["osir/null/model_type/no_config"] == 1
    assert problems(item) == []


def test_an_expand_answer_holds_only_what_was_asked_and_the_step_reads_only_that():
    """The Hub answers ``?expand=…`` with ``_id``, ``id`` and the properties asked for only
    (recorded: ``expand=inferenceProviderMapping``). The children step reads its one key and
    leaves the listing's fields as they were; the key it asked for is missing here, so
    descendants is NULL, counted."""
    spider = build(HuggingfaceModelsSpider, orgs="Meta")
    [children] = one_row_listing(spider, "facebook", "model-facebook-bart-base")
    answer = f"{MODELS}/model-meta-llama-Llama-3.1-8B-Instruct-expand"
    assert set(json.loads(fixture(f"{answer}.json"))) == {"_id", "id",
                                                         "inferenceProviderMapping"}
    _, [discussions] = feed(children, f"{answer}.json", **recorded(answer))
    [item], [] = feed(discussions, WRITTEN_DISCUSSIONS)
    assert (item.repo_id, item.params, item.downloads, item.likes, item.descendants) == (
        "facebook/bart-base", 139420416, 2924294, 178, None)
    assert stats(spider)["osir/null/descendants/no_childrenModelCount"] == 1
