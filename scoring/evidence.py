"""The evidence report: curated versus derived infra and eval values per organisation.

Curated values come from ``data/curated/{infra,eval}.csv`` (the latest month on or before the
snapshot); where those files are absent, from the published ``{infra,eval}-summary.csv`` of the
closest anchors month (and the report says so). Derived values come from the store
(:mod:`scoring.derived`). Written as ``evidence.md`` and ``evidence.csv`` (one row per
org, indicator and side, with its source).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from osir_crawl.inputs import published
from osir_crawl.ops.text_tables import table_lines

from .curated import CURATED_DIR
from .curated import INDICATORS as CURATED_INDICATORS
from .curated import CuratedError, load_curated
from .derived import INDICATORS as DERIVED_INDICATORS
from .derived import covered_orgs, derived_indicators, sources
from .io import read_table

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = published.PUBLISHED_DIR
DIMENSIONS = ("infra", "eval")
PAIRS = {"eval": (("num_leaderboards", "num_hosted_leaderboards"),
                  ("num_evaluated_models", "num_hosted_models"))}  # curated ~ derived


@dataclass
class Side:
    origin: str  # a sentence: which file / store
    values: dict = field(default_factory=dict)  # org -> {indicator: value}
    sources: dict = field(default_factory=dict)  # org -> source


@dataclass
class Evidence:
    snapshot: str
    curated: dict  # dim -> Side
    derived: dict  # dim -> Side
    notes: list = field(default_factory=list)

    def orgs(self, dim) -> list[str]:
        seen = list(self.curated[dim].values)
        return seen + sorted(o for o in self.derived[dim].values if o not in seen)

    def rows(self):
        for dim in DIMENSIONS:
            for org in self.orgs(dim):
                for side_name, side in (("curated", self.curated[dim]),
                                        ("derived", self.derived[dim])):
                    for ind, value in side.values.get(org, {}).items():
                        yield (self.snapshot, dim, org, ind, side_name, value,
                               side.sources.get(org, side.origin))


def collect(snapshot: str, db_path, curated_dir=None, anchors=ANCHORS) -> Evidence:
    notes = []
    try:
        curated = _curated(snapshot, curated_dir)
    except CuratedError as err:
        notes.append(f"curated files unusable ({err}); using the published anchors instead")
        curated = _anchors(snapshot, Path(anchors))
    values = derived_indicators(db_path, snapshot)
    where = sources(db_path, snapshot)
    covered = covered_orgs(db_path, snapshot)
    derived = {}
    for dim in DIMENSIONS:
        side = Side(where[dim])
        crawled = bool(values.get(dim))
        for org in list(curated[dim].values) + sorted(values.get(dim, {})):
            got = values.get(dim, {}).get(org)
            looked = crawled and (covered[dim] is None or org in covered[dim])
            if got is not None or looked:  # crawled for this org but absent: a real zero
                side.values[org] = {i: (got or {}).get(i, 0) for i in DERIVED_INDICATORS[dim]}
        if not crawled:
            notes.append(f"{dim}: nothing derived — the store has no {dim} rows for {snapshot}")
        derived[dim] = side
    return Evidence(snapshot, curated, derived, notes)


def _curated(snapshot, folder) -> dict:
    curated_files = load_curated(folder)
    out = {}
    for dim in DIMENSIONS:
        month = curated_files.month_for(dim, snapshot)
        name = Path(folder or CURATED_DIR) / f"{dim}.csv"
        side = Side(f"{name.relative_to(ROOT) if name.is_relative_to(ROOT) else name}, "
                    f"month {month}" if month else f"{name}: no month on or before {snapshot}")
        for org, vals, source in curated_files.rows(dim, month) if month else []:
            side.values[org], side.sources[org] = vals, source
        out[dim] = side
    return out


def _anchors(snapshot: str, anchors: Path) -> dict:
    months = sorted(p.name for p in (anchors / "months").glob("*")
                    if published.exists(p / "eval-summary.csv"))
    if not months:
        raise CuratedError(f"no curated files and no anchors at {anchors}")
    day = dt.date.fromisoformat(snapshot)
    month = min(months, key=lambda m: abs((dt.date.fromisoformat(m) - day).days))
    out = {}
    for dim in DIMENSIONS:
        path = anchors / "months" / month / f"{dim}-summary.csv"
        side = Side(f"published {path.name} of {month} (anchors, closest month to {snapshot})")
        table = read_table(path)
        for org, rec in zip(table.index, table.to_dict("records")):
            side.values[org] = {k: _num(v) for k, v in rec.items()
                                if k in CURATED_INDICATORS[dim]}
            side.sources[org] = side.origin
        out[dim] = side
    return out


def _num(cell):
    value = float(cell)  # numpy's numbers as Python's
    return int(value) if value.is_integer() else value


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def markdown(evidence: Evidence) -> str:
    out = [f"# Evidence for {evidence.snapshot}: curated versus derived", ""]
    out += [f"- note: {n}" for n in evidence.notes] + ([""] if evidence.notes else [])
    for dim in DIMENSIONS:
        curated, derived = evidence.curated[dim], evidence.derived[dim]
        pairs = PAIRS.get(dim, ())
        paired = {c for c, _ in pairs} | {d for _, d in pairs}
        curated_only = [i for i in CURATED_INDICATORS[dim]
                        if i not in paired and any(i in v for v in curated.values.values())]
        derived_only = [i for i in DERIVED_INDICATORS[dim] if i not in paired]
        heads = [h for c, d in pairs for h in (f"{c} (curated)", f"{d} (derived)")]
        heads += [f"{i} (curated)" for i in curated_only]
        heads += [f"{i} (derived)" for i in derived_only]
        out += [f"## {dim}", "", f"- curated: {curated.origin}",
                f"- derived: {derived.origin}", ""]
        rows = []
        for org in evidence.orgs(dim):
            c, d = curated.values.get(org, {}), derived.values.get(org, {})
            cells = [x for ci, di in pairs for x in (c.get(ci), d.get(di))]
            cells += [c.get(i) for i in curated_only] + [d.get(i) for i in derived_only]
            rows.append([org, *map(_fmt, cells)])
        out += table_lines(["org", *heads], rows)
        out += ["", f"Curated sources ({dim}):", ""]
        out += [f"- {org}: {curated.sources[org]}" for org in curated.values
                if org in curated.sources]
        out.append("")
    return "\n".join(out)


def write(evidence: Evidence, out_dir) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, table = out / "evidence.md", out / "evidence.csv"
    md.write_text(markdown(evidence), encoding="utf-8")
    with open(table, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["snapshot", "dimension", "org", "indicator", "side", "value", "source"])
        w.writerows(evidence.rows())
    return [md, table]
