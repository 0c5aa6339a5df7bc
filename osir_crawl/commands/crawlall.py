"""``scrapy crawlall [--only SPIDER,…] [--snapshot YYYY-MM-DD] [--skip-scoring] [--fresh]
[--shard I/N]``: the monthly full crawl. (``scrapy crawlall --check`` crawls nothing: one live
request per host the spiders below crawl, as each spider declares it, and a table of what
answered, :mod:`osir_crawl.ops.livecheck`.)

Every spider of ``scrapy list`` except ``legacy_import`` runs as its own ``scrapy crawl``
subprocess (a crash of one leaves the rest running), ``--concurrency`` at a time, all writing
the same snapshot, each with its own JOBDIR ``<jobs-dir>/<snapshot>/<spider>/``. Then
``python -m scoring build --snapshot`` (a subprocess, so it uses whatever scoring exists) and
``python -m scoring site`` (the ranking site of every month, ``--site-dir``), then the crawl
report (see :mod:`osir_crawl.ops.report`).

Before any spider starts, the ``-a orgs=`` selection is checked against the registry, and the
host of every spider about to crawl is probed (:mod:`osir_crawl.ops.reachability`, one request
each, at once): a spider whose host cannot be reached is not started and counts as failed, with
the cause on the console and in the report.

``--shard I/N`` runs one shard of a cluster crawl (docs/operations.md): every spider gets
``-a shard=I/N``, decisions below look at that shard's crawls only, JOBDIRs, logs and the report
go under ``shard-I-of-N/``, and scoring waits for ``scrapy merge`` of the shard stores. With
``-a universe=all`` the scoring step also builds the ecosystem ranking and its discovery report.

Re-running with the same snapshot continues a stopped run, deciding per spider from its latest
``crawls`` row for the snapshot:

* ``finished`` — skipped (``--fresh``: every spider is crawled again from scratch);
* ``shutdown`` (stopped by Ctrl-C/SIGTERM: Scrapy saved its queue) — resumed from the JOBDIR;
* ``running`` (the process was SIGKILLed: Scrapy wrote no queue state) — recovered from the
  JOBDIR when it holds the marker of :mod:`osir_crawl.extensions.resume`, else crawled again from scratch;
* ``incomplete`` or any other end — crawled again from scratch (the upserts and the stale-row
  removal of a complete crawl make the snapshot the same as one uninterrupted crawl).

Children live in their own session and get one SIGTERM when crawlall dies: each holds the read
end of a pipe whose write end only crawlall has (``OSIR_PARENT_FD``, see
:mod:`osir_crawl.extensions.lifeline`), so even a ``kill -9`` of crawlall lets them save their JOBDIR. A
lock file per spider, held by the child, keeps a resumed run from starting a spider whose
previous process is still closing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import arglist_to_dict

from osir_crawl import store
from osir_crawl.extensions.resume import MARKER as KILLED_MARKER  # a killed crawl's JOBDIR, recoverable
from osir_crawl.inputs.registry import RegistryError, load_registry
from osir_crawl.middlewares import TOKEN_PLATFORMS
from osir_crawl.ops import outputs, reachability, report
from osir_crawl.ops.progress import Progress, SpiderRun
from osir_crawl.project_command import ProjectCommand
from osir_crawl.rules.eval_rules import EVAL_SINCE, MAX_AGE_DAYS
from osir_crawl.shards import Shard
from osir_crawl.snapshots import check_snapshot
from osir_crawl.spiders import monthly_spiders

SECRETS = {*TOKEN_PLATFORMS, "HUGGING_FACE_HUB_TOKEN"}  # passed in the environment only
OWN_SETTINGS = {"OSIR_DB", "OSIR_SNAPSHOT", "JOBDIR", "OSIR_STATS_FILE", "LOG_FILE",
                "OSIR_PARENT_FD"}


def _elsewhere(spider_class, shard: Shard | None) -> bool:
    """Whether the spider reads one indivisible thing that another shard reads."""
    unit = getattr(spider_class, "shard_unit", lambda: None)()
    return shard is not None and unit is not None and not shard.owns(unit)


class Interrupted(Exception):
    pass


class Command(ProjectCommand):
    usage = "[--only SPIDER,…] [--snapshot YYYY-MM-DD] [--skip-scoring] [--fresh] [--shard I/N]"
    summary = "Run every spider for one snapshot (resumable), then scoring and the crawl report"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--only", metavar="SPIDER,…", help="run only these spiders")
        parser.add_argument("--snapshot", metavar="YYYY-MM-DD",
                            help="the snapshot to write (default: OSIR_SNAPSHOT, i.e. today UTC)")
        parser.add_argument("--skip-scoring", action="store_true",
                            help="do not run `python -m scoring build` after the crawl")
        parser.add_argument("--fresh", action="store_true",
                            help="crawl every spider from scratch, even those that already "
                                 "finished this snapshot (their rows are replaced)")
        parser.add_argument("--concurrency", type=int, default=2, metavar="N",
                            help="spiders running at once (default 2)")
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="spider argument for every spider, e.g. -a orgs=BAAI,Ali")
        # Defaults: beside the store (osir_crawl/ops/outputs.py), data/… for data/osir.db.
        parser.add_argument("--jobs-dir", help="JOBDIR root (default: jobs/ beside the store)")
        parser.add_argument("--logs-dir", help="spider logs (default: logs/ beside the store)")
        parser.add_argument("--reports-dir",
                            help="crawl reports (default: reports/ beside the store)")
        parser.add_argument("--rankings-dir", default=None,
                            help="passed to scoring build as --out DIR/SNAPSHOT "
                                 "(default: scoring's own, rankings/SNAPSHOT beside the store)")
        parser.add_argument("--site-dir", default=None,
                            help="the ranking site scoring writes after its build, of every "
                                 "month in the store (python -m scoring site; default: site/ "
                                 "beside the store, data/site for data/osir.db)")
        parser.add_argument("--progress-interval", type=float, default=5.0, metavar="SECONDS",
                            help="at most one status line per interval (default 5)")
        parser.add_argument("--shard", metavar="I/N",
                            help="crawl shard I of N (every spider gets -a shard=I/N; JOBDIRs, "
                                 "logs and reports under shard-I-of-N/; scoring is left for "
                                 "after `scrapy merge` of the shard stores)")
        parser.add_argument("--check", action="store_true",
                            help="crawl nothing: one small live request per platform, and a "
                                 "table of what answered (osir_crawl/ops/livecheck.py)")

    def process_options(self, args, opts):
        super().process_options(args, opts)
        try:
            opts.spargs = arglist_to_dict(opts.spargs)
        except ValueError:
            raise UsageError("Invalid -a value, use -a NAME=VALUE", print_help=False) from None
        given = opts.snapshot is not None  # `--snapshot ""` is an error, not today
        snapshot = opts.snapshot if given else self.settings.get("OSIR_SNAPSHOT")
        try:
            opts.snapshot = check_snapshot(snapshot, "--snapshot" if given else "OSIR_SNAPSHOT")
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None
        if opts.concurrency < 1:
            raise UsageError("--concurrency must be at least 1", print_help=False)
        try:
            shard = Shard.parse(opts.shard or opts.spargs.get("shard"))
        except ValueError as exc:
            raise UsageError(f"--shard: {exc}", print_help=False) from None
        if opts.shard and opts.spargs.get("shard") not in (None, opts.shard):
            raise UsageError("--shard and -a shard= disagree", print_help=False)
        opts.shard = shard
        if shard:
            opts.spargs["shard"] = str(shard)

    def run(self, args, opts):
        if opts.check:
            from osir_crawl.ops import livecheck
            self.exitcode = livecheck.main(self.settings)
            return
        known = monthly_spiders(get_spider_loader(self.settings))
        names = known
        if opts.only:
            names = [n.strip() for n in opts.only.split(",") if n.strip()]
            unknown = [n for n in names if n not in known]
            if unknown:
                raise UsageError(f"unknown spider(s) {', '.join(unknown)}; "
                                 f"known: {', '.join(known)}", print_help=False)
        forwarded = [s for s in opts.set if s.split("=", 1)[0] not in OWN_SETTINGS]
        forwarded, secrets = without_secrets(forwarded)
        loader = get_spider_loader(self.settings)
        try:  # what every spider needs: one line now rather than one failure per spider
            registry = load_registry(self.settings.get("OSIR_ORGS"))
            store.open_store(Path(self.settings.get("OSIR_DB")).resolve()).close()
        except (RegistryError, store.StoreError) as exc:  # an unusable file, not a usage error
            print(f"osir-crawl: {exc}", file=sys.stderr, flush=True)
            self.exitcode = 1
            return
        try:  # the registry's own message, before any spider starts
            orgs = registry.select(opts.spargs.get("orgs"))
        except RegistryError as exc:
            raise UsageError(str(exc), print_help=False) from None
        classes = {n: loader.load(n) for n in names}
        crawling = {n: c for n, c in classes.items()  # spiders with no accounts are not probed
                    if not getattr(c, "nothing_to_crawl", lambda *a: None)(registry, orgs)
                    and not _elsewhere(c, opts.shard)}  # nor those another shard runs
        part = f"shard-{opts.shard.index}-of-{opts.shard.count}" if opts.shard else ""
        db = Path(self.settings.get("OSIR_DB")).resolve()

        def folder(given, kind):  # the store's own, unless given
            return (Path(given).resolve() if given else outputs.root_of(db) / kind) \
                / opts.snapshot / part

        self.exitcode = CrawlAll(
            names=names,
            snapshot=opts.snapshot,
            db=db,
            jobs=folder(opts.jobs_dir, "jobs"),
            logs=folder(opts.logs_dir, "logs"),
            reports=folder(opts.reports_dir, "reports"),
            forwarded=forwarded,
            secrets=secrets,
            spargs=opts.spargs,
            concurrency=opts.concurrency,
            interval=opts.progress_interval,
            scoring=not opts.skip_scoring,
            rankings=(Path(opts.rankings_dir).resolve() / opts.snapshot
                      if opts.rankings_dir else None),
            site=(Path(opts.site_dir) if opts.site_dir
                  else Path(self.settings.get("OSIR_DB")).parent / "site").resolve(),
            endpoints=reachability.spider_endpoints(crawling, self.settings),
            probe_timeout=self.settings.getfloat("OSIR_PROBE_TIMEOUT", 5.0),
            user_agent=self.settings.get("USER_AGENT"),
            fresh=opts.fresh,
            eval_rules={"catalogue": self.settings.get("OSIR_CATALOGUE") or None,
                        "max_age_days": self.settings.getint("OSIR_BOARD_MAX_AGE_DAYS",
                                                             MAX_AGE_DAYS),
                        "since": (self.settings.get("OSIR_EVAL_SINCE")
                                  or EVAL_SINCE.isoformat())},
        ).run()


def without_secrets(settings: list[str]) -> tuple[list[str], dict[str, str]]:
    """(``-s NAME=value`` settings to put on the children's command lines, the token settings
    among them as environment variables). A token goes to the children in their environment,
    never on their command lines, which any user of the machine can read (``ps``); every token
    setting takes its default from the variable of its name (osir_crawl/settings.py)."""
    pairs = [s.split("=", 1) + [""] for s in settings]
    secrets = {name: value for name, value, *_ in pairs if name in SECRETS}
    return [s for s, (name, *_) in zip(settings, pairs) if name not in SECRETS], secrets


class CrawlAll:
    def __init__(self, names, snapshot, db, jobs, logs, reports, forwarded, spargs, concurrency,
                 interval, scoring, rankings=None, site=None, endpoints=None,
                 probe_timeout=5.0, user_agent=None, fresh=False, eval_rules=None,
                 secrets=None):
        self.secrets = secrets or {}  # token settings given with -s: the children's environment
        self.rankings, self.site = rankings, site or db.parent / "site"
        self.fresh = fresh  # ignore earlier crawls of the snapshot: every spider from scratch
        self.eval_rules = eval_rules or {}
        self.endpoints = endpoints or {}  # spider -> the platform endpoint it crawls
        self.probe_timeout, self.user_agent = probe_timeout, user_agent
        self.not_started: dict[str, str] = {}  # spider -> why (its host is unreachable)
        self.snapshot, self.db = snapshot, db
        self.jobs, self.logs, self.reports = jobs, logs, reports
        self.forwarded, self.spargs, self.concurrency = forwarded, spargs, concurrency
        self.scoring = scoring
        self.runs = [SpiderRun(n, jobs / f"{n}.stats.json") for n in names]
        self.progress = Progress(self.runs, interval=interval)
        self.procs: dict[str, subprocess.Popen] = {}
        self.lifelines: dict[str, int] = {}  # spider -> write end of its pipe (lifeline.py)
        self.waiting: set[str] = set()  # spiders whose earlier process still holds the lock
        self.interrupts = 0

    # --- the run -------------------------------------------------------------------------------
    def run(self) -> int:
        try:  # another store's logs, JOBDIRs or report here: refused, not mixed
            for out, option in ((self.jobs, "--jobs-dir"), (self.logs, "--logs-dir"),
                                (self.reports, "--reports-dir")):
                outputs.claim(out, self.db, option)
        except outputs.OutputClash as exc:
            print(f"osir-crawl: {exc}", file=sys.stderr, flush=True)
            return 1
        store.open_store(self.db).close()  # schema in place before anyone reads crawls rows
        self.progress.event(
            f"crawlall snapshot {self.snapshot}: {len(self.runs)} spiders, {self.concurrency} at a "
            f"time, store {self.db}, logs {self.logs}")
        # Also SIGINT: a shell starting crawlall in the background leaves it ignored.
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._probe()
            self._crawl()
        except (KeyboardInterrupt, Interrupted):
            self._stop_children()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        failed = [r.name for r in self.runs if r.state != "done" and r.state != "skipped"]
        if not self.interrupts:
            self._judge_entries()
        scoring = self._scoring(failed)
        md, _, crawl_report = report.write_report(
            self.db, self.snapshot, self.reports, [r.name for r in self.runs],
            {"scoring": scoring}, not_started=self.not_started)
        self.progress.tick(now=True)
        self.progress.event(f"scoring: {scoring['status']} — {scoring['detail']}")
        self.progress.event(f"report: {md} (flagged: {', '.join(crawl_report['flagged']) or 'none'})")
        if self.interrupts:
            self.progress.event("interrupted: run the same command again to resume")
            return 130
        if failed:
            unreachable = [n for n in failed if n in self.not_started]
            why = ("" if not unreachable else "not started, host unreachable; "
                   if len(unreachable) == len(failed)
                   else f"not started, host unreachable: {', '.join(unreachable)}; ")
            self.progress.event(f"failed: {', '.join(failed)} ({why}logs: {self.logs})")
            return 1
        return 2 if scoring["status"] == "failed" else 0

    def _probe(self):
        """One request per platform host, all at once; the spiders of a host that cannot be
        reached are not started. Spiders that already finished this snapshot are not probed."""
        todo = {r.name: self.endpoints[r.name] for r in self.runs if r.name in self.endpoints
                and (self._earlier_crawl(r.name) or {}).get("outcome") != "finished"}
        if not todo:
            return
        headers = {"User-Agent": self.user_agent} if self.user_agent else None
        results = reachability.probe_all(list(todo.values()), self.probe_timeout, headers)
        down = sorted((res for res in results.values() if not res.reachable),
                      key=lambda res: res.endpoint.host)
        self.progress.event(f"probe: {len(results) - len(down)} of {len(results)} platform "
                            f"hosts reachable")
        if down and len(down) == len(results):
            self.progress.event('no platform answered: no internet here? The README\'s "Try it '
                                'without the internet" crawls loopback fakes of every platform '
                                '(python -m tests.fakes.all)')
        for res in down:
            spiders = sorted(n for n, e in todo.items() if e == res.endpoint)
            self.progress.event(f"unreachable: {res.line()} — not starting {', '.join(spiders)}")
            for run in self.runs:
                if run.name in spiders:
                    run.state, run.outcome = "failed", "unreachable"
                    run.note = self.not_started[run.name] = f"{res.endpoint.host}: {res.cause}"

    def _crawl(self):
        pending = [r for r in self.runs if r.state == "pending"]
        while pending or self.procs:
            for run in list(pending):
                if len(self.procs) >= self.concurrency:
                    break
                fd = self._lock(run)
                if fd is None:  # an earlier process of this spider is still closing
                    if run.name not in self.waiting:
                        self.progress.event(f"{run.name}: waiting for its earlier process to exit")
                        self.waiting.add(run.name)
                    continue
                pending.remove(run)
                self._launch(run, fd)
            for name, proc in list(self.procs.items()):
                if proc.poll() is not None:
                    self._ended(next(r for r in self.runs if r.name == name), proc.returncode)
            self.progress.tick()
            time.sleep(0.5)

    def _on_signal(self, signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    def _stop_children(self):
        """Forward one SIGTERM (Scrapy then closes cleanly, saving its JOBDIR) and wait; a
        further Ctrl-C sends another, which makes Scrapy stop at once."""
        self.interrupts += 1
        self.progress.event(f"stopping {len(self.procs)} running spider(s); they save their "
                            "JOBDIR (Ctrl-C again to force)")
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        while self.procs:
            try:
                for name, proc in list(self.procs.items()):
                    if proc.poll() is not None:
                        self._ended(next(r for r in self.runs if r.name == name), proc.returncode)
                time.sleep(0.3)
            except (KeyboardInterrupt, Interrupted):
                self.interrupts += 1
                for proc in self.procs.values():
                    proc.send_signal(signal.SIGTERM)

    # --- one spider ----------------------------------------------------------------------------
    def _lock(self, run: SpiderRun) -> int | None:
        fd = os.open(self.jobs / f"{run.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
            return None

    def _launch(self, run: SpiderRun, fd: int):
        """Start (or skip) one spider; ``fd`` is its held lock, handed to the child."""
        how = self._how_to_start(run)
        if how is None:
            os.close(fd)
            return
        run.stats_file.unlink(missing_ok=True)
        # The child reads end-of-file on this pipe once crawlall is gone (the write end is
        # close-on-exec, so no other process holds it), and then stops as on SIGTERM.
        watch, self.lifelines[run.name] = os.pipe()
        try:
            self._start(run, self._child_command(run, watch), fd, watch)
        except BaseException:
            if run.name not in self.procs:  # not started: nobody will read the pipe
                os.close(self.lifelines.pop(run.name))
            raise
        finally:
            os.close(fd)  # the child holds the lock until it exits
            os.close(watch)
        run.state, run.started = "running", time.monotonic()
        self.progress.event(f"{run.name}: {how} (pid {self.procs[run.name].pid})")

    def _how_to_start(self, run: SpiderRun) -> str | None:
        """How the spider's crawl starts (resuming its JOBDIR, recovering a killed crawl, or
        from scratch, an unusable JOBDIR removed), as the console says it; None, the run
        skipped, where it already finished the snapshot."""
        last = self._earlier_crawl(run.name)
        jobdir = self.jobs / run.name
        if last and last["outcome"] == "finished":
            run.state, run.outcome, run.note = "skipped", "finished", "already finished"
            run.figures = {"items": last["items"] or 0, "rejects": last["rejected"] or 0}
            self.progress.event(f"{run.name}: already finished for {self.snapshot} "
                                f"({last['crawl_id']}), skipped; to crawl it again: "
                                f"scrapy crawlall --snapshot {self.snapshot} --only {run.name} "
                                "--fresh")
            return None
        if last and last["outcome"] == "shutdown" and jobdir.is_dir():
            return f"resuming from {jobdir}"
        if last and last["outcome"] == "running" and (jobdir / KILLED_MARKER).exists():
            return f"recovering a killed crawl from {jobdir}"
        if jobdir.exists():  # stale or unusable queue state (see the module docstring)
            shutil.rmtree(jobdir)
        if self.fresh and (earlier := self._last_crawl(run.name)):
            return f"starting again (--fresh; last crawl: {earlier['outcome']})"
        return "starting" if not last else f"starting again (last crawl: {last['outcome']})"

    def _child_command(self, run: SpiderRun, lifeline: int) -> list[str]:
        """``scrapy crawl SPIDER`` with the forwarded settings, crawlall's own (the snapshot,
        the store, the JOBDIR, the stats file, the read end of the ``lifeline`` pipe, the log)
        and the spider arguments. No token: those go in :meth:`_child_environment`."""
        cmd = [sys.executable, "-m", "scrapy", "crawl", run.name]
        for setting in self.forwarded:
            cmd += ["-s", setting]
        for key, value in {"OSIR_SNAPSHOT": self.snapshot, "OSIR_DB": self.db,
                           "JOBDIR": self.jobs / run.name, "OSIR_STATS_FILE": run.stats_file,
                           "OSIR_PARENT_FD": lifeline,
                           "LOG_FILE": self.logs / f"{run.name}.log"}.items():
            cmd += ["-s", f"{key}={value}"]
        for key, value in self.spargs.items():
            cmd += ["-a", f"{key}={value}"]
        return cmd

    def _child_environment(self) -> dict[str, str]:
        """crawlall's environment with the token settings given to it (never on a command
        line, which any user of the machine can read)."""
        return {**os.environ, **self.secrets}

    def _start(self, run: SpiderRun, cmd: list[str], fd: int, lifeline: int):
        """Start the child in a session of its own (a Ctrl-C at the terminal reaches crawlall
        only, which forwards one SIGTERM), its output appended to its log, holding its lock
        ``fd`` and the read end of its ``lifeline``."""
        with open(self.logs / f"{run.name}.log", "ab") as log:
            self.procs[run.name] = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(fd, lifeline),
                start_new_session=True, env=self._child_environment())

    def _ended(self, run: SpiderRun, returncode: int):
        del self.procs[run.name]
        os.close(self.lifelines.pop(run.name))
        run.ended = time.monotonic()
        run.refresh()
        last = self._last_crawl(run.name)
        run.outcome = last["outcome"] if last else None
        # A spider that had finished may still be hit by our SIGTERM while tearing down.
        exited = returncode == 0 or (self.interrupts and returncode == -signal.SIGTERM)
        ok = exited and run.outcome == "finished"
        run.state = "done" if ok else "failed"
        figures = run.figures
        said = "" if ok else self._last_word(run.name)
        self.progress.event(
            f"{run.name}: {run.outcome or 'no crawl row'} (exit {returncode}) in "
            f"{run.ended - run.started:.0f}s — {figures.get('items', 0):,} items, "
            f"{figures.get('rejects', 0):,} rejects, "
            f"{figures.get('failures', 0):,} failed requests" + (f" — {said}" if said else ""))

    def _last_word(self, spider: str) -> str:
        """The spider's own last message (``osir-crawl: …``, as its log ends), if it left one:
        why it stopped, which the console should say rather than only point at the log."""
        return self._last_line(self.logs / f"{spider}.log", "osir-crawl:")

    @staticmethod
    def _last_line(path: Path, prefix: str) -> str:
        """The last line of a log, if it starts with ``prefix`` (a command's one-line error)."""
        try:
            with open(path, "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - 4096))
                lines = log.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        return last[:300] if last.startswith(prefix) else ""

    def _earlier_crawl(self, spider: str) -> dict | None:
        """The crawl this run continues or skips: the latest one, or none with --fresh."""
        return None if self.fresh else self._last_crawl(spider)

    def _last_crawl(self, spider: str) -> dict | None:
        """The spider's latest crawl of the snapshot (of this run's shard)."""
        conn = sqlite3.connect(self.db, timeout=60)
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute(
                "SELECT * FROM crawls WHERE spider = ? AND snapshot = ? AND coalesce(shard, '') "
                "= ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
                [spider, self.snapshot, self.spargs.get("shard") or ""]).fetchone()
        finally:
            conn.close()
        return dict(row) if row else None

    def _judge_entries(self):
        """The seed's evaluation rules once more over every board entry of the snapshot, now
        that the hubs' models are in the store (osir_crawl/rules/eval_rules.py): the spiders judged
        openness against the store as it was while they ran."""
        import datetime as dt

        from osir_crawl.inputs.catalogue import CatalogueError, load_catalogue
        from osir_crawl.rules.eval_rules import judge_store

        try:
            catalogue = load_catalogue(self.eval_rules.get("catalogue"))
        except CatalogueError as exc:
            self.progress.event(f"evaluation rules not applied: {exc}")
            return
        db = store.open_store(self.db)
        try:
            done = judge_store(db, self.snapshot, catalogue,
                               self.eval_rules.get("max_age_days", MAX_AGE_DAYS),
                               dt.date.fromisoformat(self.eval_rules.get(
                                   "since", EVAL_SINCE.isoformat())))
        finally:
            db.close()
        excluded = ", ".join(f"{n} {why}" for why, n in sorted(done["excluded"].items()))
        self.progress.event(f"evaluation rules: {done['counted']} board models counted"
                            + (f"; not counted: {excluded}" if excluded else ""))

    # --- scoring -------------------------------------------------------------------------------
    def _scoring(self, failed: list[str]) -> dict:
        if not self.scoring:
            return {"status": "skipped", "detail": "--skip-scoring"}
        if failed or self.interrupts:
            return {"status": "skipped",
                    "detail": "not every spider finished; a ranking of a partial crawl would "
                              "mislead (re-run crawlall to resume, scoring follows)"}
        if shard := self.spargs.get("shard"):
            return {"status": "skipped",
                    "detail": f"shard {shard} holds part of the snapshot: merge the shard stores "
                              "(scrapy merge --into TARGET.db SHARD.db …), then scoring build"}
        env = {**os.environ, "OSIR_DB": str(self.db), "OSIR_SNAPSHOT": self.snapshot}
        builds = [["--out", str(self.rankings)] if self.rankings else []]
        if self.spargs.get("universe") == "all":  # and the ecosystem, with its discovery report
            builds.append(["--universe", "all", "--reports-dir", str(self.reports.parent)]
                          + (["--out", str(self.rankings / "ecosystem")] if self.rankings else []))
        steps = [["build", "--snapshot", self.snapshot, *extra] for extra in builds]
        steps.append(["site", "--db", str(self.db), "--out", str(self.site)])  # every month
        for step in steps:
            cmd = [sys.executable, "-m", "scoring", *step]
            self.progress.event("scoring: python " + " ".join(cmd[1:]))
            with open(self.logs / "scoring.log", "ab") as log:
                rc = subprocess.run(cmd, env=env, stdout=log, stderr=log).returncode
            if rc != 0:
                said = self._last_line(self.logs / "scoring.log", "error:")
                return {"status": "failed",
                        "detail": f"scoring {step[0]}: exit {rc}, see {self.logs / 'scoring.log'}"
                                  + (f" ({said})" if said else "")}
        what = "rankings" + (" and the ecosystem ranking" if len(builds) > 1 else "")
        return {"status": "ok", "detail": f"{what} of {self.snapshot} built; the site: "
                                          f"{self.site / 'index.html'}"}

