"""The Open LLM Leaderboard (v2): ``open_llm_leaderboard``, the ``open-llm-leaderboard/contents``
dataset read through the dataset viewer's ``/rows`` pages (spiders/_board.py).

One entry per ``fullname`` (a model evaluated in several precisions keeps its best average);
org = the registry owner of the Hub account in ``fullname``. ``Submission Date`` dates each
evaluation and the board (its latest; the board was retired in March 2025, so it counts as not
maintained once that is older than the window); ``Available on the hub`` = public.
"""

from __future__ import annotations

from osir_crawl.items import LeaderboardEntryItem
from osir_crawl.parsing import number, parse_date
from osir_crawl.spiders._board import HF_WEB, DatasetViewerBoard
from osir_crawl.spiders._live_check import Check


class OpenLlmLeaderboardSpider(DatasetViewerBoard):
    name = "open_llm_leaderboard"
    board = "open_llm_leaderboard"
    dataset = "open-llm-leaderboard/contents"
    benchmarks = ("IFEval", "BBH", "MATH Lvl 5", "GPQA", "MUSR", "MMLU-PRO")

    @classmethod
    def live_checks(cls):
        return (Check("open_llm_leaderboard", cls.endpoint_setting,
                      "/rows?dataset=open-llm-leaderboard%2Fcontents&config=default&split=train"
                      "&offset=0&length=1", rows=("rows", 0, "row"),
                      fields=("fullname", "Average ⬆️", "#Params (B)", "Submission Date",
                              "Available on the hub", "Precision", *cls.benchmarks)),)

    async def start(self):
        yield self.rows_request(self.dataset, "default", "train", 0)

    def table_done(self, table, rows):
        best: dict[str, LeaderboardEntryItem] = {}
        for row in rows:
            entry = self.entry(row)
            key = entry.model if isinstance(entry.model, str) and entry.model else f"#{len(best)}"
            if key in best:
                self.crawler.stats.inc_value("osir/leaderboard/precision_variants")
                if (entry.score or -1) <= (best[key].score or -1):
                    continue
            best[key] = entry
        entries = list(best.values())
        dated = [d for e in entries if (d := parse_date(e.evaluated_at))]
        yield from self.publish(self.board, entries, max(dated, default=None),
                                f"{HF_WEB}/datasets/{self.dataset}")

    def entry(self, row: dict) -> LeaderboardEntryItem:
        fullname = row.get("fullname")
        model = fullname.strip() if isinstance(fullname, str) else fullname
        submitted, public = row.get("Submission Date"), row.get("Available on the hub")
        return LeaderboardEntryItem(
            board=self.board,
            model=model,
            url=f"{HF_WEB}/{model}" if isinstance(model, str) and model else None,
            org=self.model_orgs.of_hub_repo(model),
            score=number(row.get("Average ⬆️")),
            params=number(row.get("#Params (B)")),
            scores={b: v for b in self.benchmarks if (v := number(row.get(b))) is not None},
            evaluated_at=submitted if isinstance(submitted, str) else None,
            public=public if isinstance(public, bool) else None,
        )
