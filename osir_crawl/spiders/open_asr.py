"""Hugging Face's Open ASR Leaderboard: ``open_asr_leaderboard``, from the results the
leaderboard's repository keeps (``huggingface/open_asr_leaderboard``,
``scripts/data/en_shortform.csv``: ``model, Avg. WER, RTFx, Model size (B), License
("Open"|"Proprietary"), <dataset> WER…``), read through the GitHub REST API: the file with the
raw media type, and the date of the last commit touching ``scripts/data`` (the board's update).
The board gives no per-model evaluation date. Rank 1 is the lowest average WER. The
published CSV writes -1 where a value is unknown (proprietary APIs' ``RTFx`` and ``Model size
(B)``): such a size is NULL, counted (``osir/null/params/minus_one_unknown``), not -1 billion.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote, urlencode

from osir_crawl.items import LeaderboardEntryItem
from osir_crawl.parsing import number
from osir_crawl.spiders._board import HF_WEB, BoardSpider
from osir_crawl.spiders._live_check import Check

GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class OpenAsrLeaderboardSpider(BoardSpider):
    name = "open_asr_leaderboard"
    board = "open_asr_leaderboard"
    endpoint_setting = "GITHUB_API_URL"
    repo = "huggingface/open_asr_leaderboard"
    folder = "scripts/data"
    results = "scripts/data/en_shortform.csv"
    lower_is_better = True

    @classmethod
    def live_checks(cls):  # the results file; every "<dataset> WER" column is a score
        return (Check("open_asr_leaderboard", cls.endpoint_setting,
                      f"/repos/{cls.repo}/contents/{quote(cls.results)}",
                      accept="application/vnd.github.raw+json", format="csv",
                      fields=("model", "Avg. WER", "Model size (B)", "License"),
                      every_column_read=True),)

    async def start(self):
        query = urlencode([("path", self.folder), ("per_page", 1)])
        yield self.api_request(f"{self.endpoint}/repos/{self.repo}/commits?{query}",
                               callback=self.parse_commits, headers=GITHUB_HEADERS)

    def parse_commits(self, response):
        commits = self.json_body(response)
        if not isinstance(commits, list):
            yield from self.retry_or_fail(response, "commits is not a list")
            return
        commit = commits[0].get("commit") if commits and isinstance(commits[0], dict) else None
        date = (commit or {}).get("committer", {}).get("date") if isinstance(commit, dict) \
            else None
        url = f"{self.endpoint}/repos/{self.repo}/contents/{quote(self.results)}"
        yield self.api_request(url, callback=self.parse_results, cb_kwargs={"updated": date},
                               headers={**GITHUB_HEADERS,
                                        "Accept": "application/vnd.github.raw+json"})

    def parse_results(self, response, updated):
        text = response.text if hasattr(response, "text") else ""
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or "model" not in rows[0]:
            yield from self.retry_or_fail(response, "results CSV has no model column")
            return
        entries = [self.entry(row) for row in rows]
        yield from self.publish(self.board, entries, updated,
                                f"https://github.com/{self.repo}/blob/main/{self.results}")

    def entry(self, row: dict) -> LeaderboardEntryItem:
        model = (row.get("model") or "").strip()
        on_hub = "/" in model and model.split("/")[0]  # a Hub repo id: owner/name
        licence = (row.get("License") or "").strip().casefold()
        return LeaderboardEntryItem(
            board=self.board, model=model,
            url=f"{HF_WEB}/{model}" if on_hub else f"https://github.com/{self.repo}",
            org=self.model_orgs.of_hub_repo(model),
            score=number(row.get("Avg. WER")),
            params=self.size(row),
            public={"open": True, "proprietary": False}.get(licence),
            scores={k: v for k, raw in row.items() if k and k.endswith("WER")
                    and k != "Avg. WER" and (v := number(raw)) is not None},
        )

    def size(self, row: dict) -> float | None:
        size = number(row.get("Model size (B)"))
        if size is not None and size < 0:
            return self.unsent("params", "minus_one_unknown")
        return size
