"""``legacy_import``: replay published OSIR-LMTS raw records into the store, no network at all.

``scrapy crawl legacy_import [-a root=DIR] [-a months=2025-08-07,2025-09-07] [-a orgs=…]``
reads ``DIR/<YYYY-MM-DD>/<Platform>/raw-{models,datasets}-info.jsonl`` (or ``….jsonl.gz``; the
layout of the published ``months/`` folder, which is the default ``DIR``: ``data/published/months``)
and yields one typed item per record, month by month; the usual pipelines validate, dedup and
store them, each month as its own snapshot ``<YYYY-MM-DD>``.

Field mapping (research/osir-lmts-method.md §4.1): Hugging Face ``downloads_last_month`` is the
30-day ``downloads``; ModelScope, OpenDataLab and BAAI Data ``total_downloads`` are cumulative
(``downloads_total``); ``community`` -> ``discussions``; ``-1`` ("not shown") -> unknown.
Records of accounts outside the registry are out of scope: counted under
``osir/legacy/unmapped`` and logged, not stored (the published pipeline drops them too).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from osir_crawl import settings as project_settings
from osir_crawl.extensions.crawl_run import REPLAY_SNAPSHOT
from osir_crawl.inputs import published
from osir_crawl.items import DatasetItem, ModelItem
from osir_crawl.snapshots import check_snapshot
from osir_crawl.spiders._base import OsirSpider

# Published folder name -> (registry platform key, field holding the download count, its column)
PLATFORMS = {
    "HuggingFace": ("huggingface", "downloads_last_month", "downloads"),
    "ModelScope": ("modelscope", "total_downloads", "downloads_total"),
    "OpenDataLab": ("opendatalab", "total_downloads", "downloads_total"),
    "BAAIData": ("baai_data", "total_downloads", "downloads_total"),
}
KINDS = {"models": (ModelItem, "model_name"), "datasets": (DatasetItem, "dataset_name")}


class LegacyImportSpider(OsirSpider):
    name = "legacy_import"
    monthly = False  # a replay of published data, not part of the monthly crawl
    custom_settings = {
        # Each record keeps the month it was published in (REPLAY_SNAPSHOT).
        "ITEM_PIPELINES": {
            **project_settings.ITEM_PIPELINES,
            "osir_crawl.pipelines.DedupPipeline": None,
            "osir_crawl.pipelines.ReplayDedupPipeline": 300,
        },
        "EXTENSIONS": {
            **project_settings.EXTENSIONS,
            "osir_crawl.extensions.crawl_run.CrawlRun": None,
            "osir_crawl.extensions.crawl_run.ReplayCrawlRun": 100,
        },
    }

    def __init__(self, *args, root: str | None = None, months: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = Path(root) if root else published.PUBLISHED_DIR / "months"
        if not self.root.is_dir():
            raise SystemExit(f"osir-crawl: legacy_import: {self.root} is not a folder")
        found = sorted(d.name for d in self.root.iterdir() if d.is_dir() and _is_date(d.name)
                       and any((d / p).is_dir() for p in PLATFORMS))
        wanted = [m.strip() for m in months.split(",") if m.strip()] if months else found
        missing = [m for m in wanted if m not in found]
        if missing:
            raise SystemExit(f"osir-crawl: legacy_import: no raw records for {', '.join(missing)} "
                             f"under {self.root} (found: {', '.join(found) or 'none'})")
        if not wanted:
            raise SystemExit(f"osir-crawl: legacy_import: no <YYYY-MM-DD>/<Platform>/raw-*.jsonl "
                             f"under {self.root}")
        self.months = sorted(wanted)
        self.unmapped: Counter = Counter()

    def store_scope(self) -> dict:
        return {}  # a replay upserts fixed files; it never removes rows of other crawls

    @classmethod
    def shard_unit(cls) -> str:
        return cls.name  # a replay of files: one shard replays them all

    async def start(self):
        for month in self.months:
            for folder, (platform, count_field, column) in PLATFORMS.items():
                for kind, (item_class, name_field) in KINDS.items():
                    path = self.root / month / folder / f"raw-{kind}-info.jsonl"
                    if published.exists(path):
                        for item in self.read(path, platform, item_class, name_field,
                                              count_field, column):
                            setattr(item, REPLAY_SNAPSHOT, month)
                            yield item

    def read(self, path, platform, item_class, name_field, count_field, column):
        stats = self.crawler.stats
        with published.open_text(path) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except ValueError:
                    stats.inc_value("osir/legacy/unreadable_lines")
                    self.logger.warning("%s line %d: not JSON, skipped", path, number)
                    continue
                owner, name = raw.get("repo"), raw.get(name_field)
                org = self.org_for(platform, raw)
                if org is None or org not in self.selected_orgs:
                    if org is None:
                        self.unmapped[(platform, owner)] += 1
                        stats.inc_value(f"osir/legacy/unmapped/{platform}")
                    continue
                stats.inc_value(f"osir/legacy/records/{platform}")
                fields = {
                    "platform": platform,
                    "repo_id": f"{owner}/{name}" if owner and name else None,
                    "org": org,
                    "owner": owner,
                    "name": name,
                    "url": raw.get("link"),
                    column: _count(raw.get(count_field)),
                    "likes": _count(raw.get("likes")),
                    "discussions": _count(raw.get("community")),
                }
                extra = "descendants" if item_class is ModelItem else "dataset_usage"
                fields[extra] = _count(raw.get(extra))
                yield item_class(**fields)

    def org_for(self, platform: str, raw: dict) -> str | None:
        # OpenDataLab and BAAI Data records name their org (creator ids are not in the record).
        if raw.get("org") in self.registry.orgs:
            return raw["org"]
        owner = raw.get("repo")
        return self.registry.org_of(platform, owner) if isinstance(owner, str) else None

    def closed(self, reason):
        if self.unmapped:
            listed = ", ".join(f"{p}:{o} ({n})" for (p, o), n in self.unmapped.most_common())
            self.logger.info("records of accounts outside the registry, not stored: %s", listed)


def _count(value):
    """Counts as published: -1 means "not shown on the page", so unknown."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value  # left for validation to judge
    return None if value == -1 else value


def _is_date(name: str) -> bool:
    """A folder named as a snapshot (the folder name becomes the rows' snapshot)."""
    try:
        check_snapshot(name)
    except ValueError:
        return False
    return True
