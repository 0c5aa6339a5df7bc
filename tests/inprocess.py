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
import io
import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.settings import Settings
import pytest
import pytest_twisted
from scrapy.utils.defer import deferred_f_from_coro_f, deferred_from_coro

from osir_crawl.commands.crawl import exit_status
from osir_crawl.extensions.crawl_run import CrawlRun

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
    out: str = ""  # what it printed on stdout

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


class _Records(logging.Handler):
    """The crawl's log records, as Scrapy's root handler would get them (its LOG_LEVEL)."""

    def __init__(self, level):
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


async def crawl_in_process(spider, db: Path, settings: dict | None = None,
                           args: dict | None = None, env: dict | None = None,
                           crawlers: list | None = None) -> CrawlResult:
    """``scrapy crawl SPIDER -s OSIR_DB=db -s K=V… -a K=V…`` run under ``env`` (added to this
    process's environment for the crawl; platform tokens are never inherited from it)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.endswith("_TOKEN")]:
            patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, str(value))
        overrides = {k: str(v) for k, v in (settings or {}).items()}  # as ``-s`` gives them
        crawl_settings_ = crawl_settings({"OSIR_DB": str(db), **FAST, **overrides})
        return await _crawl(spider, Path(db), crawl_settings_,
                            {k: str(v) for k, v in (args or {}).items()},  # as ``-a``
                            crawlers if crawlers is not None else [])


async def _crawl(spider, db: Path, settings: Settings, args: dict, crawlers: list):
    level = logging.getLevelName(settings.get("LOG_LEVEL", "DEBUG"))
    records, root = _Records(level), logging.getLogger()
    root_level = root.level
    root.setLevel(min(level, root_level or level))
    root.addHandler(records)
    crawler = AsyncCrawlerRunner(settings).create_crawler(spider)
    crawlers.append(crawler)
    try:
        await crawler.crawl_async(**args)
    except SystemExit as exc:  # the crawl ended the process before it began
        status, line = _status_of(exc)
        crawler.crawling = False
    else:
        status, line = exit_status(crawler)
    finally:
        root.removeHandler(records)
        root.setLevel(root_level)
    formatter = logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT"))
    log = "\n".join(formatter.format(r) for r in records.records)
    # _stats, _extensions: Scrapy's names for these before (or without) a crawl.
    extensions = crawler._extensions.middlewares if crawler._extensions else ()
    run = next((e for e in extensions if isinstance(e, CrawlRun)), None)
    stats = crawler._stats.get_stats() if crawler._stats else {}
    return CrawlResult(crawler, db, status, line, f"{log}\n{line}" if line else log,
                       run.crawl_id if run else None, stats)


def crawl_and_wait(spider, db: Path, **kw) -> CrawlResult:
    """:func:`crawl_in_process` from a synchronous fixture (module or session scope): the
    reactor runs the crawl while this waits (pytest-twisted's ``blockon``). Not from a test
    function: pytest-twisted runs those inside the reactor (``@async_test`` and await)."""
    result = pytest_twisted.blockon(deferred_from_coro(crawl_in_process(spider, db, **kw)))
    if result.status != 0:
        raise AssertionError(f"crawl failed ({result.status}):\n{result.log[-6000:]}")
    return result


@dataclass
class CliResult:
    status: int
    out: str
    err: str


def run_main(main, argv: list[str]) -> CliResult:
    """A CLI's ``main(argv)`` as ``python -m`` runs it: its return value or SystemExit is the
    exit status; an uncaught SystemExit message goes to stderr, as the interpreter prints it."""
    out, err = io.StringIO(), io.StringIO()
    message = ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:
            status, message = _status_of(exc)
    return CliResult(status or 0, out.getvalue(),
                     err.getvalue() + (f"{message}\n" if message else ""))


def scrapy_main(argv: list[str]) -> int:
    """``scrapy <command> …`` for a command that starts no crawl of Scrapy's (``settings``,
    ``merge``, crawlall's checks before it starts any spider): Scrapy's own ``execute``, in the
    project directory, with the project's settings read afresh (see project_settings_module)."""
    from scrapy.cmdline import execute

    settings = Settings()
    settings.setmodule(project_settings_module(), priority="project")
    if "EDITOR" in os.environ:  # as execute() does when it reads the settings itself
        settings["EDITOR"] = os.environ["EDITOR"]
    cwd, module = os.getcwd(), os.environ.get("SCRAPY_SETTINGS_MODULE")
    os.chdir(ROOT)
    try:
        execute(["scrapy", *argv], settings)
    finally:
        os.chdir(cwd)
        if module is None:  # execute() sets it from scrapy.cfg
            os.environ.pop("SCRAPY_SETTINGS_MODULE", None)
    return 0


def no_log_handlers_left() -> list[str]:
    """The leak check: a crawl that was not awaited leaves its LogCounterHandler behind."""
    from scrapy.extensions.logcount import LogCounterHandler

    return [repr(h) for h in logging.getLogger().handlers if isinstance(h, LogCounterHandler)]
