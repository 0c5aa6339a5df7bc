"""Scrapy extensions besides the crawl run (osir_crawl/extensions/crawl_run.py).

:class:`StatsFile`, run by each spider subprocess of ``scrapy crawlall`` (which sets
``OSIR_STATS_FILE``), rewrites that file with the crawler's stats every ``OSIR_STATS_INTERVAL``
seconds and at close, atomically, so a reader never sees half a file; crawlall's console
(osir_crawl/ops/progress.py) reads it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall


class StatsFile:
    def __init__(self, crawler, path: str, interval: float):
        self.crawler = crawler
        self.path = Path(path)
        self.loop = LoopingCall(self.write)
        self.interval = interval
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("OSIR_STATS_FILE")
        if not path:  # a plain `scrapy crawl`: nothing to say (NotConfigured with a
            raise NotConfigured  # reason is a warning in Scrapy's log)
        return cls(crawler, path, crawler.settings.getfloat("OSIR_STATS_INTERVAL", 2.0))

    def spider_opened(self, spider):
        self.loop.start(self.interval, now=True)

    def spider_closed(self, spider, reason):
        if self.loop.running:
            self.loop.stop()
        self.write(finish_reason=reason)

    def write(self, **extra):
        stats = {**self.crawler.stats.get_stats(), **extra, "pid": os.getpid()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats, default=str, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
