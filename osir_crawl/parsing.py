"""Pure helpers for what spiders read from pages, headers and JSON documents of unknown layout:
counts, numbers, sizes, dates, ``Link`` headers, field aliases, row lists (no Scrapy)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import deque
from collections.abc import Iterator

_SUFFIX = {"k": 10**3, "m": 10**6, "b": 10**9, "w": 10**4, "万": 10**4, "亿": 10**8}
_COUNT = re.compile(r"^([0-9][0-9,]*(?:\.[0-9]+)?)\s*([kmbw万亿]?)\+?$", re.IGNORECASE)
_TOTAL = re.compile(r"([0-9][0-9,]*)\s*数据集")
_DATE = re.compile(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})")
_PARAM = re.compile(r'\s*([^\s=;,]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,]*)))?')


def parse_count(text) -> int | None:
    """A displayed count as an int: "10.3k" -> 10300, "3.1m" -> 3100000, "295,137" -> 295137,
    "1.2万" -> 12000; "-" and "" -> 0 (pages show a dash for none); unreadable -> None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text
    if isinstance(text, float):
        return int(round(text))
    if not isinstance(text, str):
        return None
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    if value in ("", "-", "—", "--"):
        return 0
    match = _COUNT.match(value)
    if not match:
        return None
    number, suffix = match.groups()
    number = number.replace(",", "")
    scale = _SUFFIX.get(suffix.lower(), 1) if suffix else 1
    if "." in number:
        # Decimal arithmetic on the digits avoids 10.3 * 1000 = 10299.999...
        whole, frac = number.split(".")
        return (int(whole) * scale) + (int(frac) * scale) // (10 ** len(frac))
    return int(number) * scale


def parse_total(text: str) -> int | None:
    """The total of a listing page's "1,234 数据集" ("N datasets") text, or None."""
    match = _TOTAL.search(text or "")
    return int(match.group(1).replace(",", "")) if match else None


def number(value) -> float | None:
    """A finite float from a JSON number or numeric string ("78.4"); None for "-", "N/A", …"""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def parse_params(text) -> float | None:
    """Billions of parameters from "235B", "1.5T", "500M", "72.7" (already billions); None
    for "-"."""
    if (value := number(text)) is not None:
        return value
    if not isinstance(text, str):
        return None
    t = text.strip().upper().replace(",", "")
    scale = {"T": 1000.0, "B": 1.0, "M": 0.001}.get(t[-1:]) if t else None
    return number(t[:-1]) * scale if scale and number(t[:-1]) is not None else None


def as_bool(value):
    """A JSON boolean as the service means it: ``true``/``false``, or the integers 1/0 that
    GitCode's documented schema uses for ``fork``, ``private`` and ``public``; anything else
    is returned as given (validation names it)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return value


def parse_date(value) -> dt.date | None:
    """A date from "2025-03-13", "2025-03-13T10:00:00Z", "20250917" or "2025/3/13"."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = _DATE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


# --- JSON of undocumented layout: a field under one of its aliases, the rows of a document ----
def alias_key(row: dict, aliases) -> str | None:
    """The key under which ``row`` holds the first of ``aliases`` (matched case-insensitively)
    that has a value; else the first present but empty (None, ""); else None."""
    folded = {str(k).casefold(): k for k in row}
    present = [folded[a.casefold()] for a in aliases if a.casefold() in folded]
    return next((k for k in present if row[k] not in (None, "")), present[0] if present else None)


def alias_value(row: dict, aliases):
    """The value of the first of ``aliases`` that ``row`` holds (see ``alias_key``), None for
    a missing or empty one."""
    key = alias_key(row, aliases)
    return row[key] if key is not None and row[key] != "" else None


def json_lists(document) -> Iterator[tuple[list, dict | None]]:
    """Every list inside a JSON document, with the object holding it (None for the document
    itself or a list's element), breadth first: an object's own lists before deeper ones."""
    queue = deque([(document, None)])
    while queue:
        node, holder = queue.popleft()
        if isinstance(node, dict):
            queue.extend((value, node) for value in node.values())
        elif isinstance(node, list):
            yield node, holder
            queue.extend((value, None) for value in node)


def html_table(table) -> tuple[list[str], list[dict]]:
    """A rendered ``<table>`` (a parsel selector): its column heads (``thead``, else the first
    row) and its rows as {head: cell text}."""
    heads = [_text(th) for th in table.css("thead th")]
    if not heads:
        heads = [_text(cell) for cell in table.css("tr:first-child > *")]
    body = table.css("tbody tr") or table.css("tr")[1:]
    return heads, [dict(zip(heads, map(_text, tr.css("td")))) for tr in body]


def _text(cell) -> str:
    return " ".join(cell.css("::text").getall()).strip()


def link_rels(header: str) -> dict[str, str]:
    """rel -> URL of an RFC 8288 ``Link`` header. Links are split on the commas outside
    ``<...>`` and outside quoted parameters (a URL or a title may hold commas); a ``rel`` may
    name several relations ("prev start"). The first link of a relation wins."""
    found: dict[str, str] = {}
    for url, params in _links(header or ""):
        for rel in params.get("rel", "").lower().split():
            found.setdefault(rel, url)
    return found


def _links(header: str):
    at = 0
    while (start := header.find("<", at)) >= 0:
        end = header.find(">", start)
        if end < 0:
            return
        url, params, at = header[start + 1:end].strip(), {}, end + 1
        while at < len(header) and header[at] != ",":
            if header[at] == ";":
                at, name, value = _param(header, at + 1)
                if name:
                    params.setdefault(name.lower(), value)
            else:
                at += 1
        yield url, params


def _param(header: str, at: int) -> tuple[int, str, str]:
    """One ``name=value`` or ``name="quoted, value"`` parameter from ``at``; its end."""
    match = _PARAM.match(header, at)
    if not match or not match.group(0):
        return at + 1, "", ""
    value = match.group(2) if match.group(2) is not None else (match.group(3) or "")
    return match.end(), match.group(1), re.sub(r"\\(.)", r"\1", value).strip()
