"""Security: tokens stay with their platform and out of every record; requests go only to the
configured endpoints; configuration is loaded safely; hostile platform strings are stored
verbatim or rejected with a reason, never executed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import ROOT, async_test, crawl_env, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData
from tests.test_resume import crawl_cmd

HF_TOKEN = "hf_SECRETtokenAAAA1111"
GH_TOKEN = "ghp_SECRETtokenBBBB2222"
ACCOUNTS = {"acct-plain": 8, "acct-moved": 6, "acct-linked": 6, "acct-away": 4}


def orgs_file(tmp_path, accounts) -> os.PathLike:
    path = tmp_path / "orgs.yaml"
    path.write_text("".join(f"Org-{a}:\n  huggingface: [{a}]\n" for a in accounts))
    return path


def files_containing(root, secret: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.fixture
def two_hosts():
    """The Hugging Face fake, and a second host on another port standing for GitHub."""
    data = HubData.synthetic(ACCOUNTS, datasets_per_account=0)
    with FakeHuggingFace(data) as hf, FakeHuggingFace(data) as other:
        yield hf, other


@async_test
async def test_tokens_only_to_their_own_host_and_never_recorded(crawl, two_hosts, tmp_path):
    hf, other = two_hosts
    # A listing redirected to the other host (same address, other port: offsite filtering by
    # host name lets it through, so the token handling has to hold on its own), a Link to a
    # host name the spider does not know (offsite: not requested), and 503s so that retried
    # requests (already carrying a token) pass through the JOBDIR queue on disk.
    hf.add_fault(match="author=acct-moved&", status=302,
                 headers={"Location": f"{other.url}/api/models?author=acct-moved&limit=5"})
    hf.add_fault(match="author=acct-linked&", headers={
        "Link": f'<http://localhost:{other.server.server_address[1]}/api/models?x=1>; '
                'rel="next"'})
    hf.add_fault(match="author=acct-away&", status=302, headers={
        "Location": f"http://localhost:{other.server.server_address[1]}/api/models?y=1"})
    hf.add_fault(match="/discussions", status=503, times=4)
    jobdir = tmp_path / "job"
    settings = {"HF_ENDPOINT": hf.url, "GITHUB_API_URL": other.url, "HF_PAGE_SIZE": 5,
                "OSIR_ORGS": orgs_file(tmp_path, ACCOUNTS), "LOG_LEVEL": "DEBUG",
                "JOBDIR": jobdir, "OSIR_SNAPSHOT": "2025-09-07"}
    proc = await crawl("huggingface_models", tmp_path / "osir.db", settings,
                       env={"HF_TOKEN": HF_TOKEN, "GITHUB_TOKEN": GH_TOKEN}, check=False)
    assert proc.status == 1 and "osir-crawl:" in proc.line  # not finished: exit 1

    assert hf.log and all(s.headers.get("Authorization") == f"Bearer {HF_TOKEN}"
                          for s in hf.log)
    # The redirect was followed to the other port, without Hugging Face's token.
    assert other.log and all(s.path.startswith("/api/models?author=acct-moved&limit=5")
                             for s in other.log)
    assert all(HF_TOKEN not in s.headers.get("Authorization", "") for s in other.log)
    # A Link or a redirect to a host name the spider does not know: not requested, and the
    # pages lost that way are on record.
    failures = rows(tmp_path / "osir.db", "SELECT * FROM failures ORDER BY url")
    assert len(failures) == 2
    assert all(f["url"].startswith("http://localhost:") and "offsite" in f["reason"]
               for f in failures)

    # Never in logs, stats, the store, rejects, or the JOBDIR.
    for secret in (HF_TOKEN, GH_TOKEN):
        assert secret not in proc.out + proc.log
        assert not files_containing(tmp_path, secret), secret
    [row] = rows(tmp_path / "osir.db", "SELECT * FROM crawls")
    assert json.loads(row["stats"])["retry/count"] >= 4  # retried requests went through


@pytest.mark.slow
def test_token_not_left_in_a_killed_jobdir(two_hosts, tmp_path):
    hf, _ = two_hosts
    hf.add_fault(match="/api/models", status=503, window=60)  # every request retried, forever
    jobdir = tmp_path / "job"
    # One request at a time: retried copies (lower priority) wait in the queue on disk.
    settings = {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ACCOUNTS),
                "JOBDIR": jobdir, "RETRY_TIMES": 50, "OSIR_RETRY_BACKOFF_BASE": 0.1,
                "CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    proc = subprocess.Popen(crawl_cmd(tmp_path / "osir.db", settings), cwd=ROOT,
                            env=crawl_env(HF_TOKEN=HF_TOKEN), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(hf.log) < 9 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # retries scheduled, and a queue written, in the middle of the crawl
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(hf.log) >= 9
    assert not files_containing(tmp_path, HF_TOKEN)


@async_test
async def test_registry_with_a_python_tag_is_refused(crawl, two_hosts, tmp_path):
    hf, _ = two_hosts
    marker = tmp_path / "pwned"
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text(f"Evil: !!python/object/apply:os.system ['touch {marker}']\n")
    proc = await crawl("huggingface_models", tmp_path / "osir.db",
                       {"HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs}, check=False)
    assert proc.status != 0
    assert "not valid YAML" in proc.log and "python/object/apply" in proc.log
    assert "Traceback" not in proc.log  # a clear error, not a crash
    assert not marker.exists() and not hf.log


HOSTILE = [
    # SQL metacharacters and HTML: stored verbatim.
    ({"id": "acct-x/x'); DROP TABLE models;--", "downloads": 0, "likes": 1,
      "tags": ["<script>alert(1)</script>", "a\" OR \"1\"=\"1"],
      "pipeline_tag": "<img src=x onerror=alert(1)>"}, None),
    ({"id": "acct-x/名前-ünïcödé-🚀", "downloads": 0, "library_name": "'; --"}, None),
    # Too long: rejected with a reason.
    ({"id": "acct-x/long", "downloads": 0, "pipeline_tag": "a" * 50_000},
     "pipeline_tag is 50000 characters long"),
    # A NUL, and a lone surrogate (valid JSON, but no UTF-8 encoding): rejected.
    ({"id": "acct-x/nul", "downloads": 0, "library_name": "a\x00b"}, "contains a NUL"),
    ({"id": "acct-x/surrogate", "downloads": 0, "library_name": "\ud800"},
     "library is not valid Unicode"),
    # An integer SQLite cannot hold: rejected, not the whole batch lost with it.
    ({"id": "acct-x/huge", "downloads": 0, "likes": 10**20}, "likes is 100000000000000000000"),
]


@async_test
async def test_hostile_strings_are_stored_verbatim_or_rejected(crawl, tmp_path):
    data = HubData.synthetic({"acct-x": 3}, datasets_per_account=0)
    data.models.extend(row for row, _ in HOSTILE)
    db = tmp_path / "osir.db"
    with FakeHuggingFace(data) as hf:
        # Bytes that are not UTF-8 at all, in a page of their own.
        hf.add_fault(match="author=acct-y&", status=200,
                     body=b'[{"id": "acct-y/caf\xe9", "downloads": 0}]')
        await crawl("huggingface_models", db, {
            "HF_ENDPOINT": hf.url, "OSIR_ORGS": orgs_file(tmp_path, ["acct-x", "acct-y"])})
    stored = {r["repo_id"]: r for r in rows(db, "SELECT * FROM models")}
    rejects = {r["repo_id"]: r["reason"] for r in rows(db, "SELECT * FROM rejects")}
    for row, reason in HOSTILE:
        if reason is None:
            got = stored[row["id"]]
            assert got["name"] == row["id"].split("/", 1)[1]
            assert json.loads(got["tags"]) == row.get("tags", [])
            assert got["pipeline_tag"] == row.get("pipeline_tag")
            assert got["library"] == row.get("library_name")
        else:
            assert row["id"] not in stored and reason in rejects[row["id"]], rejects
    assert len(rows(db, "SELECT * FROM models WHERE repo_id LIKE 'acct-x/model-%'")) == 3
    # Latin-1 where UTF-8 was due: decoded (Scrapy falls back to the body's encoding), stored
    # as text, never as raw bytes.
    assert "acct-y/caf\u00e9" in stored
    [row] = rows(db, "SELECT * FROM crawls")
    assert row["outcome"] == "finished"
    assert row["rejected"] == len(rejects) == sum(1 for _, reason in HOSTILE if reason)
    assert row["items"] == len(stored)
