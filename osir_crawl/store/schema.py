"""The store's tables, declared once: each is a dataclass whose fields are its columns.

A record table is its item (osir_crawl/items.py): the item's key and ``snapshot`` are the
primary key, then its fields, then the stamps ``crawl_id`` and ``fetched_at``. The crawl
bookkeeping (``crawls``, ``rejects``, ``failures``, ``crawl_locks``) and scoring's tables
(``summaries``, ``rankings``, ``classification`` and their ``ecosystem_`` twins) are the row
dataclasses below. Column types come from the type hints: ``str`` TEXT, ``int`` INTEGER,
``float`` FLOAT, ``bool`` INTEGER (0/1), lists and dicts TEXT (JSON). A field whose metadata
holds ``NOT_NULL`` is a NOT NULL column with the field's default. Column names are fixed by
DESIGN.md; order is the display order of a new store (an existing store keeps its own).

:data:`SCHEMAS` maps every table name to ``{"pk", "columns", "not_null", "indexes"}``;
``store.ensure_schema`` creates them (the crawlers' from ``open_store``, scoring's from
``scoring.store.open_store(write=True)``) and adds columns introduced since.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import ClassVar

from osir_crawl import items

NOT_NULL = "not_null"  # field metadata: NOT NULL, with the field's default
STAMPS = {"crawl_id": str, "fetched_at": str}  # what the store stamps on each record row
SQL_TYPES = {str: str, int: int, float: float, bool: int, list: str, dict: str}


@functools.cache
def field_types(cls) -> dict[str, type]:
    """``{field: str | int | float | bool | list | dict}``: each field's type, its ``None``
    option and its element types left out (``list[str] | None`` is ``list``)."""
    hints = typing.get_type_hints(cls)
    return {f.name: _base(hints[f.name]) for f in dataclasses.fields(cls)}


def _base(hint) -> type:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        [hint] = [h for h in typing.get_args(hint) if h is not type(None)]
    return typing.get_origin(hint) or hint


def required_fields(cls) -> tuple[str, ...]:
    """The fields an item must be given (no default): a record without them is rejected."""
    return tuple(f.name for f in dataclasses.fields(cls)
                 if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)


def _columns(cls) -> dict[str, type]:
    return {name: SQL_TYPES[kind] for name, kind in field_types(cls).items()}


def _not_null(cls) -> dict[str, object]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.metadata.get(NOT_NULL)}


def _table(pk: tuple[str, ...], columns: dict[str, type], not_null=None, indexes=()) -> dict:
    return {"pk": pk, "columns": columns, "not_null": dict(not_null or {}),
            "indexes": [tuple(i) for i in indexes]}


def record_table(item_class, indexes=()) -> dict:
    """A record item's table: key + snapshot, the item's fields, the stamps."""
    own = _columns(item_class)
    pk = (*item_class.KEY, "snapshot")
    columns = {c: own.get(c, str) for c in pk} | own | STAMPS
    return _table(pk, columns, indexes=indexes)


def row_table(row_class, indexes=()) -> dict:
    """A table declared by a row dataclass (its ``KEY`` is the primary key)."""
    return _table(row_class.KEY, _columns(row_class), _not_null(row_class), indexes)


# --- the crawl bookkeeping ------------------------------------------------------------------------

@dataclass
class CrawlRow:
    """One crawl: what it covered and how it ended (osir_crawl/extensions/crawl_run.py)."""

    KEY: ClassVar[tuple[str, ...]] = ("crawl_id",)

    crawl_id: str
    spider: str | None = None
    snapshot: str | None = None
    orgs: str | None = None
    shard: str | None = None
    universe: str | None = None
    merged_from: str | None = None  # the shard store a merge copied it from
    started_at: str | None = None
    finished_at: str | None = None
    finish_reason: str | None = None
    outcome: str | None = None
    items: int | None = None
    rejected: int | None = None
    duplicates: int | None = None
    failed_requests: int | None = None
    retries: int | None = None
    rate_limited: int | None = None
    requests: int | None = None
    stale_removed: int | None = None
    stats: dict | None = None  # Scrapy's stats, JSON


@dataclass
class LogRow:
    """What a log row (``rejects``, ``failures``) says of the crawl that wrote it."""

    KEY: ClassVar[tuple[str, ...]] = ("id",)

    id: int | None = None
    crawl_id: str | None = None
    spider: str | None = None
    snapshot: str | None = None


@dataclass
class RejectRow(LogRow):
    """An item the validation refused, with why and (cut to store.MAX_PAYLOAD) what it held."""

    item_type: str | None = None
    repo_id: str | None = None
    reason: str | None = None
    payload: str | None = None
    url: str | None = None
    rejected_at: str | None = None


@dataclass
class CrawlLockRow:
    """A running crawl of a spider, snapshot and shard (store.CrawlLock)."""

    KEY: ClassVar[tuple[str, ...]] = ("spider", "snapshot", "shard")

    spider: str
    snapshot: str
    shard: str = field(default="", metadata={NOT_NULL: True})  # "" unsharded: a key column
    crawl_id: str | None = None
    host: str | None = None
    pid: int | None = None
    process: str | None = None
    started_at: str | None = None
    heartbeat_at: str | None = None


def failures_table() -> dict:
    """``failures``: a log row, the item's fields (items.RequestFailure), when it failed."""
    columns = _columns(LogRow) | _columns(items.RequestFailure) | {"failed_at": str}
    return _table(LogRow.KEY, columns, indexes=[("crawl_id",)])


# --- scoring's tables (written by ``scoring build``, one build per snapshot) ------------------------

@dataclass
class SummaryRow:
    """One indicator value of one org in a build's summaries."""

    KEY: ClassVar[tuple[str, ...]] = ("snapshot", "dimension", "org", "indicator")

    snapshot: str
    dimension: str
    org: str
    indicator: str
    value: float | None = None
    source: str | None = None
    profile: str | None = None
    built_at: str | None = None
    # provenance (scoring/catalogue_summaries.py): crawl | catalogue | published
    kind: str | None = None
    as_of: str | None = None
    flags: str | None = None


@dataclass
class RankingRow:
    KEY: ClassVar[tuple[str, ...]] = ("snapshot", "dimension", "org")

    snapshot: str
    dimension: str
    org: str
    score: float | None = None
    rank: int | None = None
    delta_rank: int | None = None
    profile: str | None = None
    built_at: str | None = None
    incomplete: str | None = None  # built with --allow-incomplete: the crawls not finished


@dataclass
class ClassificationRow:
    """How a repository of a snapshot was classified: label | rule | review."""

    KEY: ClassVar[tuple[str, ...]] = ("snapshot", "kind", "platform", "repo_id")

    snapshot: str
    kind: str
    platform: str
    repo_id: str
    org: str | None = None
    path: str | None = None
    reason: str | None = None
    modality: str | None = None
    large_model: bool | None = None
    lifecycle: str | None = None
    valid: bool | None = None


ECOSYSTEM = "ecosystem_"  # the table prefix of scoring's --universe all builds
_SCORING = {
    "summaries": row_table(SummaryRow),
    "rankings": row_table(RankingRow),
    "classification": row_table(ClassificationRow, indexes=[("snapshot", "path")]),
}

# --- the map -------------------------------------------------------------------------------------

SCHEMAS: dict[str, dict] = {
    "models": record_table(items.ModelItem, [("org", "snapshot"), ("snapshot", "platform")]),
    "datasets": record_table(items.DatasetItem, [("org", "snapshot"), ("snapshot", "platform")]),
    "repos": record_table(items.RepoItem, [("org", "snapshot")]),
    "leaderboard_entries": record_table(items.LeaderboardEntryItem, [("org", "snapshot")]),
    "boards": record_table(items.BoardItem),
    "catalogue_repos": record_table(items.CatalogueRepoItem, [("entry", "snapshot")]),
    "catalogue_counts": record_table(items.CatalogueCountItem),
    "official_datasets": record_table(items.OfficialDatasetItem, [("org", "snapshot")]),
    "crawls": row_table(CrawlRow, [("spider", "snapshot")]),
    "rejects": row_table(RejectRow, [("crawl_id",)]),
    "failures": failures_table(),
    "crawl_locks": row_table(CrawlLockRow),
    **_SCORING,
    **{ECOSYSTEM + name: spec for name, spec in _SCORING.items()},
}
SCORING_TABLES = tuple(name for name in SCHEMAS if name.removeprefix(ECOSYSTEM) in _SCORING)
CRAWL_TABLES = tuple(name for name in SCHEMAS if name not in SCORING_TABLES)
assert {SCHEMAS[c.TABLE]["pk"][:-1] == c.KEY for c in items.RECORD_ITEMS} == {True}
