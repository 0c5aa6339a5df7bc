"""``python -m scoring chart`` draws PNGs from the rankings a real crawl and scoring build
stored: the overall ranking, each dimension, every organisation's rank over the snapshots."""

from __future__ import annotations

import struct

import matplotlib.image
import pytest

from osir_crawl.ops.outputs import STORE_FILE
from scoring.chart import rank_history, read_rankings, write_charts
from scoring.errors import ScoringError
from tests.conftest import SCORED_SNAPSHOTS, rows

# One worker builds the session's scored store for these and tests/test_datasette.py.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("scored_store")]
OLD, NEW = SCORED_SNAPSHOTS
PNG = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_chart_command_writes_every_chart(cli, scored_store, tmp_path):
    out = tmp_path / "charts"
    proc = cli.scoring("chart", "--snapshot", NEW, "--db", scored_store, "--out", out)
    assert proc.status == 0, proc.err
    dims = {r["dimension"] for r in rows(scored_store, "SELECT DISTINCT dimension FROM rankings "
                                         "WHERE snapshot = ?", [NEW])}
    expected = {"overall.png", "rank-history.png"} | {
        f"dimension-{d}.png" for d in dims if not d.startswith("overall")}
    assert {"dimension-data.png", "dimension-model.png", "dimension-infra.png",
            "dimension-eval.png"} <= expected
    assert {p.name for p in out.iterdir()} == expected | {STORE_FILE}  # and which store
    assert sorted(proc.out.split()) == sorted(str(out / name) for name in expected)
    n_orgs = len(rows(scored_store, "SELECT org FROM rankings WHERE snapshot = ? AND "
                      "dimension = 'overall'", [NEW]))
    for path in out.glob("*.png"):
        width, height = png_size(path)
        assert 600 <= width <= 3000 and 350 <= height <= 3000, (path.name, width, height)
        assert path.stat().st_size > 15_000  # drawn, not an empty canvas
        pixels = matplotlib.image.imread(path)
        assert pixels.std() > 0.05  # decodes, and is not one flat colour
    # One bar per organisation: the ranking chart grows with the number of organisations.
    assert png_size(out / "overall.png")[1] >= 30 * n_orgs


def test_history_covers_every_stored_snapshot(scored_store, tmp_path):
    ranked = read_rankings(scored_store)
    one = rank_history([r for r in ranked if r["snapshot"] == OLD], tmp_path / "one.png")
    two = rank_history(ranked, tmp_path / "two.png")
    assert png_size(one)[0] < png_size(two)[0]  # a column per snapshot


def test_unknown_snapshot_is_a_clear_error(cli, scored_store, tmp_path):
    with pytest.raises(ScoringError, match=f"no rankings for snapshot 2020-01-01 .*{OLD}, {NEW}"):
        write_charts(scored_store, "2020-01-01", tmp_path)
    proc = cli.scoring("chart", "--snapshot", "2020-01-01", "--db", tmp_path / "missing.db")
    assert proc.status == 2 and proc.err.startswith("error: ")
    assert "store not found" in proc.err  # the one message of scoring.store.open_store
