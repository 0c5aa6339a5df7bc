"""Can this machine reach a platform? One cheap request per host, and the cause when not.

``scrapy crawlall`` probes the host of every spider it is about to start and does not start a
spider whose host cannot be reached (:func:`spider_endpoints`, :func:`probe_all`), and names
why with the short causes of osir_crawl/middlewares/failure_causes.py, as the crawl's middlewares and
report do.

A probe is one ``HEAD`` of the endpoint URL, not followed if redirected: any HTTP answer, even
an error status, means the host is reachable. Certificates are not verified, as Scrapy's default
TLS context does not verify them: an untrusted certificate does not stop a crawl, so it must not
stop the probe. No Scrapy here: the probe is plain ``urllib``, usable by any command; a live
check of a platform can call :func:`probe` with its own method and headers and read the
answer's status and headers from the :class:`ProbeResult`.
"""

from __future__ import annotations

import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from osir_crawl.middlewares.failure_causes import NETWORK, TIMEOUT, cause_of

BAD_URL = "not a usable URL"


@dataclass(frozen=True)
class Endpoint:
    """A platform's base URL and the setting it comes from (``HF_ENDPOINT`` …)."""

    platform: str
    setting: str
    url: str

    @property
    def host(self) -> str:
        """``host`` or ``host:port`` as a person would write it."""
        parts = urlsplit(self.url)
        default = {"http": 80, "https": 443}.get(parts.scheme)
        port = parts.port if parts.port and parts.port != default else None
        if not parts.hostname:
            return self.url
        return f"{parts.hostname}:{port}" if port else parts.hostname


@dataclass
class ProbeResult:
    endpoint: Endpoint
    reachable: bool
    cause: str | None = None  # a failure_causes cause (or BAD_URL) when not reachable
    detail: str = ""  # the error as the resolver, socket or TLS library put it
    status: int | None = None  # the HTTP status of the answer
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    body: bytes = b""  # the answer's body (none for a HEAD)

    def line(self) -> str:
        """One line for a person: ``huggingface.co (HF_ENDPOINT): DNS lookup failed — …``."""
        where = f"{self.endpoint.host} ({self.endpoint.setting})"
        if self.reachable:
            return f"{where}: reachable (HTTP {self.status}, {self.seconds:.1f}s)"
        return f"{where}: {self.cause}" + (f" — {self.detail}" if self.detail else "")


def spider_endpoints(spider_classes: dict[str, type], settings) -> dict[str, Endpoint]:
    """spider name -> the endpoint it crawls (its class's ``endpoint_setting``, read from
    ``settings``); spiders without one are left out."""
    found = {}
    for name, cls in spider_classes.items():
        setting = getattr(cls, "endpoint_setting", "")
        url = settings.get(setting) if setting else None
        if url:
            found[name] = Endpoint(getattr(cls, "platform", "") or name, setting, url)
    return found


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer: the host is reachable


def probe(endpoint: Endpoint, timeout: float = 5.0, method: str = "HEAD",
          headers: dict[str, str] | None = None, data: bytes | None = None) -> ProbeResult:
    """One request to ``endpoint.url`` (``data``: a body to send); what answered, or why
    nothing did."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=context))
    started = time.monotonic()
    result = ProbeResult(endpoint, reachable=False)
    try:
        request = urllib.request.Request(endpoint.url, data=data, method=method,
                                         headers=headers or {})
        if urlsplit(endpoint.url).scheme not in ("http", "https"):
            raise ValueError(f"{endpoint.url!r} is not an http(s) URL")
        with opener.open(request, timeout=timeout) as response:
            result.reachable, result.status = True, response.status
            result.headers = dict(response.headers.items())
            result.body = response.read()
    except urllib.error.HTTPError as err:  # an answer, only not a 2xx one
        result.reachable, result.status = True, err.code
        result.headers = dict(err.headers.items()) if err.headers else {}
        result.body = err.read() if err.fp else b""
    except ValueError as err:
        result.cause, result.detail = BAD_URL, _detail(err)
    except Exception as err:  # noqa: BLE001 - every other failure is a cause to report
        inner = err.reason if isinstance(err, urllib.error.URLError) else err
        result.cause = cause_of(inner) if isinstance(inner, BaseException) else NETWORK
        result.cause = result.cause or NETWORK
        result.detail = _detail(inner)
    result.seconds = time.monotonic() - started
    return result


def probe_all(endpoints: list[Endpoint], timeout: float = 5.0,
              headers: dict[str, str] | None = None) -> dict[Endpoint, ProbeResult]:
    """Probe every endpoint at once; each answer within ``timeout`` (plus a second for the name
    lookup, which socket timeouts do not bound) or reported as a timeout."""
    results: dict[Endpoint, ProbeResult] = {}

    def run(endpoint):
        results[endpoint] = probe(endpoint, timeout, headers=headers)

    threads = [threading.Thread(target=run, args=(e,), daemon=True) for e in set(endpoints)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout + 1.0
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for endpoint in endpoints:
        if endpoint not in results:  # e.g. a name lookup that never returns
            results[endpoint] = ProbeResult(endpoint, False, TIMEOUT,
                                            f"no answer within {timeout:g}s", seconds=timeout)
    return dict(results)


def _detail(exc) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"
