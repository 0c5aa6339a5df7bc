"""The scoring algorithm and its Python API, on small hand-made tables."""

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from scoring import (ScoringError, default_method, load_indicator_labels,  # noqa: E402
                     load_method, rank_month)
from scoring.method import method_from_dict  # noqa: E402
from scoring.rank import Previous, dense_rank, normalise, summary_delta  # noqa: E402
from scoring.summary_frames import from_records, from_rows  # noqa: E402

SPEC = {
    "dimensions": {"data": ["a", "b"], "model": ["c"], "infra": ["d"], "eval": ["e"]},
    "overall_weights": {"data": "1/6", "model": "1/2", "infra": "1/6", "eval": "1/6"},
}


def method(**changes):
    spec = {**SPEC, **changes}
    return method_from_dict(spec, "test method")


def tables(**override):
    base = {
        "data": {"X": {"a": 1, "b": 4}, "Y": {"a": 4, "b": 1}, "Z": {"a": 2, "b": 0}},
        "model": [{"org": "X", "c": 10}, {"org": "Y", "c": 30}, {"org": "Z", "c": 20}],
        "infra": {"X": {"d": 1}, "Y": {"d": 1}, "Z": {"d": 0}},
        "eval": {"X": {"e": 3}, "Y": {"e": 0}, "Z": {"e": 3}},
    }
    base.update(override)
    return base


# -- normalisation -------------------------------------------------------------------

def test_max_normalisation_is_x_over_max():
    assert normalise(pd.DataFrame({"a": [1, 4, 2]}), "max")["a"].tolist() == [0.25, 1.0, 0.5]


def test_minmax_normalisation():
    assert normalise(pd.DataFrame({"a": [1, 4, 2]}), "minmax")["a"].tolist() == [0.0, 1.0, 1 / 3]


def test_minmax_method_changes_scores():
    r = rank_month(tables(), method(normalisation="minmax")).rankings["data-rank"]
    # a: (1,4,2) -> 0, 1, 1/3 ; b: (4,1,0) -> 1, .25, 0
    assert r[["a", "b"]].values.tolist() == [[0.0, 1.0], [1.0, 0.25], [1 / 3, 0.0]]
    assert r["score"].tolist() == [0.5, 0.625, (1 / 3) / 2]
    assert r["rank"].tolist() == [2, 1, 3]
    assert rank_month(tables(), method()).rankings["data-rank"]["rank"].tolist() == [1, 1, 2]


def test_zero_max_column_is_nan_and_skipped():
    t = tables(data={"X": {"a": 0, "b": 4}, "Y": {"a": 0, "b": 2}, "Z": {"a": 0, "b": 1}})
    r = rank_month(t, method()).rankings["data-rank"]
    assert r["a"].isna().all()
    assert r["score"].tolist() == [1.0, 0.5, 0.25]  # mean over b alone
    assert r["rank"].tolist() == [1, 2, 3]


def test_all_nan_row_has_no_rank():
    t = tables(infra={"X": {"d": 0}, "Y": {"d": 0}, "Z": {"d": 0}})
    r = rank_month(t, method())
    assert r.rankings["infra-rank"]["rank"].isna().all()
    assert all(math.isnan(s) for s in r.rankings["overall-rank"]["score"])


# -- scores, weights, ranks ----------------------------------------------------------

def test_mean_is_left_to_right_sum_over_k():
    row = [0.1, 0.7, 0.2, 0.9, 0.3]
    t = {"data": {"X": dict(zip("abcde", row)), "Y": dict(zip("abcde", [1.0] * 5))},
         "model": {"X": {"c": 1}, "Y": {"c": 1}}, "infra": {"X": {"d": 1}, "Y": {"d": 1}},
         "eval": {"X": {"e": 1}, "Y": {"e": 1}}}
    m = method(dimensions={**SPEC["dimensions"], "data": list("abcde")})
    s = 0
    for v in row:
        s += v
    assert rank_month(t, m).rankings["data-rank"].loc["X", "score"] == s / 5


def test_weights():
    m = method(dimensions={**SPEC["dimensions"], "data": [{"a": 3}, "b"]})
    assert m.dimension("data").weights == (3.0, 1.0)
    r = rank_month(tables(), m).rankings["data-rank"]
    # X: a .25, b 1 -> (3*.25 + 1)/4 ; Y: a 1, b .25 -> 3.25/4 ; Z: a .5, b 0 -> 1.5/4
    assert r["score"].tolist() == [(3 * 0.25 + 1.0) / 4, (3 * 1.0 + 0.25) / 4,
                                   (3 * 0.5 + 0.0) / 4]
    assert r["rank"].tolist() == [2, 1, 3]


def test_weight_zero_removes_indicator():
    m = method(dimensions={**SPEC["dimensions"], "data": [{"a": 1}, {"b": 0}]})
    assert rank_month(tables(), m).rankings["data-rank"]["score"].tolist() == [0.25, 1.0, 0.5]


def test_dense_ties():
    scores = pd.Series([0.5, 0.9, 0.5, 0.1, 0.9])
    assert dense_rank(scores).tolist() == [2, 1, 2, 3, 1]
    assert dense_rank(scores, "min").tolist() == [3, 1, 3, 5, 1]
    assert dense_rank(pd.Series([0.0, 0.0, 0.0])).tolist() == [1, 1, 1]
    assert dense_rank(pd.Series([0.5, float("nan")])).tolist()[0] == 1.0
    r = rank_month(tables(), method()).rankings
    assert r["data-rank"]["score"].tolist()[:2] == [0.625, 0.625]
    assert r["data-rank"]["rank"].tolist() == [1, 1, 2]
    assert r["infra-rank"]["rank"].tolist() == [1, 1, 2]


def test_overall_score_and_rank():
    m = method()
    r = rank_month(tables(), m)
    ov = r.rankings["overall-rank"]
    assert list(ov.columns) == ["data", "model", "infra", "eval", "score", "rank"]
    g = lambda k: 1 / math.log2(k + 1)  # noqa: E731
    # X: data 1, model 3, infra 1, eval 1
    assert ov.iloc[0, :4].tolist() == [g(1), g(3), g(1), g(1)]
    assert ov.loc["X", "score"] == (1 / 6) * g(1) + 0.5 * g(3) + (1 / 6) * g(1) + (1 / 6) * g(1)
    assert ov["rank"].tolist() == dense_rank(ov["score"]).tolist()


def test_overall_uses_orgs_in_every_dimension_in_data_order():
    t = tables(eval={"Z": {"e": 3}, "X": {"e": 1}})
    r = rank_month(t, method())
    assert list(r.rankings["overall-rank"].index) == ["X", "Z"]
    assert any("left out of the overall" in w for w in r.warnings)


def test_accumulated_overall_mixes_accumulated_and_plain_ranks():
    acc = {"X": {"c": 0}, "Y": {"c": 0}, "Z": {"c": 5}}
    r = rank_month({**tables(), "model-accumulated-summary.csv": acc}, method()).rankings
    assert list(r) == ["data-rank", "model-rank", "infra-rank", "eval-rank", "overall-rank",
                       "model-accumulated-rank", "overall-accumulated-rank"]
    oa = r["overall-accumulated-rank"]
    assert oa.iloc[2, 1] == 1.0  # Z first in accumulated model
    assert oa.iloc[2, 0] == r["overall-rank"].iloc[2, 0]  # plain data rank


def test_missing_optional_indicator_skipped_with_note():
    t = tables(data={"X": {"a": 1}, "Y": {"a": 2}, "Z": {"a": 4}})
    r = rank_month(t, method(optional={"data": ["b"]}))
    assert list(r.rankings["data-rank"].columns) == ["a", "score", "rank"]
    assert any("skipped: b" in w for w in r.warnings)


def test_missing_listed_indicator_is_an_error():
    t = tables(data={"X": {"a": 1}, "Y": {"a": 2}, "Z": {"a": 4}})
    with pytest.raises(ScoringError, match=r"data table line 1, column 'b': missing indicator"):
        rank_month(t, method())


def test_delta_rank_and_new_orgs():
    prev = Previous(ranks={"data-rank": {"X": 3, "Y": 1}})
    r = rank_month(tables(), method(), prev)
    assert r.rankings["data-rank"]["delta rank"].tolist()[:2] == [2, 0]
    assert math.isnan(r.rankings["data-rank"]["delta rank"]["Z"])
    assert "delta rank" not in r.rankings["model-rank"]
    assert r.summary_deltas == {}


def test_previous_month_ranking_object():
    first = rank_month(tables(), method())
    second = rank_month(tables(model={"X": {"c": 40}, "Y": {"c": 30}, "Z": {"c": 20}}),
                        method(), first)
    assert second.rankings["model-rank"]["delta rank"].tolist() == [2, -1, -1]  # 3,1,2 -> 1,2,3
    d = second.summary_deltas["model-summary-delta"]
    assert list(d.columns) == ["c"] and d.values.tolist() == [[30], [0], [0]]


def test_summary_delta_aligns_like_pandas():
    this = from_records("this", {"b": {"x": 5, "y": 1}, "a": {"x": 2, "y": 2}})
    same = summary_delta(this, from_records("p", {"b": {"x": 1, "y": 1}, "a": {"x": 1, "y": 1}}))
    assert list(same.index) == ["b", "a"] and same.values.tolist() == [[4, 0], [1, 1]]
    prev = from_records("p", {"b": {"x": 1, "y": 1}})
    new = summary_delta(this, prev)
    assert list(new.index) == ["a", "b"]  # union, sorted, when the org lists differ
    assert new.isna().values.tolist() == [[True, True], [False, False]]
    assert new.loc["b"].tolist() == [4.0, 0.0]


def test_api_accepts_tables_records_and_mappings():
    t = tables()
    t["data"] = pd.DataFrame.from_dict(t["data"], orient="index").rename_axis("org")
    r = rank_month(t, method())
    assert list(r.rankings["data-rank"].index) == ["X", "Y", "Z"]
    assert r.inputs["model"].reset_index().to_dict("records")[1] == {"org": "Y", "c": 30}


# -- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    ([], "data table: empty table"),
    ([{"org": "X", "a": 1}, {"org": "X", "a": 2}], "row 2, column 'org': duplicated organisation 'X'"),
    ([{"org": "X", "a": "12x"}], "row 1, column 'a': non-numeric value '12x'"),
    ([{"org": "X", "a": None}], "row 1, column 'a': empty cell"),
    ([{"org": "X", "a": float("nan")}], "non-finite"),
    ([{"a": 1}], "column 'org': missing in row 1"),
    ([{"org": "X", "z": 1}], "none of the data indicators"),
])
def test_bad_tables(data, message):
    with pytest.raises(ScoringError) as err:
        rank_month(tables(data=data), method())
    assert message in str(err.value)


def test_missing_dimension_table():
    t = tables()
    del t["eval"]
    with pytest.raises(ScoringError, match="missing summary table 'eval'"):
        rank_month(t, method())


def test_csv_rows_validation():
    with pytest.raises(ScoringError, match=r"f.csv line 3: 2 cells, header has 3"):
        from_rows("f.csv", ["org", "a", "b"], [["X", "1", "2"], ["Y", "1"]])
    with pytest.raises(ScoringError, match=r"f.csv line 1, column 'org': missing column"):
        from_rows("f.csv", ["name", "a"], [["X", "1"]])
    t = from_rows("f.csv", ["org", "a", "b"], [["X", "1", "2.5"], ["Y", "+3", "1e3"]])
    assert t.values.tolist() == [[1, 2.5], [3, 1000.0]] and str(t["a"].dtype) == "int64"
    with pytest.raises(ScoringError, match=r"f.csv line 3, column 'a': negative value '-3'"):
        from_rows("f.csv", ["org", "a"], [["X", "1"], ["Y", "-3"]])
    with pytest.raises(ScoringError, match=r"line 2, column 'b': '1e400' overflows to infinity"):
        from_rows("f.csv", ["org", "a", "b"], [["X", "1", "1e400"]])


def test_built_frames_are_checked_like_files():
    frame = pd.DataFrame({"a": [1, -2]}, index=pd.Index(["X", "Y"], name="org"))
    with pytest.raises(ScoringError, match=r"data table org 'Y', column 'a': negative value -2"):
        rank_month(tables(data=frame), method())
    frame = pd.DataFrame({"a": [1.0, float("inf")], "b": [1, 1]}, index=["X", "Y"])
    with pytest.raises(ScoringError, match=r"org 'Y', column 'a': non-finite value inf"):
        rank_month(tables(data=frame), method())


@pytest.mark.parametrize("change, message", [
    ({"normalisation": "zscore"}, "normalisation: 'zscore' is not one of max, minmax"),
    ({"ties": "average"}, "ties"),
    ({"overall_weights": {"data": 1}}, "overall_weights: expected one weight for each"),
    ({"overall_weights": {"data": "x/2", "model": 1, "infra": 1, "eval": 1}}, "overall_weights.data"),
    ({"dimensions": {"data": []}}, "dimensions.data: expected a non-empty list"),
    ({"dimensions": {**SPEC["dimensions"], "data": ["a", "a"]}}, "listed twice"),
    ({"weights": 1}, "unknown key(s) weights"),
])
def test_bad_method(change, message):
    with pytest.raises(ScoringError) as err:
        method(**change)
    assert message in str(err.value)


def test_method_file_is_the_published_method():
    m = load_method()
    assert m == default_method()
    assert m.normalisation == "max" and m.ties == "dense"
    assert dict(m.overall_weights) == {"data": 0.5 / 3, "model": 0.5, "infra": 0.5 / 3,
                                       "eval": 0.5 / 3}
    assert all(d.weights is None for d in m.dimensions)
    assert [len(d.indicators) for d in m.dimensions] == [18, 18, 12, 5]
    assert m.g(1) == 1.0 and m.g(3) == 0.5


def test_indicator_labels_cover_the_method():
    labels = load_indicator_labels()
    for dim in default_method().dimensions:
        for ind in dim.indicators:
            entry = labels[dim.name][ind]
            assert entry["label"] and entry["group"] and entry["zh"] and entry["group_zh"]
    assert labels["infra"]["num_operators"] == {"group": "Operator Library",
                                                "label": "Number of operators",
                                                "group_zh": "算子库", "zh": "算子数量"}


def test_method_file_errors_name_the_file_and_line(tmp_path):
    text = (ROOT / "data" / "method.yaml").read_text(encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("ties:"))
    path = tmp_path / "method.yaml"
    path.write_text(text.replace("ties: dense", "ties: average"), encoding="utf-8")
    with pytest.raises(ScoringError, match=rf"method\.yaml:{line}: ties: 'average' is not one of"):
        load_method(path)


@pytest.mark.parametrize("text, message", [
    ("org,a,b\nX,1,2\n\nY,1\n", "f.csv line 4: 2 cells, header has 3"),
    ('org,a,b\nX,"1\n2",2\nY,1,2,3\n', "f.csv line 3: 4 cells, header has 3"),
    ("\n", "f.csv: empty file (no header line)"),
    ("org,rank\nA,1\nB,x\n", "f.csv line 3, column 'rank': not an integer rank 'x'"),
    ("org,rank\nA,1\n\nA,2\n", "f.csv line 4, column 'org': duplicated organisation 'A' "
                               "(first on line 2)"),
])
def test_csv_files_name_the_line(tmp_path, text, message):
    from scoring.io import read_ranks

    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScoringError) as err:
        read_ranks(path)
    assert str(err.value) == f"{tmp_path}/{message}"


def test_rank_files_read_with_a_bom_crlf_and_blank_ranks(tmp_path):
    from scoring.io import read_ranks

    path = tmp_path / "r.csv"
    path.write_bytes("\ufefforg,score,rank\r\nA,0.5,1\r\nB,0.2,2.0\r\nC,,\r\n".encode())
    ranks = read_ranks(path)
    assert ranks.index.tolist() == ["A", "B", "C"] and ranks.tolist()[:2] == [1.0, 2.0]
    assert ranks.isna().tolist() == [False, False, True]
