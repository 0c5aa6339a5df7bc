"""Hostile conditions that used to lose rows, hang a crawl or report success on failure:
two crawls of one scope at once, a redirect beside a rate limit, a redirect to another host
after a retry, a redirect cycle, a registry with a key twice, an unusable store, a snapshot that
would be a path outside data/, unbounded rejects, commas in Link URLs, ids of other owners."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from osir_crawl.ops import report
from tests.conftest import FAST, ROOT, async_test, crawl_env, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData
from tests.test_resume import crawl_cmd

SNAPSHOT = "2025-09-07"


def orgs_file(tmp_path, accounts) -> Path:
    path = tmp_path / "orgs.yaml"
    path.write_text("".join(f"Org-{a}:\n  huggingface: [{a}]\n" for a in accounts))
    return path


def models(db, org=None) -> dict[str, dict]:
    where, params = ("WHERE org = ?", [org]) if org else ("", [])
    return {r["repo_id"]: r for r in rows(db, f"SELECT * FROM models {where}", params)}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("osir-crawl:", "error:"))]


def crawlall_args(tmp_path, *more) -> list[str]:
    return ["crawlall", "--snapshot", SNAPSHOT, "--only", "huggingface_models", "--skip-scoring",
            "--jobs-dir", str(tmp_path / "jobs"), "--logs-dir", str(tmp_path / "logs"),
            "--reports-dir", str(tmp_path / "reports"), *more]


class HeldHub(FakeHuggingFace):
    """Holds the first listing request whose query has ``cursor=hold`` until released: a crawl
    kept running, mid-way, for as long as a test needs."""

    def __init__(self, data, hold: str):
        super().__init__(data)
        self.hold, self.held, self.release = hold, threading.Event(), threading.Event()

    def list_repos(self, kind, query, body):
        if dict(query).get("cursor") == self.hold and not self.held.is_set():
            self.held.set()
            self.release.wait(120)
        return super().list_repos(kind, query, body)


# --- 1. two crawls of one spider and snapshot ---------------------------------------------------
@pytest.mark.slow
@async_test
async def test_a_second_crawl_of_a_scope_being_crawled_is_refused(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 40}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with HeldHub(data, hold="20") as hf:
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
                    "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "OSIR_STORE_BATCH_SIZE": 3,
                    "DOWNLOAD_TIMEOUT": 120}
        first = subprocess.Popen(crawl_cmd(db, settings), cwd=ROOT, env=crawl_env(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert hf.held.wait(90), "the first crawl never reached its held page"
            second = await crawl("huggingface_models", db, settings, check=False)
        finally:
            hf.release.set()
            _, first_err = first.communicate(timeout=120)
    assert second.status != 0, second.log[-3000:]
    assert "Traceback" not in second.log
    [line] = error_lines(second.log)
    assert "huggingface_models" in line and SNAPSHOT in line and "being crawled" in line
    assert first.returncode == 0, first_err[-3000:]
    [row] = rows(db, "SELECT * FROM crawls")  # the refused crawl left no crawl row
    assert row["outcome"] == "finished"
    assert len(models(db)) == 40  # nothing deleted by the other crawl's close-out
    assert not rows(db, "SELECT * FROM crawl_locks")  # released at close


@pytest.mark.slow
@async_test
async def test_the_lock_of_a_killed_crawl_is_taken_over(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 20}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with HeldHub(data, hold="10") as hf:
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
                    "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "DOWNLOAD_TIMEOUT": 120}
        first = subprocess.Popen(crawl_cmd(db, settings), cwd=ROOT, env=crawl_env(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert hf.held.wait(90)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        hf.release.set()
        [lock] = rows(db, "SELECT * FROM crawl_locks")
        assert lock["pid"] == first.pid
        proc = await crawl("huggingface_models", db, settings)
    assert "took over" in proc.log and str(first.pid) in proc.log
    outcomes = sorted(c["outcome"] for c in rows(db, "SELECT * FROM crawls"))
    assert outcomes == ["finished", "running"]  # the killed crawl's row stays as it was left
    assert len(models(db)) == 20 and not rows(db, "SELECT * FROM crawl_locks")


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["crawl", "crawlall"])
@async_test
async def test_a_long_crawl_holds_its_lock_alike_under_crawl_and_crawlall(crawl, tmp_path,
                                                                         runner):
    """While it runs, a crawl's lock names it and beats; another crawl of the scope is refused;
    at its end the lock is gone and the crawl is complete: the same whoever started it."""
    data = HubData.synthetic({"acct-a": 20}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with HeldHub(data, hold="10") as hf:
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
                    "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "DOWNLOAD_TIMEOUT": 120,
                    "OSIR_LOCK_HEARTBEAT": 0.5}
        if runner == "crawl":
            cmd = crawl_cmd(db, settings)
        else:
            cmd = [sys.executable, "-m", "scrapy", *crawlall_args(tmp_path), "-s",
                   f"OSIR_DB={db}"]
            for key, value in {**FAST, **settings}.items():
                cmd += ["-s", f"{key}={value}"]
        first = subprocess.Popen(cmd, cwd=ROOT, env=crawl_env(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        try:
            assert hf.held.wait(90)
            [lock] = rows(db, "SELECT * FROM crawl_locks")
            [row] = rows(db, "SELECT * FROM crawls")
            assert lock["crawl_id"] == row["crawl_id"] and row["outcome"] == "running"
            deadline = time.monotonic() + 30
            while rows(db, "SELECT heartbeat_at FROM crawl_locks")[0]["heartbeat_at"] == (
                    lock["heartbeat_at"]) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert rows(db, "SELECT heartbeat_at FROM crawl_locks")[0]["heartbeat_at"] > (
                lock["heartbeat_at"])
            second = await crawl("huggingface_models", db, settings, check=False)
        finally:
            hf.release.set()
            _, err = first.communicate(timeout=120)
    assert second.status == 1 and "being crawled" in second.log
    assert first.returncode == 0, err[-3000:]
    [row] = rows(db, "SELECT * FROM crawls")
    assert row["outcome"] == "finished" and len(models(db)) == 20
    assert not rows(db, "SELECT * FROM crawl_locks")


def test_stale_rows_of_a_running_crawl_are_never_removed(tmp_path):
    from osir_crawl import store

    db = store.open_store(tmp_path / "osir.db")
    row = {"platform": "huggingface", "repo_id": "a/x", "snapshot": SNAPSHOT, "org": "A",
           "owner": "a", "name": "x", "url": "u", "crawl_id": "other", "fetched_at": "t"}
    store.write_rows(db, "models", [row])
    lock = store.CrawlLock(db, "legacy_import", SNAPSHOT)
    lock.acquire()
    lock.claim("other")  # a crawl still writing the scope (here: a replay of the month)
    scope = {"platform": "huggingface", "org": ["A"]}
    assert store.remove_stale_rows(db, "models", SNAPSHOT, "mine", scope) == 0
    lock.release()
    assert store.remove_stale_rows(db, "models", SNAPSHOT, "mine", scope) == 1


def test_a_lock_held_elsewhere_is_stale_only_without_heartbeats(tmp_path):
    from osir_crawl import store

    db = store.open_store(tmp_path / "osir.db")
    fresh, old = store.utc_now(), "2000-01-01T00:00:00+00:00"
    for heartbeat, refused in ((fresh, True), (old, False)):
        db.execute("DELETE FROM crawl_locks")
        db.table("crawl_locks").insert({
            "spider": "s", "snapshot": SNAPSHOT, "crawl_id": "c", "host": "elsewhere",
            "pid": 1, "process": "another-machine:1:1", "started_at": old,
            "heartbeat_at": heartbeat})
        db.conn.commit()
        lock = store.CrawlLock(db, "s", SNAPSHOT, stale_after=300)
        if refused:
            with pytest.raises(store.ScopeLocked, match="being crawled by crawl c .*elsewhere"):
                lock.acquire()
        else:
            assert "took over" in lock.acquire()


# --- 2. a redirect and a 429 on a host without rate-limit headers -------------------------------
@async_test
async def test_a_redirect_beside_a_rate_limit_does_not_hang_the_crawl(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 30}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with FakeHuggingFace(data) as hf:
        # The listing moved (same host), and its new address is rate limited once.
        hf.add_fault(match="author=acct-a&moved=1", status=429, headers={"Retry-After": "1"})
        hf.add_fault(match=["author=acct-a&", "limit="], status=302, headers={
            "Location": f"{hf.url}/api/models?author=acct-a&moved=1&limit=5"})
        proc = await asyncio.wait_for(crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
            "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT}), timeout=90)
    [row] = rows(db, "SELECT * FROM crawls")
    assert row["outcome"] == "finished", proc.log[-3000:]
    assert row["rate_limited"] == 1 and len(models(db)) == 30


@async_test
async def test_requests_answered_by_a_redirect_or_an_error_leave_the_window_budget():
    """Unit: the in-flight count falls whatever answers a request, and waiting is capped."""
    import asyncio

    from scrapy import Request, signals
    from scrapy.utils.test import get_crawler

    from osir_crawl.middlewares import RateLimitMiddleware

    crawler = get_crawler(settings_dict={"OSIR_RATE_LIMIT_ANSWER_WAIT": 0.3})
    middleware = RateLimitMiddleware.from_crawler(crawler)
    url = "http://127.0.0.1:1/api/models"
    window = middleware.window(url)

    async def let_through(request):
        await middleware.process_request(request)

    first, second = Request(url), Request(url + "?b")
    await let_through(first)
    await let_through(second)
    assert window.outstanding() == 2
    # A redirect answers the first (RedirectMiddleware returns before process_response runs);
    # the downloader says it left all the same. The second fails with an exception.
    crawler.signals.send_catch_log(signals.request_left_downloader, request=first, spider=None)
    middleware.process_exception(second, ConnectionError())
    crawler.signals.send_catch_log(signals.request_left_downloader, request=second, spider=None)
    assert window.outstanding() == 0

    # A request that is never accounted for (a leak) delays the next one at most the cap.
    lost = Request(url + "?lost")
    await let_through(lost)
    window.budget = 0  # a window spent, with no reset announced

    async def timed():
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.wait_for(let_through(Request(url + "?next")), timeout=30)
        return loop.time() - start

    assert await timed() < 30


# --- 3. a retry redirected to another host -------------------------------------------------------
@async_test
async def test_a_retry_redirected_to_another_host_is_a_failure(crawl, tmp_path):
    home = HubData.synthetic({"acct-a": 6}, datasets_per_account=0)
    elsewhere = HubData.synthetic({"intruder": 6}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with FakeHuggingFace(home) as hf, FakeHuggingFace(elsewhere) as other:
        away = f"http://localhost:{other.server.server_address[1]}/api/models?author=intruder"
        hf.add_fault(match="author=acct-a&", status=503)  # retried: dont_filter=True ...
        hf.add_fault(match="author=acct-a&", status=302, headers={"Location": away})
        proc = await crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
            "OSIR_SNAPSHOT": SNAPSHOT}, check=False)
    assert proc.status == 1 and "incomplete" in proc.line
    assert not other.log, "a redirect to another host was followed"
    assert not models(db)
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["url"].startswith("http://localhost:") and "offsite" in failure["reason"]
    [row] = rows(db, "SELECT * FROM crawls")
    assert row["outcome"] == "incomplete", proc.log[-3000:]


# --- 4. a redirect cycle --------------------------------------------------------------------------
@async_test
async def test_a_redirect_cycle_is_a_recorded_failure_and_keeps_earlier_rows(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 6, "acct-b": 4}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    settings = {"OSIR_ORGS": orgs_file(tmp_path, ["acct-a", "acct-b"]), "OSIR_SNAPSHOT": SNAPSHOT}
    with FakeHuggingFace(data) as hf:
        settings["HF_ENDPOINT"] = hf.url
        await crawl("huggingface_models", db, settings)
        assert len(models(db, "Org-acct-a")) == 6
        listing = next(s.path for s in hf.log if "author=acct-a&" in s.path)
        # A -> B -> A: the listing and a detour, redirecting to each other.
        hf.add_fault(match="detour=1", status=302, window=600,
                     headers={"Location": f"{hf.url}{listing}"})
        hf.add_fault(match="author=acct-a&", status=302, window=600,
                     headers={"Location": f"{hf.url}{listing}&detour=1"})
        proc = await crawl("huggingface_models", db, settings, check=False)
    assert proc.status == 1 and "incomplete" in proc.line
    [_, row] = rows(db, "SELECT * FROM crawls ORDER BY started_at, rowid")
    assert row["outcome"] == "incomplete", proc.log[-3000:]
    [failure] = rows(db, "SELECT * FROM failures WHERE crawl_id = ?", [row["crawl_id"]])
    assert "author=acct-a" in failure["url"] and "redirect" in failure["reason"]
    assert len(models(db, "Org-acct-a")) == 6  # the earlier rows are kept
    assert len(models(db, "Org-acct-b")) == 4


# --- 5. a registry with a key twice ---------------------------------------------------------------
@pytest.mark.parametrize("text, line", [
    ("A:\n  huggingface: [a]\nB:\n  huggingface: [b]\nA:\n  huggingface: [c]\n", 5),
    ("A:\n  huggingface: [a]\n  github: [a]\n  huggingface: [c]\n", 4),
])
def test_a_registry_with_a_key_twice_is_an_error_naming_the_line(tmp_path, text, line):
    from osir_crawl.inputs.registry import RegistryError, load_registry

    path = tmp_path / "orgs.yaml"
    path.write_text(text)
    with pytest.raises(RegistryError, match=rf"orgs\.yaml:{line}: .* appears twice"):
        load_registry(path)


# --- 6. a store that cannot be opened or written -----------------------------------------------
def make_read_only(db: Path, wal: bool = False) -> None:
    """A store SQLite opens read-only whoever we are (root ignores file modes): a file format
    write version above 2 makes SQLite refuse every write."""
    from osir_crawl import store

    store.open_store(db).close()
    if not wal:  # then opening it fails already, on switching it to WAL
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode=delete")
        conn.close()
    data = bytearray(db.read_bytes())
    data[18] = 3
    db.write_bytes(bytes(data))
    db.chmod(0o444)


def unusable_store(kind: str, tmp_path: Path) -> tuple[Path, dict, str]:
    """(store path, settings, what the error line says) for one kind of unusable store."""
    db = tmp_path / "osir.db"
    if kind == "corrupt":
        db.write_bytes(b"this is not an SQLite file, " * 200)
        return db, {}, "not a database"
    if kind in ("read-only", "read-only-wal"):
        make_read_only(db, wal=kind.endswith("wal"))
        return db, {}, "readonly"
    if kind == "no-folder":  # its folder cannot be made (a file is in the way; or no rights)
        (tmp_path / "blocker").write_text("a file")
        return tmp_path / "blocker" / "osir.db", {}, "cannot open the store"
    return db, {"OSIR_SNAPSHOT": "../x"}, "'../x' is not a YYYY-MM-DD date"


UNUSABLE = ["corrupt", "read-only", "read-only-wal", "no-folder", "bad-snapshot"]


@pytest.mark.parametrize("kind", UNUSABLE)
@async_test
async def test_a_crawl_stops_at_once_with_one_line_when_the_store_is_unusable(crawl, tmp_path,
                                                                              kind):
    db, settings, says = unusable_store(kind, tmp_path)
    data = HubData.synthetic({"acct-a": 3}, datasets_per_account=0)
    with FakeHuggingFace(data) as hf:
        proc = await crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]), **settings},
            check=False)
    assert proc.status != 0
    assert "Traceback" not in proc.log, proc.log[-3000:]
    [line] = error_lines(proc.log)
    assert says in line
    assert not hf.log  # stopped before any request


@async_test
async def test_a_crawl_stops_when_the_store_fails_mid_way(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 30}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with HeldHub(data, hold="10") as hf:
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
                    "HF_PAGE_SIZE": 5, "OSIR_SNAPSHOT": SNAPSHOT, "OSIR_STORE_BATCH_SIZE": 2,
                    "DOWNLOAD_TIMEOUT": 120}
        running = asyncio.ensure_future(crawl("huggingface_models", db, settings, check=False))

        def break_the_store():  # from another thread: the crawl goes on in this one
            assert hf.held.wait(90)
            # Every write now fails the way a broken store fails (an OperationalError, as
            # for a full disk or a store made read-only), whatever the row.
            conn = sqlite3.connect(db, timeout=60)
            for table in ("models", "rejects", "failures", "crawls"):
                conn.execute(f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} BEGIN "
                             "INSERT INTO gone VALUES (1); END")
            conn.commit()
            conn.close()

        try:
            await asyncio.to_thread(break_the_store)
        finally:
            hf.release.set()
            proc = await running
    assert proc.status != 0
    assert "Traceback" not in proc.log, proc.log[-3000:]
    assert [line for line in error_lines(proc.log) if "cannot write to the store" in line]


@pytest.mark.parametrize("kind", ["corrupt", "read-only"])
@pytest.mark.parametrize("command", ["build", "chart", "evidence", "report"])
def test_store_readers_say_one_line_for_an_unusable_store(cli, tmp_path, kind, command):
    db, _, _ = unusable_store(kind, tmp_path)
    out = ["--out", str(tmp_path / "out")]
    if command == "report":  # an exception would end the test: no traceback to look for
        proc = cli.main(report.main, "--snapshot", SNAPSHOT, "--db", db, *out)
    else:
        proc = cli.scoring(command, "--snapshot", SNAPSHOT, "--db", db, *out)
    if kind == "read-only" and command != "build":
        return  # readers read a read-only store; whatever they say, it is not a traceback
    assert proc.status != 0
    assert len(error_lines(proc.err)) == 1, proc.err


@pytest.mark.parametrize("orgs", ["not-utf8", "folder"])
@async_test
async def test_a_registry_that_cannot_be_read_is_one_line(crawl, cli, monkeypatch, tmp_path,
                                                          orgs):
    path = tmp_path / "orgs.yaml"
    if orgs == "folder":
        path.mkdir()
    else:
        path.write_bytes("BAAI:\n  huggingface: [caf\u00e9]\n".encode("latin-1"))
    from osir_crawl import store

    db = tmp_path / "osir.db"
    store.open_store(db).close()
    crawled = await crawl("huggingface_models", db, {"OSIR_ORGS": path}, check=False)
    assert crawled.status != 0 and "Traceback" not in crawled.log, crawled.log[-3000:]
    [line] = error_lines(crawled.log)
    assert str(path) in line
    everything = cli.scrapy(*crawlall_args(tmp_path, "-s", f"OSIR_DB={db}", "-s",
                                           f"OSIR_ORGS={path}"))
    monkeypatch.setenv("OSIR_ORGS", str(path))
    build = cli.scoring("build", "--snapshot", SNAPSHOT, "--db", db, "--out", tmp_path / "out")
    for proc in (build, everything):  # an exception would end the test: no traceback
        assert proc.status != 0
        [line] = error_lines(proc.err)
        assert str(path) in line


@pytest.mark.parametrize("kind", ["corrupt", "read-only"])
def test_crawlall_says_one_line_for_an_unusable_store(cli, tmp_path, kind):
    """Found before any spider starts: crawlall in process (an exception would end the test)."""
    db, _, says = unusable_store(kind, tmp_path)
    orgs = orgs_file(tmp_path, ["acct-a"])
    proc = cli.scrapy(*crawlall_args(tmp_path, "-s", f"OSIR_DB={db}", "-s", f"OSIR_ORGS={orgs}"))
    assert proc.status != 0
    [line] = error_lines(proc.err)
    assert says in line


@pytest.mark.slow
def test_crawlall_says_why_a_spider_was_refused(tmp_path):
    """A scope locked by a plain ``scrapy crawl``: crawlall's child refuses; crawlall says so."""
    data = HubData.synthetic({"acct-a": 20}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    orgs = orgs_file(tmp_path, ["acct-a"])
    with HeldHub(data, hold="10") as hf:
        settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs, "HF_PAGE_SIZE": 5,
                    "OSIR_SNAPSHOT": SNAPSHOT, "DOWNLOAD_TIMEOUT": 120}
        first = subprocess.Popen(crawl_cmd(db, settings), cwd=ROOT, env=crawl_env(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert hf.held.wait(90)
            cmd = [sys.executable, "-m", "scrapy", *crawlall_args(tmp_path), "-s",
                   f"OSIR_DB={db}", "-s", f"OSIR_ORGS={orgs}", "-s", f"HF_ENDPOINT={hf.url}"]
            proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(), capture_output=True,
                                  text=True, timeout=120)
        finally:
            hf.release.set()
            first.wait(timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    [line] = [line for line in proc.stdout.splitlines() if "huggingface_models: " in line
              and "(exit 1)" in line]
    assert "osir-crawl: huggingface_models 2025-09-07 is being crawled by crawl" in line


# --- 7. a snapshot that would be a path outside data/ ---------------------------------------------
@pytest.mark.parametrize("snapshot", ["../../x", "", "2025-02-30", "20250907", "2025-9-7"])
def test_a_snapshot_that_is_not_a_date_is_refused_everywhere(cli, monkeypatch, tmp_path,
                                                             snapshot):
    """Every command in process: an exception would end the test (no traceback to look for)."""
    from osir_crawl import store

    store.open_store(tmp_path / "osir.db").close()
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.setenv("OSIR_DB", str(tmp_path / "osir.db"))
    monkeypatch.chdir(work)
    commands = [
        (report.main, "--snapshot", snapshot),
        (cli.scoring, "build", "--snapshot", snapshot),
        (cli.scoring, "chart", "--snapshot", snapshot),
        (cli.scoring, "evidence", "--snapshot", snapshot),
    ]
    for main, *argv in commands:
        proc = cli.main(main, *argv) if main is report.main else main(*argv)
        assert proc.status != 0, (argv, proc.out)
        [line] = error_lines(proc.err)
        assert "YYYY-MM-DD" in line, line
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("osir.db")]
    assert not written, written
    crawlall = cli.scrapy(
        "crawlall", "--snapshot", snapshot, "--only",
        "huggingface_models", "--skip-scoring", "--jobs-dir", str(tmp_path / "jobs"),
        "--logs-dir", str(tmp_path / "logs"), "--reports-dir", str(tmp_path / "reports"),
        "-s", "HF_ENDPOINT=http://127.0.0.1:9", "-s", f"OSIR_ORGS={orgs_file(tmp_path, ['a'])}")
    assert crawlall.status != 0 and "YYYY-MM-DD" in crawlall.err
    assert not (tmp_path / "jobs").exists()


def test_the_one_snapshot_validator():
    from osir_crawl.snapshots import check_snapshot

    assert check_snapshot("2025-09-07") == "2025-09-07"
    for bad in ("", None, "../x", "2025-02-30", "20250907", "2025-W36-7", "2025-09-07/..",
                "２０２５-０９-０７"):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            check_snapshot(bad)


# --- 8. unbounded rejects, commas in Link URLs, ids of other owners -------------------------------
@async_test
async def test_a_huge_reject_is_capped_and_says_so(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 2}, datasets_per_account=0)
    data.models.append({"id": "acct-a/huge", "downloads": 0, "pipeline_tag": "p" * 3_000_000,
                        "tags": [f"t{i}" for i in range(200_000)]})
    db = tmp_path / "osir.db"
    with FakeHuggingFace(data) as hf:
        await crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"])})
    [reject] = rows(db, "SELECT * FROM rejects")
    assert len(reject["payload"]) <= 20_000  # store.MAX_PAYLOAD
    payload = json.loads(reject["payload"])
    assert payload["repo_id"] == "acct-a/huge" and payload["org"] == "Org-acct-a"
    assert "truncated" in payload["_truncated"] and "characters" in payload["_truncated"]


def test_link_header_urls_may_hold_commas():
    from osir_crawl.parsing import link_rels

    header = ('<https://h/api/models?author=a&expand[]=x,y&cursor=2>; rel="next", '
              '<https://h/api/models?author=a,b>; rel="last"; title="a, b; c", '
              '<https://h/p?q=1>; rel="prev start"')
    links = link_rels(header)
    assert links["next"] == "https://h/api/models?author=a&expand[]=x,y&cursor=2"
    assert links["last"] == "https://h/api/models?author=a,b"
    assert links["prev"] == links["start"] == "https://h/p?q=1"
    assert link_rels("") == {} and link_rels("garbage, <x>") == {}


@async_test
async def test_a_listing_whose_next_link_holds_a_comma_is_followed(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 12}, datasets_per_account=0)
    db = tmp_path / "osir.db"
    with FakeHuggingFace(data) as hf:
        # The next link of the first page carries a comma (in free text: the Hub refuses an
        # expand[] value such as "downloads,likes" that is not one of its properties).
        nxt = (f"{hf.url}/api/models?author=acct-a&limit=5&search=qwen,llama"
               "&cursor=5")
        hf.add_fault(match=["author=acct-a&", "limit=5"], headers={
            "Link": f'<{nxt}>; rel="next"'})
        await crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a"]),
            "HF_PAGE_SIZE": 5})
        assert any("qwen,llama" in s.path or "qwen%2Cllama" in s.path for s in hf.log)
    assert len(models(db)) == 12
    [row] = rows(db, "SELECT * FROM crawls")
    assert row["outcome"] == "finished"


@async_test
async def test_ids_not_of_the_listed_account_are_rejected(crawl, tmp_path):
    data = HubData.synthetic({"acct-a": 3, "acct-b": 2}, datasets_per_account=0)
    hostile = [{"id": "../../etc/passwd", "author": "acct-a", "downloads": 0},
               {"id": "other/name", "author": "acct-a", "downloads": 0},
               {"id": "acct-a/../../x", "author": "acct-a", "downloads": 0},
               {"id": "ACCT-A/cased", "author": "acct-a", "downloads": 0}]
    data.models.extend(hostile)
    db = tmp_path / "osir.db"

    class ListsHostile(FakeHuggingFace):
        def list_repos(self, kind, query, body):
            reply = super().list_repos(kind, query, body)
            if dict(query).get("author") == "acct-a":
                reply.body = reply.body + [r for r in hostile if r not in reply.body]
            return reply

    with ListsHostile(data) as hf:
        await crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-a", "acct-b"])})
    stored = models(db)
    rejected = {r["repo_id"]: r["reason"] for r in rows(db, "SELECT * FROM rejects")}
    assert "ACCT-A/cased" in stored  # the owner matches, whatever its case
    for bad in ("../../etc/passwd", "other/name", "acct-a/../../x"):
        assert bad not in stored and bad in rejected, rejected
    assert "not an account of Org-acct-a" in rejected["other/name"]
    assert {r["org"] for r in stored.values() if r["repo_id"].casefold().startswith("acct-a/")
            } == {"Org-acct-a"}
    assert all(r["org"] == "Org-acct-b" for k, r in stored.items() if k.startswith("acct-b/"))
