"""Fakes of the code-forge APIs: GitHub REST, Gitee v5, GitCode v5 and OpenI (Gitea v1).

One server class, four styles, differing where the real APIs differ:

* ``github``: ``/orgs/{org}/repos?per_page&page``, ``Link`` rel="next"/"last", licence objects,
  ``/repos/{o}/{r}/contributors?per_page=1&anon=true`` (``Link`` rel="last" = count; 204 when
  the repository is empty; 403 "too large to list" for a repository in ``ForgeData.too_large``,
  as GitHub answers for a huge history); rate limits in ``x-ratelimit-*``
  (``FixedWindow(style="github")``). ``watchers_count`` equals the stars in a listing, as
  GitHub's does (the real watchers, ``subscribers_count``, only on ``/repos/{o}/{r}``).
  ``secondary_limit=N``: every N-th request is answered with GitHub's secondary limit as
  recorded (403, ``x-ratelimit-remaining`` above 0, a reset, the message, no Retry-After).
* ``gitee``: ``/api/v5/orgs/{org}/repos?page&per_page``, ``total_page`` and ``total_count``
  headers, ``html_url`` ending in ``.git``, licence strings, no ``archived``: a ``status``
  string ("开始", or "关闭" for an archived repository).
* ``gitcode``: as Gitee, but as GitCode's v5 docs have it: ``access_token`` required (query
  parameter, or the ``Authorization: Bearer`` / ``PRIVATE-TOKEN`` headers of the newer docs),
  else 401 ``{"message": "401 Unauthorized"}``; no ``language`` field; no paging headers;
  ``fork`` as the integer 1/0 of the documented schema; ``status`` as Gitee.
* ``openi``: Gitea's ``/api/v1/orgs/{org}/repos?page&limit`` (``limit`` capped at 50), with
  Gitea's ``Link`` (rel next/last/first/prev; ``legacy_links=True``: the pre-1.13 form, which
  keeps only ``?page=N``) and ``X-Total-Count`` headers; ``stars_count``, ``mirror``, no
  ``pushed_at``; the licence as Gitea 1.22+ sends it, a ``licenses`` list of SPDX ids.

Run by hand: ``python -m tests.fakes.forges --style github --port 8766``.
"""

from __future__ import annotations

import argparse
import math
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes.base import FakeAPI, FixedWindow, Reply, route
from tests.fakes.forge_content import RepoContent, RepoContentRoutes

STYLES = ("github", "gitee", "gitcode", "openi")
WEB = {"github": "https://github.com", "gitee": "https://gitee.com",
       "gitcode": "https://gitcode.com", "openi": "https://openi.pcl.ac.cn"}


@dataclass
class ForgeData:
    repos: dict[str, list[dict]] = field(default_factory=dict)  # org (as listed) -> rows
    contributors: dict[str, int] = field(default_factory=dict)  # full_name -> count
    too_large: set[str] = field(default_factory=set)  # GitHub: contributors not listable

    @classmethod
    def synthetic(cls, style: str, orgs: dict[str, int], seed: int = 11) -> ForgeData:
        rng = random.Random(seed)
        data = cls()
        for org, n in orgs.items():
            rows = data.repos.setdefault(org.casefold(), [])
            for i in range(n):
                full_name = f"{org}/repo-{i:04d}"
                rows.append(repo_row(style, full_name, rng))
                data.contributors[full_name] = rng.choice([0, 1, 2, 37, rng.randint(0, 900)])
        return data


def repo_row(style: str, full_name: str, rng: random.Random) -> dict:
    stars = rng.choice([0, 3, 9, 10, 250, rng.randint(0, 50_000)])
    pushed = f"2025-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}T10:00:00"
    row = {
        "id": rng.randint(1, 10**9),
        "name": full_name.split("/")[1],
        "full_name": full_name,
        "html_url": f"{WEB[style]}/{full_name}",
        "description": "a repository",
        "fork": rng.random() < 0.2,
        "forks_count": rng.randint(0, 3000),
        "watchers_count": rng.randint(0, 900),
        "open_issues_count": rng.randint(0, 400),
        "language": rng.choice(["Python", "C++", None]),
        "created_at": "2023-08-02T07:59:43Z",
    }
    if style == "gitcode":  # the v5 org listing documents no language
        del row["language"]
    if style == "github":
        row.update(stargazers_count=stars, watchers_count=stars, archived=rng.random() < 0.1,
                   pushed_at=pushed + "Z",
                   license=rng.choice([None, {"key": "mit", "spdx_id": "MIT"},
                                       {"key": "apache-2.0", "spdx_id": "Apache-2.0"}]))
    elif style in ("gitee", "gitcode"):
        row.update(stargazers_count=stars, html_url=row["html_url"] + ".git",
                   pushed_at=pushed + "+08:00", public=True,
                   license=rng.choice([None, "Apache-2.0", "MulanPSL-2.0"]),
                   namespace={"path": full_name.split("/")[0], "type": "group"},
                   status="关闭" if rng.random() < 0.1 else "开始")
        if style == "gitcode":
            row["fork"] = int(row["fork"])
    else:  # openi: Gitea fields
        row.update(stars_count=stars, archived=False, updated_at=pushed + "+08:00",
                   mirror=rng.random() < 0.3, owner={"login": full_name.split("/")[0]},
                   licenses=rng.choice([[], ["Apache-2.0"], ["MIT", "Apache-2.0"]]))
    return row


class FakeForge(RepoContentRoutes, FakeAPI):
    routes = [
        (*route("GET", r"(?:/api/v[15])?/orgs/(?P<org>[^/]+)/repos"), "org_repos"),
        (*route("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/contributors"), "contributors"),
        *RepoContentRoutes.content_routes,  # single repositories: see forge_content.py
    ]

    def __init__(self, style: str, data: ForgeData, port: int = 0,
                 rate_limit: FixedWindow | None = None, token: str | None = None,
                 legacy_links: bool = False, content: dict[str, RepoContent] | None = None,
                 secondary_limit: int = 0):
        super().__init__(port, rate_limit)
        self.secondary_limit = secondary_limit  # github: every N-th request hits it
        self.answered = 0
        assert style in STYLES
        self.style, self.data, self.content = style, data, content or {}
        self.token = token  # gitcode: the one token it accepts (None: any non-empty one)
        self.legacy_links = legacy_links
        self.headers_seen = threading.local()

    def _handle(self, handler, method: str):
        self.headers_seen.value = handler.headers
        with self.lock:
            self.answered += 1
            limited = self.secondary_limit and self.answered % self.secondary_limit == 0
        if limited:  # as GitHub answers (tests/fixtures/github_repos/secondary-limit-403.*)
            self.add_fault(status=403, headers={
                "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4321",
                "x-ratelimit-reset": str(int(time.time()) + 3000),
                "x-ratelimit-resource": "core"},
                body={"message": "You have exceeded a secondary rate limit. Please wait a "
                                 "few minutes before you try again."})
        super()._handle(handler, method)

    def _route(self, method: str, target: str, body: bytes) -> Reply:
        """GitCode refuses every API path without its token, not only listings."""
        if self.style == "gitcode" and not self.authorised(parse_qsl(urlsplit(target).query)):
            return Reply({"message": "401 Unauthorized"}, 401)
        return super()._route(method, target, body)

    def authorised(self, query: list) -> bool:
        """GitCode: ``access_token`` in the query, or a Bearer / PRIVATE-TOKEN header."""
        headers = self.headers_seen.value
        bearer = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        given = dict(query).get("access_token") or bearer or headers.get("PRIVATE-TOKEN")
        return bool(given) and (self.token is None or given == self.token)

    @property
    def api_url(self) -> str:
        """What the spider's endpoint setting should hold."""
        return self.url + {"gitee": "/api/v5", "gitcode": "/api/v5"}.get(self.style, "")

    def org_repos(self, org: str, query: list, body: bytes) -> Reply:
        rows = self.data.repos.get(org.casefold())
        if rows is None:
            return Reply({"message": "Not Found"}, 404)
        params = dict(query)
        size = int(params.get("limit" if self.style == "openi" else "per_page", 30))
        size = min(size, 50 if self.style == "openi" else 100)
        page = max(1, int(params.get("page", 1)))
        shown = rows[(page - 1) * size : page * size]
        pages = max(1, math.ceil(len(rows) / size))
        headers = {}
        if self.style == "github":
            headers["Link"] = self.links(org, query, page, pages)
        elif self.style == "gitee":
            headers.update(total_page=str(pages), total_count=str(len(rows)))
        elif self.style == "openi":
            headers["X-Total-Count"] = str(len(rows))
            headers["Link"] = self.links(org, query, page, pages)
        return Reply(shown, 200, {k: v for k, v in headers.items() if v})

    def links(self, org: str, query: list, page: int, pages: int) -> str:
        """GitHub's and Gitea's ``Link``: next, last, first, prev. Gitea's genAPILinks keeps the
        request's query; its pre-1.13 SetLinkHeader wrote ``<AppURL><path>?page=N`` only."""
        path = f"/api/v1/orgs/{org}/repos" if self.style == "openi" else f"/orgs/{org}/repos"

        def url(n):
            if self.legacy_links:
                return f"{self.url}{path}?page={n}"
            rest = [(k, v) for k, v in query if k != "page"] + [("page", str(n))]
            return f"{self.url}{path}?{urlencode(rest)}"
        parts = []
        if page < pages:
            parts += [f'<{url(page + 1)}>; rel="next"', f'<{url(pages)}>; rel="last"']
        if page > 1:
            parts += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
        return ("," if self.style == "openi" else ", ").join(parts)  # Gitea: strings.Join(",")

    def contributors(self, repo: str, query: list, body: bytes) -> Reply:
        count = self.data.contributors.get(repo)
        if count is None:
            return Reply({"message": "Not Found"}, 404)
        if repo in self.data.too_large:  # GitHub's answer for a huge history
            return Reply({"message": "The history or contributor list is too large to list "
                                     "contributors for this repository via the API.",
                          "documentation_url": "https://docs.github.com/rest/repos/repos"
                                               "#list-repository-contributors"}, 403)
        if count == 0:
            return Reply(b"", 204)
        per_page = int(dict(query).get("per_page", 30))
        page = int(dict(query).get("page", 1))
        shown = [{"login": f"user{i}", "contributions": 1}
                 for i in range((page - 1) * per_page, min(count, page * per_page))]
        headers = {}
        last = math.ceil(count / per_page)
        if page < last:
            rest = urlencode([("per_page", per_page), ("anon", "true")])
            headers["Link"] = (f'<{self.url}/repos/{repo}/contributors?{rest}&page={page + 1}>; '
                               f'rel="next", <{self.url}/repos/{repo}/contributors?{rest}'
                               f'&page={last}>; rel="last"')
        return Reply(shown, 200, headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", choices=STYLES, default="github")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--orgs", default="FlagOpen,InternLM,deepseek-ai")
    parser.add_argument("--per-org", type=int, default=40)
    args = parser.parse_args()
    data = ForgeData.synthetic(args.style, {o: args.per_org for o in args.orgs.split(",")})
    suffix = {"gitee": "/api/v5", "gitcode": "/api/v5"}.get(args.style, "")
    print(f"endpoint setting: http://127.0.0.1:{args.port}{suffix}", flush=True)
    FakeForge(args.style, data, port=args.port).serve_forever()

if __name__ == "__main__":
    main()
