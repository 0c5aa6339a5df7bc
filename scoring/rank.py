"""Rank one month: per-dimension scores and ranks, the overall rank, deltas.

The published OSIR-LMTS algorithm (``research/osir-lmts-method.md`` §2), with
the method (:class:`scoring.method.Method`) as configuration:

1. normalise each indicator column over the table's organisations
   (``max``: x / max; ``minmax``: (x - min) / (max - min)); a column whose
   divisor is 0 becomes NaN and is skipped; indicators the table lacks are skipped;
2. dimension score = mean of the non-NaN normalised indicators, summed left to
   right then divided by k (or Σ w·n / Σ w when the method gives weights);
3. rank = dense rank of the score, descending, exact float equality;
4. overall score = Σ_D w_D · g(rank_D), g(r) = 1 / log2(r + 1), over the
   organisations present in every dimension (order of the first dimension);
   the accumulated overall uses the accumulated rank of a dimension where there
   is one, the ordinary rank otherwise;
5. ``delta rank`` = previous rank − rank (blank for organisations new this month);
6. ``<dim>-summary-delta`` = this month's summary − last month's, aligned like
   pandas (rows sorted by name when the two org lists differ, new orgs blank).

Public API::

    rank_month(tables, method=None, previous=None) -> MonthRanking
        tables:   {"data": t, "model": t, "infra": t, "eval": t,
                   optional "data-accumulated": t, "model-accumulated": t}
                  where t is a Table, a list of {"org": ..., indicator: value}
                  records or an {org: {indicator: value}} mapping
                  (keys may also be given as "data-summary" or "data-summary.csv");
        method:   a Method (default: load_method(), i.e. data/method.yaml);
        previous: last month as a MonthRanking or a Previous (ranks + summaries),
                  or None for no delta columns.
    MonthRanking.rankings        {"data-rank": RankTable, ..., "overall-accumulated-rank": ...}
    MonthRanking.summary_deltas  {"data-summary-delta": DeltaTable, ...}
    RankTable.rank_of(org), .score_of(org), .rows() (CSV cells), .header()
    score_dimension(table, dimension, method, name) -> RankTable
    overall_ranking(dimension_tables, method, name) -> RankTable
    dense_rank(scores, ties="dense") -> list of int or None
    summary_delta(this, previous, name) -> DeltaTable
"""

import math
from dataclasses import dataclass, field

from .errors import ScoringError
from .method import load_method
from .table import ORG, Table, as_table

NAN = math.nan
ACC = "-accumulated"


def _isnan(x):
    return isinstance(x, float) and x != x


@dataclass
class RankTable:
    """One ranking file: ``org, <columns...>, score, rank[, delta rank]``."""

    name: str  # output file stem, e.g. "data-rank", "overall-accumulated-rank"
    orgs: list
    columns: list  # normalised indicators, or dimension names (g values) for overall
    values: list  # values[i][j]: normalised value / g(rank) (NaN allowed)
    scores: list
    ranks: list  # int, or None where the score is NaN
    delta: list = None  # int / None (new org) per org; None for no delta column
    raw: Table = None  # the input summary (dimension tables)
    col_max: list = None
    col_min: list = None
    weights: list = None  # per column weight (None for plain mean)
    _index: dict = field(default=None, repr=False)

    def __post_init__(self):
        self._index = {o: i for i, o in enumerate(self.orgs)}

    def __contains__(self, org):
        return org in self._index

    def rank_of(self, org):
        return self.ranks[self._index[org]]

    def score_of(self, org):
        return self.scores[self._index[org]]

    def delta_of(self, org):
        return None if self.delta is None else self.delta[self._index[org]]

    def rank_map(self):
        return dict(zip(self.orgs, self.ranks))

    def header(self):
        return [ORG, *self.columns, "score", "rank"] + ([] if self.delta is None else ["delta rank"])

    def rows(self):
        """Row cells (org, floats, ints, None for blank) in header order."""
        for i, org in enumerate(self.orgs):
            row = [org, *self.values[i], self.scores[i], self.ranks[i]]
            if self.delta is not None:
                row.append(self.delta[i])
            yield row


@dataclass
class DeltaTable:
    """``<dim>-summary-delta``: this month's summary minus last month's (None = blank)."""

    name: str
    columns: list
    orgs: list
    values: list

    def header(self):
        return [ORG, *self.columns]

    def rows(self):
        for org, vals in zip(self.orgs, self.values):
            yield [org, *vals]


@dataclass
class Previous:
    """What the delta columns need of last month: ranks per output file, and summaries."""

    ranks: dict = field(default_factory=dict)  # "data-rank" -> {org: rank}
    summaries: dict = field(default_factory=dict)  # "data" -> Table
    source: str = "previous month"

    @classmethod
    def from_month(cls, month, source="previous month"):
        return cls({k: t.rank_map() for k, t in month.rankings.items()}, dict(month.inputs), source)


@dataclass
class MonthRanking:
    method: object
    inputs: dict  # "data", "data-accumulated", ... -> Table
    rankings: dict  # output stem -> RankTable, in output order
    summary_deltas: dict  # output stem -> DeltaTable
    warnings: list

    def outputs(self):
        """All output tables (RankTable or DeltaTable) by file stem, in output order."""
        return {**self.rankings, **self.summary_deltas}


# -- the algorithm -----------------------------------------------------------------

def normalise(column, mode="max"):
    """Normalise one column; returns (values, max, min). Divisor 0 -> all NaN."""
    hi, lo = max(column), min(column)
    if mode == "max":
        if hi == 0:
            return [NAN] * len(column), hi, lo
        d = float(hi)
        return [float(x) / d for x in column], hi, lo
    if hi == lo:
        return [NAN] * len(column), hi, lo
    d = float(hi - lo)
    return [float(x - lo) / d for x in column], hi, lo


def dense_rank(scores, ties="dense"):
    """Descending ranks by exact float equality; NaN scores get None.

    ``dense``: 1 + number of distinct higher scores (1, 1, 2);
    ``min``: 1 + number of higher scores (1, 1, 3).
    """
    valid = sorted((s for s in scores if not _isnan(s)), reverse=True)
    first = {}
    distinct = 0
    for pos, s in enumerate(valid):
        if s not in first:
            distinct += 1
            first[s] = distinct if ties == "dense" else pos + 1
    return [None if _isnan(s) else first[s] for s in scores]


def score_dimension(table, dimension, method, name=None):
    """Normalise, score and rank one dimension table -> RankTable (no delta yet)."""
    present = [c for c in dimension.indicators if table.has_column(c)]
    if not present:
        raise ScoringError(f"{table.source}: missing columns: none of the {dimension.name} "
                           f"indicators ({', '.join(dimension.indicators)}) is present")
    cols, maxes, mins = [], [], []
    for c in present:
        vals, hi, lo = normalise(table.column(c), method.normalisation)
        cols.append(vals)
        maxes.append(hi)
        mins.append(lo)
    rows = [list(r) for r in zip(*cols)]
    weights = None if dimension.weights is None else [dimension.weight(c) for c in present]
    scores = []
    for row in rows:
        if weights is None:
            vals = [v for v in row if v == v]
            scores.append(sum(vals) / len(vals) if vals else NAN)
        else:
            pairs = [(w, v) for w, v in zip(weights, row) if v == v]
            total = sum(w for w, _ in pairs)
            scores.append(sum(w * v for w, v in pairs) / total if total else NAN)
    return RankTable(name or f"{dimension.name}-rank", list(table.orgs), present, rows, scores,
                     dense_rank(scores, method.ties), raw=table, col_max=maxes, col_min=mins,
                     weights=weights)


def overall_ranking(dimension_tables, method, name="overall-rank"):
    """Overall score Σ w_D · g(rank_D) from one RankTable per method dimension."""
    tables = [dimension_tables[d] for d, _ in method.overall_weights]
    first = tables[0]
    orgs = [o for o in first.orgs if all(o in t for t in tables[1:])]
    values, scores = [], []
    for org in orgs:
        gs = []
        for t in tables:
            r = t.rank_of(org)
            gs.append(NAN if r is None else method.g(r))
        values.append(gs)
        score = 0
        for (_, w), g in zip(method.overall_weights, gs):
            score = score + w * g
        scores.append(float(score))
    return RankTable(name, orgs, [d for d, _ in method.overall_weights], values, scores,
                     dense_rank(scores, method.ties),
                     weights=[w for _, w in method.overall_weights])


def add_delta(table, previous_ranks):
    """Set ``table.delta`` = previous rank − rank (None where either is missing)."""
    table.delta = []
    for org, r in zip(table.orgs, table.ranks):
        p = previous_ranks.get(org)
        table.delta.append(None if p is None or r is None else p - r)


def summary_delta(this, prev, name):
    """Cell-wise ``this − prev`` aligned on org and column as pandas does."""
    orgs = this.orgs if this.orgs == prev.orgs else sorted(set(this.orgs) | set(prev.orgs))
    cols = (this.columns if this.columns == prev.columns
            else sorted(set(this.columns) | set(prev.columns)))
    ti = {o: i for i, o in enumerate(this.orgs)}
    pi = {o: i for i, o in enumerate(prev.orgs)}
    pairs = [(ti.get(o), pi.get(o)) for o in orgs]
    out = [[] for _ in orgs]
    for c in cols:
        if this.has_column(c) and prev.has_column(c):
            jt, jp = this.columns.index(c), prev.columns.index(c)
            tv, pv = this.values, prev.values
            cells = [None if i is None or k is None else tv[i][jt] - pv[k][jp] for i, k in pairs]
        else:
            cells = [None] * len(orgs)
        if None in cells or any(type(v) is float for v in cells):
            cells = [None if v is None else float(v) for v in cells]
        for row, v in zip(out, cells):
            row.append(v)
    return DeltaTable(name, cols, orgs, out)


# -- one month ---------------------------------------------------------------------

def _key(name):
    key = str(name)
    for suffix in (".csv", "-summary"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key


def rank_month(tables, method=None, previous=None):
    """Rank one month from its summary tables (see module docstring)."""
    method = method or load_method()
    names = method.names
    allowed = set(names) | {d + ACC for d in names}
    inputs = {}
    for raw_key, obj in tables.items():
        key = _key(raw_key)
        if key not in allowed:
            raise ScoringError(f"unknown summary table {raw_key!r} (expected "
                               f"{', '.join(sorted(allowed))})")
        inputs[key] = as_table(obj, getattr(obj, "source", None) or f"{key} table")
    for d in names:
        if d not in inputs:
            raise ScoringError(f"missing summary table {d!r} ({d}-summary.csv)")
    if isinstance(previous, MonthRanking):
        previous = Previous.from_month(previous)

    warnings = []
    for key, table in inputs.items():
        dim = method.dimension(key.removesuffix(ACC))
        missing = [c for c in dim.indicators if not table.has_column(c)]
        extra = [c for c in table.columns if c not in dim.indicators]
        if missing:
            warnings.append(f"{table.source}: indicators not in the table, skipped: {', '.join(missing)}")
        if extra:
            warnings.append(f"{table.source}: columns not in the method, ignored: {', '.join(extra)}")

    rankings = {}
    plain = {d: score_dimension(inputs[d], method.dimension(d), method) for d in names}
    acc = {d: score_dimension(inputs[d + ACC], method.dimension(d), method, f"{d}{ACC}-rank")
           for d in names if d + ACC in inputs}
    rankings.update({t.name: t for t in plain.values()})
    rankings["overall-rank"] = overall_ranking(plain, method)
    if acc:
        rankings.update({t.name: t for t in acc.values()})
        rankings[f"overall{ACC}-rank"] = overall_ranking({**plain, **acc}, method,
                                                         f"overall{ACC}-rank")
    for d, t in plain.items():
        if len(rankings["overall-rank"].orgs) < len(t.orgs):
            dropped = [o for o in t.orgs if o not in rankings["overall-rank"]]
            warnings.append(f"{t.raw.source}: not in every dimension, left out of the overall "
                            f"rank: {', '.join(dropped)}")

    deltas = {}
    if previous is not None:
        for stem, table in rankings.items():
            if stem in previous.ranks:
                add_delta(table, previous.ranks[stem])
            else:
                warnings.append(f"{previous.source}: no {stem} to compare with, no delta rank")
        for d in method.summary_delta:
            if d in previous.summaries:
                stem = f"{d}-summary-delta"
                deltas[stem] = summary_delta(inputs[d], previous.summaries[d], stem)
            else:
                warnings.append(f"{previous.source}: no {d} summary, no {d}-summary-delta")
    return MonthRanking(method, inputs, rankings, deltas, warnings)
