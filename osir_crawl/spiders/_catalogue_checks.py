"""Forge spiders confirm the catalogue's repositories and evaluate its counting rules.

For every repository of ``data/catalogue`` on the spider's forge (of the selected orgs):
``GET {endpoint}/repos/{owner}/{name}`` → a :class:`~osir_crawl.items.CatalogueRepoItem`
(exists, archived, last push, default branch; GitHub also its contributors, through the
forge's own detail steps). A 404 is an answer, not a failure: the repository vanished.

For every counting rule of a repository, on each of the rule's refs in turn (a branch that is
gone adds nothing), what the rule reads through the forge's own API (the same routes on GitHub,
Gitee v5 and GitCode v5, which copied GitHub's):

* a file: GitHub's contents API with the raw media type (``/repos/{o}/{r}/contents/{path}?ref=``),
  Gitee's and GitCode's raw route (``/repos/{o}/{r}/raw/{path}?ref=``);
* a folder: the contents API on the folder, a JSON list of ``{"name", "path", "type"}``
  (GitHub lists at most 1,000 entries: a full page is a failure, the count could be short);
* every path: the git trees API (``/repos/{o}/{r}/git/trees/{ref}?recursive=1``; not on
  GitCode, whose recursive tree is paged without totals);

then a :class:`~osir_crawl.items.CatalogueCountItem` with the distinct names the rule matched.
A truncated tree or a missing file or folder is recorded as a failure: the count would be wrong.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from osir_crawl.inputs.catalogue import CatalogueError, Repo, load_catalogue
from osir_crawl.items import CatalogueCountItem, CatalogueRepoItem

DIR_LIMIT = {"github": 1000}  # entries a contents listing returns at most (GitHub's docs)


class CatalogueChecks:
    """Mixin for ``ForgeSpider``: ``start()`` also yields :meth:`catalogue_requests`."""

    repo_path = "/repos/{repo}"
    raw_file_path = None  # Gitee/GitCode: "/repos/{repo}/raw/{path}"; GitHub: the contents API

    def configure(self, settings):
        super().configure(settings)
        try:
            self.catalogue = load_catalogue(settings.get("OSIR_CATALOGUE") or None)
        except CatalogueError as exc:
            raise SystemExit(f"osir-crawl: {exc}") from None
        self.rules_by_key = {r.key: r for r in self.catalogue.rules()}

    def catalogued(self) -> list:
        """The selected orgs' catalogued repositories on this forge (in a shard: those whose
        repository id falls in it)."""
        chosen = set(self.selected_orgs)
        return [(repo, entry) for repo, entry in self.catalogue.repos(self.platform)
                if entry.org in chosen and self.owns(repo.repo_id)]

    def store_scope(self):
        scope = super().store_scope()
        scope[CatalogueRepoItem.TABLE] = {"platform": self.platform, "org": self.selected_orgs}
        if self.shard is not None:
            scope[CatalogueRepoItem.TABLE]["repo_id"] = self.shard
        repos = {repo.repo_id for repo, _ in self.catalogued()}
        scope[CatalogueCountItem.TABLE] = {
            "rule": [r.key for r in self.rules_by_key.values()
                     if r.repo.platform == self.platform and r.repo.repo_id in repos]}
        return scope

    def catalogue_requests(self):
        for repo, entry in self.catalogued():
            path = self.repo_path.format(repo=quote(repo.repo_id, safe="/"))
            yield self.api_request(f"{self.endpoint}{path}", callback=self.parse_catalogue_repo,
                                   meta={"handle_httpstatus_list": [404]},
                                   cb_kwargs={"repo_id": repo.repo_id, "entry": entry.id,
                                              "org": entry.org})

    def parse_catalogue_repo(self, response, repo_id: str, entry: str, org: str):
        self.crawler.stats.inc_value("osir/catalogue/repos_checked")  # answered, 404 or not
        item = CatalogueRepoItem(platform=self.platform, repo_id=repo_id, entry=entry, org=org,
                                 url=Repo(self.platform, repo_id).url, status=response.status)
        if response.status == 404:
            item.exists = False
            self.crawler.stats.inc_value("osir/catalogue/repos_missing")
            self.logger.warning("catalogued repository %s:%s (%s) is gone (404)",
                                self.platform, repo_id, entry)
            yield item
            return
        data = self.json_body(response)
        if not isinstance(data, dict):
            yield from self.retry_or_fail(response, "repository is not a JSON object")
            return
        item.exists = True
        item.archived = data.get("archived") if isinstance(data.get("archived"), bool) else None
        item.pushed_at = data.get(getattr(self, "pushed_field", "pushed_at")) or None
        item.default_branch = data.get("default_branch") or None
        stars = data.get(getattr(self, "stars_field", "stargazers_count"))
        item.stars = stars if isinstance(stars, int) else None
        item.watchers = self.watchers(data)  # the forge's own reading (GitHub: subscribers)
        yield from self.enrich(item, self.detail_steps(data, item))
        for rule in self.rules_by_key.values():
            if rule.repo == Repo(self.platform, repo_id):
                refs = list(rule.refs) or [item.default_branch or "HEAD"]
                yield self.rule_request(rule.key, refs, 0, [], [])

    # --- counting rules ------------------------------------------------------------------------
    def rule_request(self, key: str, refs: list, index: int, names: list, read: list):
        rule = self.rules_by_key[key]
        repo, ref = quote(rule.repo.repo_id, safe="/"), quote(refs[index], safe="")
        headers = {}
        if rule.reads == "file" and self.raw_file_path:
            path = self.raw_file_path.format(repo=repo, path=quote(rule.file))
            url = f"{self.endpoint}{path}?ref={ref}"
        elif rule.reads in ("file", "dir"):
            url = f"{self.endpoint}/repos/{repo}/contents/{quote(rule.file or rule.dir)}?ref={ref}"
            if rule.reads == "file":
                headers["Accept"] = "application/vnd.github.raw+json"
        else:
            url = f"{self.endpoint}/repos/{repo}/git/trees/{ref}?recursive=1"
        # dont_filter: rules reading the same file or tree (FlagScale's chips, lifecycle and
        # heterogeneous recipes) ask the same URL, which the dupefilter would drop unseen
        return self.api_request(url, callback=self.parse_rule, headers=headers, dont_filter=True,
                                meta={"handle_httpstatus_list": [404]},
                                cb_kwargs={"key": key, "refs": refs, "index": index,
                                           "names": names, "read": read})

    def parse_rule(self, response, key: str, refs: list, index: int, names: list, read: list):
        rule = self.rules_by_key[key]
        stats = self.crawler.stats
        if response.status == 404:
            if rule.reads != "tree":  # the layout the rule reads has changed: a wrong count
                where = rule.file or f"{rule.dir}/"
                yield from self.record_failure(response.request, f"{where}: HTTP 404", 404)
                return
            stats.inc_value("osir/catalogue/rule_refs_missing")
        else:
            texts, problem, retry = self.rule_texts(rule, response)
            if problem:
                yield from (self.retry_or_fail(response, problem) if retry
                            else self.record_failure(response.request, problem))
                return
            names = sorted(set(names) | rule.names(texts))
            read = [*read, refs[index]]
        if index + 1 < len(refs):
            yield self.rule_request(key, refs, index + 1, names, read)
            return
        if not read:
            yield from self.record_failure(response.request, f"{key}: none of {refs} exists")
            return
        stats.inc_value("osir/catalogue/rules_evaluated")
        stats.inc_value(f"osir/catalogue/rules_evaluated/{rule.reads}")
        project = next(p for p in self.catalogue.projects if p.id == rule.project)
        yield CatalogueCountItem(rule=key, entry=rule.project, org=project.org, field=rule.field,
                                 url=response.url, value=len(names), names=names, refs=read)

    def rule_texts(self, rule, response) -> tuple[list[str], str | None, bool]:
        """What the rule matches in an answer (a file's text, a folder's entry paths, a tree's
        paths), or the problem with it and whether a retry may help (an unusable body)."""
        if rule.reads == "file":
            if rule.within and not re.search(rule.within, response.text, re.M | re.S):
                # the part of the file the rule reads is gone (a heading renamed, a list
                # moved): counting nothing there would be a wrong zero
                return [], f"{rule.file}: no part matches within {rule.within!r}", False
            return [response.text], None, False
        data = self.json_body(response)
        if rule.reads == "dir":
            if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
                return [], "folder listing is not a JSON list of entries", True
            limit = DIR_LIMIT.get(self.platform)
            if limit and len(data) >= limit:
                problem = f"{rule.dir}/: {len(data)} entries, the listing's limit (count cut)"
                return [], problem, False
            return [e["path"] + ("/" if e.get("type") == "dir" else "") for e in data
                    if isinstance(e.get("path"), str)], None, False
        if not isinstance(data, dict) or not isinstance(data.get("tree"), list):
            return [], "git tree has no tree list", True
        if data.get("truncated"):
            return [], "git tree truncated", False
        return [e.get("path") for e in data["tree"] if isinstance(e, dict)
                and isinstance(e.get("path"), str)], None, False
