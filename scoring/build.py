"""``build``: one snapshot of the store + the curated files -> summaries -> rankings.

    result = build("2025-09-07", db_path="data/osir.db", profile="default")
    eco = build("2025-09-07", universe="all")  # every organisation found, registered or not
    result.tables["model"].loc["BAAI", "likes"]; result.ranking.rankings["overall-rank"]
    result.provenance    # one row per summary cell: dimension, org, indicator, value, source
    audit = profile_diff("2025-09-07", db_path)     # every cell where the profiles differ, and why

The steps, each a function of what the one before gives:

    load       scoring.store.read_records / read_totals      one read per table and snapshot
    classify   scoring.classify                              (inside summaries.month)
    summarise  summaries.month (downloads, filters, merge) -> summaries.crawled_summaries
               (data, model, accumulated); curated.infra_eval_summaries (infra, eval);
               with_derived (opt-in store indicators); a provenance row for every cell
    rank       scoring.rank.rank_month                       deltas against the store's last month
    write      scoring.io.write_frames into a new folder, scoring.store.write_build_rows in a
               transaction; scoring.io.publishing swaps the folder in, then the rows commit

Outputs: ``data/rankings/<snapshot>/`` beside the store (osir_crawl/ops/outputs.py; the six ``*-summary.csv`` and the rank files of
:func:`scoring.io.write_outputs`) and the store tables ``summaries``, ``rankings`` and
``classification``. Delta ranks come from the previous month's rows of ``rankings`` (method
§2.9), so build the months in order.

Universes. ``registry`` (the default) ranks the organisations of the curated infra file, from
the records of registry accounts. ``all`` (the ecosystem) ranks, with the same method, those and
every organisation with a record in the snapshot: registry orgs and the unregistered authors a
``-a universe=all`` crawl stored as ``platform:author``; an organisation without curated
infra/eval evidence scores 0 there (its provenance says so). It writes
``data/rankings/<snapshot>/ecosystem/`` and the ``ecosystem_*`` store tables, never the
registry's, and feeds :mod:`scoring.discovery`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from osir_crawl.ops import outputs

from . import catalogue_summaries as catalogue
from . import coverage
from .classify import load_labels
from .curated import infra_eval_summaries, load_curated
from .derived import derived_indicators
from .errors import ScoringError
from .io import publishing, write_frames
from .method import load_method
from .official_datasets import read_official
from .profile import FIXES, PROFILES, profile_named, with_fix
from .provenance import provenance, sources_like
from .rank import ACCUMULATED, Previous, rank_month
from .store import (
    UNIVERSES,
    default_store,
    open_store,
    previous_snapshot,
    read_previous_build,
    read_records,
    read_totals,
    snapshots,
    unfinished_crawls,
    write_build_rows,
)
from .summaries import KINDS, crawled_summaries, month
from .summary_frames import checked
from .vocabulary import CURATED_DIMENSIONS

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_TABLES = ("data", "model", "infra", "eval", "data" + ACCUMULATED, "model" + ACCUMULATED)


@dataclass
class Summaries:
    tables: dict  # summary name -> frame indexed by org (infra, eval, model, data, accumulated)
    provenance: pd.DataFrame  # dimension, org, indicator, value, source: one row per cell
    month: object  # summaries.Month of the snapshot
    notes: list


@dataclass
class BuildResult:
    snapshot: str
    profile: str
    tables: dict
    provenance: pd.DataFrame
    classification: pd.DataFrame  # the snapshot's classification rows
    ranking: object = None  # MonthRanking
    notes: list = field(default_factory=list)
    written: list = field(default_factory=list)
    universe: str = "registry"

    def classification_counts(self):
        """{(kind, path): repos}."""
        return self.classification.groupby(["kind", "path"]).size().to_dict()


class BuildInputs:
    """What every build of one store shares: the store, labels, curated files, registry
    accounts, and the months already summarised. ``cache_records``: hold each snapshot's records
    once read (several profiles of one snapshot: the audit)."""

    def __init__(self, conn, db_path, registry_path=None, cache_records=False,
                 universe="registry"):
        from osir_crawl.inputs.registry import DEFAULT_REGISTRY, load_registry  # no Scrapy

        if universe not in UNIVERSES:
            raise ScoringError(f"unknown universe {universe!r} (known: {', '.join(UNIVERSES)})")
        self.conn, self.db_path, self.universe = conn, Path(db_path), universe
        self.labels = load_labels()
        self.curated = load_curated()
        registry = load_registry(registry_path or os.environ.get("OSIR_ORGS")
                                 or ROOT / DEFAULT_REGISTRY)
        self.orgs = list(registry.orgs)  # the default profile ranks the registry's orgs
        self._catalogue = None
        self.accounts = {}
        for account in registry.accounts:
            if account.platform != "opendatalab":  # creator ids, not record owners
                self.accounts.setdefault(account.platform, set()).add(account.name)
        self.snapshots = snapshots(conn)
        self.cache_records = cache_records
        self._records, self._totals, self._months = {}, {}, {}

    def catalogue_build(self, snapshot):
        """The snapshot's infra and eval summaries from its crawl plus data/catalogue."""
        from osir_crawl.inputs.catalogue import CatalogueError, load_catalogue
        from osir_crawl.rules.eval_rules import board_max_age

        if self._catalogue is None:
            try:
                self._catalogue = load_catalogue(os.environ.get("OSIR_CATALOGUE") or None,
                                                 orgs=self.orgs)
            except CatalogueError as exc:
                raise ScoringError(f"data/catalogue: {exc}") from None
        return catalogue.catalogue_summaries(self._catalogue, snapshot, self.orgs,
                                             catalogue.read_inputs(self.db_path, snapshot),
                                             board_max_age())

    @classmethod
    def open(cls, db_path=None, write=True, **kw):
        db_path = Path(db_path or default_store())
        return cls(open_store(db_path, write=write), db_path, **kw)

    def records(self, snapshot):
        if snapshot in self._records:
            return self._records[snapshot]
        records = {kind: read_records(self.conn, kind, snapshot, self.universe)
                   for kind in KINDS}
        if self.cache_records:
            self._records[snapshot] = records
        return records

    def totals(self, snapshot):
        if snapshot not in self._totals:
            self._totals[snapshot] = {kind: read_totals(self.conn, kind, snapshot,
                                                        self.universe) for kind in KINDS}
        return self._totals[snapshot]

    def month(self, snapshot, profile):
        key = (snapshot, profile)
        if key not in self._months:
            prev = previous_snapshot(self.snapshots, snapshot)
            self._months[key] = month(snapshot, self.records(snapshot), prev,
                                      self.totals(prev) if prev else None, self.labels, profile,
                                      self.accounts)
        return self._months[key]


# -- summarise ---------------------------------------------------------------------------------

def ranked_orgs(tables, this, universe="registry") -> pd.Index:
    """The organisations ranked this month: those of the curated infra file (method §2.1);
    for the ecosystem (``universe="all"``) also every organisation with a record in the
    snapshot, registered or not, in order of first appearance."""
    curated = tables["infra"].index
    if universe != "all":
        return curated
    found = pd.Index(this.classification.org.dropna().unique())
    return curated.append(found[curated.get_indexer(found) < 0])


def with_uncurated(tables, sources, orgs):
    """The infra and eval summaries extended to ``orgs``: an organisation without infra or eval
    evidence (an unregistered author, a registry org the curated files or the catalogue do not
    list yet) counts 0 in each of their indicators, and its provenance says why."""
    for dim in CURATED_DIMENSIONS:
        table = tables[dim]
        extra = orgs[table.index.get_indexer(orgs) < 0]
        if not len(extra):
            continue
        zeros = pd.DataFrame({c: np.zeros(len(extra), dtype=table[c].dtype)
                              for c in table.columns}, index=extra)
        note = (f"no {dim} evidence for this organisation in data/curated or data/catalogue "
                "(ecosystem build): 0")
        tables[dim] = checked(pd.concat([table, zeros]), table.attrs.get("source", dim))
        sources[dim] = pd.concat([sources[dim], sources_like(zeros, note)])
    return tables, sources


def summarise(inputs: BuildInputs, snapshot: str, profile) -> Summaries:
    """The six summaries of a snapshot and where each cell comes from."""
    if snapshot not in inputs.snapshots:
        raise ScoringError(f"snapshot {snapshot} has no models or datasets in the store "
                           f"{inputs.db_path} (it holds: "
                           f"{', '.join(inputs.snapshots) or 'nothing'})")
    notes = []
    built, published_months = None, {}
    if profile.use_catalogue:  # this snapshot's crawl plus data/catalogue
        built = inputs.catalogue_build(snapshot)
        tables = {dim: built.tables[dim].copy() for dim in ("infra", "eval")}
        sources = {dim: catalogue.sources_of(built, dim) for dim in tables}
        notes += [f"catalogue: {flag}" for flag in built.flags]
    else:
        tables, sources = infra_eval_summaries(inputs.curated, snapshot, notes)
        published_months = {dim: inputs.curated.month_for(dim, snapshot) for dim in tables}
    this = inputs.month(snapshot, profile)
    if this.previous is None:
        notes.append(f"{snapshot}: no previous snapshot within 30±15 days: cumulative-only "
                     f"platforms (ModelScope, OpenDataLab, BAAI Data) give no monthly downloads")
    upto = ([s for s in inputs.snapshots if s <= snapshot] if profile.accumulate_to_month
            else inputs.snapshots[1:])  # published: every month but the first, up to the run date
    orgs = ranked_orgs(tables, this, inputs.universe)
    if inputs.universe == "all":
        tables, sources = with_uncurated(tables, sources, orgs)
    official = read_official(inputs.db_path, snapshot) if profile.use_catalogue else None
    crawled, crawled_sources = crawled_summaries(
        this, [inputs.month(s, profile) for s in upto], orgs, inputs.curated, profile,
        catalogue.constants(built) if built else None, official)
    tables, sources = {**tables, **crawled}, {**sources, **crawled_sources}
    for name, table in tables.items():
        table.attrs["source"] = f"{name}-summary of {snapshot}"
    cells = catalogue.with_kinds(provenance(tables, sources), snapshot, built, published_months)
    cells = coverage.with_not_measured(cells, snapshot)
    if missing := coverage.not_measured(cells):
        notes.append(coverage.not_measured_note(snapshot, missing) + " (no organisation has a "
                     "value: the dimension's mean leaves it out)")
    return Summaries(tables, cells, this, notes)


def with_derived(summary: Summaries, method, db_path, snapshot):
    """Indicators :mod:`scoring.derived` computes from the store, where the method opts in
    (its ``derived:`` section); each is a new summary column (0 where the store has none)."""
    if not method.derived:
        return
    values = derived_indicators(str(db_path), snapshot)
    source = f"derived from the store {snapshot} (scoring/derived.py)"
    rows = []
    for dim, indicators in method.derived:
        if dim not in summary.tables:
            raise ScoringError(f"method: derived.{dim}: not a summary "
                               f"({', '.join(summary.tables)})")
        table = summary.tables[dim]
        for ind in indicators:
            table[ind] = [values.get(dim, {}).get(org, {}).get(ind, 0) for org in table.index]
            rows.append(pd.DataFrame({"dimension": dim, "org": table.index, "indicator": ind,
                                      "value": table[ind].to_numpy(dtype=object),
                                      "source": source, "kind": "crawl", "as_of": snapshot,
                                      "flags": "[]"}))
        summary.tables[dim] = checked(table, table.attrs["source"])
    summary.provenance = pd.concat([summary.provenance, *rows], ignore_index=True)


# -- rank --------------------------------------------------------------------------------------

def previous_month(conn, snapshot, profile_name, notes, universe="registry"):
    """Last month's ranks and summaries from the store, for the delta columns (or None)."""
    prev, prev_profile, ranks, sums = read_previous_build(conn, snapshot, universe)
    if prev is None:
        notes.append(f"no rankings of the month before {snapshot} in the store: no delta rank")
        return None
    if prev_profile != profile_name:
        notes.append(f"delta ranks compare with {prev} built with the {prev_profile} profile; "
                     f"rebuild it with --profile {profile_name} to compare like with like")
    for dim, table in sums.items():
        table.attrs["source"] = f"{dim} of {prev}"
    return Previous(ranks, sums, f"store {prev}")


# -- the build ---------------------------------------------------------------------------------

def build(snapshot, db_path=None, profile="default", out_dir=None, method_path=None,
          write=True, inputs=None, universe="registry", allow_incomplete=False) -> BuildResult:
    profile = profile_named(profile)
    method = load_method(method_path)
    inputs = inputs or BuildInputs.open(db_path, write=write, universe=universe)
    universe = inputs.universe
    unfinished = unfinished_crawls(inputs.conn, snapshot)
    if unfinished and not allow_incomplete:
        raise ScoringError(
            f"{snapshot}: {len(unfinished)} crawl(s) not finished ("
            + ", ".join(f"{c['spider']} {c['outcome']}" for c in unfinished)
            + "): a ranking of them would miss rows; crawl again, or build with "
              "--allow-incomplete (the outputs then say so)")
    summary = summarise(inputs, snapshot, profile)
    with_derived(summary, method, inputs.db_path, snapshot)
    notes = summary.notes
    previous = previous_month(inputs.conn, snapshot, profile.name, notes, universe)
    ranking = rank_month(summary.tables, method, previous)
    notes.extend(ranking.warnings)
    incomplete = None
    if unfinished:
        incomplete = ("built with --allow-incomplete; crawls not finished: " + ", ".join(
            f"{c['spider']} {c['crawl_id']} ({c['outcome']})" for c in unfinished))
        notes.insert(0, incomplete)
    result = BuildResult(snapshot, profile.name, summary.tables, summary.provenance,
                         summary.month.classification, ranking, notes, universe=universe)
    if write:
        out = outputs.claim(out_dir or default_out(snapshot, universe, inputs.db_path),
                            inputs.db_path)
        frames = {f"{name}-summary": table for name, table in summary.tables.items()}
        ranked = ranking.outputs()
        if profile.row_order == "rank":  # a person reads a ranking top down
            ranked = {stem: frame.sort_values("rank", kind="stable") if "rank" in frame
                      else frame for stem, frame in ranked.items()}
        frames = {**frames, **ranked}
        if unfinished:
            frames["incomplete-crawls"] = pd.DataFrame(unfinished)
        built_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        stamp = {"snapshot": snapshot, "profile": profile.name, "built_at": built_at}
        # The folder and the tables as one: the new folder is written aside, the tables in a
        # transaction, the folder swapped in, then the transaction committed (scoring.io).
        owned = {f"{stem}.csv" for stem in frames} | {"incomplete-crawls.csv"}
        with inputs.conn, publishing(out, owned) as staging:  # (exits: the swap, then the commit)
            written = write_frames(frames, staging)
            write_build_rows(inputs.conn, snapshot, summary.provenance.assign(**stamp),
                             ranking_rows(ranking).assign(**stamp, incomplete=incomplete),
                             summary.month.classification.assign(snapshot=snapshot), universe)
        result.written = [out / path.name for path in written]
    return result


def default_out(snapshot, universe="registry", db_path=None) -> Path:
    """The store's rankings folder of ``snapshot`` (osir_crawl/ops/outputs.py: beside the store)."""
    out = outputs.folder(db_path or default_store(), "rankings", snapshot)
    return out / "ecosystem" if universe == "all" else out


def ranking_rows(ranking) -> pd.DataFrame:
    """The store's ``rankings`` rows: dimension, org, score, rank, delta_rank."""
    parts = []
    for stem, frame in ranking.rankings.items():
        parts.append(pd.DataFrame({
            "dimension": stem.removesuffix("-rank"), "org": frame.index,
            "score": frame["score"].to_numpy(), "rank": frame["rank"].to_numpy(),
            "delta_rank": (frame["delta rank"].to_numpy() if "delta rank" in frame
                           else np.full(len(frame), np.nan))}))
    return pd.concat(parts, ignore_index=True)


# -- the audit: published versus default -------------------------------------------------------

def profile_diff(snapshot, db_path=None, inputs=None):
    """Every summary cell where the default profile differs from the published one, each with
    the corrections that change it alone (``FIXES``): [(table, org, indicator, published,
    default, [reasons])]."""
    inputs = inputs or BuildInputs.open(db_path, write=False)
    inputs.cache_records = True  # given inputs too: every profile below reads the same records
    published = summarise(inputs, snapshot, PROFILES["published"]).tables
    default = summarise(inputs, snapshot, PROFILES["default"]).tables
    single = {fix: summarise(inputs, snapshot, with_fix(PROFILES["published"], fix)).tables
              for fix in FIXES}
    cells = []
    for name in SUMMARY_TABLES:
        pub, other = published[name], default[name].reindex_like(published[name])
        for i, j in np.argwhere((pub != other).to_numpy()):
            org, ind = pub.index[i], pub.columns[j]
            value = pub.iat[i, j].item()
            why = [fix for fix, tables in single.items()
                   if tables[name].loc[org, ind] != value]
            cells.append((name, org, ind, value, other.iat[i, j].item(),
                          why or ["several corrections together"]))
    return cells
