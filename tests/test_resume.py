"""Kill and resume: a crawl killed with SIGKILL mid-way and resumed with the same JOBDIR ends
with a store identical, row for row, to an uninterrupted crawl's (see osir_crawl/extensions/resume.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import FAST, ROOT, async_test, crawl_env, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData

pytestmark = pytest.mark.slow

ACCOUNTS = {"acct-a": 70, "acct-b": 50, "acct-c": 60}
INVALID = [{"_id": "i1", "id": "acct-a/negative", "downloads": -1},
           {"_id": "i2", "id": "acct-b/wordy", "likes": "many"}]
VOLATILE = {"crawl_id", "fetched_at", "id", "rejected_at", "failed_at"}
SETTINGS = {"HF_PAGE_SIZE": 10, "OSIR_SNAPSHOT": "2025-09-07", "OSIR_STORE_BATCH_SIZE": 3,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "RETRY_TIMES": 1}


@pytest.fixture
def fake(tmp_path):
    data = HubData.synthetic(ACCOUNTS, datasets_per_account=0)
    data.models[5:5] = INVALID[:1]
    data.models[90:90] = INVALID[1:]
    with FakeHuggingFace(data) as server:
        popular = [m["id"] for m in data.models if m.get("downloads", 0) >= 50]
        # One detail that always fails: a failure row each run must reproduce.
        server.add_fault(match=f"/api/models/{popular[40]}/discussions", status=500, times=10**6)
        server.add_fault(match="/api/models", delay=0.01, window=10**6)  # time to be killed in
        yield server


def snapshot_of(db) -> dict[str, list]:
    """Every store table that holds crawl results, without ids and timestamps."""
    out = {}
    for table in ("models", "rejects", "failures"):
        found = [{k: v for k, v in r.items() if k not in VOLATILE}
                 for r in rows(db, f"SELECT * FROM {table}")]
        out[table] = sorted(json.dumps(r, sort_keys=True) for r in found)
    return out


def crawl_cmd(db, settings: dict) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "huggingface_models", "-s", f"OSIR_DB={db}"]
    for key, value in {**FAST, **settings}.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


@async_test
async def test_killed_crawl_resumes_to_the_same_store(crawl, fake, tmp_path):
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text("".join(f"Org-{a}:\n  huggingface: [{a}]\n" for a in ACCOUNTS))
    settings = {**SETTINGS, "HF_ENDPOINT": fake.url, "OSIR_ORGS": orgs}

    reference = tmp_path / "reference.db"
    unfinished = await crawl("huggingface_models", reference, settings, check=False)
    assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    full_requests = len(fake.log)

    # Kill a JOBDIR crawl, a process of its own, once it is well under way.
    db, jobdir = tmp_path / "osir.db", tmp_path / "job"
    killed_settings = {**settings, "JOBDIR": jobdir}
    before = len(fake.log)
    proc = subprocess.Popen(crawl_cmd(db, killed_settings), cwd=ROOT, env=crawl_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(fake.log) - before < full_requests // 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    stored = rows(db, "SELECT count(*) n FROM models")[0]["n"]
    expected = len(rows(reference, "SELECT * FROM models"))
    assert 0 < stored < expected, "the kill should land mid-way"
    assert (jobdir / "osir-running.json").exists()  # the marker of a run that did not close

    # The real resume: same JOBDIR, same store (here, in this process).
    before = len(fake.log)
    resumed = await crawl("huggingface_models", db, killed_settings, check=False)
    assert resumed.status == 1 and "osir-crawl:" in resumed.line  # not finished: exit 1
    resumed_requests = len(fake.log) - before
    assert snapshot_of(db) == snapshot_of(reference)
    [ref_crawl] = rows(reference, "SELECT * FROM crawls")
    [row] = rows(db, "SELECT * FROM crawls")  # one crawl, its id kept across the kill
    for column in ("outcome", "items", "rejected", "failed_requests", "stale_removed"):
        assert row[column] == ref_crawl[column], column
    assert row["outcome"] == "incomplete"  # the detail that always fails
    assert resumed.crawl_id == row["crawl_id"]
    stats = json.loads(row["stats"])
    assert stats["osir/resume/kept_rows"] > 0
    assert resumed_requests < full_requests  # finished repos were not fetched again
    assert not (jobdir / "osir-running.json").exists()
    assert "Traceback" not in resumed.log
