"""A cluster on loopback: two scrapyd nodes, the project deployed to each with scrapyd-deploy,
one shard per node (``-a shard=1/2`` on one, ``2/2`` on the other) of ``huggingface_models`` and
``modelscope_models`` with ``-a universe=all`` and ``github_repos``, each into the node's own
store; ``scrapy merge`` of the two
stores; the merged store equals an unsharded crawl's, row for row (every record table;
crawl_id and fetched_at aside)."""

from __future__ import annotations

import random
import sqlite3
import time
from urllib.parse import unquote

import pytest
import requests

from osir_crawl.inputs.registry import load_registry
from osir_crawl.shards import Shard
from osir_crawl.store import RECORD_TABLES
from tests.conftest import ROOT, async_test, rows
from tests.fakes.forges import FakeForge, ForgeData
from tests.fakes.huggingface import FakeHuggingFace, HubData, _model_row
from tests.fakes.modelscope import FakeModelScope, ScopeData
from tests.test_scrapyd import deploy, running_scrapyd

pytestmark = pytest.mark.slow

SNAPSHOT = "2031-03-07"
SPIDERS = {"huggingface_models": {"universe": "all"}, "modelscope_models": {"universe": "all"},
           "github_repos": {}}
REGISTRY = ("BAAI:\n  huggingface: [BAAI, FlagRelease]\n  github: [FlagOpen, baaivision]\n"
            "  modelscope: [BAAI]\n"
            "Ali:\n  huggingface: [Qwen]\n  github: [QwenLM, alibaba]\n  modelscope: [Qwen]\n"
            "Deepseek:\n  huggingface: [deepseek-ai]\n  github: [deepseek-ai]\n"
            "  modelscope: [deepseek-ai]\n"
            "ShanghaiAILab:\n  huggingface: [OpenGVLab]\n  github: [InternLM]\n"
            "  modelscope: [Shanghai_AI_Laboratory]\n")
IGNORED = ("crawl_id", "fetched_at")
TOKENS = {i: {"HF_TOKEN": f"hf_node{i}_Zq8", "GITHUB_TOKEN": f"ghp_node{i}_Zq8",
              "MODELSCOPE_API_TOKEN": f"ms-node{i}-Zq8"} for i in (1, 2)}


def hub(accounts) -> HubData:
    rng = random.Random(5)
    data = HubData()
    authors = [*accounts, *(f"author{i:02d}" for i in range(12)), "unsloth"]
    for n, author in enumerate(authors):
        for i in range(3):
            repo_id = f"{author}/model-{i}"
            data.models.append(_model_row(repo_id, rng.choice([10, 900, 5_000, 70_000]), rng))
            data.children[repo_id] = n % 4
            data.discussions[repo_id] = (i, 0)
    return data


def table_rows(db) -> dict:
    out = {}
    with sqlite3.connect(db) as conn:
        for table in RECORD_TABLES:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")
                       if r[1] not in IGNORED]
            out[table] = sorted(map(tuple, conn.execute(
                f"SELECT {', '.join(f'[{c}]' for c in columns)} FROM [{table}]")), key=repr)
    return out


def wait(url: str, jobs: list[str], home) -> None:
    deadline = time.monotonic() + 300
    while True:
        listed = requests.get(url + "listjobs.json", params={"project": "osir_crawl"}).json()
        if {j["id"] for j in listed["finished"]} >= set(jobs):
            return
        assert time.monotonic() < deadline, (listed, (home / "scrapyd.out").read_text()[-3000:])
        time.sleep(0.3)


@async_test
async def test_two_scrapyd_nodes_one_shard_each_merge_to_the_unsharded_crawl(cli, crawl,
                                                                               tmp_path):
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text(REGISTRY)
    registry = load_registry(orgs)
    hf_accounts = [a.name for a in registry.accounts_on("huggingface")]
    gh_accounts = [a.name for a in registry.accounts_on("github")]
    ms_accounts = [a.name for a in registry.accounts_on("modelscope")]
    for accounts in (hf_accounts, gh_accounts, ms_accounts):  # each shard has some of its own
        assert {Shard(1, 2).owns(a) for a in accounts} == {True, False}
    data = hub(hf_accounts)
    forge = ForgeData.synthetic("github", {a: 4 for a in gh_accounts})
    scope = ScopeData.synthetic({**{a: 5 for a in ms_accounts},
                                 **{f"user{i:02d}": 3 for i in range(10)}})
    settings = {"OSIR_ORGS": str(orgs), "OSIR_SNAPSHOT": SNAPSHOT, "HF_PAGE_SIZE": 10,
                "OSIR_UNIVERSE_MIN_DOWNLOADS": 500, "AUTOTHROTTLE_ENABLED": "False",
                "OSIR_RETRY_BACKOFF_BASE": "0.05",  # absolute: scrapyd runs jobs elsewhere
                "OSIR_CATALOGUE": str(ROOT / "data" / "catalogue"),
                "MODELSCOPE_COMMUNITY": 0, "MODELSCOPE_PAGE_SIZE": 10}
    with FakeHuggingFace(data) as hf, FakeForge("github", forge) as gh, \
            FakeModelScope(scope) as ms, \
            running_scrapyd(tmp_path / "node1", **TOKENS[1]) as node1, \
            running_scrapyd(tmp_path / "node2", **TOKENS[2]) as node2:
        endpoints = {"HF_ENDPOINT": hf.url, "GITHUB_API_URL": gh.url,
                     "MODELSCOPE_ENDPOINT": ms.url}
        stores = []
        for i, (url, home) in enumerate((node1, node2), start=1):
            spiders = deploy(url, tmp_path / f"deploy{i}")
            assert set(SPIDERS) <= set(spiders["spiders"]), spiders
            store = tmp_path / f"node{i}" / "shard.db"  # the node's own store
            jobs = []
            for spider, args in SPIDERS.items():
                job = requests.post(url + "schedule.json", data=[
                    ("project", "osir_crawl"), ("spider", spider), ("shard", f"{i}/2"),
                    *args.items(), ("setting", f"OSIR_DB={store}"),  # the node's own
                    *(("setting", f"{k}={v}") for k, v in {**settings, **endpoints}.items())
                ]).json()
                assert job["status"] == "ok", job
                jobs.append(job["jobid"])
            stores.append((url, home, jobs, store))
        for url, home, jobs, _ in stores:
            wait(url, jobs, home)
        sent = {"hf": [(s.path, s.headers.get("Authorization")) for s in hf.log],
                "gh": [(s.path, s.headers.get("Authorization")) for s in gh.log],
                "ms": [(s.path, s.headers.get("Authorization")) for s in ms.log]}
        whole = tmp_path / "unsharded.db"
        for spider, args in SPIDERS.items():
            await crawl(spider, whole, {**settings, **endpoints}, args=args)

    for _, home, _, store in stores:
        crawls = rows(store, "SELECT spider, shard, universe, outcome FROM crawls")
        logs = "\n".join(p.read_text()[-2000:] for p in (home / "logs").rglob("*.log"))
        assert {c["outcome"] for c in crawls} == {"finished"}, logs
        assert len(crawls) == len(SPIDERS), logs
    # Each node spent its own tokens: a repository's details went out with its shard's.
    node_of = {f"Bearer {TOKENS[i][k]}": i for i in TOKENS for k in TOKENS[i]}
    for platform in sent:
        assert {node_of.get(auth) for _, auth in sent[platform]} == {1, 2}, platform
    for path, auth in sent["hf"]:
        if path.startswith("/api/models/"):
            repo_id = "/".join(unquote(path.split("?")[0]).split("/")[3:5])
            owner = repo_id.split("/")[0]
            key = owner if owner in hf_accounts else repo_id
            assert Shard(node_of[auth], 2).owns(key), (path, auth)
    for path, auth in sent["gh"]:
        if path.startswith("/orgs/"):
            assert Shard(node_of[auth], 2).owns(path.split("/")[2]), (path, auth)
    for _, home, _, store in stores:  # never stored or logged
        for path in [store, *(home / "logs").rglob("*.log"), home / "scrapyd.out"]:
            assert not any(t.encode() in path.read_bytes() for n in TOKENS
                           for t in TOKENS[n].values()), path
    merged = tmp_path / "merged.db"
    proc = cli.scrapy("merge", "--into", merged, *(s for *_, s in stores))
    assert proc.status == 0, proc.out + proc.err
    assert "huggingface_models: shards 1/2, 2/2" in proc.out

    expected, got = table_rows(whole), table_rows(merged)
    assert got == expected
    hf_rows = rows(merged, "SELECT count(*) AS n FROM models WHERE platform = 'huggingface'")
    assert hf_rows[0]["n"] == len(data.models) - sum(  # every model but the unlisted ones
        1 for m in data.models if m["downloads"] < 500 and m["author"] not in hf_accounts)
    ms_orgs = {r["org"] for r in rows(merged, "SELECT org FROM models WHERE platform = "
                                              "'modelscope'")}
    assert {"BAAI", "Ali", "modelscope:user00"} <= ms_orgs
    unregistered = {r["org"] for r in rows(merged, "SELECT DISTINCT org FROM models")}
    assert "huggingface:unsloth" in unregistered and "huggingface:author00" in unregistered
    assert len(got["repos"]) == 4 * len(gh_accounts)
    shards = rows(merged, "SELECT spider, shard, merged_from FROM crawls ORDER BY spider, shard")
    assert [(c["spider"], c["shard"]) for c in shards] == [
        ("github_repos", "1/2"), ("github_repos", "2/2"),
        ("huggingface_models", "1/2"), ("huggingface_models", "2/2"),
        ("modelscope_models", "1/2"), ("modelscope_models", "2/2")]
