"""Stanford HELM: ``helm``, one board per HELM project (``helm_lite``, ``helm_capabilities``, …).

What the HELM frontend reads (stanford-crfm/helm ``helm-frontend``): the project list
``{HELM_URL}/project_metadata.json`` — ``[{"id", "title", "releases": [latest, …]}]`` — and
per project and release, on the public bucket ``{HELM_STORAGE_URL}/{id}/benchmark_output/``,
``releases/{release}/summary.json`` (``{"release", "suites", "date"}``: the build date) and
``releases/{release}/schema.json`` (``models``: the models run in that release, with
``name, display_name, creator_organization, access (open|limited|closed), release_date``).
Projects published by suite (VHELM, AHELM, Image2Struct, Classic before v0.3.0) keep them under
``runs/{release}/`` instead: a 404 on ``releases/`` is retried there. Public = ``access ==
"open"``; the release's build date dates the evaluation and the board.

Not every project is a leaderboard: the real project list ends with ``{"id": "home", "title":
"All Leaderboards", "releases": ["v1.0.0"]}``, the frontend's landing page, which has no
``benchmark_output``. It is skipped (``osir/helm/projects_not_boards``), not requested: asking
for its summary would get 404 twice and a failure, and every crawl would end incomplete.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from osir_crawl.items import LeaderboardEntryItem
from osir_crawl.spiders._board import BoardSpider
from osir_crawl.spiders._live_check import Check

HELM_WEB = "https://crfm.stanford.edu/helm"
LAYOUTS = ("releases", "runs")
NOT_BOARDS = {"home"}  # project ids of pages that list the boards (HELM's "All Leaderboards")


class HelmSpider(BoardSpider):
    name = "helm"
    board = "helm"
    endpoint_setting = "HELM_URL"

    @classmethod
    def live_checks(cls):
        return (Check("helm", cls.endpoint_setting, "/project_metadata.json",
                      fields=("id", "releases"), optional=("title",)),
                Check("helm_storage", "HELM_STORAGE_URL", "/", answer_only=True,
                      accept="application/xml",
                      note="the bucket: its file names come from the project list"))

    def configure(self, settings):
        super().configure(settings)
        self.storage = settings.get("HELM_STORAGE_URL").rstrip("/")
        host = urlsplit(self.storage).hostname
        if not host:
            raise SystemExit(f"osir-crawl: HELM_STORAGE_URL={self.storage!r} is not a URL")
        self.allowed_domains.append(host)

    async def start(self):
        yield self.api_request(f"{self.endpoint}/project_metadata.json",
                               callback=self.parse_projects)

    def parse_projects(self, response):
        projects = self.json_body(response)
        if not isinstance(projects, list):
            yield from self.retry_or_fail(response, "project_metadata.json is not a list")
            return
        for project in projects:
            releases = project.get("releases") if isinstance(project, dict) else None
            if not isinstance(project.get("id") if isinstance(project, dict) else None, str) \
                    or not isinstance(releases, list) or not releases:
                self.crawler.stats.inc_value("osir/helm/projects_without_release")
                continue
            if project["id"] in NOT_BOARDS:
                self.crawler.stats.inc_value("osir/helm/projects_not_boards")
                self.logger.info("HELM project %r (%s) lists the leaderboards; not one itself",
                                 project["id"], project.get("title"))
                continue
            yield self.file_request(project["id"], str(releases[0]), "releases", "summary.json",
                                    self.parse_summary)

    def file_request(self, project: str, release: str, layout: str, name: str, callback,
                     **extra):
        url = (f"{self.storage}/{quote(project)}/benchmark_output/{layout}/"
               f"{quote(release)}/{name}")
        return self.api_request(url, callback=callback, meta={"handle_httpstatus_list": [404]},
                                cb_kwargs={"project": project, "release": release,
                                           "layout": layout, **extra})

    def parse_summary(self, response, project, release, layout):
        if response.status == 404:
            if layout == LAYOUTS[0]:  # a project published by suite
                yield self.file_request(project, release, LAYOUTS[1], "summary.json",
                                        self.parse_summary)
            else:
                yield from self.record_failure(response.request, "HTTP 404", 404)
            return
        summary = self.json_body(response)
        if not isinstance(summary, dict):
            yield from self.retry_or_fail(response, "summary.json is not an object")
            return
        yield self.file_request(project, release, layout, "schema.json", self.parse_schema,
                                date=summary.get("date"))

    def parse_schema(self, response, project, release, layout, date):
        schema = self.json_body(response) if response.status == 200 else None
        if not isinstance(schema, dict) or not isinstance(schema.get("models"), list):
            if response.status == 404:
                yield from self.record_failure(response.request, "HTTP 404", 404)
            else:
                yield from self.retry_or_fail(response, "schema.json has no models list")
            return
        url = f"{HELM_WEB}/{project}/{release}/"
        entries = [self.entry(m, project, url, date) for m in schema["models"]
                   if isinstance(m, dict)]
        yield from self.publish(f"helm_{project}", entries, date, url)

    def entry(self, model: dict, project: str, url: str, date) -> LeaderboardEntryItem:
        name = model.get("name")
        name = name.strip() if isinstance(name, str) else name
        access = model.get("access")
        org = None
        if isinstance(name, str):
            org = self.model_orgs.of(model.get("display_name") or name) \
                or self.model_orgs.of(name.split("/")[-1])
        return LeaderboardEntryItem(
            board=f"helm_{project}", model=name, url=url, org=org,
            public=None if access not in ("open", "limited", "closed") else access == "open",
            evaluated_at=date,
            scores={},
        )
