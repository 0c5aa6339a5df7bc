"""The site's tables: each a frame of plain values (what the CSV and Parquet downloads hold,
under machine column names) and how to show its columns (headings in both languages, number
formats, links). :func:`view` turns one into header rows and cells for the templates.

Column kinds: ``org`` (links to the organisation's page), ``month`` (links to a month's page
the table says), ``rank``, ``delta`` (▲3 / ▼2 / = / new), ``score`` (3 decimals), ``number``
(thousands separated), ``change`` (+/−, thousands separated), ``share`` (percent), ``dimension``, ``indicator`` (its label),
``kind`` (evidence kind), ``source`` (addresses in it become links), ``date``, ``text``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import pandas as pd

from .i18n import LANGUAGES, dimension_name, indicator_label, word

URL = re.compile(r"https?://[^\s()<>\"']+[^\s()<>\"'.,;:]")
NUMERIC = ("rank", "delta", "score", "number", "change", "share")


@dataclass
class Column:
    key: str
    kind: str = "text"
    heading: dict | None = None  # {lang: text}; default: the word for ``key``
    group: dict | None = None  # {lang: text}: an upper header spanning like neighbours
    only: str | None = None  # shown in this language only (the download keeps it)

    def title(self, lang):
        return (self.heading or {}).get(lang) or word(self.key, lang)


@dataclass
class Table:
    stem: str  # downloads/<stem>.csv and .parquet
    frame: pd.DataFrame
    columns: list
    caption: dict = field(default_factory=dict)  # {lang: text}, for the downloads page
    dimension: str | None = None  # the dimension its indicator cells belong to
    _records: list | None = field(default=None, repr=False)

    def records(self) -> list[dict]:
        if self._records is None:
            self._records = self.frame.to_dict("records")
        return self._records


def headings(lang, texts: dict | None = None, key=None) -> dict:
    return {lang: (texts or {}).get(lang) or word(key, lang) for lang in LANGUAGES}


def view(table: Table, lang: str, links, where=None) -> dict:
    """{"head": [[{text, span, rows, cls}]], "body": [[(cls, note, [(text, href)])]]}.
    ``links``: an object with ``org(name)`` and ``month(snapshot)`` giving hrefs (or None),
    and ``labels`` (data/indicators.yaml); ``where``: {column: value} keeps those rows only."""
    columns = [c for c in table.columns if c.only in (None, lang)]
    grouped = any(c.group for c in columns)
    top, second = [], []
    for c in columns:
        cls = "num" if c.kind in NUMERIC else ""
        if not grouped:
            top.append({"text": c.title(lang), "span": 1, "rows": 1, "cls": cls})
        elif not c.group:
            top.append({"text": c.title(lang), "span": 1, "rows": 2, "cls": cls})
        else:
            group = c.group.get(lang, "")
            if top and top[-1].get("group") == group:
                top[-1]["span"] += 1
            else:
                top.append({"text": group, "group": group, "span": 1, "rows": 1, "cls": "group"})
            second.append({"text": c.title(lang), "span": 1, "rows": 1, "cls": cls})
    body = []
    for record in table.records():
        if where and any(record.get(k) != v for k, v in where.items()):
            continue
        row = []
        for c in columns:  # tuples: the template unpacks them (no attribute look-ups per cell)
            shown = cell(c, record.get(c.key), record, table, lang, links)
            row.append((shown["cls"], shown.get("note"), shown["parts"]))
        body.append(row)
    return {"head": [top, second] if grouped else [top], "body": body}


def cell(column: Column, value, record, table, lang, links) -> dict:
    kind, missing = column.kind, _missing(value)
    cls = "num" if kind in NUMERIC else ""
    if kind == "delta":
        if missing and record.get("_compared") is False:  # a store's first month: no change
            return {"parts": [("–", None)], "cls": "num none"}
        return {"parts": [(delta_text(value, lang), None)], "cls": f"num {delta_class(value)}"}
    if missing:
        return {"parts": [("–", None)], "cls": cls + " none"}
    if kind == "org":
        return {"parts": [(str(value), links.org(value))], "cls": "org"}
    if kind == "month":
        return {"parts": [(str(value), links.month(value, record))], "cls": "date"}
    if kind == "date":
        return {"parts": [(str(value), None)], "cls": "date"}
    if kind == "rank":
        return {"parts": [(str(int(value)), None)], "cls": cls}
    if kind == "score":
        return {"parts": [(f"{value:.3f}", None)], "cls": cls}
    if kind == "share":
        return {"parts": [(f"{100 * value:.1f}%", None)], "cls": cls}
    if kind == "number":
        return {"parts": [(number(value), None)], "cls": cls}
    if kind == "change":
        text = number(value)
        return {"parts": [(text if value <= 0 else f"+{text}", None)],
                "cls": f"{cls} {delta_class(value) if value else 'same'}"}
    if kind == "dimension":
        return {"parts": [(dimension_name(str(value), lang), None)], "cls": ""}
    if kind == "indicator":
        dim = record.get("dimension") or table.dimension or ""
        group, label = indicator_label(links.labels, dim, str(value), lang)
        return {"parts": [(label, None)], "cls": "", "note": str(value)}
    if kind == "kind":
        return {"parts": [(word(str(value), lang), None)], "cls": f"kind kind-{value}"}
    if kind == "source":
        return {"parts": linked(str(value)), "cls": "source"}
    if kind == "flags":
        flags = json.loads(value) if isinstance(value, str) else list(value or [])
        return {"parts": [("; ".join(map(str, flags)), None)], "cls": "flags"}
    return {"parts": [(str(value), None)], "cls": ""}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def number(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{int(value):,}"


def delta_text(value, lang) -> str:
    if _missing(value):
        return word("new", lang)
    value = int(value)
    return f"▲{value}" if value > 0 else f"▼{-value}" if value < 0 else "="


def delta_class(value) -> str:
    if _missing(value):
        return "new"
    return "up" if value > 0 else "down" if value < 0 else "same"


def linked(text: str) -> list:
    """The text in pieces, each address in it a link: [(text, href or None)]."""
    parts, at = [], 0
    for match in URL.finditer(text):
        if match.start() > at:
            parts.append((text[at:match.start()], None))
        parts.append((match.group(), match.group()))
        at = match.end()
    if at < len(text):
        parts.append((text[at:], None))
    return parts


def for_download(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns Parquet can type: numbers as numbers, anything else as text; ``_`` columns
    (hints for the pages, such as ``_compared``: the month has one before it) left out."""
    out = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
    for name in out.columns:
        column = out[name]
        if column.dtype != object:
            continue
        values = [v for v in column if not _missing(v)]
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                          for v in values):
            out[name] = pd.to_numeric(column)
        else:
            out[name] = column.astype("string")
    return out
