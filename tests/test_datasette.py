"""Datasette 0.65 on loopback with data/metadata.yml, against a store filled by real crawls of
the fakes and a real ``scoring build``: every saved query answers over HTTP with the right rows,
and the tables carry their titles and facets, whatever the store file is called."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import ROOT, SCORED_SNAPSHOTS, crawl_env, rows
from tests.test_scrapyd import free_port

# One worker builds the session's scored store for these and tests/test_charts.py.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("scored_store")]
OLD, NEW = SCORED_SNAPSHOTS


@pytest.fixture(scope="module")
def datasette(scored_store):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(scored_store), "-m",
         str(ROOT / "data" / "metadata.yml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=crawl_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/-/versions.json", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "datasette did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def query(url: str, name: str, **params) -> list[dict]:
    reply = requests.get(f"{url}/osir/{name}.json", params={**params, "_shape": "array"},
                         timeout=30)
    assert reply.status_code == 200, reply.text[:2000]
    return reply.json()


def test_overall_ranking(datasette, scored_store):
    latest = query(datasette, "overall_ranking")
    expected = rows(scored_store, "SELECT org, rank, delta_rank FROM rankings "
                    "WHERE dimension = 'overall' AND snapshot = ? ORDER BY rank, org", [NEW])
    assert len(latest) == len(expected) >= 20
    assert [(r["org"], r["rank"], r["delta_rank"]) for r in latest] == [
        (e["org"], e["rank"], e["delta_rank"]) for e in expected]
    assert {r["snapshot"] for r in latest} == {NEW} and latest[0]["rank"] == 1
    assert all(r["data"] is not None and r["model"] is not None for r in latest)
    assert any(r["delta_rank"] for r in latest)  # the second month moves someone
    older = query(datasette, "overall_ranking", snapshot=OLD)
    assert {r["snapshot"] for r in older} == {OLD}
    assert all(r["delta_rank"] is None for r in older)  # nothing before the first month


def test_one_organisation_over_time(datasette, scored_store):
    found = query(datasette, "org_indicators", org="BAAI")
    assert {r["snapshot"] for r in found} == {OLD, NEW}
    stored = rows(scored_store, "SELECT count(*) AS n FROM summaries WHERE org = 'BAAI'")[0]["n"]
    assert len(found) == stored
    likes = {r["snapshot"]: r["value"] for r in found
             if (r["dimension"], r["indicator"]) == ("model", "likes")}
    assert set(likes) == {OLD, NEW}
    history = query(datasette, "org_rank_history", org="BAAI")
    overall = [r for r in history if r["dimension"] == "overall"]
    assert [r["snapshot"] for r in overall] == [OLD, NEW]


def test_biggest_movers(datasette, scored_store):
    movers = query(datasette, "biggest_movers")
    assert movers and all(r["delta_rank"] and r["snapshot"] == NEW for r in movers)
    sizes = [abs(r["delta_rank"]) for r in movers]
    assert sizes == sorted(sizes, reverse=True)
    before = {(r["dimension"], r["org"]): r["rank"] for r in rows(
        scored_store, "SELECT dimension, org, rank FROM rankings WHERE snapshot = ?", [OLD])}
    for mover in movers:  # delta rank = previous rank - rank
        assert mover["previous_rank"] == before[(mover["dimension"], mover["org"])]


def test_repositories_of_an_organisation_across_platforms(datasette, scored_store):
    found = query(datasette, "org_repositories", org="BAAI")
    counts = {t: rows(scored_store, f"SELECT count(*) AS n FROM {t} WHERE org = 'BAAI' "
                      "AND snapshot = ?", [NEW])[0]["n"] for t in ("models", "datasets", "repos")}
    assert len(found) == sum(counts.values())
    assert {r["kind"] for r in found} == {"model", "dataset", "repo"}
    assert {r["platform"] for r in found} == {"huggingface", "github"}
    assert {r["snapshot"] for r in found} == {NEW}
    assert len(query(datasette, "org_repositories", org="BAAI", snapshot=OLD)) == sum(
        rows(scored_store, f"SELECT count(*) AS n FROM {t} WHERE org = 'BAAI' AND snapshot = ?",
             [OLD])[0]["n"] for t in ("models", "datasets", "repos"))


def test_rejects_and_failures_of_the_last_crawl(datasette):
    rejects = query(datasette, "last_crawl_rejects")
    assert [(r["spider"], r["repo_id"], r["snapshot"]) for r in rejects] == [
        ("huggingface_models", "BAAI/negative", NEW)]
    assert "downloads" in rejects[0]["reason"]
    failures = query(datasette, "last_crawl_failures")
    assert [(f["spider"], f["status"]) for f in failures] == [("huggingface_models", 404)] * 2
    assert all(f["snapshot"] == NEW and "/api/models/BAAI/" in f["url"] for f in failures)
    overview = query(datasette, "crawl_overview")
    assert [(c["spider"], c["outcome"]) for c in overview] == [
        ("github_repos", "finished"), ("huggingface_datasets", "finished"),
        ("huggingface_models", "incomplete")]


def test_tables_have_titles_descriptions_and_facets(datasette):
    models = requests.get(f"{datasette}/osir/models.json", timeout=30).json()
    assert {"snapshot", "platform", "org"} <= set(models["facet_results"])
    page = requests.get(f"{datasette}/osir/rankings", timeout=30).text
    assert "Score and rank of each organisation" in page
    metadata = requests.get(f"{datasette}/-/metadata.json", timeout=30).json()
    queries = metadata["databases"]["osir"]["queries"]
    assert {"overall_ranking", "org_indicators", "biggest_movers", "org_repositories",
            "last_crawl_rejects", "last_crawl_failures"} <= set(queries)
    columns = metadata["databases"]["osir"]["tables"]["models"]["columns"]
    assert "30 days" in columns["downloads"]


def test_org_parameters_take_any_case_and_the_orgs_query_lists_the_names(datasette):
    exact = query(datasette, "org_indicators", org="BAAI")
    assert exact and query(datasette, "org_indicators", org="baai") == exact
    assert query(datasette, "org_rank_history", org="bAaI") == query(
        datasette, "org_rank_history", org="BAAI")
    assert query(datasette, "org_repositories", org="deepseek") == query(
        datasette, "org_repositories", org="Deepseek") != []
    orgs = query(datasette, "orgs")
    assert [o["org"] for o in orgs] == ["Ali", "BAAI", "Deepseek"]
    assert all(o["latest_snapshot"] == NEW and o["models"] for o in orgs)


def test_index_links_every_saved_query_and_names_only_files_that_exist(datasette):
    index = requests.get(datasette + "/", timeout=30).text
    metadata = requests.get(f"{datasette}/-/metadata.json", timeout=30).json()
    for name in metadata["databases"]["osir"]["queries"]:
        assert f'href="/osir/{name}"' in index, name
        assert requests.get(f"{datasette}/osir/{name}", timeout=30).status_code == 200
    named = re.findall(r"[\w./-]+\.(?:md|ya?ml|py)|[\w./-]+/LICENSE",
                       metadata["about"] + " " + metadata["license"])
    assert named and all((ROOT / path).is_file() for path in named), named


def test_metadata_applies_whatever_the_store_is_called(scored_store, tmp_path):
    """``python -m osir_crawl.browse`` keys the metadata by the store's own name."""
    store = tmp_path / "june-crawl.db"
    with sqlite3.connect(scored_store) as src, sqlite3.connect(store) as dst:
        src.backup(dst)

    def get(path):
        # A process: browse starts Datasette as one, writing to its own standard output.
        proc = subprocess.run([sys.executable, "-m", "osir_crawl.ops.browse", str(store), "--get",
                               path], cwd=ROOT, env=crawl_env(), capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    metadata = json.loads(get("/-/metadata.json"))
    assert list(metadata["databases"]) == ["june-crawl"]
    assert 'href="/june-crawl/overall_ranking"' in metadata["description_html"]
    ranking = json.loads(get("/june-crawl/overall_ranking.json?_shape=array"))
    assert ranking and ranking[0]["rank"] == 1 and ranking[0]["snapshot"] == NEW
    assert "Score and rank of each organisation" in get("/june-crawl/rankings")
