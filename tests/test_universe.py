"""``-a universe=all`` and ``-a shard=I/N`` on real crawls of the small fakes: unregistered
authors stored as ``platform:author`` down to the floor, registry accounts credited as ever,
shards splitting the work and replacing only their own rows. (Two shards on two scrapyd nodes,
merged and compared row for row with an unsharded crawl: tests/test_sharding.py.)"""

from __future__ import annotations

import pytest

from osir_crawl.shards import Shard
from tests.conftest import async_test, rows
from tests.fakes.huggingface import FakeHuggingFace, HubData, _model_row
from tests.fakes.modelscope import FakeModelScope, ScopeData


SNAPSHOT = "2031-03-07"
FLOOR = 1000


def orgs_file(tmp_path):
    path = tmp_path / "orgs.yaml"
    path.write_text("BAAI:\n  huggingface: [BAAI]\n  modelscope: [BAAI]\n"
                    "Ali:\n  huggingface: [Qwen]\n  modelscope: [Qwen]\n"
                    "Meta:\n  huggingface: [meta-llama]\n")
    return path


def hub() -> HubData:
    """Registry accounts (some repos below the floor) and authors outside the registry, one
    of them spelt like the registry org Meta."""
    import random

    rng = random.Random(3)
    data = HubData()
    downloads = {"BAAI/bge-m3": 90_000, "BAAI/tiny": 3, "Qwen/Qwen3-8B": 500_000,
                 "meta-llama/Llama-3-8B": 800_000, "unsloth/Llama-8B-GGUF": 70_000,
                 "unsloth/small": 999, "Meta/lookalike": 5_000, "someone/model": 2_000,
                 "nobody/model": 10}
    downloads.update({f"author{i:02d}/m{i}": 1000 + i * 100 for i in range(30)})
    for repo_id, n in downloads.items():
        data.models.append(_model_row(repo_id, n, rng))
        data.children[repo_id] = 2
        data.discussions[repo_id] = (3, 1)
    return data


@pytest.fixture
def crawl_all(crawl):
    """The in-process crawl (tests/conftest.py) of huggingface_models, ``-a universe=all``."""
    async def run(fake, db, tmp_path, **args):
        return await crawl("huggingface_models", db, {
            "HF_ENDPOINT": fake.url, "OSIR_ORGS": orgs_file(tmp_path), "OSIR_SNAPSHOT": SNAPSHOT,
            "OSIR_UNIVERSE_MIN_DOWNLOADS": FLOOR, "HF_PAGE_SIZE": 7},
            args={"universe": "all", **args})
    return run


def models(db):
    return {r["repo_id"]: r["org"] for r in rows(db, "SELECT repo_id, org FROM models")}


@async_test
async def test_universe_all_lists_the_hub_down_to_the_floor_and_marks_unregistered_authors(
        crawl_all, tmp_path):
    db = tmp_path / "osir.db"
    with FakeHuggingFace(hub()) as fake:
        await crawl_all(fake, db, tmp_path)
        listing = [s.path for s in fake.log if "sort=downloads" in s.path]
    stored = models(db)
    # Registry accounts: every repo, credited to the org, below the floor too.
    assert {k: v for k, v in stored.items() if ":" not in v} == {
        "BAAI/bge-m3": "BAAI", "BAAI/tiny": "BAAI", "Qwen/Qwen3-8B": "Ali",
        "meta-llama/Llama-3-8B": "Meta"}
    # Everyone else at or above the floor, as platform:author; never a registry name.
    unregistered = {k: v for k, v in stored.items() if ":" in v}
    assert unregistered["unsloth/Llama-8B-GGUF"] == "huggingface:unsloth"
    assert unregistered["Meta/lookalike"] == "huggingface:Meta"
    assert len(unregistered) == 2 + 1 + 30 and "unsloth/small" not in stored
    # Sorted listing, no author filter, stopped at the page where the floor was reached.
    assert all("author=" not in p for p in listing)
    assert len(listing) == 36 // 7 + 1  # 36 rows at or above the floor, 7 a page: the 37th ends it
    [crawl_row] = rows(db, "SELECT outcome, universe, shard FROM crawls")
    assert crawl_row == {"outcome": "finished", "universe": "all", "shard": None}
    detailed = rows(db, "SELECT count(*) AS n FROM models WHERE descendants = 2")[0]["n"]
    assert detailed == len(stored) - 1  # all but BAAI/tiny (below OSIR_MIN_DOWNLOADS)


@pytest.mark.slow  # four crawls
@async_test
async def test_shards_split_the_work_and_replace_only_their_own_rows(crawl_all, tmp_path):
    db = tmp_path / "shared.db"  # both shards in one store: they must not touch each other
    data = hub()
    with FakeHuggingFace(data) as fake:
        for shard in ("1/2", "2/2"):
            await crawl_all(fake, db, tmp_path, shard=shard)
        by_shard = {s: {r["repo_id"] for r in rows(
            db, "SELECT repo_id FROM models m JOIN crawls c USING (crawl_id) WHERE c.shard = ?",
            [s])} for s in ("1/2", "2/2")}
        assert by_shard["1/2"] and by_shard["2/2"] and not by_shard["1/2"] & by_shard["2/2"]
        whole = tmp_path / "whole.db"
        await crawl_all(fake, whole, tmp_path)
        assert models(db) == models(whole)  # the shards together: the unsharded crawl
        # Registry rows split by account, the rest by repository id.
        for repo_id in by_shard["1/2"]:
            owner = repo_id.split("/")[0]
            key = owner if owner in ("BAAI", "Qwen", "meta-llama") else repo_id
            assert Shard(1, 2).owns(key), repo_id
        # One repo of each shard vanishes upstream; shard 1/2 crawls again.
        gone = {sorted(by_shard[s])[0] for s in ("1/2", "2/2")}
        data.models = [m for m in data.models if m["id"] not in gone]
        data._index = None
        await crawl_all(fake, db, tmp_path, shard="1/2")
    left = set(models(db))
    assert sorted(by_shard["1/2"])[0] not in left  # its own stale row: removed
    assert sorted(by_shard["2/2"])[0] in left  # the other shard's: kept until it crawls


@async_test
async def test_modelscope_universe_all_and_its_3000_row_cap(crawl, tmp_path):
    data = ScopeData.synthetic({"BAAI": 3, "Qwen": 2, "ZhipuAI": 4, "someone": 30})
    db = tmp_path / "osir.db"
    with FakeModelScope(data) as fake:
        run = await crawl("modelscope_models", db, {
            "MODELSCOPE_ENDPOINT": fake.url, "OSIR_ORGS": orgs_file(tmp_path),
            "OSIR_SNAPSHOT": SNAPSHOT, "MODELSCOPE_COMMUNITY": 0, "MODELSCOPE_PAGE_SIZE": 5,
            "MODELSCOPE_MAX_ROWS": 15, "OSIR_UNIVERSE_MIN_DOWNLOADS": 0},
            args={"universe": "all"}, check=False)
    assert run.status == 1  # incomplete: the cap
    stored = models(db)
    assert {v for k, v in stored.items() if k.startswith(("BAAI/", "Qwen/"))} == {"BAAI", "Ali"}
    assert len([k for k in stored if k.startswith(("BAAI/", "Qwen/"))]) == 5
    unregistered = {k: v for k, v in stored.items() if ":" in v}
    assert unregistered and all(v == f"modelscope:{k.split('/')[0]}"
                                for k, v in unregistered.items())
    [failure] = rows(db, "SELECT reason FROM failures")
    assert "the OpenAPI lists only the first 15" in failure["reason"]
    assert rows(db, "SELECT outcome FROM crawls")[0]["outcome"] == "incomplete"


@async_test
async def test_huggingface_datasets_universe_all_details_unregistered_datasets_too(crawl, tmp_path):
    import random

    from tests.fakes.huggingface import _dataset_row

    rng, data = random.Random(4), HubData()
    data.models = [_model_row(m, 10, rng) for m in ("a/m1", "b/m2")]  # users of every dataset
    downloads = {"BAAI/Infinity-Instruct": 40_000, "BAAI/small": 5, "Qwen/data": 2_000,
                 "HuggingFaceFW/fineweb": 300_000, "someone/set": 1_500, "nobody/set": 999}
    for repo_id, n in downloads.items():
        data.datasets.append(_dataset_row(repo_id, n, rng))
        data.discussions[repo_id] = (4, 1)
        data.usage[repo_id] = ["a/m1", "b/m2"]
    db = tmp_path / "osir.db"
    with FakeHuggingFace(data) as fake:
        await crawl("huggingface_datasets", db, {
            "HF_ENDPOINT": fake.url, "OSIR_ORGS": orgs_file(tmp_path), "OSIR_SNAPSHOT": SNAPSHOT,
            "OSIR_UNIVERSE_MIN_DOWNLOADS": FLOOR, "HF_PAGE_SIZE": 2}, args={"universe": "all"})
        listing = [s.path for s in fake.log
                   if s.path.startswith("/api/datasets?") and "sort=downloads" in s.path]
    stored = {r["repo_id"]: r for r in rows(
        db, "SELECT repo_id, org, discussions, dataset_usage FROM datasets")}
    assert {k: v["org"] for k, v in stored.items()} == {
        "BAAI/Infinity-Instruct": "BAAI", "BAAI/small": "BAAI", "Qwen/data": "Ali",
        "HuggingFaceFW/fineweb": "huggingface:HuggingFaceFW", "someone/set": "huggingface:someone"}
    assert all(v["discussions"] == 4 and v["dataset_usage"] == 2 for v in stored.values())
    assert all("author=" not in p for p in listing) and len(listing) == 3  # 5 rows at 2 a page
    assert rows(db, "SELECT outcome, universe FROM crawls") == [
        {"outcome": "finished", "universe": "all"}]


@async_test
async def test_modelscope_datasets_universe_all(crawl, tmp_path):
    data = ScopeData.synthetic({"BAAI": 8, "Qwen": 4, "someone": 12, "other": 8})
    db, floor = tmp_path / "osir.db", 5000  # some datasets of others below it
    with FakeModelScope(data) as fake:
        await crawl("modelscope_datasets", db, {
            "MODELSCOPE_ENDPOINT": fake.url, "OSIR_ORGS": orgs_file(tmp_path),
            "OSIR_SNAPSHOT": SNAPSHOT, "MODELSCOPE_COMMUNITY": 0, "MODELSCOPE_PAGE_SIZE": 2,
            "OSIR_UNIVERSE_MIN_DOWNLOADS": floor}, args={"universe": "all"})
    listed = {r["id"]: r["downloads"] for r in data.datasets}
    expected = {k: {"BAAI": "BAAI", "Qwen": "Ali"}.get(k.split("/")[0]) or
                f"modelscope:{k.split('/')[0]}" for k, n in listed.items()
                if k.startswith(("BAAI/", "Qwen/")) or n >= floor}
    assert {r["repo_id"]: r["org"] for r in rows(db, "SELECT repo_id, org FROM datasets")} \
        == expected
    assert any(v.startswith("modelscope:") for v in expected.values())
    assert any(n < floor for k, n in listed.items() if not k.startswith(("BAAI/", "Qwen/")))
    assert rows(db, "SELECT outcome FROM crawls")[0]["outcome"] == "finished"


@pytest.mark.slow
def test_crawlall_runs_one_shard_and_leaves_scoring_for_after_the_merge(tmp_path):
    import json
    import subprocess
    import sys

    from tests.conftest import FAST, ROOT, crawl_env

    db = tmp_path / "shard.db"
    with FakeHuggingFace(hub()) as fake:
        cmd = [sys.executable, "-m", "scrapy", "crawlall", "--shard", "1/2", "--snapshot",
               SNAPSHOT, "--only", "huggingface_models,opencompass_vlm", "-a", "universe=all",
               "--jobs-dir", str(tmp_path / "jobs"), "--logs-dir", str(tmp_path / "logs"),
               "--reports-dir", str(tmp_path / "reports"), "-s", f"OSIR_DB={db}",
               "-s", f"OSIR_ORGS={orgs_file(tmp_path)}", "-s", "HF_PAGE_SIZE=7",
               "-s", "OSIR_MODEL_ORGS=",  # the test registry: no model-name prefixes
               *(a for k, v in FAST.items() for a in ("-s", f"{k}={v}"))]
        proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(HF_ENDPOINT=fake.url),
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    crawls = {r["spider"]: r for r in rows(db, "SELECT spider, shard, universe, outcome, stats "
                                                "FROM crawls")}
    assert {c["shard"] for c in crawls.values()} == {"1/2"}
    assert crawls["huggingface_models"]["universe"] == "all"
    # The board is one indivisible unit: shard 2/2 reads it ("opencompass_vlm" falls there),
    # this one says why it has nothing to do, without a request.
    assert Shard(2, 2).owns("opencompass_vlm")
    assert "is read by shard 2/2" in json.loads(crawls["opencompass_vlm"]["stats"])[
        "osir/nothing_to_crawl"]
    report = json.loads((tmp_path / "reports" / SNAPSHOT / "shard-1-of-2" /
                         "crawl-report.json").read_text())
    assert report["scoring"]["status"] == "skipped" and "scrapy merge" in report["scoring"][
        "detail"]
    assert (tmp_path / "logs" / SNAPSHOT / "shard-1-of-2" / "huggingface_models.log").exists()
