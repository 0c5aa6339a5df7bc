"""``python -m scoring``: rank and explain, error messages, all-or-nothing output."""

import csv
import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import scoring.io  # noqa: E402
from osir_crawl.inputs.published import PUBLISHED_DIR as ANCHORS  # noqa: E402
from scoring.cli import build_parser, command_modules, main  # noqa: E402
from tests.inprocess import run_main  # noqa: E402

SUMMARIES = {
    "data": ["org,num_language,num_speech,operators", "A,10,0,24", "B,5,3,0", "C,0,1,105"],
    "model": ["org,downloads_language,likes,num_adapted_chips", "A,100,7,4", "B,300,1,1", "C,0,0,1"],
    "infra": ["org,num_operators,support_lifecycle", "A,121,4", "B,0,4", "C,0,0"],
    "eval": ["org,num_leaderboards,num_evaluated_models", "A,5,912", "B,2,350", "C,0,0"],
    "data-accumulated": ["org,num_language,num_speech,operators", "A,20,1,24", "B,5,9,0",
                         "C,3,1,105"],
    "model-accumulated": ["org,downloads_language,likes,num_adapted_chips", "A,900,7,4",
                          "B,300,1,1", "C,50,0,1"],
}


# The fixture months' own method: their summaries hold a few indicators each, and a summary
# must hold every indicator its method lists (but the optional ones).
METHOD = """normalisation: max
dimensions:
  data: [num_language, num_speech, operators]
  model: [downloads_language, likes, num_adapted_chips]
  infra: [num_operators, support_lifecycle, num_adapted_chips_ai_compiler]
  eval: [num_leaderboards, num_evaluated_models]
optional:
  infra: [num_adapted_chips_ai_compiler]
"""


def write_month(folder, **replace):
    folder.mkdir(parents=True, exist_ok=True)
    for key, lines in {**SUMMARIES, **replace}.items():
        if lines is not None:
            (folder / f"{key}-summary.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "method.yaml").write_text(METHOD, encoding="utf-8")
    return folder


def with_method(args):
    """``args`` with ``--method MONTH_DIR/method.yaml`` for a fixture month (unless given)."""
    args = [str(a) for a in args]
    own = Path(args[1]) / "method.yaml"
    if args[0] in ("rank", "explain") and "--method" not in args and own.exists():
        args += ["--method", str(own)]
    return args


def cli(args):
    return main(with_method(args))


def run(*args):
    """``python -m scoring args…``, in process: (status, stdout, stderr)."""
    proc = run_main(main, with_method(args))
    return proc.status, proc.out, proc.err


def read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


EXPECTED = ["data-rank.csv", "model-rank.csv", "infra-rank.csv", "eval-rank.csv",
            "overall-rank.csv", "data-accumulated-rank.csv", "model-accumulated-rank.csv",
            "overall-accumulated-rank.csv"]


def test_rank_command_writes_the_published_files(tmp_path):
    month = write_month(tmp_path / "m")
    code, out, err = run("rank", month, "--out", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(EXPECTED)
    rows = read(tmp_path / "out" / "infra-rank.csv")
    assert rows[0] == ["org", "num_operators", "support_lifecycle", "score", "rank"]
    assert rows[1] == ["A", "1.0", "1.0", "1.0", "1"]
    assert rows[2] == ["B", "0.0", "1.0", "0.5", "2"]
    assert "indicators not in the table, skipped" in err  # fewer columns than the method


def test_previous_gives_delta_columns_and_summary_deltas(tmp_path):
    prev = write_month(tmp_path / "p")
    assert cli(["rank", str(prev), "--out", str(prev), "-q"]) == 0
    month = write_month(tmp_path / "m", infra=["org,num_operators,support_lifecycle",
                                               "A,0,0", "B,9,4", "C,1,0", "D,1,1"],
                        eval=["org,num_leaderboards,num_evaluated_models",
                              "A,5,912", "B,2,350", "C,0,0", "D,1,1"])
    assert cli(["rank", str(month), "--previous", str(prev), "--out", str(tmp_path / "o"),
                "-q"]) == 0
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == sorted(EXPECTED + ["data-summary-delta.csv", "model-summary-delta.csv"])
    infra = read(tmp_path / "o" / "infra-rank.csv")
    assert infra[0][-1] == "delta rank"
    # ranks A1 B2 C3 -> B1 D2 C3 A4; D is new, so the column is float
    assert [r[-1] for r in infra[1:]] == ["-3.0", "1.0", "0.0", ""]
    data = read(tmp_path / "o" / "data-rank.csv")
    assert [r[-1] for r in data[1:]] == ["0", "0", "0"]  # no new org: int column
    assert read(tmp_path / "o" / "data-summary-delta.csv")[1] == ["A", "0", "0", "0"]


def test_bom_and_crlf_inputs(tmp_path):
    month = write_month(tmp_path / "m")
    text = (month / "infra-summary.csv").read_text()
    (month / "infra-summary.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert cli(["rank", str(month), "--out", str(tmp_path / "o"), "-q"]) == 0
    assert read(tmp_path / "o" / "infra-rank.csv")[1][0] == "A"


@pytest.mark.parametrize("replace, message", [
    ({"eval": None}, "eval-summary.csv: file not found"),
    ({"infra": ["name,num_operators", "A,1"]}, "infra-summary.csv line 1, column 'org': missing column"),
    ({"model": ["org,likes", "A,1", "B,many", "C,0"]},
     "model-summary.csv line 3, column 'likes': non-numeric value 'many'"),
    ({"model": ["org,likes", "A,1", "B,", "C,0"]}, "model-summary.csv line 3, column 'likes': empty cell"),
    ({"data": ["org,num_language", "A,1", "B,2", "A,3"]},
     "data-summary.csv line 4, column 'org': duplicated organisation 'A' (first at line 2)"),
    ({"eval": ["org,num_leaderboards"]}, "eval-summary.csv: empty table (no organisations)"),
    ({"eval": [""]}, "eval-summary.csv: empty file"),
    ({"infra": ["org,a,b", "A,1,2", "B,1"]}, "infra-summary.csv line 3: 2 cells, header has 3"),
    ({"infra": ["org,unknown", "A,1"]}, "infra-summary.csv: missing columns: none of the infra"),
    ({"model": ["org,downloads_language,likes,num_adapted_chips", "A,100,7,4", "B,1e400,1,1",
                "C,0,0,1"]},
     "model-summary.csv line 3, column 'downloads_language': '1e400' overflows to infinity"),
    ({"model": ["org,downloads_language,likes,num_adapted_chips", "A,100,7,4", "B,300,-1,1",
                "C,0,0,1"]}, "model-summary.csv line 3, column 'likes': negative value '-1'"),
    ({"infra": ["org,num_operators", "A,121", "B,0", "C,0"]},
     "infra-summary.csv line 1, column 'support_lifecycle': missing indicator column"),
])
def test_bad_input_one_line_error_exit_2_no_files(tmp_path, replace, message):
    month = write_month(tmp_path / "m", **replace)
    code, out, err = run("rank", month, "--out", tmp_path / "out")
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_bad_previous_and_method(tmp_path):
    month = write_month(tmp_path / "m")
    code, _, err = run("rank", month, "--previous", tmp_path / "nope", "--out", tmp_path / "o")
    assert code == 2 and "previous month folder not found" in err
    bad = write_month(tmp_path / "p")
    (bad / "data-rank.csv").write_text("org,score,rank\nA,0.5,first\n")
    code, _, err = run("rank", month, "--previous", bad, "--out", tmp_path / "o")
    assert code == 2 and "data-rank.csv line 2, column 'rank': not an integer rank 'first'" in err
    (tmp_path / "method.yaml").write_text("normalisation: zscore\ndimensions: {data: [a]}\n")
    code, _, err = run("rank", month, "--method", tmp_path / "method.yaml", "--out", tmp_path / "o")
    assert code == 2 and "normalisation: 'zscore' is not one of max, minmax" in err
    assert not (tmp_path / "o").exists()


def test_failed_write_leaves_no_partial_files(tmp_path, monkeypatch):
    month = write_month(tmp_path / "m")
    out = tmp_path / "out"
    assert cli(["rank", str(month), "--out", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # second run of changed data fails while writing its third file
    write_month(month, model=["org,downloads_language,likes,num_adapted_chips",
                              "A,1,1,1", "B,2,2,2", "C,3,3,3"])
    real, calls = scoring.io.format_table, []

    def failing(table):
        calls.append(table)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(table)

    monkeypatch.setattr(scoring.io, "format_table", failing)
    assert cli(["rank", str(month), "--out", str(out), "-q"]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old files intact, no temps
    monkeypatch.setattr(scoring.io, "format_table", real)
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(scoring.io, "format_table", failing)
    calls.clear()
    assert cli(["rank", str(month), "--out", str(fresh), "-q"]) == 1
    assert list(fresh.iterdir()) == []


def test_explain_sums_to_the_scores(tmp_path):
    month = write_month(tmp_path / "m")
    code, out, err = run("explain", month, "--org", "b", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["org"] == "B"
    ov = rep["overall"]
    total = 0.0
    for d in rep["dimensions"]:
        contrib = sum(i["contribution"] for i in d["indicators"] if i["contribution"] is not None)
        assert math.isclose(contrib, d["score"], rel_tol=0, abs_tol=1e-12)
        for i in d["indicators"]:
            assert i["normalised"] == i["raw"] / i["max"]
        assert d["discount"] == 1 / math.log2(d["rank"] + 1)
        assert d["overall_term"] == d["overall_weight"] * d["discount"]
        total += d["overall_term"]
    assert math.isclose(total, ov["score"], rel_tol=0, abs_tol=1e-12)
    assert math.isclose(sum(d["share"] for d in rep["dimensions"]), 1.0, abs_tol=1e-12)
    ranks = read_rank_via_cli(tmp_path, month)
    assert ov["rank"] == ranks["B"]


def read_rank_via_cli(tmp_path, month):
    assert cli(["rank", str(month), "--out", str(tmp_path / "r"), "-q"]) == 0
    return {r[0]: int(r[-1]) for r in read(tmp_path / "r" / "overall-rank.csv")[1:]}


def test_explain_text_and_minmax(tmp_path, capsys):
    month = write_month(tmp_path / "m")
    (tmp_path / "mm.yaml").write_text(METHOD.replace("normalisation: max", "normalisation: minmax"))
    assert cli(["explain", str(month), "--org", "A", "--method", str(tmp_path / "mm.yaml")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("A: overall-rank ")
    assert " min " in text and "= score" in text and "g(rank)" in text
    assert cli(["explain", str(month), "--org", "A", "--accumulated", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["overall"]["table"] == "overall-accumulated-rank"
    assert rep["dimensions"][0]["table"] == "data-accumulated-rank"
    assert rep["dimensions"][2]["table"] == "infra-rank"


def test_explain_unknown_org(tmp_path):
    code, _, err = run("explain", write_month(tmp_path / "m"), "--org", "Z")
    assert code == 2 and err.startswith("error: organisation 'Z' not found") and err.count("\n") == 1


def test_explain_published_month(capsys):
    months = ANCHORS / "months"
    assert main(["explain", str(months / "2025-09-07"), "--org", "BAAI",
                 "--previous", str(months / "2025-08-07"), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["overall"] == {"table": "overall-rank", "present": True,
                              "score": 0.45988286234999426, "rank": 4, "of": 32, "delta_rank": 1}
    assert [d["rank"] for d in rep["dimensions"]] == [6, 9, 1, 3]


def test_subcommands_are_a_registry():
    names = [m.__name__.rsplit(".", 1)[1] for m in command_modules()]
    assert names[:2] == ["rank", "explain"]
    assert "rank" in build_parser().format_help() and "explain" in build_parser().format_help()


def test_explain_names_every_indicator_no_organisation_has(tmp_path, capsys):
    """An indicator 0 for every organisation drops out of its dimension's mean (x/max = 0/0):
    explain names it, in text and JSON, instead of letting it vanish."""
    month = write_month(tmp_path / "2025-10-07", model=[
        "org,downloads_language,likes,num_adapted_chips", "A,100,7,0", "B,300,1,0", "C,0,0,0"])
    assert cli(["explain", str(month), "--org", "A"]) == 0
    text = capsys.readouterr().out
    assert ("not measured in 2025-10-07: model num_adapted_chips (no organisation has a value: "
            "each dimension's mean leaves it out, for every organisation alike)") in text
    assert cli(["explain", str(month), "--org", "A", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["not_measured"] == [{"dimension": "model", "indicator": "num_adapted_chips"}]
    model = next(d for d in rep["dimensions"] if d["dimension"] == "model")
    assert model["k"] == 2  # the mean of the two measured indicators


def test_explain_text_with_previous_month(capsys):
    """The text form prints the rank change read from the DataFrame (a float column)."""
    months = ANCHORS / "months"
    assert main(["explain", str(months / "2025-09-07"), "--org", "BAAI",
                 "--previous", str(months / "2025-08-07")]) == 0
    assert "delta rank +1" in capsys.readouterr().out
