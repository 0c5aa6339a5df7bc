"""Indicators the crawls can derive, computed from one snapshot of the store (plain sqlite3).

``derived_indicators(db_path, snapshot)`` returns ``{dimension: {org: {indicator: value}}}``:

* eval, from ``leaderboard_entries``: ``num_models_on_leaderboards`` — distinct models of the
  org (entries attributed to it) over all boards, a model on two boards counted once;
  ``num_leaderboards_present`` — boards with at least one of its models;
  ``num_hosted_leaderboards`` and ``num_hosted_models`` — the crawled boards the org runs
  (BOARD_HOSTS) and the distinct models evaluated on them, whoever made them: the crawlable
  part of what the curated ``num_leaderboards`` / ``num_evaluated_models`` count.
* infra, from ``repos`` (forks excluded: they measure someone else's work; mirrors too: the
  repository they copy is counted where it is hosted):
  ``num_repos``, ``repo_stars``, ``repo_forks``, ``repo_contributors`` (summed where the
  platform gave a count), ``num_active_repos`` (pushed within ACTIVE_DAYS before the snapshot,
  archived repos excluded).

``sources(db_path, snapshot)`` says where each dimension's values come from (tables, boards,
platforms, crawl ids), for the evidence report. The method file opts derived indicators into
``scoring build`` (its ``derived:`` section); nothing here changes the published reproduction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import pandas as pd

from .store import has_table, open_store, read_sql, table_columns

ACTIVE_DAYS = 90
INDICATORS = {
    "eval": ("num_models_on_leaderboards", "num_leaderboards_present", "num_hosted_leaderboards",
             "num_hosted_models"),
    "infra": ("num_repos", "repo_stars", "repo_forks", "repo_contributors", "num_active_repos"),
}
BOARD_HOSTS = {"opencompass_llm": "ShanghaiAILab", "opencompass_vlm": "ShanghaiAILab",
               "open_llm_leaderboard": "HuggingFace"}  # who runs each crawled board
SPIDERS = {"eval": ("opencompass_llm", "opencompass_vlm", "open_llm_leaderboard"),
           "infra": ("github_repos", "gitee_repos", "gitcode_repos", "openi_repos")}


def derived_indicators(db_path, snapshot: str) -> dict[str, dict[str, dict[str, float]]]:
    with closing(_connect(db_path)) as conn:
        return {"eval": _eval(conn, snapshot), "infra": _infra(conn, snapshot)}


def _connect(db_path) -> sqlite3.Connection:
    conn = open_store(db_path)
    conn.row_factory = sqlite3.Row
    return conn


def _eval(conn, snapshot: str) -> dict:
    if not has_table(conn, "leaderboard_entries"):
        return {}
    out: dict = defaultdict(dict)
    for r in conn.execute(
        """SELECT org, count(DISTINCT lower(model)) AS models, count(DISTINCT board) AS boards
           FROM leaderboard_entries WHERE snapshot = ? AND org IS NOT NULL GROUP BY org""",
        [snapshot],
    ):
        out[r["org"]].update(num_models_on_leaderboards=r["models"],
                             num_leaderboards_present=r["boards"])
    hosted: dict = defaultdict(lambda: (set(), set()))
    for board, model in conn.execute(
        "SELECT DISTINCT board, lower(model) FROM leaderboard_entries WHERE snapshot = ?",
        [snapshot],
    ):
        if host := BOARD_HOSTS.get(board):
            hosted[host][0].add(board)
            hosted[host][1].add(model)
    for host, (boards, models) in hosted.items():
        out[host].update(num_hosted_leaderboards=len(boards), num_hosted_models=len(models))
    return dict(out)


def _infra(conn, snapshot: str) -> dict:
    if not has_table(conn, "repos"):
        return {}
    have = table_columns(conn, "repos")
    mirror = "AND coalesce(mirror, 0) = 0" if "mirror" in have else ""  # an older store: none
    repos = read_sql(
        "SELECT org, stars, forks, contributors, archived, pushed_at FROM repos "
        f"WHERE snapshot = ? AND org IS NOT NULL AND coalesce(fork, 0) = 0 {mirror}", conn,
        params=[snapshot])
    if repos.empty:
        return {}
    end = pd.Timestamp(dt.date.fromisoformat(snapshot), tz="UTC") + pd.Timedelta(days=1)
    pushed = pd.to_datetime(repos.pushed_at.astype(object).where(repos.pushed_at.notna()),
                            utc=True, errors="coerce", format="ISO8601")
    active = (pushed >= end - pd.Timedelta(days=ACTIVE_DAYS + 1)) & (pushed < end) \
        & ~repos.archived.fillna(0).astype(bool)
    totals = repos.assign(active=active).groupby("org").agg(
        num_repos=("org", "size"), repo_stars=("stars", "sum"), repo_forks=("forks", "sum"),
        repo_contributors=("contributors", "sum"), num_active_repos=("active", "sum"))
    return totals.astype("int64")[list(INDICATORS["infra"])].to_dict("index")


def covered_orgs(db_path, snapshot: str) -> dict[str, set | None]:
    """Per dimension, the orgs the snapshot's crawls covered (their ``-a orgs=`` selections);
    None for every org (a crawl without a selection, or rows with no crawl recorded). An org
    outside the set was not looked at: its derived values are unknown, not zero."""
    covered: dict = {}
    with closing(_connect(db_path)) as conn:
        for dim, spiders in SPIDERS.items():
            selections = []
            if has_table(conn, "crawls"):
                marks = ", ".join("?" for _ in spiders)
                selections = [json.loads(o) if o else None for (o,) in conn.execute(
                    f"SELECT orgs FROM crawls WHERE snapshot = ? AND spider IN ({marks})",
                    [snapshot, *spiders])]
            if not selections or None in selections:
                covered[dim] = None
            else:
                covered[dim] = {org for chosen in selections for org in chosen}
    return covered


def sources(db_path, snapshot: str) -> dict[str, str]:
    """Per dimension, a sentence naming the store rows and crawls behind the derived values."""
    with closing(_connect(db_path)) as conn:
        crawls = defaultdict(list)
        if has_table(conn, "crawls"):
            for r in conn.execute("SELECT spider, crawl_id, outcome FROM crawls WHERE snapshot = ? "
                                  "ORDER BY started_at", [snapshot]):
                crawls[r["spider"]].append(f"{r['crawl_id']} ({r['outcome']})")
        parts = {}
        for dim, (table, column) in {"eval": ("leaderboard_entries", "board"),
                                     "infra": ("repos", "platform")}.items():
            found = [r[0] for r in conn.execute(
                f"SELECT DISTINCT [{column}] FROM [{table}] WHERE snapshot = ? ORDER BY 1",
                [snapshot])] if has_table(conn, table) else []
            runs = [c for s in SPIDERS[dim] for c in crawls.get(s, [])]
            parts[dim] = (f"store {Path(db_path).name} snapshot {snapshot}: {table} "
                          f"({column} {', '.join(found) or 'none'}); crawls: "
                          f"{'; '.join(runs) or 'none recorded'}")
        return parts
