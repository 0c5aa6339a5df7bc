"""Base classes shared by every spider.

``OsirSpider`` reads the registry and the ``-a orgs=`` selection, knows its platform's endpoint
(and only talks to it), turns every finally-failed request into a ``RequestFailure`` item, and
runs *enrichment chains*: an item that needs more requests (details, counts) travels through
them and is yielded once, complete, or with the fields whose request failed left empty.

``-a shard=I/N`` (osir_crawl/shards.py) keeps the spider to its part of the work: the registry
accounts whose key (``shard_key``: the account, or its org where accounts are not the rows'
owners) falls in the shard; a spider that reads one indivisible thing (``shard_unit``: a
leaderboard, a one-org platform) runs in the shard of that thing's name only, and is empty in
the others (osir_crawl.middlewares.ShardStartMiddleware). ``-a universe=all`` is the hub
spiders' (``supports_universe``); the others crawl the registry whatever it says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from osir_crawl.extensions.crawl_run import CrawlRun
from osir_crawl.inputs.registry import Account, Registry, RegistryError, load_registry
from osir_crawl.items import RequestFailure, record_key
from osir_crawl.middlewares import Abandoned
from osir_crawl.parsing import link_rels
from osir_crawl.pipelines.validation import problems
from osir_crawl.shards import Shard

UNIVERSES = ("registry", "all")

PAGE = "osir_page"  # meta: which page of its listing (or paged step) a request is
ENRICH_PRIORITY = 10  # finish started items before listing more: flat memory, early rows


class UnusableResponse(Exception):
    """Raised by a step method when the answer lacks what the step reads: retried within
    RETRY_TIMES, then recorded as a failure (the step's fields stay unknown)."""


class OsirSpider(scrapy.Spider):
    platform: str = ""  # registry key
    endpoint_setting: str = ""  # the setting holding this platform's base URL
    item_class: type | None = None
    step_fields: dict[str, tuple[str, ...]] = {}  # enrichment step method -> fields it sets
    page_steps: frozenset[str] = frozenset()  # step methods whose URL is a page for the browser
    shard_by = "owner"  # an account's shard: its own name (the owner of its rows) or "org"
    supports_universe = False  # -a universe=all: the whole platform (hub spiders)

    def __init__(self, *args, orgs: str | None = None, shard: str | None = None,
                 universe: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.orgs_arg, self.shard_arg, self.universe_arg = orgs, shard, universe
        self.shard: Shard | None = None
        self.universe = "registry"
        self.registry: Registry | None = None
        self.selected_orgs: list[str] = []
        self.endpoint = ""
        self.followed_pages: set[bytes] = set()  # fingerprints of pages parsed or followed
        self.chained: set[tuple] = set()  # record keys whose enrichment chain has started
        self.max_pages = 0  # pages of one listing (OSIR_MAX_PAGES_PER_LISTING); 0: no cap

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler.settings)
        return spider

    def configure(self, settings):
        self.max_pages = settings.getint("OSIR_MAX_PAGES_PER_LISTING", 0)
        # A killed run's JOBDIR is recovered by the CrawlRun extension once it holds the crawl lock
        # (before the scheduler opens the JOBDIR): see osir_crawl/extensions/resume.py.
        try:
            self.registry = load_registry(settings.get("OSIR_ORGS"))
            self.selected_orgs = self.registry.select(self.orgs_arg)
        except RegistryError as exc:
            raise SystemExit(f"osir-crawl: {exc}") from None
        try:
            self.shard = Shard.parse(self.shard_arg)
        except ValueError as exc:
            raise SystemExit(f"osir-crawl: -a {exc}") from None
        self.universe = self.universe_of(self.universe_arg)
        if self.endpoint_setting:
            self.endpoint = settings.get(self.endpoint_setting).rstrip("/")
            host = urlsplit(self.endpoint).hostname
            if not host:
                raise SystemExit(
                    f"osir-crawl: {self.endpoint_setting}={self.endpoint!r} is not a URL"
                )
            self.allowed_domains = [host]  # offsite filtering: nothing else is requested

    def universe_of(self, value) -> str:
        if value in (None, "", "registry"):
            return "registry"
        if value not in UNIVERSES:
            raise SystemExit(f"osir-crawl: -a universe={value!r}: expected one of "
                             f"{', '.join(UNIVERSES)}")
        if not self.supports_universe:  # crawlall passes it to every spider
            self.logger.info("%s crawls the registry's accounts: universe=all is the hub "
                             "spiders'", self.name)
            return "registry"
        return value

    @classmethod
    def live_checks(cls) -> tuple:
        """``scrapy crawlall --check``'s requests for this spider (``Check``s, see
        osir_crawl/spiders/_live_check.py): the first request to each host it crawls. None
        declared: the check fails."""
        return ()

    # --- shards ------------------------------------------------------------------------------
    def owns(self, key) -> bool:
        """Whether ``key`` (an account, an org, a repository id, a board) is this shard's."""
        return self.shard is None or self.shard.owns(key)

    def shard_key(self, account: Account) -> str:
        return account.org if self.shard_by == "org" else account.name

    @classmethod
    def shard_unit(cls) -> str | None:
        """The one indivisible thing this spider reads, if it reads one (a board, a platform
        of one organisation): the shard of its name reads it. None: it splits by account."""
        return None

    def in_shard(self) -> bool:
        unit = self.shard_unit()
        return unit is None or self.owns(unit)

    # --- what this crawl covers (a complete crawl replaces these rows of its snapshot) -------
    def store_scope(self) -> dict[str, dict | list[dict]]:
        """table -> the rows this crawl covers, as plain data the crawl run turns into store
        conditions (osir_crawl/extensions/crawl_run.py): column -> a value, a list of values, a
        :class:`~osir_crawl.shards.Shard` (the values in it) or ``{"prefix": p}`` (the values
        beginning with ``p``); a list of such scopes for rows of several kinds."""
        if self.item_class is None or not self.in_shard():
            return {}
        return {self.item_class.TABLE: self.registry_scope()}

    def registry_scope(self) -> dict:
        """The registry rows this crawl writes: its platform and orgs, and, in a shard, the
        rows of its accounts only (their owner in the shard, or their org)."""
        scope = {"platform": self.platform, "org": self.selected_orgs}
        if self.shard is not None and self.shard_unit() is None:
            if self.shard_by == "org":
                scope["org"] = [o for o in self.selected_orgs if self.owns(o)]
            else:
                scope["owner"] = self.shard
        return scope

    def account_item(self, repo_id, account: Account, url, **fields):
        """An ``item_class`` item for ``owner/name`` as the platform spells it, owned by the
        account's org; a missing or malformed id is kept as given, for validation to reject."""
        owner, _, name = repo_id.partition("/") if isinstance(repo_id, str) else ("", "", "")
        return self.item_class(platform=self.platform, repo_id=repo_id, org=account.org,
                               owner=owner, name=name, url=url, **fields)

    def shard_accounts(self) -> list[Account]:
        """The selected orgs' accounts on this platform that are this shard's."""
        return [a for a in self.registry.accounts_on(self.platform, self.selected_orgs)
                if self.owns(self.shard_key(a))]

    def accounts(self) -> list[Account]:
        accounts = self.shard_accounts()
        if not accounts:
            self.nothing_to_do(self.nothing_to_crawl(self.registry, self.selected_orgs)
                               or f"no {self.platform} accounts of the selected orgs fall in "
                                  f"shard {self.shard}")
        return accounts

    @classmethod
    def nothing_to_crawl(cls, registry: Registry, orgs: list[str]) -> str | None:
        """Why this spider has nothing to request for ``orgs`` (no registry accounts on its
        platform), else None. crawlall asks before probing the spider's host."""
        if cls.platform and not registry.accounts_on(cls.platform, orgs):
            return f"no {cls.platform} accounts in {registry.path} for the selected orgs"
        return None

    def nothing_to_do(self, why: str) -> None:
        """Say so in the log and the stats: the crawl report shows it as a note, not a flag."""
        self.logger.warning("%s: nothing to crawl", why)
        if self.crawler.crawling:  # (not when a test iterates start() outside a crawl)
            self.crawler.stats.set_value("osir/nothing_to_crawl", why)

    # --- values the service did not send ------------------------------------------------------
    def unsent(self, field: str, reason: str):
        """None for ``field``, counted with its reason (``osir/null/<field>/<reason>``): a value
        the service did not send is NULL, never silently."""
        self.crawler.stats.inc_value(f"osir/null/{field}/{reason}")
        return None

    def sent(self, row: dict, key: str, field: str | None = None):
        """``row[key]``; when the answer lacks the key, None counted as ``no_<key>``."""
        if key in row:
            return row[key]
        return self.unsent(field or key, f"no_{key}")

    # --- failures ----------------------------------------------------------------------------
    def on_failure(self, failure: Failure) -> Iterator:
        """Errback: record the failure; an item being enriched continues without this field."""
        status = None
        if failure.check(HttpError):
            status = failure.value.response.status
            reason = f"HTTP {status}"
        else:
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"[:500]
        yield from self.record_failure(failure.request, reason, status,
                                       go_on=not failure.check(Abandoned))

    def retry_or_fail(self, response, reason: str) -> Iterator:
        """For a 200 response whose body is unusable (malformed, truncated, wrong shape):
        retry it within RETRY_TIMES, then record it as failed."""
        retry = get_retry_request(response.request, spider=self, reason=reason)
        if retry is not None:
            yield retry
        else:
            yield from self.record_failure(response.request, reason, response.status)

    def record_failure(self, request, reason: str, status: int | None = None,
                       go_on: bool = True) -> Iterator:
        self.logger.warning("request failed after retries (%s): %s", reason, request.url)
        item = request.cb_kwargs.get("item")
        yield RequestFailure(
            url=request.url,
            reason=reason,
            status=status,
            item_type=getattr(item, "TABLE", None),
            repo_id=getattr(item, "repo_id", None),
        )
        if item is not None and "steps" in request.cb_kwargs and go_on:
            yield from self.skip_step(request)

    def skip_step(self, request) -> Iterator:
        """Go on without the detail step ``request`` was for: its fields unknown (None, not a
        partial count), then the item's next step."""
        item = request.cb_kwargs["item"]
        for field in self.step_fields.get(request.cb_kwargs["method"], ()):
            setattr(item, field, None)
        yield from self._next_step(item, request.cb_kwargs["steps"][1:])

    @staticmethod
    def json_body(response):
        """The decoded JSON body, or None when it is not JSON (malformed or truncated)."""
        try:
            return response.json()
        except (ValueError, AttributeError):
            return None

    def listing_rows(self, rows: list) -> list[dict]:
        """A listing page's rows, counted; a row that is not an object is kept (as
        ``{"_raw": row}``) so validation rejects it with a reason instead of losing it."""
        self.crawler.stats.inc_value("osir/listing/rows", len(rows))
        objects = []
        for row in rows:
            if not isinstance(row, dict):
                self.crawler.stats.inc_value("osir/listing/not_an_object")
                row = {"_raw": row}
            objects.append(row)
        return objects

    # --- enrichment chains -------------------------------------------------------------------
    def enrich(self, item, steps: Iterable[tuple[str, str]]) -> Iterator:
        """Fetch ``steps`` — (url, method name) pairs — in turn, then yield the item.

        A step method ``def m(self, response, data, item) -> str | None`` (``data``: the decoded
        JSON body; None for a ``page_steps`` method, whose URL Chromium renders) sets fields on
        ``item`` and returns the URL of a further page of the same step, or None when done.
        Methods are named, not passed, so requests pickle for JOBDIR resume.
        """
        if not self.already_stored(item):
            yield from self.start_chain(item, steps)

    def start_chain(self, item, steps) -> Iterator:
        """The item through its steps, unless it fails validation (no request is made for an
        id like ``../../x``: the item goes on, to be rejected) or its record (compared as the
        platform compares ids) is being completed already: the copy is a duplicate, dropped
        here as the dedup pipeline would (its requests would fetch the same things again, and
        a copy without them must not be stored before the complete one)."""
        steps = list(steps)
        if steps:
            key = record_key(item)
            if key in self.chained:
                self.crawler.stats.inc_value("osir/duplicates")
                self.crawler.stats.inc_value(f"osir/duplicates/{item.TABLE}")
                return
            if problems(item, self.registry):
                self.crawler.stats.inc_value("osir/details/not_requested")
                steps = []
            else:
                self.chained.add(key)
        yield from self._next_step(item, steps)

    def already_stored(self, item) -> bool:
        """Stored, complete, before this crawl was killed (a resumed crawl: the crawl run
        knows, osir_crawl/extensions/crawl_run.py): nothing to fetch again."""
        run = self.crawler.get_extension(CrawlRun)
        if run is not None and run.was_stored_before_kill(item):
            self.crawler.stats.inc_value("osir/resume/skipped")
            return True
        return False

    def _next_step(self, item, steps: list) -> Iterator:
        if not steps:
            yield item
            return
        url, method = steps[0]
        yield self._step_request(url, item, steps, method)

    def _step_request(self, url: str, item, steps: list, method: str):
        make = self.browser_request if method in self.page_steps else self.api_request
        return make(
            url,
            callback=self._run_step,
            cb_kwargs={"item": item, "steps": steps, "method": method},
            priority=ENRICH_PRIORITY,
        )

    def _run_step(self, response, item, steps, method):
        page = method in self.page_steps  # a rendered page: the step reads the DOM
        data = None if page else self.json_body(response)
        if data is None and not page:
            yield from self.retry_or_fail(response, "malformed JSON body")
            return
        try:
            more = getattr(self, method)(response, data, item)
        except UnusableResponse as exc:
            yield from self.retry_or_fail(response, str(exc))
            return
        if more:
            yield from self.follow(response, self._step_request(more, item, steps, method))
        else:
            yield from self._next_step(item, steps[1:])

    # --- requests ----------------------------------------------------------------------------
    def api_request(self, url: str, callback, **kwargs) -> scrapy.Request:
        kwargs.setdefault("errback", self.on_failure)
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        return scrapy.Request(url, callback=callback, headers=headers, **kwargs)

    def follow(self, response, request) -> Iterator:
        """Yield ``request`` for a further page of ``response``'s listing unless that page was
        parsed or followed before: a cursor that repeats would loop, or (Scrapy's dupefilter)
        end the listing early without a trace. It is recorded as a failure instead, and so is
        a page past ``OSIR_MAX_PAGES_PER_LISTING`` (a listing that never ends, a cursor that
        grows) and a next page that is not an http(s) URL (a ``Link`` to ``file:``)."""
        scheme = urlsplit(request.url).scheme.lower()
        if scheme not in ("http", "https"):
            self.crawler.stats.inc_value("osir/pagination/not_http")
            yield from self.record_failure(
                request, f"next page is not an http(s) URL: {request.url[:200]}")
            return
        page = response.meta.get(PAGE, 1) + 1
        if self.max_pages and page > self.max_pages:
            self.crawler.stats.inc_value("osir/pagination/page_cap")
            yield from self.record_failure(
                request, f"listing cut at {self.max_pages} pages (OSIR_MAX_PAGES_PER_LISTING): "
                         "it did not end")
            return
        request.meta[PAGE] = page
        fingerprint = self.crawler.request_fingerprinter.fingerprint
        self.followed_pages.add(fingerprint(response.request))
        if fingerprint(request) in self.followed_pages:
            self.crawler.stats.inc_value("osir/pagination/repeated")
            yield from self.record_failure(request, "pagination cursor repeats")
            return
        self.followed_pages.add(fingerprint(request))
        yield request

    @staticmethod
    def next_link(response) -> str | None:
        """The ``rel="next"`` URL of an RFC 8288 ``Link`` header, if any."""
        header = response.headers.get("Link")
        url = link_rels(header.decode("latin-1")).get("next") if header else None
        return response.urljoin(url) if url else None
