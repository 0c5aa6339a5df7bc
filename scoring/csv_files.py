"""The project's CSV inputs (summaries, rank files, labels, rule tables, curated values), read
with pandas: UTF-8 (a byte-order mark tolerated), any line ending, every cell as text.

Errors name the file and the line (the record's: line 1 is the header), so a hand-edited file
can be fixed where it is wrong. pandas' python parser is used for its one difference that
matters here: a row with too few cells comes back with missing values (NaN), an empty cell as
``""``, so a short row is told from a row with blank cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pandas as pd

_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_cells(path, error: type[Exception], what: str = "",
               skip_blank: bool = True) -> tuple[list[str], pd.DataFrame]:
    """(header cells, rows): the rows after the header as a frame of text cells (columns
    numbered, the index the line of each row), every one with as many cells as the header;
    blank lines are left out (``skip_blank``) or an error. Anything else raises ``error``
    naming the file and the line; ``what`` names the kind of file in "not found"."""
    try:
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, encoding="utf-8-sig", engine="python")
    except FileNotFoundError:
        raise error(f"{path}: {what + ' ' if what else ''}file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a CSV file") from None
    except pd.errors.EmptyDataError:
        raise error(f"{path}: empty file (no header line)") from None
    except pd.errors.ParserError as err:
        if found := _TOO_MANY.search(str(err)):
            header, line, cells = found.groups()
            if header == "0":  # the first line is empty
                raise error(f"{path}: empty file (no header line)") from None
            raise error(f"{path} line {line}: {cells} cells, header has {header}") from None
        raise error(f"{path}: not a readable CSV file ({err})") from None
    except (UnicodeDecodeError, ValueError) as err:
        raise error(f"{path}: not a readable UTF-8 CSV file ({err})") from None
    except OSError as err:
        raise error(f"{path}: cannot read ({err.strerror})") from None
    given = frame.notna().sum(axis=1).to_numpy()  # cells on each line (missing ones at its end)
    frame.index = range(1, len(frame) + 1)
    header = frame.iloc[0, :given[0]].tolist() if len(frame) else []
    if not header or header == [""]:
        raise error(f"{path}: empty file (no header line)")
    rows = frame.iloc[1:, :len(header)]
    blank = given[1:] == 0  # an empty line
    short = given[1:] != len(header)
    if skip_blank:
        short &= ~blank
        rows = rows[~blank]
    if short.any():
        i = short.argmax()
        raise error(f"{path} line {i + 2}: {given[i + 1]} cells, header has {len(header)}")
    return header, rows


def checked_rows(path, header: tuple, error: type[Exception], what: str,
                 skip_blank: bool = True) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row of ``path`` after its header line, which must be
    ``header``; every row must have as many cells. Anything else raises ``error`` naming the
    file (and the line); ``what`` names the kind of file in "not found"."""
    found, rows = read_cells(path, error, what, skip_blank)
    if found != list(header):
        raise error(f"{path} line 1: expected the header {','.join(header)}")
    for n, cells in zip(rows.index, rows.itertuples(index=False, name=None)):
        yield n, list(cells)
