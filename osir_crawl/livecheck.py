"""``scrapy crawlall --check``: one small real request per platform, before a monthly crawl.

Each :class:`Check` is the request a spider makes first (its listing, one row, for the first
registry account of that platform), sent with the configured endpoint and token (the token in
the header or query parameter its platform documents, to that platform's host only). The table
says, per platform: did the host answer; was the token accepted (or is the platform used
anonymously); which of the fields the spider reads came back; which rate-limit headers came
with the answer. Browser-rendered sources (OpenDataLab's listing, ModelScope's community tab)
are checked for an answer only: their fields are in a rendered page.

The request is :func:`osir_crawl.reachability.probe` (the preflight of ``scrapy crawlall``),
here with the spider's method, headers and body: an unreachable host is named with the same
causes (DNS lookup failed, connection refused, …). No Scrapy: the parsing (:func:`inspect`) is
tested offline against the fakes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from osir_crawl.middlewares import TOKEN_PLATFORMS, with_param
from osir_crawl.reachability import Endpoint, probe
from osir_crawl.spiders.huggingface import MODEL_EXPAND
from osir_crawl.text_tables import table_lines

RATE_LIMIT_HEADERS = ("ratelimit", "ratelimit-policy", "x-ratelimit-limit",
                      "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after")
FORGE_FIELDS = ("full_name", "html_url", "stargazers_count", "forks_count", "watchers_count",
                "open_issues_count", "license", "fork", "pushed_at")


@dataclass(frozen=True)
class Check:
    """One platform's probe: ``path`` (a format string over the sample account) below the
    endpoint setting's URL, the JSON path to the first row, and the fields the spider reads."""

    platform: str
    endpoint_setting: str
    path: str
    rows: tuple = ()  # keys from the body to the list of rows ("*" : the values of a mapping)
    fields: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # fields a given repo may lack (no config.json, no task)
    token_setting: str | None = None
    method: str = "GET"
    body: dict | None = None
    account_platform: str | None = None  # registry key of the sample account (None: none)
    note: str = ""


CHECKS = (
    Check("huggingface", "HF_ENDPOINT",
          "/api/models?author={account}&limit=1&"
          + urlencode([("expand[]", e) for e in MODEL_EXPAND]),
          fields=("id",) + MODEL_EXPAND, token_setting="HF_TOKEN",
          optional=("pipeline_tag", "library_name", "safetensors", "config"),
          account_platform="huggingface"),
    Check("modelscope", "MODELSCOPE_ENDPOINT",
          "/openapi/v1/models?owner={account}&page_number=1&page_size=1",
          rows=("data", "models"), fields=("id", "downloads", "likes", "tasks", "tags",
                                           "created_at", "last_modified", "params"),
          token_setting="MODELSCOPE_API_TOKEN", account_platform="modelscope",
          note="community counts come from rendered pages (not checked)"),
    Check("github", "GITHUB_API_URL", "/orgs/{account}/repos?type=public&per_page=1",
          fields=FORGE_FIELDS + ("language", "archived"), token_setting="GITHUB_TOKEN",
          account_platform="github"),
    Check("gitee", "GITEE_API_URL", "/orgs/{account}/repos?type=public&page=1&per_page=1",
          fields=FORGE_FIELDS + ("language",), token_setting="GITEE_TOKEN",
          account_platform="gitee"),
    Check("gitcode", "GITCODE_API_URL", "/orgs/{account}/repos?type=public&page=1&per_page=1",
          fields=FORGE_FIELDS, token_setting="GITCODE_TOKEN", account_platform="gitcode"),
    Check("openi", "OPENI_ENDPOINT", "/api/v1/orgs/{account}/repos?page=1&limit=1",
          fields=("full_name", "html_url", "stars_count", "forks_count", "watchers_count",
                  "open_issues_count", "fork", "mirror", "updated_at"),
          token_setting="OPENI_TOKEN", account_platform="openi"),
    Check("opendatalab", "OPENDATALAB_URL", "/", account_platform=None,
          note="listing rendered in Chromium: fields not checked"),
    Check("baai_data", "BAAI_DATA_URL", "/api/datahub/search/v1/getAllDataset", method="POST",
          body={"limit": 1, "offset": 0, "datasetName": "", "startTime": None,
                "endTime": None, "orderBy": "5"},
          rows=("data", "list"), fields=("uriName", "downloadNumb", "subscribedNumb",
                                         "createTime", "updateTime", "tags"),
          note="a refusal sends the crawl to the page (Chromium)"),
    Check("opencompass_llm", "OPENCOMPASS_LLM_URL", "", rows=("OverallTable",),
          fields=("model", "Average", "para_num")),
    Check("opencompass_vlm", "OPENCOMPASS_VLM_URL", "", rows=("results", "*"),
          fields=("META",)),
    Check("open_llm_leaderboard", "HF_DATASETS_SERVER_URL",
          "/rows?dataset=open-llm-leaderboard%2Fcontents&config=default&split=train"
          "&offset=0&length=1", rows=("rows",), fields=("row",)),
)


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
    no_rows: bool = False  # the listing was empty: no row to check the fields on
    redirect: str = ""  # where a 3xx answer points (the spider follows it; the check does not)
    rate_limit: dict[str, str] = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.reachable and self.status is not None and self.status < 300 \
            and not self.missing and "refused" not in self.auth


def inspect(check: Check, status: int, headers: dict[str, str], body: bytes,
            token_sent: bool) -> dict:
    """What an answer says: auth verdict, fields present and missing, rate-limit headers."""
    lower = {k.lower(): v for k, v in headers.items()}
    seen = {k: lower[k] for k in RATE_LIMIT_HEADERS if k in lower}
    refused = status in (401, 403) and not (status == 403 and lower.get(
        "x-ratelimit-remaining") == "0")
    auth = ("token refused" if refused else "token accepted") if token_sent else (
        "refused (no token)" if refused else "anonymous")
    found = {"auth": auth, "present": [], "missing": [], "absent": [], "no_rows": False,
             "rate_limit": seen, "redirect": lower.get("location", "") if 300 <= status < 400
             else ""}
    if status >= 300 or not check.fields:
        return found
    row = first_row(body, check.rows)
    if row == "empty":
        found["no_rows"] = True
    else:
        row = row if isinstance(row, dict) else {}
        found["present"] = [f for f in check.fields if f in row]
        lacking = [f for f in check.fields if f not in row]
        found["missing"] = [f for f in lacking if f not in check.optional]
        found["absent"] = [f for f in lacking if f in check.optional]
    return found


def first_row(body: bytes, path: tuple):
    """The first row under ``path`` in a JSON body; "empty" for an empty list; None if the
    body is not JSON or the path is not there."""
    try:
        node = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    for key in path:
        if key == "*":
            node = list(node.values()) if isinstance(node, dict) else None
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
    result = Result(check.platform, url, note=check.note)
    token = settings.get(check.token_setting) if check.token_setting else None
    headers = {"Accept": "application/json", "User-Agent": settings.get("USER_AGENT") or ""}
    sent = url
    if token:
        scheme = TOKEN_PLATFORMS[check.token_setting][1]
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
    return [run_check(c, settings, registry) for c in CHECKS
            if only is None or c.platform in only]


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
    return "\n".join(out + ([""] + notes if notes else []))


def host(url: str) -> str:
    return urlsplit(url).netloc or url


def main(settings) -> int:
    """Print the table; 0 when every platform answered, accepted its token (or needs none)
    and served every field the spider reads, else 1."""
    from osir_crawl.registry import RegistryError, load_registry

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
