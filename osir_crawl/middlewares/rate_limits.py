"""One host's rate-limit window, as its answers announce it; RateLimitMiddleware only asks it.

Headers read: ``RateLimit: "api";r=R;t=T`` (IETF draft, Hugging Face), ``x-ratelimit-remaining``
and ``x-ratelimit-reset`` (GitHub: the reset is an epoch; Gitee, GitCode), ``Retry-After``
(seconds or an HTTP date).

GitHub's *secondary* limit is told by its message, not its headers: a 403 (or 429) whose body
names it, often with ``x-ratelimit-remaining`` above 0 and no ``Retry-After`` (a recorded
answer: tests/fixtures/github_repos/secondary-limit-403.json). GitHub's documentation: honour
``Retry-After``; else, with nothing remaining, wait until the reset; else wait at least one
minute, longer on each repeat (``HostWindow.secondary_wait``).

The budget: a request let through may still wait in the download slot, so "remaining: 0" on
an answer comes too late for the requests behind it. The window counts the requests it let
through and that are not answered yet, and lets none through beyond the remaining requests
the last answer announced, less those.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time

from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)

_RATELIMIT_R = re.compile(r"(?:^|;)\s*r=(\d+)")
_RATELIMIT_T = re.compile(r"(?:^|;)\s*t=(\d+)")
MARGIN = 0.5  # seconds waited past an announced reset
POLL = 0.05  # seconds between looks while a spent window waits for an answer


class WindowTooLong(IgnoreRequest):
    """The host announced a window longer than OSIR_RATE_LIMIT_MAX_WAIT: its requests fail
    (recorded) until it ends, instead of holding the crawl for hours."""


def rate_limit_window(headers, now: float | None = None) -> tuple[int | None, float | None]:
    """(remaining requests, seconds until the window resets) from any known header style."""
    now = time.time() if now is None else now
    remaining = reset = None
    value = _header(headers, "RateLimit")  # IETF draft, Hugging Face: "api";r=0;t=55
    if value:
        if m := _RATELIMIT_R.search(value):
            remaining = int(m.group(1))
        if m := _RATELIMIT_T.search(value):
            reset = float(m.group(1))
    if remaining is None and (value := _header(headers, "x-ratelimit-remaining")):
        remaining = _int(value)
    if reset is None and (value := _header(headers, "x-ratelimit-reset")):
        epoch = _int(value)  # GitHub: UTC epoch seconds
        if epoch is not None:
            reset = max(0.0, epoch - now) if epoch > 10**9 else float(epoch)
    return remaining, reset


# GitHub's messages for its secondary limit (today's, and the older "abuse detection" one).
SECONDARY_LIMIT_MESSAGES = (b"secondary rate limit", b"abuse detection mechanism")


def secondary_limit(status: int, body: bytes) -> bool:
    """Whether a 403/429 answer is GitHub's secondary rate limit (its message says so)."""
    if status not in (403, 429):
        return False
    head = body[:4096].lower()
    return any(message in head for message in SECONDARY_LIMIT_MESSAGES)


def retry_after(headers, now: float | None = None) -> float | None:
    value = _header(headers, "Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class HostWindow:
    """The window of one host (scheme://host:port). Times are ``clock()`` seconds."""

    def __init__(self, host: str, stats, max_wait: float, answer_wait: float,
                 clock=time.monotonic):
        self.host, self.stats, self.clock = host, stats, clock
        self.max_wait = max_wait  # a longer announced wait is capped (and logged)
        self.answer_wait = answer_wait  # longest wait for the answers that tell a new budget
        self.paused_until = 0.0
        self.refused_until = 0.0  # a window too long to wait out ends then
        self.refused_why = ""
        self.reset_at = 0.0  # when the current window resets, if an answer said
        self.budget: int | None = None  # requests that may still go; None: not known
        self.in_flight: dict = {}  # request let through, unanswered -> when
        self.waiting: dict = {}  # request waiting for others' answers -> since when
        self.secondary_repeats = 0  # secondary-limit answers since the host last served one

    def outstanding(self) -> int:
        """Requests let through and not answered (one unaccounted for, if a component ever
        lost one, stops counting after ``answer_wait`` seconds)."""
        now = self.clock()
        for request, since in list(self.in_flight.items()):
            if now - since > self.answer_wait:
                del self.in_flight[request]
        return len(self.in_flight)

    def delay(self, request) -> float:
        """Seconds ``request`` is to wait before asking again; 0: it may go now."""
        now = self.clock()
        if self.refused_until > now:
            self.stats.inc_value("osir/rate_limit/refused")
            raise WindowTooLong(self.refused_why)
        if (wait := self.paused_until - now) > 0:
            self.stats.inc_value("osir/rate_limit/wait_seconds", round(wait, 3))
            return wait
        if self.budget is None or self.budget > 0:
            return 0.0
        if self.reset_at > now:  # spent, and the answers said until when
            self.pause(self.reset_at - now, "exhausted")
            return self.delay(request)
        since = self.waiting.setdefault(request, now)
        if self.outstanding() and now - since < self.answer_wait:
            return POLL  # the new window's first answer will tell its budget
        if self.outstanding():  # nothing will tell soon: go on without a budget
            self.stats.inc_value("osir/rate_limit/answer_wait_capped")
        self.budget = None
        return 0.0

    def sent(self, request) -> None:
        self.waiting.pop(request, None)
        self.in_flight[request] = self.clock()
        if self.budget is not None:
            self.budget -= 1

    def answered(self, request) -> None:
        self.in_flight.pop(request, None)

    def learn(self, remaining: int, reset: float | None) -> None:
        """What an answer (not a 429) announced: ``remaining`` requests, reset in ``reset`` s."""
        budget = remaining - self.outstanding()
        if reset is not None:
            reset_at = self.clock() + reset
            if reset_at > self.reset_at + 1.0:  # a new window
                self.reset_at = reset_at
                self.budget = None
        # Answers come out of order: within a window, the lowest remaining holds.
        self.budget = budget if self.budget is None else min(budget, self.budget)

    def secondary_wait(self, least: float) -> float:
        """How long to wait after a secondary-limit answer without Retry-After: ``least``
        (GitHub: at least one minute), doubled on each repeat, at most ``max_wait`` (our own
        backoff, not an announced window: it is waited, not refused)."""
        self.secondary_repeats += 1
        return min(least * 2 ** min(self.secondary_repeats - 1, 16), self.max_wait)

    def served(self) -> None:
        """An answer that is not a rate limit: the secondary waits start again from the least."""
        self.secondary_repeats = 0

    def pause(self, seconds: float, why: str, probe: bool = True) -> None:
        """No request until ``seconds`` have passed; then one, which learns the new window's
        budget (``probe``). A secondary limit leaves the window's budget as its answer
        announced (requests remain in it): ``probe=False``. A window longer than ``max_wait``
        is not waited out: until it ends, the host's requests fail at once, each a recorded
        failure."""
        if seconds > self.max_wait:
            if self.clock() + seconds > self.refused_until:
                self.refused_until = self.clock() + seconds
                self.refused_why = (f"rate limited ({why}) by {self.host} for {seconds:.0f}s, "
                                    f"more than OSIR_RATE_LIMIT_MAX_WAIT ({self.max_wait:.0f}s)")
                self.stats.inc_value(f"osir/rate_limit/too_long/{why}")
                logger.error("%s: its requests fail until the window ends", self.refused_why)
            return
        until = self.clock() + seconds + MARGIN
        if until > self.paused_until:
            self.paused_until = until
            if probe:
                self.budget = 1
            self.stats.inc_value(f"osir/rate_limit/pauses/{why}")
            logger.info("rate limit (%s) on %s: pausing %.1fs", why, self.host, seconds)


def _header(headers, name: str) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _int(value: str) -> int | None:
    try:
        return int(float(value))
    except ValueError:
        return None
