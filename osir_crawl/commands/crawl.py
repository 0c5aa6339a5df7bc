"""``scrapy crawl``: Scrapy's own, plus a non-zero exit and a last line naming the cause when the
spider stopped on a fatal error: its platform could not be reached (ConnectionBreakerMiddleware),
or its store failed on the way (the crawl run sets ``osir/fatal`` and stops the crawl).
Scrapy exits 0 whenever a spider ran, however it ended; cron, scrapyd and crawlall must not take
that for success. The crawl's one-line summary (stored, rejected, failed requests) is repeated
last, below Scrapy's stats dump (then the fatal line, if any). Problems found before the crawl
starts (a store that cannot be opened, a scope another crawl is running, a bad registry)
already end the process with one line and status 1."""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from osir_crawl.middlewares import UNREACHABLE


def exit_status(crawler) -> tuple[int, str]:
    """The exit status of a crawl that ran, and its last line (``""`` when it ends well)."""
    stats = crawler._stats if crawler else None  # Scrapy's name for "stats, if it started"
    if stats and (fatal := stats.get_value("osir/fatal")):
        return 1, f"osir-crawl: {fatal}"
    if stats and stats.get_value("finish_reason") == UNREACHABLE:
        return 1, (f"osir-crawl: {crawler.spidercls.name} stopped, platform unreachable: "
                   f"{stats.get_value('osir/unreachable')}")
    return 0, ""


class Command(ScrapyCrawl):
    crawler = None

    def _create_crawler(self, spidercls):
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args, opts):
        super().run(args, opts)
        stats = self.crawler._stats if self.crawler else None
        if stats and (summary := stats.get_value("osir/summary")):
            # Last, below Scrapy's stats dump, where a person looks (the log has it too).
            print(summary, file=sys.stderr, flush=True)
        status, line = exit_status(self.crawler)
        if status:
            print(line, file=sys.stderr, flush=True)
            self.exitcode = status
