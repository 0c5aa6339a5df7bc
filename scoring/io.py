"""Files in and out: summary CSVs, last month's folder, atomic writing of rank files.

    read_table(path) -> Table                  one summary CSV (UTF-8, BOM tolerated, CRLF ok)
    read_month(month_dir, method) -> dict      {"data": Table, ..., "data-accumulated": Table}
    read_previous(prev_dir, method) -> Previous
        ranks from prev_dir/<stem>.csv where present, otherwise computed from
        prev_dir's summaries; summaries for the *-summary-delta files
    write_outputs(ranking, out_dir) -> [paths]  all files to temporary names, then renamed
    format_table(table) -> list of CSV rows     the published cell formats

Cell formats (as the published pandas output): floats as ``repr`` (full
precision), ints as ints, blank for NaN; a column that holds any float or blank
is written as floats throughout ("1.0"), so ``delta rank`` is an int column
unless an organisation is new this month.
"""

import csv
import os
import re
from pathlib import Path

from .errors import ScoringError, where
from .method import load_method
from .rank import ACC, Previous, rank_month
from .table import ORG, Table

_INT = re.compile(r"[+-]?\d+(\.0*)?\Z")


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


def read_table(path):
    """Read one summary CSV into a :class:`Table` (errors name file, line and column)."""
    rows = _rows(path)
    return Table.from_rows(str(path), rows[0], rows[1:])


def read_month(month_dir, method=None):
    """Read a month's summaries: the four dimension files, plus accumulated ones present."""
    method = method or load_method()
    month_dir = Path(month_dir)
    if not month_dir.is_dir():
        raise ScoringError(f"{month_dir}: month folder not found")
    tables = {d: read_table(month_dir / f"{d}-summary.csv") for d in method.names}
    for d in method.names:
        path = month_dir / f"{d}{ACC}-summary.csv"
        if path.exists():
            tables[d + ACC] = read_table(path)
    return tables


def read_ranks(path):
    """``{org: rank}`` from a published or computed rank file (blank rank -> None)."""
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
    return ranks


def read_previous(prev_dir, method=None):
    """Last month for the delta columns: its rank files, else ranks computed from its summaries."""
    method = method or load_method()
    prev_dir = Path(prev_dir)
    if not prev_dir.is_dir():
        raise ScoringError(f"{prev_dir}: previous month folder not found")
    stems = [f"{d}-rank" for d in method.names] + ["overall-rank"]
    stems += [f"{d}{ACC}-rank" for d in method.names] + [f"overall{ACC}-rank"]
    prev = Previous(source=str(prev_dir))
    for stem in stems:
        if (prev_dir / f"{stem}.csv").exists():
            prev.ranks[stem] = read_ranks(prev_dir / f"{stem}.csv")
    for d in method.names + tuple(d + ACC for d in method.names):
        if (prev_dir / f"{d}-summary.csv").exists():
            prev.summaries[d] = read_table(prev_dir / f"{d}-summary.csv")
    if all(d in prev.summaries for d in method.names) and any(s not in prev.ranks for s in stems):
        computed = rank_month(prev.summaries, method)  # a folder holding only summaries
        for stem, table in computed.rankings.items():
            prev.ranks.setdefault(stem, table.rank_map())
    return prev


def _format_column(cells):
    """One column's cells: ints as ints unless the column holds a float or blank; NaN blank."""
    if any(c is None or type(c) is float for c in cells):
        return ["" if c is None or c != c else repr(float(c)) for c in cells]
    return [str(c) for c in cells]


def format_table(table):
    """CSV rows (header first) of a RankTable or DeltaTable, in the published formats."""
    rows = list(table.rows())
    if not rows:
        return [table.header()]
    columns = list(zip(*rows))
    formatted = [list(columns[0])] + [_format_column(col) for col in columns[1:]]
    return [table.header(), *map(list, zip(*formatted))]


def write_outputs(ranking, out_dir):
    """Write every output of a MonthRanking into ``out_dir``, all or nothing.

    Each file is written to a hidden temporary name first; only when every file
    is complete are they renamed into place. On any error the temporaries are
    removed and the error re-raised, so a failed run leaves no partial files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []  # (temporary, final)
    try:
        for stem, table in ranking.outputs().items():
            final = out_dir / f"{stem}.csv"
            tmp = out_dir / f".{stem}.csv.tmp-{os.getpid()}"
            done.append((tmp, final))
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows(format_table(table))
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
