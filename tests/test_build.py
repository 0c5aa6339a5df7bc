"""``python -m scoring build`` on a small store: downloads, merge, profiles, outputs, derived."""

from __future__ import annotations

import csv
import shutil
import sqlite3

import pandas as pd
import pytest

from osir_crawl.store import open_store, write_rows
from scoring.cli import main
from scoring.curated import CuratedError, load_curated, CURATED_DIR
from scoring.profile import PROFILES
from scoring.store import previous_snapshot
from scoring.summaries import accumulate, baseline, merge, monthly_downloads
from tests.conftest import ROOT, rows

AUG, SEP = "2025-08-07", "2025-09-07"
PUBLISHED, DEFAULT = PROFILES["published"], PROFILES["default"]


def model(snapshot, platform, repo_id, org, **kw):
    owner, name = repo_id.split("/")
    return {"snapshot": snapshot, "platform": platform, "repo_id": repo_id, "org": org,
            "owner": owner, "name": name, "url": f"https://x/{repo_id}", "crawl_id": "t",
            "fetched_at": "t", **kw}


@pytest.fixture
def store(tmp_path):
    db_path = tmp_path / "osir.db"
    db = open_store(db_path)
    models, datasets = [], []
    for snap, ms_total, ms_ds_total in ((AUG, 100, 50), (SEP, 400, 60)):
        models += [
            model(snap, "huggingface", "BAAI/bge-m3", "BAAI", downloads=1000, likes=10,
                  discussions=2, descendants=5),
            model(snap, "modelscope", "BAAI/bge-m3", "BAAI", downloads_total=ms_total, likes=1,
                  discussions=0),
            model(snap, "huggingface", "BAAI/RoboBrain", "BAAI", downloads=80, likes=1),
            model(snap, "huggingface", "01-ai/Yi-1.5-34B", "01-AI", downloads=50, likes=4),
            model(snap, "huggingface", "Qwen/NewModel-7B", "Ali", downloads=500, likes=2,
                  pipeline_tag="text-generation", params=7_000_000_000),
        ]
        datasets += [
            model(snap, "modelscope", "BAAI/bge-m3", "BAAI", downloads_total=ms_ds_total),
            model(snap, "huggingface", "BAAI/IndustryCorpus2_law_judiciary", "BAAI",
                  downloads=700, dataset_usage=3),
            model(snap, "opendatalab", "OpenDriveLab/OpenLane", "ShanghaiAILab",
                  downloads_total=10000 if snap == AUG else 10300),
        ]
    for r in models:
        r.setdefault("tags", "[]")
    write_rows(db, "models", models)
    write_rows(db, "datasets", datasets)
    db.close()
    return db_path


def read(path):
    with open(path, newline="") as fh:
        return {r["org"]: r for r in csv.DictReader(fh)}


def build(store, snapshot, out, *extra):
    assert main(["build", "--snapshot", snapshot, "--db", str(store), "--out", str(out), *extra]) == 0


# -- units -------------------------------------------------------------------------------------

def test_previous_snapshot_is_closest_to_a_month_before_within_15_days():
    snaps = ["2025-07-07", "2025-08-07", "2025-08-20", "2025-09-07"]
    assert previous_snapshot(snaps, "2025-09-07") == "2025-08-07"
    assert previous_snapshot(["2025-08-20", "2025-09-07"], "2025-09-07") == "2025-08-20"
    assert previous_snapshot(["2025-08-25", "2025-09-07"], "2025-09-07") is None  # 17 days off
    assert previous_snapshot(["2025-07-01", "2025-09-07"], "2025-09-07") is None  # 38 days off
    assert previous_snapshot([], "2025-09-07") is None


def frame(*rows):
    out = pd.DataFrame(list(rows))
    return out.astype({c: "Int64" for c in ("downloads", "downloads_total", "likes", "community",
                                            "usage") if c in out})


def downloads(kind, row, last_month, profile):
    """One record's monthly downloads given last month's totals {(kind, platform, repo): n}."""
    totals = {k: pd.DataFrame([{"platform": p, "repo_id": r, "downloads_total": n}
                               for (kd, p, r), n in last_month.items() if kd == k],
                              columns=["platform", "repo_id", "downloads_total"])
              for k in ("models", "datasets")}
    rows = frame(row)
    value = monthly_downloads(rows, kind, baseline(rows, kind, totals, profile), profile)[0]
    return None if value is pd.NA else value


def test_monthly_downloads_30_day_figure_else_delta_of_totals():
    row = {"platform": "modelscope", "repo_id": "A/x", "downloads": None, "downloads_total": 400}
    assert downloads("models", {**row, "downloads": 77}, {}, DEFAULT) == 77
    assert downloads("models", row, {("models", "modelscope", "A/x"): 100}, DEFAULT) == 300
    assert downloads("models", row, {}, DEFAULT) is None  # no baseline: unknown
    # Published: one baseline dict for ModelScope models and datasets (a dataset overwrote it).
    collided = {("models", "modelscope", "A/x"): 100, ("datasets", "modelscope", "A/x"): 50}
    assert downloads("models", row, collided, PUBLISHED) == 350
    assert downloads("models", row, collided, DEFAULT) == 300
    # ModelScope datasets without a baseline count with 0; a zero baseline is "none" if published.
    ds = {**row, "downloads_total": 30}
    assert downloads("datasets", ds, {}, DEFAULT) == 0
    assert downloads("datasets", ds, {("datasets", "modelscope", "A/x"): 0}, DEFAULT) == 30
    assert downloads("datasets", ds, {("datasets", "modelscope", "A/x"): 0}, PUBLISHED) == 0
    odl = {**ds, "platform": "opendatalab"}
    assert downloads("datasets", odl, {}, DEFAULT) is None


def test_merge_modelscope_first_sums_positive_downloads():
    kept = [
        {"org": "BAAI", "platform": "huggingface", "repo": "BAAI", "name": "m", "modality": "Vector",
         "lifecycle": None, "downloads": 1000, "likes": 10, "community": 2, "usage": 5},
        {"org": "BAAI", "platform": "modelscope", "repo": "BAAI", "name": "m", "modality": "Language",
         "lifecycle": None, "downloads": -20, "likes": 1, "community": None, "usage": None},
        {"org": "BAAI", "platform": "huggingface", "repo": "FlagRelease", "name": "m2",
         "modality": None, "lifecycle": None, "downloads": 60, "likes": 0, "community": 0, "usage": 0},
    ]
    kept = frame(*kept)
    merged = merge(kept, DEFAULT).set_index("name")
    m = merged.loc["m"]
    assert (m["modality"], m["platform"], m["downloads"], m["likes"], m["community"],
            m["usage"]) == ("Language", "modelscope", 1000, 11, 2, 5)
    acc = accumulate([merge(kept, DEFAULT), merge(kept[:1], DEFAULT)])
    assert {(r.repo, r.name): r.downloads for r in acc.itertuples()} == {
        ("BAAI", "m"): 2000, ("FlagRelease", "m2"): 60}


def test_curated_files_are_validated_with_file_and_line(tmp_path):
    folder = tmp_path / "curated"
    shutil.copytree(CURATED_DIR, folder)
    assert len(load_curated(folder).other_datasets) == 204
    text = (folder / "eval.csv").read_text().splitlines()
    text[3] = text[3].rsplit(",", 1)[0] + ","  # drop a source
    (folder / "eval.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(CuratedError, match=r"eval.csv line 4, column 'source': empty"):
        load_curated(folder)
    shutil.copy(CURATED_DIR / "eval.csv", folder / "eval.csv")
    (folder / "model-adapted-chips.csv").write_text("org,value,source\nBAAI,four,x\n")
    with pytest.raises(CuratedError, match=r"line 2, column 'value': not a number 'four'"):
        load_curated(folder)


# -- end to end --------------------------------------------------------------------------------

def test_build_writes_summaries_rankings_and_store_tables(store, tmp_path, capsys):
    build(store, AUG, tmp_path / AUG, "--profile", "published")
    build(store, SEP, tmp_path / SEP, "--profile", "published")
    out = tmp_path / SEP
    model = read(out / "model-summary.csv")
    assert list(model) == [r[1] for r in csv.reader(open(CURATED_DIR / "infra.csv"))
                           if r[0] == SEP]  # the month's organisations, in curated order
    baai = model["BAAI"]
    # HF 1000 + ModelScope 400 - 50 (published: last month's same-named *dataset* total).
    assert (baai["downloads_vector"], baai["num_vector"], baai["likes"], baai["issue"],
            baai["descendants"], baai["num_adapted_chips"]) == ("1350", "1", "12", "2", "5", "4")
    assert baai["num_multimodal"] == "0"  # RoboBrain is Embodied: in no column (published)
    assert model["01-AI"]["num_language"] == "1"  # exactly 50 downloads: kept (published)
    assert model["Ali"]["num_language"] == "0"  # no curated label: left out (published)
    data = read(out / "data-summary.csv")
    assert (data["BAAI"]["downloads_language"], data["BAAI"]["dataset_usage"],
            data["BAAI"]["operators"]) == ("700", "3", "24")
    assert data["ShanghaiAILab"]["downloads_vision"] == "300"  # OpenDataLab 10300 - 10000
    assert data["Google"]["num_language"] != "0"  # other-source datasets counted
    infra = read(out / "infra-summary.csv")
    assert infra["BAAI"]["num_operators"] == "199"
    for name in ("data", "model", "infra", "eval", "overall", "data-accumulated",
                 "overall-accumulated"):
        assert "delta rank" in next(csv.reader(open(out / f"{name}-rank.csv")))

    ranks = rows(store, "SELECT dimension, count(*) AS n, min(rank) AS best FROM rankings "
                        "WHERE snapshot = ? GROUP BY dimension", [SEP])
    assert {r["dimension"] for r in ranks} == {
        "data", "model", "infra", "eval", "overall", "data-accumulated", "model-accumulated",
        "overall-accumulated"}
    assert all(r["n"] == 32 and r["best"] == 1 for r in ranks)
    delta = rows(store, "SELECT delta_rank FROM rankings WHERE snapshot = ? AND dimension = "
                        "'model' AND org = 'BAAI'", [SEP])[0]["delta_rank"]
    assert delta is not None
    sources = rows(store, "SELECT dimension, indicator, source FROM summaries WHERE snapshot = ? "
                          "AND org = 'BAAI'", [SEP])
    assert all(s["source"] for s in sources)
    by = {(s["dimension"], s["indicator"]): s["source"] for s in sources}
    assert "core.py" in by[("model", "num_adapted_chips")]
    assert "infra-summary.csv" in by[("infra", "num_operators")]
    assert by[("model", "likes")].startswith(f"store: {SEP} (monthly downloads vs {AUG})")
    paths = rows(store, "SELECT kind, path, count(*) AS n FROM classification WHERE snapshot = ? "
                        "GROUP BY kind, path", [SEP])
    assert {(p["kind"], p["path"]): p["n"] for p in paths} == {
        ("model", "label"): 4, ("model", "review"): 1, ("dataset", "label"): 2,
        ("dataset", "review"): 1}
    assert "classification of models: label 4, rule 0, review 1" in capsys.readouterr().err


@pytest.mark.slow  # a full default-profile build
def test_default_profile_and_the_audit(store, tmp_path, capsys):
    build(store, SEP, tmp_path / "d", "--diff")
    out = capsys.readouterr().out
    model = read(tmp_path / "d" / "model-summary.csv")
    assert model["BAAI"]["downloads_vector"] == "1300"  # models and datasets kept apart
    assert model["BAAI"]["num_multimodal"] == "1"  # Embodied -> Multimodal
    assert model["01-AI"]["num_language"] == "0"  # "over 50"
    assert model["Ali"]["num_language"] == "1"  # rule: text-generation, 7B parameters
    assert "model, BAAI, downloads_vector: 1350 -> 1300  [ms_key_collision]" in out
    assert "model, BAAI, num_multimodal: 0 -> 1  [embodied_as_multimodal]" in out
    assert "model, 01-AI, num_language: 1 -> 0  [min_downloads_inclusive]" in out
    assert "model, Ali, num_language: 0 -> 1  [use_rules]" in out
    diff = list(csv.DictReader(open(tmp_path / "d" / "profile-diff.csv")))
    assert diff and all(d["reasons"] for d in diff)
    assert rows(store, "SELECT DISTINCT profile FROM rankings WHERE snapshot = ?", [SEP]) == [
        {"profile": "default"}]


def test_derived_indicators_are_opt_in(store, tmp_path, monkeypatch, capsys):
    method = tmp_path / "method.yaml"
    method.write_text((ROOT / "data" / "method.yaml").read_text()
                      + "\nderived:\n  eval: [num_evaluated_models_crawled]\n")
    calls = []
    monkeypatch.setattr("scoring.build.derived_indicators", lambda db, snap: calls.append(
        (db, snap)) or {"eval": {"BAAI": {"num_evaluated_models_crawled": 42}}})
    build(store, SEP, tmp_path / "b", "--method", str(method))
    assert calls == [(str(store), SEP)]
    ev = read(tmp_path / "b" / "eval-summary.csv")
    assert (ev["BAAI"]["num_evaluated_models_crawled"], ev["Google"]["num_evaluated_models_crawled"]) \
        == ("42", "0")
    assert rows(store, "SELECT source FROM summaries WHERE indicator = ? AND org = 'BAAI'",
                ["num_evaluated_models_crawled"])[0]["source"].startswith("derived")
    build(store, SEP, tmp_path / "c")  # the shipped method file does not opt in
    assert "num_evaluated_models_crawled" not in read(tmp_path / "c" / "eval-summary.csv")["BAAI"]


def test_unknown_snapshot_is_a_one_line_error(store, tmp_path, capsys):
    assert main(["build", "--snapshot", "2025-10-07", "--db", str(store), "--out",
                 str(tmp_path)]) == 2
    assert "snapshot 2025-10-07 has no models or datasets in the store" in capsys.readouterr().err
    assert main(["build", "--snapshot", SEP, "--db", str(tmp_path / "none.db")]) == 2


@pytest.mark.parametrize("cell, shown", [("1e400", "inf"), ("-3", "-3"), ("2.5", "2.5")])
def test_a_store_cell_that_is_not_a_count_is_a_one_line_error(store, tmp_path, capsys, cell,
                                                              shown):
    with sqlite3.connect(store) as conn:
        conn.execute(f"UPDATE models SET likes = {cell} WHERE repo_id = 'BAAI/RoboBrain' "
                     f"AND snapshot = ?", [SEP])
    assert main(["build", "--snapshot", SEP, "--db", str(store), "--out",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: store osir.db, table models, "
                                                   f"snapshot {SEP}, repo 'BAAI/RoboBrain', "
                                                   f"column 'likes': {shown} is not a count")
    assert not (tmp_path / "out").exists()
