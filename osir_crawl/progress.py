"""Live progress of ``scrapy crawlall``, for a person watching it.

Each spider subprocess writes its stats to a file (osir_crawl/extensions.py, StatsFile);
:class:`Progress` reads those files and prints one plain line per update — a log line, not a
TUI, so it also reads well in cron mail.
"""

from __future__ import annotations

import json
import sys
import time
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


def read_stats(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def watched(stats: dict) -> dict[str, int]:
    return {name: int(stats.get(key) or 0) for name, key in WATCHED.items()}


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

    def refresh(self) -> None:
        if self.state in ("running", "done", "failed"):
            stats = read_stats(self.stats_file)
            if stats:
                self.figures = watched(stats)
                streak = int(stats.get("osir/connection/streak") or 0)
                self.trouble = (f"{stats.get('osir/connection/cause')} ×{streak}"
                                if streak else "")


class Progress:
    """Prints ``[elapsed] done/total spiders · running … · items · rejects · errors``; a
    running spider whose requests keep failing to connect shows why: ``[host: cause ×N]``."""

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
            parts.append("running: " + ", ".join(
                f"{r.name} {r.figures.get('items', 0):,} items"
                + (f" [{r.trouble}]" if r.trouble else "") for r in running))
        parts.append(f"items {sums['items']:,}")
        parts.append(f"rejects {sums['rejects']:,}")
        parts.append(f"errors {sums['failures'] + sums['errors']:,}")
        parts.append(f"requests {sums['requests']:,}")
        return " · ".join(parts)
