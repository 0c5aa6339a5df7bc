"""The seed's evaluation rules, one step for every leaderboard entry, crawled or catalogued.

The published method counts evaluated models "from 2023 onwards; only publicly available models;
models evaluated solely for a dataset release excluded; only actively maintained evaluation
platforms". :func:`judge` decides one entry and gives the reason a reader sees:

* a board published with a dataset and not kept up counts none of its models;
* a board is maintained when its latest result (or commit) is within ``max_age_days`` of the
  snapshot: the date comes from the crawl where the board is crawled, else from the catalogue's
  dated evidence (``last_update``); a board with no date is not maintained;
* public means open weights (:class:`OpenWeights`): the board's own flag first, then a catalogue
  ``model_access`` entry with evidence, then the model being on Hugging Face or ModelScope in the
  store (its ``models`` rows, of the entry's organisation); a model none of these shows open
  does not count ("openness unknown"), a closed or API-only one never does;
* evaluated on or after ``since`` (2023-01-01) where the board dates the evaluation.

Plain Python over the store (no Scrapy, no network): the board spiders judge their entries with
it as they publish them, ``scrapy crawlall`` judges the whole snapshot again once every hub is
crawled (:func:`judge_store`, so the store resolves names against the complete snapshot), and
``scoring`` reads the stored decisions (and judges any entry an older crawl left undecided).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from osir_crawl.parsing import parse_date

EVAL_SINCE = dt.date(2023, 1, 1)
MAX_AGE_DAYS = 183  # OSIR_BOARD_MAX_AGE_DAYS's default
HUBS = ("huggingface", "modelscope")
HUB_HOSTS = {"huggingface.co": "huggingface", "hf.co": "huggingface",
             "modelscope.cn": "modelscope", "www.modelscope.cn": "modelscope"}


@dataclass(frozen=True)
class Openness:
    public: bool | None  # None: nothing says
    by: str  # board | catalogue | store | unknown
    why: str  # what a reader sees


def board_max_age() -> int:
    """``$OSIR_BOARD_MAX_AGE_DAYS``, else :data:`MAX_AGE_DAYS`: how many days old a board's
    data may be on the snapshot date for the board to count as maintained."""
    return int(os.environ.get("OSIR_BOARD_MAX_AGE_DAYS") or MAX_AGE_DAYS)


def board_maintained(last_update, snapshot: dt.date, max_age_days: int) -> tuple[bool, str]:
    """(maintained, why) from the board's latest result date."""
    updated = parse_date(last_update)
    if updated is None:
        return False, "board not maintained: no dated result or commit"
    age = (snapshot - updated).days
    if age > max_age_days:
        return False, (f"board not maintained: last updated {updated.isoformat()}, "
                       f"{age} days before {snapshot.isoformat()} (> {max_age_days})")
    return True, f"board maintained: last updated {updated.isoformat()}"


def judge(openness: Openness, evaluated_at, *, dataset_release: bool, maintained: bool,
          maintained_why: str = "board not maintained",
          since: dt.date = EVAL_SINCE) -> tuple[bool, str]:
    """(counted, reason) of one entry under the seed's rules."""
    if dataset_release:
        return False, "dataset-release board"
    if not maintained:
        return False, maintained_why
    if openness.public is False:
        return False, f"not a public model ({openness.why})"
    if openness.public is None:
        return False, f"openness unknown ({openness.why})"
    evaluated = parse_date(evaluated_at)
    if evaluated is not None and evaluated < since:
        return False, f"evaluated before {since.isoformat()}"
    return True, f"counted: public ({openness.why})"


def _fold(text) -> str:
    return re.sub(r"[\s_]+", "-", str(text).strip()).casefold()


class OpenWeights:
    """Whether a board's model has open weights, from what a crawl may read without a request:
    the store's Hugging Face and ModelScope ``models`` rows (any snapshot up to this one: a
    repository once public was released), and the catalogue's ``model_access`` entries."""

    def __init__(self, repos=(), access=()):
        # folded repo name -> {(org, "platform:owner/name")}; folded owner/name -> same
        self.by_name: dict[str, set] = {}
        self.by_id: dict[str, tuple] = {}
        for platform, repo_id, org in repos:
            where = f"{platform}:{repo_id}"
            self.by_id[_fold(repo_id)] = (org, where)
            self.by_name.setdefault(_fold(str(repo_id).split("/")[-1]), set()).add((org, where))
        self.access = list(access)

    @classmethod
    def from_conn(cls, conn: sqlite3.Connection, snapshot: str, access=()) -> OpenWeights:
        repos = []
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='models'"
                        ).fetchone():
            repos = conn.execute(
                "SELECT DISTINCT platform, repo_id, org FROM models WHERE snapshot <= ? AND "
                "platform IN (?, ?) AND org IS NOT NULL", [snapshot, *HUBS]).fetchall()
        return cls(repos, access)

    @classmethod
    def from_store(cls, db_path, snapshot: str, access=()) -> OpenWeights:
        """From a store file (read-only); none of it when there is no store yet."""
        path = Path(db_path) if db_path else None
        if path is None or not path.exists():
            return cls((), access)
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            return cls.from_conn(conn, snapshot, access)
        finally:
            conn.close()

    def of(self, model: str, org: str | None, url: str | None = None,
           board_says: bool | None = None) -> Openness:
        if board_says is not None:
            return Openness(board_says, "board", "the board marks it open" if board_says
                            else "the board marks it closed or API-only")
        for entry in self.access:
            if entry.matches(model):
                state = "open weights" if entry.open else "closed or API-only"
                return Openness(entry.open, "catalogue", f"{state} per {entry.evidence[0]}")
        linked = _hub_repo(url)
        candidates = []
        if linked and (hit := self.by_id.get(_fold(linked[1]))):
            candidates.append(hit)
        if "/" in str(model) and (hit := self.by_id.get(_fold(model))):
            candidates.append(hit)
        candidates += sorted(self.by_name.get(_fold(str(model).split("/")[-1]), ()))
        for hit_org, where in candidates:
            if org is None or hit_org == org:
                return Openness(True, "store", f"open weights: {where}")
        return Openness(None, "unknown", "not found on Hugging Face or ModelScope"
                        + (f" under {org}" if org else "") + ", no catalogue entry")


def _hub_repo(url) -> tuple[str, str] | None:
    """(platform, owner/name) of a Hugging Face or ModelScope model page URL."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    platform = HUB_HOSTS.get((parts.hostname or "").lower())
    segments = [s for s in parts.path.split("/") if s]
    if platform == "modelscope" and segments[:1] == ["models"]:
        segments = segments[1:]
    if platform and len(segments) >= 2 and segments[0] not in ("datasets", "spaces", "papers"):
        return platform, f"{segments[0]}/{segments[1]}"
    return None


@dataclass(frozen=True)
class Decision:
    public: bool | None
    public_by: str
    counted: bool
    excluded: str | None  # the short reason (counts by reason)
    reason: str  # what a reader sees


def judge_entries(entries, last_updates: dict, weights: OpenWeights, catalogue,
                  snapshot: dt.date, max_age_days: int = MAX_AGE_DAYS,
                  since: dt.date = EVAL_SINCE) -> list[Decision]:
    """One :class:`Decision` per entry, each a mapping with board, model, org, url, public,
    public_by, evaluated_at (store rows). ``last_updates``: board -> its crawled date; a board
    without one is dated by its catalogue entry."""
    out = []
    for row in entries:
        board = row["board"]
        entry = catalogue.board_entry(board)
        last_update = last_updates.get(board) or (entry.last_update if entry else None)
        maintained, m_why = board_maintained(last_update, snapshot, max_age_days)
        public, by = row.get("public"), row.get("public_by")
        # the board's own flag (rows of an older crawl have no public_by: only boards set it)
        said = bool(public) if public is not None and public == public \
            and by in (None, "board") else None
        openness = weights.of(row["model"], row.get("org"), row.get("url"), said)
        counted, reason = judge(openness, row.get("evaluated_at"),
                                dataset_release=bool(entry and entry.dataset_release),
                                maintained=maintained, maintained_why=m_why, since=since)
        out.append(Decision(openness.public, openness.by, counted,
                            None if counted else reason_key(reason), reason))
    return out


def judge_store(db, snapshot: str, catalogue, max_age_days: int = MAX_AGE_DAYS,
                since: dt.date = EVAL_SINCE) -> dict:
    """Judge every ``leaderboard_entries`` row of the snapshot again, now that the snapshot's
    hub crawls are in the store, and write the decisions (``public``, ``public_by``,
    ``counted``, ``excluded``, ``reason``) and each board's counts back. ``db`` is a
    sqlite_utils Database of the store. Returns {counted, excluded: {reason: n}}."""
    import json
    from collections import Counter

    from osir_crawl.store import table_names, write_transaction

    have = table_names(db.conn)
    if "leaderboard_entries" not in have:
        return {"counted": 0, "excluded": {}}
    weights = OpenWeights.from_conn(db.conn, snapshot, catalogue.model_access)
    boards = dict(db.conn.execute("SELECT board, last_update FROM boards WHERE snapshot = ?",
                                  [snapshot]).fetchall()) if "boards" in have else {}
    cursor = db.conn.execute("SELECT board, model, org, url, public, public_by, evaluated_at "
                             "FROM leaderboard_entries WHERE snapshot = ?", [snapshot])
    names = [c[0] for c in cursor.description]
    entries = [dict(zip(names, row)) for row in cursor]
    decisions = judge_entries(entries, boards, weights, catalogue,
                              dt.date.fromisoformat(snapshot), max_age_days, since)
    per_board, total = {}, Counter()
    for row, d in zip(entries, decisions):
        counted, why = per_board.setdefault(row["board"], (set(), Counter()))
        if d.counted:
            counted.add(row["model"])
        else:
            why[d.excluded] += 1
            total[d.excluded] += 1
    with write_transaction(db):
        db.conn.executemany(
            "UPDATE leaderboard_entries SET public = ?, public_by = ?, counted = ?, excluded = ?, "
            "reason = ? WHERE board = ? AND model = ? AND snapshot = ?",
            [(None if d.public is None else int(d.public), d.public_by, int(d.counted),
              d.excluded, d.reason, row["board"], row["model"], snapshot)
             for row, d in zip(entries, decisions)])
        if "boards" in have:
            db.conn.executemany(
                "UPDATE boards SET models_counted = ?, excluded = ? WHERE board = ? AND "
                "snapshot = ?", [(len(c), json.dumps(dict(w), sort_keys=True), board, snapshot)
                                 for board, (c, w) in per_board.items()])
    return {"counted": sum(len(c) for c, _ in per_board.values()), "excluded": dict(total)}


def reason_key(reason: str) -> str:
    """The reason without its particulars (``excluded``, and counts by reason)."""
    return reason.split(" (")[0].split(":")[0]
