"""``scrapy crawl``: Scrapy's own, with an exit status that says how the crawl ended: 0 only
for a crawl ``finished`` in full, 1 for every other outcome (``incomplete``, ``shutdown``,
``store_error``, ``host_unreachable``, …), with a last line naming the cause. Scrapy exits 0
whenever a spider ran, however it ended; cron, scrapyd and crawlall must not take that for
success. The crawl's one-line summary (stored, rejected, failed requests) is repeated last,
below Scrapy's stats dump (then the line naming the cause, if any). Problems found before the
crawl starts (a store that cannot be opened, a scope another crawl is running, a bad registry)
already end the process with one line and status 1."""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from osir_crawl.middlewares import UNREACHABLE


def exit_status(crawler) -> tuple[int, str]:
    """The exit status of a crawl that ran, and its last line (``""`` when it ends well): 0
    only for a crawl whose outcome (its ``crawls`` row's, osir_crawl/extensions/crawl_run.py) is
    ``finished``."""
    stats = crawler._stats if crawler else None  # Scrapy's name for "stats, if it started"
    stats = stats.get_stats() if stats else {}
    if not stats:  # no crawl ran: Scrapy's own status stands
        return 0, ""
    spider = getattr(getattr(crawler, "spidercls", None), "name", None) or "the spider"
    if fatal := stats.get("osir/fatal"):
        return 1, f"osir-crawl: {fatal}"
    reason = stats.get("finish_reason")
    if reason == UNREACHABLE:
        return 1, (f"osir-crawl: {spider} stopped, platform unreachable: "
                   f"{stats.get('osir/unreachable')}")
    outcome = stats.get("osir/outcome") or reason
    crawl = stats.get("osir/crawl_id") or ""
    if outcome == "finished":
        return 0, ""
    if outcome == "incomplete":
        return 1, (f"osir-crawl: {spider} incomplete: {stats.get('osir/failed_requests', 0)} "
                   f"failed requests (the failures table, crawl {crawl})")
    if outcome == "shutdown":
        return 1, (f"osir-crawl: {spider} stopped before the end (shutdown); run it again "
                   "with the same JOBDIR to resume")
    return 1, f"osir-crawl: {spider} ended {outcome or 'without an outcome'} {crawl}".rstrip()


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
