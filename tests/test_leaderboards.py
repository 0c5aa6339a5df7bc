"""End to end: the leaderboard spiders against loopback fakes (OpenVLM.json, the dataset viewer's
rows pages, and the OpenCompass LLM single-page app rendered in Debian's Chromium)."""

from __future__ import annotations

import json

import pytest

from osir_crawl.inputs.registry import load_registry
from osir_crawl.parsing import number
from osir_crawl.spiders._model_orgs import ModelOrgs, account_in_url
from tests.conftest import ROOT, async_test, rows
from tests.fakes.datasets_server import FakeDatasetsServer, leaderboard_rows
from tests.fakes.opencompass import (LLM_COLUMNS, LLM_DATA, LLM_LABELS, LLM_MODELS, VLM_MODELS,
                                     FakeOpenCompass)

SNAPSHOT = "2025-09-07"


@pytest.fixture
def crawl(crawl):
    """The in-process crawl (tests/conftest.py) with this module's settings."""
    async def run(spider, db, settings, **kw):
        return await crawl(spider, db, {"OSIR_SNAPSHOT": SNAPSHOT, **settings}, **kw)
    return run


def model_orgs():
    return ModelOrgs(load_registry(ROOT / "data" / "orgs.yaml"), ROOT / "data" / "model_name_orgs.yaml")


@async_test
async def test_opencompass_vlm_ranks_scores_and_attribution(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with FakeOpenCompass() as fake:
        fake.add_fault(match="OpenVLM.json", status=200, body=b'{"time": "2025', times=1)
        await crawl("opencompass_vlm", db, {"OPENCOMPASS_VLM_URL": f"{fake.url}/assets/OpenVLM.json"})
    stored = {r["model"]: r for r in rows(db, "SELECT * FROM leaderboard_entries")}
    assert sorted(stored) == sorted(name for name, _, _ in VLM_MODELS)
    orgs = {m: r["org"] for m, r in stored.items()}
    assert orgs == {"InternVL3-78B": "ShanghaiAILab", "Qwen2.5-VL-72B": "Ali",
                    "GPT-4o-20241120": "OpenAI", "Gemini-2.0-Pro": "Google",
                    "Claude3.5-Sonnet": None, "MiniCPM-V-2.6": "OpenBMB", "Emu3-Chat": "BAAI",
                    "deepseek-vl2": "Deepseek", "Step-1o": None,
                    "LLaVA-OneVision-72B": None}  # lmms-lab is nobody's account in the registry
    results = fake.vlm["results"]
    for name, row in stored.items():
        scores = json.loads(row["scores"])
        raw = results[name]
        assert scores["MMMU_VAL"] == raw["MMMU_VAL"]["Overall"]
        assert scores.get("OCRBench") == raw.get("OCRBench", {}).get("Final Score")
        scaled = [s * {"OCRBench": 0.1, "MME": 100 / 2800}.get(b, 1) for b, s in scores.items()]
        assert row["score"] == pytest.approx(sum(scaled) / len(scaled), abs=1e-3)
        assert row["params"] == (raw["META"]["Param (B)"] or None)
        assert row["url"] == raw["META"]["Method"][1]
    ranked = sorted(stored.values(), key=lambda r: r["rank"])
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert all(a["score"] >= b["score"] for a, b in zip(ranked, ranked[1:]))
    [reject] = rows(db, "SELECT * FROM rejects")
    assert reject["reason"] == "model is missing (got '')"
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    stats = json.loads(crawl_row["stats"])
    assert crawl_row["outcome"] == "finished" and crawl_row["retries"] == 1  # the truncated body
    assert stats["osir/leaderboard/unattributed"] == 4  # 3 models + the nameless entry


@async_test
async def test_open_llm_leaderboard_pages_dedup_ranks_and_orgs(crawl, tmp_path):
    db = tmp_path / "osir.db"
    table = leaderboard_rows(230)
    table.append({"fullname": None, "Average ⬆️": 10})  # no model name: rejected
    with FakeDatasetsServer(table) as fake:
        fake.add_fault(match="offset=100", status=503)  # transient
        await crawl("open_llm_leaderboard", db, {"HF_DATASETS_SERVER_URL": fake.url})
        pages = sorted(s.path for s in fake.log if s.status == 200)
    assert len(pages) == 3 and all("length=100" in p for p in pages)
    stored = rows(db, "SELECT * FROM leaderboard_entries ORDER BY rank")
    best = {}
    for row in table[:-1]:
        if row["fullname"] not in best or row["Average ⬆️"] > best[row["fullname"]]["Average ⬆️"]:
            best[row["fullname"]] = row
    assert len(stored) == len(best) == 230
    for entry in stored:
        source = best[entry["model"]]
        assert entry["score"] == source["Average ⬆️"]  # the best precision was kept
        assert json.loads(entry["scores"])["MMLU-PRO"] == source["MMLU-PRO"]
        assert entry["url"] == f"https://huggingface.co/{entry['model']}"
    owners = {"Qwen": "Ali", "meta-llama": "Meta", "deepseek-ai": "Deepseek",
              "internlm": "ShanghaiAILab", "THUDM": "Zhipu", "01-ai": "01-AI",
              "microsoft": "Microsoft", "google": "Google", "mistralai": "MistralAI",
              "nvidia": "Nvidia"}
    assert all(e["org"] == owners.get(e["model"].split("/")[0]) for e in stored)
    scores = [e["score"] for e in stored]
    assert scores == sorted(scores, reverse=True) and stored[0]["rank"] == 1
    assert len(rows(db, "SELECT * FROM rejects")) == 1

    # -a orgs= keeps the board's ranks but stores only those orgs' entries, and a re-crawl of the
    # selection replaces just them.
    with FakeDatasetsServer(table) as fake:
        await crawl("open_llm_leaderboard", db, {"HF_DATASETS_SERVER_URL": fake.url},
                    args={"orgs": "Ali"})
    again = rows(db, "SELECT * FROM leaderboard_entries WHERE org = 'Ali' ORDER BY rank")
    assert [(e["model"], e["rank"]) for e in again] == [
        (e["model"], e["rank"]) for e in stored if e["org"] == "Ali"]
    assert len(rows(db, "SELECT * FROM leaderboard_entries")) == 230


@async_test
async def test_failed_rows_page_is_recorded_and_the_rest_ranked(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with FakeDatasetsServer(leaderboard_rows(150)) as fake:
        fake.add_fault(match="offset=100", status=500, times=99)
        unfinished = await crawl("open_llm_leaderboard", db, {
            "HF_DATASETS_SERVER_URL": fake.url, "RETRY_TIMES": 1}, check=False)
        assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["status"] == 500 and "offset=100" in failure["url"]
    assert rows(db, "SELECT outcome FROM crawls")[0]["outcome"] == "incomplete"
    stored = rows(db, "SELECT rank FROM leaderboard_entries ORDER BY rank")
    assert stored and stored[0]["rank"] == 1 and len(stored) < 150


def test_model_attribution_and_number_parsing():
    orgs = model_orgs()
    assert orgs.of("anything", "https://huggingface.co/OpenGVLab/InternVL3-78B") == "ShanghaiAILab"
    assert orgs.of("Qwen3-235B") == "Ali" and orgs.of("qwq-32b") == "Ali"
    assert orgs.of("Llama-Nemotron-Ultra") == "Nvidia"  # the longest prefix wins over Llama
    assert orgs.of("Qwen2.5-7B", account=("huggingface", "someuser"), by_name=False) is None
    assert orgs.of("Mystery") is None
    assert account_in_url("https://modelscope.cn/models/Qwen/Qwen3-8B") == ("modelscope", "Qwen")
    assert account_in_url("https://huggingface.co/datasets/x/y") is None
    assert account_in_url("https://openai.com/index/x") is None
    assert (number("78.4"), number("-"), number(None), number(True), number(float("nan"))) == (
        78.4, None, None, None, None)


@pytest.mark.slow  # Chromium
@pytest.mark.parametrize("case", ["file", "moved", "inline"])
@async_test
async def test_opencompass_llm_from_the_file_the_page_loads(crawl, case, tmp_path):
    """CompassRank's page loads its board from a static JSON file: the spider reads that file
    ("file", no browser). When the file has moved, Chromium renders the page and the entries
    come from the JSON it fetched ("moved"), or, when the page fetched none, from the rendered
    table ("inline")."""
    db = tmp_path / "osir.db"
    moved = "/assets/llm/data-llm-ability_official_v2.json"
    with FakeOpenCompass(llm_mode="inline" if case == "inline" else "fetch",
                         llm_data_path=LLM_DATA if case == "file" else moved) as fake:
        proc = await crawl("opencompass_llm", db, {"OPENCOMPASS_URL": fake.url,
                                                   "OPENCOMPASS_LLM_URL": fake.llm_data_url})
        paths = [s.path.split("?")[0] for s in fake.log]
    log = proc.log[-4000:]  # shown when an assertion fails
    assert paths[0] == LLM_DATA, log
    assert ("/leaderboard-llm" in paths) == (case != "file"), log
    assert (moved in paths) == (case == "moved"), log
    stored = {r["model"]: r for r in rows(db, "SELECT * FROM leaderboard_entries")}
    assert sorted(stored) == sorted(LLM_MODELS), log
    [crawl_row] = rows(db, "SELECT * FROM crawls")
    stats = json.loads(crawl_row["stats"])
    assert crawl_row["outcome"] == "finished" and crawl_row["failed_requests"] == 0, log
    assert stats["osir/leaderboard/parsed_from"] == {
        "file": "json", "moved": "page json", "inline": "table"}[case], log
    if case == "moved":  # what to set OPENCOMPASS_LLM_URL to
        assert stats["osir/leaderboard/data_url"] == fake.url + moved
        assert "set OPENCOMPASS_LLM_URL to it" in proc.log
    if case == "file":
        assert stats["osir/leaderboard/board_time"] == "2025/9/2"
        assert "playwright/browser_count" not in stats
    for source in fake.llm:
        row = stored[source["model"]]
        assert row["score"] == pytest.approx(source["Average"], abs=0.006)  # table: 2 dp
        scores = {LLM_LABELS[c] if case == "inline" else c: source[c] for c in LLM_COLUMNS}
        assert json.loads(row["scores"]) == pytest.approx(scores, abs=0.051)
        assert row["params"] == {"235B": 235, "8B": 8, "671B": 671, "405B": 405}.get(
            source["para_num"])
        assert row["url"] == f"{fake.url}/leaderboard-llm"
    ranked = sorted(stored.values(), key=lambda r: r["rank"])
    assert all(a["score"] >= b["score"] for a, b in zip(ranked, ranked[1:]))
    assert stored["Qwen3-235B-A22B"]["org"] == "Ali" and stored["Kimi-K2"]["org"] == "Moonshot"
    assert stored["Yi-Lightning"]["org"] == "01-AI" and stored["Mystery-Model-X"]["org"] is None


@pytest.mark.slow  # Chromium
@async_test
async def test_opencompass_llm_with_no_board_anywhere_is_a_failure(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with FakeOpenCompass(llm_mode="fetch", llm_data_path="/assets/llm/elsewhere.json") as fake:
        fake.add_fault(match="elsewhere", status=404, times=99)
        unfinished = await crawl("opencompass_llm", db, {
            "OPENCOMPASS_URL": fake.url, "RETRY_TIMES": 0, "OPENCOMPASS_LLM_URL": fake.llm_data_url,
            "OSIR_BROWSER_SETTLE_TIMEOUT": 6}, check=False)  # no table to wait for
        assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["reason"] == "no leaderboard rows in the page or its JSON"
    assert not rows(db, "SELECT * FROM leaderboard_entries")


def test_board_rows_and_params():
    from osir_crawl.parsing import parse_params
    from osir_crawl.spiders.opencompass import board_rows
    doc = {"data": {"meta": [{"name": "x"}], "list": [{"modelName": "A", "avgScore": 1},
                                                      {"modelName": "B", "avgScore": 2}]}}
    assert [r["modelName"] for r in board_rows(doc)] == ["A", "B"]
    assert board_rows({"list": [{"model": "A"}]}) == []  # no score: not a board
    assert (parse_params("235B"), parse_params("1.5T"), parse_params("500M"),
            parse_params("-"), parse_params(7.6)) == (235, 1500, 0.5, None, 7.6)
