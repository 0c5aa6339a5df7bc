"""The ecosystem ranking (``python -m scoring build --universe all``) and the discovery report:
unregistered authors (``platform:author`` orgs) are ranked beside the registry with the same
method, never mixed into the registry's ranking, and the strong ones are listed for review."""

from __future__ import annotations

import csv

import pytest

from osir_crawl.inputs.registry import RegistryError, load_registry
from osir_crawl.store import open_store, write_rows
from scoring.build import build
from scoring.cli import main
from tests.conftest import ROOT, rows

AUG, SEP = "2025-08-07", "2025-09-07"
LLM = {"pipeline_tag": "text-generation", "params": 7_000_000_000, "tags": "[]"}


def record(snapshot, repo_id, org, platform="huggingface", **kw):
    owner, name = repo_id.split("/")
    return {"snapshot": snapshot, "platform": platform, "repo_id": repo_id, "org": org,
            "owner": owner, "name": name, "url": f"https://x/{repo_id}", "crawl_id": "t",
            "fetched_at": "t", **kw}


def fill(path, unregistered=True):
    db = open_store(path)
    models, datasets = [], []
    for snap in (AUG, SEP):
        models += [record(snap, "BAAI/bge-m3", "BAAI", downloads=1000, likes=10, **LLM),
                   record(snap, "Qwen/Qwen3-8B", "Ali", downloads=5000, likes=40, **LLM),
                   record(snap, "deepseek-ai/DeepSeek-V3", "Deepseek", downloads=3000, **LLM)]
        datasets += [record(snap, "BAAI/Infinity-Instruct", "BAAI", downloads=700)]
        if unregistered:
            models += [
                record(snap, "unsloth/Llama-8B", "huggingface:unsloth", downloads=90_000,
                       likes=300, descendants=50, **LLM),
                record(snap, "unsloth/Qwen-7B", "huggingface:unsloth", downloads=10_000, **LLM),
                # An author spelt like a registry org name is still not that org.
                record(snap, "Meta/tiny", "huggingface:Meta", downloads=60, **LLM),
                record(snap, "someone/small", "modelscope:someone", platform="modelscope",
                       downloads_total=10 if snap == AUG else 70, **LLM)]
            datasets += [record(snap, "bigdata/sft-corpus", "huggingface:bigdata",
                                downloads=50_000, dataset_usage=12,
                                tags='["task_categories:text-generation", "modality:text"]')]
    write_rows(db, "models", models)
    write_rows(db, "datasets", datasets)
    db.close()
    return path


@pytest.fixture
def eco_store(tmp_path):
    return fill(tmp_path / "osir.db")


@pytest.mark.slow  # builds every ranking of a store
def test_registry_ranking_ignores_unregistered_authors(tmp_path, eco_store):
    plain = fill(tmp_path / "plain.db", unregistered=False)
    with_authors = build(SEP, eco_store, out_dir=tmp_path / "a")
    without = build(SEP, plain, out_dir=tmp_path / "b")
    for stem, frame in without.ranking.rankings.items():
        assert with_authors.ranking.rankings[stem].equals(frame), stem
    assert not any(":" in org for org in rows(eco_store, "SELECT org FROM rankings")
                   for org in [org["org"]])
    assert not rows(eco_store, "SELECT * FROM classification WHERE org LIKE '%:%'")


@pytest.mark.slow  # builds every ranking of a store
def test_ecosystem_ranks_everyone_found_with_the_same_method(tmp_path, eco_store):
    registry = build(SEP, eco_store, out_dir=tmp_path / "registry")
    eco = build(SEP, eco_store, universe="all")  # default out: beside the store
    assert eco.written[0].parent == eco_store.parent / "rankings" / SEP / "ecosystem"
    model = eco.ranking.rankings["model-rank"]
    registered = list(registry.ranking.rankings["model-rank"].index)
    assert list(model.index[:len(registered)]) == registered  # curated orgs first
    assert {"huggingface:unsloth", "huggingface:Meta", "modelscope:someone",
            "huggingface:bigdata"} <= set(model.index)
    assert model.loc["huggingface:unsloth", "rank"] == 1
    # Registry organisations keep exactly their numbers: nothing of an author spelt like
    # one (huggingface:Meta) is mixed into it.
    for dim in ("model", "data"):
        mine = registry.tables[dim]
        assert eco.tables[dim].loc[mine.index].equals(mine), dim
    assert "Meta" in registry.tables["model"].index
    # Unregistered authors have no curated infra/eval evidence: 0, and the provenance says so.
    infra = eco.tables["infra"]
    assert (infra.loc["huggingface:unsloth"] == 0).all()
    why = eco.provenance.query("org == 'huggingface:unsloth' and dimension == 'infra'")
    assert why.source.str.contains("no infra evidence for this organisation").all()
    # The ecosystem's own store tables; the registry's are untouched.
    stored = rows(eco_store, "SELECT DISTINCT org FROM ecosystem_rankings")
    assert {"huggingface:unsloth", "BAAI"} <= {r["org"] for r in stored}
    assert not rows(eco_store, "SELECT * FROM rankings WHERE org LIKE '%:%'")
    assert rows(eco_store, "SELECT count(*) AS n FROM ecosystem_classification")[0]["n"] == 9


@pytest.mark.slow  # builds every ranking of a store
def test_discovery_report_lists_strong_unregistered_authors(tmp_path, eco_store):
    reports = tmp_path / "reports"
    assert main(["build", "--snapshot", SEP, "--db", str(eco_store), "--universe", "all",
                 "--top", "2", "--out", str(tmp_path / "eco"), "--reports-dir", str(reports),
                 "-q"]) == 0
    with open(reports / SEP / "discovery.csv", newline="") as fh:
        found = {r["org"]: r for r in csv.DictReader(fh)}
    assert set(found) == {"huggingface:unsloth", "huggingface:bigdata"}  # Meta/tiny: too small
    unsloth = found["huggingface:unsloth"]
    assert (unsloth["platform"], unsloth["account"], unsloth["model_rank"]) == (
        "huggingface", "unsloth", "1")
    assert int(unsloth["model_downloads"]) == 100_000 and unsloth["models"] == "2"
    assert int(found["huggingface:bigdata"]["data_rank"]) <= 2
    text = (reports / SEP / "discovery.md").read_text()
    assert "[huggingface:unsloth](https://huggingface.co/unsloth)" in text
    assert "100,000" in text and "{account: unsloth, source: " in text


def test_registry_org_names_may_not_look_unregistered(tmp_path):
    path = tmp_path / "orgs.yaml"
    path.write_text("'huggingface:x':\n  huggingface: [x]\n")
    with pytest.raises(RegistryError, match="may not contain ':'"):
        load_registry(path)


@pytest.mark.slow  # builds every ranking of a store
def test_discovery_saved_query_lists_the_same_authors(tmp_path, eco_store):
    import sqlite3

    import yaml

    assert main(["build", "--snapshot", SEP, "--db", str(eco_store), "--universe", "all",
                 "--top", "2", "--out", str(tmp_path / "eco"), "--reports-dir",
                 str(tmp_path / "reports"), "-q"]) == 0
    metadata = yaml.safe_load((ROOT / "data" / "metadata.yml").read_text())
    sql = metadata["databases"]["osir"]["queries"]["discovery"]["sql"]
    with sqlite3.connect(eco_store) as conn:
        conn.row_factory = sqlite3.Row
        found = [dict(r) for r in conn.execute(sql, {"snapshot": "", "top": "2"})]
    with open(tmp_path / "reports" / SEP / "discovery.csv", newline="") as fh:
        report = list(csv.DictReader(fh))
    assert [r["org"] for r in found] == [r["org"] for r in report]
    unsloth = next(r for r in found if r["org"] == "huggingface:unsloth")
    assert (unsloth["account"], unsloth["model_rank"], unsloth["model_downloads"]) == (
        "unsloth", 1, 100_000)
