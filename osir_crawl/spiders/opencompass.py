"""OpenCompass's boards into ``leaderboard_entries``: ``opencompass_vlm`` (the OpenVLM.json
results file) and ``opencompass_llm`` (the static JSON the CompassRank page loads; the page
itself, in Chromium, when that file moved; see :class:`OpencompassLlmSpider`). The family's
attribution, ranking and rules: spiders/_board.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from scrapy.spidermiddlewares.httperror import HttpError

from osir_crawl.items import LeaderboardEntryItem
from osir_crawl.parsing import alias_key, html_table, json_lists, number, parse_date, parse_params
from osir_crawl.spiders._board import BoardSpider
from osir_crawl.spiders._browser import BrowserSpider
from osir_crawl.spiders._live_check import Check

# CompassRank's files and page name their columns in several ways (English, Chinese).
NAME_KEYS = ("model", "modelName", "model_name", "name", "模型")
SCORE_KEYS = ("Average", "average", "avg", "avgScore", "avg_score", "score", "overall", "均分",
              "平均分")
PARAM_KEYS = ("para_num", "param", "params", "parameters", "paramSize", "参数量")
SKIP_COLUMNS = ("排名", "rank", "发布日期", "release", "releaseTime", "date", "org", "机构",
                "update_date", "rank_change", "open_source", "chat_or_base")
OVERALL_TABLE = "OverallTable"  # the CompassRank file's board of all abilities
OPEN_SOURCE = {"yes": True, "no": False}  # the file's open_source flag (absent: the board is silent)


def overall_rows(data) -> list[dict] | None:
    """The rows of a CompassRank file's ``OverallTable`` that name a model; None without one."""
    table = data.get(OVERALL_TABLE) if isinstance(data, dict) else None
    if not isinstance(table, list) or not table:
        return None
    return [r for r in table if isinstance(r, dict) and alias_key(r, NAME_KEYS)]


def board_rows(data) -> list[dict]:
    """The longest list of objects that look like board rows (a model name and a score)
    anywhere inside a JSON document."""
    best: list[dict] = []
    for node, _ in json_lists(data):
        rows = [x for x in node if isinstance(x, dict)]
        if len(rows) > len(best) and all(alias_key(r, NAME_KEYS) and alias_key(r, SCORE_KEYS)
                                         for r in rows):
            best = rows
    return best


class OpencompassVlmSpider(BoardSpider):
    """OpenVLM.json: ``{"time": …, "results": {name: {"META": {"Method": [name, url],
    "Param (B)": …, "OpenSource": "Yes"|"No"}, BENCHMARK: {"Overall": …} | number, …}}}``. A
    model's score is the mean of its benchmarks on a 0–100 scale (OCRBench is out of 1000, MME
    out of 2800). ``time`` dates the board; ``META.OpenSource`` says whether a model is public."""

    name = "opencompass_vlm"
    board = "opencompass_vlm"
    endpoint_setting = "OPENCOMPASS_VLM_URL"

    @classmethod
    def live_checks(cls):  # every benchmark column is a score
        return (Check("opencompass_vlm", cls.endpoint_setting, "", rows=("results", "*"),
                      fields=("META",), every_column_read=True),)
    scale = {"OCRBench": 0.1, "MME": 100 / 2800}
    primary = ("Overall", "Final Score", "Acc", "accuracy")

    async def start(self):
        yield self.api_request(self.endpoint, callback=self.parse_results)

    def parse_results(self, response):
        data = self.json_body(response)
        if not (isinstance(data, dict) and isinstance(data.get("results"), dict)):
            yield from self.retry_or_fail(response, "OpenVLM.json has no results object")
            return
        self.crawler.stats.set_value("osir/leaderboard/board_time", str(data.get("time")))
        entries = [self.entry(key, value) for key, value in data["results"].items()]
        yield from self.publish(self.board, entries, data.get("time"), self.endpoint)

    def entry(self, key: str, value) -> LeaderboardEntryItem:
        value = value if isinstance(value, dict) else {}
        meta = value.get("META") if isinstance(value.get("META"), dict) else {}
        method = meta.get("Method")
        name, url = (method + [None, None])[:2] if isinstance(method, list) else (key, None)
        name = name if isinstance(name, str) and name.strip() else key
        scores = {}
        for bench, result in value.items():
            if bench != "META" and (score := self.benchmark_score(result)) is not None:
                scores[bench] = score
        normalised = [s * self.scale.get(b, 1) for b, s in scores.items()]
        return LeaderboardEntryItem(
            board=self.board,
            model=name,
            url=url if isinstance(url, str) and url.startswith("http") else self.endpoint,
            org=self.model_orgs.of(name, url),
            score=round(sum(normalised) / len(normalised), 4) if normalised else None,
            params=number(meta.get("Param (B)")),
            scores=scores,
            public={"yes": True, "no": False}.get(str(meta.get("OpenSource")).strip().casefold()),
        )

    def benchmark_score(self, result) -> float | None:
        if not isinstance(result, dict):
            return number(result)
        for key in self.primary:
            if (value := number(result.get(key))) is not None:
                return value
        return next((v for v in map(number, result.values()) if v is not None), None)


class OpencompassLlmSpider(BoardSpider, BrowserSpider):
    """CompassRank, the OpenCompass LLM board. rank.opencompass.org.cn is a JavaScript app that
    loads its boards as static JSON from OpenCompass's OSS bucket; the spider reads that file,
    ``OPENCOMPASS_LLM_URL`` (``…/assets/llm/data-llm-ability_official.json``): ``{"OverallTable":
    [{model, org, open_source, para_num, date, update_date, Average, Knowledge, …}], …}``;
    score = ``Average``, params from ``para_num``, the other numbers go to ``scores``.

    The file's name has changed before (``assets/large-language-model-data.json``,
    ``assets/llm-rank/llm-data-v2.json``). When it is gone or holds no ``OverallTable``,
    Chromium renders ``{OPENCOMPASS_URL}/leaderboard-llm`` and the entries come from the JSON
    the page fetched (its URL is logged and kept in the stat ``osir/leaderboard/data_url``:
    the new value for OPENCOMPASS_LLM_URL), else from the rendered table (模型 | 参数量 | 均分)."""

    name = "opencompass_llm"
    board = "opencompass_llm"
    endpoint_setting = "OPENCOMPASS_LLM_URL"

    @classmethod
    def live_checks(cls):  # every column but the name, size and dates is a score
        return (Check("opencompass_llm", cls.endpoint_setting, "", rows=("OverallTable",),
                      fields=("model", "Average", "para_num"), every_column_read=True),
                Check("opencompass_page", "OPENCOMPASS_URL", cls.page_path, answer_only=True,
                      accept="text/html", note="the page, read only when the file is gone"))
    page_path = "/leaderboard-llm"
    wait_for = "table"

    def configure(self, settings):
        super().configure(settings)
        self.page_url = settings.get("OPENCOMPASS_URL").rstrip("/") + self.page_path
        if (host := urlsplit(self.page_url).hostname) not in self.allowed_domains:
            self.allowed_domains.append(host)  # the page, for the fallback

    async def start(self):
        yield self.api_request(self.endpoint, callback=self.parse_data,
                               errback=self.data_failed)

    def parse_data(self, response):
        rows = overall_rows(self.json_body(response))
        if rows is None:
            yield from self.fall_back(f"{response.url} has no {OVERALL_TABLE}")
            return
        yield from self.board_entries(rows, response.url, "json")

    def data_failed(self, failure):
        reason = (f"HTTP {failure.value.response.status}" if failure.check(HttpError)
                  else failure.getErrorMessage())
        yield from self.fall_back(f"{failure.request.url}: {reason}")

    def fall_back(self, why: str):
        self.logger.warning("the CompassRank data file is not usable (%s): reading the page",
                            why)
        self.crawler.stats.inc_value("osir/leaderboard/page_fallback")
        yield self.browser_request(self.page_url, callback=self.parse_page)

    def board_entries(self, rows: list[dict], url: str, source: str) -> Iterator:
        stats = self.crawler.stats
        stats.set_value("osir/leaderboard/parsed_from", source)
        stats.set_value("osir/leaderboard/data_url", url)
        dates = sorted(str(r["update_date"]) for r in rows if r.get("update_date"))
        if dates:
            stats.set_value("osir/leaderboard/board_time", dates[-1])
        entries = [self.entry_from_json(r, self.page_url) for r in rows]
        latest = max((d for e in entries if (d := parse_date(e.evaluated_at))), default=None)
        yield from self.publish(self.board, entries, latest, self.page_url)

    def parse_page(self, response):
        for body in self.captured(response):
            if (rows := overall_rows(body["data"])) is not None:
                self.logger.warning("the page loaded its board from %s: set OPENCOMPASS_LLM_URL "
                                    "to it", body["url"])
                yield from self.board_entries(rows, body["url"], "page json")
                return
        rows = max((board_rows(c["data"]) for c in self.captured(response)), key=len, default=[])
        if rows:
            yield from self.board_entries(rows, response.url, "page json")
            return
        entries = self.entries_from_table(response)
        self.crawler.stats.set_value("osir/leaderboard/parsed_from",
                                     "table" if entries else "nothing")
        if not entries:
            yield from self.retry_or_fail(response, "no leaderboard rows in the page or its JSON")
            return
        yield from self.publish(self.board, entries, None, self.page_url)  # the table: no dates

    def entry_from_json(self, row: dict, url: str) -> LeaderboardEntryItem:
        name = row.get(alias_key(row, NAME_KEYS))
        name = name.strip() if isinstance(name, str) else name
        score_key, param_key = alias_key(row, SCORE_KEYS), alias_key(row, PARAM_KEYS)
        scores = row.get("scores") if isinstance(row.get("scores"), dict) else {
            k: v for k, v in row.items() if k not in (score_key, param_key, *SKIP_COLUMNS)}
        return LeaderboardEntryItem(
            board=self.board, model=name, url=url,
            org=self.model_orgs.of(name) if isinstance(name, str) else None,
            score=number(row.get(score_key)),
            params=parse_params(row.get(param_key)),
            scores={str(k): n for k, v in scores.items() if (n := number(v)) is not None},
            evaluated_at=row.get("update_date") or row.get("date"),
            public=OPEN_SOURCE.get(str(row.get("open_source")).strip().casefold()),
        )

    def entries_from_table(self, response) -> list[LeaderboardEntryItem]:
        """The rendered board: the first table with a model and a score column."""
        for table in response.css("table"):
            heads, rows = html_table(table)
            columns = {h: h for h in heads}
            name_col, score_col = alias_key(columns, NAME_KEYS), alias_key(columns, SCORE_KEYS)
            if not (name_col and score_col):
                continue
            param_col = alias_key(columns, PARAM_KEYS)
            skip = {name_col, score_col, param_col, *SKIP_COLUMNS}
            return [self.entry_from_json(
                {"model": row.get(name_col), "average": row.get(score_col),
                 "param": row.get(param_col),
                 "scores": {k: v for k, v in row.items() if k not in skip}},
                response.url) for row in rows]
        return []
