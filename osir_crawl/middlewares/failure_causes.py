"""Why a request failed, as one short cause (``DNS lookup failed``, ``connection refused`` …).

The causes name why :class:`~osir_crawl.middlewares.ConnectionBreakerMiddleware` stopped a
spider (:func:`cause_of`), group the failed requests of the crawl report
(:func:`cause_of_reason`, from the stored ``failures.reason``) and say why ``scrapy crawlall``'s
probe (osir_crawl/ops/reachability.py) could not reach a host. Plain Python, no Scrapy or Twisted
import: the failures are recognised by their class names, so this module sits below everything
that uses it.
"""

from __future__ import annotations

import re
import ssl

DNS = "DNS lookup failed"
REFUSED = "connection refused"
TLS = "TLS handshake failed"
TIMEOUT = "timeout"
CLOSED = "connection closed without a response"
NETWORK = "network error"
# Causes that say the host cannot be connected to at all, whatever it answered before.
CANNOT_CONNECT = (DNS, REFUSED, TLS)

# Exception class names (Python, Twisted and Scrapy spell the same failure differently) -> cause.
# Names, not classes: a failure stored as text ("CannotResolveHostError: …") maps the same way.
CAUSES = {
    "gaierror": DNS, "DNSLookupError": DNS, "CannotResolveHostError": DNS,
    "ConnectionRefusedError": REFUSED, "DownloadConnectionRefusedError": REFUSED,
    "SSLError": TLS, "SSLCertVerificationError": TLS, "SSLZeroReturnError": TLS,
    "TimeoutError": TIMEOUT, "timeout": TIMEOUT, "TCPTimedOutError": TIMEOUT,
    "DownloadTimeoutError": TIMEOUT,
    "RemoteDisconnected": CLOSED, "ConnectionDone": CLOSED, "ConnectionLost": CLOSED,
    "ResponseNeverReceived": CLOSED, "ConnectionResetError": CLOSED,
    "ConnectionAbortedError": CLOSED, "BrokenPipeError": CLOSED,
    "NoRouteError": NETWORK, "ConnectError": NETWORK, "ConnectingCancelledError": NETWORK,
    "DownloadFailedError": NETWORK, "ResponseFailed": NETWORK, "OSError": NETWORK,
}
# Chromium's net errors, as a browser spider's (Playwright's) failure message carries them.
CHROMIUM = {"ERR_NAME_NOT_RESOLVED": DNS, "ERR_NAME_RESOLUTION_FAILED": DNS,
            "ERR_CONNECTION_REFUSED": REFUSED, "ERR_SSL_PROTOCOL_ERROR": TLS,
            "ERR_CERT_": TLS, "ERR_TIMED_OUT": TIMEOUT, "ERR_CONNECTION_TIMED_OUT": TIMEOUT,
            "ERR_EMPTY_RESPONSE": CLOSED, "ERR_CONNECTION_CLOSED": CLOSED,
            "ERR_CONNECTION_RESET": CLOSED, "ERR_INTERNET_DISCONNECTED": NETWORK,
            "ERR_ADDRESS_UNREACHABLE": NETWORK, "ERR_NETWORK_": NETWORK}
_CHROMIUM_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")
_TLS_TEXT = re.compile(r"\bSSL|\bTLS|certificate|handshake", re.I)
_NAMED_REASON = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def cause_of(exc: BaseException) -> str | None:
    """The cause of a network failure (``DNS lookup failed`` …), or None for anything else
    (an HTTP error status, a bug). Wrapped failures are looked into, and the most specific
    cause wins: Scrapy's ``DownloadFailedError`` wraps the ``ConnectionLost`` that says more,
    Twisted's ``ResponseNeverReceived`` the TLS error that ended a handshake."""
    wrapped = list(_wrapped(exc))
    if any(_is_tls(inner) for inner in wrapped):
        return TLS
    if browser := _chromium(str(exc)):
        return browser
    names = [k.__name__ for inner in wrapped for k in type(inner).__mro__]
    return _most_specific(names)


def cause_of_reason(reason: str | None) -> str:
    """The group a stored failure reason (``failures.reason``) belongs to: a network cause,
    ``HTTP 404``-style statuses as they are, other reasons (``malformed JSON body``) as written."""
    reason = (reason or "").strip()
    if not reason:
        return "unknown"
    if reason.startswith("HTTP "):
        return reason.split(":")[0]
    if browser := _chromium(reason):
        return browser
    named = _NAMED_REASON.match(reason)
    name = named.group(1).rsplit(".", 1)[-1] if named else ""
    if name in CAUSES or name.endswith(("Error", "Exception")):
        if _TLS_TEXT.search(reason):
            return TLS
        return _most_specific(re.findall(r"[A-Za-z_]\w*", reason)) or name
    return reason[:80]


def _chromium(text: str) -> str | None:
    if found := _CHROMIUM_ERROR.search(text):
        code = found.group(1)
        return next((c for prefix, c in CHROMIUM.items() if code.startswith(prefix)), NETWORK)
    return None


def _most_specific(names: list[str]) -> str | None:
    causes = [CAUSES[n] for n in names if n in CAUSES]
    return next((c for c in causes if c != NETWORK), causes[0] if causes else None)


def _wrapped(exc: BaseException, depth: int = 0):
    """The exception and those it wraps (``__cause__``, URLError's reason, Twisted's reasons)."""
    yield exc
    if depth > 4:
        return
    inner = [exc.__cause__, getattr(exc, "reason", None)]
    inner += [getattr(r, "value", r) for r in getattr(exc, "reasons", None) or ()]
    for item in inner:
        if isinstance(item, BaseException) and item is not exc:
            yield from _wrapped(item, depth + 1)


def _is_tls(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return isinstance(exc, ssl.SSLError) or module.startswith("OpenSSL")
