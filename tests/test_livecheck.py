"""``scrapy crawlall --check``: one live request per platform, read offline against the fakes."""

from __future__ import annotations

import json
import os
import socket

import pytest

from scrapy.settings import Settings

from osir_crawl.ops.livecheck import first_row, inspect, spider_checks
from tests.inprocess import CliResult, run_main, scrapy_main
from tests.fakes.base import FixedWindow
from tests.fakes.forges import FakeForge, ForgeData
from tests.fakes.huggingface import FakeHuggingFace, HubData
from tests.spider_fixtures import PROJECT, fixture, sidecar

SPIDER_CHECKS = spider_checks(Settings(PROJECT))
CHECKS = [c for _, c in SPIDER_CHECKS if c is not None]

ENDPOINTS = [c.endpoint_setting for c in CHECKS]
CHECK = {c.platform: c for c in CHECKS}


def check(env: dict) -> CliResult:
    """``scrapy crawlall --check`` in process, under ``env`` (and no token of the test's)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.endswith("_TOKEN")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, str(value))
        return run_main(scrapy_main, ["crawlall", "--check"])


def lines(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.splitlines()[2:] if line.strip()}


def closed_port() -> str:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.slow  # every fake platform at once
def test_every_fake_platform_passes_the_check():
    from tests.fakes.all import start_all
    servers, env = start_all()
    try:
        proc = check(env)
    finally:
        for server in servers:
            server.stop()
    assert proc.status == 0, proc.out + proc.err
    table = lines(proc.out)
    assert set(CHECK) <= set(table)
    for platform, line in table.items():
        if platform in CHECK:  # an answer-only check (a bucket's root) may be any answer
            answer = "yes (HTTP " if CHECK[platform].answer_only else "yes (HTTP 200)"
            assert answer in line and "MISSING" not in line, line
    # What the fakes send beyond what the spiders read is named, per platform.
    assert "fields the answer carried that the spider does not read:" in proc.out
    assert "token accepted" in table["gitcode"]
    assert f"{len(CHECKS)} of {len(CHECKS)} platforms ready" in proc.out
    assert env["GITCODE_TOKEN"] not in proc.out + proc.err


def test_refusals_missing_fields_limits_and_dead_hosts_are_told_apart():
    hub = HubData.synthetic({"BAAI": 3}, datasets_per_account=0)
    gitcode = ForgeData.synthetic("gitcode", {"mindspore": 2})
    dead = closed_port()
    with FakeHuggingFace(hub, rate_limit=FixedWindow(100, 300)) as hf, \
            FakeForge("gitcode", gitcode, token="right") as gc, \
            FakeForge("github", ForgeData.synthetic("github", {"FlagOpen": 2}),
                      rate_limit=FixedWindow(60, 3600, style="github")) as gh, \
            FakeForge("gitee", ForgeData.synthetic("gitee", {"paddlepaddle": 2})) as ge:
        # The listing lost fields the spider reads (an API change).
        ge.add_fault(match="/orgs/paddlepaddle/repos", status=200, times=9,
                     body=[{"full_name": "paddlepaddle/x", "html_url": "https://gitee.com/x"}])
        env = {setting: dead for setting in ENDPOINTS}
        env.update(HF_ENDPOINT=hf.url, GITCODE_API_URL=gc.api_url, GITHUB_API_URL=gh.url,
                   GITEE_API_URL=ge.api_url, HF_TOKEN="hf_check_token", GITCODE_TOKEN="wrong")
        proc = check(env)
        seen = [s.path for s in gc.log]
    assert proc.status == 1
    table = lines(proc.out)
    assert "token accepted" in table["huggingface"] and "MISSING" not in table["huggingface"]
    # the IETF header, as served (the datasets listing was asked first: r=99)
    assert 'ratelimit: "api";r=98;t=' in table["huggingface"]
    assert "HTTP 401" in table["gitcode"] and "token refused" in table["gitcode"]
    assert seen == ["/api/v5/orgs/mindspore/repos?type=public&page=1&per_page=1"
                    "&access_token=wrong"]  # the documented query parameter
    assert "MISSING stargazers_count" in table["gitee"]
    assert "all 10 present" in table["github"] and "x-ratelimit-remaining: 59" in table["github"]
    assert "no (connection refused" in table["modelscope"]  # reachability's causes
    assert "wrong" not in proc.out and "hf_check_token" not in proc.out
    assert "platforms ready; check " in proc.out


def test_inspect_reads_what_an_answer_says():
    hf = CHECK["huggingface"]
    row = {"id": "BAAI/x", "downloads": 1, "downloadsAllTime": 2, "likes": 0, "tags": [],
           "createdAt": "t", "lastModified": "t"}
    found = inspect(hf, 200, {"RateLimit": '"api";r=4;t=9'}, json.dumps([row]).encode(), False)
    assert found["auth"] == "anonymous" and not found["missing"]
    assert found["absent"] == ["pipeline_tag", "library_name", "safetensors", "config"]
    assert found["rate_limit"] == {"ratelimit": '"api";r=4;t=9'}
    assert inspect(hf, 401, {}, b"{}", True)["auth"] == "token refused"
    assert inspect(hf, 401, {}, b"{}", False)["auth"] == "refused (no token)"
    # GitHub's primary rate limit is a 403 too: not a refused token.
    limited = inspect(CHECK["github"], 403, {"X-RateLimit-Remaining": "0"}, b"{}", True)
    assert limited["auth"] == "token accepted"
    assert inspect(hf, 200, {}, b"[]", False)["no_rows"]
    assert first_row(b'{"results": {"A": {"META": {}}}}', ("results", "*")) == {"META": {}}
    assert first_row(b"<html>", ("data", "list")) is None


def test_a_redirect_is_named_not_read():
    found = inspect(CHECK["modelscope"], 302, {"Location": "https://www.modelscope.cn/x"},
                    b"", False)
    assert found["redirect"] == "https://www.modelscope.cn/x" and not found["missing"]


def test_every_spider_crawlall_runs_asks_each_of_its_hosts():
    """The checks come from the spiders: each one crawlall runs declares one for every host
    setting it reads (helm's bucket and OpenCompass's fallback page included)."""
    from scrapy.spiderloader import SpiderLoader

    from osir_crawl.spiders import monthly_spiders

    names = set(monthly_spiders(SpiderLoader.from_settings(Settings(PROJECT))))
    assert "legacy_import" not in names
    assert {s for s, c in SPIDER_CHECKS if c is not None} == names  # none without a check
    assert {"helm", "lmarena", "open_asr_leaderboard"} <= names
    settings = {c.endpoint_setting for c in CHECKS}
    assert {"HELM_URL", "HELM_STORAGE_URL", "HF_DATASETS_SERVER_URL", "OPENCOMPASS_URL",
            "OPENCOMPASS_LLM_URL", "GITHUB_API_URL"} <= settings
    assert len({c.platform for c in CHECKS}) == len(CHECKS)  # one line each


def test_fields_sent_but_not_read_are_named():
    """The recorded repository answer as a listing row: GitHub sends ~80 fields; the table
    names those the spider does not read (watchers_count is the star count, not read)."""
    github = CHECK["github"]
    row = json.loads(fixture("github_repos/repo-hello-world.json"))
    meta = sidecar("github_repos/repo-hello-world")
    found = inspect(github, 200, meta["headers"], json.dumps([row]).encode(), True)
    assert not found["missing"] and found["auth"] == "token accepted"
    assert {"watchers_count", "subscribers_count", "visibility", "topics"} & set(
        found["unread"]) >= {"watchers_count", "subscribers_count", "visibility"}
    assert not set(github.fields) & set(found["unread"])
    assert found["rate_limit"]["x-ratelimit-remaining"] == "4962"
    # Boards whose every column is a score name nothing; a CSV's header is its row.
    asr = CHECK["open_asr_leaderboard"]
    csv_found = inspect(asr, 200, {}, fixture("open_asr_leaderboard/en_shortform.csv"), True)
    assert csv_found["present"] == list(asr.fields) and csv_found["unread"] == []
    tfds = CHECK["official_tfds"]
    assert first_row(fixture("official_datasets/_toc.yaml"), tfds.rows, "yaml") == {
        "path": "/datasets/catalog/overview", "title": "Overview"}


def test_a_secondary_limit_is_not_a_refused_token():
    meta = sidecar("github_repos/secondary-limit-403")
    found = inspect(CHECK["github"], 403, meta["headers"],
                    fixture("github_repos/secondary-limit-403.json"), True)
    assert found["auth"] == "token accepted"
