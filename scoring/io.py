"""Files in and out: summary CSVs, last month's folder, atomic writing of output files.

    read_table(path) -> frame                  one summary CSV (UTF-8, BOM tolerated, CRLF ok)
    read_month(month_dir, method) -> dict      {"data": frame, ..., "data-accumulated": frame}
    read_previous(prev_dir, method) -> Previous
        ranks from prev_dir/<stem>.csv where present, otherwise computed from
        prev_dir's summaries; summaries for the *-summary-delta files
    write_outputs(ranking, out_dir) -> [paths]  all files to temporary names, then renamed
    write_frames({stem: frame}, out_dir)       the same for any frames indexed by org
    format_table(frame) -> str                 the CSV text, in the published cell formats

Cell formats (as the published pandas output, ``DataFrame.to_csv``): floats as ``repr``
(full precision), ints as ints, blank for NaN; a column that holds any float or blank is
written as floats throughout ("1.0"), so ``delta rank`` is an int column unless an
organisation is new this month.
"""

import contextlib
import csv
import os
import re
import shutil
from pathlib import Path

import pandas as pd

from .errors import ScoringError, where
from .method import load_method
from .rank import ACCUMULATED, Previous, rank_month
from .summary_frames import ORG, from_rows

_INT = re.compile(r"[+-]?[0-9]+(\.0*)?\Z")


def _open(path):
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ScoringError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ScoringError(f"{path}: is a directory, expected a CSV file") from None
    except OSError as err:
        raise ScoringError(f"{path}: cannot read ({err.strerror})") from None


def _rows(path):
    with _open(path) as fh:
        try:
            rows = list(csv.reader(fh))
        except (csv.Error, UnicodeDecodeError) as err:
            raise ScoringError(f"{path}: not a readable UTF-8 CSV file ({err})") from None
    if not rows:
        raise ScoringError(f"{path}: empty file (no header line)")
    return rows


def read_table(path) -> pd.DataFrame:
    """Read one summary CSV (errors name file, line and column)."""
    rows = _rows(path)
    return from_rows(str(path), rows[0], rows[1:])


def read_month(month_dir, method=None):
    """Read a month's summaries: the four dimension files, plus accumulated ones present."""
    method = method or load_method()
    month_dir = Path(month_dir)
    if not month_dir.is_dir():
        raise ScoringError(f"{month_dir}: month folder not found")
    tables = {d: read_table(month_dir / f"{d}-summary.csv") for d in method.names}
    for d in method.names:
        path = month_dir / f"{d}{ACCUMULATED}-summary.csv"
        if path.exists():
            tables[d + ACCUMULATED] = read_table(path)
    return tables


def read_ranks(path) -> pd.Series:
    """Rank by org from a published or computed rank file (blank rank -> NaN)."""
    rows = _rows(path)
    header = [h.strip() for h in rows[0]]
    for col in (ORG, "rank"):
        if col not in header:
            raise ScoringError(f"{where(path, 1, col)}: missing column")
    io, ir = header.index(ORG), header.index("rank")
    ranks, first = {}, {}
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise ScoringError(f"{where(path, n)}: {len(row)} cells, header has {len(header)}")
        org, cell = row[io].strip(), row[ir].strip()
        if not org:
            raise ScoringError(f"{where(path, n, ORG)}: empty organisation name")
        if org in first:
            raise ScoringError(f"{where(path, n, ORG)}: duplicated organisation {org!r} "
                               f"(first on line {first[org]})")
        first[org] = n
        if cell and not _INT.match(cell):
            raise ScoringError(f"{where(path, n, 'rank')}: not an integer rank {cell!r}")
        ranks[org] = int(float(cell)) if cell else None
    if not ranks:
        raise ScoringError(f"{path}: empty table (no organisations)")
    return pd.Series(ranks, dtype="float64", name="rank")


def read_previous(prev_dir, method=None):
    """Last month for the delta columns: its rank files, else ranks computed from its summaries."""
    method = method or load_method()
    prev_dir = Path(prev_dir)
    if not prev_dir.is_dir():
        raise ScoringError(f"{prev_dir}: previous month folder not found")
    stems = [f"{d}-rank" for d in method.names] + ["overall-rank"]
    stems += [f"{d}{ACCUMULATED}-rank" for d in method.names] + [f"overall{ACCUMULATED}-rank"]
    prev = Previous(source=str(prev_dir))
    for stem in stems:
        if (prev_dir / f"{stem}.csv").exists():
            prev.ranks[stem] = read_ranks(prev_dir / f"{stem}.csv")
    for d in method.names + tuple(d + ACCUMULATED for d in method.names):
        if (prev_dir / f"{d}-summary.csv").exists():
            prev.summaries[d] = read_table(prev_dir / f"{d}-summary.csv")
    if all(d in prev.summaries for d in method.names) and any(s not in prev.ranks for s in stems):
        computed = rank_month(prev.summaries, method)  # a folder holding only summaries
        for stem, table in computed.rankings.items():
            prev.ranks.setdefault(stem, table["rank"])
    return prev


def format_table(frame: pd.DataFrame) -> str:
    """The CSV text of a frame indexed by org, in the published formats."""
    return frame.to_csv(index_label=ORG, lineterminator="\n")


def write_outputs(ranking, out_dir):
    """Write every output of a MonthRanking into ``out_dir``, all or nothing."""
    return write_frames(ranking.outputs(), out_dir)


@contextlib.contextmanager
def publishing(out, owned=()):
    """A new folder to write ``out``'s files in (``.NAME.new-PID`` beside it), swapped in for
    ``out`` when the block ends without an error: readers see the old folder or the new one,
    never a mix. What the old folder holds that the new one does not (the ecosystem build's
    subfolder, a profile diff) is carried over as hard links, except the file names in
    ``owned`` (the build's own, which it may leave out this time). A build killed on the way leaves
    hidden folders that the next build clears (``clear_leftovers``)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(out)
    staging = out.parent / f".{out.name}.new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        if out.is_dir():
            for entry in out.iterdir():
                if not entry.name.startswith(".") and entry.name not in owned \
                        and not (staging / entry.name).exists():
                    _carry(entry, staging / entry.name)
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            os.rename(out, old)
        os.rename(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def clear_leftovers(out: Path) -> None:
    """Remove what a killed build left beside and in ``out``: its new folder and temporary
    files; an old folder is put back if it was moved aside and the new one never came."""
    for path in out.parent.glob(f".{out.name}.*-*"):
        kind, _, pid = path.name.rpartition("-")
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if kind.endswith(".old") and not out.exists():
            os.rename(path, out)
        elif kind.endswith((".old", ".new")):
            shutil.rmtree(path, ignore_errors=True)
    if out.is_dir():
        for path in out.glob(".*.tmp-*"):
            pid = path.name.rpartition("-")[2]
            if pid.isdigit() and not _alive(int(pid)):
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # an earlier build of this process, ended
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _carry(source: Path, target: Path) -> None:
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if source.is_dir():
        shutil.copytree(source, target, copy_function=link)
    else:
        link(source, target)


def write_frames(frames: dict, out_dir, suffix=".csv"):
    """Write ``{stem: frame}`` as ``out_dir/<stem>.csv``, all or nothing.

    Each file is written to a hidden temporary name first; only when every file is complete
    are they renamed into place. On any error the temporaries are removed and the error
    re-raised, so a failed run leaves no partial files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []  # (temporary, final)
    try:
        for stem, frame in frames.items():
            final = out_dir / f"{stem}{suffix}"
            tmp = out_dir / f".{stem}{suffix}.tmp-{os.getpid()}"
            done.append((tmp, final))
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(format_table(frame))
        for tmp, final in done:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in done:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
        raise
    return [final for _, final in done]
