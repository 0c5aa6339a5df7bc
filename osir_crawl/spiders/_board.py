"""The leaderboard family: :class:`BoardSpider` reads a board whole, attributes each model to an
organisation (spiders/_model_orgs.py), ranks the entries by score (1 = best, ties share a rank)
and yields them into ``leaderboard_entries``, so a rank is the model's place on the board even
when ``-a orgs=`` keeps only some organisations' entries. An entry nobody claims keeps org NULL
and is counted (``osir/leaderboard/unattributed``). A board is one shard's (``shard_unit``).

:meth:`BoardSpider.publish` applies the seed's evaluation rules first. The published method
counts evaluated models "from 2023 onwards; only publicly available models; models evaluated
solely for a dataset release excluded; only actively maintained evaluation platforms": each
entry is judged (``counted``, or ``excluded`` with the reason), one
:class:`~osir_crawl.items.BoardItem` is yielded per board (last update, maintained, how many
models count and why the others do not), then the ranked entries. Every entry is stored,
counted or not: nothing is dropped silently.

* evaluation date >= ``OSIR_EVAL_SINCE`` (2023-01-01) where the board dates the evaluation;
* public models only: open weights, by the board's flag, else a catalogue ``model_access``
  entry, else the model's repository among the store's Hugging Face / ModelScope models of its
  organisation; a model nothing shows open does not count ("openness unknown");
* a board the catalogue marks ``dataset_release`` counts none of its models;
* a board whose data is older than ``OSIR_BOARD_MAX_AGE_DAYS`` on the snapshot date, or that
  has no date (its own, else its catalogue entry's ``last_update``), is not maintained: none of
  its models count.

Each entry keeps ``counted``, ``excluded`` (the short reason), ``public_by`` and ``reason`` (the
decision as a reader sees it).

:class:`DatasetViewerBoard` reads boards published as Hugging Face datasets through the
dataset viewer's ``/rows`` pages (``num_rows_total`` gives their number; later pages go out
at once).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlencode

from osir_crawl.extensions.crawl_run import CrawlRun
from osir_crawl.inputs.catalogue import CatalogueError, load_catalogue
from osir_crawl.items import BoardItem, LeaderboardEntryItem, RequestFailure
from osir_crawl.parsing import parse_date
from osir_crawl.rules.eval_rules import (
    EVAL_SINCE,
    MAX_AGE_DAYS,
    Openness,
    OpenWeights,
    board_maintained,
    judge,
    reason_key,
)
from osir_crawl.spiders._base import OsirSpider
from osir_crawl.spiders._model_orgs import ModelOrgs

HF_WEB = "https://huggingface.co"


def exclusion(entry: LeaderboardEntryItem, *, dataset_release: bool, maintained: bool,
              since: dt.date, openness: Openness | None = None) -> str | None:
    """The short reason the entry does not count under the seed's rules, or None when it
    counts (the board's own public flag; :mod:`osir_crawl.rules.eval_rules` has the whole step)."""
    openness = openness or Openness(entry.public, "board", "the board's flag")
    counted, reason = judge(openness, entry.evaluated_at, dataset_release=dataset_release,
                            maintained=maintained, since=since)
    return None if counted else reason_key(reason)


class BoardSpider(OsirSpider):
    item_class = LeaderboardEntryItem
    board = ""
    lower_is_better = False  # error rates (WER): rank 1 is the lowest score

    def configure(self, settings):
        super().configure(settings)
        self.model_orgs = ModelOrgs(self.registry, settings.get("OSIR_MODEL_ORGS",
                                                                "data/model_name_orgs.yaml"))
        self.snapshot = dt.date.fromisoformat(settings.get("OSIR_SNAPSHOT"))
        self.eval_since = dt.date.fromisoformat(settings.get("OSIR_EVAL_SINCE")
                                                or EVAL_SINCE.isoformat())
        self.max_age = settings.getint("OSIR_BOARD_MAX_AGE_DAYS", MAX_AGE_DAYS)
        try:
            self.catalogue = load_catalogue(settings.get("OSIR_CATALOGUE") or None)
        except CatalogueError as exc:
            raise SystemExit(f"osir-crawl: {exc}") from None
        self.boards_seen: list[str] = []
        self.open_weights: OpenWeights | None = None  # read from the store when first needed

    @classmethod
    def shard_unit(cls) -> str:
        return cls.board or cls.name  # a board is read whole, by one shard

    def store_scope(self):
        if not self.in_shard():
            return {}
        boards = self.boards_seen or [self.board]
        scope = {self.item_class.TABLE: {"board": boards}}
        if self.orgs_arg:  # a partial crawl replaces only the selected orgs' entries
            scope[self.item_class.TABLE]["org"] = self.selected_orgs
        else:
            scope[BoardItem.TABLE] = {"board": boards}
        return scope

    def ranked(self, entries: list[LeaderboardEntryItem]) -> Iterator:
        """Rank by score (ties share the better rank), count attribution, keep the selected
        orgs' entries."""
        sign = -1 if self.lower_is_better else 1
        scores = sorted((sign * e.score for e in entries if isinstance(e.score, (int, float))),
                        reverse=True)
        first = {}
        for place, score in enumerate(scores, start=1):
            first.setdefault(score, place)
        stats = self.crawler.stats
        for entry in entries:
            if isinstance(entry.score, (int, float)):
                entry.rank = first[sign * entry.score]
            stats.inc_value(f"osir/leaderboard/{'attributed' if entry.org else 'unattributed'}")
            if self.orgs_arg and entry.org not in self.selected_orgs:
                stats.inc_value("osir/leaderboard/other_orgs")
                continue
            yield entry

    def openness(self, item: LeaderboardEntryItem) -> Openness:
        """The board's flag where it gives one, else the catalogue, else the store's hub
        models (``scrapy crawlall`` judges again once every hub of the snapshot is in)."""
        if item.public is None and self.open_weights is None:
            run = self.crawler.get_extension(CrawlRun)  # it alone reads the store
            if run is not None:
                self.open_weights = run.open_weights(self.catalogue.model_access)
        weights = self.open_weights or OpenWeights((), self.catalogue.model_access)
        return weights.of(item.model, item.org, item.url, item.public)

    def publish(self, board: str, entries: list[LeaderboardEntryItem], last_update, url: str
                ) -> Iterator:
        """Judge ``entries`` under the rules (osir_crawl/rules/eval_rules.py), then yield the board
        row and the ranked entries. A board without a date of its own is dated by its
        catalogue entry's ``last_update``, if any."""
        entry = self.catalogue.board_entry(board)
        updated = parse_date(last_update) or (entry.last_update if entry else None)
        maintained, maintained_why = board_maintained(updated, self.snapshot, self.max_age)
        release = bool(entry and entry.dataset_release)
        why = Counter()
        for item in entries:
            item.board = board
            evaluated = parse_date(item.evaluated_at)
            item.evaluated_at = evaluated.isoformat() if evaluated else None
            openness = self.openness(item)
            item.public, item.public_by = openness.public, openness.by
            item.counted, item.reason = judge(
                openness, item.evaluated_at, dataset_release=release, maintained=maintained,
                maintained_why=maintained_why, since=self.eval_since)
            item.excluded = None if item.counted else reason_key(item.reason)
            if item.excluded:
                why[item.excluded] += 1
        stats = self.crawler.stats
        stats.inc_value("osir/board/counted", sum(1 for e in entries if e.counted))
        for reason, n in why.items():
            stats.inc_value(f"osir/board/excluded/{reason}", n)
        if not maintained:
            self.logger.warning("board %s: %s, none of its models count", board, maintained_why)
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


class DatasetViewerBoard(BoardSpider):
    """Boards kept as Hugging Face datasets, read through the dataset viewer's ``/rows``
    pages; :meth:`table_done` gets each table's rows once all are in (or failed)."""

    endpoint_setting = "HF_DATASETS_SERVER_URL"
    page_length = 100  # the dataset viewer's maximum

    def configure(self, settings):
        super().configure(settings)
        self.tables: dict[tuple, dict] = {}  # (dataset, config, split) -> {rows, pending, done}

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
            self.crawler.stats.inc_value("osir/leaderboard/rows_total", total)
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
