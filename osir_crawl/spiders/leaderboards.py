"""Leaderboards into ``leaderboard_entries``: ``opencompass_vlm`` (the OpenVLM.json results
file), ``open_llm_leaderboard`` (the ``open-llm-leaderboard/contents`` dataset, read through the
dataset viewer's ``/rows`` pages) and ``opencompass_llm`` (a JavaScript page, rendered in
Chromium; see :class:`OpencompassLlmSpider`).

Each board is read whole, then ranked by score (1 = best, ties share a rank) and yielded, so a
rank is the model's place on the board even when ``-a orgs=`` keeps only some organisations'
entries. Models are attributed to organisations by the registry account in their URL or name
(``huggingface.co/Qwen/…``, ``Qwen/Qwen2.5-72B``), else by ``data/model_name_orgs.yaml``
(longest matching name prefix); an entry nobody claims keeps org NULL and is counted in the
stats (``osir/leaderboard/unattributed``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import yaml

from osir_crawl.items import LeaderboardEntryItem, RequestFailure
from osir_crawl.spiders._base import OsirSpider
from osir_crawl.spiders._board import BoardRules, parse_date
from osir_crawl.spiders._browser import BrowserSpider

HF_WEB = "https://huggingface.co"
ACCOUNT_HOSTS = {"huggingface.co": "huggingface", "hf.co": "huggingface", "github.com": "github",
                 "modelscope.cn": "modelscope", "www.modelscope.cn": "modelscope",
                 "gitee.com": "gitee", "gitcode.com": "gitcode"}


class ModelOrgs:
    """Model -> organisation: registry accounts first, then name prefixes."""

    def __init__(self, registry, path: str | None):
        self.registry = registry
        self.prefixes: list[tuple[str, str]] = []
        if path and Path(path).exists():
            with open(path, encoding="utf-8") as fh:
                raw = yaml.safe_load(fh) or {}
            unknown = sorted({o for o in raw.values() if o not in registry.orgs})
            if not isinstance(raw, dict) or unknown:
                raise SystemExit(f"osir-crawl: {path}: orgs not in the registry: {unknown}")
            self.prefixes = sorted(((str(p).casefold(), o) for p, o in raw.items()),
                                   key=lambda p: -len(p[0]))

    def of(self, model: str, url: str | None = None, account: tuple[str, str] | None = None,
           by_name: bool = True) -> str | None:
        for platform, name in filter(None, [account, account_in_url(url)]):
            if org := self.registry.org_of(platform, name):
                return org
        if by_name:
            folded = model.casefold()
            for prefix, org in self.prefixes:
                if folded.startswith(prefix):
                    return org
        return None


def account_in_url(url) -> tuple[str, str] | None:
    """(platform, account) of a model page URL: ``https://huggingface.co/OpenGVLab/X``."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    platform = ACCOUNT_HOSTS.get((parts.hostname or "").lower())
    segments = [s for s in parts.path.split("/") if s]
    if platform == "modelscope" and segments[:1] == ["models"]:
        segments = segments[1:]
    if platform and len(segments) >= 2 and segments[0] not in ("datasets", "spaces"):
        return platform, segments[0]
    return None


def number(value) -> float | None:
    """A finite float from a JSON number or numeric string ("78.4"); None for "-", "N/A", …"""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class LeaderboardSpider(OsirSpider):
    item_class = LeaderboardEntryItem
    board = ""

    def configure(self, settings):
        super().configure(settings)
        self.model_orgs = ModelOrgs(self.registry, settings.get("OSIR_MODEL_ORGS",
                                                                "data/model_name_orgs.yaml"))

    def store_scope(self):
        scope = {"board": self.board}
        if self.orgs_arg:  # a partial crawl replaces only the selected orgs' entries
            scope["org"] = self.selected_orgs
        return {self.item_class.TABLE: scope}

    def ranked(self, entries: list[LeaderboardEntryItem]) -> Iterator:
        """Rank by score (ties share the better rank), attribute, keep the selected orgs."""
        scores = sorted((e.score for e in entries if isinstance(e.score, (int, float))),
                        reverse=True)
        first = {}
        for place, score in enumerate(scores, start=1):
            first.setdefault(score, place)
        stats = self.crawler.stats
        for entry in entries:
            if isinstance(entry.score, (int, float)):
                entry.rank = first[entry.score]
            stats.inc_value(f"osir/leaderboard/{'attributed' if entry.org else 'unattributed'}")
            if self.orgs_arg and entry.org not in self.selected_orgs:
                stats.inc_value("osir/leaderboard/other_orgs")
                continue
            yield entry


class OpencompassVlmSpider(BoardRules, LeaderboardSpider):
    """OpenVLM.json: ``{"time": …, "results": {name: {"META": {"Method": [name, url],
    "Param (B)": …, "OpenSource": "Yes"|"No"}, BENCHMARK: {"Overall": …} | number, …}}}``. A
    model's score is the mean of its benchmarks on a 0–100 scale (OCRBench is out of 1000, MME
    out of 2800). ``time`` dates the board; ``META.OpenSource`` says whether a model is public."""

    name = "opencompass_vlm"
    board = "opencompass_vlm"
    endpoint_setting = "OPENCOMPASS_VLM_URL"
    scale = {"OCRBench": 0.1, "MME": 100 / 2800}
    primary = ("Overall", "Final Score", "Acc", "accuracy")

    async def start(self):
        yield self.api_request(self.endpoint, callback=self.parse_results)

    def parse_results(self, response):
        data = self.json_body(response)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, dict):
            yield from self.retry_or_fail(response, "OpenVLM.json has no results object")
            return
        self.crawler.stats.set_value("osir/leaderboard/board_time", str(data.get("time")))
        entries = [self.entry(key, value) for key, value in results.items()]
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


class OpenLlmLeaderboardSpider(BoardRules, LeaderboardSpider):
    """The Open LLM Leaderboard (v2) ``contents`` dataset through the dataset viewer:
    ``/rows?dataset=open-llm-leaderboard/contents&config=default&split=train&offset&length=100``
    pages (``num_rows_total`` gives their number; all pages after the first go out at once).
    One entry per ``fullname`` (a model evaluated in several precisions keeps its best average);
    org = the registry owner of the Hub account in ``fullname``. ``Submission Date`` dates each
    evaluation and the board (its latest; the board was retired in March 2025, so it counts as
    not maintained once that is older than the window); ``Available on the hub`` = public."""

    name = "open_llm_leaderboard"
    board = "open_llm_leaderboard"
    endpoint_setting = "HF_DATASETS_SERVER_URL"
    dataset = "open-llm-leaderboard/contents"
    page_length = 100  # the dataset viewer's maximum
    benchmarks = ("IFEval", "BBH", "MATH Lvl 5", "GPQA", "MUSR", "MMLU-PRO")

    def configure(self, settings):
        super().configure(settings)
        self.entries: dict[str, LeaderboardEntryItem] = {}
        self.pending: set[int] = set()

    async def start(self):
        yield self.page_request(0)

    def page_request(self, offset: int):
        self.pending.add(offset)
        query = urlencode([("dataset", self.dataset), ("config", "default"), ("split", "train"),
                           ("offset", offset), ("length", self.page_length)])
        return self.api_request(f"{self.endpoint}/rows?{query}", callback=self.parse_rows,
                                errback=self.page_failed, cb_kwargs={"offset": offset})

    def parse_rows(self, response, offset: int):
        data = self.json_body(response)
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            for out in self.retry_or_fail(response, "rows page has no rows list"):
                if isinstance(out, RequestFailure):
                    self.pending.discard(offset)
                yield out
            yield from self.finish_if_done()
            return
        for wrapped in data["rows"]:
            row = wrapped.get("row") if isinstance(wrapped, dict) else None
            self.add(row if isinstance(row, dict) else {})
        if offset == 0 and isinstance(total := data.get("num_rows_total"), int):
            self.crawler.stats.set_value("osir/leaderboard/rows_total", total)
            for later in range(self.page_length, total, self.page_length):
                yield self.page_request(later)
        self.pending.discard(offset)
        yield from self.finish_if_done()

    def page_failed(self, failure):
        yield from self.on_failure(failure)
        self.pending.discard(failure.request.cb_kwargs["offset"])
        yield from self.finish_if_done()

    def finish_if_done(self) -> Iterator:
        if not self.pending and self.entries is not None:
            entries, self.entries = list(self.entries.values()), None
            dated = [d for e in entries if (d := parse_date(e.evaluated_at))]
            yield from self.publish(self.board, entries, max(dated, default=None),
                                    f"{HF_WEB}/datasets/{self.dataset}")

    def add(self, row: dict):
        self.crawler.stats.inc_value("osir/leaderboard/rows")
        fullname = row.get("fullname")
        model = fullname.strip() if isinstance(fullname, str) else fullname
        owner = model.split("/")[0] if isinstance(model, str) and "/" in model else None
        entry = LeaderboardEntryItem(
            board=self.board,
            model=model,
            url=f"{HF_WEB}/{model}" if isinstance(model, str) and model else None,
            org=self.model_orgs.of(model, account=("huggingface", owner), by_name=False)
            if owner else None,
            score=number(row.get("Average ⬆️")),
            params=number(row.get("#Params (B)")),
            scores={b: v for b in self.benchmarks if (v := number(row.get(b))) is not None},
            evaluated_at=row.get("Submission Date") if isinstance(row.get("Submission Date"),
                                                                  str) else None,
            public=row.get("Available on the hub")
            if isinstance(row.get("Available on the hub"), bool) else None,
        )
        key = model if isinstance(model, str) and model else f"#{len(self.entries)}"
        kept = self.entries.get(key)
        if kept is not None:
            self.crawler.stats.inc_value("osir/leaderboard/precision_variants")
            if (entry.score or -1) <= (kept.score or -1):
                return
        self.entries[key] = entry


# --- the OpenCompass LLM rank: a JavaScript single-page app ---------------------------------
NAME_KEYS = ("model", "modelName", "model_name", "name", "模型")
SCORE_KEYS = ("average", "avg", "avgScore", "avg_score", "score", "overall", "均分", "平均分")
PARAM_KEYS = ("param", "params", "parameters", "paramSize", "参数量")
SKIP_COLUMNS = ("排名", "rank", "发布日期", "release", "releaseTime", "date", "org", "机构")


def parse_params(text) -> float | None:
    """Billions from "235B", "1.5T", "500M", "72.7" (already billions); None for "-"."""
    if (value := number(text)) is not None:
        return value
    if not isinstance(text, str):
        return None
    t = text.strip().upper().replace(",", "")
    scale = {"T": 1000.0, "B": 1.0, "M": 0.001}.get(t[-1:]) if t else None
    return number(t[:-1]) * scale if scale and number(t[:-1]) is not None else None


def _key(row: dict, keys) -> str | None:
    folded = {str(k).casefold(): k for k in row}
    return next((folded[k.casefold()] for k in keys if k.casefold() in folded), None)


def board_rows(data) -> list[dict]:
    """The longest list of objects that look like board rows (a model name and a score)
    anywhere inside a JSON document."""
    best: list[dict] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            dicts = [x for x in node if isinstance(x, dict)]
            if dicts and all(_key(d, NAME_KEYS) and _key(d, SCORE_KEYS) for d in dicts) \
                    and len(dicts) > len(best):
                best = dicts
            stack.extend(node)
    return best


class OpencompassLlmSpider(LeaderboardSpider, BrowserSpider):
    """rank.opencompass.org.cn/leaderboard-llm, rendered in Chromium. The entries come from the
    JSON the page fetches (any response holding a list of rows with a model name and a score);
    when the page fetched none, from the rendered table (columns 模型 | 参数量 | 均分 | …)."""

    name = "opencompass_llm"
    board = "opencompass_llm"
    endpoint_setting = "OPENCOMPASS_URL"
    page_path = "/leaderboard-llm"
    wait_for = "table"

    async def start(self):
        yield self.browser_request(f"{self.endpoint}{self.page_path}", callback=self.parse_board)

    def parse_board(self, response):
        stats = self.crawler.stats
        rows = max((board_rows(c["data"]) for c in self.captured(response)), key=len, default=[])
        if rows:
            stats.set_value("osir/leaderboard/parsed_from", "json")
            entries = [self.entry_from_json(r, response.url) for r in rows]
        else:
            entries = self.entries_from_table(response)
            stats.set_value("osir/leaderboard/parsed_from", "table" if entries else "nothing")
        if not entries:
            yield from self.retry_or_fail(response, "no leaderboard rows in the page or its JSON")
            return
        yield from self.ranked(entries)

    def entry_from_json(self, row: dict, url: str) -> LeaderboardEntryItem:
        name = row.get(_key(row, NAME_KEYS))
        name = name.strip() if isinstance(name, str) else name
        scores = row.get("scores") if isinstance(row.get("scores"), dict) else {
            k: v for k, v in row.items()
            if k not in (_key(row, SCORE_KEYS), _key(row, PARAM_KEYS), *SKIP_COLUMNS)}
        return LeaderboardEntryItem(
            board=self.board, model=name, url=url,
            org=self.model_orgs.of(name) if isinstance(name, str) else None,
            score=number(row.get(_key(row, SCORE_KEYS))),
            params=parse_params(row.get(_key(row, PARAM_KEYS))),
            scores={str(k): n for k, v in scores.items() if (n := number(v)) is not None},
        )

    def entries_from_table(self, response) -> list[LeaderboardEntryItem]:
        for table in response.css("table"):
            heads = [" ".join(h.css("::text").getall()).strip() for h in table.css("thead th")]
            if not heads:
                heads = [" ".join(c.css("::text").getall()).strip()
                         for c in table.css("tr:first-child > *")]
            row = dict.fromkeys(heads)
            name_col, score_col = _key(row, NAME_KEYS), _key(row, SCORE_KEYS)
            if not (name_col and score_col):
                continue
            param_col = _key(row, PARAM_KEYS)
            entries = []
            for tr in table.css("tbody tr") or table.css("tr")[1:]:
                cells = [" ".join(td.css("::text").getall()).strip() for td in tr.css("td")]
                values = dict(zip(heads, cells))
                skip = {name_col, score_col, param_col, *SKIP_COLUMNS}
                entries.append(self.entry_from_json(
                    {"model": values.get(name_col), "average": values.get(score_col),
                     "param": values.get(param_col),
                     "scores": {k: v for k, v in values.items() if k not in skip}},
                    response.url))
            return entries
        return []
