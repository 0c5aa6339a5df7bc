"""The seed's four evaluation rules on the board spiders (spiders/_board.py), end to end against
loopback fakes, and the forge spiders' catalogue checks (spiders/_catalogue_checks.py).

Rules: evaluated from 2023 on; public models only; no dataset-release-only boards; boards not
updated within OSIR_BOARD_MAX_AGE_DAYS count as not maintained (open_llm_leaderboard, retired in
March 2025, is not counted as live in October 2025)."""

from __future__ import annotations

import datetime as dt
import json
import shutil


from osir_crawl.inputs.catalogue import load_catalogue
from osir_crawl.items import LeaderboardEntryItem
from osir_crawl.spiders._board import exclusion, parse_date
from tests.conftest import ROOT, async_test, rows
from tests.fakes.datasets_server import FakeDatasetsServer, leaderboard_rows, lmarena_tables
from tests.fakes.forge_content import catalogue_content, commit
from tests.fakes.forges import FakeForge, ForgeData
from tests.fakes.helm import FakeHelm
from tests.fakes.opencompass import FakeOpenCompass

SINCE = dt.date(2023, 1, 1)


def entry(**kw):
    return LeaderboardEntryItem(board="b", model="m", url="https://x", **kw)


def test_exclusion_applies_the_four_rules_in_order():
    judge = lambda e, **kw: exclusion(e, **{"dataset_release": False, "maintained": True,  # noqa
                                            "since": SINCE, **kw})
    assert judge(entry(public=True, evaluated_at="2024-05-01")) is None
    assert judge(entry(public=None)) == "openness unknown"  # nothing shows open weights
    assert judge(entry(public=True, evaluated_at="2022-12-31")) == "evaluated before 2023-01-01"
    assert judge(entry(public=False)) == "not a public model"
    assert judge(entry(public=True), maintained=False) == "board not maintained"
    assert judge(entry(public=True), dataset_release=True) == "dataset-release board"
    assert parse_date("20250917") == dt.date(2025, 9, 17)
    assert parse_date("2025/3/13") == dt.date(2025, 3, 13)
    assert parse_date("2025-03-13T09:30:00Z") == dt.date(2025, 3, 13) and parse_date("-") is None


def board_rows(db):
    return {r["board"]: r for r in rows(db, "SELECT * FROM boards")}


@async_test
async def test_open_llm_leaderboard_dates_public_and_retirement(crawl, tmp_path):
    """Old evaluations and unavailable models do not count; in October 2025 the board, last
    updated 2025-03-13, is not maintained and counts nothing."""
    table = leaderboard_rows(120)
    for row in table[:7]:
        row["Submission Date"] = "2022-11-30T10:00:00Z"
    for row in table[50:55]:
        row["Available on the hub"] = False
    by_model = {}
    for row in table:
        kept = by_model.get(row["fullname"])
        if kept is None or row["Average ⬆️"] > kept["Average ⬆️"]:
            by_model[row["fullname"]] = row
    old = {m for m, r in by_model.items() if r["Submission Date"].startswith("2022")}
    private = {m for m, r in by_model.items() if r["Available on the hub"] is False} - old
    for snapshot, maintained in (("2025-06-07", 1), ("2025-10-07", 0)):
        db = tmp_path / f"{snapshot}.db"
        with FakeDatasetsServer(table) as fake:
            await crawl("open_llm_leaderboard", db, {"HF_DATASETS_SERVER_URL": fake.url,
                                                     "OSIR_SNAPSHOT": snapshot})
        board = board_rows(db)["open_llm_leaderboard"]
        assert board["last_update"] == "2025-03-13" and board["maintained"] == maintained
        stored = {r["model"]: r for r in rows(db, "SELECT * FROM leaderboard_entries")}
        assert len(stored) == board["models_total"] == len(by_model)
        if maintained:
            assert {m for m, r in stored.items() if r["excluded"]} == old | private
            assert all(stored[m]["excluded"] == "evaluated before 2023-01-01" for m in old)
            assert all(stored[m]["excluded"] == "not a public model" for m in private)
            assert board["models_counted"] == len(by_model) - len(old | private)
        else:
            assert board["models_counted"] == 0
            assert {r["excluded"] for r in stored.values()} == {"board not maintained"}
            assert json.loads(board["excluded"]) == {"board not maintained": len(by_model)}


@async_test
async def test_opencompass_vlm_counts_open_source_models_only(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with FakeOpenCompass() as fake:
        await crawl("opencompass_vlm", db, {"OPENCOMPASS_VLM_URL": f"{fake.url}/assets/OpenVLM.json",
                                            "OSIR_SNAPSHOT": "2025-10-07"})
        meta = {n: v["META"] for n, v in fake.vlm["results"].items() if n}
    stored = {r["model"]: r for r in rows(db, "SELECT * FROM leaderboard_entries")}
    for name, m in meta.items():
        assert stored[name]["public"] == (m["OpenSource"] == "Yes")
        assert stored[name]["counted"] == (m["OpenSource"] == "Yes")
    board = board_rows(db)["opencompass_vlm"]
    assert board["last_update"] == "2025-09-17" and board["maintained"] == 1
    assert board["host"] == "ShanghaiAILab" and board["entry"] == "openvlm"


@async_test
async def test_a_dataset_release_board_counts_no_model(crawl, tmp_path):
    catalogue = tmp_path / "catalogue"
    shutil.copytree(ROOT / "data" / "catalogue", catalogue)
    path = catalogue / "eval.yaml"
    text = path.read_text()
    path.write_text(text.replace("    board: opencompass_vlm\n",
                                 "    board: opencompass_vlm\n    dataset_release: true\n", 1))
    db = tmp_path / "osir.db"
    with FakeOpenCompass() as fake:
        await crawl("opencompass_vlm", db, {"OPENCOMPASS_VLM_URL": f"{fake.url}/assets/OpenVLM.json",
                                            "OSIR_SNAPSHOT": "2025-10-07",
                                            "OSIR_CATALOGUE": catalogue})
    board = board_rows(db)["opencompass_vlm"]
    assert board["dataset_release"] == 1 and board["models_counted"] == 0
    assert {r["excluded"] for r in rows(db, "SELECT excluded FROM leaderboard_entries")} == {
        "dataset-release board"}


@async_test
async def test_lmarena_one_board_per_subset_public_licences(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with FakeDatasetsServer([], tables=lmarena_tables("2025-09-30")) as fake:
        await crawl("lmarena", db, {"HF_DATASETS_SERVER_URL": fake.url,
                                    "OSIR_SNAPSHOT": "2025-10-07"})
    boards = board_rows(db)
    # style control is a view; agent's columns are score/score_ci_*/observation_count
    assert set(boards) == {"lmarena_text", "lmarena_vision", "lmarena_agent"}
    agent = rows(db, "SELECT * FROM leaderboard_entries WHERE board = 'lmarena_agent'")
    assert len(agent) == 6 and all(r["score"] is not None and r["rank"] for r in agent)
    assert boards["lmarena_text"]["models_total"] == 10
    assert boards["lmarena_text"]["models_counted"] == 7  # 3 proprietary
    assert boards["lmarena_text"]["host"] == "LMSYS"
    text = {r["model"]: r for r in rows(db, "SELECT * FROM leaderboard_entries "
                                            "WHERE board = 'lmarena_text'")}
    assert text["gpt-4o-2024-05-13"]["excluded"] == "not a public model"
    assert text["deepseek-r1-0528"]["org"] == "Deepseek"
    assert text["gemma-3-27b-it"]["org"] == "Google" and text["gemma-3-27b-it"]["counted"] == 1
    assert text["qwen3-235b-a22b"]["evaluated_at"] == "2025-09-30"


@async_test
async def test_helm_projects_access_and_stale_projects(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with FakeHelm() as fake:
        await crawl("helm", db, {"HELM_URL": f"{fake.url}/helm",
                                 "HELM_STORAGE_URL": f"{fake.url}/crfm-helm-public",
                                 "OSIR_SNAPSHOT": "2025-10-07"})
        runs = [s.path for s in fake.log if "/runs/" in s.path]
    assert rows(db, "SELECT outcome FROM crawls")[0]["outcome"] == "finished"
    boards = board_rows(db)
    assert set(boards) == {"helm_lite", "helm_capabilities", "helm_vhelm", "helm_heim"}
    assert runs and all("vhelm" in p for p in runs)  # published by suite: read under runs/
    assert not [s for s in fake.log if "/home/" in s.path]  # the landing page: not a board
    assert boards["helm_lite"]["models_total"] == 8 and boards["helm_lite"]["models_counted"] == 5
    assert boards["helm_heim"]["maintained"] == 0 and boards["helm_heim"]["models_counted"] == 0
    lite = {r["model"]: r for r in rows(db, "SELECT * FROM leaderboard_entries "
                                            "WHERE board = 'helm_lite'")}
    assert lite["openai/gpt-4o-2024-08-06"]["excluded"] == "not a public model"
    assert lite["meta/llama-3.1-405b-instruct-turbo"]["org"] == "Meta"
    assert not rows(db, "SELECT * FROM failures")


def github_world(tmp_path, drop=(), extra=None):
    catalogue = load_catalogue(ROOT / "data" / "catalogue")
    content = catalogue_content(catalogue)
    for name in drop:
        del content[name]
    content.update(extra or {})
    data = ForgeData.synthetic("github", {"FlagOpen": 3, "baaivision": 2})
    data.contributors.update({name: 17 for name in content})
    return FakeForge("github", data, content=content)


@async_test
async def test_github_repos_confirms_catalogued_repositories_and_counts_rules(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with github_world(tmp_path, drop=["flageval-baai/HalluDial"]) as fake:
        await crawl("github_repos", db, {"GITHUB_API_URL": fake.url, "OSIR_SNAPSHOT": "2025-10-07"},
                    args={"orgs": "BAAI"})
    repos = {r["repo_id"]: r for r in rows(db, "SELECT * FROM catalogue_repos")}
    assert repos["flageval-baai/HalluDial"]["exists"] == 0
    assert repos["flageval-baai/HalluDial"]["status"] == 404
    assert repos["flagos-ai/FlagGems"]["exists"] == 1
    assert repos["flagos-ai/FlagGems"]["contributors"] == 17
    assert repos["flagos-ai/FlagGems"]["pushed_at"] == "2025-09-30T08:00:00Z"
    assert {r["org"] for r in repos.values()} == {"BAAI"}
    counts = {r["rule"]: r for r in rows(db, "SELECT * FROM catalogue_counts")}
    assert counts["flaggems.operators"]["value"] == 206
    assert counts["flaggems.chips"]["value"] == 10
    assert counts["flagscale.chips"]["value"] == 8
    # rules reading the same tree or file are each evaluated (none dropped as a duplicate)
    assert counts["flagscale.lifecycle"]["value"] == 4
    assert counts["flagscale.heterogeneous_training"]["value"] == 1
    assert {"flagcx.cross_chip", "flagcx.heterogeneous_training"} <= set(counts)
    flagtree = counts["flagtree.chips"]
    assert flagtree["value"] == 9 and len(json.loads(flagtree["refs"])) == 5  # union of refs
    assert "nvidia" in json.loads(flagtree["names"])
    assert rows(db, "SELECT outcome FROM crawls")[0]["outcome"] == "finished"


@async_test
async def test_a_missing_rule_file_is_a_failure_not_a_zero(crawl, tmp_path):
    db = tmp_path / "osir.db"
    with github_world(tmp_path) as fake:
        fake.content["flagos-ai/FlagGems"].files["main"].clear()
        unfinished = await crawl("github_repos", db, {"GITHUB_API_URL": fake.url,
                                                      "OSIR_SNAPSHOT": "2025-10-07"},
                                 args={"orgs": "BAAI"}, check=False)
        assert unfinished.status == 1 and "osir-crawl:" in unfinished.line  # not finished: exit 1
    counts = {r["rule"] for r in rows(db, "SELECT rule FROM catalogue_counts")}
    assert "flaggems.operators" not in counts and "flaggems.chips" in counts
    [failure] = rows(db, "SELECT * FROM failures")
    assert failure["status"] == 404 and "contents/src/flag_gems/__init__.py" in failure["url"]


@async_test
async def test_open_asr_leaderboard_from_the_repository_results(crawl, tmp_path):
    csv_text = ("model,Avg. WER,RTFx,Model size (B),License,AMI WER\n"
                "nvidia/canary-1b-flash,6.35,1045.7,0.88,Open,13.1\n"
                "microsoft/phi-4-multimodal-instruct,6.14,150.6,5.6,Open,11.5\n"
                "elevenlabs/scribe_v1,5.8,-1,-1,Proprietary,10.0\n"
                "openai/whisper-large-v3,7.44,145.5,1.55,Open,15.9\n")
    from tests.fakes.forge_content import RepoContent, repo_info
    asr = RepoContent(repo_info("huggingface/open_asr_leaderboard", "https://github.com"),
                      files={"main": {"scripts/data/en_shortform.csv": csv_text}},
                      commits=[commit("2025-08-21T10:00:00Z", "scripts/data/en_shortform.csv"),
                               commit("2025-01-02T10:00:00Z", "README.md")])
    db = tmp_path / "osir.db"
    with github_world(tmp_path, extra={"huggingface/open_asr_leaderboard": asr}) as fake:
        await crawl("open_asr_leaderboard", db, {"GITHUB_API_URL": fake.url,
                                                 "OSIR_SNAPSHOT": "2025-10-07"})
    board = board_rows(db)["open_asr_leaderboard"]
    assert board["last_update"] == "2025-08-21" and board["models_counted"] == 3
    stored = {r["model"]: r for r in rows(db, "SELECT * FROM leaderboard_entries")}
    assert stored["elevenlabs/scribe_v1"]["excluded"] == "not a public model"
    assert stored["elevenlabs/scribe_v1"]["rank"] == 1  # lowest WER first
    assert stored["nvidia/canary-1b-flash"]["org"] == "Nvidia"
    assert stored["openai/whisper-large-v3"]["rank"] == 4
