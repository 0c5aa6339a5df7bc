"""GitCode (API v5): ``gitcode_repos``. ``/orgs/{org}/repos?type=public&page&per_page=100``.

What GitCode's v5 docs say, and the spider does (docs/platforms.md has the evidence):

* ``access_token`` is a required *query* parameter of every endpoint; GITCODE_TOKEN is added
  to the URL only while the request is on the wire (TokenAuthMiddleware), so it never reaches
  logs, stats, the JOBDIR or the store. Without a token GitCode answers 401.
* The org listing has no ``language`` field: ``language`` stays NULL (counted as
  ``osir/null/language/gitcode_lists_no_language``).
* The documented schema types ``fork``, ``private`` and ``public`` as integers: 1/0 are read
  as true/false (``parsing.as_bool``), so ``fork: 0`` is a repository that is not a fork.
* No pagination headers are documented for v5 (the ``x-total`` family is GitLab's v4): a
  page with fewer than ``per_page`` rows ends the listing; a ``Link`` header is not followed
  (a link built by the server could carry the token back).
"""

from osir_crawl.spiders._forge import ForgeSpider


class GitcodeReposSpider(ForgeSpider):
    name = "gitcode_repos"
    platform = "gitcode"
    raw_file_path = "/repos/{repo}/raw/{path}"  # counting rules read files raw
    endpoint_setting = "GITCODE_API_URL"
    link_pagination = False
    total_pages_headers = total_count_headers = ()
    language_field = None
    checked_fields = ("full_name", "html_url", "stargazers_count", "forks_count",
                      "watchers_count", "open_issues_count", "license", "status", "fork",
                      "pushed_at")

    async def start(self):
        if not self.settings.get("GITCODE_TOKEN"):
            self.logger.error("GitCode's v5 API requires an access token: set GITCODE_TOKEN "
                              "(https://gitcode.com/setting/token-classic); without one every "
                              "listing is refused with 401")
        async for request in super().start():
            yield request
