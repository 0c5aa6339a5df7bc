"""What needs a person's look in the catalogue for one snapshot: entries not verified for more
than six months, catalogued repositories that vanished (or were archived), boards that stopped
updating, counting rules the crawl could not evaluate. Read by the crawl report
(:mod:`osir_crawl.ops.report`) and by ``python -m scoring evidence``.

``catalogue_flags(db_path, snapshot)`` → ``[{"flag", "entry", "org", "detail", "source"}]``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from osir_crawl.inputs.catalogue import STALE_DAYS, CatalogueError, load_catalogue
from osir_crawl.rules.eval_rules import board_max_age

FLAGS = ("stale", "vanished", "archived", "board stopped updating", "rule not evaluated",
         "catalogue invalid")


def catalogue_flags(db_path, snapshot: str, catalogue_dir=None,
                    max_age_days: int | None = None) -> list[dict]:
    """``max_age_days`` None: ``$OSIR_BOARD_MAX_AGE_DAYS`` as scoring build reads it."""
    max_age_days = board_max_age() if max_age_days is None else max_age_days
    day = dt.date.fromisoformat(snapshot)
    try:
        cat = load_catalogue(catalogue_dir)
    except CatalogueError as exc:
        return [{"flag": "catalogue invalid", "entry": None, "org": None, "detail": str(exc),
                 "source": None}]
    flags = []
    entries = [*cat.projects, *cat.boards, *cat.datasets, *cat.methods, *cat.tools]
    for e in entries:
        if e.exists_on(day) and e.stale_on(day):
            flags.append(_flag("stale", e, f"last verified {e.verified} (more than "
                                           f"{STALE_DAYS} days before {snapshot}) at {e.where}"))
    for b in cat.boards:
        if b.spider or not b.exists_on(day) or b.dataset_release or b.last_update is None:
            continue
        if (day - b.last_update).days > max_age_days:
            flags.append(_flag("board stopped updating", b,
                               f"catalogue: last update {b.last_update}"))
    flags += _store_flags(db_path, snapshot, cat)
    return flags


def _flag(kind, entry, detail, source=None) -> dict:
    return {"flag": kind, "entry": entry.id, "org": entry.org, "detail": detail,
            "source": source or entry.evidence[0]}


def _store_flags(db_path, snapshot, cat) -> list[dict]:
    if not Path(db_path).exists():
        return []
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        flags = []
        if "catalogue_repos" in tables:
            for r in conn.execute("SELECT * FROM catalogue_repos WHERE snapshot = ? "
                                  "AND ([exists] = 0 OR archived = 1)", [snapshot]):
                kind = "vanished" if r["exists"] == 0 else "archived"
                detail = (f"{r['platform']}:{r['repo_id']} answered HTTP {r['status']}"
                          if kind == "vanished" else f"{r['platform']}:{r['repo_id']} is archived")
                flags.append({"flag": kind, "entry": r["entry"], "org": r["org"],
                              "detail": detail, "source": r["url"]})
        if "boards" in tables:
            for r in conn.execute("SELECT * FROM boards WHERE snapshot = ? AND maintained = 0",
                                  [snapshot]):
                flags.append({"flag": "board stopped updating", "entry": r["entry"],
                              "org": r["host"], "source": r["url"],
                              "detail": f"board {r['board']}: last update {r['last_update']}, "
                                        f"more than {r['max_age_days']} days before {snapshot}"})
        if "catalogue_counts" in tables and "crawls" in tables:
            crawled = {r[0] for r in conn.execute(
                "SELECT DISTINCT spider FROM crawls WHERE snapshot = ?", [snapshot])}
            done = {r[0] for r in conn.execute(
                "SELECT rule FROM catalogue_counts WHERE snapshot = ?", [snapshot])}
            projects = {p.id: p for p in cat.projects}
            for rule in cat.rules():
                spider = f"{rule.repo.platform}_repos"
                if spider in crawled and rule.key not in done:
                    p = projects[rule.project]
                    flags.append(_flag("rule not evaluated", p,
                                       f"{rule.key} ({rule.means or rule.pattern}): the static "
                                       f"value is used", rule.repo.url))
        return flags
    finally:
        conn.close()
