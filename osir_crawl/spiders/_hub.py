"""Model hubs (Hugging Face, ModelScope): list every registry account's repos page by page;
repos popular enough get per-repo detail requests (see ``OsirSpider.enrich``)."""

from __future__ import annotations

from collections.abc import Iterator

from osir_crawl.registry import Account
from osir_crawl.spiders._base import OsirSpider


class HubSpider(OsirSpider):
    def configure(self, settings):
        super().configure(settings)
        self.min_downloads = settings.getint("OSIR_MIN_DOWNLOADS")

    async def start(self):
        for account in self.accounts():
            yield self.listing_request(account)

    def listing_request(self, account: Account):
        raise NotImplementedError

    def wants_details(self, item) -> bool:
        """Detail requests only for repos at or above OSIR_MIN_DOWNLOADS (30-day downloads)."""
        downloads = item.downloads if item.downloads is not None else item.downloads_total
        wanted = isinstance(downloads, int) and downloads >= self.min_downloads
        self.crawler.stats.inc_value(f"osir/details/{'fetched' if wanted else 'skipped'}")
        return wanted

    def with_details(self, item, steps) -> Iterator:
        if self.kept(item):
            return
        if self.wants_details(item):
            yield from self.enrich(item, steps)
        else:
            yield item
