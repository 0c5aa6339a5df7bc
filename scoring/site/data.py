"""What the site shows, read from the store: every built month's rankings and provenance
(tables ``rankings`` and ``summaries``, as ``python -m scoring build`` wrote them), each month's
ranking recomputed from its stored summaries for explain's breakdown (:func:`scoring.rank.
rank_month`, :func:`scoring.explain.explain_org`), and the biggest movers with why they moved.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ScoringError
from ..explain import explain_org
from ..method import load_indicator_labels, load_method
from ..rank import ACCUMULATED, Previous, rank_month
from ..store import (
    has_table,
    open_store,
    previous_snapshot,
    read_previous_build,
    read_sql,
    read_summaries,
    table_columns,
)

OVERALL = "overall"
CELL_COLUMNS = ("dimension", "org", "indicator", "value", "kind", "source", "as_of", "flags")


@dataclass
class Month:
    snapshot: str
    previous: str | None  # the month its delta ranks compare with (None: the store's first)
    rankings: pd.DataFrame  # dimension, org, score, rank, delta_rank, profile, built_at
    cells: pd.DataFrame  # one row per summary value: CELL_COLUMNS (its provenance)
    ranking: object = None  # MonthRanking recomputed from the stored summaries, or None
    notes: list = field(default_factory=list)
    _ranked: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.dimensions = list(dict.fromkeys(self.rankings.dimension))  # as the build wrote them
        self.orgs = set(self.rankings.org)

    def ranked(self, dimension: str) -> pd.DataFrame:
        """The rows of one ranking (``overall``, ``data-accumulated`` …), best first."""
        if dimension not in self._ranked:
            rows = self.rankings[self.rankings.dimension == dimension]
            self._ranked[dimension] = rows.sort_values(["rank", "org"], kind="stable"
                                                       ).reset_index(drop=True)
        return self._ranked[dimension]


@dataclass
class SiteData:
    store: Path
    months: list  # of Month, oldest first
    rankings: pd.DataFrame  # every month's rows of the rankings table
    cells: pd.DataFrame  # every month's rows of the summaries table
    method: object
    labels: dict  # data/indicators.yaml
    slugs: dict  # org -> its page's folder name
    _ranks: dict = field(default_factory=dict, repr=False)

    def rank(self, dimension: str, org: str, snapshot: str) -> int | None:
        """The stored rank (None: not ranked)."""
        if not self._ranks:
            for row in self.rankings.itertuples():
                if not pd.isna(row.rank):
                    self._ranks[row.dimension, row.org, row.snapshot] = int(row.rank)
        return self._ranks.get((dimension, org, snapshot))

    @property
    def latest(self) -> Month:
        return self.months[-1]

    def month(self, snapshot: str) -> Month:
        return next(m for m in self.months if m.snapshot == snapshot)

    def before(self, month: Month) -> Month | None:
        return next((m for m in self.months if m.snapshot == month.previous), None)

    def parts(self, dimension: str) -> list[str]:
        """The dimension rankings an overall ranking combines (the accumulated overall uses the
        accumulated data and model ranks); [] for a dimension."""
        names = list(self.method.names)
        if dimension == OVERALL:
            return names
        if dimension == OVERALL + ACCUMULATED:
            return [d + ACCUMULATED if d + ACCUMULATED in self.latest.dimensions else d
                    for d in names]
        return []


def read_site(db_path, method_path=None) -> SiteData:
    """Everything the site shows, from the store at ``db_path``."""
    db_path = Path(db_path)
    conn = open_store(db_path)
    try:
        if not has_table(conn, "rankings"):
            raise ScoringError(f"{db_path}: no rankings table: run python -m scoring build "
                               "--snapshot YYYY-MM-DD first")
        rankings = read_sql("SELECT snapshot, dimension, org, score, rank, delta_rank, profile, "
                            "built_at FROM rankings ORDER BY snapshot, rowid", conn)
        if rankings.empty:
            raise ScoringError(f"{db_path}: the store holds no rankings: run python -m scoring "
                               "build --snapshot YYYY-MM-DD first")
        have = table_columns(conn, "summaries")
        select = ", ".join(c if c in have else f"NULL AS {c}" for c in CELL_COLUMNS)
        cells = read_sql(f"SELECT snapshot, {select} FROM summaries ORDER BY snapshot, rowid",
                         conn)
        method = load_method(method_path)
        snapshots = sorted(rankings.snapshot.unique())
        months = []
        for snapshot in snapshots:
            month = Month(snapshot, previous_snapshot(snapshots, snapshot),
                          rankings[rankings.snapshot == snapshot].drop(columns="snapshot"),
                          cells[cells.snapshot == snapshot].drop(columns="snapshot"))
            month.ranking = _recomputed(conn, month, method)
            months.append(month)
    finally:
        conn.close()
    return SiteData(db_path, months, rankings, cells, method, load_indicator_labels(),
                    org_slugs(rankings.org.unique()))


def _recomputed(conn, month: Month, method):
    """The month's MonthRanking from its stored summaries (and the month before, for the
    deltas), as ``scoring explain`` computes it; None, with a note, when that cannot be done or
    does not give the stored ranks (a method changed since the build)."""
    try:
        prev, _, ranks, summaries = read_previous_build(conn, month.snapshot)
        previous = Previous(ranks, summaries, f"store {prev}") if prev else None
        ranking = rank_month(read_summaries(conn, month.snapshot), method, previous)
    except ScoringError as err:
        month.notes.append(f"no breakdown for this month: {err}")
        return None
    for stem, frame in ranking.rankings.items():
        stored = month.ranked(stem.removesuffix("-rank")).set_index("org")["rank"]
        if not stored.astype("float64").equals(frame["rank"].reindex(stored.index)
                                               .astype("float64")):
            month.notes.append(f"the breakdown recomputes {stem} from the stored summaries with "
                               "the current data/method.yaml and gets other ranks than the "
                               "build stored: rebuild the month to compare like with like")
            break
    return ranking


def org_slugs(orgs) -> dict:
    """A folder name per organisation: its name with anything but letters, digits, ``.``,
    ``_`` and ``-`` as ``-``; unique without regard to case (for case-folding file systems)."""
    slugs, taken = {}, set()
    for org in sorted(orgs):
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", org).strip("-.") or "org"
        slug, n = base, 2
        while slug.casefold() in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug.casefold())
        slugs[org] = slug
    return slugs


def explain(site: SiteData, month: Month, org: str, accumulated=False):
    """explain_org's report of ``org`` in ``month`` (None where the month has no breakdown or
    does not rank the organisation)."""
    if month.ranking is None:
        return None
    try:
        return explain_org(month.ranking, org, accumulated, site.labels)
    except ScoringError:
        return None


# -- the biggest movers ------------------------------------------------------------------------

@dataclass
class Move:
    org: str
    rank: int
    previous_rank: int
    delta_rank: int
    because: list  # (what, key, before, after): ("rank", dimension, …) | ("value", indicator, …)


def movers(site: SiteData, month: Month, dimension: str, reasons: int = 3) -> list[Move]:
    """The organisations whose ``dimension`` rank changed since the month before, most first,
    each with why: for an overall ranking the dimension ranks that changed; for a dimension the
    indicators whose normalised value changed most (their raw values before and after)."""
    rows = month.ranked(dimension)
    moved = rows[rows.delta_rank.notna() & (rows.delta_rank != 0)]
    moved = moved.assign(size=moved.delta_rank.abs()).sort_values(
        ["size", "rank", "org"], ascending=[False, True, True], kind="stable")
    before, parts = site.before(month), site.parts(dimension)
    out = []
    for row in moved.itertuples():
        rank, delta = int(row.rank), int(row.delta_rank)
        if parts:
            because = _rank_changes(month, parts, row.org)
        else:
            because = _value_changes(month, before, dimension, row.org)[:reasons]
        out.append(Move(row.org, rank, rank + delta, delta, because))
    return out


def new_orgs(month: Month, dimension: str) -> list[str]:
    """Ranked this month but not the month before (no delta rank)."""
    if month.previous is None:
        return []
    rows = month.ranked(dimension)
    return list(rows[rows.delta_rank.isna()].org)


def _rank_changes(month, parts, org):
    changes = []
    for part in parts:
        rows = month.ranked(part)
        row = rows[rows.org == org]
        if row.empty or pd.isna(row.delta_rank.iloc[0]) or row.delta_rank.iloc[0] == 0:
            continue
        rank = int(row["rank"].iloc[0])
        changes.append(("rank", part, rank + int(row.delta_rank.iloc[0]), rank))
    return changes


def _value_changes(month, before, dimension, org):
    """Indicators of ``dimension`` by how much their normalised value changed, largest first."""
    if month.ranking is None or before is None or before.ranking is None:
        return []
    stem = f"{dimension}-rank"
    now, then = month.ranking.rankings.get(stem), before.ranking.rankings.get(stem)
    if now is None or then is None or org not in now.index or org not in then.index:
        return []
    raw_now, raw_then = month.ranking.inputs[dimension], before.ranking.inputs[dimension]
    changes = []
    for ind in now.columns.intersection(then.columns).drop(["score", "rank", "delta rank"],
                                                           errors="ignore"):
        a, b = _number(then.at[org, ind]), _number(now.at[org, ind])
        if a is None or b is None or a == b:
            continue
        raw = (_number(raw_then.at[org, ind]) if ind in raw_then else None,
               _number(raw_now.at[org, ind]) if ind in raw_now else None)
        changes.append((abs(b - a), ("value", ind, *raw)))
    changes.sort(key=lambda c: -c[0])
    return [c for _, c in changes]


def _number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() else value
