"""The project's own CSV inputs (labels, rule tables, curated values): UTF-8, a fixed header."""

from __future__ import annotations

import csv
from collections.abc import Iterator


def checked_rows(path, header: tuple, error: type[Exception], what: str,
                 skip_blank: bool = True) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row of ``path`` after its header line, which must be
    ``header``; every row must have as many cells. Anything else raises ``error`` naming the
    file (and the line); ``what`` names the kind of file in "not found"."""
    try:
        fh = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise error(f"{path}: {what} file not found") from None
    with fh:
        reader = csv.reader(fh)
        if next(reader, None) != list(header):
            raise error(f"{path} line 1: expected the header {','.join(header)}")
        for n, row in enumerate(reader, start=2):
            if not row and skip_blank:
                continue
            if len(row) != len(header):
                raise error(f"{path} line {n}: {len(row)} cells, expected {len(header)}")
            yield n, row
