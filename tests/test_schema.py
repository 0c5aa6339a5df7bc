"""One schema: the item dataclasses declare the store's columns and what validation checks."""

import dataclasses
import sqlite3

from osir_crawl import items, store
from osir_crawl.store.schema import CRAWL_TABLES, SCHEMAS, SCORING_TABLES
from osir_crawl.pipelines.validation import problems


def test_every_item_field_is_a_column_of_its_table():
    for item in items.RECORD_ITEMS:
        fields = {f.name for f in dataclasses.fields(item)}
        assert set(SCHEMAS[item.TABLE]["columns"]) == fields | {"snapshot", "crawl_id",
                                                                "fetched_at"}
        assert SCHEMAS[item.TABLE]["pk"] == (*item.KEY, "snapshot")
    assert set(SCHEMAS["failures"]["columns"]) >= {
        f.name for f in dataclasses.fields(items.RequestFailure)}


def test_a_flag_the_old_tuples_missed_is_checked():
    board = items.BoardItem(board="b", url="https://x", dataset_release="yes")
    assert problems(board) == ["dataset_release is 'yes': expected true or false"]
    assert problems(items.BoardItem(board="b", url="https://x", dataset_release=True)) == []
    repo = items.RepoItem(platform="gitcode", repo_id="a/b", org="A", owner="a", name="b",
                          url="https://x", fork=0, stars=-1)
    assert problems(repo) == ["stars is -1: counts cannot be negative"]  # 0 is GitCode's false
    count = items.CatalogueCountItem(rule="r.chips", entry="r", org="A", field="chips",
                                     url="https://x", names=["a", 3])
    assert problems(count) == ["names is ['a', 3]: expected a list of strings"]


def test_scoring_tables_share_the_map_and_its_migration(tmp_path):
    """A store whose scoring tables predate a column gets it, by the crawlers' ensure_schema."""
    from scoring.store import open_store as scoring_store

    path = tmp_path / "osir.db"
    store.open_store(path).conn.close()
    with sqlite3.connect(path) as conn:  # as scoring created it before summaries had provenance
        conn.execute("CREATE TABLE summaries (snapshot TEXT, dimension TEXT, org TEXT, "
                     "indicator TEXT, value FLOAT, source TEXT, profile TEXT, built_at TEXT, "
                     "PRIMARY KEY (snapshot, dimension, org, indicator))")
        conn.execute("INSERT INTO summaries VALUES ('2025-09-07', 'data', 'A', 'x', 1, 's', "
                     "'p', 't')")
    assert not set(SCORING_TABLES) - {"summaries"} & set(store.table_names(
        sqlite3.connect(path)))  # the crawlers' open_store leaves scoring's tables alone
    conn = scoring_store(path, write=True)
    assert set(SCORING_TABLES) <= store.table_names(conn)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(summaries)")]
    assert columns == list(SCHEMAS["summaries"]["columns"])
    assert conn.execute("SELECT org, value, kind FROM summaries").fetchall() == [("A", 1.0, None)]
    conn.close()
    assert set(CRAWL_TABLES) <= store.table_names(sqlite3.connect(path))
