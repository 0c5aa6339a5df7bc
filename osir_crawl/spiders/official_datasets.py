"""Organisations' own dataset catalogues, where one is machine-readable: ``official_datasets``.

The data dimension adds datasets an organisation publishes outside the hubs (the seed's
``other-source-datasets``, a list typed once, as of 2025-09-07). Where the organisation keeps
that list in a form a program can read, this spider reads it every month instead:

* ``tfds`` (Google): the TensorFlow Datasets catalogue, ``docs/catalog/_toc.yaml`` of
  github.com/tensorflow/datasets, read through the GitHub REST API (GITHUB_API_URL, the file
  with the raw media type). It is the table of contents of
  https://www.tensorflow.org/datasets/catalog/overview: top-level ``section``s (Audio, Image,
  Text, …) of entries ``{path: /datasets/catalog/<name>, title, status?}``; sections may nest.
  One :class:`~osir_crawl.items.OfficialDatasetItem` per dataset name, its modality from the
  top-level section (``MODALITY_BY_SECTION``; a section not there gives no modality and is
  counted in ``osir/official/unmapped_sections``). Entries marked ``status: nightly`` are not
  in a release yet and are left out (``osir/official/nightly_skipped``). TFDS is Google's
  catalogue of loadable datasets; many of them were not made by Google (docs/evidence.md).

Meta's (https://ai.meta.com/datasets/) and Baidu's dataset pages offer no machine-readable
index, so their datasets stay the frozen published list (data/curated/other-source-datasets.csv).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import yaml

from osir_crawl.items import OfficialDatasetItem
from osir_crawl.spiders._base import OsirSpider
from osir_crawl.spiders._live_check import Check

GITHUB_RAW = {"Accept": "application/vnd.github.raw+json", "X-GitHub-Api-Version": "2022-11-28"}


@dataclass(frozen=True)
class OfficialSource:
    id: str
    org: str  # registry org
    repo: str  # owner/name on GitHub
    file: str
    ref: str
    page: str  # a dataset's page: .format(name=…)


SOURCES = (
    OfficialSource("tfds", "Google", "tensorflow/datasets", "docs/catalog/_toc.yaml", "master",
                   "https://www.tensorflow.org/datasets/catalog/{name}"),
)
# TFDS top-level sections -> the data dimension's modalities (others: no modality column)
MODALITY_BY_SECTION = {
    "audio": "Speech",
    "image": "Vision", "image classification": "Vision", "object detection": "Vision",
    "video": "Vision", "depth estimation": "Vision", "3d": "Vision",
    "text": "Language", "question answering": "Language", "summarization": "Language",
    "translate": "Language", "sentiment analysis": "Language", "text simplification": "Language",
    "dialog": "Language",
    "vision language": "Multimodal",
    "robotics": "Embodied",
}


class OfficialDatasetsSpider(OsirSpider):
    name = "official_datasets"
    endpoint_setting = "GITHUB_API_URL"
    item_class = OfficialDatasetItem

    @classmethod
    def live_checks(cls):  # the first entry of each catalogue's table of contents
        return tuple(Check(f"official_{s.id}", cls.endpoint_setting,
                           f"/repos/{s.repo}/contents/{quote(s.file)}?ref={quote(s.ref, safe='')}",
                           accept=GITHUB_RAW["Accept"], format="yaml", rows=("toc",),
                           fields=("path", "title"), optional=("section", "status"))
                     for s in SOURCES)

    @classmethod
    def shard_unit(cls) -> str:
        return cls.name  # a few catalogue files: one shard reads them all

    @classmethod
    def nothing_to_crawl(cls, registry, orgs) -> str | None:
        if not any(s.org in orgs for s in SOURCES):
            return (f"no machine-readable dataset catalogue for the selected orgs (sources: "
                    f"{', '.join(f'{s.id} ({s.org})' for s in SOURCES)})")
        return None

    def sources(self) -> list[OfficialSource]:
        return [s for s in SOURCES if s.org in self.selected_orgs]

    def store_scope(self):
        if not self.in_shard() or not self.sources():
            return {}
        return {self.item_class.TABLE: {"source": [s.id for s in self.sources()]}}

    async def start(self):
        if (why := self.nothing_to_crawl(self.registry, self.selected_orgs)) is not None:
            self.nothing_to_do(why)
            return
        for source in self.sources():
            url = (f"{self.endpoint}/repos/{source.repo}/contents/{quote(source.file)}"
                   f"?ref={quote(source.ref, safe='')}")
            yield self.api_request(url, callback=self.parse_toc, headers=GITHUB_RAW,
                                   cb_kwargs={"source": source.id})

    def parse_toc(self, response, source: str):
        src = next(s for s in SOURCES if s.id == source)
        try:
            toc = yaml.safe_load(response.text)
        except yaml.YAMLError:
            toc = None
        if not isinstance(toc, dict) or not isinstance(toc.get("toc"), list):
            yield from self.retry_or_fail(response, "catalogue _toc.yaml has no toc list")
            return
        stats, seen = self.crawler.stats, set()
        for group in toc["toc"]:
            if not isinstance(group, dict) or "section" not in group:
                continue  # the overview page, not a dataset
            title = str(group.get("title") or "").strip()
            modality = MODALITY_BY_SECTION.get(title.casefold())
            if modality is None:
                stats.inc_value("osir/official/unmapped_sections")
                self.logger.info("%s: section %r maps to no modality", source, title)
            for entry in _entries(group["section"]):
                name = str(entry.get("path") or "").rstrip("/").rsplit("/", 1)[-1]
                if not name:
                    continue
                if entry.get("status") == "nightly":
                    stats.inc_value("osir/official/nightly_skipped")
                    continue
                if name in seen:  # listed in two sections: counted once, in the first
                    stats.inc_value("osir/official/listed_twice")
                    continue
                seen.add(name)
                yield OfficialDatasetItem(source=source, org=src.org, name=name,
                                          url=src.page.format(name=name), section=title,
                                          modality=modality)


def _entries(section) -> list[dict]:
    """The dataset entries of a section, nested sections flattened."""
    out = []
    for entry in section if isinstance(section, list) else []:
        if isinstance(entry, dict) and "section" in entry:
            out += _entries(entry["section"])
        elif isinstance(entry, dict):
            out.append(entry)
    return out
