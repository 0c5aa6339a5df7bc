"""``build``: one snapshot of the store + the curated files -> summaries -> rankings.

    result = build("2025-09-07", db_path="data/osir.db", profile="default")
    result.tables["model"]["BAAI"]["likes"]; result.ranking.rankings["overall-rank"]
    audit = profile_diff("2025-09-07", db_path)     # every cell where the profiles differ, and why

Outputs: ``data/rankings/<snapshot>/`` (the four ``*-summary.csv``, the accumulated ones and the
rank files of :func:`scoring.io.write_outputs`), and the store tables ``summaries``,
``rankings`` and ``classification``. Delta ranks come from the previous month's rows of the
``rankings`` table (method §2.9), so build the months in order.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .classify import load_labels
from .curated import load_curated
from .errors import ScoringError
from .io import write_outputs
from .method import METHOD_FILE, load_method
from .rank import ACC, Previous, rank_month
from .store_io import open_store, previous_ranks, snapshots, write_build
from .summaries import (DATA_COLUMNS, FIXES, MODEL_COLUMNS, PROFILES, accumulate, build_month,
                        data_summary, model_summary, with_fix)
from .table import Table

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_TABLES = ("data", "model", "infra", "eval", "data" + ACC, "model" + ACC)


@dataclass
class BuildResult:
    snapshot: str
    profile: str
    tables: dict  # summary name -> {org: {indicator: value}}
    sources: dict  # summary name -> {org: {indicator: source}}
    ranking: object = None  # MonthRanking
    classification: Counter = field(default_factory=Counter)  # (kind, path) -> repos
    verdicts: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    written: list = field(default_factory=list)


class BuildInputs:
    """What every build of one store shares: labels, curated files, registry, month cache."""

    def __init__(self, db, registry_path=None):
        from osir_crawl.registry import load_registry  # yaml only, no Scrapy

        self.db = db
        self.labels = load_labels()
        self.curated = load_curated()
        registry = load_registry(registry_path or os.environ.get("OSIR_ORGS") or ROOT / "data" / "orgs.yaml")
        self.accounts = {}
        for account in registry.accounts:
            if account.platform != "opendatalab":  # creator ids, not record owners
                self.accounts.setdefault(account.platform, set()).add(account.name)
        self.snapshots = snapshots(db)
        self._months = {}

    def month(self, snapshot, profile):
        key = (snapshot, profile)
        if key not in self._months:
            self._months[key] = build_month(self.db, snapshot, profile, self.labels,
                                            self.snapshots, self.accounts)
        return self._months[key]


def summaries(inputs, snapshot, profile):
    """{name: {org: {indicator: value}}}, {name: {org: {indicator: source}}}, notes."""
    cur, notes = inputs.curated, []
    if snapshot not in inputs.snapshots:
        raise ScoringError(f"snapshot {snapshot} has no models or datasets in the store "
                           f"(it holds: {', '.join(inputs.snapshots) or 'nothing'})")
    tables, sources = {}, {}
    for dim in ("infra", "eval"):
        month = cur.month_for(dim, snapshot)
        if month is None:
            raise ScoringError(f"data/curated/{dim}.csv: no month on or before {snapshot}")
        if month != snapshot:
            notes.append(f"{dim}: curated values of {month} used for {snapshot}")
        rows = cur.rows(dim, month)
        tables[dim] = {org: vals for org, vals, _ in rows}
        sources[dim] = {org: dict.fromkeys(vals, src) for org, vals, src in rows}
    orgs = list(tables["infra"])  # the organisations ranked that month (method §2.1)

    month = inputs.month(snapshot, profile)
    if month.previous is None:
        notes.append(f"{snapshot}: no previous snapshot within 30±15 days: cumulative-only "
                     f"platforms (ModelScope, OpenDataLab, BAAI Data) give no monthly downloads")
    store_note = (f"store: {snapshot} (monthly downloads vs {month.previous or 'no earlier snapshot'})"
                  f", profile {profile.name}")
    chips, operators = cur.constants["model"], cur.constants["data"]
    tables["model"] = model_summary(month.models, orgs, chips, profile)
    tables["data"] = data_summary(month.datasets, orgs, operators, cur.other_datasets)

    upto = [s for s in inputs.snapshots if s <= snapshot] if profile.accumulate_to_month \
        else inputs.snapshots[1:]  # published: every month but the first, up to the run date
    acc = [inputs.month(s, profile) for s in upto]
    tables["model" + ACC] = model_summary(accumulate(m.models for m in acc), orgs, chips, profile)
    tables["data" + ACC] = data_summary(accumulate(m.datasets for m in acc), orgs, operators,
                                        cur.other_datasets)
    acc_note = f"store: snapshots {upto[0]}..{upto[-1]} accumulated" if upto else "no snapshots"
    other = Counter(d["org"] for d in cur.other_datasets)
    for name, note in (("model", store_note), ("data", store_note),
                       ("model" + ACC, acc_note), ("data" + ACC, acc_note)):
        sources[name] = {}
        for org in orgs:
            src = dict.fromkeys(tables[name][org], note)
            if name.startswith("model"):
                src["num_adapted_chips"] = chips.of(org)[1]
            else:
                src["operators"] = operators.of(org)[1]
                if other[org]:
                    for ind in src:
                        if ind.startswith("num_"):
                            src[ind] = (f"{note} + data/curated/other-source-datasets.csv "
                                        f"({other[org]} datasets of {org})")
            sources[name][org] = src
    return tables, sources, month, notes


def build(snapshot, db_path=None, profile="default", out_dir=None, method_path=None,
          write=True, inputs=None) -> BuildResult:
    db_path = db_path or os.environ.get("OSIR_DB") or ROOT / "data" / "osir.db"
    if profile not in PROFILES:
        raise ScoringError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
    db = inputs.db if inputs else open_store(db_path)
    inputs = inputs or BuildInputs(db)
    tables, sources, month, notes = summaries(inputs, snapshot, PROFILES[profile])
    result = BuildResult(snapshot, profile, tables, sources, notes=notes, verdicts=month.verdicts)
    result.classification = Counter((v["kind"], v["path"]) for v in month.verdicts)

    method = load_method(method_path)
    _add_derived(result, db_path, method_path)
    prev_snapshot, prev_ranks, prev_sums = previous_ranks(db, snapshot)
    previous = None
    prev_profile = prev_ranks.pop("profile", None)
    if prev_snapshot and prev_profile != profile:
        notes.append(f"delta ranks compare with {prev_snapshot} built with the {prev_profile} "
                     f"profile; rebuild it with --profile {profile} to compare like with like")
    if prev_snapshot:
        previous = Previous(prev_ranks, {d: Table.from_mapping(f"{d} of {prev_snapshot}", _ints(v))
                                         for d, v in prev_sums.items()}, f"store {prev_snapshot}")
    else:
        notes.append(f"no rankings of the month before {snapshot} in the store: no delta rank")
    columns = {"model": MODEL_COLUMNS, "data": DATA_COLUMNS}
    ranked = {name: Table.from_mapping(f"{name}-summary of {snapshot}", table,
                                       columns.get(name.removesuffix(ACC)))
              for name, table in tables.items()}
    result.ranking = rank_month(ranked, method, previous)
    notes.extend(result.ranking.warnings)
    if write:
        out = Path(out_dir or ROOT / "data" / "rankings" / snapshot)
        result.written = _write_summaries(ranked, out) + write_outputs(result.ranking, out)
        write_build(db, snapshot, _summary_rows(result), _ranking_rows(result), month.verdicts)
    return result


def _ints(mapping):
    return {org: {k: int(v) if isinstance(v, float) and v.is_integer() else v
                  for k, v in vals.items()} for org, vals in mapping.items()}


def _add_derived(result, db_path, method_path):
    """Indicators issue 5's ``scoring/derived.py`` computes, when the method file opts in."""
    import yaml

    path = Path(method_path or METHOD_FILE)
    wanted = {}
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            wanted = (yaml.safe_load(fh) or {}).get("derived") or {}
    if not wanted:
        return
    try:
        from .derived import derived_indicators
    except ImportError:
        result.notes.append("method asks for derived indicators but scoring/derived.py is absent")
        return
    values = derived_indicators(str(db_path), result.snapshot)
    for dim, indicators in wanted.items():
        if dim not in result.tables:
            raise ScoringError(f"{path}: derived.{dim}: not a summary ({', '.join(result.tables)})")
        for org, row in result.tables[dim].items():
            for ind in indicators:
                row[ind] = values.get(dim, {}).get(org, {}).get(ind, 0)
                result.sources[dim][org][ind] = f"derived from the store {result.snapshot} (scoring/derived.py)"


def _write_summaries(ranked, out):
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in ranked.items():
        path = out / f"{name}-summary.csv"
        tmp = out / f".{name}-summary.csv.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["org", *table.columns])
            for org, row in zip(table.orgs, table.values):
                w.writerow([org, *(repr(v) if isinstance(v, float) else str(v) for v in row)])
        os.replace(tmp, path)
        written.append(path)
    return written


def _summary_rows(result):
    from osir_crawl.store import utc_now

    now = utc_now()
    return [{"snapshot": result.snapshot, "dimension": name, "org": org, "indicator": ind,
             "value": value, "source": result.sources[name][org][ind],
             "profile": result.profile, "built_at": now}
            for name, table in result.tables.items() for org, row in table.items()
            for ind, value in row.items()]


def _ranking_rows(result):
    from osir_crawl.store import utc_now

    now = utc_now()
    rows = []
    for stem, table in result.ranking.rankings.items():
        for i, org in enumerate(table.orgs):
            rows.append({"snapshot": result.snapshot, "dimension": stem.removesuffix("-rank"),
                         "org": org, "score": table.scores[i], "rank": table.ranks[i],
                         "delta_rank": table.delta_of(org), "profile": result.profile,
                         "built_at": now})
    return rows


# -- the audit: published versus default --------------------------------------------------------

def profile_diff(snapshot, db_path=None, inputs=None):
    """Every summary cell where the default profile differs from the published one, each with
    the corrections that change it alone (``FIXES``): [(table, org, indicator, published,
    default, [reasons])]."""
    db_path = db_path or os.environ.get("OSIR_DB") or ROOT / "data" / "osir.db"
    inputs = inputs or BuildInputs(open_store(db_path))
    published, _, _, _ = summaries(inputs, snapshot, PROFILES["published"])
    default, _, _, _ = summaries(inputs, snapshot, PROFILES["default"])
    single = {fix: summaries(inputs, snapshot, with_fix(PROFILES["published"], fix))[0]
              for fix in FIXES}
    cells = []
    for name in SUMMARY_TABLES:
        for org, row in published[name].items():
            for ind, value in row.items():
                other = default[name][org][ind]
                if other == value:
                    continue
                why = [fix for fix, tables in single.items() if tables[name][org][ind] != value]
                cells.append((name, org, ind, value, other, why or ["several corrections together"]))
    return cells
