"""The in-process ``crawl`` fixture and ``cli`` (tests/inprocess.py) run the product as its
commands do: a whole crawl into a store, the exit status and last line of a crawl that cannot
start, a CLI's ``main(argv)``."""

from __future__ import annotations

from tests.conftest import async_test, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData

ACCOUNTS = {"BAAI": 7, "Qwen": 3}


@async_test
async def test_a_crawl_in_process_fills_the_store(crawl, tmp_path):
    data = HubData.synthetic(ACCOUNTS, datasets_per_account=1)
    with FakeHuggingFace(data) as fake:
        run = await crawl("huggingface_models", settings={
            "HF_ENDPOINT": fake.url, "HF_PAGE_SIZE": 3, "OSIR_SNAPSHOT": "2031-01-07"},
            args={"orgs": "BAAI,Ali"})
    assert (run.status, run.line) == (0, "")
    assert run.outcome == "finished"
    stored = rows(run.db, "SELECT repo_id, org, snapshot FROM models ORDER BY repo_id")
    assert sorted(r["repo_id"] for r in stored) == sorted(m["id"] for m in data.models)
    assert {r["snapshot"] for r in stored} == {"2031-01-07"}
    assert run.stats["osir/stored"] == len(data.models)
    assert run.stats["finish_reason"] == "finished"
    assert run.crawler.stats.get_value("osir/stored") == len(data.models)
    assert "[scrapy.core.engine] INFO: Spider closed (finished)" in run.log


@async_test
async def test_an_unusable_store_ends_with_one_line_and_status_1(crawl, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    run = await crawl("huggingface_models", tmp_path / "file" / "osir.db",
                      {"HF_ENDPOINT": "http://127.0.0.1:9"}, check=False)
    assert run.status == 1
    assert run.line.startswith(f"osir-crawl: cannot open the store {tmp_path}/file/osir.db")
    assert run.log.splitlines()[-1] == run.line
    assert run.outcome is None and not run.crawler.crawling


@async_test
async def test_the_environment_sets_the_defaults_as_for_a_new_process(crawl, tmp_path):
    """HF_ENDPOINT from the environment (settings.py reads it when the process starts)."""
    with FakeHuggingFace(HubData.synthetic({"BAAI": 2}, datasets_per_account=1)) as fake:
        run = await crawl("huggingface_models", args={"orgs": "BAAI"},
                          env={"HF_ENDPOINT": fake.url})
    assert run.status == 0 and run.stats["osir/stored"] == 2


def test_clis_in_process(cli, tmp_path):
    out = cli.scrapy("settings", "--get", "BOT_NAME")
    assert (out.status, out.out.strip()) == (0, "osir_crawl")
    refused = cli.scoring("build", "--snapshot", "2031-13-07", "--db", tmp_path / "none.db")
    assert refused.status == 2 and refused.err.startswith("error: ")
    usage = cli.scoring("no-such-command")
    assert usage.status == 2 and "invalid choice" in usage.err
