"""The one rule step for every evaluation entry (osir_crawl/rules/eval_rules.py): the reasons a reader
sees, openness resolved from the board, the catalogue or the store's hub models, maintenance
from a date, and the step run over a whole store as ``scrapy crawlall`` runs it."""

from __future__ import annotations

import datetime as dt

from osir_crawl import store
from osir_crawl.inputs.catalogue import load_catalogue
from osir_crawl.rules.eval_rules import (Openness, OpenWeights, board_maintained, judge, judge_store)
from osir_crawl.spiders.opencompass import OpencompassLlmSpider
from tests.conftest import ROOT
from tests.spider_fixtures import build, respond, started

DAY = dt.date(2025, 10, 7)
OPEN = Openness(True, "board", "the board marks it open")
CATALOGUE = load_catalogue(ROOT / "data" / "catalogue")


def test_each_rule_gives_its_reason():
    kw = {"dataset_release": False, "maintained": True}
    assert judge(OPEN, "2024-05-01", **kw) == (True, "counted: public (the board marks it open)")
    assert judge(OPEN, "2022-12-31", **kw) == (False, "evaluated before 2023-01-01")
    assert judge(Openness(False, "board", "the board marks it closed or API-only"), None,
                 **kw) == (False, "not a public model (the board marks it closed or API-only)")
    unknown = Openness(None, "unknown", "not found on Hugging Face or ModelScope")
    assert judge(unknown, None, **kw) == (
        False, "openness unknown (not found on Hugging Face or ModelScope)")
    assert judge(OPEN, None, dataset_release=True, maintained=True) == (
        False, "dataset-release board")
    maintained, why = board_maintained("2025-03-13", DAY, 183)
    assert (maintained, why) == (False, "board not maintained: last updated 2025-03-13, 208 days "
                                        "before 2025-10-07 (> 183)")
    assert judge(OPEN, None, dataset_release=False, maintained=False, maintained_why=why) == (
        False, why)
    assert board_maintained(None, DAY, 183) == (
        False, "board not maintained: no dated result or commit")
    assert board_maintained("2025/9/2", DAY, 183) == (
        True, "board maintained: last updated 2025-09-02")


def test_openness_board_then_catalogue_then_the_store_of_the_same_org():
    weights = OpenWeights([("huggingface", "Qwen/Qwen3-235B-A22B", "Ali"),
                           ("modelscope", "Shanghai_AI_Laboratory/internlm3-8b-instruct",
                            "ShanghaiAILab"),
                           ("huggingface", "someone/GLM-4.5", "Ali")], CATALOGUE.model_access)
    assert weights.of("GPT-4o-20241120", "OpenAI", board_says=True).by == "board"
    gpt = weights.of("GPT-4o-20241120", "OpenAI")
    assert (gpt.public, gpt.by, gpt.why) == (
        False, "catalogue", "closed or API-only per https://platform.openai.com/docs/models")
    assert weights.of("gpt-oss-120b", "OpenAI").public is True
    qwen = weights.of("Qwen3-235B-A22B", "Ali")
    assert (qwen.public, qwen.by, qwen.why) == (
        True, "store", "open weights: huggingface:Qwen/Qwen3-235B-A22B")
    intern = weights.of("InternLM3 8B Instruct", "ShanghaiAILab")  # spaces fold to dashes
    assert intern.why == "open weights: modelscope:Shanghai_AI_Laboratory/internlm3-8b-instruct"
    # a repository of the same name under another org proves nothing about Zhipu's model
    glm = weights.of("GLM-4.5", "Zhipu")
    assert (glm.public, glm.why) == (
        None, "not found on Hugging Face or ModelScope under Zhipu, no catalogue entry")
    linked = weights.of("Qwen3 flagship", "Ali", "https://huggingface.co/Qwen/Qwen3-235B-A22B")
    assert linked.public is True


def _store(path, entries, boards=(), models=()):
    db = store.open_store(path)
    stamp = {"snapshot": "2025-10-07", "crawl_id": "c1", "fetched_at": "2025-10-07T00:00:00"}
    store.write_rows(db, "models", [{**m, **stamp} for m in models])
    store.write_rows(db, "boards", [{**b, **stamp} for b in boards])
    store.write_rows(db, "leaderboard_entries", [{**e, **stamp} for e in entries])
    return db


def test_judge_store_decides_every_entry_and_recounts_boards(tmp_path):
    """opencompass_llm rows of an older crawl (no decision at all), a board row, the hub models
    of the snapshot: every entry gets counted, excluded and its reason."""
    db = _store(tmp_path / "s.db", entries=[
        {"board": "opencompass_llm", "model": "Qwen3-235B-A22B", "org": "Ali", "url": "u"},
        {"board": "opencompass_llm", "model": "GPT-4o-20241120", "org": "OpenAI", "url": "u"},
        {"board": "opencompass_llm", "model": "Doubao-1.5-pro", "org": "ByteDance", "url": "u"},
        {"board": "opencompass_llm", "model": "Mystery-7B", "org": None, "url": "u"},
        {"board": "open_llm_leaderboard", "model": "Qwen/Qwen2-7B", "org": "Ali", "url": "u",
         "public": 1}],
        boards=[{"board": "opencompass_llm", "url": "u", "last_update": "2025-09-02"},
                {"board": "open_llm_leaderboard", "url": "u", "last_update": "2025-03-13"}],
        models=[{"platform": "huggingface", "repo_id": "Qwen/Qwen3-235B-A22B", "org": "Ali",
                 "owner": "Qwen", "name": "Qwen3-235B-A22B"}])
    done = judge_store(db, "2025-10-07", CATALOGUE)
    got = {r["model"]: r for r in db["leaderboard_entries"].rows}
    assert done == {"counted": 1, "excluded": {"board not maintained": 1,
                                              "not a public model": 2, "openness unknown": 1}}
    assert all(r["counted"] is not None and r["reason"] for r in got.values())
    assert (got["Qwen3-235B-A22B"]["counted"], got["Qwen3-235B-A22B"]["reason"]) == (
        1, "counted: public (open weights: huggingface:Qwen/Qwen3-235B-A22B)")
    assert got["GPT-4o-20241120"]["reason"] == (
        "not a public model (closed or API-only per https://platform.openai.com/docs/models)")
    assert got["Doubao-1.5-pro"]["excluded"] == "not a public model"
    assert got["Mystery-7B"]["reason"] == ("openness unknown (not found on Hugging Face or "
                                           "ModelScope, no catalogue entry)")
    assert got["Qwen/Qwen2-7B"]["reason"].startswith("board not maintained: last updated "
                                                     "2025-03-13")
    board = next(db["boards"].rows_where("board = 'opencompass_llm'"))
    assert board["models_counted"] == 1


def test_opencompass_llm_without_flags_resolves_against_the_store(tmp_path):
    """A CompassRank file without ``open_source``: the spider looks the names up among the
    store's hub models and the catalogue (no request)."""
    import json

    from tests.spider_fixtures import FIXTURES

    data = json.loads((FIXTURES / "opencompass_llm/data-llm-ability_official.json").read_text())
    for row in data["OverallTable"]:
        del row["open_source"]
    (tmp_path / "f.json").write_text(json.dumps(data))
    _store(tmp_path / "s.db", entries=[], models=[
        {"platform": "huggingface", "repo_id": "Qwen/Qwen3-235B-A22B", "org": "Ali",
         "owner": "Qwen", "name": "Qwen3-235B-A22B"}]).close()
    spider = build(OpencompassLlmSpider, {"OSIR_SNAPSHOT": "2025-10-07",
                                          "OSIR_DB": str(tmp_path / "s.db")})
    # The crawl run reads the store for the spider (spiders never open it themselves).
    from scrapy.extension import ExtensionManager

    from osir_crawl.extensions.crawl_run import CrawlRun
    spider.crawler.extensions = ExtensionManager(CrawlRun.from_crawler(spider.crawler),
                                                 crawler=spider.crawler)
    request = started(spider)[0]
    out = list(request.callback(respond(request, None).replace(
        body=(tmp_path / "f.json").read_bytes())))
    entries = {e.model: e for e in out if hasattr(e, "model")}
    assert (entries["Qwen3-235B-A22B"].public_by, entries["Qwen3-235B-A22B"].counted) == (
        "store", True)
    assert entries["GPT-4o-20241120"].public_by == "catalogue"
    assert entries["InternLM3-8B-Instruct"].excluded == "openness unknown"
