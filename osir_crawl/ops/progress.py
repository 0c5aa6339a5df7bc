"""Live progress of ``scrapy crawlall``, for a person watching it.

Each spider subprocess writes its stats to a file (osir_crawl/extensions/, StatsFile);
:class:`Progress` reads those files and prints one plain line per update — a log line, not a
TUI, so it also reads well in cron mail.

Per running spider the line shows what is known of its work (the spiders count it in their
stats, ``osir/progress/*`` and ``osir/browser/*``): rows done of the rows its listings said
they hold (``done/total rows``, when every listing announced a total: ModelScope's
``total_count``, a forge's total-count header), else the items stored; the rate; the time
left when a total is known; and the pages Chromium renders (rendered / queued, the queue
estimated for the rows not listed yet), which are most of a ModelScope crawl's time and then
set the time left. Running spiders are separated by ``|``.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

# The stats a person watches (and the report reads back when the store has no better figure).
WATCHED = {
    "items": "osir/stored",
    "rejects": "osir/rejected",
    "failures": "osir/failed_requests",
    "retries": "retry/count",
    "requests": "downloader/request_count",
    "errors": "log_count/ERROR",
}
# What is known of a spider's work (osir_crawl/spiders/_listing.py, _browser.py).
WORK = {
    "listings": "osir/progress/listings",  # account listings started
    "announced": "osir/progress/announced",  # of them, those whose first page gave a total
    "expected": "osir/progress/expected",  # the rows those totals add up to
    "listed": "osir/listing/rows",  # rows listed so far
    "duplicates": "osir/duplicates",
    "pages_queued": "osir/browser/pages_queued",  # pages for Chromium, scheduled
    "pages_done": "osir/browser/pages_done",  # and rendered (or failed)
}
RATE_WINDOW = 60.0  # seconds of samples a rate is measured over
RATE_MIN_SPAN = 2.0  # and at least this many: a rate over less says nothing


def read_stats(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def watched(stats: dict) -> dict[str, int]:
    return {name: int(stats.get(key) or 0) for name, key in {**WATCHED, **WORK}.items()}


@dataclass
class SpiderRun:
    """What crawlall knows about one spider of the run."""

    name: str
    stats_file: Path
    state: str = "pending"  # pending | running | done | failed | skipped
    outcome: str | None = None
    started: float | None = None
    ended: float | None = None
    note: str = ""
    figures: dict[str, int] = field(default_factory=dict)
    trouble: str = ""  # while its requests keep failing to connect: "host: cause ×N"
    samples: deque = field(default_factory=lambda: deque(maxlen=64))  # (time, rows, pages)

    def refresh(self) -> None:
        if self.state in ("running", "done", "failed"):
            stats = read_stats(self.stats_file)
            if stats:
                self.figures = watched(stats)
                streak = int(stats.get("osir/connection/streak") or 0)
                self.trouble = (f"{stats.get('osir/connection/cause')} ×{streak}"
                                if streak else "")
                self.samples.append((time.monotonic(), self.rows_done(),
                                     self.figures["pages_done"]))

    # --- what is known of the work -----------------------------------------------------------
    def rows_done(self) -> int:
        f = self.figures
        return f.get("items", 0) + f.get("rejects", 0) + f.get("duplicates", 0)

    def rows_total(self) -> int | None:
        """The rows the listings hold, once every listing has said (else None)."""
        f = self.figures
        listings = f.get("listings", 0)
        return f.get("expected") if listings and f.get("announced") == listings else None

    def rate(self, index: int) -> float | None:
        """Per second over the last RATE_WINDOW seconds of samples (1: rows, 2: pages)."""
        if len(self.samples) < 2:
            return None
        last = self.samples[-1]
        first = next(s for s in self.samples if last[0] - s[0] <= RATE_WINDOW)
        span = last[0] - first[0]
        return (last[index] - first[index]) / span if span >= RATE_MIN_SPAN else None

    def pages_expected(self) -> tuple[int, bool]:
        """(pages Chromium will render, whether that is an estimate): the pages queued, scaled
        up to the rows not listed yet when the listings' total is known."""
        f = self.figures
        queued, listed, total = f.get("pages_queued", 0), f.get("listed", 0), self.rows_total()
        if total and 0 < listed < total:
            return round(queued * total / listed), True
        return queued, False

    def seconds_left(self) -> float | None:
        f = self.figures
        if f.get("pages_queued"):  # rendering is the slow part: its pace decides
            expected, _ = self.pages_expected()
            pace, left = self.rate(2), expected - f.get("pages_done", 0)
        else:
            total = self.rows_total()
            if total is None:
                return None
            pace, left = self.rate(1), total - self.rows_done()
        if not pace or pace <= 0:
            return None
        return max(left, 0) / pace

    def work(self) -> str:
        """``1,560/2,883 rows at 3.1/s, ~7 min left (Chromium: 1,480/~2,050 pages, 2.9/s)``,
        as much of it as is known."""
        f, total = self.figures, self.rows_total()
        text = (f"{self.rows_done():,}/{total:,} rows" if total is not None
                else f"{f.get('items', 0):,} items")
        if (pace := self.rate(1)) is not None and pace > 0:
            text += f" at {pace:.1f}/s"
        if (left := self.seconds_left()) is not None:
            text += f", ~{_duration(left)} left"
        if f.get("pages_queued"):
            expected, estimated = self.pages_expected()
            text += (f" (Chromium: {f.get('pages_done', 0):,}/{'~' if estimated else ''}"
                     f"{expected:,} pages")
            if (pace := self.rate(2)) is not None and pace > 0:
                text += f", {pace:.1f}/s"
            text += ")"
        return text


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{max(1, round(seconds))} s"
    return f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h"


class Progress:
    """Prints ``[elapsed] done/total spiders · running … · items · rejects · errors``; each
    running spider with what is known of its work (``SpiderRun.work``), and, while its
    requests keep failing to connect, why: ``[host: cause ×N]``."""

    def __init__(self, runs: list[SpiderRun], out=None, interval: float = 5.0):
        self.runs = runs
        self.out = out or sys.stdout
        self.interval = interval
        self.t0 = time.monotonic()
        self.last_line = ""
        self.last_time = 0.0

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.t0)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def event(self, message: str) -> None:
        print(f"[{self.elapsed()}] {message}", file=self.out, flush=True)

    def tick(self, now: bool = False) -> None:
        """A status line when something changed, at most once per ``interval`` seconds
        (``now``: check at once, e.g. at the end of the run)."""
        moment = time.monotonic()
        if not now and moment - self.last_time < self.interval:
            return
        for run in self.runs:
            run.refresh()
        line = self.status_line()
        if line != self.last_line:
            self.event(line)
            self.last_line = line
        self.last_time = moment

    def status_line(self) -> str:
        total = len(self.runs)
        ended = [r for r in self.runs if r.state in ("done", "failed", "skipped")]
        failed = sum(r.state == "failed" for r in self.runs)
        skipped = sum(r.state == "skipped" for r in self.runs)
        running = [r for r in self.runs if r.state == "running"]
        sums = {k: sum(r.figures.get(k, 0) for r in self.runs) for k in WATCHED}
        parts = [f"{len(ended)}/{total} spiders done"]
        if failed or skipped:
            parts[0] += f" ({failed} failed, {skipped} already finished)"
        if running:
            parts.append("running: " + " | ".join(
                f"{r.name} {r.work()}" + (f" [{r.trouble}]" if r.trouble else "")
                for r in running))
        parts.append(f"items {sums['items']:,}")
        parts.append(f"rejects {sums['rejects']:,}")
        parts.append(f"errors {sums['failures'] + sums['errors']:,}")
        parts.append(f"requests {sums['requests']:,}")
        return " · ".join(parts)
