"""Typed items. Each maps to one store table: its fields are the table's columns, their types
the columns' types (osir_crawl/store/schema.py) and what validation checks (osir_crawl/pipelines/validation.py:
an ``int`` is a count, a ``bool`` a flag, a field without a default is required).

``snapshot``, ``crawl_id`` and ``fetched_at`` are stamped by the store, so spiders leave them
unset. ``KEY`` names the fields that identify a row within a snapshot (the dedup key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class Record:
    """A repository on a platform: the identity every hub and forge row carries."""

    TABLE: ClassVar[str] = ""
    KEY: ClassVar[tuple[str, ...]] = ("platform", "repo_id")

    platform: str
    repo_id: str
    org: str
    owner: str
    name: str
    url: str


@dataclass
class HubRecord(Record):
    """What model and dataset hubs share: downloads, likes, discussions, tags, dates."""

    downloads: int | None = None  # 30-day, where the platform gives it
    downloads_total: int | None = None  # cumulative
    likes: int | None = None
    discussions: int | None = None  # all discussions and PRs
    discussions_open: int | None = None
    tags: list[str] = field(default_factory=list)
    created_at: str | None = None
    last_modified: str | None = None


@dataclass
class ModelItem(HubRecord):
    TABLE: ClassVar[str] = "models"

    descendants: int | None = None  # derived models in the model tree
    params: int | None = None
    pipeline_tag: str | None = None
    library: str | None = None
    model_type: str | None = None  # config.json's, as the platform lists it
    architectures: list[str] = field(default_factory=list)  # config.json's ``architectures``


@dataclass
class DatasetItem(HubRecord):
    TABLE: ClassVar[str] = "datasets"

    dataset_usage: int | None = None  # models trained or fine-tuned on it


@dataclass
class RepoItem(Record):
    TABLE: ClassVar[str] = "repos"

    stars: int | None = None
    forks: int | None = None
    watchers: int | None = None
    open_issues: int | None = None
    contributors: int | None = None
    language: str | None = None
    license: str | None = None
    archived: bool | None = None
    fork: bool | None = None
    mirror: bool | None = None  # a pull mirror of a repository hosted elsewhere (Gitea)
    pushed_at: str | None = None


@dataclass
class LeaderboardEntryItem:
    TABLE: ClassVar[str] = "leaderboard_entries"
    KEY: ClassVar[tuple[str, ...]] = ("board", "model")

    board: str
    model: str
    url: str
    org: str | None = None  # None when no registry account matches the model
    rank: int | None = None
    score: float | None = None
    params: float | None = None  # billions, as leaderboards give it
    scores: dict[str, float] = field(default_factory=dict)  # per-benchmark results
    # The seed's evaluation rules (spiders/_board.py): when the board dates the evaluation,
    # whether the model is public (None: the board does not say), and whether it counts.
    evaluated_at: str | None = None
    public: bool | None = None
    counted: bool | None = None
    excluded: str | None = None  # why it does not count (short: counts by reason)
    public_by: str | None = None  # what said whether it is public: board|catalogue|store|unknown
    reason: str | None = None  # the decision as a reader sees it (osir_crawl/rules/eval_rules.py)


@dataclass
class BoardItem:
    """One leaderboard as a crawl found it: when it was last updated, whether that is within
    the maintenance window, and how many of its models count under the seed's rules."""

    TABLE: ClassVar[str] = "boards"
    KEY: ClassVar[tuple[str, ...]] = ("board",)

    board: str
    url: str
    host: str | None = None  # the registry org running it (catalogue entry's org)
    entry: str | None = None  # the catalogue entry (data/catalogue/eval.yaml) it belongs to
    last_update: str | None = None  # YYYY-MM-DD, from the board's own data
    maintained: bool | None = None
    dataset_release: bool = False
    models_total: int | None = None
    models_counted: int | None = None
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> models
    max_age_days: int | None = None


@dataclass
class CatalogueRepoItem:
    """A catalogued repository as its forge answered: exists, archived, last push."""

    TABLE: ClassVar[str] = "catalogue_repos"
    KEY: ClassVar[tuple[str, ...]] = ("platform", "repo_id")

    platform: str
    repo_id: str
    entry: str  # catalogue id
    org: str
    url: str
    exists: bool | None = None
    status: int | None = None  # the forge's HTTP status for the repository
    archived: bool | None = None
    pushed_at: str | None = None
    default_branch: str | None = None
    stars: int | None = None
    watchers: int | None = None  # GitHub: subscribers_count, which only this endpoint sends
    contributors: int | None = None


@dataclass
class CatalogueCountItem:
    """A catalogue counting rule evaluated on the repository's current files."""

    TABLE: ClassVar[str] = "catalogue_counts"
    KEY: ClassVar[tuple[str, ...]] = ("rule",)

    rule: str  # <catalogue id>.<field>
    entry: str
    org: str
    field: str  # operators | chips
    url: str  # what was read (a contents or trees API URL)
    value: int | None = None
    names: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)  # the branches read


@dataclass
class OfficialDatasetItem:
    """A dataset an organisation's own machine-readable catalogue lists (official_datasets)."""

    TABLE: ClassVar[str] = "official_datasets"
    KEY: ClassVar[tuple[str, ...]] = ("source", "name")

    source: str  # the catalogue read (spiders/official_datasets.py SOURCES)
    org: str
    name: str
    url: str  # the dataset's page in the catalogue
    section: str | None = None  # the catalogue's own grouping
    modality: str | None = None  # Language | Vision | Speech | Multimodal | Embodied, if known
    lifecycle: str | None = None  # the catalogue gives none today


@dataclass
class RequestFailure:
    """A request that finally failed after its retries; stored in ``failures``, never dropped."""

    TABLE: ClassVar[str] = "failures"
    KEY: ClassVar[tuple[str, ...]] = ()

    url: str
    reason: str
    status: int | None = None
    item_type: str | None = None  # the item the request was enriching, if any
    repo_id: str | None = None


RECORD_ITEMS = (ModelItem, DatasetItem, RepoItem, LeaderboardEntryItem, BoardItem,
                CatalogueRepoItem, CatalogueCountItem, OfficialDatasetItem)


# Platforms whose repository ids are case-insensitive (``Org/Model-A`` is ``org/model-a``): the
# Hugging Face Hub and ModelScope resolve either spelling to one repository.
CASE_INSENSITIVE_IDS = frozenset({"huggingface", "modelscope"})


def record_key(item) -> tuple:
    """(table, *key) of a record item: what one row of the store is per snapshot."""
    return key_of(item.TABLE, [getattr(item, f) for f in item.KEY])


def key_of(table: str, values) -> tuple:
    """(table, *values), a repository id folded to lower case on platforms that ignore case."""
    values = list(values)
    if len(values) == 2 and values[0] in CASE_INSENSITIVE_IDS and isinstance(values[1], str):
        values[1] = values[1].lower()
    return (table, *values)
