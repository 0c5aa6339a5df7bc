"""Derived infra/eval indicators from a small store, and the ``scoring evidence`` report."""

from __future__ import annotations

import csv

import pytest

from osir_crawl.store import open_store, write_rows
from scoring.derived import derived_indicators, sources
from scoring.evidence import collect, markdown

SNAP = "2025-09-07"


def repo(platform, repo_id, org, stars, forks=0, contributors=None, fork=0, archived=0,
         pushed="2025-08-30T11:20:01Z", snapshot=SNAP):
    owner, name = repo_id.split("/")
    return dict(platform=platform, repo_id=repo_id, snapshot=snapshot, org=org, owner=owner,
                name=name, stars=stars, forks=forks, contributors=contributors, fork=fork,
                archived=archived, pushed_at=pushed, url=f"https://x/{repo_id}", crawl_id="c1")


def entry(board, model, org, rank, snapshot=SNAP):
    return dict(board=board, model=model, snapshot=snapshot, org=org, rank=rank, score=1.0,
                url="https://x", crawl_id="c2")


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "osir.db"
    db = open_store(path)
    write_rows(db, "repos", [
        repo("github", "FlagOpen/FlagEmbedding", "BAAI", 9800, 720, 120),
        repo("github", "FlagOpen/old", "BAAI", 50, 3, None, pushed="2024-01-01T00:00:00Z"),
        repo("github", "FlagOpen/frozen", "BAAI", 7, 1, 2, archived=1),
        repo("github", "FlagOpen/someone-elses", "BAAI", 5000, 900, 400, fork=1),
        repo("gitee", "mindspore/mindspore", "Huawei", 4700, 2900, None,
             pushed="2025-09-01T10:00:00+08:00"),
        repo("github", "FlagOpen/FlagEmbedding", "BAAI", 1, 1, 1, snapshot="2025-08-07"),
    ])
    write_rows(db, "leaderboard_entries", [
        entry("opencompass_vlm", "Emu3-Chat", "BAAI", 40),
        entry("open_llm_leaderboard", "BAAI/Infinity-Instruct-7B", "BAAI", 12),
        entry("opencompass_llm", "emu3-chat", "BAAI", 3),  # the same model, another board
        entry("opencompass_vlm", "InternVL3-78B", "ShanghaiAILab", 1),
        entry("opencompass_vlm", "Claude3.5-Sonnet", None, 2),
        entry("opencompass_vlm", "Old-Model", "BAAI", 9, snapshot="2025-08-07"),
    ])
    db.table("crawls").insert({"crawl_id": "github_repos-1", "spider": "github_repos",
                               "snapshot": SNAP, "started_at": "t", "outcome": "finished",
                               "orgs": '["BAAI", "Huawei", "Baidu"]'})
    db.close()
    return path


def test_derived_values(store):
    got = derived_indicators(store, SNAP)
    assert got["eval"] == {
        "BAAI": {"num_models_on_leaderboards": 2, "num_leaderboards_present": 3},
        # runs both OpenCompass boards: 3 distinct models there (emu3-chat is on both), anyone's
        "ShanghaiAILab": {"num_models_on_leaderboards": 1, "num_leaderboards_present": 1,
                          "num_hosted_leaderboards": 2, "num_hosted_models": 3},
        "HuggingFace": {"num_hosted_leaderboards": 1, "num_hosted_models": 1},
    }
    assert got["infra"]["BAAI"] == {"num_repos": 3, "repo_stars": 9857, "repo_forks": 724,
                                    "repo_contributors": 122, "num_active_repos": 1}
    assert got["infra"]["Huawei"]["num_active_repos"] == 1
    assert derived_indicators(store, "2030-01-01") == {"eval": {}, "infra": {}}
    where = sources(store, SNAP)
    assert "platform gitee, github" in where["infra"] and "github_repos-1 (finished)" in where["infra"]
    assert "board open_llm_leaderboard, opencompass_llm, opencompass_vlm" in where["eval"]


def test_mirrors_are_left_out_of_infra(store):
    """An OpenI (Gitea) pull mirror copies a repository hosted elsewhere: counted there."""
    db = open_store(store)
    later = "2025-10-07"
    write_rows(db, "repos", [
        {**repo("openi", "BAAI/FlagEmbedding", "BAAI", 3, 1, 1, snapshot=later), "mirror": 1},
        {**repo("openi", "BAAI/Aquila", "BAAI", 20, 4, 2, snapshot=later), "mirror": 0},
        repo("github", "FlagOpen/FlagEmbedding", "BAAI", 9800, 720, 120, snapshot=later)])
    db.close()
    assert derived_indicators(store, later)["infra"]["BAAI"] == {
        "num_repos": 2, "repo_stars": 9820, "repo_forks": 724, "repo_contributors": 122,
        "num_active_repos": 2}


def test_evidence_report_against_the_curated_files(cli, store, tmp_path):
    out = tmp_path / "report"
    proc = cli.scoring("evidence", "--snapshot", SNAP, "--db", store, "--out", out)
    assert proc.status == 0, proc.err
    assert "| org | num_leaderboards (curated) | num_hosted_leaderboards (derived) |" in proc.out
    with open(out / "evidence.csv", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    def value(org, dim, ind, side):
        return next(r for r in table if (r["org"], r["dimension"], r["indicator"], r["side"])
                    == (org, dim, ind, side))
    curated = value("BAAI", "eval", "num_evaluated_models", "curated")
    assert curated["value"] == "1010" and "eval-summary.csv" in curated["source"]  # 2025-09-07
    derived = value("BAAI", "eval", "num_models_on_leaderboards", "derived")
    assert derived["value"] == "2" and "leaderboard_entries" in derived["source"]
    assert value("ShanghaiAILab", "eval", "num_hosted_models", "derived")["value"] == "3"
    assert value("Baidu", "eval", "num_hosted_models", "derived")["value"] == "0"
    assert value("BAAI", "infra", "repo_stars", "derived")["value"] == "9857"
    assert value("Baidu", "infra", "num_repos", "derived")["value"] == "0"  # crawled, none found
    assert not [r for r in table if (r["org"], r["dimension"], r["side"]) ==
                ("Meta", "infra", "derived")]  # not crawled: unknown, not zero
    assert (out / "evidence.md").read_text().strip() == proc.out.strip()


def test_evidence_falls_back_to_the_anchors(store, tmp_path, anchors):
    ev = collect(SNAP, store, curated_dir=tmp_path / "no-curated-here", anchors=anchors)
    assert any("using the published anchors" in n for n in ev.notes)
    assert ev.curated["eval"].values["ShanghaiAILab"]["num_evaluated_models"] == 1094
    assert "eval-summary.csv of 2025-09-07" in ev.curated["eval"].origin
    assert "| ShanghaiAILab |" in markdown(ev)


def test_evidence_cli_errors(cli, tmp_path):
    proc = cli.scoring("evidence", "--snapshot", SNAP, "--db", tmp_path / "none.db")
    assert proc.status == 2 and "store not found" in proc.err
