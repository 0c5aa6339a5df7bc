"""Downloader middlewares for what Scrapy does not do itself.

* RecordedOffsiteMiddleware: requests to other hosts are refused and recorded as failures (a
  redirect cycle, and every other drop: osir_crawl/middlewares/lost_requests.py).
* TokenAuthMiddleware: each platform's token goes only on its own spider's requests to that
  platform's configured endpoint (never by host alone), in the header or the query parameter
  the platform documents.
* RetryBackoffMiddleware: exponential backoff before the retries RetryMiddleware schedules.
* RateLimitMiddleware: honours ``RateLimit`` (Hugging Face), ``x-ratelimit-*`` (GitHub, GitCode),
  ``Retry-After`` and GitHub's secondary-limit message by pausing the host until its window
  (osir_crawl/middlewares/rate_limits.py) resets, then retrying, with a budget of its own so a long window
  does not use up RETRY_TIMES.
* ConnectionBreakerMiddleware: stops a spider whose host cannot be reached, with the cause.
* ModelScopeErrorMiddleware: ModelScope's throttling answer in the body becomes a 429.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro

from osir_crawl import shards
from osir_crawl.extensions.crawl_run import CrawlRun
from osir_crawl.middlewares.failure_causes import CANNOT_CONNECT, cause_of
from osir_crawl.middlewares.rate_limits import (
    HostWindow,
    rate_limit_window,
    retry_after,
    secondary_limit,
)

logger = logging.getLogger(__name__)

# token setting -> (endpoint setting, Authorization scheme, or "?name" for a query parameter)
TOKEN_PLATFORMS = {
    "HF_TOKEN": ("HF_ENDPOINT", "Bearer"),
    "MODELSCOPE_API_TOKEN": ("MODELSCOPE_ENDPOINT", "Bearer"),
    "GITHUB_TOKEN": ("GITHUB_API_URL", "Bearer"),
    "GITEE_TOKEN": ("GITEE_API_URL", "token"),
    # GitCode's v5 docs mark `access_token` as a required query parameter of every endpoint.
    "GITCODE_TOKEN": ("GITCODE_API_URL", "?access_token"),
    "OPENI_TOKEN": ("OPENI_ENDPOINT", "token"),
}


def host_key(url: str) -> str:
    """scheme://host:port, the unit a rate-limit window belongs to."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class TokenAuthMiddleware:
    """Adds the token as the request leaves and takes it off again as soon as the answer (or
    the error) comes back: retries and redirects copy the request, and the JOBDIR queue and the
    HTTP cache write it to disk. A query-parameter token is in the URL only during the download;
    the response's URL, a redirect's Location and an error's message are stripped of it, and a
    log filter redacts it from anything the download handler logs meanwhile.

    A token belongs to its platform, not to a host: it goes only on the requests of the spider
    whose endpoint setting it belongs with (``endpoint_setting``), and only to URLs under that
    endpoint (scheme, host, port and path). Two platforms served from one host (a mirror, a
    gateway) never get each other's token."""

    def __init__(self, tokens: dict[str, str], query_tokens: dict[str, tuple[str, str]] = None,
                 crawler=None):
        # endpoint setting -> (endpoint URL, Authorization header value)
        self.tokens: dict[str, tuple[str, str]] = tokens
        # endpoint setting -> (endpoint URL, (parameter, token))
        self.query_tokens: dict[str, tuple[str, tuple[str, str]]] = query_tokens or {}
        self.crawler = crawler
        self.signed: WeakKeyDictionary = WeakKeyDictionary()  # request -> its URL unsigned
        secrets = [token for _, (_, token) in self.query_tokens.values()]
        if secrets:
            install_redaction(secrets)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        tokens, query_tokens = {}, {}
        for token_setting, (endpoint_setting, scheme) in TOKEN_PLATFORMS.items():
            token, endpoint = settings.get(token_setting), settings.get(endpoint_setting)
            if not (token and endpoint):
                continue
            if scheme.startswith("?"):
                query_tokens[endpoint_setting] = (endpoint, (scheme[1:], token))
            else:
                tokens[endpoint_setting] = (endpoint, f"{scheme} {token}")
        return cls(tokens, query_tokens, crawler)

    def _owned(self, table: dict, url: str):
        """The value of ``table`` for the crawling spider's platform, if ``url`` is under its
        endpoint; else None."""
        spider = self.crawler.spider if self.crawler is not None else None
        entry = table.get(getattr(spider, "endpoint_setting", None))
        if entry is None or not under(url, entry[0]):
            return None
        return entry[1]

    def process_request(self, request):
        header = self._owned(self.tokens, request.url)
        if header and b"Authorization" not in request.headers:
            request.headers["Authorization"] = header
        elif not header and b"Authorization" in request.headers:
            # A redirect to another host must not carry a token there.
            del request.headers["Authorization"]
        if (query := self._owned(self.query_tokens, request.url)) \
                and request not in self.signed:
            self.signed[request] = request.url
            # In place: a new Request returned here would be scheduled (and queued on disk).
            request._set_url(with_param(request.url, *query))

    def process_response(self, request, response):
        signed = request.url
        self._strip(request)
        if signed != request.url:  # the answer to a signed URL: give it the unsigned one
            response = response.replace(url=request.url if response.url == signed
                                        else self.unsigned(response.url))
            if location := response.headers.get("Location"):
                response.headers["Location"] = self.unsigned(location.decode("latin-1"))
        return response

    def process_exception(self, request, exception):
        if self._strip(request):
            # e.g. "Getting <url> took longer than 30 seconds." becomes a failure's reason.
            exception.args = tuple(self.unsigned(a) if isinstance(a, str) else a
                                   for a in exception.args)

    def _strip(self, request) -> bool:
        """Takes the token off ``request``; True if it was in the URL."""
        value = request.headers.get("Authorization")
        if value is not None and value.decode("latin-1") in {h for _, h in self.tokens.values()}:
            del request.headers["Authorization"]
        if (url := self.signed.pop(request, None)) is not None:
            request._set_url(url)
            return True
        return False

    def unsigned(self, text: str) -> str:
        for _, (param, token) in self.query_tokens.values():
            text = text.replace(urlencode({param: token}), f"{param}=***").replace(token, "***")
        return text


def under(url: str, endpoint: str) -> bool:
    """Whether ``url`` is on ``endpoint``'s scheme, host and port, and under its path."""
    if host_key(url) != host_key(endpoint):
        return False
    base = urlsplit(endpoint).path.rstrip("/")
    path = urlsplit(url).path
    return not base or path == base or path.startswith(base + "/")


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with the query parameter ``name=value`` (replacing one already there)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode([*query, (name, value)])))


class RedactFilter(logging.Filter):
    """Replaces secrets in log records (a download handler may log the URL being fetched)."""

    def __init__(self, secrets):
        super().__init__()
        self.secrets = set(secrets)

    def filter(self, record):
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, ()
        return True


def install_redaction(secrets) -> None:
    """On every handler of the root logger (where Scrapy's log goes), once per secret set."""
    for handler in logging.getLogger().handlers:
        for existing in handler.filters:
            if isinstance(existing, RedactFilter):
                existing.secrets.update(secrets)
                break
        else:
            handler.addFilter(RedactFilter(secrets))


class RecordedOffsiteMiddleware(OffsiteMiddleware):
    """Scrapy's offsite filter also drops a request when it is *scheduled*, with no errback:
    a next-page link or a redirect to another host would end a listing early without a trace.
    Filtering only at download time sends the request to its errback, which records it.

    Scrapy also lets every ``dont_filter`` request through; but a retry carries it, and
    RedirectMiddleware copies it onto the redirect, so a retried request redirected to another
    host would be fetched and its rows credited to the registry's org. Only ``allow_offsite``
    lets a request leave the spider's hosts here. (A redirect to a page already requested, a
    cycle, is dropped by the scheduler: osir_crawl/middlewares/lost_requests.py records it.)"""

    def request_scheduled(self, request, spider):
        pass

    def process_request(self, request, spider=None):
        if request.meta.get("allow_offsite") or self.should_follow(request, self.crawler.spider):
            return None
        return super().process_request(request.replace(dont_filter=False))  # counts, raises


SLICE = 0.5  # seconds: how soon a wait notices that the crawl is stopping


class Abandoned(IgnoreRequest):
    """A request given up because the crawl is stopping: a failure, but the item it was
    completing is not stored without it (a resume fetches both again)."""


def engine_stopping(crawler) -> bool:
    """Whether the crawl is closing (SIGTERM, a fatal error, the end)."""
    try:
        engine = crawler.engine
    except RuntimeError:  # Scrapy 2.19: not crawling yet
        return False
    if engine is None:
        return False
    slot = getattr(engine, "_slot", None)  # Scrapy has no public "closing" flag
    return not engine.running or (slot is not None and slot.closing is not None)


async def interruptible_sleep(crawler, seconds: float) -> None:
    """Sleep ``seconds`` in slices; a crawl that starts closing meanwhile does not wait for
    it (Scrapy's graceful stop waits for every request in the downloader): the request fails,
    and the JOBDIR is left to be recovered as a killed crawl's, so a resume fetches it again
    (osir_crawl/extensions/crawl_run.py, invalidate_jobdir)."""
    end = asyncio.get_running_loop().time() + seconds
    while (left := end - asyncio.get_running_loop().time()) > 0:
        if engine_stopping(crawler):
            if (run := crawler.get_extension(CrawlRun)) is not None:
                run.invalidate_jobdir("requests abandoned in a wait as the crawl stopped")
            crawler.stats.inc_value("osir/wait/abandoned")
            raise Abandoned("the crawl stopped while this request waited")
        await asyncio.sleep(min(SLICE, left))


class RetryBackoffMiddleware:
    """Sleeps base * 2**(n-1) seconds (capped) before the n-th retry of a request."""

    def __init__(self, base: float, cap: float, stats):
        self.base, self.cap, self.stats = base, cap, stats

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.getfloat("OSIR_RETRY_BACKOFF_BASE"), s.getfloat("OSIR_RETRY_BACKOFF_MAX"),
                   crawler.stats)

    async def process_request(self, request):
        attempt = request.meta.get("retry_times", 0)
        if attempt and self.base > 0:
            delay = min(self.cap, self.base * 2 ** (attempt - 1))
            self.stats.inc_value("osir/retry/backoff_seconds", delay)
            await asyncio.sleep(delay)


class RateLimitMiddleware:
    """Waits out each host's rate-limit window (osir_crawl/middlewares/rate_limits.py, HostWindow) before a
    request leaves, and turns a rate-limited answer into a pause and a retry of its own."""

    def __init__(self, crawler):
        s = crawler.settings
        self.crawler, self.stats = crawler, crawler.stats
        self.max_retries = s.getint("OSIR_RATE_LIMIT_MAX_RETRIES")
        self.max_wait = s.getfloat("OSIR_RATE_LIMIT_MAX_WAIT")
        self.default_wait = s.getfloat("OSIR_RATE_LIMIT_DEFAULT_WAIT")
        self.secondary_wait = s.getfloat("OSIR_RATE_LIMIT_SECONDARY_WAIT", 60.0)
        self.answer_wait = s.getfloat("OSIR_RATE_LIMIT_ANSWER_WAIT", 60.0)
        self.windows: dict[str, HostWindow] = {}  # host key -> its window

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        # Whatever answers a request (a response, a redirect or retry returned by a middleware
        # before this one, an exception), the downloader says when it left: it is answered.
        crawler.signals.connect(middleware.answered, signal=signals.request_left_downloader)
        return middleware

    def window(self, url: str) -> HostWindow:
        key = host_key(url)
        if key not in self.windows:
            self.windows[key] = HostWindow(key, self.stats, self.max_wait, self.answer_wait)
        return self.windows[key]

    def answered(self, request, spider=None):
        for window in self.windows.values():
            window.answered(request)

    async def process_request(self, request):
        window = self.window(request.url)
        while (wait := window.delay(request)) > 0:
            await interruptible_sleep(self.crawler, wait)
        window.sent(request)

    def process_exception(self, request, exception):
        self.answered(request)

    def process_response(self, request, response):
        remaining, reset = rate_limit_window(response.headers)
        window = self.window(request.url)
        window.answered(request)
        if remaining is not None and response.status != 429:
            window.learn(remaining, reset)
        # GitHub: primary limit 403 + remaining 0; secondary limit 403 + retry-after, or a
        # 403/429 whose message names it, often with requests remaining and no retry-after.
        wait = retry_after(response.headers)
        secondary = secondary_limit(response.status, response.body)
        limited = response.status == 429 or (response.status == 403 and (
            remaining == 0 or wait is not None or secondary))
        if not limited:
            window.served()
            if remaining == 0 and reset:  # the window is spent: wait before the next request
                window.pause(reset, "exhausted")
            return response
        self.stats.inc_value("osir/rate_limit/responses")
        if secondary:
            self.stats.inc_value("osir/rate_limit/secondary")
        if wait is None and secondary and remaining != 0:
            wait = window.secondary_wait(self.secondary_wait)  # >= a minute, growing
        if wait is None:
            wait = reset if reset is not None else self.default_wait
        retries = request.meta.get("osir_rate_limit_retries", 0) + 1
        if retries > self.max_retries:
            self.stats.inc_value("osir/rate_limit/gave_up")
            logger.error("rate limited %d times, giving up: %s", retries - 1, request.url)
            return response
        if secondary:  # the primary window still has requests: its budget stands
            window.pause(wait, "secondary", probe=remaining == 0)
        else:
            window.pause(wait, "429")
        self.stats.inc_value("osir/rate_limit/retries")
        retry = request.replace(dont_filter=True)
        retry.meta["osir_rate_limit_retries"] = retries
        return retry


# --- ModelScope ------------------------------------------------------------------------------
MODELSCOPE_RATE_LIMIT_CODES = ("RateLimitExceed",)


def error_of(body: bytes) -> tuple[str, str] | None:
    """(code, message) of a ModelScope ``success: false`` envelope, else None."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and data.get("success") is False:
        return str(data.get("code") or "UnknownError"), str(data.get("message") or "")[:200]
    return None


class ModelScopeErrorMiddleware:
    """ModelScope answers throttling in the body, with any status: such an answer becomes a
    429 for RateLimitMiddleware (this runs before it). The modelscope spiders enable it."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request, response):
        if response.status == 429 or b"success" not in response.body[:4096]:
            return response
        error = error_of(response.body)
        if error and error[0] in MODELSCOPE_RATE_LIMIT_CODES:
            self.stats.inc_value("osir/modelscope/rate_limit_bodies")
            return response.replace(status=429)
        return response


UNREACHABLE = "host_unreachable"  # the close reason, so the crawls row's outcome


class ConnectionBreakerMiddleware:
    """Without it, a crawl whose platform is unreachable retries every request RETRY_TIMES
    times with backoff, for minutes, and ends with nothing but failures. After
    ``OSIR_UNREACHABLE_AFTER`` connection failures in a row to one host it closes the spider
    with reason ``host_unreachable``, logging the host and the cause; ``scrapy crawl`` then
    exits non-zero (osir_crawl/commands/crawl.py).

    Counted towards stopping: DNS, refused and TLS failures always; timeouts and connections
    closed without a response only while the host has not answered once (afterwards they are a
    slow or flaky server, for RETRY_TIMES to handle). Any response from the host resets the
    count. Every network failure in a row, counted or not, and its cause are in the stats
    (``osir/connection/streak``, ``…/cause``), which crawlall's progress line shows.
    """

    def __init__(self, crawler, limit: int):
        self.crawler, self.limit = crawler, limit
        self.stats = crawler.stats
        self.streak: dict[str, int] = {}  # host key -> network failures in a row
        self.strikes: dict[str, int] = {}  # host key -> those of them that count towards stopping
        self.answered: set[str] = set()  # host keys that sent a response
        self.closing = None

    @classmethod
    def from_crawler(cls, crawler):  # OSIR_UNREACHABLE_AFTER = 0: count and show, never stop
        return cls(crawler, crawler.settings.getint("OSIR_UNREACHABLE_AFTER"))

    def process_response(self, request, response):
        key = host_key(request.url)
        self.answered.add(key)
        self.strikes.pop(key, None)
        if self.streak.pop(key, 0):
            self.stats.set_value("osir/connection/streak", 0)
        return response

    def process_exception(self, request, exception):
        cause = cause_of(exception)
        if cause is None:
            return None
        key, host = host_key(request.url), urlsplit(request.url).netloc
        self.streak[key] = streak = self.streak.get(key, 0) + 1
        self.stats.inc_value(f"osir/connection/failures/{cause.replace(' ', '_')}")
        self.stats.set_value("osir/connection/streak", streak)
        self.stats.set_value("osir/connection/cause", f"{host}: {cause}")
        if cause in CANNOT_CONNECT or key not in self.answered:
            self.strikes[key] = self.strikes.get(key, 0) + 1
        strikes = self.strikes.get(key, 0)
        if 0 < self.limit <= strikes and self.closing is None:
            spider = self.crawler.spider
            setting = getattr(spider, "endpoint_setting", "") or "the endpoint setting"
            self.stats.set_value("osir/unreachable", f"{host}: {cause}")
            last = (str(exception).splitlines() or [""])[0][:200]
            logger.error("%s unreachable: %s (%d connection failures in a row, last: %s: %s); "
                         "stopping. Check the network, or %s.", host, cause, strikes,
                         type(exception).__name__, last, setting)
            self.closing = deferred_from_coro(
                self.crawler.engine.close_spider_async(reason=UNREACHABLE))
            self.closing.addErrback(lambda f: logger.error("closing the spider failed: %s", f))
        return None


class ShardStartMiddleware:
    """A spider that reads one indivisible thing (a leaderboard, a one-org platform: its
    ``shard_unit``) runs in the shard of that thing's name only: in the others it starts
    nothing, and says so (a note in the crawl report, not a flag). Spiders that split by
    account pick their own accounts (``OsirSpider.shard_accounts``)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        spider = self.crawler.spider
        if getattr(spider, "in_shard", lambda: True)():
            async for request_or_item in start:
                yield request_or_item
            return
        unit = spider.shard_unit()
        spider.nothing_to_do(f"{unit} is read by shard {shards.shard_of(unit, spider.shard.count)}"
                             f"/{spider.shard.count}, not {spider.shard}")
