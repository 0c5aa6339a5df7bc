"""The published OSIR-LMTS rank files, rebuilt from the published summaries alone.

Every month of ``data/published/months/`` (override: ``OSIR_ANCHORS``)
is copied as its ``*-summary.csv`` files only, ranked with ``python -m scoring
rank`` (in process) against last month's folder, and each published rank and
delta file is compared: names, columns, row order, every number within 1e-9,
ranks and delta ranks identical, blanks in the same cells; and byte for byte.
Two ways to pass last month: its folder with our computed rank files, and its
folder with summaries only (ranks recomputed from them).
"""

import csv
import math
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from osir_crawl.inputs.published import PUBLISHED_DIR as ANCHORS  # noqa: E402
from scoring.cli import main  # noqa: E402

MONTHS_DIR = ANCHORS / "months"
pytestmark = [pytest.mark.slow,  # full rebuilds of every published month
              pytest.mark.xdist_group("rebuilt")]  # the module's rebuilds, on one worker
OUTPUTS = ("-rank.csv", "-summary-delta.csv")


def published_months():
    if not MONTHS_DIR.is_dir():
        return []
    return sorted(d.name for d in MONTHS_DIR.iterdir()
                  if d.is_dir() and (d / "infra-summary.csv").exists())


MONTHS = published_months()


def _rebuild(tmp, prev_mode):
    """Rank every month in order; returns {month: folder holding our outputs}."""
    out, prev = {}, None
    for month in MONTHS:
        src = tmp / "in" / month
        src.mkdir(parents=True)
        for f in (MONTHS_DIR / month).glob("*-summary.csv"):
            shutil.copy(f, src)
        dest = src if prev_mode == "with-ranks" else tmp / "out" / month
        args = ["rank", str(src), "--out", str(dest), "--quiet"]
        if prev is not None:
            args += ["--previous", str(prev)]
        assert main(args) == 0, month
        out[month] = dest
        prev = src
    return out


@pytest.fixture(scope="module", params=["with-ranks", "summaries-only"])
def rebuilt(request, tmp_path_factory):
    return _rebuild(tmp_path_factory.mktemp(request.param), request.param)


def _read(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _same_cell(want, got):
    if want == got:
        return True
    if not want or not got:
        return False
    a, b = float(want), float(got)
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))


def test_months_found():
    assert len(MONTHS) == 10, MONTHS
    assert "2024-11-14" not in MONTHS  # raw model files only, no summaries


@pytest.mark.parametrize("month", MONTHS)
def test_published_files_reproduced(rebuilt, month):
    ours = rebuilt[month]
    published = sorted(f.name for f in (MONTHS_DIR / month).glob("*.csv") if f.name.endswith(OUTPUTS))
    produced = sorted(f.name for f in ours.glob("*.csv") if f.name.endswith(OUTPUTS))
    assert produced == published
    assert not list(ours.glob(".*")), "temporary files left behind"
    for name in published:
        want, got = _read(MONTHS_DIR / month / name), _read(ours / name)
        assert got[0] == want[0], f"{name}: columns"
        assert [r[0] for r in got] == [r[0] for r in want], f"{name}: row order"
        exact = {j for j, c in enumerate(want[0]) if c in ("rank", "delta rank")}
        for w, g in zip(want[1:], got[1:]):
            assert len(g) == len(w), f"{name} {w[0]}"
            for j, (a, b) in enumerate(zip(w, g)):
                if j in exact:
                    assert b == a, f"{name} {w[0]} {want[0][j]}: {b} != {a}"
                else:
                    assert _same_cell(a, b), f"{name} {w[0]} {want[0][j]}: {b} != {a}"


@pytest.mark.parametrize("month", MONTHS)
def test_published_files_byte_identical(rebuilt, month):
    for f in sorted((MONTHS_DIR / month).glob("*.csv")):
        if f.name.endswith(OUTPUTS):
            assert (rebuilt[month] / f.name).read_bytes() == f.read_bytes(), f.name
