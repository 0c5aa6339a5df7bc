"""What a newcomer stumbled on (issue 23's smaller stumbles, issue 25's ``browse``), each fixed:
a "did you mean" for ``-a orgs=``, no warnings from a plain ``scrapy crawl``, its summary line
last, ``--json`` into ``head``, rank files by rank, every doc link resolving, crawlall's hints
(offline, already finished) and ``--fresh``, a resumed crawl reported whole, and ``browse``
escaping, hiding the store's path and stopping Datasette with itself. And the store sticks
(issue 23, item 4): the fakes' env file exports OSIR_DB, ``explain`` reads the store too,
outputs go beside their store and another store's are never overwritten, advice names the
store."""

from __future__ import annotations

import csv
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osir_crawl import store
from osir_crawl.ops import outputs
from osir_crawl.ops.browse import metadata_for
from osir_crawl.commands.crawlall import CrawlAll
from osir_crawl.ops.progress import Progress, SpiderRun
from osir_crawl.ops.reachability import Endpoint
from osir_crawl.inputs.registry import RegistryError, load_registry
from tests.conftest import ROOT, async_test, crawl_env, rows, run_crawl
from tests.fakes.huggingface import FakeHuggingFace, HubData
from tests.test_build import SEP, build, store as small_store  # noqa: F401 (a fixture)

SNAPSHOT = "2031-04-07"


# --- -a orgs= -------------------------------------------------------------------------------

@pytest.mark.parametrize("given, meant", [
    ("baai", "did you mean BAAI?"),
    ("Qwen", "did you mean Ali (Qwen is its huggingface, modelscope account)?"),
    ("Deepsek", "did you mean Deepseek?"),
])
def test_an_unknown_org_gets_a_did_you_mean(given, meant):
    registry = load_registry(ROOT / "data" / "orgs.yaml")
    with pytest.raises(RegistryError) as refused:
        registry.select(f"BAAI,{given}")
    assert f"unknown org(s) {given}; {meant}; known: BAAI, " in str(refused.value)


# --- scrapy crawl -------------------------------------------------------------------------

@async_test
async def test_a_plain_crawl_says_nothing_of_crawlall_s_extensions(crawl):
    with FakeHuggingFace(HubData.synthetic({"BAAI": 2}, datasets_per_account=1)) as fake:
        run = await crawl("huggingface_models", settings={
            "HF_ENDPOINT": fake.url, "OSIR_SNAPSHOT": SNAPSHOT}, args={"orgs": "BAAI"})
    assert run.status == 0
    assert "Disabled" not in run.log and "OSIR_PARENT_FD" not in run.log, run.log
    assert run.stats["osir/summary"].startswith(f"crawl {run.crawl_id} finished: 2 stored")


@pytest.mark.slow
def test_the_crawl_s_summary_is_its_last_line(tmp_path):
    with FakeHuggingFace(HubData.synthetic({"BAAI": 2}, datasets_per_account=1)) as fake:
        proc = run_crawl("huggingface_models", tmp_path / "osir.db", args={"orgs": "BAAI"},
                         settings={"HF_ENDPOINT": fake.url, "OSIR_SNAPSHOT": SNAPSHOT,
                                   "LOG_LEVEL": "INFO"})
    lines = proc.stderr.strip().splitlines()
    assert "Dumping Scrapy stats" in proc.stderr  # above it
    assert re.fullmatch(r"crawl huggingface_models-\S+ finished: 2 stored, 0 rejected, "
                        rf"0 duplicates, 0 failed requests -> {tmp_path}/osir.db", lines[-1])
    assert "WARNING" not in proc.stderr, proc.stderr


# --- a resumed crawl is reported whole ------------------------------------------------------

@async_test
async def test_a_resumed_crawl_keeps_its_first_start_and_adds_up_its_processes(crawl, tmp_path):
    data = HubData.synthetic({"BAAI": 6}, datasets_per_account=1)
    settings = {"OSIR_SNAPSHOT": SNAPSHOT, "JOBDIR": tmp_path / "job", "HF_PAGE_SIZE": 2,
                "OSIR_MIN_DOWNLOADS": 10**9}
    with FakeHuggingFace(data) as fake:
        settings["HF_ENDPOINT"] = fake.url
        first = await crawl("huggingface_models", settings={
            **settings, "CLOSESPIDER_PAGECOUNT": 1}, args={"orgs": "BAAI"}, check=False)
        assert first.status == 1  # stopped before the end: not finished
        before = rows(first.db, "SELECT * FROM crawls")[0]
        second = await crawl("huggingface_models", settings=settings, args={"orgs": "BAAI"})
    after = rows(second.db, "SELECT * FROM crawls")
    assert second.crawl_id == first.crawl_id and len(after) == 1
    assert after[0]["started_at"] == before["started_at"]  # the crawl's, not the last process's
    assert after[0]["requests"] == before["requests"] + second.stats["downloader/request_count"]
    assert after[0]["outcome"] == "finished" and after[0]["items"] == 6


# --- scoring ------------------------------------------------------------------------------

def test_rank_files_list_organisations_by_rank(small_store, tmp_path):
    build(small_store, SEP, tmp_path / "out")
    for name in ("overall-rank", "model-rank", "data-accumulated-rank"):
        with open(tmp_path / "out" / f"{name}.csv", newline="") as fh:
            ranks = [int(r["rank"]) for r in csv.DictReader(fh)]
        assert ranks == sorted(ranks), name


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["scoring.catalogue_summaries", "--snapshot", SEP, "--json"],
    ["scoring", "evidence", "--snapshot", SEP, "--json"],
])
def test_json_output_can_be_piped_into_head(small_store, tmp_path, argv):
    build(small_store, SEP, tmp_path / "out")  # evidence --json: a built snapshot's provenance
    proc = subprocess.Popen([sys.executable, "-m", *argv, "--db", str(small_store)], cwd=ROOT,
                            env=crawl_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10)  # `head -c 10`, then the reader goes away
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1  # (more than a pipe's buffer was left to write)
    assert "Traceback" not in err and "BrokenPipe" not in err, err


# --- the docs -----------------------------------------------------------------------------

def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def test_every_relative_link_of_the_docs_resolves_in_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken, checked = [], 0
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:
                continue
            checked += 1
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists() or ROOT not in file.parents:
                broken.append(f"{page.name}: {target}")
            elif anchor and file.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", file.read_text(encoding="utf-8"), re.M)
                if anchor not in {slug(h) for h in headings}:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert checked > 10 and broken == []


# --- crawlall's hints -----------------------------------------------------------------------

def crawlall(tmp_path, names, capsys_out, **kw) -> CrawlAll:
    db = tmp_path / "osir.db"
    store.open_store(db).close()
    run = CrawlAll(names=names, snapshot=SNAPSHOT, db=db, jobs=tmp_path / "jobs",
                   logs=tmp_path / "logs", reports=tmp_path / "reports", forwarded=[],
                   spargs={}, concurrency=1, interval=0, scoring=False, **kw)
    run.jobs.mkdir(parents=True)
    return run


def test_offline_crawlall_points_to_the_try_out_without_internet(tmp_path, capsys):
    endpoint = Endpoint("huggingface", "HF_ENDPOINT", "https://huggingface.invalid")
    run = crawlall(tmp_path, ["huggingface_models"], capsys,
                   endpoints={"huggingface_models": endpoint}, probe_timeout=2)
    run._probe()
    out = capsys.readouterr().out
    assert "probe: 0 of 1 platform hosts reachable" in out
    assert '"Try it without the internet"' in out and "python -m tests.fakes.all" in out


def test_a_finished_spider_is_skipped_with_the_way_to_crawl_it_again(tmp_path, capsys):
    run = crawlall(tmp_path, ["huggingface_models"], capsys)
    db = store.open_store(run.db)
    store.record_crawl(db, {"crawl_id": "c1", "spider": "huggingface_models",
                            "snapshot": SNAPSHOT, "started_at": "2031-04-07T00:00:00+00:00",
                            "outcome": "finished", "items": 3, "rejected": 0})
    db.close()
    spider = run.runs[0]
    run._launch(spider, run._lock(spider))
    assert spider.state == "skipped"
    assert (f"huggingface_models: already finished for {SNAPSHOT} (c1), skipped; to crawl it "
            f"again: scrapy crawlall --snapshot {SNAPSHOT} --only huggingface_models --fresh"
            in capsys.readouterr().out)
    fresh = crawlall(tmp_path / "fresh", ["huggingface_models"], capsys, fresh=True)
    fresh.db = run.db
    assert fresh._earlier_crawl("huggingface_models") is None  # nothing to skip or resume


@pytest.mark.slow
def test_crawlall_fresh_crawls_a_finished_spider_again(tmp_path):
    data = HubData.synthetic({"BAAI": 2}, datasets_per_account=1)
    with FakeHuggingFace(data) as fake:
        def crawlall_run(*extra):
            return subprocess.run(
                [sys.executable, "-m", "scrapy", "crawlall", "--only", "huggingface_datasets",
                 "--snapshot", SNAPSHOT, "-a", "orgs=BAAI", "--skip-scoring",
                 "--jobs-dir", str(tmp_path / "jobs"), "--logs-dir", str(tmp_path / "logs"),
                 "--reports-dir", str(tmp_path / "reports"), "-s",
                 f"OSIR_DB={tmp_path / 'osir.db'}", "-s", f"HF_ENDPOINT={fake.url}", *extra],
                cwd=ROOT, env=crawl_env(), capture_output=True, text=True, timeout=240)
        assert crawlall_run().returncode == 0
        again = crawlall_run()
        assert "--fresh" in again.stdout and "skipped" in again.stdout
        fresh = crawlall_run("--fresh")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "starting again (--fresh; last crawl: finished)" in fresh.stdout
    crawls = rows(tmp_path / "osir.db", "SELECT outcome FROM crawls")
    assert [c["outcome"] for c in crawls] == ["finished", "finished"]


# --- browse -------------------------------------------------------------------------------

def test_browse_escapes_the_store_s_name_in_the_index_html(tmp_path):
    html = metadata_for(tmp_path / 'a"><img src=x onerror=alert(1)>.db')["description_html"]
    assert "<img" not in html and 'a">' not in html
    assert 'href="/a~22~3E~3Cimg+src~3Dx+onerror~3Dalert~281~29~3E/overall_ranking"' in html
    assert ">a&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</a>" in html


@pytest.mark.slow
def test_browse_hides_the_store_s_path(tmp_path):
    db = tmp_path / "secret-place" / "june.db"
    db.parent.mkdir()
    store.open_store(db).close()
    proc = subprocess.run([sys.executable, "-m", "osir_crawl.ops.browse", "--db", str(db), "--get",
                          "/-/databases.json"], cwd=ROOT, env=crawl_env(),
                         capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    databases = json.loads(proc.stdout)
    assert [d["name"] for d in databases] == ["june"]
    assert "secret-place" not in proc.stdout and "path" not in databases[0]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_browse_stops_datasette_with_itself(tmp_path, signum):
    db = tmp_path / "osir.db"
    store.open_store(db).close()
    proc = subprocess.Popen([sys.executable, "-m", "osir_crawl.ops.browse", str(db), "-p", "0"],
                            cwd=ROOT, env=crawl_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        child = None
        for _ in range(300):
            found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                   text=True).stdout.split()
            if found:
                child = int(found[0])
                break
            time.sleep(0.1)
        assert child, "datasette serve never started"
        time.sleep(1)  # its signal handlers in place
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == 128 + signum
        assert not Path(f"/proc/{child}").exists() or _zombie(child), "Datasette still runs"
    finally:
        if proc.poll() is None:
            proc.kill()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


# --- the store sticks -----------------------------------------------------------------------

@pytest.mark.slow
def test_the_fakes_env_file_exports_the_try_out_s_store(tmp_path):
    env_file, db = tmp_path / "fakes.env", tmp_path / "try" / "osir.db"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.all", "--env", str(env_file),
                             "--db", str(db)], cwd=ROOT, env=crawl_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            if env_file.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        lines = env_file.read_text().splitlines()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert f"export OSIR_DB={db}" in lines and db.parent.is_dir()
    assert any(line.startswith("export HF_ENDPOINT=http://127.0.0.1:") for line in lines)


def test_explain_reads_a_build_from_the_store_as_from_its_folder(small_store, tmp_path, cli):
    from tests.test_build import AUG

    build(small_store, AUG, tmp_path / AUG)
    build(small_store, SEP, tmp_path / SEP)
    from_store = cli.scoring("explain", "--snapshot", SEP, "--db", small_store, "--org", "BAAI",
                             "--json")
    from_folder = cli.scoring("explain", tmp_path / SEP, "--previous", tmp_path / AUG,
                              "--org", "BAAI", "--json")
    assert from_store.status == from_folder.status == 0, from_store.err

    def numbers(out):  # the same figures; only the sources' names differ
        return re.sub(r'"source": "[^"]*"', "", out)

    assert numbers(from_store.out) == numbers(from_folder.out)
    assert '"delta rank"' in from_store.out or "delta" in from_store.out
    unbuilt = cli.scoring("explain", "--snapshot", "2025-10-07", "--db", small_store,
                          "--org", "BAAI")
    assert unbuilt.status == 2
    assert (f"run python -m scoring build --snapshot 2025-10-07 --db {small_store}"
            in unbuilt.err)


def test_outputs_go_beside_their_store_and_another_store_s_are_refused(small_store, tmp_path,
                                                                      cli):
    assert cli.scoring("build", "--snapshot", SEP, "--db", small_store, "-q").status == 0
    beside = small_store.parent / "rankings" / SEP
    assert (beside / "overall-rank.csv").is_file()
    assert outputs.store_of(beside)["store"] == str(small_store)
    before = (beside / "overall-rank.csv").read_bytes()
    other = tmp_path / "other.db"  # another store in the same folder
    other.write_bytes(small_store.read_bytes())
    refused = cli.scoring("build", "--snapshot", SEP, "--db", other, "-q")
    assert refused.status == 1
    assert (f"{beside} holds the outputs of the store {small_store}, not of {other}: choose "
            f"another folder (--out DIR" in refused.err and f"or remove {beside}" in refused.err)
    assert (beside / "overall-rank.csv").read_bytes() == before
    assert cli.scoring("build", "--snapshot", SEP, "--db", other, "-q",
                       "--out", tmp_path / "elsewhere").status == 0
    # The store and its outputs moved together are still one.
    moved = tmp_path.parent / f"{tmp_path.name}-moved"
    small_store.parent.rename(moved)
    again = cli.scoring("build", "--snapshot", SEP, "--db", moved / small_store.name, "-q")
    assert again.status == 0, again.err


def test_crawlall_refuses_another_store_s_logs(tmp_path, capsys):
    run = crawlall(tmp_path, ["huggingface_models"], capsys)
    outputs.claim(run.logs, tmp_path / "monthly.db")
    assert run.run() == 1
    assert f"osir-crawl: {run.logs} holds the outputs of the store" in capsys.readouterr().err


def test_advice_names_the_store_in_use(small_store, cli):
    said = cli.scoring("evidence", "--snapshot", SEP, "--db", small_store, "--json")
    assert said.status == 2
    assert f"run python -m scoring build --snapshot {SEP} --db {small_store}" in said.err


# --- the progress line ----------------------------------------------------------------------

def test_the_progress_line_shows_done_of_total_rate_time_left_and_chromium(tmp_path):
    stats = tmp_path / "modelscope_models.stats.json"
    stats.write_text(json.dumps({
        "osir/stored": 100, "osir/rejected": 0, "osir/progress/listings": 2,
        "osir/progress/announced": 2, "osir/progress/expected": 1000, "osir/listing/rows": 500,
        "osir/browser/pages_queued": 200, "osir/browser/pages_done": 50}))
    run = SpiderRun("modelscope_models", stats, state="running")
    run.refresh()
    run.samples.clear()  # two samples 10 s apart: 20 rows and 10 pages in between
    run.samples.extend([(0.0, 80, 40), (10.0, 100, 50)])
    line = Progress([run]).status_line()
    # 400 pages expected (200 queued for half the rows listed), 350 left at 1 page/s.
    assert ("running: modelscope_models 100/1,000 rows at 2.0/s, ~6 min left (Chromium: "
            "50/~400 pages, 1.0/s) · items 100" in line)
    # A listing that never said its size: items and rate only, no time left.
    stats.write_text(json.dumps({"osir/stored": 7, "osir/progress/listings": 2,
                                 "osir/progress/announced": 1}))
    run.samples.clear()
    run.refresh()
    assert "running: modelscope_models 7 items · " in Progress([run]).status_line()
