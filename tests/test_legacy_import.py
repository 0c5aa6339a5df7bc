"""The ``legacy_import`` replay: real ``scrapy crawl``, real pipelines, real SQLite, no network."""

from __future__ import annotations

import json

import pytest

from osir_crawl.inputs import published
from osir_crawl.inputs.registry import load_registry
from tests.conftest import ROOT, async_test, rows



def write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))


def hf_model(repo, name, downloads, **kw):
    return {"repo": repo, "model_name": name, "downloads_last_month": downloads, "likes": 3,
            "community": 1, "descendants": 2, "date_crawl": "x",
            "link": f"https://huggingface.co/{repo}/{name}", "metadata": {}, **kw}


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "months"
    for month, total in (("2025-08-07", 100), ("2025-09-07", 180)):
        write(root / month / "HuggingFace" / "raw-models-info.jsonl", [
            hf_model("BAAI", "bge-m3", 5000),
            hf_model("baai", "Case-Differs", 70),  # hubs resolve owners case-insensitively
            hf_model("mteb", "not-ours", 10),  # outside the registry
            hf_model("BAAI", "bge-m3", 5000),  # repeated record: stored once
        ])
        write(root / month / "HuggingFace" / "raw-datasets-info.jsonl", [
            {"repo": "BAAI", "dataset_name": "CCI3-Data", "downloads_last_month": 900,
             "likes": -1, "community": -1, "dataset_usage": 4,
             "link": "https://huggingface.co/datasets/BAAI/CCI3-Data"},
        ])
        write(root / month / "ModelScope" / "raw-models-info.jsonl", [
            {"repo": "Qwen", "model_name": "Qwen3-8B", "total_downloads": total, "likes": 9,
             "community": 0, "link": "https://modelscope.cn/models/Qwen/Qwen3-8B"},
            {"repo": "Qwen", "model_name": "Broken", "total_downloads": -5, "likes": 0,
             "community": 0, "link": "https://modelscope.cn/models/Qwen/Broken"},
            "{not json",
        ])
        write(root / month / "OpenDataLab" / "raw-datasets-info.jsonl", [
            {"org": "ShanghaiAILab", "repo": "OpenDriveLab", "dataset_name": "OpenLane",
             "total_downloads": total * 100, "likes": -1,
             "link": "https://opendatalab.com/OpenDriveLab/OpenLane"},
        ])
        write(root / month / "BAAIData" / "raw-datasets-info.jsonl", [
            {"org": "BAAI", "repo": "BAAI", "dataset_name": "CCI4.0", "total_downloads": total,
             "likes": -1, "link": "https://data.baai.ac.cn/datadetail/CCI4.0"},
        ])
    (root / "2025-09-07" / "data-summary.csv").write_text("org\n")  # other files are ignored
    (root / "notes").mkdir()
    return root


@async_test
async def test_replay_stores_each_month_as_its_snapshot(crawl, root, tmp_path):
    db = tmp_path / "osir.db"
    proc = await crawl("legacy_import", db, args={"root": root})

    models = rows(db, "SELECT * FROM models ORDER BY snapshot, platform, repo_id")
    assert [(m["snapshot"], m["platform"], m["repo_id"], m["org"]) for m in models] == [
        (s, p, r, o) for s in ("2025-08-07", "2025-09-07") for p, r, o in (
            ("huggingface", "BAAI/bge-m3", "BAAI"), ("huggingface", "baai/Case-Differs", "BAAI"),
            ("modelscope", "Qwen/Qwen3-8B", "Ali"))]
    hf = models[0]
    assert (hf["downloads"], hf["downloads_total"], hf["likes"], hf["discussions"],
            hf["descendants"], hf["owner"], hf["name"], hf["url"]) == (
        5000, None, 3, 1, 2, "BAAI", "bge-m3", "https://huggingface.co/BAAI/bge-m3")
    ms = {m["snapshot"]: m for m in models if m["platform"] == "modelscope"}
    assert (ms["2025-08-07"]["downloads_total"], ms["2025-09-07"]["downloads_total"]) == (100, 180)
    assert ms["2025-09-07"]["downloads"] is None  # cumulative only

    datasets = rows(db, "SELECT snapshot, platform, repo_id, org, downloads, downloads_total, "
                        "likes, discussions, dataset_usage FROM datasets "
                        "WHERE snapshot = '2025-09-07' ORDER BY platform")
    assert datasets == [
        {"snapshot": "2025-09-07", "platform": "baai_data", "repo_id": "BAAI/CCI4.0", "org": "BAAI",
         "downloads": None, "downloads_total": 180, "likes": None, "discussions": None,
         "dataset_usage": None},
        {"snapshot": "2025-09-07", "platform": "huggingface", "repo_id": "BAAI/CCI3-Data",
         "org": "BAAI", "downloads": 900, "downloads_total": None, "likes": None,
         "discussions": None, "dataset_usage": 4},
        {"snapshot": "2025-09-07", "platform": "opendatalab", "repo_id": "OpenDriveLab/OpenLane",
         "org": "ShanghaiAILab", "downloads": None, "downloads_total": 18000, "likes": None,
         "discussions": None, "dataset_usage": None},
    ]
    # A negative total is invalid: rejected with its reason, in its own month.
    rejects = rows(db, "SELECT snapshot, repo_id, reason FROM rejects ORDER BY snapshot")
    assert [(r["snapshot"], r["repo_id"]) for r in rejects] == [
        ("2025-08-07", "Qwen/Broken"), ("2025-09-07", "Qwen/Broken")]
    assert "downloads_total is -5" in rejects[0]["reason"]
    row = rows(db, "SELECT * FROM crawls")[0]
    stats = json.loads(row["stats"])
    assert (row["outcome"], row["snapshot"], row["duplicates"]) == ("finished", "2025-09-07", 2)
    assert stats["osir/legacy/unmapped/huggingface"] == 2
    assert stats["osir/legacy/unreadable_lines"] == 2
    assert "downloader/request_count" not in stats  # no request at all
    assert "huggingface:mteb (2)" in proc.log

    # Replaying again is idempotent: same rows, no copies.
    await crawl("legacy_import", db, args={"root": root})
    assert rows(db, "SELECT count(*) AS n FROM models")[0]["n"] == len(models)


@async_test
async def test_months_and_orgs_limit_the_replay(crawl, root, tmp_path):
    db = tmp_path / "osir.db"
    await crawl("legacy_import", db, args={"root": root, "months": "2025-09-07", "orgs": "Ali"})
    assert rows(db, "SELECT DISTINCT snapshot, org FROM models") == [
        {"snapshot": "2025-09-07", "org": "Ali"}]
    assert rows(db, "SELECT count(*) AS n FROM datasets")[0]["n"] == 0


@async_test
async def test_bad_root_or_month_stops_with_a_message(crawl, root, tmp_path):
    db = tmp_path / "osir.db"
    proc = await crawl("legacy_import", db, args={"root": tmp_path / "nowhere"}, check=False)
    assert proc.status != 0 and "is not a folder" in proc.log
    proc = await crawl("legacy_import", db, args={"root": root, "months": "2024-01-01"}, check=False)
    assert proc.status != 0 and "no raw records for 2024-01-01" in proc.log


@async_test
async def test_default_root_is_the_published_data_read_gzipped(crawl, tmp_path):
    """No ``-a root``: ``data/published/months``, whose records are stored as ``*.jsonl.gz``."""
    db = tmp_path / "osir.db"
    await crawl("legacy_import", db, args={"months": "2025-09-07", "orgs": "Deepseek"})
    month = published.PUBLISHED_DIR / "months" / "2025-09-07"
    assert not (month / "HuggingFace" / "raw-models-info.jsonl").exists()  # only the .gz
    registry = load_registry(ROOT / "data" / "orgs.yaml")
    expected = {(p, f"{r['repo']}/{r['model_name']}")
                for folder, p in (("HuggingFace", "huggingface"), ("ModelScope", "modelscope"))
                for r in published.jsonl(month / folder / "raw-models-info.jsonl")
                if registry.org_of(p, r["repo"]) == "Deepseek"}
    stored = {(r["platform"], r["repo_id"]) for r in rows(db, "SELECT * FROM models")}
    assert stored == expected and len(expected) > 10
