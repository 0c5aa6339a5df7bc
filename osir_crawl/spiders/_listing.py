"""The listing families' base (hubs in _hub.py, forges in _forge.py): each registry account's
listing, page by page, one item per row, popular rows through their detail steps.

``parse_listing`` is the one walk over a listing page; a family or spider fills in
``listing_request`` (the page's URL), ``rows_of`` (the page's rows, or ``UnusableResponse``:
retried, then a failure), ``item_from`` and ``detail_steps`` (a row's item and the requests
that complete it, see ``OsirSpider.enrich``), ``wants_details`` (which rows get them) and
``next_request`` (the following page, or None; ``ListingCut`` when the platform will not serve
the rest: a failure, so the crawl is ``incomplete``), and ``listing_total`` (how many rows the
listing holds, when the platform says: crawlall's progress line shows done / total, and the
time left, from it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from osir_crawl.extensions.crawl_run import CrawlRun
from osir_crawl.inputs.registry import OWNER_PLATFORMS, Account
from osir_crawl.spiders._base import OsirSpider, UnusableResponse


class ListingCut(Exception):
    """Raised by ``next_request`` when the platform serves no further page although rows
    remain: the reason is recorded as a failure of the page."""


class ListingSpider(OsirSpider):
    async def start(self):
        for account in self.accounts():
            yield self.listing_request(account)

    def listing_request(self, account: Account | None, page: int = 1, url: str | None = None):
        """Page ``page`` of ``account``'s listing (``url``: as the platform linked it), with
        ``parse_listing`` as its callback and ``account`` and ``page`` as its cb_kwargs."""
        raise NotImplementedError

    def parse_listing(self, response, account: Account | None, page: int = 1) -> Iterator:
        try:
            rows = self.rows_of(response)
        except UnusableResponse as exc:
            yield from self.retry_or_fail(response, str(exc))
            return
        if page == 1 and account is not None:
            self.count_listing(response)
        if not rows and page == 1 and (held := self.rows_held(account)):
            # A platform that answers [] for an account it served rows for (an outage, a
            # rename, a refusal in disguise) must not make a complete crawl delete them.
            self.crawler.stats.inc_value("osir/listing/emptied")
            yield from self.record_failure(
                response.request, f"the listing of {account.name} is empty, but the store holds "
                                  f"{held} of its rows from earlier crawls: not taken as a "
                                  "deletion", response.status)
            return
        listed, floor_reached = self.credited(self.listing_rows(rows), account)
        for row, owner in listed:
            yield from self.complete(row, self.item_from(row, owner))
        if floor_reached:
            return
        try:
            following = self.next_request(response, account, page, rows)
        except ListingCut as exc:
            self.logger.warning("%s", exc)
            yield from self.record_failure(response.request, str(exc), response.status)
            return
        if following is not None:
            yield from self.follow(response, following)  # a repeated page is a failure

    def rows_held(self, account: Account | None) -> int:
        """How many rows of ``account`` (its owner name, as the platform compares it) the store
        holds from earlier crawls of this platform; 0 when it cannot tell."""
        if account is None or self.item_class is None or self.platform not in OWNER_PLATFORMS:
            return 0
        run = self.crawler.get_extension(CrawlRun) if self.crawler.crawling else None
        if run is None or run.db is None:
            return 0
        table = self.item_class.TABLE
        try:
            (held,) = run.db.execute(
                f"SELECT count(*) FROM [{table}] WHERE platform = ? AND owner = ? COLLATE NOCASE "
                "AND crawl_id IS NOT ?", [self.platform, account.name, run.crawl_id]).fetchone()
        except sqlite3.Error:
            return 0
        return held

    def count_listing(self, response) -> None:
        """An account's listing has begun (its first page): the rows it holds, if told, go to
        the progress figures (osir_crawl/ops/progress.py)."""
        stats = self.crawler.stats
        stats.inc_value("osir/progress/listings")
        total = self.listing_total(response)
        if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
            stats.inc_value("osir/progress/announced")
            stats.inc_value("osir/progress/expected", total)

    def listing_total(self, response) -> int | None:
        """How many rows the listing of ``response`` (its first page) holds, if the platform
        says; None: it does not."""
        return None

    def rows_of(self, response) -> list:
        """The page's rows: a JSON array by default."""
        rows = self.json_body(response)
        if not isinstance(rows, list):
            raise UnusableResponse("listing is not a JSON array")
        return rows

    def credited(self, rows: list, account: Account | None) -> tuple[list, bool]:
        """([(row, account it is credited to)], whether the listing ends here): every row
        is the listed account's."""
        return [(row, account) for row in rows], False

    def next_request(self, response, account: Account | None, page: int, rows: list):
        raise NotImplementedError

    # --- rows --------------------------------------------------------------------------------
    def complete(self, row: dict, item) -> Iterator:
        """The row's item, through its detail steps when it wants them; nothing when it was
        stored before this crawl was killed."""
        if self.already_stored(item):
            return
        steps = self.detail_steps(row, item) if self.wants_details(item) else []
        yield from self.start_chain(item, steps)  # enrich() would ask already_stored again

    def item_from(self, row: dict, account: Account):
        raise NotImplementedError

    def wants_details(self, item) -> bool:
        return False

    def detail_steps(self, row: dict, item) -> list[tuple[str, str]]:
        return []
