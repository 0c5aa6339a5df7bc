"""A small threaded HTTP server on 127.0.0.1 with routing, a request log, a fixed-window rate
limiter and injectable faults. Each platform fake subclasses :class:`FakeAPI`.

Faults are dicts matched against ``path?query`` (substring ``match``); the first matching
active fault answers instead of the route:

* ``status``, ``headers``, ``body`` — the reply (body: JSON-able object or raw ``bytes``);
  ``headers`` without ``status`` are added to the route's own reply (e.g. a bad ``Link``);
* ``match`` — a substring, or a list of substrings that must all occur;
* ``times`` — how many requests it answers (default 1); ``skip`` — matching requests let
  through first; ``window`` — instead of ``times``, answer every match for this many seconds;
* ``delay`` — sleep before answering (or before the route, if no ``status``);
* ``reset`` — close the connection without a reply; ``truncate`` — send a Content-Length
  longer than the body.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit


@dataclass
class Reply:
    body: object = None
    status: int = 200
    headers: dict = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    status: int = 0
    fault: bool = False  # a fault replaced, delayed, reset or truncated the reply
    at: float = field(default_factory=time.monotonic)  # arrival time


class FixedWindow:
    """``limit`` requests per ``seconds``; beyond it, 429 until the window ends."""

    def __init__(self, limit: int, seconds: int, style: str = "ietf"):
        self.limit, self.seconds, self.style = limit, seconds, style
        self.lock = threading.Lock()
        self.used = 0
        self.windows: list[dict] = []  # per window: allowed, rejected
        self.begin()

    def begin(self) -> None:
        """Windows from now on, each starting on a whole second of the wall clock: GitHub's
        ``x-ratelimit-reset`` is the epoch second the window ends, the same on every answer
        of the window (the first window may be short)."""
        self.start = time.monotonic() - time.time() % 1.0

    def take(self) -> tuple[bool, dict]:
        with self.lock:
            now = time.monotonic()
            if now - self.start >= self.seconds:
                elapsed = int((now - self.start) // self.seconds)
                self.start += elapsed * self.seconds
                self.used = 0
            if not self.windows or self.windows[-1]["start"] != self.start:
                self.windows.append({"start": self.start, "allowed": 0, "rejected": 0})
            allowed = self.used < self.limit
            if allowed:
                self.used += 1
            self.windows[-1]["allowed" if allowed else "rejected"] += 1
            remaining = max(0, self.limit - self.used)
            reset = max(1, int(round(self.start + self.seconds - now + 0.49)))
            # Not now + reset rounded: that moved within a window and came up to 1 s early.
            reset_epoch = round(time.time() + self.start + self.seconds - now)
        return allowed, self.headers(remaining, reset, reset_epoch)

    def headers(self, remaining: int, reset: int, reset_epoch: int) -> dict:
        if self.style == "github":
            return {
                "x-ratelimit-limit": str(self.limit),
                "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(reset_epoch),
            }
        return {
            "RateLimit": f'"api";r={remaining};t={reset}',
            "RateLimit-Policy": f'"fixed window";"api";q={self.limit};w={int(self.seconds)}',
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Scrapy reconnects many requests at once after resets and timeouts; the default backlog
    # of 5 drops SYNs, which the client sees as a one-second connect delay.
    request_queue_size = 256

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a client that hung up is no news


class FakeAPI:
    routes: list[tuple[str, re.Pattern, str]] = []

    def __init__(self, port: int = 0, rate_limit: FixedWindow | None = None):
        self.port = port
        self.rate_limit = rate_limit
        self.faults: list[dict] = []
        self.log: list[Seen] = []
        self.lock = threading.Lock()
        self.current = threading.local()  # the request being handled, per server thread
        self.server: ThreadingHTTPServer | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PUT(self):
                fake._handle(self, "PUT")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def serve_forever(self):
        """For running a fake by hand: ``python -m tests.fakes.huggingface --port 8765``."""
        self.start()
        print(f"serving on {self.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.stop()

    # --- faults and routing --------------------------------------------------------------------
    def add_fault(self, **fault) -> dict:
        fault.setdefault("times", 1)
        fault.setdefault("skip", 0)
        fault["hits"] = 0
        self.faults.append(fault)
        return fault

    def _active_fault(self, target: str) -> dict | None:
        with self.lock:
            now = time.monotonic()
            for fault in self.faults:
                match = fault.get("match", "")
                if not all(m in target for m in ([match] if isinstance(match, str) else match)):
                    continue
                if fault["skip"] > 0:
                    fault["skip"] -= 1
                    continue
                if "window" in fault:
                    fault.setdefault("until", now + fault["window"])
                    if now >= fault["until"]:
                        continue
                elif fault["hits"] >= fault["times"]:
                    continue
                fault["hits"] += 1
                return fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler, method: str):
        target = handler.path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        seen = Seen(method, target, dict(handler.headers.items()))
        self.current.headers = seen.headers  # for a route that answers by header (Accept)
        with self.lock:
            self.log.append(seen)
        fault = self._active_fault(target)
        seen.fault = bool(fault) and any(k in fault for k in ("status", "delay", "reset",
                                                              "truncate"))
        if fault and fault.get("delay"):
            time.sleep(fault["delay"])
        if fault and fault.get("reset"):
            handler.close_connection = True
            try:
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                              b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            handler.connection.close()
            seen.status = -1
            return
        extra_headers = {}
        if fault and "status" in fault:
            reply = Reply(fault.get("body", {"error": "injected fault"}), fault["status"],
                          dict(fault.get("headers", {})))
        else:
            reply = None
            if self.rate_limit is not None:
                allowed, extra_headers = self.rate_limit.take()
                if not allowed:
                    reply = Reply({"error": "rate limited"}, 429, dict(extra_headers))
            if reply is None:
                reply = self._route(method, target, body)
        reply.headers = {**extra_headers, **reply.headers}
        if fault and "status" not in fault:
            reply.headers.update(fault.get("headers", {}))
        seen.status = reply.status
        self._send(handler, reply, truncate=bool(fault and fault.get("truncate")))

    def _route(self, method: str, target: str, body: bytes) -> Reply:
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
        for route_method, pattern, name in self.routes:
            if route_method != method:
                continue
            if m := pattern.fullmatch(parts.path):
                try:
                    return getattr(self, name)(query=query, body=body, **m.groupdict())
                except Exception as exc:  # a bug in a fake must show, not hang the crawl
                    return Reply({"error": f"fake error: {exc!r}"}, 500)
        return Reply({"error": "Not Found"}, 404)

    def _send(self, handler, reply: Reply, truncate: bool = False):
        body = reply.body
        if isinstance(body, bytes):
            data = body
            ctype = reply.headers.pop("Content-Type", "application/octet-stream")
        elif isinstance(body, str):
            data = body.encode()
            ctype = reply.headers.pop("Content-Type", "text/html; charset=utf-8")
        else:
            data = json.dumps(body).encode()
            ctype = "application/json"
        handler.send_response(reply.status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data) + (100 if truncate else 0)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        try:
            handler.wfile.write(data)
            if truncate:
                handler.wfile.flush()
                handler.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass

    # --- helpers for subclasses ----------------------------------------------------------------
    def link_page(self, path: str, query: list, items: list, default_limit: int) -> Reply:
        """Cursor pagination with an RFC 8288 ``Link: <…>; rel="next"`` header."""
        params = dict(query)
        limit = max(1, int(params.get("limit", default_limit)))
        offset = int(params.get("cursor", "0") or 0)
        page = items[offset : offset + limit]
        headers = {}
        if offset + limit < len(items):
            rest = [(k, v) for k, v in query if k != "cursor"] + [("cursor", str(offset + limit))]
            headers["Link"] = f'<{self.url}{path}?{urlencode(rest)}>; rel="next"'
        return Reply(page, 200, headers)


def route(method: str, pattern: str):
    """A route entry: ``routes = [(*route("GET", r"/api/(?P<kind>models)"), "method_name")]``."""
    return method, re.compile(pattern)


# A size the repo name states ("opt-125m", "Qwen2.5-0.5B"): a fake hub's parameter count then
# agrees with it, as the real hubs' do, instead of the randomly drawn one.
_STATED = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)([mMbB])(?![A-Za-z0-9])")


def agreeing_params(repo_id: str, drawn):
    """``drawn`` (a random count, or none/0), or the size the name states when there is a
    count to give."""
    sizes = [float(n) * (1e6 if u in "mM" else 1e9)
             for n, u in _STATED.findall(repo_id.split("/")[-1])]
    return int(max(sizes)) if drawn and sizes else drawn
