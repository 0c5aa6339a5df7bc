"""``scrapy crawlall --check``: one small real request per host a crawl will ask, before a
monthly crawl.

The checks come from the spiders, not from a list kept here: every spider ``scrapy crawlall``
runs declares, in its classmethod ``live_checks()``, the first request it makes to each host it
crawls (its listing, one row, for the first registry account of its platform), as
:class:`Check`s (declared beside the spiders, osir_crawl/spiders/_live_check.py);
:func:`spider_checks` collects them from the spider loader with crawlall's own exclusions. A
spider crawlall runs that declares none is a row of its own ("no live check"), which fails the
check. Each request is sent with the configured endpoint and token (the token in
the header or query parameter its platform documents, to that platform's host only). The table
says, per platform: did the host answer; was the token accepted (or is the platform used
anonymously); which of the fields the spider reads came back; which rate-limit headers came
with the answer. Below it, per platform, the fields the answer carried that the spider does
not read (new fields show up before they are needed). Browser-rendered sources (OpenDataLab's
listing, ModelScope's community tab) and hosts whose first answer is not a row are checked for
an answer only.

The request is :func:`osir_crawl.ops.reachability.probe` (the preflight of ``scrapy crawlall``),
here with the spider's method, headers and body: an unreachable host is named with the same
causes (DNS lookup failed, connection refused, …). No Scrapy: the parsing (:func:`inspect`) is
tested offline against the fakes and the recorded answers.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import yaml

from osir_crawl.middlewares import TOKEN_PLATFORMS, with_param
from osir_crawl.middlewares.rate_limits import secondary_limit
from osir_crawl.ops.reachability import Endpoint, probe
from osir_crawl.ops.text_tables import table_lines
from osir_crawl.spiders._live_check import Check

RATE_LIMIT_HEADERS = ("ratelimit", "ratelimit-policy", "x-ratelimit-limit",
                      "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after")


def spider_checks(settings) -> list[tuple[str, Check | None]]:
    """(spider, check) for every check of every spider ``scrapy crawlall`` runs, in spider
    order, each (host, path) once; (spider, None) for a spider that declares none."""
    from scrapy.spiderloader import get_spider_loader

    from osir_crawl.spiders import monthly_spiders

    loader = get_spider_loader(settings)
    found, seen = [], set()
    for name in monthly_spiders(loader):
        checks = getattr(loader.load(name), "live_checks", lambda: ())()
        if not checks:
            found.append((name, None))
        for check in checks:
            key = (check.endpoint_setting, check.path, check.method)
            if key not in seen:
                seen.add(key)
                found.append((name, check))
    return found


@dataclass
class Result:
    platform: str
    url: str  # as sent, without a query token
    reachable: bool = False
    status: int | None = None
    error: str = ""
    auth: str = ""  # "token accepted" | "token refused" | "anonymous" | "refused (no token)"
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # optional fields this row lacks
    unread: list[str] = field(default_factory=list)  # fields the answer sent, the spider ignores
    no_rows: bool = False  # the listing was empty: no row to check the fields on
    redirect: str = ""  # where a 3xx answer points (the spider follows it; the check does not)
    rate_limit: dict[str, str] = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0

    answer_only: bool = False

    @property
    def ok(self) -> bool:
        if self.answer_only:
            return self.reachable
        return self.reachable and self.status is not None and self.status < 300 \
            and not self.missing and "refused" not in self.auth


def inspect(check: Check, status: int, headers: dict[str, str], body: bytes,
            token_sent: bool) -> dict:
    """What an answer says: auth verdict, fields present and missing, rate-limit headers."""
    lower = {k.lower(): v for k, v in headers.items()}
    seen = {k: lower[k] for k in RATE_LIMIT_HEADERS if k in lower}
    limited = status == 403 and (lower.get("x-ratelimit-remaining") == "0"
                                 or secondary_limit(status, body))
    refused = status in (401, 403) and not limited
    auth = ("token refused" if refused else "token accepted") if token_sent else (
        "refused (no token)" if refused else "anonymous")
    found = {"auth": auth, "present": [], "missing": [], "absent": [], "unread": [],
             "no_rows": False,
             "rate_limit": seen, "redirect": lower.get("location", "") if 300 <= status < 400
             else ""}
    if status >= 300 or not check.fields:
        return found
    row = first_row(body, check.rows, check.format)
    if row == "empty":
        found["no_rows"] = True
    else:
        row = row if isinstance(row, dict) else {}
        found["present"] = [f for f in check.fields if f in row]
        lacking = [f for f in check.fields if f not in row]
        found["missing"] = [f for f in lacking if f not in check.optional]
        found["absent"] = [f for f in lacking if f in check.optional]
        if not check.every_column_read:
            read = set(check.fields) | set(check.optional)
            found["unread"] = sorted(str(k) for k in row if k not in read)
    return found


def first_row(body: bytes, path: tuple, form: str = "json"):
    """The first row under ``path`` in a JSON (or YAML) body, or a CSV's first line as a
    mapping of its header; "empty" for an empty list; None if the body cannot be read or the
    path is not there."""
    try:
        if form == "csv":
            return next(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))), "empty")
        node = yaml.safe_load(body) if form == "yaml" else json.loads(body)
    except (ValueError, UnicodeDecodeError, yaml.YAMLError):
        return None
    for key in path:
        if key == "*":
            node = list(node.values()) if isinstance(node, dict) else None
        elif isinstance(key, int):
            node = node[key] if isinstance(node, list) and len(node) > key else None
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    if isinstance(node, list):
        return node[0] if node else "empty"
    return node


def sample_account(check: Check, registry) -> str | None:
    if not check.account_platform or registry is None:
        return None
    accounts = registry.accounts_on(check.account_platform)
    return accounts[0].name if accounts else None


def run_check(check: Check, settings, registry=None, timeout: float = 15.0) -> Result:
    base = (settings.get(check.endpoint_setting) or "").rstrip("/")
    account = sample_account(check, registry)
    if "{account}" in check.path and not account:
        return Result(check.platform, base, note="no registry account to check with")
    url = base + check.path.format(account=quote(account or "", safe=""))
    result = Result(check.platform, url, note=check.note, answer_only=check.answer_only)
    token = settings.get(check.token) if check.token else None
    headers = {"Accept": check.accept, "User-Agent": settings.get("USER_AGENT") or ""}
    sent = url
    if token:
        scheme = TOKEN_PLATFORMS[check.token][1]
        if scheme.startswith("?"):
            sent = with_param(url, scheme[1:], token)
        else:
            headers["Authorization"] = f"{scheme} {token}"
    data = None
    if check.body is not None:
        data, headers["Content-Type"] = json.dumps(check.body).encode(), "application/json"
    answer = probe(Endpoint(check.platform, check.endpoint_setting, sent), timeout,
                   check.method, headers, data)
    result.seconds = answer.seconds
    if not answer.reachable:
        result.error = f"{answer.cause}" + (f": {answer.detail}" if answer.detail else "")
        if token:
            result.error = result.error.replace(token, "***")
        return result
    result.reachable, result.status = True, answer.status
    for key, value in inspect(check, answer.status, answer.headers, answer.body,
                              bool(token)).items():
        setattr(result, key, value)
    return result


def run_checks(settings, registry=None, only: set[str] | None = None) -> list[Result]:
    """Every spider's checks (``only``: these platforms); a spider without one is a failed
    row, so a new spider cannot be crawled unchecked."""
    results = []
    for spider, check in spider_checks(settings):
        if check is None:
            results.append(Result(spider, "", note=f"{spider} declares no live check"))
        elif only is None or check.platform in only:
            results.append(run_check(check, settings, registry))
    return results


def table(results: list[Result]) -> str:
    """A plain-text table, one line per platform, then the notes."""
    head = ("platform", "reachable", "authenticated", "fields the spider reads",
            "rate-limit headers")
    lines = []
    for r in results:
        reach = f"yes (HTTP {r.status})" if r.reachable else f"no ({r.error or r.note})"
        if r.redirect:
            fields = f"redirected to {r.redirect}: set the endpoint to it"
        elif not r.reachable or r.status >= 400:
            fields = "-"
        elif r.missing:
            fields = f"MISSING {', '.join(r.missing)}" + (
                f" ({len(r.present)} present)" if r.present else "")
        elif r.no_rows:
            fields = "no rows to check"
        elif r.present:
            fields = f"all {len(r.present)} present" if not r.absent else (
                f"{len(r.present)} present; this row has no {', '.join(r.absent)} (optional)")
        else:
            fields = "not checked"
        limits = ", ".join(f"{k}: {v}" for k, v in r.rate_limit.items()) or "none"
        lines.append((r.platform, reach, r.auth or "-", fields, limits))
    out = table_lines(head, lines, markdown=False)
    notes = [f"{r.platform}: {r.note} ({host(r.url)})" for r in results if r.note]
    unread = [f"{r.platform}: {', '.join(r.unread)}" for r in results if r.unread]
    return "\n".join(out + ([""] + notes if notes else [])
                     + (["", "fields the answer carried that the spider does not read:", *unread]
                        if unread else []))


def host(url: str) -> str:
    return urlsplit(url).netloc or url


def main(settings) -> int:
    """Print the table; 0 when every platform answered, accepted its token (or needs none)
    and served every field the spider reads, else 1."""
    from osir_crawl.inputs.registry import RegistryError, load_registry

    try:
        registry = load_registry(settings.get("OSIR_ORGS"))
    except RegistryError as exc:
        print(f"osir-crawl: {exc}")
        return 2
    results = run_checks(settings, registry)
    print(table(results), flush=True)
    bad = [r.platform for r in results if not r.ok]
    print(f"\n{len(results) - len(bad)} of {len(results)} platforms ready"
          + (f"; check {', '.join(bad)}" if bad else ""), flush=True)
    return 1 if bad else 0
