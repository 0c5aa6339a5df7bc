"""Readers during writes: plain sqlite3 and Datasette read the store in a loop while crawls write
it. No reader may see "database is locked", nor a snapshot whose latest finished crawl claims
more (or fewer) rows than the snapshot holds. The crawls and Datasette are processes of their
own: SQLite's locking between processes is what is tested."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from osir_crawl import store
from tests.conftest import ROOT, crawl_env
from tests.fakes.huggingface import FakeHuggingFace, HubData
from tests.test_resume import crawl_cmd

pytestmark = pytest.mark.slow

ACCOUNTS = {"acct-a": 900, "acct-b": 600}
SNAPSHOT = "2025-09-07"
CHECK = """
    SELECT c.crawl_id, c.items,
           (SELECT count(*) FROM models m WHERE m.snapshot = c.snapshot) AS held
    FROM crawls c
    WHERE c.snapshot = ? AND c.outcome = 'finished'
    ORDER BY c.finished_at DESC, c.rowid DESC LIMIT 1
"""


class Reader(threading.Thread):
    """Reads like an analyst would, in a loop, on its own connection, until stopped."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.stop, self.reads, self.errors, self.torn = db, False, 0, [], []

    def run(self):
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=0.05)
        while not self.stop:
            try:
                conn.execute("BEGIN")  # one read transaction: one consistent view
                latest = conn.execute(CHECK, [SNAPSHOT]).fetchone()
                conn.execute("SELECT org, sum(downloads) FROM models GROUP BY org").fetchall()
                conn.execute("COMMIT")
                self.reads += 1
                if latest and latest[1] != latest[2]:
                    self.torn.append(latest)
                time.sleep(0.002)  # the fake shares this process: leave it some GIL
            except sqlite3.OperationalError as exc:
                conn.rollback()
                self.errors.append(str(exc))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readers_never_see_locks_or_a_torn_snapshot(tmp_path):
    db = tmp_path / "osir.db"
    store.open_store(db).close()  # the schema exists before any reader starts
    data = HubData.synthetic(ACCOUNTS, datasets_per_account=0)
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text("".join(f"Org-{a}:\n  huggingface: [{a}]\n" for a in ACCOUNTS))
    port = free_port()
    datasette = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(db), "--host", "127.0.0.1", "--port",
         str(port), "--setting", "sql_time_limit_ms", "5000"],
        env=crawl_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    readers = [Reader(db) for _ in range(2)]
    web_errors, web_reads = [], 0
    try:
        with FakeHuggingFace(data) as fake:
            settings = {"HF_ENDPOINT": fake.url, "OSIR_ORGS": orgs, "OSIR_SNAPSHOT": SNAPSHOT,
                        "HF_PAGE_SIZE": 20, "OSIR_STORE_BATCH_SIZE": 25,
                        "OSIR_MIN_DOWNLOADS": 10**12}  # listing pages only: a fast crawl
            for reader in readers:
                reader.start()
            # Two crawls of the same snapshot; upstream deletes repos between them, so the
            # second one replaces rows and removes stale ones while readers look on.
            for round_ in range(2):
                if round_:
                    del data.models[100:400]
                crawl = subprocess.Popen(crawl_cmd(db, settings), cwd=ROOT, env=crawl_env(),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                while crawl.poll() is None:
                    try:
                        with urllib.request.urlopen(
                            f"http://127.0.0.1:{port}/osir.json?sql=select+count(*)+from+models"
                            "&_shape=array", timeout=10) as resp:
                            resp.read()
                        web_reads += 1
                    except OSError as exc:
                        web_errors.append(str(exc))
                        time.sleep(0.1)  # Datasette may still be starting
                    except Exception as exc:  # an HTTP error page: a real failure
                        web_errors.append(repr(exc))
                assert crawl.returncode == 0, crawl.stderr.read()[-3000:]
    finally:
        for reader in readers:
            reader.stop = True
        for reader in readers:
            reader.join(10)
        datasette.terminate()
        datasette.wait(10)

    for reader in readers:
        assert reader.reads > 50
        assert not reader.errors, reader.errors[:5]
        assert not reader.torn, reader.torn[:5]
    assert web_reads > 5
    assert not [e for e in web_errors if "locked" in e or "HTTP Error" in e], web_errors[:5]
    with sqlite3.connect(db) as conn:
        crawls = conn.execute("SELECT outcome, items FROM crawls ORDER BY rowid").fetchall()
    assert crawls == [("finished", 1500), ("finished", 1200)]
