"""The leaderboard family base: the seed's evaluation rules and a ``boards`` row per board.

The published method counts evaluated models "from 2023 onwards; only publicly available
models; models evaluated solely for a dataset release excluded; only actively maintained
evaluation platforms". A board spider (``class X(BoardRules, LeaderboardSpider)``) collects
its entries, then :meth:`BoardRules.publish`
judges each one (``counted``, or ``excluded`` with the reason), yields one
:class:`~osir_crawl.items.BoardItem` (last update, maintained, how many models count and why
the others do not) and the ranked entries. Every entry is stored, counted or not: nothing is
dropped silently.

* evaluation date >= ``OSIR_EVAL_SINCE`` (2023-01-01) where the board dates the evaluation;
* public models only, where the board says (``public`` None: it does not, the entry counts);
* a board the catalogue marks ``dataset_release`` counts none of its models;
* a board whose data is older than ``OSIR_BOARD_MAX_AGE_DAYS`` on the snapshot date is not
  maintained: none of its models count.

:class:`DatasetViewerRows` reads boards published as Hugging Face datasets through the
dataset viewer's ``/rows`` pages (``num_rows_total`` gives their number; later pages go out
at once).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlencode

from osir_crawl.catalogue import CatalogueError, load_catalogue
from osir_crawl.items import BoardItem, LeaderboardEntryItem, RequestFailure

DATE = re.compile(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})")


def parse_date(value) -> dt.date | None:
    """A date from "2025-03-13", "2025-03-13T10:00:00Z", "20250917" or "2025/3/13"."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = DATE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def exclusion(entry: LeaderboardEntryItem, *, dataset_release: bool, maintained: bool,
              since: dt.date) -> str | None:
    """Why the entry does not count under the seed's rules, or None when it counts."""
    if dataset_release:
        return "dataset-release board"
    if not maintained:
        return "board not maintained"
    if entry.public is False:
        return "not a public model"
    evaluated = parse_date(entry.evaluated_at)
    if evaluated is not None and evaluated < since:
        return f"evaluated before {since.isoformat()}"
    return None


class BoardRules:
    """Mixin for a ``LeaderboardSpider``: the rules, the board row, the board-wide store scope."""

    lower_is_better = False  # error rates (WER): rank 1 is the lowest score

    def configure(self, settings):
        super().configure(settings)
        self.snapshot = dt.date.fromisoformat(settings.get("OSIR_SNAPSHOT"))
        self.eval_since = dt.date.fromisoformat(settings.get("OSIR_EVAL_SINCE") or "2023-01-01")
        self.max_age = settings.getint("OSIR_BOARD_MAX_AGE_DAYS", 183)
        try:
            self.catalogue = load_catalogue(settings.get("OSIR_CATALOGUE") or None)
        except CatalogueError as exc:
            raise SystemExit(f"osir-crawl: {exc}") from None
        self.boards_seen: list[str] = []

    def store_scope(self):
        scope = super().store_scope()
        boards = self.boards_seen or [self.board]
        scope[LeaderboardEntryItem.TABLE]["board"] = boards
        if not self.orgs_arg:
            scope[BoardItem.TABLE] = {"board": boards}
        return scope

    def publish(self, board: str, entries: list[LeaderboardEntryItem], last_update, url: str
                ) -> Iterator:
        """Judge ``entries`` under the rules, then yield the board row and the ranked entries."""
        entry = self.catalogue.board_entry(board)
        updated = parse_date(last_update)
        maintained = updated is not None and (self.snapshot - updated).days <= self.max_age
        release = bool(entry and entry.dataset_release)
        why = Counter()
        for item in entries:
            item.board = board
            evaluated = parse_date(item.evaluated_at)
            item.evaluated_at = evaluated.isoformat() if evaluated else None
            item.excluded = exclusion(item, dataset_release=release, maintained=maintained,
                                      since=self.eval_since)
            item.counted = item.excluded is None
            if item.excluded:
                why[item.excluded] += 1
        stats = self.crawler.stats
        stats.inc_value("osir/board/counted", sum(1 for e in entries if e.counted))
        for reason, n in why.items():
            stats.inc_value(f"osir/board/excluded/{reason}", n)
        if not maintained:
            self.logger.warning("board %s: last updated %s, more than %d days before %s: "
                                "not maintained, none of its models count", board,
                                updated or "unknown", self.max_age, self.snapshot)
        self.boards_seen.append(board)
        models = {e.model for e in entries if isinstance(e.model, str) and e.model.strip()}
        yield BoardItem(
            board=board, url=url, host=entry.org if entry else None,
            entry=entry.id if entry else None,
            last_update=updated.isoformat() if updated else None, maintained=maintained,
            dataset_release=release, models_total=len(models),
            models_counted=len({e.model for e in entries if e.counted and e.model in models}),
            excluded=dict(why), max_age_days=self.max_age)
        yield from self.ranked(entries)

    def ranked(self, entries):
        if self.lower_is_better:  # rank on the negated score, keep the score as published
            for entry in entries:
                entry.score = -entry.score if isinstance(entry.score, (int, float)) else None
            ranked = list(super().ranked(entries))
            for entry in entries:
                entry.score = -entry.score if isinstance(entry.score, (int, float)) else None
            yield from ranked
            return
        yield from super().ranked(entries)


class DatasetViewerRows:
    """Mixin for a board spider: boards kept as Hugging Face datasets, read through the dataset
    viewer's ``/rows`` pages; :meth:`table_done` gets each table's rows once all are in."""

    endpoint_setting = "HF_DATASETS_SERVER_URL"
    page_length = 100  # the dataset viewer's maximum

    def configure(self, settings):
        super().configure(settings)
        self.tables: dict[tuple, dict] = {}  # (dataset, config, split) -> {rows, pending}

    def rows_request(self, dataset: str, config: str, split: str, offset: int):
        table = (dataset, config, split)
        self.tables.setdefault(table, {"rows": [], "pending": set(), "done": False})
        self.tables[table]["pending"].add(offset)
        query = urlencode([("dataset", dataset), ("config", config), ("split", split),
                           ("offset", offset), ("length", self.page_length)])
        return self.api_request(f"{self.endpoint}/rows?{query}", callback=self.parse_rows_page,
                                errback=self.rows_page_failed,
                                cb_kwargs={"table": table, "offset": offset})

    def parse_rows_page(self, response, table: tuple, offset: int):
        data = self.json_body(response)
        state = self.tables[table]
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            for out in self.retry_or_fail(response, "rows page has no rows list"):
                if isinstance(out, RequestFailure):
                    state["pending"].discard(offset)
                yield out
            yield from self._table_if_done(table)
            return
        for wrapped in data["rows"]:
            row = wrapped.get("row") if isinstance(wrapped, dict) else None
            state["rows"].append(row if isinstance(row, dict) else {})
        if offset == 0 and isinstance(total := data.get("num_rows_total"), int):
            for later in range(self.page_length, total, self.page_length):
                yield self.rows_request(*table, later)
        state["pending"].discard(offset)
        yield from self._table_if_done(table)

    def rows_page_failed(self, failure):
        yield from self.on_failure(failure)
        table = failure.request.cb_kwargs["table"]
        self.tables[table]["pending"].discard(failure.request.cb_kwargs["offset"])
        yield from self._table_if_done(table)

    def _table_if_done(self, table) -> Iterator:
        state = self.tables[table]
        if not state["pending"] and not state["done"]:
            state["done"] = True
            self.crawler.stats.inc_value("osir/leaderboard/rows", len(state["rows"]))
            yield from self.table_done(table, state["rows"])

    def table_done(self, table: tuple, rows: list[dict]) -> Iterator:
        raise NotImplementedError
