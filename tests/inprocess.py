"""The product run inside the test process: ``scrapy crawl`` as a crawl on the session's reactor
(pytest-twisted, ``--reactor=asyncio``), and the project's CLIs through their ``main(argv)``.

A crawl is built as ``scrapy crawl`` builds it: the project's settings (osir_crawl/settings.py,
read afresh under the test's environment, as a new process reads it) at ``project`` priority,
the test's ``-s`` overrides at ``cmdline`` priority, the spider loaded by name through the
project's spider loader, its ``-a`` arguments to ``crawl_async``. What the command adds after
the crawl (a non-zero status and one last line) comes from the command's own
:func:`osir_crawl.commands.crawl.exit_status`; what ends the process before the crawl (a
``SystemExit("osir-crawl: …")`` from the crawl run or a spider) is caught and turned into the
status and line the interpreter would give.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f

from osir_crawl.commands.crawl import exit_status
from osir_crawl.crawl_run import CrawlRun

ROOT = Path(__file__).resolve().parents[1]

# Async tests: ``@async_test`` on an ``async def`` test runs it as a Deferred on the session's
# reactor (bare ``async def`` tests fail under pytest-twisted: "await wasn't used with future").
async_test = deferred_f_from_coro_f

# Settings every test crawl uses: no waiting on a loopback fake; no telnet console or remote
# control port per crawl (Scrapy's own get_crawler turns them off too).
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "OSIR_RETRY_BACKOFF_BASE": "0.05",
    "DOWNLOAD_TIMEOUT": "10",
    "LOG_LEVEL": "INFO",
}
IN_PROCESS = {"TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False}


def project_settings_module():
    """osir_crawl/settings.py executed now: its defaults read the environment of this moment,
    as they do when a ``scrapy`` process starts (the imported module keeps the first one)."""
    spec = importlib.util.find_spec("osir_crawl.settings")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def crawl_settings(overrides: dict) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings_module(), priority="project")
    settings.setdict({**IN_PROCESS, **overrides}, priority="cmdline")
    return settings


@dataclass
class CrawlResult:
    """One crawl as its user sees it: the store, the stats, the exit status, the output."""

    crawler: Crawler | None
    db: Path
    status: int  # what ``scrapy crawl`` would exit with
    line: str  # its last ``osir-crawl: …`` line, "" when it ends well
    log: str  # the crawl's log, formatted as Scrapy's LOG_FORMAT, then ``line``
    crawl_id: str | None = None
    stats: dict = field(default_factory=dict)

    @property
    def outcome(self) -> str | None:
        """The outcome in the crawl's ``crawls`` row (None: it never got one)."""
        if not self.crawl_id:
            return None
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            row = conn.execute("SELECT outcome FROM crawls WHERE crawl_id = ?",
                               (self.crawl_id,)).fetchone()
        return row[0] if row else None


def _status_of(exc: SystemExit) -> tuple[int, str]:
    """What the interpreter makes of an uncaught SystemExit: a message is printed, status 1."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0, ""
    return 1, str(exc.code)


async def run_crawl_in_process(spider, db: Path, overrides: dict, args: dict,
                               caplog, crawlers: list) -> CrawlResult:
    settings = crawl_settings({"OSIR_DB": str(db), **FAST, **overrides})
    level = logging.getLevelName(settings.get("LOG_LEVEL", "DEBUG"))
    caplog.set_level(level)
    first = len(caplog.records)
    crawler = AsyncCrawlerRunner(settings).create_crawler(spider)
    crawlers.append(crawler)
    status, line = 0, ""
    try:
        await crawler.crawl_async(**args)
    except SystemExit as exc:  # the crawl ended the process before it began
        status, line = _status_of(exc)
        crawler.crawling = False
    else:
        status, line = exit_status(crawler)
    formatter = logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT"))
    log = "\n".join(formatter.format(r) for r in caplog.records[first:] if r.levelno >= level)
    # _stats, _extensions: Scrapy's names for these before (or without) a crawl.
    extensions = crawler._extensions.middlewares if crawler._extensions else ()
    run = next((e for e in extensions if isinstance(e, CrawlRun)), None)
    stats = crawler._stats.get_stats() if crawler._stats else {}
    return CrawlResult(crawler, Path(db), status, line, f"{log}\n{line}" if line else log,
                       run.crawl_id if run else None, stats)


@dataclass
class CliResult:
    status: int
    out: str
    err: str


def run_main(main, argv: list[str], capsys) -> CliResult:
    """A CLI's ``main(argv)`` as ``python -m`` runs it: its return value or SystemExit is the
    exit status; an uncaught SystemExit message goes to stderr, as the interpreter prints it."""
    capsys.readouterr()  # what came before is not this command's
    message = ""
    try:
        status = main(argv)
    except SystemExit as exc:
        status, message = _status_of(exc)
    out, err = capsys.readouterr()
    return CliResult(status or 0, out, err + (f"{message}\n" if message else ""))


def scrapy_main(argv: list[str]) -> int:
    """``scrapy <command> …`` for a command that starts no crawl (``settings``, ``merge``,
    ``crawlall --check``): Scrapy's own ``execute``, in the project directory."""
    from scrapy.cmdline import execute

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        execute(["scrapy", *argv])
    finally:
        os.chdir(cwd)
        os.environ.pop("SCRAPY_SETTINGS_MODULE", None)  # execute() sets it from scrapy.cfg
    return 0


def no_log_handlers_left() -> list[str]:
    """The leak check: a crawl that was not awaited leaves its LogCounterHandler behind."""
    from scrapy.extensions.logcount import LogCounterHandler

    return [repr(h) for h in logging.getLogger().handlers if isinstance(h, LogCounterHandler)]
