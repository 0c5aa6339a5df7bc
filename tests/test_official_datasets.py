"""The ``official_datasets`` spider on a recorded TFDS catalogue (tests/fixtures/RULE-SOURCES.md),
and how its rows take the place of the frozen other-source list in the data dimension."""

from __future__ import annotations

import pytest

from osir_crawl.items import OfficialDatasetItem, RequestFailure
from osir_crawl.spiders.official_datasets import OfficialDatasetsSpider
from scoring.official_datasets import other_datasets, read_official
from tests.conftest import async_test, rows
from tests.fakes.forge_content import tfds_catalogue_content
from tests.fakes.forges import FakeForge, ForgeData
from tests.spider_fixtures import build, feed, started, stats

TOC = "https://api.github.com/repos/tensorflow/datasets/contents/docs/catalog/_toc.yaml?ref=master"


def test_tfds_catalogue_one_item_per_released_dataset_with_its_modality():
    spider = build(OfficialDatasetsSpider)
    [request] = started(spider)
    assert request.url == TOC
    assert request.headers["Accept"] == b"application/vnd.github.raw+json"
    items, more = feed(request, "official_datasets/_toc.yaml")
    assert more == [] and all(isinstance(i, OfficialDatasetItem) for i in items)
    names = [i.name for i in items]
    assert len(names) == len(set(names)) == 169  # 183 dataset entries, 14 nightly
    assert stats(spider)["osir/official/nightly_skipped"] == 14
    assert stats(spider)["osir/official/unmapped_sections"] == 1  # Structured
    mnist = next(i for i in items if i.name == "mnist")
    assert (mnist.source, mnist.org, mnist.section, mnist.modality, mnist.url) == (
        "tfds", "Google", "Image classification", "Vision",
        "https://www.tensorflow.org/datasets/catalog/mnist")
    by_modality = {}
    for i in items:
        by_modality[i.modality] = by_modality.get(i.modality, 0) + 1
    assert by_modality == {"Speech": 12, "Vision": 94, "Language": 56, None: 7}  # None: Structured
    assert "c4" in names and "voxforge" not in names  # manual: kept; nightly: left out


@pytest.mark.parametrize("body", ["toc: [", "title: no toc here"])
def test_an_unreadable_catalogue_is_retried_then_a_failure(tmp_path, monkeypatch, body):
    import tests.spider_fixtures as fixtures
    (tmp_path / "bad.yaml").write_text(body)
    monkeypatch.setattr(fixtures, "FIXTURES", tmp_path)
    spider = build(OfficialDatasetsSpider, {"RETRY_TIMES": 0})
    [request] = started(spider)
    [failure], [] = feed(request, "bad.yaml")
    assert isinstance(failure, RequestFailure)
    assert failure.reason == "catalogue _toc.yaml has no toc list"


def test_orgs_without_a_machine_readable_catalogue_have_nothing_to_crawl():
    spider = build(OfficialDatasetsSpider, orgs="Meta")
    assert started(spider) == []
    assert spider.store_scope() == {}


def test_crawled_catalogues_replace_the_frozen_rows_of_their_orgs_only():
    frozen = [{"org": "Google", "modality": "Language", "lifecycle": "Pre-training"},
              {"org": "Meta", "modality": "Vision", "lifecycle": "Pre-training"}]
    crawled = [{"org": "Google", "source": "tfds", "modality": "Vision", "lifecycle": None},
               {"org": "Google", "source": "tfds", "modality": None, "lifecycle": None}]
    rows, notes = other_datasets(frozen, crawled)
    assert rows == [*crawled, frozen[1]]
    assert notes == {"Google": "official_datasets crawl (2 datasets of Google: tfds)",
                     "Meta": "data/curated/other-source-datasets.csv (1 datasets of Meta)"}
    assert other_datasets(frozen, []) == (frozen, {
        "Google": "data/curated/other-source-datasets.csv (1 datasets of Google)",
        "Meta": "data/curated/other-source-datasets.csv (1 datasets of Meta)"})


@async_test
async def test_a_crawl_stores_the_catalogue_and_the_data_dimension_reads_it(crawl):
    """``scrapy crawl official_datasets`` against the GitHub fake serving the recorded
    catalogue: one row per released dataset, which scoring takes for Google's."""
    with FakeForge("github", ForgeData(), content=tfds_catalogue_content()) as fake:
        run = await crawl("official_datasets", settings={"GITHUB_API_URL": fake.url,
                                                         "OSIR_SNAPSHOT": "2025-10-07"})
    assert (run.status, run.outcome) == (0, "finished")
    stored = rows(run.db, "SELECT source, org, name, modality FROM official_datasets")
    assert len(stored) == run.stats["osir/stored/official_datasets"] == 169
    crawled = read_official(run.db, "2025-10-07")
    assert len(crawled) == 169 and {r["org"] for r in crawled} == {"Google"}
    rows_, notes = other_datasets([{"org": "Google", "modality": "Language",
                                    "lifecycle": "Pre-training"}], crawled)
    assert len(rows_) == 169 and notes["Google"].startswith("official_datasets crawl (169")
