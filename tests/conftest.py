"""Shared fixtures: the network guard, the in-process crawl and CLIs (tests/inprocess.py), a
real ``scrapy crawl`` process for the process boundary, store access, the published data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NETGUARD = ROOT / "tests" / "netguard"
sys.path.insert(0, str(NETGUARD))
import sitecustomize  # noqa: E402,F401  -- the guard, in this process too

from osir_crawl.inputs.published import PUBLISHED_DIR as ANCHORS  # noqa: E402
from tests.inprocess import (  # noqa: E402,F401  -- FAST, async_test, crawl_and_wait: for
    FAST, async_test, crawl_and_wait, crawl_in_process, no_log_handlers_left, run_main,  # tests
    scrapy_main)


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto`` (pytest.ini): two workers per core, at most 8. About half of a worker's time
    is spent waiting (timeouts, rate-limit windows, pages that never settle, subprocesses),
    and a second worker per core fills it."""
    return min(8, 2 * len(os.sched_getaffinity(0)))


@pytest.fixture(autouse=True)
def netguard(tmp_path_factory, monkeypatch):
    """Fail the test if anything (here or in a subprocess) tried a non-loopback address."""
    log = tmp_path_factory.mktemp("netguard") / "attempts.log"
    log.touch()
    monkeypatch.setenv("OSIR_NETGUARD_LOG", str(log))
    yield
    attempts = log.read_text()
    assert not attempts, f"a test tried to reach a non-loopback host:\n{attempts}"


@pytest.fixture(autouse=True)
def quick_engine_heartbeat(monkeypatch):
    """The engine looks for work every 5 s when idle; 0.1 s in the tests, as in Scrapy's own
    (conftest.py there): otherwise a crawl waits seconds on its last, already finished, page."""
    from scrapy.core.engine import ExecutionEngine

    monkeypatch.setattr(ExecutionEngine, "_SLOT_HEARTBEAT_INTERVAL", 0.1)


@pytest.fixture(autouse=True)
def no_leftover_crawl():
    """A crawl left running (not awaited) keeps logging and counting into later tests."""
    yield
    left = no_log_handlers_left()
    if left:
        from scrapy.extensions.logcount import LogCounterHandler
        import logging

        for handler in [h for h in logging.getLogger().handlers
                        if isinstance(h, LogCounterHandler)]:
            logging.getLogger().removeHandler(handler)  # the next test starts clean
    assert not left, f"a crawl was left running: {left}"


@pytest.fixture
def crawl(tmp_path, capsys):
    """``scrapy crawl`` in this process, awaited by an ``@async_test`` test::

        result = await crawl("huggingface_models", db, {"HF_ENDPOINT": fake.url},
                             args={"orgs": "BAAI"}, env={...})

    ``spider``: a name (through the project's spider loader) or a class; ``settings``: ``-s``;
    ``args``: ``-a``; ``env``: the environment the command would start with (the settings'
    defaults read it; platform tokens are never inherited from the test's); ``check``: fail
    unless it exits 0. Returns a :class:`tests.inprocess.CrawlResult`: crawler, stats, store,
    outcome, exit status, log."""
    crawlers = []

    async def run(spider, db: Path | None = None, settings: dict | None = None,
                  args: dict | None = None, env: dict | None = None, check: bool = True):
        capsys.readouterr()  # what came before is not this crawl's
        result = await crawl_in_process(spider, db or tmp_path / "osir.db", settings, args,
                                        env, crawlers)
        result.out, printed = capsys.readouterr()  # what it printed, beside its log
        result.log = printed + result.log
        if check and result.status != 0:
            raise AssertionError(f"crawl failed ({result.status}):\n{result.log[-6000:]}")
        return result

    yield run
    assert not [c for c in crawlers if c.crawling], "a crawl was not awaited"


class Cli:
    """The project's command lines in this process: ``main(argv)``, its output captured."""

    @staticmethod
    def main(main, *argv):
        """``python -m <module> argv…`` of a module whose ``main(argv)`` returns the status."""
        return run_main(main, argv)

    def scoring(self, *argv):
        """``python -m scoring argv…``"""
        from scoring.cli import main

        return self.main(main, *argv)

    def scrapy(self, *argv):
        """``scrapy argv…`` for a command that starts no crawl (settings, merge, …)."""
        return self.main(scrapy_main, *argv)


@pytest.fixture
def cli() -> Cli:
    return Cli()


def crawl_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env["PYTHONPATH"] = os.pathsep.join([str(NETGUARD), str(ROOT), env.get("PYTHONPATH", "")])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_crawl(spider: str, db: Path, settings: dict | None = None, args: dict | None = None,
              env: dict | None = None, timeout: float = 240, check: bool = True):
    """``python -m scrapy crawl`` in a process of its own, as a user starts it: only for what
    lives at the process boundary (signals, locks across processes; mark the test ``slow``).
    Anything else: the ``crawl`` fixture."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"OSIR_DB={db}"]
    for key, value in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in (args or {}).items():
        cmd += ["-a", f"{key}={value}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(**(env or {})), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"crawl failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    return proc


def rows(db: Path, sql: str, params=()) -> list[dict]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


@pytest.fixture
def anchors() -> Path:
    """The published OSIR-LMTS data: part of the repository, so missing means a broken copy."""
    assert (ANCHORS / "months").is_dir(), f"published OSIR-LMTS data not found at {ANCHORS}"
    return ANCHORS


# --- a store two months deep, crawled by crawlall and scored (Datasette and chart tests) ------
SCORED_SNAPSHOTS = ("2031-04-07", "2031-05-07")


@pytest.fixture(scope="session")
def scored_store(tmp_path_factory) -> Path:
    """``scrapy crawlall`` (a process, as a user starts it) of the Hugging Face and GitHub
    fakes for two snapshots (ranks move between them), then ``python -m scoring build`` of
    each (in this process). The second crawl sees invalid rows
    (-> rejects) and two failing requests (-> failures, so crawlall exits 1). Scoring is run by
    hand after each crawl, as an operator would (crawlall's own scoring step is proven in
    tests/test_crawlall.py)."""
    from scoring.cli import main as scoring_main
    from tests.fakes.forges import FakeForge, ForgeData
    from tests.fakes.huggingface import FakeHuggingFace, HubData

    tmp = tmp_path_factory.mktemp("scored")
    db, guard = tmp / "osir.db", tmp / "netguard.log"
    months = [{"BAAI": 30, "FlagRelease": 4, "Qwen": 6, "deepseek-ai": 10},
              {"BAAI": 8, "FlagRelease": 2, "Qwen": 30, "deepseek-ai": 18}]
    forge = ForgeData.synthetic("github", {"FlagOpen": 5, "baaivision": 2, "QwenLM": 4,
                                           "alibaba": 0, "modelscope": 1, "deepseek-ai": 3})
    for i, (snapshot, accounts) in enumerate(zip(SCORED_SNAPSHOTS, months)):
        hub = HubData.synthetic(accounts, datasets_per_account=3, seed=i)
        if i:
            hub.models.append({"_id": "x", "id": "BAAI/negative", "downloads": -5, "likes": 1})
        with FakeHuggingFace(hub) as hf, FakeForge("github", forge) as gh:
            if i:
                hf.add_fault(match="/api/models/BAAI/", status=404, times=2)  # detail requests
            cmd = [sys.executable, "-m", "scrapy", "crawlall", "--snapshot", snapshot,
                   "--only", "huggingface_models,huggingface_datasets,github_repos",
                   "-a", "orgs=BAAI,Ali,Deepseek", "--jobs-dir", str(tmp / "jobs"),
                   "--logs-dir", str(tmp / "logs"), "--reports-dir", str(tmp / "reports"),
                   "--rankings-dir", str(tmp / "rankings"), "--skip-scoring",
                   "-s", f"OSIR_DB={db}"]
            for key, value in FAST.items():
                cmd += ["-s", f"{key}={value}"]
            env = crawl_env(HF_ENDPOINT=hf.url, GITHUB_API_URL=gh.url, OSIR_NETGUARD_LOG=guard)
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=300)
        assert proc.returncode == (1 if i else 0), proc.stdout + proc.stderr
        build = run_main(scoring_main, ["build", "--snapshot", snapshot, "--db", db,
                                        "--out", tmp / "rankings" / snapshot, "-q",
                                        *(["--allow-incomplete"] if i else [])])  # failures
        assert build.status == 0, build.err
    assert not guard.exists() or not guard.read_text(), guard.read_text()
    return db
