"""Model hubs (Hugging Face, ModelScope): list every registry account's repos page by page
(spiders/_listing.py); repos popular enough get per-repo detail requests (see
``OsirSpider.enrich``).

``-a universe=all`` adds the whole platform: its listing without an author, most downloaded
first (``listing_request(None)``), down to ``OSIR_UNIVERSE_MIN_DOWNLOADS``. ``credited`` decides
each row of that listing: a registry account's repo is left to the account's own listing (which
credits it to its org, whatever the floor); any other is credited to its author as the
unregistered org ``platform:author`` (osir_crawl.inputs.registry), in a shard only if its repository id
falls in the shard (every shard walks the listing; each keeps and details its part).
"""

from __future__ import annotations

from osir_crawl.inputs.registry import Account, unregistered_org
from osir_crawl.spiders._listing import ListingSpider


class HubSpider(ListingSpider):
    supports_universe = True
    downloads_field = "downloads"  # the listing row's count it is sorted by

    def configure(self, settings):
        super().configure(settings)
        self.min_downloads = settings.getint("OSIR_MIN_DOWNLOADS")
        self.universe_floor = settings.getint("OSIR_UNIVERSE_MIN_DOWNLOADS", 1000)

    async def start(self):
        """The accounts' listings; with universe=all also the whole platform's (account None),
        sorted by downloads."""
        everything = self.universe == "all"
        for account in self.shard_accounts() if everything else self.accounts():
            yield self.listing_request(account)
        if everything:
            yield self.listing_request(None)

    def store_scope(self):
        scope = super().store_scope()
        if self.universe != "all":
            return scope
        table = self.item_class.TABLE
        everyone = {"platform": self.platform,
                    "org": {"prefix": unregistered_org(self.platform, "")}}
        if self.shard is not None:
            everyone["repo_id"] = self.shard
        scope[table] = [scope[table], everyone] if table in scope else [everyone]
        return scope

    def credited(self, rows: list, account: Account | None) -> tuple[list, bool]:
        """([(row, account it is credited to)], whether the listing reached the floor). An
        account's listing credits every row to it; the whole platform's (``account`` None)
        stops at the first row below the floor and leaves out registry accounts' rows and
        other shards' (counted in ``osir/universe/*``)."""
        if account is not None:
            return super().credited(rows, account)
        stats, listed = self.crawler.stats, []
        for row in rows:
            downloads = row.get(self.downloads_field)
            if isinstance(downloads, int) and not isinstance(downloads, bool) \
                    and downloads < self.universe_floor:
                stats.inc_value("osir/universe/floor_reached")
                return listed, True
            repo_id = row.get("id")
            author = repo_id.partition("/")[0] if isinstance(repo_id, str) else ""
            if author and self.registry.org_of(self.platform, author):
                stats.inc_value("osir/universe/registry_rows")  # its account's listing has it
            elif not self.owns(repo_id if isinstance(repo_id, str) else ""):
                stats.inc_value("osir/universe/other_shards")
            else:
                stats.inc_value("osir/universe/unregistered_rows")
                listed.append((row, Account(self.platform, author,
                                          unregistered_org(self.platform, author))))
        return listed, False

    def wants_details(self, item) -> bool:
        """Detail requests only for repos at or above OSIR_MIN_DOWNLOADS (30-day downloads)."""
        downloads = item.downloads if item.downloads is not None else item.downloads_total
        wanted = isinstance(downloads, int) and downloads >= self.min_downloads
        self.crawler.stats.inc_value(f"osir/details/{'fetched' if wanted else 'skipped'}")
        return wanted

    # --- rows --------------------------------------------------------------------------------
    def item_from(self, row: dict, account: Account):
        """A listing row's item: its id, its page, its likes and the hub's own fields."""
        repo_id = row.get("id")
        return self.account_item(repo_id, account, url=self.repo_page(repo_id),
                                 likes=self.sent(row, "likes"), **self.row_fields(row))

    def repo_page(self, repo_id) -> str:
        raise NotImplementedError

    def row_fields(self, row: dict) -> dict:
        raise NotImplementedError
