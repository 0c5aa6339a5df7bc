"""``scrapy crawl``: Scrapy's own, with an exit status that says how the crawl ended: 0 only
for a crawl ``finished`` in full, 1 for every other outcome (``incomplete``, ``shutdown``,
``store_error``, ``host_unreachable``, …), with a last line naming the cause. Scrapy exits 0
whenever a spider ran, however it ended; cron, scrapyd and crawlall must not take that for
success. Problems found before the crawl starts (a store that cannot be opened, a scope another
crawl is running, a bad registry) already end the process with one line and status 1."""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from osir_crawl.middlewares import UNREACHABLE


def exit_verdict(crawler) -> tuple[int, str | None]:
    """(exit status, the line that says why, or None) of a crawler that has run."""
    stats = crawler.stats.get_stats() if crawler is not None and crawler.stats else {}
    spider = getattr(getattr(crawler, "spider", None), "name", None) or "the spider"
    if fatal := stats.get("osir/fatal"):
        return 1, f"osir-crawl: {fatal}"
    reason = stats.get("finish_reason")
    if reason == UNREACHABLE:
        return 1, (f"osir-crawl: {spider} stopped, platform unreachable: "
                   f"{stats.get('osir/unreachable')}")
    outcome = stats.get("osir/outcome") or reason  # the crawls row's (osir_crawl/crawl_run.py)
    crawl = stats.get("osir/crawl_id") or ""
    if outcome == "finished":
        return 0, None
    if outcome == "incomplete":
        return 1, (f"osir-crawl: {spider} incomplete: {stats.get('osir/failed_requests', 0)} "
                   f"failed requests (the failures table, crawl {crawl})")
    if outcome == "shutdown":
        return 1, (f"osir-crawl: {spider} stopped before the end (shutdown); run it again "
                   "with the same JOBDIR to resume")
    return 1, f"osir-crawl: {spider} ended {outcome or 'without an outcome'} {crawl}".rstrip()


def exit_status(crawler) -> int:
    return exit_verdict(crawler)[0]


class Command(ScrapyCrawl):
    crawler = None

    def _create_crawler(self, spidercls):
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args, opts):
        super().run(args, opts)
        if self.exitcode or self.crawler is None:  # Scrapy's own failure (it has said why)
            return
        status, line = exit_verdict(self.crawler)
        if line:
            print(line, file=sys.stderr, flush=True)
        self.exitcode = status
