"""Unreachable platforms fail fast and say why: the probe names the cause, ``scrapy crawl``
stops after a few connection failures with the cause as its last line and exit 1, and
``scrapy crawlall`` does not start spiders whose host cannot be reached. The hosts: a closed
loopback port (connection refused) and names under ``.invalid`` (RFC 6761: never resolve; the
test network guard answers them as a resolver must, without asking one)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from osir_crawl.middlewares import failure_causes as causes
from osir_crawl.ops import reachability as r
from osir_crawl.ops.progress import Progress, SpiderRun
from tests.conftest import FAST, ROOT, async_test, crawl_env, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData

UNRESOLVABLE = "https://api.osir-test.invalid"


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RawServer:
    """A loopback TCP server that reads a request and then either answers bytes that are not
    TLS (an https client's handshake fails) or says nothing (the client times out)."""

    def __init__(self, reply: bytes | None):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            conn.recv(1024)
            if self.reply is not None:
                conn.sendall(self.reply)

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent():
    server = RawServer(None)
    yield server
    server.close()


def endpoint(url, setting="HF_ENDPOINT"):
    return r.Endpoint("huggingface", setting, url)


# --- the probe ----------------------------------------------------------------------------------
def test_probe_names_each_cause(silent):
    plain = RawServer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    try:
        refused = r.probe(endpoint(f"http://127.0.0.1:{closed_port()}"))
        unresolved = r.probe(endpoint(f"{UNRESOLVABLE}/api/v5", "GITHUB_API_URL"))
        tls = r.probe(endpoint(f"https://127.0.0.1:{plain.port}"))
        answered = r.probe(endpoint(f"http://127.0.0.1:{plain.port}"))
        quiet = r.probe(endpoint(f"http://127.0.0.1:{silent.port}"), timeout=0.5)
        bad = r.probe(endpoint("huggingface.co"))
    finally:
        plain.close()
    assert (refused.reachable, refused.cause) == (False, causes.REFUSED)
    assert (unresolved.reachable, unresolved.cause) == (False, causes.DNS)
    assert unresolved.line().startswith(
        "api.osir-test.invalid (GITHUB_API_URL): DNS lookup failed — ")
    assert (tls.reachable, tls.cause) == (False, causes.TLS)
    assert (quiet.reachable, quiet.cause) == (False, causes.TIMEOUT)
    assert (bad.reachable, bad.cause) == (False, r.BAD_URL)
    # Any HTTP answer, an error status too, means the host is there.
    assert (answered.reachable, answered.status, answered.cause) == (True, 400, None)


def test_probe_all_answers_for_every_endpoint_at_once(silent):
    with FakeHuggingFace(HubData.synthetic({"BAAI": 1})) as hf:
        targets = [endpoint(hf.url), endpoint(f"http://127.0.0.1:{silent.port}/a", "X"),
                   endpoint(f"http://127.0.0.1:{silent.port}/b", "Y"),
                   endpoint(f"http://127.0.0.1:{closed_port()}", "Z")]
        results = r.probe_all(targets, timeout=1.0)
    assert set(results) == set(targets)
    assert [results[t].cause for t in targets] == [None, causes.TIMEOUT, causes.TIMEOUT, causes.REFUSED]
    assert results[targets[0]].reachable and results[targets[0]].status  # HEAD / answered


def test_spider_endpoints_come_from_each_spiders_setting():
    from scrapy.settings import Settings

    from osir_crawl.spiders.github import GithubReposSpider
    from osir_crawl.spiders.huggingface import HuggingfaceModelsSpider

    found = r.spider_endpoints({"huggingface_models": HuggingfaceModelsSpider,
                                "github_repos": GithubReposSpider},
                               Settings({"HF_ENDPOINT": "http://127.0.0.1:9/",
                                         "GITHUB_API_URL": UNRESOLVABLE}))
    assert found == {
        "huggingface_models": r.Endpoint("huggingface", "HF_ENDPOINT", "http://127.0.0.1:9/"),
        "github_repos": r.Endpoint("github", "GITHUB_API_URL", UNRESOLVABLE)}
    assert found["huggingface_models"].host == "127.0.0.1:9"
    assert found["github_repos"].host == "api.osir-test.invalid"


def test_failure_reasons_and_exceptions_map_to_causes():
    from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
    from twisted.internet import error
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseNeverReceived

    try:
        raise CannotResolveHostError("DNS lookup failed") from error.DNSLookupError("x.invalid")
    except CannotResolveHostError as exc:
        assert causes.cause_of(exc) == causes.DNS
    assert causes.cause_of(error.ConnectionRefusedError()) == causes.REFUSED
    assert causes.cause_of(DownloadTimeoutError("took longer than 30.0 seconds")) == causes.TIMEOUT
    assert causes.cause_of(ResponseNeverReceived([Failure(error.ConnectionLost())])) == causes.CLOSED
    assert causes.cause_of(ValueError("a bug")) is None
    # Reasons as the failures table stores them ("<exception name>: <message>").
    assert [causes.cause_of_reason(reason) for reason in [
        "CannotResolveHostError: DNS lookup failed: no results for hostname lookup: "
        "api.osir-test.invalid.",
        "DownloadConnectionRefusedError: Connection was refused by other side: 111: "
        "Connection refused.",
        "ResponseNeverReceived: [<twisted.python.failure.Failure OpenSSL.SSL.Error: "
        "[('SSL routines', '', 'wrong version number')]>]",
        "Error: Page.goto: net::ERR_NAME_NOT_RESOLVED at https://opendatalab.invalid/",
        "DownloadTimeoutError: Getting http://x/ took longer than 1.0 seconds.",
        "HTTP 404", "malformed JSON body"]] == [
        causes.DNS, causes.REFUSED, causes.TLS, causes.DNS, causes.TIMEOUT, "HTTP 404", "malformed JSON body"]


# --- one spider: scrapy crawl -------------------------------------------------------------------
@pytest.mark.parametrize("where, cause", [("refused", causes.REFUSED), ("unresolvable", causes.DNS)])
@async_test
async def test_a_crawl_of_an_unreachable_host_stops_with_the_cause(crawl, tmp_path, where,
                                                                   cause):
    url = f"http://127.0.0.1:{closed_port()}" if where == "refused" else UNRESOLVABLE
    db = tmp_path / "osir.db"
    proc = await crawl("huggingface_models", db, env={"HF_ENDPOINT": url},
                       args={"orgs": "BAAI"}, check=False)
    assert proc.status == 1, proc.log[-3000:]
    last = proc.log.strip().splitlines()[-1]
    assert last.startswith("osir-crawl: huggingface_models stopped, platform unreachable: ")
    assert last.endswith(cause)
    assert f"unreachable: {cause} (5 connection failures in a row" in proc.log
    assert "Check the network, or HF_ENDPOINT" in proc.log
    [row] = rows(db, "SELECT outcome, stats FROM crawls")
    stats = json.loads(row["stats"])
    assert row["outcome"] == "host_unreachable" and stats["osir/unreachable"].endswith(cause)
    # Stopped after a few attempts: BAAI's 4 Hugging Face accounts would otherwise take
    # 4 x (1 + RETRY_TIMES) = 24.
    assert stats["downloader/request_count"] <= 12


# --- every spider: scrapy crawlall --------------------------------------------------------------
def crawlall(tmp, only: str, env: dict, *extra, timeout=120):
    cmd = [sys.executable, "-m", "scrapy", "crawlall", "--snapshot", "2031-03-07", "--only", only,
           "--jobs-dir", str(tmp / "jobs"), "--logs-dir", str(tmp / "logs"),
           "--reports-dir", str(tmp / "reports"), "--rankings-dir", str(tmp / "rankings"),
           "--progress-interval", "0.2", "-s", f"OSIR_DB={tmp / 'osir.db'}", *extra]
    for key, value in FAST.items():
        cmd += ["-s", f"{key}={value}"]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(**env), capture_output=True, text=True,
                          timeout=timeout)
    print(f"crawlall: {time.monotonic() - started:.1f}s\n{proc.stdout}")
    return proc


def report_of(tmp) -> dict:
    return json.loads((tmp / "reports" / "2031-03-07" / "crawl-report.json").read_text())


@pytest.mark.slow
def test_crawlall_with_no_platform_reachable_says_why_and_fails_fast(tmp_path, silent):
    """Each host's line names it, its setting and the cause; no spider starts; exit 1 well
    within two minutes (the subprocess timeout)."""
    port = closed_port()
    proc = crawlall(tmp_path, "huggingface_models,huggingface_datasets,github_repos,"
                              "modelscope_models",
                    {"HF_ENDPOINT": f"http://127.0.0.1:{port}", "GITHUB_API_URL": UNRESOLVABLE,
                     "MODELSCOPE_ENDPOINT": f"https://127.0.0.1:{silent.port}"},
                    "-s", "OSIR_PROBE_TIMEOUT=1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "probe: 0 of 3 platform hosts reachable" in out
    assert (f"unreachable: 127.0.0.1:{port} (HF_ENDPOINT): connection refused — [Errno 111] "
            "Connection refused — not starting huggingface_datasets, huggingface_models") in out
    assert ("unreachable: api.osir-test.invalid (GITHUB_API_URL): DNS lookup failed — ") in out
    assert f"unreachable: 127.0.0.1:{silent.port} (MODELSCOPE_ENDPOINT): timeout" in out
    assert ": starting" not in out and "scoring: skipped" in out
    assert "failed: huggingface_models, huggingface_datasets, github_repos, modelscope_models " \
           "(not started, host unreachable; logs: " in out
    rep = report_of(tmp_path)
    assert {e["spider"]: (e["outcome"], e["flags"]) for e in rep["spiders"]} == {
        "huggingface_models": ("unreachable", [
            f"not started: host unreachable (127.0.0.1:{port}: connection refused)"]),
        "huggingface_datasets": ("unreachable", [
            f"not started: host unreachable (127.0.0.1:{port}: connection refused)"]),
        "github_repos": ("unreachable", [
            "not started: host unreachable (api.osir-test.invalid: DNS lookup failed)"]),
        "modelscope_models": ("unreachable", [
            f"not started: host unreachable (127.0.0.1:{silent.port}: timeout)"])}
    assert rows(tmp_path / "osir.db", "SELECT count(*) AS n FROM crawls")[0]["n"] == 0


@pytest.mark.slow
def test_crawlall_runs_the_reachable_platforms_and_fails_the_others(tmp_path):
    """OpenI has no account in this registry: its spider is not probed, runs, requests
    nothing and gets a note ("no openi accounts"), not a flag."""
    registry = tmp_path / "orgs.yaml"
    registry.write_text("BAAI:\n  huggingface: [BAAI]\n  github: [FlagOpen]\n")
    with FakeHuggingFace(HubData.synthetic({"BAAI": 3}, datasets_per_account=2)) as hf:
        proc = crawlall(tmp_path, "huggingface_datasets,github_repos,openi_repos",
                        {"HF_ENDPOINT": hf.url, "GITHUB_API_URL": UNRESOLVABLE,
                         "OPENI_ENDPOINT": "https://openi.osir-test.invalid"},
                        "-s", f"OSIR_ORGS={registry}")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "probe: 1 of 2 platform hosts reachable" in proc.stdout
    assert "huggingface_datasets: finished (exit 0)" in proc.stdout
    assert "openi_repos: finished (exit 0)" in proc.stdout
    rep = report_of(tmp_path)
    assert {e["spider"]: (e["outcome"], e.get("note")) for e in rep["spiders"]} == {
        "huggingface_datasets": ("finished", None), "github_repos": ("unreachable", None),
        "openi_repos": ("finished", f"no openi accounts in {registry} for the selected orgs")}
    assert rep["flagged"] == ["github_repos"]


@pytest.mark.slow
def test_progress_shows_why_requests_fail_and_the_report_groups_them(tmp_path):
    """The listing of every BAAI account fails: one with HTTP 404, the others with the
    connection closed before any answer. Breaker off, so the spider keeps retrying."""
    with FakeHuggingFace(HubData.synthetic({"BAAI": 3, "FlagRelease": 3, "CofeAI": 3,
                                            "OmniGen2": 3})) as hf:
        hf.add_fault(match="/api/models?author=FlagRelease", status=404, times=99)
        hf.add_fault(match="/api/models?author=", reset=True, window=3600)
        proc = crawlall(tmp_path, "huggingface_models", {"HF_ENDPOINT": hf.url},
                        "-a", "orgs=BAAI", "-s", "OSIR_UNREACHABLE_AFTER=0",
                        "-s", "RETRY_TIMES=3", "-s", "OSIR_RETRY_BACKOFF_BASE=0.5",
                        "-s", "OSIR_STATS_INTERVAL=0.2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    host = hf.url.split("//")[1]
    assert f"running: huggingface_models 0 items [{host}: {causes.CLOSED} ×" in proc.stdout
    rep = report_of(tmp_path)
    groups = {g["cause"]: g for g in rep["failures_by_cause"]}
    assert {c: g["count"] for c, g in groups.items()} == {causes.CLOSED: 3, "HTTP 404": 1}
    assert groups["HTTP 404"]["example_url"].startswith(f"{hf.url}/api/models?author=FlagRelease")
    assert groups[causes.CLOSED]["spiders"] == ["huggingface_models"]
    md = (tmp_path / "reports" / "2031-03-07" / "crawl-report.md").read_text()
    assert f"| {causes.CLOSED} | 3 | huggingface_models | {hf.url}/api/models?author=" in md


def test_status_line_shows_a_running_spiders_connection_trouble(tmp_path):
    stats = tmp_path / "s.stats.json"
    stats.write_text(json.dumps({"osir/stored": 0, "osir/connection/streak": 4,
                                 "osir/connection/cause": "huggingface.co: DNS lookup failed"}))
    run = SpiderRun("huggingface_models", stats, state="running")
    run.refresh()
    line = Progress([run]).status_line()
    assert "running: huggingface_models 0 items [huggingface.co: DNS lookup failed ×4]" in line
    stats.write_text(json.dumps({"osir/stored": 7, "osir/connection/streak": 0}))
    run.refresh()
    assert "running: huggingface_models 7 items · " in Progress([run]).status_line()


@pytest.mark.slow
def test_crawlall_says_why_a_spider_stopped_mid_crawl(tmp_path):
    """The probe gets an answer, then every API request has its connection closed unanswered:
    the spider stops after OSIR_UNREACHABLE_AFTER of them and crawlall's line says why."""
    with FakeHuggingFace(HubData.synthetic({"BAAI": 3, "FlagRelease": 3})) as hf:
        hf.add_fault(match="/api/", reset=True, window=3600)
        proc = crawlall(tmp_path, "huggingface_models", {"HF_ENDPOINT": hf.url},
                        "-a", "orgs=BAAI")
    host = hf.url.split("//")[1]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "probe: 1 of 1 platform hosts reachable" in proc.stdout
    assert ("— osir-crawl: huggingface_models stopped, platform unreachable: "
            f"{host}: {causes.CLOSED}") in proc.stdout
    [entry] = report_of(tmp_path)["spiders"]
    assert entry["flags"] == [f"not finished (host_unreachable: {host}: {causes.CLOSED})"]
