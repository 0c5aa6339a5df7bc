"""Shared fixtures: the network guard, crawl runner, store access, the published data."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NETGUARD = ROOT / "tests" / "netguard"
sys.path.insert(0, str(NETGUARD))
import sitecustomize  # noqa: E402,F401  -- the guard, in this process too


if "PYTEST_XDIST_WORKER" not in os.environ:  # once, in the process that starts the workers
    # The project's own bytecode, written once (beside the sources, as Python does; gitignored):
    # under PYTHONDONTWRITEBYTECODE every one of the suite's few hundred crawl processes would
    # compile osir_crawl and scoring again. Reading bytecode is allowed under that setting.
    import compileall

    for package in ("osir_crawl", "scoring", "tests"):
        compileall.compile_dir(ROOT / package, quiet=2)

from osir_crawl.published import PUBLISHED_DIR as ANCHORS  # noqa: E402
from tests import prewarmed  # noqa: E402
from tests.inprocess import (  # noqa: E402,F401  -- FAST, async_test: for the test modules
    FAST, async_test, no_log_handlers_left, run_crawl_in_process, run_main, scrapy_main)


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto`` (pytest.ini): two workers per core, at most 8. About half of a worker's time
    is spent waiting (timeouts, rate-limit windows, pages that never settle, subprocesses),
    and a second worker per core fills it."""
    return min(8, 2 * len(os.sched_getaffinity(0)))


# The long poles, slowest first, in seconds measured on 2 busy cores (``--durations``): xdist
# hands work out in collection order, so these start at once instead of ending the run late.
# A group (xdist_group) counts as one piece of work: its tests run on one worker, in a row.
LONG_POLES = {
    "group:replay": 38, "group:scored_store": 31, "group:crawlall_reference": 26,
    "test_modelscope.py::test_community_counts_from_the_repo_pages": 20,
    "test_site_browser.py::": 30,
    "test_sharding.py::test_two_scrapyd_nodes": 15,
    "test_faults.py::test_fixed_window_budget_is_used_without_429s": 13,
    "test_opendatalab.py::test_listing_json_captured_in_chromium": 11,
    "test_leaderboards.py::test_opencompass_llm_with_no_board": 10, "group:rebuilt": 10,
    "test_forges.py::test_gitcode_token_is_in_the_url_only_on_the_wire": 9,
    "test_forges.py::test_github_pages_contributors": 8,
    "test_opendatalab.py::test_fewer_datasets_than_announced": 8,
    "test_concurrent_readers.py::test_readers_never_see_locks": 7,
    "test_opendatalab.py::test_rendered_cards": 7,
    "test_huggingface.py::test_models_every_valid_repo_once": 7,
    "test_baai.py::test_browser_fallback_on_every_form_of_refusal": 6,
    "test_faults.py::test_recoverable_faults": 6, "test_resume.py::": 6,
    "test_modelscope.py::test_models_every_valid_repo_once": 6,
    "test_shards.py::test_every_spider_splits": 6,
}


def pytest_collection_modifyitems(items):
    """Longest work first (pytest.ini turns off xdist's own order, by tests per group)."""
    def cost(item) -> float:
        group = item.get_closest_marker("xdist_group")
        if group:
            return LONG_POLES.get(f"group:{group.args[0]}", 0)
        name = item.nodeid.removeprefix("tests/")
        return max((s for pole, s in LONG_POLES.items() if name.startswith(pole)), default=0)

    items.sort(key=cost, reverse=True)  # stable: the rest keep their order


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
def crawl(tmp_path, caplog, monkeypatch):
    """``scrapy crawl`` in this process, awaited by an ``@async_test`` test::

        result = await crawl("huggingface_models", db, {"HF_ENDPOINT": fake.url},
                             args={"orgs": "BAAI"}, env={...})

    ``spider``: a name (through the project's spider loader) or a class; ``settings``: ``-s``;
    ``args``: ``-a``; ``env``: the environment the command would start with (the settings'
    defaults read it; platform tokens are never inherited from the test's). Returns a
    :class:`tests.inprocess.CrawlResult`: crawler, stats, store, outcome, exit status, log."""
    crawlers = []

    async def run(spider, db: Path | None = None, settings: dict | None = None,
                  args: dict | None = None, env: dict | None = None):
        for name in [n for n in os.environ if n.endswith("_TOKEN")]:
            monkeypatch.delenv(name)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, str(value))
        return await run_crawl_in_process(
            spider, db or tmp_path / "osir.db",
            {k: str(v) for k, v in (settings or {}).items()},  # as ``-s`` gives them
            {k: str(v) for k, v in (args or {}).items()},  # as ``-a`` gives them
            caplog, crawlers)

    yield run
    assert not [c for c in crawlers if c.crawling], "a crawl was not awaited"


class Cli:
    """The project's command lines in this process (``main(argv)``), output from ``capsys``."""

    def __init__(self, capsys):
        self.capsys = capsys

    def main(self, main, *argv):
        """``python -m <module> argv…`` of a module whose ``main(argv)`` returns the status."""
        return run_main(main, [str(a) for a in argv], self.capsys)

    def scoring(self, *argv):
        """``python -m scoring argv…``"""
        from scoring.cli import main

        return self.main(main, *argv)

    def scrapy(self, *argv):
        """``scrapy argv…`` for a command that starts no crawl (settings, merge, …)."""
        return self.main(scrapy_main, *argv)


@pytest.fixture
def cli(capsys) -> Cli:
    return Cli(capsys)


def crawl_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env["PYTHONPATH"] = os.pathsep.join([str(NETGUARD), str(ROOT), env.get("PYTHONPATH", "")])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_crawl(spider: str, db: Path, settings: dict | None = None, args: dict | None = None,
              env: dict | None = None, timeout: float = 240, check: bool = True):
    """Run ``scrapy crawl`` for real, in a subprocess, against loopback fakes."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"OSIR_DB={db}"]
    for key, value in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in (args or {}).items():
        cmd += ["-a", f"{key}={value}"]
    proc = prewarmed.run(cmd, cwd=ROOT, env=crawl_env(**(env or {})), capture_output=True,
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
    """``scrapy crawlall`` of the Hugging Face and GitHub fakes for two snapshots (ranks move
    between them), then ``python -m scoring build`` of each. The second crawl sees invalid rows
    (-> rejects) and two failing requests (-> failures, so crawlall exits 1). Scoring is run by
    hand after each crawl, as an operator would (crawlall's own scoring step is proven in
    tests/test_crawlall.py)."""
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
            proc = prewarmed.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=300)
        assert proc.returncode == (1 if i else 0), proc.stdout + proc.stderr
        build = prewarmed.run(
            [sys.executable, "-m", "scoring", "build", "--snapshot", snapshot, "--db", str(db),
             "--out", str(tmp / "rankings" / snapshot), "-q"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert build.returncode == 0, build.stderr
    assert not guard.exists() or not guard.read_text(), guard.read_text()
    return db
