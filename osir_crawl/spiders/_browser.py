"""Browser-rendered sites through scrapy-playwright and Debian's Chromium.

``BrowserSpider`` is for sites without a usable public API (OpenDataLab, the BAAI fallback, the
OpenCompass leaderboard). Its pages are rendered by Chromium; everything else stays plain Scrapy.

* The playwright download handler is enabled only for these spiders (``custom_settings``);
  requests without ``meta["playwright"]`` still use Scrapy's own HTTP handler. The browser is
  the project's ``PLAYWRIGHT_LAUNCH_OPTIONS`` (``/usr/bin/chromium``, never a downloaded one;
  ``--no-sandbox`` for root). Playwright (a Node.js process) and the browser start on the
  first browser request only (``LazyPlaywrightHandler``): most crawls of BAAI Data and
  OpenCompass render no page at all, their APIs answer.
* Images, fonts, media and stylesheets are aborted (``abort_heavy``): counts and links only.
* ``browser_request(url, callback, capture=[regex, …])`` renders ``url``, waits until the
  network is idle (and for ``wait_for``, a CSS selector, when given), and hands the callback
  a response whose body is the rendered DOM, with ``response.meta["browser_json"]``: every JSON
  body the page itself fetched (XHR/fetch) whose URL matches a ``capture`` regex (every one
  when ``capture`` is empty), as
  ``{"url", "method", "status", "data"}`` dicts in the order they arrived. Parse those first
  (exact numbers) and fall back to the DOM (what the page shows) when there are none.
* ``fetch_in_page(url, method, body)`` is a page method that repeats one of the site's own
  requests from inside the page, with the cookies and headers the page obtained (another page
  size, another offset); its JSON joins ``browser_json``.
* Pages are not handed to callbacks (no ``playwright_include_page``), so the handler closes
  every page itself, on success and on failure: nothing can leak and freeze the crawl.
  Failures go to the usual errback, ``OsirSpider.on_failure`` (the ``failures`` table).
* Pages have a download slot of their own (``browser_slot``): as many at once as the browser
  opens (``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT``), ``DOWNLOAD_DELAY`` apart, and AutoThrottle does
  not adjust it (``autothrottle_dont_adjust_delay``). A page's latency is mostly Chromium's
  rendering and the settle waits, not the server's answer: AutoThrottle would read it as a slow
  server and space the pages ~latency/2 apart (for ModelScope's ~2,600 repo pages, that was the
  crawl's pace). The open-pages limit still paces them by the server: a slower site, slower
  pages, fewer per second. The API requests of the same host keep their own, throttled slot.
* Pages are counted for crawlall's progress line: ``osir/browser/pages_queued`` when one is
  scheduled (Scrapy's ``request_scheduled``, less ``request_dropped``: a repeat the dupefilter
  drops), ``osir/browser/pages_done`` when it leaves the downloader (rendered or failed).
"""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urljoin
from weakref import WeakKeyDictionary

import scrapy
from scrapy import signals
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from osir_crawl.spiders._base import OsirSpider

logger = logging.getLogger(__name__)

HANDLER = f"{__name__}.LazyPlaywrightHandler"
HEAVY_RESOURCES = frozenset({"image", "font", "media", "stylesheet"})
SETTLE_TIMEOUT_MS = 15_000  # the default of OSIR_BROWSER_SETTLE_TIMEOUT (seconds)

# The page's captured JSON and the reads still in flight, per open page.
_CAPTURES: WeakKeyDictionary = WeakKeyDictionary()


def abort_heavy(request) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: skip what carries no data."""
    return request.resource_type in HEAVY_RESOURCES


class _Capture:
    def __init__(self, patterns: list[str], found: list):
        self.patterns = [re.compile(p) for p in patterns]
        self.found = found  # the request's meta["browser_json"]
        self.reads: list[asyncio.Future] = []
        self.document_status = 0

    def on_response(self, response):
        if response.request.resource_type == "document":
            self.document_status = response.status
        if response.request.resource_type not in ("xhr", "fetch"):
            return
        if not self.wanted(response.url):
            return
        self.reads.append(asyncio.ensure_future(self.read(response)))

    def wanted(self, url: str, relative: str | None = None) -> bool:
        if relative is not None:
            url = urljoin(url, relative)
        return not self.patterns or any(p.search(url) for p in self.patterns)

    async def read(self, response):
        try:
            data = await response.json()
        except Exception:  # not JSON, or the page went away: nothing to keep
            return
        self.found.append({"url": response.url, "method": response.request.method,
                           "status": response.status, "data": data})


async def capture_json(page, request):
    """``playwright_page_init_callback``: listen before navigation starts."""
    request.meta["browser_json"] = []  # fresh: a retried request shares its meta's lists
    capture = _Capture(request.meta.get("browser_capture") or [], request.meta["browser_json"])
    _CAPTURES[page] = capture
    page.on("response", capture.on_response)


async def settle(page, wait_for: str | None = None, timeout_ms: int = SETTLE_TIMEOUT_MS):
    """The last page method: network idle, the selector (if any), every captured body read."""
    capture = _CAPTURES.get(page)
    try:
        await page.wait_for_load_state("networkidle", timeout=timeout_ms)
        if wait_for and (capture is None or capture.document_status < 400):  # error pages: no
            await page.wait_for_selector(wait_for, state="attached", timeout=timeout_ms)
    except Exception as exc:  # a page that never settles is still parsed as it stands
        logger.warning("page %s did not settle: %s", page.url, str(exc).splitlines()[0])
    if capture is not None:
        await asyncio.gather(*capture.reads, return_exceptions=True)


async def settle_on(page, selector: str, idle_ms: int, ready: str | None = None,
                    timeout_ms: int = SETTLE_TIMEOUT_MS):
    """The selector first, then at most ``idle_ms`` for the network to go quiet: for pages
    whose scripts keep polling (analytics) and would hold ``settle`` to its full timeout.
    ``ready``: a selector that, once attached, shows what the callback reads is there (a
    number in a tab): no quiet to wait for then. An error page is not waited for."""
    capture = _CAPTURES.get(page)
    if capture is None or capture.document_status < 400:
        try:
            await page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
        except Exception as exc:  # parsed as it stands: the callback decides
            logger.warning("page %s did not settle: %s", page.url, str(exc).splitlines()[0])
        waits = [page.wait_for_load_state("networkidle", timeout=idle_ms)]
        if ready:
            waits.append(page.wait_for_selector(ready, state="attached", timeout=idle_ms))
        await _first_of(waits)  # a timeout: what is rendered by now is what the page shows
    if capture is not None:
        await asyncio.gather(*capture.reads, return_exceptions=True)


async def _first_of(waits):
    """Until the first of ``waits`` succeeds, or all have failed (timed out); the others are
    then cancelled. A wait that fails (a bad selector) never cuts the others short."""
    pending = {asyncio.ensure_future(w) for w in waits}
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(not t.cancelled() and t.exception() is None for t in done):
                return
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def fetch_in_page(page, url: str, method: str = "GET", body=None):
    """A page method: ``fetch(url)`` from inside the page; its JSON joins ``browser_json``."""
    result = await page.evaluate(
        """async ([url, method, body]) => {
            const init = {method, credentials: "same-origin", headers: {}};
            if (body !== null) {
                init.body = JSON.stringify(body);
                init.headers["Content-Type"] = "application/json";
            }
            const r = await fetch(url, init);
            let data = null;
            try { data = await r.json(); } catch (e) {}
            return {status: r.status, data};
        }""",
        [url, method, body],
    )
    capture = _CAPTURES.get(page)
    if capture is None or result.get("data") is None:
        return
    if not capture.wanted(page.url, url):  # else the response listener already kept it
        capture.found.append({"url": url, "method": method, "status": result["status"],
                              "data": result["data"]})


class LazyPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, but Playwright starts with the first browser request, not
    with the engine: about 0.5 CPU-s and a Node.js process saved by every crawl that renders
    no page. Concurrent first requests wait for the one start; a start that fails fails them
    all, as the engine-time start would have."""

    _started: asyncio.Future | None = None

    async def _maybe_launch_in_thread(self) -> None:
        """Connected to ``engine_started`` by the base class: nothing to start yet."""

    async def _download_request(self, request, spider=None):
        if self._started is None:
            self._started = asyncio.ensure_future(self._launch())
        await asyncio.shield(self._started)
        return await super()._download_request(request, spider)


class BrowserSpider(OsirSpider):
    custom_settings = {
        # (replaces the project's dict: its other schemes stay off here too, see settings.py)
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER, "file": None, "ftp": None,
                              "s3": None, "data": None},
        "PLAYWRIGHT_ABORT_REQUEST": f"{__name__}.abort_heavy",
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,  # pages at once: each is a whole page load
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30_000,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        # The browser keeps its own cookies. Scrapy's jar would also fetch the public-suffix
        # list from the internet (tldextract) on a page's first Set-Cookie.
        "COOKIES_ENABLED": False,
    }
    capture: tuple[str, ...] = ()  # URL regexes of the page's own JSON to keep (none: all)
    wait_for: str | None = None  # CSS selector the rendered page must have
    # Set (ms): wait for ``wait_for`` first, then this long at most for network quiet
    # (``settle_on``), instead of network idle first (``settle``); the navigation itself then
    # waits only for the document (DOMContentLoaded), not for every script and frame to load.
    quick_settle_ms: int | None = None
    ready_for: str | None = None  # with quick_settle_ms: see ``settle_on``

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        for handler, signal in ((spider._page_queued, signals.request_scheduled),
                                (spider._page_dropped, signals.request_dropped),
                                (spider._page_done, signals.request_left_downloader)):
            crawler.signals.connect(handler, signal)
        return spider

    def _count_page(self, request, stat: str, by: int = 1) -> None:
        if request.meta.get("playwright"):
            self.crawler.stats.inc_value(stat, by)

    def _page_queued(self, request, spider):
        self._count_page(request, "osir/browser/pages_queued")

    def _page_dropped(self, request, spider):
        self._count_page(request, "osir/browser/pages_queued", -1)

    def _page_done(self, request, spider):
        self._count_page(request, "osir/browser/pages_done")

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        slots = settings.getdict("DOWNLOAD_SLOTS")
        slots[cls.browser_slot()] = {
            "concurrency": settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT")
            * max(1, settings.getint("PLAYWRIGHT_MAX_CONTEXTS")),
            "delay": settings.getfloat("DOWNLOAD_DELAY"),
        }
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    @classmethod
    def browser_slot(cls) -> str:
        """The download slot of this spider's browser pages (see the module docstring)."""
        return f"{cls.name} browser pages"

    def browser_request(self, url: str, callback, *, capture=None, wait_for=None,
                        page_methods=(), **kwargs) -> scrapy.Request:
        """A request rendered by Chromium; see the module docstring for what the callback gets.
        ``page_methods`` (PageMethod) run after the page settled, then it settles again."""
        wait = wait_for if wait_for is not None else self.wait_for
        quick = bool(wait and self.quick_settle_ms)
        settings = getattr(self, "settings", None)  # none on a spider built without a crawler
        seconds = settings.getfloat("OSIR_BROWSER_SETTLE_TIMEOUT") if settings else 0
        timeout = int(seconds * 1000) if seconds > 0 else SETTLE_TIMEOUT_MS
        methods = [PageMethod(settle_on, wait, self.quick_settle_ms, self.ready_for, timeout)
                   if quick else PageMethod(settle, wait, timeout)]
        if page_methods:
            methods += [*page_methods, PageMethod(settle, None, timeout)]
        meta = {
            "playwright": True,
            "playwright_page_init_callback": f"{__name__}.capture_json",
            "playwright_page_methods": methods,
            "browser_capture": list(capture if capture is not None else self.capture),
            "download_slot": self.browser_slot(),
            "autothrottle_dont_adjust_delay": True,
            **kwargs.pop("meta", {}),
        }
        if quick:
            meta.setdefault("playwright_page_goto_kwargs", {"wait_until": "domcontentloaded"})
        kwargs.setdefault("errback", self.on_failure)
        return scrapy.Request(url, callback=callback, meta=meta, **kwargs)

    @staticmethod
    def captured(response) -> list[dict]:
        """The JSON bodies the page fetched (see ``browser_request``)."""
        return response.meta.get("browser_json") or []
