"""No request is lost without a trace: every way Scrapy can drop a request or an answer ends as
one ``failures`` row (so the crawl is ``incomplete``), written once, through the request's errback
where there is one (which also lets an item being enriched go on without that step).

* :class:`RefusedRequestMiddleware` (downloader, first): a request marked ``REFUSED`` (dropped
  elsewhere, see below) or whose URL is not http(s) fails here, with the reason, at once. The
  project turns Scrapy's ``file:``, ``ftp:``, ``s3:`` and ``data:`` download handlers off as well
  (settings.DOWNLOAD_HANDLERS): a ``Link`` header must never make the crawler read a local file.
* :class:`RecordedUrlLengthMiddleware` (spider, in place of Scrapy's UrlLengthMiddleware, which
  drops with an INFO line): a URL longer than ``URLLENGTH_LIMIT`` is refused, so recorded.
* :class:`CallbackErrorMiddleware` (spider): an exception in a callback or an errback (a
  ``RecursionError`` on a deeply nested body, a bug) is a failure of that request; every request
  a spider yields gets the spider's errback if it has none (Scrapy drops a failed request
  without one silently when the error is IgnoreRequest).
* :class:`LostRequestsRecorder` (extension): a request the scheduler drops (``request_dropped``:
  a duplicate, e.g. a redirect to a page already requested) is sent back, refused, to its
  errback; an errback that raises (``spider_error``) and an item a pipeline fails on with an
  error (``item_error``; not a drop, which validation records as a reject) are failure rows. Start requests are left alone: on a JOBDIR
  resume they were fetched by the earlier run and are dropped as seen, as Scrapy means them to.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import CloseSpider, IgnoreRequest, NotConfigured
from scrapy.spidermiddlewares.httperror import HttpError

from osir_crawl.items import RequestFailure

logger = logging.getLogger(__name__)

REFUSED = "osir_refused"  # meta: why a request is to fail at once, through its errback
START = "osir_start"  # meta: a start request (its drop on a JOBDIR resume is expected)
SCHEMES = ("http", "https")


def refuse(request: Request, reason: str) -> Request:
    """A copy of ``request`` that fails with ``reason`` as it reaches the downloader."""
    refused = request.replace(dont_filter=True)
    refused.meta[REFUSED] = reason
    return refused


class RefusedRequestMiddleware:
    """First of the downloader middlewares: refused requests and non-http(s) URLs fail here."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_request(self, request, spider=None):
        if reason := request.meta.get(REFUSED):
            self.stats.inc_value("osir/refused")
            raise IgnoreRequest(reason)
        scheme = urlsplit(request.url).scheme.lower()
        if scheme not in SCHEMES:
            self.stats.inc_value("osir/refused/scheme")
            raise IgnoreRequest(f"not an http(s) URL ({scheme or 'no'} scheme): "
                                f"{request.url[:200]}")


class RecordedUrlLengthMiddleware:
    """Scrapy's UrlLengthMiddleware drops a long URL with a log line: a valid repository with a
    long id, or a listing whose cursor grows, would be lost. Here the request is refused (a
    failure) instead."""

    def __init__(self, crawler, limit: int):
        self.crawler, self.limit = crawler, limit

    @classmethod
    def from_crawler(cls, crawler):
        limit = crawler.settings.getint("URLLENGTH_LIMIT")
        if not limit:
            raise NotConfigured
        return cls(crawler, limit)

    def checked(self, request):
        if isinstance(request, Request) and len(request.url) > self.limit \
                and not request.meta.get(REFUSED):
            self.crawler.stats.inc_value("urllength/request_ignored_count")
            return refuse(request, f"URL of {len(request.url)} characters, longer than "
                                   f"URLLENGTH_LIMIT ({self.limit}): {request.url[:200]}…")
        return request

    async def process_start(self, start):
        async for o in start:
            yield self.checked(o)

    def process_spider_output(self, response, result, spider=None):
        for o in result:
            yield self.checked(o)

    async def process_spider_output_async(self, response, result, spider=None):
        async for o in result:
            yield self.checked(o)


class CallbackErrorMiddleware:
    """An exception in a callback is a failure of its request (whatever it yielded before is
    kept); requests get the spider's errback when they have none."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def with_errback(self, o, start=False):
        if isinstance(o, Request):
            if o.errback is None and (errback := getattr(self.crawler.spider, "on_failure",
                                                         None)):
                o = o.replace(errback=errback)
            if start:
                o.meta[START] = True
        return o

    async def process_start(self, start):
        async for o in start:
            yield self.with_errback(o, start=True)

    def process_spider_output(self, response, result, spider=None):
        for o in result:
            yield self.with_errback(o)

    async def process_spider_output_async(self, response, result, spider=None):
        async for o in result:
            yield self.with_errback(o)

    def process_spider_exception(self, response, exception, spider=None):
        if isinstance(exception, (HttpError, CloseSpider)):  # the errback's; a stop
            return None
        request = response.request
        spider = self.crawler.spider
        self.crawler.stats.inc_value(f"osir/callback_errors/{type(exception).__name__}")
        logger.error("the callback of %s failed", request.url,
                     exc_info=(type(exception), exception, exception.__traceback__))
        reason = f"callback failed: {type(exception).__name__}: {exception}"[:500]
        if hasattr(spider, "record_failure"):
            return spider.record_failure(request, reason, response.status)
        return [RequestFailure(url=request.url, reason=reason, status=response.status)]


class LostRequestsRecorder:
    """Requests the scheduler drops and items a pipeline fails on become failures."""

    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def request_dropped(self, request, spider=None):
        if request.meta.get(REFUSED) or (request.meta.get(START)
                                         and not request.meta.get("redirect_urls")):
            return  # (a redirect copies its start request's meta: it is not one)
        self.crawler.stats.inc_value("osir/dropped/duplicate")
        if hops := request.meta.get("redirect_urls"):
            reason = ("redirected to a page already requested "
                      f"({' -> '.join([*hops, request.url])})")
        else:
            reason = f"dropped as a duplicate of a request already made: {request.url}"
        self.crawler.engine.crawl(refuse(request, reason))

    def spider_error(self, failure, response, spider=None):
        """An exception the spider middlewares did not turn into a failure (an errback's)."""
        request = getattr(response, "request", None)
        if request is None:
            return
        exc = failure.value
        self.record(RequestFailure(
            url=request.url, reason=f"errback failed: {type(exc).__name__}: {exc}"[:500],
            status=getattr(response, "status", None)))

    def item_error(self, item, response, spider, failure):
        if isinstance(item, RequestFailure):
            return
        exc = failure.value
        self.crawler.stats.inc_value("osir/item_errors")
        self.record(RequestFailure(
            url=getattr(item, "url", None) or (response.url if response else ""),
            reason=f"item lost in a pipeline: {type(exc).__name__}: {exc}"[:500],
            status=None, item_type=getattr(item, "TABLE", None),
            repo_id=getattr(item, "repo_id", None)))

    def record(self, failure: RequestFailure):
        from osir_crawl.pipelines import StorePipeline  # (pipelines import the crawl run)

        logger.warning("request failed (%s): %s", failure.reason, failure.url)
        if (store := self.crawler.get_item_pipeline(StorePipeline)) is not None:
            store.process_item(failure)
