"""Fixture tests of the leaderboard spiders' callbacks (tests/spider_fixtures.py) and of the
``legacy_import`` replay: a board's saved files in, its ``boards`` row and ranked, judged,
attributed entries out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from osir_crawl.items import BoardItem, LeaderboardEntryItem
from osir_crawl.spiders.helm import HelmSpider
from osir_crawl.spiders.legacy_import import LegacyImportSpider
from osir_crawl.spiders.lmarena import LmarenaSpider
from osir_crawl.spiders.open_asr import OpenAsrLeaderboardSpider
from osir_crawl.spiders.open_llm import OpenLlmLeaderboardSpider
from osir_crawl.spiders.opencompass import OpencompassLlmSpider, OpencompassVlmSpider
from tests.spider_fixtures import FIXTURES, build, feed, recorded, started, stats

SNAPSHOT = {"OSIR_SNAPSHOT": "2025-10-01"}
VIEWER = "https://datasets-server.huggingface.co"


def board_and_entries(items) -> tuple[BoardItem, dict[str, LeaderboardEntryItem]]:
    [board] = [i for i in items if isinstance(i, BoardItem)]
    return board, {e.model: e for e in items if isinstance(e, LeaderboardEntryItem)}


def test_opencompass_vlm_scores_ranks_and_rules():
    spider = build(OpencompassVlmSpider, SNAPSHOT)
    [request] = started(spider)
    board, entries = board_and_entries(feed(request, "opencompass_vlm/OpenVLM.json")[0])
    assert (board.board, board.last_update, board.maintained, board.models_total,
            board.models_counted, board.excluded) == (
        "opencompass_vlm", "2025-09-17", True, 3, 2, {"not a public model": 1})
    intern = entries["InternVL3-78B"]
    assert intern.score == pytest.approx((87.7 + 72.2 + 90.6 + 2549.8 * 100 / 2800) / 4, abs=1e-4)
    assert (intern.org, intern.params, intern.public, intern.rank, intern.counted) == (
        "ShanghaiAILab", 78.4, True, 1, True)
    assert intern.url == "https://huggingface.co/OpenGVLab/InternVL3-78B"
    assert entries["Emu3-Chat"].scores == {"MMBench_V11": 58.5, "MMMU_VAL": 31.6,
                                           "SEEDBench_IMG": 68.2}
    assert (entries["Emu3-Chat"].org, entries["Emu3-Chat"].rank) == ("BAAI", 3)
    gpt = entries["GPT-4o-20241120"]
    assert (gpt.org, gpt.params, gpt.public, gpt.excluded) == (
        "OpenAI", None, False, "not a public model")


def test_opencompass_llm_from_its_data_file():
    spider = build(OpencompassLlmSpider, SNAPSHOT)
    [request] = started(spider)
    assert request.url.endswith("/assets/llm/data-llm-ability_official.json")
    items, [] = feed(request, "opencompass_llm/data-llm-ability_official.json")
    board, entries = board_and_entries(items)
    assert {m: (e.rank, e.score, e.params, e.org) for m, e in entries.items()} == {
        "Qwen3-235B-A22B": (1, 78.15, 235, "Ali"), "GPT-4o-20241120": (2, 66.5, None, "OpenAI"),
        "InternLM3-8B-Instruct": (2, 66.5, 8, "ShanghaiAILab")}  # a tie shares the rank
    assert entries["Qwen3-235B-A22B"].scores == {"Knowledge": 82.1, "Reasoning": 80.3,
                                                 "Math": 85.6, "Coding": 64.6}
    assert entries["Qwen3-235B-A22B"].url == "https://rank.opencompass.org.cn/leaderboard-llm"
    assert stats(spider)["osir/leaderboard/board_time"] == "2025/9/2"
    # the one rule step: the board's open_source flag, dated by its update_date
    assert (board.board, board.last_update, board.maintained, board.models_counted,
            board.excluded) == ("opencompass_llm", "2025-09-02", True, 2,
                                {"not a public model": 1})
    gpt = entries["GPT-4o-20241120"]
    assert (gpt.public, gpt.public_by, gpt.counted, gpt.excluded, gpt.reason) == (
        False, "board", False, "not a public model",
        "not a public model (the board marks it closed or API-only)")
    qwen = entries["Qwen3-235B-A22B"]
    assert (qwen.counted, qwen.evaluated_at, qwen.reason) == (
        True, "2025-09-02", "counted: public (the board marks it open)")


def test_opencompass_llm_falls_back_to_the_rendered_page():
    spider = build(OpencompassLlmSpider, SNAPSHOT)
    [request] = started(spider)
    [], [page] = feed(request, "opencompass_vlm/OpenVLM.json")  # no OverallTable
    assert page.url == "https://rank.opencompass.org.cn/leaderboard-llm" and page.meta["playwright"]

    items, [] = feed(page, "opencompass_llm/leaderboard-llm.html",
                     captured="opencompass_llm/leaderboard-llm-moved.captured.json")
    assert stats(spider)["osir/leaderboard/data_url"].endswith("data-llm-ability_official_v2.json")
    board, entries = board_and_entries(items)
    assert list(entries) == ["Qwen3-235B-A22B", "GPT-4o-20241120", "InternLM3-8B-Instruct"]
    assert board.models_counted == 2

    spider = build(OpencompassLlmSpider, SNAPSHOT)
    [], [page] = feed(started(spider)[0], "opencompass_vlm/OpenVLM.json")
    items, [] = feed(page, "opencompass_llm/leaderboard-llm.html")  # the table only
    board, entries = board_and_entries(items)
    # no dates, no flags: not maintained (no dated result), nothing counts, each says why
    assert (board.last_update, board.maintained, board.models_counted) == (None, False, 0)
    assert {e.reason for e in entries.values()} == {
        "board not maintained: no dated result or commit"}
    assert entries["InternLM3-8B-Instruct"].scores == {"知识": 70.4, "推理": 66.0, "数学": 72.9,
                                                       "代码": 56.7}
    assert (entries["Qwen3-235B-A22B"].score, entries["Qwen3-235B-A22B"].params) == (78.15, 235)
    assert stats(spider)["osir/leaderboard/parsed_from"] == "table"


def test_open_llm_leaderboard_pages_precisions_and_rules():
    spider = build(OpenLlmLeaderboardSpider, SNAPSHOT)
    spider.page_length = 3  # the viewer's pages are 100 rows; the fixture's, 3
    [first] = started(spider)
    assert parse_qs(urlsplit(first.url).query) == {
        "dataset": ["open-llm-leaderboard/contents"], "config": ["default"], "split": ["train"],
        "offset": ["0"], "length": ["3"]}
    [], [second] = feed(first, "open_llm_leaderboard/rows-offset0.json")
    assert "offset=3" in second.url
    board, entries = board_and_entries(feed(second, "open_llm_leaderboard/rows-offset3.json")[0])
    assert (board.last_update, board.maintained, board.models_total, board.models_counted) == (
        "2025-03-13", False, 3, 0)  # retired: older than 183 days on 2025-10-01
    qwen = entries["Qwen/Qwen2.5-72B-Instruct"]
    assert (qwen.score, qwen.org, qwen.params, qwen.evaluated_at, qwen.rank) == (
        47.98, "Ali", 72.71, "2024-09-19", 1)  # the better precision
    assert entries["someuser/qwen2.5-merge-v3"].org is None  # not Ali's: not by name
    assert entries["internlm/internlm2_5-7b-chat"].org == "ShanghaiAILab"
    assert stats(spider)["osir/leaderboard/precision_variants"] == 1
    assert stats(spider)["osir/leaderboard/rows"] == 4


def test_lmarena_subsets_and_overall_rows():
    spider = build(LmarenaSpider, SNAPSHOT)
    [splits] = started(spider)
    assert splits.url == f"{VIEWER}/splits?dataset=lmarena-ai%2Fleaderboard-dataset"
    [], requests = feed(splits, "lmarena/splits.json")
    assert [parse_qs(urlsplit(r.url).query)["config"] for r in requests] == [["text"], ["vision"]]
    assert stats(spider)["osir/lmarena/subsets_skipped"] == 1  # text_style_control
    board, entries = board_and_entries(feed(requests[0], "lmarena/rows-text.json")[0])
    assert (board.board, board.last_update, board.models_total) == ("lmarena_text",
                                                                    "2025-09-30", 3)
    assert {m: (e.rank, e.org, e.public, e.score) for m, e in entries.items()} == {
        "gemini-2.5-pro": (1, "Google", False, 1455.6),
        "qwen3-235b-a22b": (2, "Ali", True, 1422.1),  # the overall row, not the coding one
        "internlm3-8b-instruct": (3, "ShanghaiAILab", True, 1260.3)}
    assert entries["qwen3-235b-a22b"].scores == {"rating_lower": 1417.5, "rating_upper": 1426.7,
                                                 "vote_count": 20311}


def test_helm_release_files_and_the_runs_layout():
    spider = build(HelmSpider, SNAPSHOT)
    [projects] = started(spider)
    assert projects.url == "https://crfm.stanford.edu/helm/project_metadata.json"
    # The real project list (recorded: helm/project_metadata.source.json): 13 projects, the
    # last of them "home" (All Leaderboards), a page with no benchmark_output: not asked for.
    [], requests = feed(projects, "helm/project_metadata.json", **recorded("helm/project_metadata"))
    summaries = {r.cb_kwargs["project"]: r for r in requests}
    assert len(summaries) == 12 and "home" not in summaries
    assert stats(spider)["osir/helm/projects_not_boards"] == 1
    assert "osir/helm/projects_without_release" not in stats(spider)
    lite, vhelm = summaries["lite"], summaries["vhelm"]
    assert lite.url == ("https://storage.googleapis.com/crfm-helm-public/lite/benchmark_output/"
                        "releases/v1.13.0/summary.json")
    assert summaries["classic"].url.endswith("/classic/benchmark_output/releases/v0.4.0/"
                                             "summary.json")  # the real entry: 5 releases
    [], [runs] = feed(vhelm, "helm/not-found.xml", status=404)  # published by suite
    assert "/vhelm/benchmark_output/runs/v2.1.0/summary.json" in runs.url
    [], [schema] = feed(lite, "helm/summary-lite.json")
    assert schema.url.endswith("/lite/benchmark_output/releases/v1.13.0/schema.json")
    board, entries = board_and_entries(feed(schema, "helm/schema-lite.json")[0])
    assert (board.board, board.last_update, board.url) == (
        "helm_lite", "2025-09-20", "https://crfm.stanford.edu/helm/lite/v1.13.0/")
    qwen, gpt = entries["qwen/qwen2.5-72b-instruct-turbo"], entries["openai/gpt-4o-2024-08-06"]
    assert (qwen.org, qwen.public, qwen.counted, qwen.evaluated_at) == (
        "Ali", True, True, "2025-09-20")
    assert (gpt.org, gpt.public, gpt.excluded) == ("OpenAI", False, "not a public model")


def test_open_asr_lowest_wer_ranks_first():
    spider = build(OpenAsrLeaderboardSpider, SNAPSHOT)
    [commits] = started(spider)
    assert commits.url == ("https://api.github.com/repos/huggingface/open_asr_leaderboard/commits"
                           "?path=scripts%2Fdata&per_page=1")
    [], [results] = feed(commits, "open_asr_leaderboard/commits.json")
    assert results.headers["Accept"] == b"application/vnd.github.raw+json"
    # The real results file (recorded: open_asr_leaderboard/en_shortform.source.json).
    board, entries = board_and_entries(feed(results, "open_asr_leaderboard/en_shortform.csv",
                                            **recorded("open_asr_leaderboard/en_shortform"))[0])
    assert (board.last_update, board.maintained, board.models_total) == ("2025-09-12", True, 87)
    assert {m: (entries[m].rank, entries[m].score, entries[m].public, entries[m].org)
            for m in ("CohereLabs/cohere-transcribe-03-2026", "zoom/scribe_v1",
                      "nvidia/canary-1b-flash", "openai/whisper-large-v3",
                      "Qwen/Qwen3-ASR-1.7B")} == {
        "CohereLabs/cohere-transcribe-03-2026": (1, 5.42, True, None),
        "zoom/scribe_v1": (2, 5.47, False, None),
        "nvidia/canary-1b-flash": (14, 6.35, True, "Nvidia"),
        "openai/whisper-large-v3": (38, 7.44, True, "OpenAI"),
        "Qwen/Qwen3-ASR-1.7B": (6, 5.76, True, "Ali")}
    assert entries["nvidia/canary-1b-flash"].params == 1.0
    assert entries["nvidia/canary-1b-flash"].scores["AMI WER"] == 13.11
    # -1 is the file's "unknown" (a proprietary API's size): NULL, counted, not -1 billion.
    assert entries["zoom/scribe_v1"].params is None
    assert stats(spider)["osir/null/params/minus_one_unknown"] == 17


def test_legacy_import_replays_published_records():
    spider = build(LegacyImportSpider, root=str(FIXTURES / "legacy_import"))
    items = started(spider)
    assert [(i.platform, i.repo_id, i.org, i.downloads, i.downloads_total, i.discussions)
            for i in items] == [
        ("huggingface", "BAAI/bge-m3", "BAAI", 4236147, None, 97),
        ("huggingface", "BAAI/Emu3-Stage1", "BAAI", 5646, None, None),  # -1: not shown
        ("baai_data", "BAAI/BAAI-CCI4.0-M2-Base-v1", "BAAI", None, 294, None)]
    assert items[0].descendants == 412 and items[2].url.startswith("https://data.baai.ac.cn/")
    assert stats(spider)["osir/legacy/unmapped/huggingface"] == 1  # somebody/…
    assert stats(spider)["osir/legacy/unreadable_lines"] == 1
