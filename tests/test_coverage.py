"""scoring/coverage.py: values by kind per dimension, indicators no organisation has a value
for, typed catalogue values on old evidence; and how the crawl report shows them."""

from __future__ import annotations

import json

import pandas as pd

from osir_crawl.ops.report import values_markdown
from scoring import coverage


def frame(rows):
    return pd.DataFrame(rows, columns=["dimension", "org", "indicator", "value", "kind",
                                       "source", "as_of", "flags"])


PROV = frame([
    ("model", "A", "likes", 7, "crawl", "c1", "2025-10-07", "[]"),
    ("model", "B", "likes", 0, "crawl", "c1", "2025-10-07", "[]"),
    ("model", "A", "num_adapted_chips", 0, "catalogue", "https://x", "2025-04-17", "[]"),
    ("model", "B", "num_adapted_chips", 0, "catalogue", "https://x", "2025-04-17", "[]"),
    ("model-accumulated", "A", "num_adapted_chips", 0, "catalogue", "https://x", "2025-04-17",
     "[]"),
    ("data", "A", "num_vision", 171, "published", "store + data/curated/other-source-"
     "datasets.csv", "2025-09-07", "[]"),
    ("infra", "A", "num_operators", 21, "catalogue", "https://y", "2025-01-01", '["x"]'),
    ("infra", "B", "num_operators", 396, "rule", "c2", "2025-10-07", "[]"),
])


def test_not_measured_is_named_and_flagged_on_every_cell():
    assert coverage.not_measured(PROV) == [("model", "num_adapted_chips")]
    flagged = coverage.with_not_measured(PROV, "2025-10-07")
    note = ("not measured in 2025-10-07: model num_adapted_chips (no organisation has a value: "
            "the dimension's mean leaves the indicator out)")
    chips = flagged[flagged.indicator == "num_adapted_chips"]
    assert len(chips) == 3 and all(json.loads(f) == [note] for f in chips["flags"])
    assert json.loads(flagged["flags"][6]) == ["x"]  # other cells keep their flags


def test_kinds_per_dimension_and_stale_typed_values():
    assert coverage.kind_counts(PROV) == {
        "data": {"published": {"values": 1, "nonzero": 1}},
        "model": {"crawl": {"values": 2, "nonzero": 1},
                  "catalogue": {"values": 2, "nonzero": 0}},
        "infra": {"catalogue": {"values": 1, "nonzero": 1}, "rule": {"values": 1, "nonzero": 1}}}
    stale = coverage.stale_values(PROV, "2025-10-07")
    assert list(stale.indicator) == ["num_operators"]  # 2025-01-01: 279 days; zeros not shown
    assert coverage.stale_values(PROV, "2025-06-30").empty


def test_the_report_section_says_what_is_not_measured():
    lines = values_markdown(coverage.summary(PROV, "2025-10-07"), "2025-10-07")
    text = "\n".join(lines)
    assert "| model | 2 (1) | 0 | 2 (0) | 0 |" in text
    assert ("**not measured in 2025-10-07: model num_adapted_chips** (no organisation has a "
            "value: each drops out of its dimension's mean)") in text
    assert "1 non-zero catalogue values rest on evidence more than six months older" in text
    assert values_markdown(None, "2025-10-07")[2] == "2025-10-07 is not built: no values yet."
