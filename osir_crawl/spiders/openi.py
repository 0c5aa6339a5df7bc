"""OpenI (启智, a Gitea derivative): ``openi_repos``. ``/api/v1/orgs/{org}/repos?page&limit=50``
with Gitea's ``X-Total-Count`` header. Gitea names stars ``stars_count`` and has no
``pushed_at``: ``updated_at`` stands in. OPENI_TOKEN goes as ``Authorization: token``."""

from osir_crawl.spiders._forge import ForgeSpider


class OpeniReposSpider(ForgeSpider):
    name = "openi_repos"
    platform = "openi"
    endpoint_setting = "OPENI_ENDPOINT"
    listing_path = "/api/v1/orgs/{account}/repos"
    repo_path = "/api/v1/repos/{repo}"
    listing_query = ()
    size_param = "limit"
    page_size = 50  # Gitea's default MAX_RESPONSE_ITEMS
    stars_field = "stars_count"
    pushed_field = "updated_at"
