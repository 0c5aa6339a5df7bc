"""Per-organisation indicator tables, the input of :mod:`scoring.rank`.

A :class:`Table` is one summary (``data-summary.csv`` and the like): an ordered
list of organisations, an ordered list of numeric columns and one value per
cell. It is built from CSV rows (:mod:`scoring.io`) or from plain Python
structures, so a caller that already holds the summaries in memory never
writes a file::

    Table.from_records("data", [{"org": "BAAI", "num_language": 79}, ...])
    Table.from_mapping("data", {"BAAI": {"num_language": 79}, ...})
    as_table(obj, "data")        # any of the above, or a Table

Cells are ``int`` when written as integers and ``float`` otherwise; a column
holding any float is stored as floats throughout (as pandas would read it).
Every constructor validates and raises :class:`scoring.errors.ScoringError`
naming the source, line (CSV) or row (records) and column.
"""

import math
import re
from dataclasses import dataclass, field

from .errors import ScoringError, where

ORG = "org"
_INT = re.compile(r"[+-]?\d+\Z")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")


@dataclass
class Table:
    """Organisations × numeric columns. ``values[i][j]`` is ``orgs[i]``, ``columns[j]``."""

    source: str
    columns: list
    orgs: list
    values: list
    lines: list = field(default=None, repr=False)  # source line of each row, for messages

    def __post_init__(self):
        if self.lines is None:
            self.lines = list(range(1, len(self.orgs) + 1))
        self._index = {org: i for i, org in enumerate(self.orgs)}
        self._cols = {c: j for j, c in enumerate(self.columns)}

    # -- access ---------------------------------------------------------
    def __len__(self):
        return len(self.orgs)

    def __contains__(self, org):
        return org in self._index

    def has_column(self, name):
        return name in self._cols

    def column(self, name):
        j = self._cols[name]
        return [row[j] for row in self.values]

    def value(self, org, name):
        return self.values[self._index[org]][self._cols[name]]

    def row(self, org):
        return dict(zip(self.columns, self.values[self._index[org]]))

    def is_int_column(self, name):
        j = self._cols[name]
        return all(type(row[j]) is int for row in self.values)

    def records(self):
        """The table as ``[{"org": ..., column: value, ...}, ...]``."""
        return [{ORG: org, **dict(zip(self.columns, row))} for org, row in zip(self.orgs, self.values)]

    # -- construction ---------------------------------------------------
    @classmethod
    def from_rows(cls, source, header, rows, first_line=2):
        """Build from a CSV header and string rows (``first_line`` = line of ``rows[0]``)."""
        header = [h.strip() for h in header]
        if not header or header == [""]:
            raise ScoringError(f"{source}: empty file (no header line)")
        if ORG not in header:
            raise ScoringError(f"{where(source, 1, ORG)}: missing column (header: {','.join(header)})")
        seen = set()
        for name in header:
            if name in seen:
                raise ScoringError(f"{where(source, 1, name)}: duplicated column")
            if not name:
                raise ScoringError(f"{where(source, 1)}: empty column name")
            seen.add(name)
        k = header.index(ORG)
        columns = header[:k] + header[k + 1:]
        records, lines = [], []
        for n, row in enumerate(rows, start=first_line):
            if not row or all(not c.strip() for c in row):
                continue  # blank line
            if len(row) != len(header):
                raise ScoringError(f"{where(source, n)}: {len(row)} cells, header has {len(header)}")
            records.append(dict(zip(header, row)))
            lines.append(n)
        return cls._build(source, columns, records, lines, "line")

    @classmethod
    def from_records(cls, source, records, columns=None):
        """Build from ``[{"org": name, column: value, ...}, ...]`` (column order of the first record)."""
        records = list(records)
        if columns is None:
            columns = [c for c in (records[0] if records else {}) if c != ORG]
        for i, rec in enumerate(records, start=1):
            if ORG not in rec:
                raise ScoringError(f"{where(source, None, ORG)}: missing in row {i}")
        return cls._build(source, list(columns), records, list(range(1, len(records) + 1)), "row")

    @classmethod
    def from_mapping(cls, source, mapping, columns=None):
        """Build from ``{org: {column: value, ...}, ...}`` (insertion order is row order)."""
        return cls.from_records(source, [{ORG: org, **vals} for org, vals in mapping.items()], columns)

    @classmethod
    def _build(cls, source, columns, records, lines, unit):
        if not records:
            raise ScoringError(f"{source}: empty table (no organisations)")
        orgs, values, first, float_cols = [], [], {}, set()
        for rec, n in zip(records, lines):
            org = rec[ORG]
            org = org.strip() if isinstance(org, str) else org
            if not isinstance(org, str) or not org:
                raise ScoringError(f"{source} {unit} {n}, column {ORG!r}: empty organisation name")
            if org in first:
                raise ScoringError(f"{source} {unit} {n}, column {ORG!r}: duplicated organisation "
                                   f"{org!r} (first at {unit} {first[org]})")
            first[org] = n
            row = []
            for j, c in enumerate(columns):
                try:
                    cell = rec[c]
                except KeyError:
                    raise ScoringError(f"{source} {unit} {n}: missing column {c!r}") from None
                if type(cell) is not int:  # fast path for ints; parse and check the rest
                    cell = _number(cell, f"{source} {unit} {n}, column {c!r}")
                    if type(cell) is float:
                        float_cols.add(j)
                row.append(cell)
            orgs.append(org)
            values.append(row)
        for j in float_cols:  # a column holding any float is a float column
            for r in values:
                r[j] = float(r[j])
        return cls(str(source), list(columns), orgs, values, lines)


def _number(cell, loc):
    if isinstance(cell, bool):
        return int(cell)
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if not math.isfinite(cell):
            raise ScoringError(f"{loc}: non-finite value {cell!r}")
        return cell
    if isinstance(cell, str):
        if cell.isdigit() and cell.isascii():  # fast path: plain non-negative integer
            return int(cell)
        text = cell.strip()
        if not text:
            raise ScoringError(f"{loc}: empty cell")
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
        raise ScoringError(f"{loc}: non-numeric value {cell!r}")
    if cell is None:
        raise ScoringError(f"{loc}: empty cell")
    raise ScoringError(f"{loc}: non-numeric value {cell!r}")


def as_table(obj, source):
    """Coerce a :class:`Table`, a list of records or an ``{org: {col: value}}`` mapping."""
    if isinstance(obj, Table):
        return obj
    if isinstance(obj, dict):
        return Table.from_mapping(source, obj)
    if isinstance(obj, (list, tuple)):
        return Table.from_records(source, obj)
    raise ScoringError(f"{source}: expected a Table, a list of records or a mapping, "
                       f"got {type(obj).__name__}")
