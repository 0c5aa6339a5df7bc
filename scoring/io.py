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
import os
import shutil
from pathlib import Path

import pandas as pd

from .csv_files import read_cells
from .errors import ScoringError, where
from .method import load_method
from .rank import ACCUMULATED, Previous, rank_month
from .summary_frames import ORG, from_rows

_INT = r"[+-]?[0-9]+(?:\.0*)?"  # a whole rank, as pandas writes it in a float column too


def read_table(path) -> pd.DataFrame:
    """Read one summary CSV (errors name file, line and column)."""
    header, rows = read_cells(path, ScoringError)
    return from_rows(str(path), header, rows.to_numpy().tolist(), lines=rows.index.tolist())


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
    header, rows = read_cells(path, ScoringError)
    header = [h.strip() for h in header]
    for col in (ORG, "rank"):
        if col not in header:
            raise ScoringError(f"{where(path, 1, col)}: missing column")
    cells = rows.apply(lambda column: column.str.strip())
    cells = cells[(cells != "").any(axis=1)]  # blank lines and rows of blank cells
    orgs, ranks = cells.iloc[:, header.index(ORG)], cells.iloc[:, header.index("rank")]
    if (orgs == "").any():
        raise ScoringError(f"{where(path, orgs.index[orgs.eq('').argmax()], ORG)}: "
                           "empty organisation name")
    if orgs.duplicated().any():
        n = orgs.index[orgs.duplicated().argmax()]
        raise ScoringError(f"{where(path, n, ORG)}: duplicated organisation {orgs[n]!r} "
                           f"(first on line {orgs.index[orgs.eq(orgs[n]).argmax()]})")
    values = pd.to_numeric(ranks.where(ranks.str.fullmatch(_INT)), errors="coerce")
    bad = ranks.ne("") & values.isna()
    if bad.any():
        n = ranks.index[bad.argmax()]
        raise ScoringError(f"{where(path, n, 'rank')}: not an integer rank {ranks[n]!r}")
    if not len(orgs):
        raise ScoringError(f"{path}: empty table (no organisations)")
    return pd.Series(values.to_numpy(dtype="float64"), index=orgs.to_list(), name="rank")


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
def publishing(out, owned=(), carry=True):
    """A new folder to write ``out``'s files in (``.NAME.new-PID`` beside it), swapped in for
    ``out`` when the block ends without an error: readers see the old folder or the new one,
    never a mix. What the old folder holds that the new one does not (the ecosystem build's
    subfolder, a profile diff) is carried over as hard links, except the file names in
    ``owned`` (the build's own, which it may leave out this time). A build killed on the way leaves
    hidden folders that the next build clears (``clear_leftovers``). ``carry=False``: the new
    folder replaces the old one whole (the ranking site)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(out)
    staging = out.parent / f".{out.name}.new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        if carry and out.is_dir():
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
