"""Rank one month: per-dimension scores and ranks, the overall rank, deltas — frame arithmetic.

The published OSIR-LMTS algorithm (``research/osir-lmts-method.md`` §2), with the method
(:class:`scoring.method.Method`) as configuration:

1. :func:`normalise` each indicator column over the table's organisations (``max``:
   ``div(max)``; ``minmax``: ``(x - min) / (max - min)``); a column whose divisor is 0 is NaN;
2. :func:`dimension_score`: the mean of the non-NaN normalised indicators, summed column by
   column from the left, then divided by their count (Σ w·n / Σ w when the method gives
   weights) — the order the published tables were summed in, to the last bit;
3. :func:`dense_rank`: ``rank(method="dense")`` of the score, descending;
4. :func:`overall_ranking`: Σ_D w_D · g(rank_D), g(r) = 1 / log2(r + 1), over the
   organisations present in every dimension (order of the first dimension); the accumulated
   overall uses the accumulated rank of a dimension where there is one;
5. :func:`with_delta`: ``delta rank`` = previous rank − rank (blank for organisations new
   this month);
6. :func:`summary_delta`: this month's summary − last month's, aligned by pandas.

Public API::

    rank_month(tables, method=None, previous=None) -> MonthRanking
        tables:   {"data": t, "model": t, "infra": t, "eval": t,
                   optional "data-accumulated": t, "model-accumulated": t}
                  t: a DataFrame indexed by org, a list of {"org": ..., indicator: value}
                  records or an {org: {indicator: value}} mapping (keys may also be given
                  as "data-summary" or "data-summary.csv");
        previous: last month as a MonthRanking or a Previous, or None for no delta columns.
    MonthRanking.rankings        {"data-rank": frame, ..., "overall-accumulated-rank": frame}
                                 each indexed by org: <normalised indicators | g per
                                 dimension>, score, rank[, delta rank]
    MonthRanking.summary_deltas  {"data-summary-delta": frame, ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .errors import ScoringError
from .method import load_method
from .summary_frames import as_summary, require_indicators
from .vocabulary import ACC

DELTA = "delta rank"


@dataclass
class Previous:
    """What the delta columns need of last month: ranks per output file, and summaries."""

    ranks: dict = field(default_factory=dict)  # "data-rank" -> Series of rank by org
    summaries: dict = field(default_factory=dict)  # "data" -> summary frame
    source: str = "previous month"

    @classmethod
    def from_month(cls, month, source="previous month"):
        return cls({k: t["rank"] for k, t in month.rankings.items()}, dict(month.inputs), source)


@dataclass
class MonthRanking:
    method: object
    inputs: dict  # "data", "data-accumulated", ... -> summary frame (attrs["source"]: its name)
    rankings: dict  # output stem -> frame, in output order
    summary_deltas: dict  # output stem -> frame
    warnings: list

    def outputs(self):
        """All output frames by file stem, in output order."""
        return {**self.rankings, **self.summary_deltas}


# -- the steps ----------------------------------------------------------------------------

def normalise(summary: pd.DataFrame, mode="max") -> pd.DataFrame:
    """Each column over the organisations: x / max, or (x - min) / (max - min); NaN where the
    divisor is 0."""
    hi, lo = summary.max(), summary.min()
    if mode == "max":
        return summary.div(hi.where(hi != 0).astype("float64"))
    return summary.sub(lo).div((hi - lo).where(hi != lo).astype("float64"))


def dimension_score(normalised: pd.DataFrame, weights=None) -> pd.Series:
    """The mean (or weighted mean) of each row's non-NaN values, added from the left."""
    total = counted = 0.0
    for j, name in enumerate(normalised.columns):
        w = 1.0 if weights is None else weights[j]
        values = normalised[name]
        total = total + (values * w if weights is not None else values).fillna(0.0)
        counted = counted + values.notna() * w
    score = total / counted.where(counted != 0)
    return score.rename("score")


def dense_rank(scores: pd.Series, ties="dense") -> pd.Series:
    """Descending ranks by exact equality (``dense``: 1, 1, 2; ``min``: 1, 1, 3); NaN for a
    NaN score. Integers when every score has a rank."""
    return whole(scores.rank(method=ties, ascending=False)).rename("rank")


def whole(values: pd.Series) -> pd.Series:
    """A float column with no NaN as int64 (it is written "3", not "3.0")."""
    values = values.astype("float64")
    return values.astype("int64") if values.notna().all() else values


def score_dimension(summary: pd.DataFrame, dimension, method, columns) -> pd.DataFrame:
    """One dimension's rank file: normalised ``columns``, score, rank."""
    normalised = normalise(summary[columns], method.normalisation)
    weights = None if dimension.weights is None else [dimension.weight(c) for c in columns]
    score = dimension_score(normalised, weights)
    return normalised.assign(score=score, rank=dense_rank(score, method.ties))


def overall_ranking(dimension_frames: dict, method) -> pd.DataFrame:
    """Σ_D w_D · g(rank_D) from one rank frame per method dimension."""
    frames = [dimension_frames[d] for d, _ in method.overall_weights]
    orgs = frames[0].index
    for frame in frames[1:]:
        orgs = orgs[frame.index.get_indexer(orgs) >= 0]
    out = pd.DataFrame(index=orgs)
    score = 0
    for (name, weight), frame in zip(method.overall_weights, frames):
        out[name] = frame["rank"].reindex(orgs).map(method.g, na_action="ignore").astype(
            "float64")
        score = score + weight * out[name]
    out["score"] = pd.Series(score, index=orgs, dtype="float64")
    out["rank"] = dense_rank(out["score"], method.ties)
    return out


def with_delta(frame: pd.DataFrame, previous_ranks: pd.Series) -> pd.DataFrame:
    """``delta rank`` = previous rank − rank (NaN where either is missing); ``previous_ranks``:
    a Series or mapping of rank by org."""
    previous = pd.Series(previous_ranks, dtype="float64").reindex(frame.index)
    return frame.assign(**{DELTA: whole(previous.astype("float64") - frame["rank"])})


def summary_delta(this: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """This month's summary minus last month's, aligned on org and indicator by pandas (rows
    and columns sorted when the two differ, blank where one side lacks the cell)."""
    delta = this - previous
    delta.index.name = "org"
    return delta


# -- one month ----------------------------------------------------------------------------

def _key(name):
    key = str(name)
    for suffix in (".csv", "-summary"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key


def rank_month(tables, method=None, previous=None) -> MonthRanking:
    """Rank one month from its summary tables (see the module docstring)."""
    method = method or load_method()
    names = method.names
    allowed = set(names) | {d + ACC for d in names}
    inputs = {}
    for raw_key, obj in tables.items():
        key = _key(raw_key)
        if key not in allowed:
            raise ScoringError(f"unknown summary table {raw_key!r} (expected "
                               f"{', '.join(sorted(allowed))})")
        inputs[key] = as_summary(obj, f"{key} table")
    for d in names:
        if d not in inputs:
            raise ScoringError(f"missing summary table {d!r} ({d}-summary.csv)")
    if isinstance(previous, MonthRanking):
        previous = Previous.from_month(previous)

    warnings, columns = [], {}
    for key, summary in inputs.items():
        columns[key], notes = require_indicators(
            summary, method.dimension(key.removesuffix(ACC)), summary.attrs["source"])
        warnings += notes

    def ranked(key):
        dim = method.dimension(key.removesuffix(ACC))
        return score_dimension(inputs[key], dim, method, columns[key])

    plain = {d: ranked(d) for d in names}
    acc = {d: ranked(d + ACC) for d in names if d + ACC in inputs}
    rankings = {f"{d}-rank": frame for d, frame in plain.items()}
    rankings["overall-rank"] = overall_ranking(plain, method)
    if acc:
        rankings.update({f"{d}{ACC}-rank": frame for d, frame in acc.items()})
        rankings[f"overall{ACC}-rank"] = overall_ranking({**plain, **acc}, method)
    overall = rankings["overall-rank"].index
    for d, frame in plain.items():
        dropped = frame.index[overall.get_indexer(frame.index) < 0]
        if len(dropped):
            warnings.append(f"{inputs[d].attrs['source']}: not in every dimension, left out of "
                            f"the overall rank: {', '.join(dropped)}")

    deltas = {}
    if previous is not None:
        for stem, frame in rankings.items():
            if stem in previous.ranks:
                rankings[stem] = with_delta(frame, previous.ranks[stem])
            else:
                warnings.append(f"{previous.source}: no {stem} to compare with, no delta rank")
        for d in method.summary_delta:
            if d in previous.summaries:
                last = as_summary(previous.summaries[d], f"{previous.source}: {d} table")
                deltas[f"{d}-summary-delta"] = summary_delta(inputs[d], last)
            else:
                warnings.append(f"{previous.source}: no {d} summary, no {d}-summary-delta")
    for frame in [*rankings.values(), *deltas.values()]:
        frame.index.name = "org"
    return MonthRanking(method, inputs, rankings, deltas, warnings)


def ranks_of(frame: pd.DataFrame) -> dict:
    """{org: rank or None} of a rank frame."""
    return {org: (None if r != r else int(r)) for org, r in frame["rank"].items()}

