"""GitCode (API v5, Gitee-compatible): ``gitcode_repos``. ``/orgs/{org}/repos?type=public&page
&per_page=100``; ``x-total-pages`` / ``x-total`` headers where given, else a short page ends the
listing. GITCODE_TOKEN goes as ``Authorization: Bearer`` (TokenAuthMiddleware)."""

from osir_crawl.spiders._forge import ForgeSpider


class GitcodeReposSpider(ForgeSpider):
    name = "gitcode_repos"
    platform = "gitcode"
    endpoint_setting = "GITCODE_API_URL"
