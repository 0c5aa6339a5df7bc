"""LMArena (Chatbot Arena): ``lmarena``, one board per subset of the Hub dataset
``lmarena-ai/leaderboard-dataset`` (CC-BY-4.0), read through the dataset viewer.

``/splits?dataset=…`` lists the subsets (``text``, ``vision``, ``webdev``, ``text_to_image``,
…); each subset's ``latest`` split holds one row per (model, category) of the current board:
``model_name, organization, license, rating, rating_lower, rating_upper, variance,
vote_count, rank, category, leaderboard_publish_date``. The board ``lmarena_<subset>`` keeps
the ``overall`` rows; the ``*_style_control`` subsets re-rate the same votes and the same
models, so they are not boards of their own. Public = a license other than "Proprietary";
``leaderboard_publish_date`` dates the evaluation and (its latest) the board.

Some subsets (``agent``, …) name their columns ``score, score_ci_lower, score_ci_upper,
observation_count`` instead of ``rating, rating_lower, rating_upper, vote_count``: a row is
read by whichever name it carries (``COLUMNS``), stored under the rating names, so those
entries are scored and ranked too. A row with neither leaves its score NULL, counted
(``osir/null/score/no_rating_or_score``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from osir_crawl.items import LeaderboardEntryItem
from osir_crawl.parsing import number
from osir_crawl.spiders._board import HF_WEB, DatasetViewerBoard
from osir_crawl.spiders._live_check import Check

# stored name -> the names subsets use for it, in order of preference
COLUMNS = {"rating": ("rating", "score"), "rating_lower": ("rating_lower", "score_ci_lower"),
           "rating_upper": ("rating_upper", "score_ci_upper"),
           "vote_count": ("vote_count", "observation_count")}


class LmarenaSpider(DatasetViewerBoard):
    name = "lmarena"
    board = "lmarena"
    dataset = "lmarena-ai/leaderboard-dataset"
    split = "latest"
    category = "overall"

    @classmethod
    def live_checks(cls):
        query = urlencode([("dataset", cls.dataset), ("config", "text"), ("split", cls.split),
                           ("offset", 0), ("length", 1)])
        return (Check("lmarena", cls.endpoint_setting, f"/rows?{query}", rows=("rows", 0, "row"),
                      fields=("model_name", "organization", "license", "category",
                              "leaderboard_publish_date"),
                      optional=tuple(name for names in COLUMNS.values() for name in names)),)

    async def start(self):
        query = urlencode([("dataset", self.dataset)])
        yield self.api_request(f"{self.endpoint}/splits?{query}", callback=self.parse_splits)

    def parse_splits(self, response):
        data = self.json_body(response)
        splits = data.get("splits") if isinstance(data, dict) else None
        if not isinstance(splits, list):
            yield from self.retry_or_fail(response, "/splits has no splits list")
            return
        configs = [s.get("config") for s in splits
                   if isinstance(s, dict) and s.get("split") == self.split]
        for config in configs:
            if not isinstance(config, str) or config.endswith("_style_control"):
                self.crawler.stats.inc_value("osir/lmarena/subsets_skipped")
                continue
            yield self.rows_request(self.dataset, config, self.split, 0)

    def table_done(self, table, rows):
        config = table[1]
        board = f"lmarena_{config}"
        overall = [r for r in rows if str(r.get("category", "")).casefold() == self.category]
        entries = {}
        for row in overall:
            entry = self.entry(row, config)
            if entry.model not in entries:  # one row per model per category
                entries[entry.model] = entry
        dates = [r.get("leaderboard_publish_date") for r in overall]
        last = max((d for d in dates if isinstance(d, str)), default=None)
        yield from self.publish(board, list(entries.values()), last,
                                f"{HF_WEB}/datasets/{self.dataset}")

    def entry(self, row: dict, config: str) -> LeaderboardEntryItem:
        name = row.get("model_name")
        name = name.strip() if isinstance(name, str) else name
        licence = row.get("license")
        return LeaderboardEntryItem(
            board=f"lmarena_{config}", model=name,
            url=f"{HF_WEB}/datasets/{self.dataset}/viewer/{config}/{self.split}",
            org=self.org_of(name, row.get("organization")) if isinstance(name, str) else None,
            score=self.column(row, "rating"),
            public=None if not isinstance(licence, str) or not licence.strip()
            else licence.strip().casefold() != "proprietary",
            evaluated_at=row.get("leaderboard_publish_date"),
            scores={k: v for k in ("rating_lower", "rating_upper", "vote_count")
                    if (v := self.column(row, k, count_missing=False)) is not None},
        )

    def column(self, row: dict, name: str, count_missing: bool = True) -> float | None:
        """The row's value for ``name`` under whichever of its names (COLUMNS) it carries."""
        for key in COLUMNS[name]:
            if key in row:
                return number(row[key])
        if count_missing:
            self.unsent("score", "no_rating_or_score")
        return None

    def org_of(self, name: str, organization) -> str | None:
        """By model name prefix first, else the free-text ``organization`` when it is a
        registry org's name ("Google", "Meta", "DeepSeek" …)."""
        if org := self.model_orgs.of(name):
            return org
        if isinstance(organization, str):
            folded = organization.strip().casefold()
            return next((o for o in self.registry.orgs if o.casefold() == folded), None)
        return None
