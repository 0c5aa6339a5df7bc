"""Replay the published raw records, rebuild the published summaries cell for cell.

``scrapy crawl legacy_import`` loads the raw records of 2025-07-07, 2025-08-07 and 2025-09-07
from the anchors (2025-07-07 only as the download baseline of 2025-08-07) into a fresh store;
``python -m scoring build --profile published`` must then give the published
``data-summary.csv`` and ``model-summary.csv`` of 2025-08-07 and 2025-09-07 with 0 differing
cells, and 2025-09-07's rank files byte for byte (delta ranks from the store's 2025-08-07).
"""

from __future__ import annotations

import csv
import time

import pytest

from scoring.cli import main
from scoring.profile import FIXES
from tests.conftest import ANCHORS, crawl_and_wait, rows

MONTHS = ("2025-07-07", "2025-08-07", "2025-09-07")
CHECKED = ("2025-08-07", "2025-09-07")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replay")]  # one replay, one worker


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replay")
    guard = tmp / "netguard.log"
    guard.touch()
    db = tmp / "osir.db"
    started = time.monotonic()
    crawl_and_wait("legacy_import", db, args={"root": ANCHORS / "months",
                                              "months": ",".join(MONTHS)},
                   settings={"LOG_LEVEL": "WARNING"}, env={"OSIR_NETGUARD_LOG": guard})
    replayed = time.monotonic() - started
    for month in MONTHS:
        assert main(["build", "--snapshot", month, "--profile", "published", "--db", str(db),
                     "--out", str(tmp / month), "--quiet"]) == 0
    built = time.monotonic() - started - replayed
    print(f"\nreplay of {len(MONTHS)} months: {replayed:.1f}s; 3 published builds: {built:.1f}s")
    assert not guard.read_text(), "the replay tried to reach the network"
    return {"db": db, "out": tmp}


def table(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        data = list(csv.reader(fh))
    return data[0], {r[0]: r[1:] for r in data[1:]}, [r[0] for r in data[1:]]


@pytest.mark.parametrize("month", CHECKED)
@pytest.mark.parametrize("name", ("data-summary", "model-summary", "infra-summary", "eval-summary"))
def test_published_summaries_reproduced_cell_for_cell(replay, month, name):
    header, ours, order = table(replay["out"] / month / f"{name}.csv")
    pub_header, published, pub_order = table(ANCHORS / "months" / month / f"{name}.csv")
    assert (header, order) == (pub_header, pub_order)
    differing = [(org, col, ours[org][j], published[org][j])
                 for org in pub_order for j, col in enumerate(header[1:])
                 if float(ours[org][j]) != float(published[org][j])]
    assert differing == [], f"{len(differing)} cells differ: {differing[:10]}"
    if name in ("data-summary", "model-summary"):  # the crawled ones: byte for byte too
        assert (replay["out"] / month / f"{name}.csv").read_bytes() == \
            (ANCHORS / "months" / month / f"{name}.csv").read_bytes()


@pytest.mark.parametrize("name", ("data", "model", "infra", "eval", "overall"))
def test_published_rank_files_of_2025_09_07_with_delta_from_the_store(replay, name):
    ours = (replay["out"] / "2025-09-07" / f"{name}-rank.csv").read_bytes()
    assert ours == (ANCHORS / "months" / "2025-09-07" / f"{name}-rank.csv").read_bytes()


def test_replay_counts_and_classification_paths(replay):
    db = replay["db"]
    counts = {(r["snapshot"], r["platform"]): r["n"] for r in rows(
        db, "SELECT snapshot, platform, count(*) AS n FROM models GROUP BY 1, 2")}
    assert counts[("2025-09-07", "huggingface")] == 9058  # every mapped raw record
    assert counts[("2025-09-07", "modelscope")] == 2883
    assert rows(db, "SELECT count(*) AS n FROM rejects")[0]["n"] == 0
    paths = {(r["kind"], r["path"]): r["n"] for r in rows(
        db, "SELECT kind, path, count(*) AS n FROM classification WHERE snapshot = '2025-09-07' "
            "GROUP BY 1, 2")}
    # Published profile: the cached labels only; the rest is on the review list.
    assert set(paths) <= {("model", "label"), ("model", "review"), ("dataset", "label"),
                          ("dataset", "review")}
    assert paths[("model", "label")] > 11000


def test_default_profile_differences_all_have_reasons(replay, capsys):
    out = replay["out"] / "default"
    assert main(["build", "--snapshot", "2025-09-07", "--db", str(replay["db"]), "--out",
                 str(out), "--diff"]) == 0
    printed = capsys.readouterr()
    with open(out / "profile-diff.csv", newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert cells, "the default profile corrects published quirks, so cells must differ"
    reasons = {r for c in cells for r in c["reasons"].split("; ")}
    assert reasons <= set(FIXES) | {"several corrections together"}
    # The quirks of research/osir-lmts-method.md §5 that move 2025-09-07's cells:
    assert {"ms_key_collision", "embodied_as_multimodal", "min_downloads_inclusive",
            "owner_case_sensitive", "accumulate_to_month"} <= reasons
    assert f"{len(cells)} cells differ" in printed.out
    assert "classification of models: label" in printed.err
