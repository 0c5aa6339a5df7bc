"""``scrapy crawlall`` end to end against the Hugging Face fake: progress, report, exit codes,
and a run killed mid-way then resumed gives the same store as an uninterrupted run."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osir_crawl import store
from osir_crawl.ops import report
from osir_crawl.inputs.registry import load_registry
from tests.conftest import FAST, ROOT, async_test, crawl_env, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData


SNAPSHOT = "2031-01-07"
SPIDERS = "huggingface_models,huggingface_datasets"
ACCOUNTS = {"BAAI": 40, "FlagRelease": 10, "Qwen": 25, "deepseek-ai": 15}
ORGS = "BAAI,Ali,Deepseek"
LOOPBACK = re.compile(r"^http://127\.0\.0\.1:\d+")  # each fake has its own port
COMPARED = {"models": "platform, repo_id", "datasets": "platform, repo_id"}


def hub_data(scale: float = 1.0) -> HubData:
    return HubData.synthetic({a: int(n * scale) for a, n in ACCOUNTS.items()},
                             datasets_per_account=6)


@pytest.fixture
def fake():
    with FakeHuggingFace(hub_data()) as server:
        yield server


def crawlall_cmd(tmp: Path, snapshot=SNAPSHOT, only=SPIDERS, extra=(), settings=None):
    cmd = [sys.executable, "-m", "scrapy", "crawlall", "--snapshot", snapshot, "--only", only,
           "-a", f"orgs={ORGS}", "--jobs-dir", str(tmp / "jobs"), "--logs-dir", str(tmp / "logs"),
           "--reports-dir", str(tmp / "reports"), "--rankings-dir", str(tmp / "rankings"),
           "--progress-interval", "0.5", "-s", f"OSIR_DB={tmp / 'osir.db'}", "-s", "HF_PAGE_SIZE=4",
           *extra]
    for key, value in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def crawlall(fake, tmp: Path, timeout=240, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(crawlall_cmd(tmp, **kw), cwd=ROOT, capture_output=True, text=True,
                          env=crawl_env(HF_ENDPOINT=fake.url), timeout=timeout)


def store_rows(db: Path) -> dict[str, list[dict]]:
    """The records of a store without the per-crawl stamps."""
    found = {}
    for table, order in COMPARED.items():
        found[table] = [{k: LOOPBACK.sub("FAKE", v) if k == "url" else v for k, v in r.items()
                         if k not in ("crawl_id", "fetched_at")}
                        for r in rows(db, f"SELECT * FROM {table} ORDER BY {order}")]
    return found


def wait_for(predicate, timeout=60, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


def live_stat(path: Path, key: str) -> int:
    try:
        return json.loads(path.read_text()).get(key, 0)
    except (OSError, ValueError):
        return 0


def count_models(db: Path) -> int:
    try:
        return rows(db, "SELECT count(*) AS n FROM models")[0]["n"]
    except Exception:
        return 0


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One uninterrupted run with scoring: its store is the reference of the resume tests, its
    report and output are checked below, and its store is the previous snapshot of another."""
    tmp = tmp_path_factory.mktemp("reference")
    with FakeHuggingFace(hub_data()) as fake:
        proc = crawlall(fake, tmp)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield fake, tmp, proc, store_rows(tmp / "osir.db")


@pytest.fixture(scope="module")
def reference(full_run):
    """The store of an uninterrupted run."""
    return full_run[3]


@pytest.mark.slow
@pytest.mark.xdist_group("crawlall_reference")  # one reference crawl for the five
def test_full_run_progress_report_and_scoring(full_run):
    fake, tmp_path, proc, _ = full_run
    out = proc.stdout
    # Progress: a line per update with spiders done/total, items, rejects, errors, elapsed.
    assert "huggingface_models: starting" in out and "huggingface_datasets: starting" in out
    assert "2/2 spiders done" in out and "rejects 0" in out and "errors 0" in out
    assert out.splitlines()[0].startswith("[0:00:00] crawlall snapshot 2031-01-07")

    db = tmp_path / "osir.db"
    n_models = sum(ACCOUNTS.values())
    assert count_models(db) == n_models
    crawls = rows(db, "SELECT spider, outcome, snapshot FROM crawls ORDER BY spider")
    assert crawls == [{"spider": s, "outcome": "finished", "snapshot": SNAPSHOT}
                      for s in ("huggingface_datasets", "huggingface_models")]
    # No request failed to pickle into the JOBDIR queue.
    log = (tmp_path / "logs" / SNAPSHOT / "huggingface_models.log").read_text()
    assert "scheduler/unserializable" not in log and "Unable to serialize" not in log
    assert "scheduler/enqueued/disk" in log

    rep = json.loads((tmp_path / "reports" / SNAPSHOT / "crawl-report.json").read_text())
    by_spider = {e["spider"]: e for e in rep["spiders"]}
    assert by_spider["huggingface_models"]["items"] == n_models
    assert by_spider["huggingface_datasets"]["items"] == 6 * len(ACCOUNTS)
    assert rep["flagged"] == [] and rep["scoring"]["status"] == "ok"
    md = (tmp_path / "reports" / SNAPSHOT / "crawl-report.md").read_text()
    assert f"| huggingface_models | finished | {n_models} |" in md
    assert (tmp_path / "rankings" / SNAPSHOT / "overall-rank.csv").is_file()
    assert rows(db, "SELECT count(*) AS n FROM rankings WHERE snapshot = ?", [SNAPSHOT])[0]["n"] > 0
    # Then the ranking site of the store, beside it (python -m scoring site).
    assert (tmp_path / "site" / "index.html").is_file()
    assert f"the site: {tmp_path / 'site' / 'index.html'}" in rep["scoring"]["detail"]

    # The same snapshot again (in a copy): both spiders already finished, nothing is requested.
    again_dir = tmp_path.parent / "again"
    shutil.copytree(tmp_path, again_dir)
    before = len(fake.log)
    again = crawlall(fake, again_dir, extra=["--skip-scoring"])
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count(": already finished for 2031-01-07") == 2
    assert len(fake.log) == before


@pytest.mark.slow
@pytest.mark.xdist_group("crawlall_reference")  # one reference crawl for the five
def test_next_snapshot_with_fewer_items_is_flagged(full_run, tmp_path):
    # The first snapshot is the full run's (the same data, the same snapshot): a copy of its store.
    for part in full_run[1].glob("osir.db*"):  # with its write-ahead log, if any
        shutil.copy(part, tmp_path / part.name)
    with FakeHuggingFace(hub_data(scale=0.5)) as fake:
        proc = crawlall(fake, tmp_path, snapshot="2031-02-07", extra=["--skip-scoring"])
    assert proc.returncode == 0, proc.stdout + proc.stderr  # flagged is not failed
    rep = json.loads((tmp_path / "reports" / "2031-02-07" / "crawl-report.json").read_text())
    models = next(e for e in rep["spiders"] if e["spider"] == "huggingface_models")
    assert models["previous_snapshot"] == SNAPSHOT
    assert models["previous_items"] == sum(ACCOUNTS.values())
    assert models["flags"] == ["items fell 51% since 2031-01-07"]
    assert rep["flagged"] == ["huggingface_models"]  # datasets: same count as before
    assert "(flagged: huggingface_models)" in proc.stdout


@pytest.mark.slow
def test_a_failing_spider_makes_the_run_fail(tmp_path):
    with FakeHuggingFace(hub_data()) as fake:
        fake.add_fault(match="/api/datasets", status=500, window=3600)
        proc = crawlall(fake, tmp_path, only="huggingface_datasets", settings={"RETRY_TIMES": "0"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "failed: huggingface_datasets" in proc.stdout
    assert "scoring: skipped" in proc.stdout
    rep = json.loads((tmp_path / "reports" / SNAPSHOT / "crawl-report.json").read_text())
    datasets = next(e for e in rep["spiders"] if e["spider"] == "huggingface_datasets")
    assert datasets["outcome"] == "incomplete" and datasets["failures"] == len(
        load_registry(ROOT / "data" / "orgs.yaml").accounts_on("huggingface", ORGS.split(",")))
    assert datasets["flags"] == ["not finished (incomplete)"]


def test_an_unknown_org_stops_crawlall_with_the_registrys_message(cli, tmp_path):
    """Refused before any spider starts: crawlall in process."""
    proc = cli.scrapy(*crawlall_cmd(tmp_path, extra=["-a", "orgs=NoSuchOrg,BAAI"])[3:])
    assert proc.status == 2, proc.out + proc.err
    assert "error: " in proc.err and "unknown org(s) NoSuchOrg; known: BAAI, " in proc.err
    assert "no crawl row" not in proc.out + proc.err and not (tmp_path / "logs").exists()


def _kill_midway(fake, tmp: Path, how: str) -> str:
    """Start crawlall against a slowed fake, stop it (``how``: ``sigint`` as Ctrl-C does,
    ``sigkill`` crawlall alone, ``sigkill-all`` crawlall and its spiders) once some rows are
    stored, resume it; returns the resumed run's output."""
    fault = fake.add_fault(match="/api/", delay=0.1, window=3600)
    # Live stats every 0.2 s, not 2: with a file up to 2 s old, the crawl (about 4 s at this
    # pace) had stored 58-80 of its 90 rows when it stopped, too near its end to be sure of it.
    cmd = crawlall_cmd(tmp, extra=["--skip-scoring"], settings={"OSIR_STATS_INTERVAL": "0.2"})
    proc = subprocess.Popen(cmd, cwd=ROOT, env=crawl_env(HF_ENDPOINT=fake.url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stats_files = tmp / "jobs" / SNAPSHOT
    try:  # the store writes in batches, so watch the spider's live stats
        assert wait_for(lambda: live_stat(stats_files / "huggingface_models.stats.json",
                                          "osir/stored") >= 20, timeout=120), "nothing stored"
        children = [json.loads(p.read_text())["pid"] for p in stats_files.glob("*.stats.json")]
        if how == "sigint":
            proc.send_signal(signal.SIGINT)
            output = proc.communicate(timeout=120)[0]
            assert proc.returncode == 130, output
            assert "running spider(s); they save their JOBDIR" in output and "interrupted" in output
        if how == "sigkill-all":  # the spiders first: no chance to save anything
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        proc.kill()  # SIGKILL crawlall itself (its spiders, if alive, then stop cleanly)
    finally:
        proc.kill()
        proc.wait()
    assert json.loads((stats_files / "huggingface_models.stats.json").read_text()).get(
        "finish_reason") != "finished", "the crawl ended before the kill"
    fault["window"] = 0  # full speed for the rest
    fault["until"] = 0
    resumed = crawlall(fake, tmp, extra=["--skip-scoring"])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    return resumed.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("crawlall_reference")  # one reference crawl for the five
def test_killed_run_resumes_from_jobdir_to_the_same_store(fake, tmp_path, reference):
    out = _kill_midway(fake, tmp_path, "sigkill")
    # The spiders got SIGTERM when crawlall died, closed cleanly and saved their JOBDIR.
    assert "resuming from" in out, out
    assert store_rows(tmp_path / "osir.db") == reference
    ids = rows(tmp_path / "osir.db", "SELECT DISTINCT crawl_id FROM models")
    assert len(ids) == 1  # one crawl, continued: its id survived in the JOBDIR's spider state
    # Requests seen before the kill were not sent again (the JOBDIR's dupefilter held).
    firsts = [s.path for s in fake.log if s.path.startswith("/api/models?author=")]
    assert firsts and len(firsts) == len(set(firsts))


@pytest.mark.slow
@pytest.mark.xdist_group("crawlall_reference")  # one reference crawl for the five
def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(fake, tmp_path, reference):
    out = _kill_midway(fake, tmp_path, "sigint")
    assert "resuming from" in out, out
    assert store_rows(tmp_path / "osir.db") == reference


@pytest.mark.slow
@pytest.mark.xdist_group("crawlall_reference")  # one reference crawl for the five
def test_killed_run_and_spiders_start_again_to_the_same_store(fake, tmp_path, reference):
    out = _kill_midway(fake, tmp_path, "sigkill-all")
    # Scrapy saved no queue state: the JOBDIR is recovered (osir_crawl/extensions/resume.py) or dropped.
    assert "starting again (last crawl: running)" in out or "recovering a killed crawl" in out, out
    assert store_rows(tmp_path / "osir.db") == reference
    crawls = rows(tmp_path / "osir.db", "SELECT outcome FROM crawls WHERE spider = "
                  "'huggingface_models' ORDER BY started_at")
    assert crawls[-1]["outcome"] == "finished"


@pytest.mark.slow
def test_a_spider_whose_crawlall_is_gone_stops_once_and_cleanly(fake, tmp_path):
    """The end-of-file of crawlall's pipe stops a spider as one SIGTERM does: a ``shutdown``
    crawl that saved its JOBDIR, not a forced stop (osir_crawl/extensions/lifeline.py). Here crawlall is
    gone before the spider even opens."""
    watch, lifeline = os.pipe()
    os.close(lifeline)
    jobdir, db, log = tmp_path / "job", tmp_path / "osir.db", tmp_path / "crawl.log"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "huggingface_models", "-a", f"orgs={ORGS}",
           "-s", f"OSIR_DB={db}", "-s", f"JOBDIR={jobdir}", "-s", f"OSIR_PARENT_FD={watch}",
           "-s", f"OSIR_SNAPSHOT={SNAPSHOT}", "-s", f"LOG_FILE={log}"]
    for key, value in FAST.items():
        cmd += ["-s", f"{key}={value}"]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(HF_ENDPOINT=fake.url), pass_fds=(watch,),
                              capture_output=True, text=True, timeout=240)
    finally:
        os.close(watch)
    assert proc.returncode == 1 and "shutdown" in proc.stderr, proc.stderr  # not finished
    [crawl] = rows(db, "SELECT outcome FROM crawls")
    assert crawl["outcome"] == "shutdown"
    text = log.read_text()
    assert text.count("Received SIGTERM") == 1 and "forcing unclean shutdown" not in text
    assert (jobdir / "spider.state").is_file() and not (jobdir / "osir-running.json").exists()


def test_report_flags_no_items_and_missing_spiders(tmp_path):
    db = store.open_store(tmp_path / "osir.db")
    for snapshot, items in (("2031-01-07", 10), ("2031-02-07", 0)):
        cid = f"huggingface_models-{snapshot}"
        store.record_crawl(db, {"crawl_id": cid, "spider": "huggingface_models",
                                "snapshot": snapshot, "started_at": f"{snapshot}T00:00:00+00:00",
                                "finished_at": f"{snapshot}T00:01:05+00:00",
                                "outcome": "finished", "retries": 3, "requests": 12})
        store.write_rows(db, "models", [
            {"platform": "huggingface", "repo_id": f"BAAI/m{i}", "snapshot": snapshot,
             "org": "BAAI", "owner": "BAAI", "name": f"m{i}", "url": "u", "crawl_id": cid,
             "fetched_at": "x"} for i in range(items)])
    why = "no openi accounts in data/orgs.yaml for the selected orgs"
    store.record_crawl(db, {"crawl_id": "openi", "spider": "openi_repos", "snapshot": "2031-02-07",
                            "started_at": "2031-02-07T00:00:00+00:00", "outcome": "finished",
                            "stats": json.dumps({"osir/nothing_to_crawl": why})})
    db.close()
    _, _, rep = report.write_report(
        tmp_path / "osir.db", "2031-02-07", tmp_path / "r",
        ["huggingface_models", "github_repos", "openi_repos", "gitee_repos"],
        not_started={"gitee_repos": "gitee.com: DNS lookup failed"})
    models, github, openi, gitee = rep["spiders"]
    assert models["flags"] == ["finished with no items", "items fell 100% since 2031-01-07"]
    assert models["duration_s"] == 65 and models["retries"] == 3
    assert github["outcome"] == "missing" and github["flags"] == ["not finished (missing)"]
    # No accounts on its platform: said plainly, not flagged.
    assert (openi["flags"], openi["note"]) == ([], why)
    assert gitee["outcome"] == "unreachable" and gitee["flags"] == [
        "not started: host unreachable (gitee.com: DNS lookup failed)"]
    assert rep["flagged"] == ["huggingface_models", "github_repos", "gitee_repos"]
    no_requests = {"outcome": "finished", "items": 0, "requests": 0}  # an older crawl row
    assert report.flags_of(no_requests) == [
        "finished with no items and no requests (no registry accounts on its platform?)"]
    md = (tmp_path / "r" / "crawl-report.md").read_text()
    assert "| huggingface_models | finished | 0 | 10 (2031-01-07) | -100% |" in md
    assert f"| openi_repos | finished | 0 | – | – | 0 | 0 | 0 | – | note: {why} |" in md


@async_test
async def test_every_spiders_start_requests_pickle_for_the_jobdir_queue(monkeypatch):
    """crawlall gives every spider a JOBDIR, whose disk queue pickles requests: callbacks must
    be spider methods and cb_kwargs/meta plain data (follow-up requests of the Hugging Face and
    GitHub spiders are checked by the crawls above: no ``scheduler/unserializable``)."""
    import pickle

    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.test import get_crawler
    from scrapy.utils.project import get_project_settings

    monkeypatch.chdir(ROOT)  # scrapy.cfg and data/orgs.yaml
    settings = get_project_settings()
    loader = get_spider_loader(settings)
    names = sorted(set(loader.list()) - {"legacy_import"})
    assert {"huggingface_models", "github_repos"} <= set(names)

    async def first_requests(spider, n=3):
        found = []
        async for request in spider.start():
            found.append(request)
            if len(found) == n:
                break
        return found

    for name in names:
        cls = loader.load(name)
        spider = cls.from_crawler(get_crawler(cls, settings.copy_to_dict()))
        for request in await first_requests(spider):
            restored = pickle.loads(pickle.dumps(request.to_dict(spider=spider), protocol=4))
            assert restored["url"] == request.url, name
