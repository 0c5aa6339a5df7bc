"""Summary tables as DataFrames: organisations (the index, ``org``) × indicators, checked.

A summary comes from CSV rows (:func:`from_rows`, used by :mod:`scoring.io`), from records or
an ``{org: {indicator: value}}`` mapping (:func:`from_records`, the Python API), or is built
as a frame (:func:`scoring.build`); :func:`as_summary` takes any of them. Every cell must be a
finite number >= 0 (an indicator counts something); a column of whole numbers is ``int64``,
a column holding any other number ``float64`` (as pandas reads a CSV). Errors are one line
naming the source, the line (CSV) or row, and the column. ``frame.attrs["source"]`` keeps the
source's name for later messages.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .errors import ScoringError, where

ORG = "org"
_INT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_MISSING = object()
NEVER_NEGATIVE = " (an indicator counts something: never negative)"


def from_rows(source, header, rows, first_line=2, lines=None) -> pd.DataFrame:
    """A summary from a CSV header and string rows (``first_line``: the line of ``rows[0]``,
    ``lines``: the line of each row, where they are not consecutive)."""
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
    data_rows, lines = [], []
    for n, row in zip(lines or range(first_line, first_line + len(rows)), rows):
        if not row or all(not c.strip() for c in row):
            continue  # blank line
        if len(row) != len(header):
            raise ScoringError(f"{where(source, n)}: {len(row)} cells, header has {len(header)}")
        data_rows.append(row)
        lines.append(n)
    cells = dict(zip(header, map(list, zip(*data_rows)))) if data_rows else {h: [] for h in header}
    return _build(source, cells.pop(ORG), cells, lines, "line")


def from_records(source, records, columns=None) -> pd.DataFrame:
    """A summary from ``[{"org": name, indicator: value, ...}, ...]`` (columns: those of the
    first record unless given) or from ``{org: {indicator: value}}``."""
    if isinstance(records, dict):
        records = [{ORG: org, **values} for org, values in records.items()]
    records = list(records)
    if columns is None:
        columns = [c for c in (records[0] if records else {}) if c != ORG]
    for i, rec in enumerate(records, start=1):
        if ORG not in rec:
            raise ScoringError(f"{where(source, None, ORG)}: missing in row {i}")
    cells = {c: [rec.get(c, _MISSING) for rec in records] for c in columns}
    return _build(source, [rec[ORG] for rec in records], cells, list(range(1, len(records) + 1)),
                  "row")


def as_summary(obj, source) -> pd.DataFrame:
    """Any summary the API accepts, as a checked frame: a DataFrame (indexed by org, or with
    an ``org`` column), a list of records, or an ``{org: {indicator: value}}`` mapping."""
    if isinstance(obj, pd.DataFrame):
        return checked(obj, obj.attrs.get("source", source))
    if isinstance(obj, (dict, list, tuple)):
        return from_records(source, obj)
    raise ScoringError(f"{source}: expected a DataFrame, a list of records or a mapping, "
                       f"got {type(obj).__name__}")


def checked(frame: pd.DataFrame, source) -> pd.DataFrame:
    """A built frame checked like a file: unique named orgs, finite numbers >= 0."""
    if ORG in frame.columns:
        frame = frame.set_index(ORG)
    frame = frame.astype({c: "int64" for c in frame.columns
                          if isinstance(frame[c].dtype, pd.Int64Dtype) and frame[c].notna().all()})
    plain = all(t in (np.dtype("int64"), np.dtype("float64")) for t in frame.dtypes)
    named = all(isinstance(o, str) and o.strip() == o and o for o in frame.index)
    if not (plain and named and frame.index.is_unique and len(frame)):
        records = [{ORG: org, **row} for org, row in zip(frame.index, frame.to_dict("records"))]
        return from_records(source, records, list(frame.columns))
    out = frame.copy()
    out.index.name = ORG
    out.attrs["source"] = str(source)
    _check_numbers(source, out, None, "org")
    return out


def _build(source, orgs, cells, lines, unit) -> pd.DataFrame:
    if not orgs:
        raise ScoringError(f"{source}: empty table (no organisations)")
    first = {}
    names = []
    for org, n in zip(orgs, lines):
        org = org.strip() if isinstance(org, str) else org
        if not isinstance(org, str) or not org:
            raise ScoringError(f"{source} {unit} {n}, column {ORG!r}: empty organisation name")
        if org in first:
            raise ScoringError(f"{source} {unit} {n}, column {ORG!r}: duplicated organisation "
                               f"{org!r} (first at {unit} {first[org]})")
        first[org] = n
        names.append(org)
    columns, problems = {}, []
    for j, (name, values) in enumerate(cells.items()):
        parsed = _column(values)
        if isinstance(parsed, tuple):  # (row position, message)
            problems.append((parsed[0], j, name, parsed[1]))
        else:
            columns[name] = parsed
    if problems:
        i, _, name, message = min(problems)
        raise ScoringError(f"{source} {unit} {lines[i]}, column {name!r}: {message}")
    frame = pd.DataFrame(columns, index=pd.Index(names, name=ORG))
    frame.attrs["source"] = str(source)
    return frame


def _column(values):
    """One column's cells -> an int64 or float64 array, or (first bad row, message)."""
    array = _plain_numbers(values)
    if array is not None:
        return array
    out, floats = [], False  # something is off: cell by cell, for the message
    for i, cell in enumerate(values):
        value = _number(cell)
        if isinstance(value, str):
            return i, value
        floats = floats or type(value) is float
        out.append(value)
    try:
        return np.array(out, dtype="float64" if floats else "int64")
    except OverflowError:
        big = next(i for i, v in enumerate(out) if abs(v) >= 2**63)
        return big, f"{values[big]!r} is out of range"


def _plain_numbers(values):
    """The array when every cell is a finite number >= 0 (as numbers, or text matching
    ``_INT`` / ``_FLOAT``), checked column-wise; None otherwise."""
    array = np.array(values)
    if array.dtype.kind in "biu":
        return array.astype("int64") if array.dtype.kind != "u" and (array >= 0).all() else None
    if array.dtype.kind == "f":
        return array if (np.isfinite(array) & (array >= 0)).all() else None
    if array.dtype.kind != "U":
        return None
    text = pd.Series(array, dtype="str").str.strip()
    whole = text.str.fullmatch(_INT.pattern.removesuffix(r"\Z"))
    if not (whole | text.str.fullmatch(_FLOAT.pattern.removesuffix(r"\Z"))).all():
        return None
    try:
        if whole.all():
            out = np.array([int(v) for v in text], dtype="int64")
        else:
            out = np.array([float(v) for v in text], dtype="float64")
    except OverflowError:
        return None
    return out if (np.isfinite(out) & (out >= 0)).all() else None


def _number(cell):
    """An int or float, or the message saying why the cell is not one."""
    if cell is _MISSING:
        return "missing column"
    if isinstance(cell, bool):
        return int(cell)
    if isinstance(cell, (np.integer, np.floating)):
        cell = cell.item()
    if isinstance(cell, (int, float)):
        if cell != cell or cell in (math.inf, -math.inf):
            return f"non-finite value {cell!r}"
        return cell if cell >= 0 else f"negative value {cell!r}{NEVER_NEGATIVE}"
    if cell is None:
        return "empty cell"
    if not isinstance(cell, str):
        return f"non-numeric value {cell!r}"
    text = cell.strip()
    if not text:
        return "empty cell"
    if _INT.match(text):
        value = int(text)
    elif _FLOAT.match(text):
        value = float(text)
        if not math.isfinite(value):
            return f"{cell!r} overflows to infinity"
    else:
        return f"non-numeric value {cell!r}"
    return value if value >= 0 else f"negative value {cell!r}{NEVER_NEGATIVE}"


def _check_numbers(source, frame, lines, unit):
    """Every cell finite and >= 0; the first offending cell in row order is the error."""
    bad = []
    for j, name in enumerate(frame.columns):
        values = frame[name].to_numpy(dtype="float64")
        for test, message in ((~np.isfinite(values), "non-finite value"),
                              (values < 0, "negative value")):
            hits = np.flatnonzero(test)
            if len(hits):
                bad.append((hits[0], j, name, message))
    if bad:
        i, _, name, message = min(bad)
        value = frame[name].iloc[i].item()
        label = lines[i] if unit != "org" else repr(frame.index[i])
        why = NEVER_NEGATIVE if message == "negative value" else ""
        raise ScoringError(f"{source} {unit} {label}, column {name!r}: {message} {value!r}{why}")


def require_indicators(frame, dimension, source) -> tuple[list, list]:
    """The dimension's indicators the summary holds, and notes; a listed indicator the summary
    lacks is an error unless the method marks it optional (then skipped, with a note)."""
    present = [c for c in dimension.indicators if c in frame.columns]
    if not present:
        raise ScoringError(f"{source}: missing columns: none of the {dimension.name} "
                           f"indicators ({', '.join(dimension.indicators)}) is present")
    missing = [c for c in dimension.indicators if c not in frame.columns]
    required = [c for c in missing if c not in dimension.optional]
    if required:
        raise ScoringError(f"{where(source, 1, required[0])}: missing indicator column (the "
                           f"method lists it for {dimension.name}"
                           + (f"; also missing: {', '.join(required[1:])}" if required[1:]
                              else "") + ")")
    notes = []
    if missing:
        notes.append(f"{source}: optional indicators not in the table, skipped: "
                     f"{', '.join(missing)}")
    extra = [c for c in frame.columns if c not in dimension.indicators]
    if extra:
        notes.append(f"{source}: columns not in the method, ignored: {', '.join(extra)}")
    return present, notes
