"""scoring/catalogue_summaries.py: the infra and eval summaries of a snapshot from its crawl
plus the catalogue, with the provenance of every value."""

from __future__ import annotations

import pandas as pd
import pytest

from osir_crawl.inputs.catalogue import load_catalogue
from osir_crawl.inputs.registry import load_registry
from scoring.catalogue_summaries import (EVAL, INFRA, Inputs, catalogue_summaries,
                                         read_inputs)
from scoring.cli import main as cli
from tests.conftest import ROOT
from tests.test_build import SEP, build
from tests.test_build import store as build_store  # noqa: F401 -- a pytest fixture

ORGS = load_registry(ROOT / "data" / "orgs.yaml").orgs
CRAWL = "github_repos-20251007T000000Z-abc123"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(ROOT / "data" / "catalogue")


def _frame(rows, like):
    return pd.DataFrame(list(rows), columns=like.columns) if rows else like


def inputs(counts=(), repos=(), boards=(), entries=()):
    base = read_inputs("/no/store", "2025-10-07")
    frame = _frame
    return Inputs("2025-10-07", frame(counts, base.counts), frame(repos, base.repos),
                  frame(boards, base.boards), frame(entries, base.entries))


def cell(out, dim, org, indicator):
    p = out.provenance
    return p[(p.dimension == dim) & (p.org == org) & (p.indicator == indicator)].iloc[0]


def test_every_org_gets_every_indicator_with_evidence(catalogue):
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs())
    assert list(out.tables["infra"].columns) == list(INFRA)
    assert list(out.tables["eval"].columns) == list(EVAL)
    assert list(out.tables["infra"].index) == list(ORGS)
    assert len(out.provenance) == len(ORGS) * (len(INFRA) + len(EVAL) + 2)
    assert set(out.provenance["kind"]) == {"catalogue"}
    assert out.provenance["source"].str.startswith("https://").all()
    assert out.provenance["as_of"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    zero = cell(out, "infra", "Xiaomi", "num_operators")
    assert zero["value"] == 0 and "OSIR-LMTS" in zero["source"]  # no project: the seed list


def test_crawled_rules_replace_static_values_and_say_so(catalogue):
    counts = [{"rule": "flaggems.operators", "value": 250, "names": [], "crawl_id": CRAWL,
               "fetched_at": "2025-10-07T03:00:00+00:00"},
              {"rule": "flaggems.chips", "value": 3, "names": ["nvidia", "ascend", "mthreads"],
               "crawl_id": CRAWL, "fetched_at": "2025-10-07T03:00:00+00:00"}]
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs(counts=counts))
    assert out.tables["infra"].loc["BAAI", "num_operators"] == 250
    assert out.tables["infra"].loc["BAAI", "num_adapted_chips_operator_lib"] == 3
    ops = cell(out, "infra", "BAAI", "num_operators")
    assert (ops["kind"], ops["source"], ops["as_of"]) == ("rule", CRAWL, "2025-10-07")
    static = cell(out, "infra", "BAAI", "num_adapted_chips_frameworks")  # FlagScale: no crawl
    assert static["kind"] == "catalogue"
    assert "rule not evaluated: flagscale.chips" in static["flags"]


def test_vanished_repositories_and_stale_entries_are_flagged(catalogue):
    repos = [{"platform": "github", "repo_id": "microsoft/TileFusion", "entry": "tilefusion",
              "exists": 0, "archived": None, "crawl_id": CRAWL}]
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs(repos=repos))
    assert "vanished: github:microsoft/TileFusion" in cell(out, "infra", "Microsoft",
                                                             "num_operators")["flags"]
    later = catalogue_summaries(catalogue, "2026-03-01", ORGS, inputs())
    hccl = cell(later, "infra", "Huawei", "num_adapted_chips_communication_lib")
    assert "stale: hccl last verified 2025-04-17" in hccl["flags"]


def test_crawled_boards_count_under_the_rules(catalogue):
    boards = [
        {"board": "lmarena_text", "maintained": 1, "dataset_release": 0,
         "last_update": "2025-09-30", "crawl_id": "lmarena-1", "fetched_at": "2025-10-07",
         "url": "https://huggingface.co/datasets/lmarena-ai/leaderboard-dataset"},
        {"board": "lmarena_vision", "maintained": 1, "dataset_release": 0,
         "last_update": "2025-09-30", "crawl_id": "lmarena-1", "fetched_at": "2025-10-07",
         "url": "https://huggingface.co/datasets/lmarena-ai/leaderboard-dataset"},
        {"board": "open_llm_leaderboard", "maintained": 0, "dataset_release": 0,
         "last_update": "2025-03-13", "crawl_id": "open-1", "fetched_at": "2025-10-07",
         "url": "https://huggingface.co/datasets/open-llm-leaderboard/contents"}]
    entries = [
        {"board": "lmarena_text", "model": "glm-4.5", "counted": 1, "crawl_id": "lmarena-1",
         "fetched_at": "2025-10-07"},
        {"board": "lmarena_vision", "model": "GLM-4.5", "counted": 1, "crawl_id": "lmarena-1",
         "fetched_at": "2025-10-07"},  # the same model on two boards: one model
        {"board": "lmarena_text", "model": "gpt-4o", "counted": 0, "crawl_id": "lmarena-1",
         "fetched_at": "2025-10-07"},
        {"board": "open_llm_leaderboard", "model": "Qwen/Qwen2-7B", "counted": 0,
         "crawl_id": "open-1", "fetched_at": "2025-10-07"}]
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs(boards=boards,
                                                                    entries=entries))
    assert out.tables["eval"].loc["LMSYS", "num_leaderboards"] == 2
    assert out.tables["eval"].loc["LMSYS", "num_evaluated_models"] == 1
    assert cell(out, "eval", "LMSYS", "num_leaderboards")["kind"] == "crawl"
    assert out.tables["eval"].loc["HuggingFace", "num_leaderboards"] == 0  # retired board
    # a crawled board the crawl did not read: the catalogue says nothing, it is not counted
    assert out.tables["eval"].loc["StanfordNLP", "num_leaderboards"] == 0
    flageval = cell(out, "eval", "BAAI", "num_evaluated_models")
    assert flageval["value"] == 0 and flageval["kind"] == "catalogue"  # open and closed mixed
    assert ("not counted as evaluated models: flageval-platform's 800 mix open and closed "
            "models (no open-only figure with evidence)") in flageval["flags"]
    # FlagEval's platform board counts (dated 2025-05-16); its sub-boards have no date
    assert out.tables["eval"].loc["BAAI", "num_leaderboards"] == 1


def test_entries_after_the_snapshot_are_not_counted(catalogue):
    early = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs())
    later = catalogue_summaries(catalogue, "2026-09-01", ORGS, inputs())
    sh = ("ShanghaiAILab", "num_evaluation_datasets")
    assert early.tables["eval"].loc[sh] < later.tables["eval"].loc[sh]  # CNFinBench, TextEdit


def test_default_build_has_every_infra_and_eval_indicator_from_crawl_or_catalogue(
        build_store, tmp_path, capsys):
    """The default build of a snapshot: infra and eval from its crawl plus the catalogue, none
    of kind published; `scoring evidence --json` prints it; Datasette's query reads it."""
    import json
    import sqlite3

    import yaml

    from scoring.method import load_method

    build(build_store, SEP, tmp_path / "d")
    capsys.readouterr()
    assert cli(["evidence", "--snapshot", SEP, "--db", str(build_store), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    method = load_method()
    for dim in ("infra", "eval"):
        got = {(r["org"], r["indicator"]) for r in records if r["dimension"] == dim}
        assert got == {(org, ind) for org in ORGS for ind in method.dimension(dim).indicators}
    assert {r["kind"] for r in records if r["dimension"] in ("infra", "eval")} == {"catalogue"}
    # the only published values: counts that add the frozen list of official-site datasets,
    # as of that list's date, never `crawl`
    frozen = [r for r in records if r["kind"] == "published"]
    assert frozen and all(r["dimension"].startswith("data") and r["indicator"].startswith("num_")
                          and "other-source-datasets.csv" in r["source"]
                          and r["as_of"] == "2025-09-07" for r in frozen)
    assert not [r for r in records if r["kind"] == "crawl"
                and "other-source-datasets.csv" in r["source"]]
    # an indicator no organisation has a value for is named on each of its cells, no other is
    by_indicator = {}
    for r in records:
        if r["dimension"] in ("data", "model", "infra", "eval"):
            by_indicator.setdefault((r["dimension"], r["indicator"]), []).append(r)
    for (dim, ind), cells in by_indicator.items():
        named = [any(f.startswith(f"not measured in {SEP}: ") and f"{dim} {ind}" in f
                     for f in r.get("flags", [])) for r in cells]
        assert all(named) if all(r["value"] == 0 for r in cells) else not any(named), (dim, ind)
    for r in records:
        if r["kind"] == "catalogue":
            assert r["source"].startswith(("http://", "https://")) and r["as_of"], r
    chips = [r for r in records if r["indicator"] == "num_adapted_chips"]
    assert {r["kind"] for r in chips} == {"catalogue"}
    metadata = yaml.safe_load((ROOT / "data" / "metadata.yml").read_text())
    sql = metadata["databases"]["osir"]["queries"]["value_provenance"]["sql"]
    with sqlite3.connect(build_store) as conn:
        shown = conn.execute(sql, {"org": "baai", "snapshot": ""}).fetchall()
    assert {row[3] for row in shown} == {"crawl", "catalogue"}

    build(build_store, SEP, tmp_path / "p", "--profile", "published")
    capsys.readouterr()
    assert cli(["evidence", "--snapshot", SEP, "--db", str(build_store), "--json"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert {r["kind"] for r in published if r["dimension"] == "infra"} == {"published"}


def test_the_catalogue_command_prints_its_provenance(catalogue, capsys):
    import json

    from scoring.catalogue_summaries import main

    assert main(["--snapshot", "2025-10-07", "--db", "/no/store", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed) == len(ORGS) * (len(INFRA) + len(EVAL) + 2)
    assert {r["kind"] for r in printed} == {"catalogue"}


def test_inactive_projects_are_not_counted_and_unmaintained_ones_are_flagged(catalogue):
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs())
    assert out.tables["infra"].loc["OpenAI", "num_operators"] == 0  # blocksparse: inactive
    assert any(f.startswith("not counted: blocksparse (OpenAI) is inactive (infra.yaml:")
               for f in out.flags), out.flags
    lifecycle = cell(out, "infra", "Meta", "support_lifecycle")  # torchtune still counts
    assert lifecycle["value"] >= 2
    assert any(f.startswith("unmaintained: torchtune (infra.yaml:") for f in lifecycle["flags"])


def _count(rule, names):
    return {"rule": rule, "value": len(names), "names": list(names), "crawl_id": CRAWL,
            "fetched_at": "2025-10-07T03:00:00+00:00"}


def test_chips_of_an_orgs_projects_count_vendors_and_are_rule_counted_only_whole(catalogue):
    """InternEvo says npu, LMDeploy ascend: one vendor. The value is `rule` only when every
    project behind it was counted by a rule this crawl."""
    sail = [_count("internevo.chips", ["cuda", "npu"]), _count("xtuner.chips", ["cuda", "npu"]),
            _count("lmdeploy.chips", ["ascend", "camb", "cuda", "maca"])]
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs(counts=sail))
    chips = cell(out, "infra", "ShanghaiAILab", "num_adapted_chips_frameworks")
    assert (chips["value"], chips["kind"], chips["source"]) == (4, "rule", CRAWL)  # NVIDIA,
    # Ascend, Cambricon, MetaX
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs(counts=sail[:2]))
    chips = cell(out, "infra", "ShanghaiAILab", "num_adapted_chips_frameworks")
    assert chips["kind"] == "catalogue" and chips["value"] == 2  # lmdeploy's static ascend, cuda
    assert "rule not evaluated: lmdeploy.chips" in chips["flags"]


def test_model_chips_from_dated_adaptation_lists(catalogue):
    """Meta's models: vLLM Ascend's matrix (2025-08-07) says Ascend; LMDeploy's page
    (2025-09-19) adds NVIDIA, MetaX and Cambricon; an org no list names stays 0."""
    before = catalogue_summaries(catalogue, "2025-09-07", ORGS, inputs())
    after = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs())
    assert before.columns["model"]["Meta"] == 1 and after.columns["model"]["Meta"] == 4
    meta = cell(after, "model", "Meta", "num_adapted_chips")
    assert meta["kind"] == "catalogue" and "InternLM/lmdeploy" in meta["source"]  # first entry
    assert meta["as_of"] == "2026-12-07"  # the oldest verified date of the entries behind it
    assert after.columns["model"]["Xiaomi"] == 0
    assert after.columns["model"].gt(0).sum() >= 12


def test_lifecycle_frameworks_and_flags_counted_by_rule(catalogue):
    """A lifecycle rule's names stand for the stages its map gives (a name the map lacks is no
    stage); a frameworks rule's names are the frameworks; a flag is true when its rule found
    at least one name, false when it found none, whatever the static value says."""
    counts = [_count("flagscale.lifecycle", ["inference", "train", "compress"]),
              _count("flagscale.heterogeneous_training", []),
              _count("flagscale.chips", ["BI_V150"]),
              _count("bladedisc.frameworks", ["PyTorch", "TensorFlow", "JAX"]),
              _count("flagcx.cross_chip", ["send", "recv"])]
    out = catalogue_summaries(catalogue, "2025-10-07", ORGS, inputs(counts=counts))
    stages = cell(out, "infra", "BAAI", "support_lifecycle")
    assert (stages["value"], stages["kind"], stages["source"]) == (2, "rule", CRAWL)
    hetero = cell(out, "infra", "BAAI", "support_heterogeneous_training_frameworks")
    assert (hetero["value"], hetero["kind"]) == (0, "catalogue")  # found none: not true
    frameworks = cell(out, "infra", "Ali", "num_adapted_frameworks_ai_compiler")
    assert (frameworks["value"], frameworks["kind"]) == (3, "rule")
    cross = cell(out, "infra", "BAAI", "support_cross_chip_communication")
    assert (cross["value"], cross["kind"]) == (1, "rule")
    not_read = cell(out, "infra", "BAAI", "support_heterogeneous_training_communication_lib")
    assert (not_read["value"], not_read["kind"]) == (1, "catalogue")  # FlagCX's static true
    assert "rule not evaluated: flagcx.heterogeneous_training" in not_read["flags"]


def test_a_lifecycle_rule_without_a_map_to_stages_stops_the_load(tmp_path):
    import shutil

    from osir_crawl.inputs.catalogue import CatalogueError
    folder = tmp_path / "catalogue"
    shutil.copytree(ROOT / "data" / "catalogue", folder)
    infra = folder / "infra.yaml"
    text = infra.read_text(encoding="utf-8")
    old = "        map: {train: pretraining, train/peft: finetuning, inference: inference, serve: serving}\n"
    assert old in text
    infra.write_text(text.replace(old, "        map: {train: training}\n"), encoding="utf-8")
    with pytest.raises(CatalogueError, match="counts.lifecycle needs map"):
        load_catalogue(folder)


def test_catalogue_flags_follow_the_board_age_setting(tmp_path, monkeypatch):
    """The crawl report's flags age boards as scoring build does: $OSIR_BOARD_MAX_AGE_DAYS."""
    from osir_crawl.inputs.catalogue_flags import catalogue_flags

    def stale_boards():
        return {f["entry"] for f in catalogue_flags(tmp_path / "none.db", "2025-10-07")
                if "board" in f["flag"]}
    monkeypatch.setenv("OSIR_BOARD_MAX_AGE_DAYS", "100000")
    assert not stale_boards()
    monkeypatch.setenv("OSIR_BOARD_MAX_AGE_DAYS", "1")
    assert stale_boards()
