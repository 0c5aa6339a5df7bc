"""The fault matrix: every API spider against its loopback fake, under each kind of fault.

A *target* says how to build a spider's fake and where its listing pages and detail requests
are; a *case* injects faults into one account's traffic and says whether the crawl should
recover (every record stored or rejected, no failure) or fail (the request recorded in
``failures``, nothing else lost). Cases get an account (and org) each, so one crawl process
runs many of them: a crawl of the recoverable cases must end ``finished``, a crawl of the
failing ones ``incomplete``. The same accounting is asserted for every account:

* nothing invented: every stored row is a record the fake holds, with the fake's numbers;
* nothing lost: every record served is stored or in ``rejects`` (records behind a listing
  page that finally failed may be missing: that failure is recorded);
* every request that finally failed (the fake's last answer to it was a fault) is in
  ``failures``, and ``crawls.failed_requests`` counts them.

A new spider plugs in with a :class:`Target` (see ``HF_TARGETS``).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from w3lib.url import canonicalize_url

from osir_crawl.spiders.huggingface import COMMON_EXPAND, MODEL_EXPAND
from tests.conftest import async_test, rows
from tests.fakes.base import FakeAPI
from tests.fakes.huggingface import FakeHuggingFace, HubData

pytestmark = pytest.mark.slow  # timeouts, rate-limit windows and retries, waited out


PAGE = 5  # page size every target is crawled with
PER_ACCOUNT = 12  # records per account: three pages
SNAPSHOT = "2025-09-07"


# --- targets -----------------------------------------------------------------------------------
@dataclass
class Target:
    spider: str
    platform: str  # registry key
    table: str
    build: Callable[[dict[str, int], str], FakeAPI]  # (account -> n records, drift account)
    settings: Callable[[FakeAPI], dict]
    records: Callable[[FakeAPI, str], list]  # what the fake holds for an account
    page_match: Callable[[str, int], list[str]]  # fault match for listing page n (0-based)
    page_url: Callable[[FakeAPI, str, int], str]  # absolute URL of listing page n
    detail_match: Callable[[FakeAPI, str], str]  # one detail request of the account
    detail_values: Callable[[FakeAPI, dict], dict]  # detail columns a stored row must hold
    compare: dict[str, str] = field(default_factory=dict)  # column -> record field
    drift_expect: dict = field(default_factory=dict)  # drift record id -> reject reason or None
    id_field: str = "id"
    reasons: dict[str, str] = field(default_factory=dict)  # case -> its failure reason here
    skip: tuple[str, ...] = ()  # cases that do not apply (e.g. no cursor to repeat)

    def record_id(self, record) -> str | None:
        value = record.get(self.id_field) if isinstance(record, dict) else None
        return value if isinstance(value, str) else None


def _hf_data(accounts: dict[str, int], kind: str) -> HubData:
    data = HubData()
    for seed, (account, n) in enumerate(accounts.items()):
        part = HubData.synthetic({account: n if kind == "models" else 3},
                                 datasets_per_account=n if kind == "datasets" else 0, seed=seed)
        for name in ("models", "datasets"):
            getattr(data, name).extend(getattr(part, name))
        for name in ("children", "discussions", "usage"):
            getattr(data, name).update(getattr(part, name))
    return data


# Schema drift as Hugging Face could serve it: renamed, missing and mistyped fields.
HF_DRIFT = {
    "{a}/sparse": None,  # only an id: stored, every count unknown
    "{a}/typed": "downloads is '12': expected a whole number",
    "{a}/dated": "created_at is 1720000000: expected an ISO-8601 date",
    "{a}/tagged": "tags is 'a,b': expected a list of strings",
    "{a}/float": "likes is 1.5: expected a whole number",
    None: "repo_id is missing (got None)",  # "id" renamed "modelId"
}


def _hf_drift_rows(account: str) -> list[dict]:
    return [
        {"id": f"{account}/sparse"},
        {"id": f"{account}/typed", "downloads": "12", "likes": 1},
        {"id": f"{account}/dated", "downloads": 1, "createdAt": 1720000000},
        {"id": f"{account}/tagged", "downloads": 1, "tags": "a,b"},
        {"id": f"{account}/float", "downloads": 1, "likes": 1.5},
        {"_id": "d0", "modelId": f"{account}/renamed", "author": account, "downloads": 2},
    ]


def hf_target(kind: str) -> Target:
    expand = MODEL_EXPAND if kind == "models" else COMMON_EXPAND

    def build(accounts, drift):
        data = _hf_data(accounts, kind)
        getattr(data, kind).extend(_hf_drift_rows(drift))
        return FakeHuggingFace(data)

    def records(fake, account):
        return [r for r in getattr(fake.data, kind)
                if (r.get("id") or r.get("modelId") or "").split("/")[0] == account]

    def page_url(fake, account, n):
        query = [("author", account), ("limit", PAGE), *(("expand[]", e) for e in expand)]
        return f"{fake.url}/api/{kind}?{urlencode(query + ([('cursor', n * PAGE)] if n else []))}"

    def detail_match(fake, account):
        popular = next(r["id"] for r in records(fake, account)
                       if isinstance(r.get("downloads"), int) and r["downloads"] >= 50)
        return f"/api/{kind}/{popular}/discussions"

    def detail_values(fake, record):  # datasets: all of them; models: the popular ones
        if kind == "models" and not (isinstance(record.get("downloads"), int)
                                     and record["downloads"] >= 50):
            return {"discussions": None}
        values = {"discussions": fake.data.discussions.get(record["id"], (0, 0))[0]}
        if kind == "models":
            values["descendants"] = fake.data.children.get(record["id"], 0)
        else:
            values["dataset_usage"] = len(fake.data.usage.get(record["id"], []))
        return values

    return Target(
        spider=f"huggingface_{kind}",
        platform="huggingface",
        table=kind,
        build=build,
        settings=lambda fake: {"HF_ENDPOINT": fake.url, "HF_PAGE_SIZE": PAGE},
        records=records,
        page_match=lambda account, n: [f"author={account}&"] + ([f"cursor={n * PAGE}"] if n
                                                                 else []),
        page_url=page_url,
        detail_match=detail_match,
        detail_values=detail_values,
        compare={"downloads": "downloads", "likes": "likes", "downloads_total":
                 "downloadsAllTime"},
        drift_expect=HF_DRIFT,
    )


HF_TARGETS = [hf_target("models"), hf_target("datasets")]


def _drift(account: str, id_field: str, fields: dict[str, str]) -> list[dict]:
    """Drifted rows: ``fields`` names the platform's fields for downloads-like counts, a date
    and tags; plus a row whose id field was renamed."""
    a, count, date = account, fields["count"], fields["date"]
    extra = fields.get("extra", {})
    return [
        {id_field: f"{a}/sparse", **extra(f"{a}/sparse")} if extra else {id_field: f"{a}/sparse"},
        {id_field: f"{a}/typed", count: "12", **(extra(f"{a}/typed") if extra else {})},
        {id_field: f"{a}/dated", date: 1720000000, **(extra(f"{a}/dated") if extra else {})},
        {id_field: f"{a}/float", fields["float"]: 1.5, **(extra(f"{a}/float") if extra else {})},
        {"renamed_" + id_field: f"{a}/renamed", "owner": a, **(extra(f"{a}/r") if extra else {})},
    ]


def modelscope_target(kind: str) -> Target:
    from tests.fakes.modelscope import FakeModelScope, ScopeData, dataset_row

    def build(accounts, drift):
        data = ScopeData.synthetic(accounts if kind == "models" else {})
        if kind == "datasets":
            rng = random.Random(3)
            data.datasets = [dataset_row(f"{a}/data-{i:03d}", rng.randint(0, 10**5),
                                         rng.randint(0, 99), rng)
                             for a, n in accounts.items() for i in range(n)]
        getattr(data, kind).extend(_drift(drift, "id", {
            "count": "downloads", "date": "created_at", "float": "likes"}))
        return FakeModelScope(data)

    def records(fake, account):
        return [r for r in getattr(fake.data, kind)
                if (r.get("id") or r.get("owner") or "").split("/")[0] == account]

    return Target(
        spider=f"modelscope_{kind}", platform="modelscope", table=kind, build=build,
        # The OpenAPI's faults; the community pages (Chromium) have their own test.
        settings=lambda fake: {"MODELSCOPE_ENDPOINT": fake.url, "MODELSCOPE_PAGE_SIZE": PAGE,
                               "MODELSCOPE_COMMUNITY": 0},
        records=records,
        page_match=lambda a, n: [f"owner={a}&"] + ([f"page_number={n + 1}&"] if n else []),
        page_url=lambda fake, a, n: f"{fake.url}/openapi/v1/{kind}?owner={a}"
                                    f"&page_number={n + 1}&page_size={PAGE}",
        detail_match=lambda fake, a: None, detail_values=lambda fake, r: {},
        compare={"downloads_total": "downloads", "likes": "likes"},
        drift_expect={"{a}/sparse": None,
                      "{a}/typed": "downloads_total is '12': expected a whole number",
                      "{a}/dated": "created_at is 1720000000: expected an ISO-8601 date",
                      "{a}/float": "likes is 1.5: expected a whole number",
                      None: "repo_id is missing (got None)"},
        reasons={"malformed-long": f"no data.{kind} list in the envelope"},
        skip=("cursor-repeats", "empty-page"),  # page numbers, not links
    )


def forge_target(style: str) -> Target:
    from tests.fakes.forges import WEB, FakeForge, ForgeData

    endpoint = {"github": "GITHUB_API_URL", "gitee": "GITEE_API_URL",
                "gitcode": "GITCODE_API_URL", "openi": "OPENI_ENDPOINT"}[style]
    stars = "stars_count" if style == "openi" else "stargazers_count"

    def build(accounts, drift):
        data = ForgeData.synthetic(style, accounts)
        data.repos[drift.casefold()] += _drift(drift, "full_name", {
            "count": stars, "date": "updated_at" if style == "openi" else "pushed_at",
            "float": "forks_count", "extra": lambda r: {"html_url": f"{WEB[style]}/{r}"}})
        return FakeForge(style, data)

    def detail_values(fake, record):
        if style != "github":
            return {}
        popular = isinstance(record.get(stars), int) and record[stars] >= 10
        return {"contributors": fake.data.contributors[record["full_name"]] if popular else None}

    def detail_match(fake, account):
        if style != "github":
            return None
        popular = next(r["full_name"] for r in fake.data.repos[account.casefold()]
                       if isinstance(r.get(stars), int) and r[stars] >= 10)
        return f"/repos/{popular}/contributors"

    def page_url(fake, account, n):
        query = {"github": "type=public&sort=full_name&", "openi": ""}.get(style, "type=public&")
        size = "limit" if style == "openi" else "per_page"
        return f"{fake.api_url}{'/api/v1' if style == 'openi' else ''}/orgs/{account}/repos?" \
               f"{query}page={n + 1}&{size}={PAGE}"

    return Target(
        spider=f"{style}_repos", platform=style, table="repos", build=build,
        settings=lambda fake: {endpoint: fake.api_url, "OSIR_FORGE_PAGE_SIZE": PAGE,
                               **({"GITCODE_TOKEN": "faults"} if style == "gitcode" else {})},
        records=lambda fake, a: fake.data.repos.get(a.casefold(), []),
        page_match=lambda a, n: [f"/orgs/{a}/repos?"] + (
            [f"&page={n + 1}" if style == "github" else f"page={n + 1}&"] if n else []),
        page_url=page_url, detail_match=detail_match, detail_values=detail_values,
        compare={"stars": stars, "forks": "forks_count"},
        drift_expect={"{a}/sparse": None,
                      "{a}/typed": "stars is '12': expected a whole number",
                      "{a}/dated": "pushed_at is 1720000000: expected an ISO-8601 date",
                      "{a}/float": "forks is 1.5: expected a whole number",
                      None: "repo_id is missing (got None)"},
        id_field="full_name",
        skip=() if style == "github" else ("cursor-repeats",),  # page numbers, not links
    )


API_TARGETS = [modelscope_target("models"), modelscope_target("datasets"),
               *(forge_target(s) for s in ("github", "gitee", "gitcode", "openi"))]
TARGETS = HF_TARGETS + API_TARGETS  # every API spider whose fake exists


# --- cases: account -> faults -------------------------------------------------------------------
@dataclass
class Case:
    name: str
    faults: Callable[[Target, FakeAPI, str], list[dict]]
    reason: str = ""  # failing cases: a substring of the failure's reason
    records: int = PER_ACCOUNT
    rate_limited: bool = False


def _on_page(n, **fault):
    return lambda t, fake, a: [dict(fault, match=t.page_match(a, n))]


def _on_detail(**fault):
    """On one detail request; on the last listing page for a spider without details."""
    return lambda t, fake, a: [dict(fault, match=t.detail_match(fake, a) or t.page_match(a, 2))]


def _both(*makers):
    return lambda t, fake, a: [f for make in makers for f in make(t, fake, a)]


RECOVERS = [
    Case("ratelimit-ietf", _on_page(1, status=429, headers={"RateLimit": '"api";r=0;t=1'}),
         rate_limited=True),
    Case("ratelimit-github", lambda t, fake, a: [dict(
        match=t.page_match(a, 1), status=403, headers={
            "x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + 3)})], rate_limited=True),
    Case("retry-after", _on_page(0, status=429, headers={"Retry-After": "1"}),
         rate_limited=True),
    Case("5xx-burst", _both(_on_page(1, status=503, times=2), _on_detail(status=502))),
    Case("reset", _both(_on_page(0, reset=True), _on_detail(reset=True))),
    Case("slow", _both(_on_page(1, delay=2.5), _on_detail(delay=2.5))),
    Case("malformed", _both(_on_page(1, status=200, body=b'[{"id": "x'),
                            _on_detail(status=200, body="<html>busy</html>"))),
    Case("truncated", _both(_on_page(2, truncate=True), _on_detail(truncate=True))),
    Case("drift", lambda t, fake, a: []),
    Case("empty", lambda t, fake, a: [], records=0),
    # The last page comes back empty, behind a next link of a full page.
    Case("empty-page", lambda t, fake, a: [dict(match=t.page_match(a, 0), headers={
        "Link": f'<{t.page_url(fake, a, 1)}>; rel="next"'})], records=PAGE),
]
FAILS = [
    Case("5xx-long", _on_page(1, status=500, times=99), reason="HTTP 500"),
    Case("reset-long", _on_detail(reset=True, times=99), reason="Connection"),
    Case("slow-long", _on_page(0, delay=2.5, times=99), reason="TimeoutError"),
    Case("malformed-long", _on_page(1, status=200, body=b"{not json", times=99),
         reason="listing is not a JSON array"),
    Case("truncated-long", _on_detail(truncate=True, times=99), reason="DataLoss"),
    Case("ratelimit-budget", _on_page(0, status=429, headers={"Retry-After": "0"}, times=99),
         reason="HTTP 429", rate_limited=True),
    # Page 3's next link points back at page 2.
    Case("cursor-repeats", lambda t, fake, a: [dict(match=t.page_match(a, 2), headers={
        "Link": f'<{t.page_url(fake, a, 1)}>; rel="next"'})], reason="pagination cursor repeats"),
]


def account_name(case: Case) -> str:
    return f"acct-{case.name}-x"  # "-x": no account name is a prefix of another


# --- running and accounting ---------------------------------------------------------------------
async def run_matrix(crawl, target: Target, cases: list[Case], tmp_path, settings: dict):
    accounts = {account_name(c): c.records for c in cases}
    drift = account_name(next((c for c in cases if c.name == "drift"), cases[0]))
    fake = target.build(accounts, drift)
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text("".join(f"Org-{c.name}:\n  {target.platform}: [{account_name(c)}]\n"
                            for c in cases))
    db = tmp_path / "osir.db"
    with fake:
        for case in cases:
            for fault in case.faults(target, fake, account_name(case)):
                fake.add_fault(**fault)
        started = time.monotonic()
        proc = await crawl(target.spider, db, {**target.settings(fake), "OSIR_ORGS": orgs,
                                               "OSIR_SNAPSHOT": SNAPSHOT, **settings},
                           check=False)  # each test says which exit status it expects
        elapsed = time.monotonic() - started
    return fake, db, proc, elapsed


def account_view(target: Target, fake: FakeAPI, db, account: str, org: str) -> dict:
    stored = {r["repo_id"]: r for r in rows(db, f"SELECT * FROM {target.table} WHERE org = ?",
                                            [org])}
    rejects = [r for r in rows(db, "SELECT * FROM rejects")
               if json.loads(r["payload"]).get("org") == org]
    failures = [f for f in rows(db, "SELECT * FROM failures") if account in f["url"]]
    by_path = defaultdict(list)
    for seen in fake.log:
        if account in seen.path:  # as the spider records it: without GitCode's token
            by_path[re.sub(r"&access_token=[^&]*", "", seen.path)].append(seen)
    finally_bad = {p for p, seen in by_path.items()
                   if seen[-1].fault or not 200 <= seen[-1].status < 300}
    return {"stored": stored, "rejects": rejects, "failures": failures, "log": by_path,
            "finally_bad": finally_bad, "records": target.records(fake, account)}


def check_accounting(target: Target, fake: FakeAPI, db, case: Case) -> dict:
    account, org = account_name(case), f"Org-{case.name}"
    view = account_view(target, fake, db, account, org)
    records = {target.record_id(r): r for r in view["records"] if target.record_id(r)}
    stored, rejects, failures = view["stored"], view["rejects"], view["failures"]
    where = f"{target.spider}/{case.name}"

    # Nothing invented: each stored row is a record the fake holds, with its numbers.
    assert set(stored) <= set(records), f"{where}: rows the fake never served"
    for repo_id, row in stored.items():
        record = records[repo_id]
        for column, key in target.compare.items():
            assert row[column] == record.get(key), f"{where}: {repo_id}.{column}"
        failed_detail = any(f["repo_id"] == repo_id for f in failures)
        for column, value in target.detail_values(fake, record).items():
            if not failed_detail:  # a failed detail leaves its fields unknown, never guessed
                assert row[column] == value, f"{where}: {repo_id}.{column}"

    # Every request that finally failed is recorded, and nothing else is.
    paths = {urlsplit(f["url"])._replace(scheme="", netloc="").geturl() for f in failures
             if f["reason"] != "pagination cursor repeats"}
    assert paths == view["finally_bad"], f"{where}: failures vs the fake's log"
    for f in failures:
        if f["repo_id"]:
            row = stored[f["repo_id"]]
            assert any(row[c] is None for c in target.detail_values(fake, records[f["repo_id"]]))

    # Nothing lost: each record served is stored or rejected, unless its listing failed.
    listing_failed = any(not f["repo_id"] for f in failures)
    rejected_ids = [r["repo_id"] for r in rejects]
    missing = set(records) - set(stored) - set(rejected_ids)
    assert listing_failed or not missing, f"{where}: lost {sorted(missing)}"
    idless = len(view["records"]) - len(records)
    assert listing_failed or rejected_ids.count(None) >= idless, f"{where}: id-less rows lost"
    return view


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.spider)
@async_test
async def test_recoverable_faults(crawl, target, tmp_path):
    cases = [c for c in RECOVERS if c.name not in target.skip]
    fake, db, proc, elapsed = await run_matrix(crawl, target, cases, tmp_path, {
        "DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 2})
    assert proc.status == 0, proc.log[-3000:]
    views = {case.name: check_accounting(target, fake, db, case) for case in cases}
    for case in cases:
        view = views[case.name]
        assert not view["failures"], f"{case.name}: {view['failures']}"
        if case.name != "drift":
            assert not view["rejects"] and len(view["stored"]) == case.records, case.name
    [row] = rows(db, "SELECT * FROM crawls")
    assert (row["outcome"], row["failed_requests"]) == ("finished", 0), proc.log[-3000:]
    assert row["rate_limited"] >= sum(c.rate_limited for c in cases)

    # Schema drift: each drifted record stored or rejected with the reason a person can act on.
    drift = views["drift"]
    for key, reason in target.drift_expect.items():
        repo_id = key.format(a="acct-drift-x") if key else None
        if reason is None:
            assert repo_id in drift["stored"], repo_id
        else:
            found = [r["reason"] for r in drift["rejects"] if r["repo_id"] == repo_id]
            assert any(reason in r for r in found), (repo_id, found)
    assert row["rejected"] == len(rows(db, "SELECT * FROM rejects")) == sum(
        1 for r in target.drift_expect.values() if r)

    # The announced waits were honoured before the retry.
    for case, wait in (("ratelimit-ietf", 1.0), ("retry-after", 1.0)):
        log = views[case]["log"]
        [limited] = [p for p, seen in log.items() if seen[0].status == 429]
        first, retry = log[limited][0], log[limited][1]
        assert retry.at - first.at >= wait, case
        assert retry.status == 200
    assert elapsed < 60


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.spider)
@async_test
async def test_failing_faults(crawl, target, tmp_path):
    cases = [c for c in FAILS if c.name not in target.skip]
    fake, db, proc, _ = await run_matrix(crawl, target, cases, tmp_path, {
        "DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 1, "OSIR_RATE_LIMIT_MAX_RETRIES": 1})
    assert proc.status == 1 and "incomplete" in proc.line  # exit 1: not finished
    for case in cases:
        view = check_accounting(target, fake, db, case)
        reasons = [f["reason"] for f in view["failures"]]
        reason = target.reasons.get(case.name, case.reason)
        assert len(reasons) == 1 and reason in reasons[0], f"{case.name}: {reasons}"
    failures = rows(db, "SELECT * FROM failures")
    [row] = rows(db, "SELECT * FROM crawls")
    assert row["outcome"] == "incomplete", proc.log[-3000:]
    assert row["failed_requests"] == len(failures) == len(cases)
    if "cursor-repeats" in target.skip:
        return
    # The repeated cursor was neither followed in a loop nor dropped without a trace.
    [loop] = [f for f in failures if f["reason"] == "pagination cursor repeats"]
    stats = json.loads(row["stats"])
    assert stats["osir/pagination/repeated"] == 1
    page2 = target.page_url(fake, account_name(cases[-1]), 1)
    assert canonicalize_url(loop["url"]) == canonicalize_url(page2)
    looped = rows(db, f"SELECT count(*) n FROM {target.table} WHERE org = 'Org-cursor-repeats'")
    assert looped[0]["n"] == PER_ACCOUNT  # the three pages served were all stored


@pytest.mark.parametrize("style", ["ietf", "github"])
@async_test
async def test_fixed_window_budget_is_used_without_429s(crawl, style, tmp_path):
    """A fixed window (20 requests per 2 s): the crawler uses the budget and provokes (almost)
    no 429 — requests already let through count against the window's remaining requests."""
    from tests.fakes.base import FixedWindow

    data = HubData.synthetic({"busy-org": 400}, datasets_per_account=0)
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text("Busy:\n  huggingface: [busy-org]\n")
    window = FixedWindow(20, 2, style=style)
    with FakeHuggingFace(data, rate_limit=window) as fake:
        window.begin()  # the fake's start-up is not a window's
        cut = await crawl("huggingface_models", tmp_path / "osir.db", {
        "HF_ENDPOINT": fake.url, "OSIR_ORGS": orgs, "HF_PAGE_SIZE": 50,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "CLOSESPIDER_TIMEOUT": 11}, check=False)
    assert cut.status == 1 and "closespider_timeout" in cut.line  # cut short: exit 1
    full = window.windows[1:]  # the first holds the start-up
    while full and full[-1]["allowed"] < 20:  # the last ones are cut short by the close (which
        full.pop()  # no longer waits for requests pausing in a window)
    assert len(full) >= 3
    assert sum(w["allowed"] for w in full) >= 0.9 * 20 * len(full), full
    assert max(w["rejected"] for w in full) <= 1, full
