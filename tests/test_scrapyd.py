"""A real scrapyd on loopback: deploy the project with scrapyd-deploy (the ``env`` target of
scrapy.cfg), schedule ``huggingface_models`` against the loopback fake with an absolute store
and registry, poll until it finishes, check the store."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, crawl_env, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData

pytestmark = pytest.mark.slow

ACCOUNTS = {"BAAI": 12, "Qwen": 7, "deepseek-ai": 3}
SNAPSHOT = "2031-03-07"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_scrapyd(home: Path, **env):
    """A scrapyd with its eggs, logs and dbs in ``home`` and ``env`` (a node's tokens) in its
    environment: (url, home); stopped on exit."""
    port = free_port()
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\n"
        "items_dir =\npoll_interval = 0.2\nmax_proc = 2\n")
    log = open(home / "scrapyd.out", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd", "--nodaemon", "--pidfile="],
                            cwd=home, env=crawl_env(**env),
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "daemonstatus.json", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (home / "scrapyd.out").read_text()
            assert time.monotonic() < deadline, "scrapyd did not start"
            time.sleep(0.2)
        yield url, home
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture
def scrapyd(tmp_path):
    """A scrapyd with its eggs, logs and dbs in a temp dir; stopped after the test."""
    with running_scrapyd(tmp_path / "scrapyd") as node:
        yield node


def deploy(url: str, tmp: Path) -> dict:
    """scrapyd-deploy from a copy of the project (its egg build writes build/ and egg-info)."""
    project = tmp / "project"
    project.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(project / "osir_crawl", ignore_errors=True)
    shutil.copytree(ROOT / "osir_crawl", project / "osir_crawl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("scrapy.cfg", "setup.py"):
        shutil.copy(ROOT / name, project / name)
    proc = subprocess.run(["scrapyd-deploy", "env", "-v", "r1"], cwd=project,
                          env=crawl_env(SCRAPYD_URL=url), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"status": "ok"' in proc.stdout, proc.stdout + proc.stderr
    return requests.get(url + "listspiders.json", params={"project": "osir_crawl"}).json()


def test_deploy_schedule_and_crawl_under_scrapyd(scrapyd, tmp_path):
    url, home = scrapyd
    spiders = deploy(url, tmp_path)
    assert spiders["status"] == "ok", spiders
    assert {"huggingface_models", "huggingface_datasets"} <= set(spiders["spiders"])

    db = tmp_path / "store" / "osir.db"  # absolute: scrapyd runs jobs in its own directory
    with FakeHuggingFace(HubData.synthetic(ACCOUNTS, datasets_per_account=1)) as fake:
        job = requests.post(url + "schedule.json", data=[
            ("project", "osir_crawl"), ("spider", "huggingface_models"),
            ("setting", f"HF_ENDPOINT={fake.url}"), ("setting", f"OSIR_DB={db}"),
            ("setting", f"OSIR_ORGS={ROOT / 'data' / 'orgs.yaml'}"),
            ("setting", f"OSIR_SNAPSHOT={SNAPSHOT}"), ("setting", "AUTOTHROTTLE_ENABLED=False"),
            ("orgs", "BAAI,Ali,Deepseek"),  # a spider argument, as scrapy crawl -a
        ]).json()
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 120
        while True:
            jobs = requests.get(url + "listjobs.json", params={"project": "osir_crawl"}).json()
            if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(0.3)

    log = next((home / "logs" / "osir_crawl" / "huggingface_models").glob("*.log")).read_text()
    stored = rows(db, "SELECT repo_id, org, snapshot FROM models ORDER BY repo_id")
    assert len(stored) == sum(ACCOUNTS.values()), log[-3000:]
    assert {r["snapshot"] for r in stored} == {SNAPSHOT}
    assert {r["org"] for r in stored} == {"BAAI", "Ali", "Deepseek"}
    crawls = rows(db, "SELECT spider, outcome, items, orgs FROM crawls")
    assert crawls == [{"spider": "huggingface_models", "outcome": "finished",
                       "items": sum(ACCOUNTS.values()), "orgs": '["BAAI", "Ali", "Deepseek"]'}]
    assert fake.log and all(s.path.startswith("/api/models") for s in fake.log)
