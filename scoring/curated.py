"""Curated indicators (``data/curated/``): values no crawl gives, each with its source.

Files (UTF-8 CSV, one header line; every row carries ``source``: an evidence URL or a note
naming the published file it comes from):

* ``infra.csv``, ``eval.csv`` — ``month,org,<indicators…>,source``: the hand-curated infra and
  eval indicators per organisation per month (a blank cell: not collected that month; the
  rows of a month, in file order, are the organisations ranked that month);
* ``model-adapted-chips.csv`` — ``org,value,source``: ``num_adapted_chips`` (org ``*``: every
  other organisation);
* ``data-operators.csv`` — ``org,value,source``: the data dimension's ``operators``;
* ``other-source-datasets.csv`` — ``org,name,modality,lifecycle,source``: datasets published on
  official sites rather than dataset hubs (source: the dataset's page, or a note where the
  published list gives none), counted in ``num_*``.

:func:`load_curated` validates everything and raises :class:`CuratedError` naming the file,
line and column. ``python -m scoring.curated [PUBLISHED_DIR [OUT_DIR]]`` regenerates the files
from the published OSIR-LMTS folder (default ``data/published``, see
:mod:`osir_crawl.inputs.published`: ``months/*/{infra,eval}-summary.csv``,
other-source-datasets.jsonl).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .csv_files import checked_rows
from .errors import ScoringError
from .provenance import sources_like
from .summary_frames import from_records
from .vocabulary import CURATED_DIMENSIONS, DATASET_MODALITIES
from .vocabulary import INDICATORS as ALL_INDICATORS
from .vocabulary import LIFECYCLES

CURATED_DIR = Path(__file__).resolve().parents[1] / "data" / "curated"
INDICATORS = {dim: ALL_INDICATORS[dim] for dim in CURATED_DIMENSIONS}
CONSTANTS = {"model": ("num_adapted_chips", "model-adapted-chips.csv"),
             "data": ("operators", "data-operators.csv")}
PUBLISHED_REPO = "https://github.com/brucecui0120/OSIR-LMTS/blob/main/oslm-crawler"


class CuratedError(ScoringError):
    """A curated file is malformed; the message names the file, line and column."""


@dataclass
class Constant:
    """One per-organisation constant indicator (``*`` row: everyone else)."""

    indicator: str
    values: dict  # org -> (value, source)
    default: tuple  # (value, source)

    def of(self, org):
        return self.values.get(org, self.default)


@dataclass
class Curated:
    folder: Path
    monthly: dict = field(default_factory=dict)  # dim -> {month: [(org, {ind: value}, source)]}
    constants: dict = field(default_factory=dict)  # dim -> Constant
    other_datasets: list = field(default_factory=list)  # dicts: org, name, modality, lifecycle, url

    def months(self, dim):
        return sorted(self.monthly[dim])

    def month_for(self, dim, snapshot):
        """The latest curated month on or before ``snapshot`` (None if there is none)."""
        earlier = [m for m in self.months(dim) if m <= snapshot]
        return earlier[-1] if earlier else None

    def rows(self, dim, month):
        """``[(org, {indicator: value}, source)]`` of one month, indicators blank all month left out."""
        rows = self.monthly[dim][month]
        used = [i for i in INDICATORS[dim] if any(v.get(i) is not None for _, v, _ in rows)]
        return [(org, {i: vals[i] for i in used}, src) for org, vals, src in rows]

    def summary(self, dim, month, name):
        """(summary frame indexed by org, the source of each org's row) of one month."""
        rows = self.rows(dim, month)
        frame = from_records(name, [{"org": org, **vals} for org, vals, _ in rows])
        return frame, pd.Series([src for *_, src in rows], index=frame.index)


def infra_eval_summaries(curated: Curated, snapshot: str, notes: list):
    """The summarise step of the curated dimensions: each one's curated month on or before
    the snapshot -> ({dim: summary frame}, {dim: sources frame})."""
    tables, sources = {}, {}
    for dim in CURATED_DIMENSIONS:
        month = curated.month_for(dim, snapshot)
        if month is None:
            raise ScoringError(f"data/curated/{dim}.csv: no month on or before {snapshot}")
        if month != snapshot:
            notes.append(f"{dim}: curated values of {month} used for {snapshot}")
        tables[dim], by_org = curated.summary(dim, month, f"{dim}-summary of {snapshot}")
        sources[dim] = sources_like(tables[dim], by_org)
    return tables, sources


def load_curated(folder=None) -> Curated:
    folder = Path(folder or CURATED_DIR)
    curated = Curated(folder)
    for dim, indicators in INDICATORS.items():
        curated.monthly[dim] = _monthly(folder / f"{dim}.csv", indicators)
    for dim, (indicator, name) in CONSTANTS.items():
        curated.constants[dim] = _constant(folder / name, indicator)
    curated.other_datasets = _other(folder / "other-source-datasets.csv")
    return curated


def _reader(path, header):
    for n, row in checked_rows(path, header, CuratedError, "curated"):
        rec = dict(zip(header, (c.strip() for c in row)))
        for col in header:
            if col in ("org", "source", "name", "month") and not rec[col]:
                raise CuratedError(f"{path} line {n}, column {col!r}: empty"
                                   + (" (every value needs its evidence)" if col == "source" else ""))
        yield n, rec


def _value(cell, path, n, col, blank_ok):
    if cell == "" and blank_ok:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise CuratedError(f"{path} line {n}, column {col!r}: not a number {cell!r}") from None
    if not math.isfinite(value) or value < 0:
        raise CuratedError(f"{path} line {n}, column {col!r}: expected a number >= 0, got {cell!r}")
    return int(value) if value.is_integer() and "." not in cell else value


def _monthly(path, indicators):
    months: dict = {}
    for n, rec in _reader(path, ("month", "org", *indicators, "source")):
        try:
            dt.date.fromisoformat(rec["month"])
        except ValueError:
            raise CuratedError(f"{path} line {n}, column 'month': not a YYYY-MM-DD date") from None
        rows = months.setdefault(rec["month"], [])
        if any(org == rec["org"] for org, _, _ in rows):
            raise CuratedError(f"{path} line {n}: {rec['org']} appears twice in {rec['month']}")
        values = {i: _value(rec[i], path, n, i, True) for i in indicators}
        rows.append((rec["org"], values, rec["source"]))
    for month, rows in months.items():  # a column is collected for every org of a month or none
        for i in indicators:
            filled = [v[i] is not None for _, v, _ in rows]
            if any(filled) and not all(filled):
                org = rows[filled.index(False)][0]
                raise CuratedError(f"{path}: {month} {org}: {i} is blank but other orgs have it")
    return months


def _constant(path, indicator):
    values, default = {}, None
    for n, rec in _reader(path, ("org", "value", "source")):
        entry = (_value(rec["value"], path, n, "value", False), rec["source"])
        if rec["org"] == "*":
            default = entry
        elif rec["org"] in values:
            raise CuratedError(f"{path} line {n}: {rec['org']} appears twice")
        else:
            values[rec["org"]] = entry
    if default is None:
        raise CuratedError(f"{path}: no '*' row (the value of every other organisation)")
    return Constant(indicator, values, default)


def _other(path):
    out = []
    for n, rec in _reader(path, ("org", "name", "modality", "lifecycle", "source")):
        if rec["modality"] and rec["modality"] not in DATASET_MODALITIES:
            raise CuratedError(f"{path} line {n}, column 'modality': unknown {rec['modality']!r}")
        if rec["lifecycle"] and rec["lifecycle"] not in LIFECYCLES:
            raise CuratedError(f"{path} line {n}, column 'lifecycle': unknown {rec['lifecycle']!r}")
        out.append({**rec, "modality": rec["modality"] or None, "lifecycle": rec["lifecycle"] or None})
    return out


# -- regeneration from the published folder -------------------------------------------------------

def convert(anchors=None, folder=None):
    """Write the curated files from the published OSIR-LMTS data (see module docstring)."""
    import json

    from osir_crawl.inputs.published import PUBLISHED_DIR, locate, open_text

    anchors, folder = Path(anchors or PUBLISHED_DIR), Path(folder or CURATED_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for dim, indicators in INDICATORS.items():
        with open(folder / f"{dim}.csv", "w", encoding="utf-8", newline="") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["month", "org", *indicators, "source"])
            for month_dir in sorted((anchors / "months").iterdir()):
                path = month_dir / f"{dim}-summary.csv"
                if locate(path) is None:
                    continue
                source = (f"published {dim}-summary.csv of {month_dir.name} (hand-curated; "
                          f"{PUBLISHED_REPO}/data/{month_dir.name}/{dim}-summary.csv)")
                with open_text(path, encoding="utf-8-sig", newline="") as fh:
                    for rec in csv.DictReader(fh):
                        w.writerow([month_dir.name, rec["org"],
                                    *(rec.get(i, "") for i in indicators), source])
    code = f"{PUBLISHED_REPO}/src/oslm_crawler/core.py (hard-coded in the published pipeline)"
    published = {"model": ({"BAAI": 4, "Baidu": 2, "Huawei": 2, "Meta": 2, "Google": 2,
                            "ByteDance": 2}, 1),
                 "data": ({"BAAI": 24, "Ali": 105}, 0)}
    for dim, (_, name) in CONSTANTS.items():
        values, default = published[dim]
        with open(folder / name, "w", encoding="utf-8", newline="") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["org", "value", "source"])
            for org, value in values.items():
                w.writerow([org, value, code])
            w.writerow(["*", default, code])
    with open_text(anchors / "other-source-datasets.jsonl") as fh, \
            open(folder / "other-source-datasets.csv", "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["org", "name", "modality", "lifecycle", "source"])
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                link = rec.get("link") or ""
                if not link.startswith(("http://", "https://")):
                    link = f"no link in the published other-source-datasets.jsonl (it says {link!r})"
                w.writerow([rec["org"], rec["dataset_name"], rec.get("modality") or "",
                            rec.get("lifecycle") or "", link])


if __name__ == "__main__":
    import sys

    convert(*sys.argv[1:3])
