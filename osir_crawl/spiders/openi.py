"""OpenI (启智, a Gitea derivative): ``openi_repos``. Gitea's ``/api/v1/orgs/{org}/repos?page
&limit=50``, paged by Gitea's ``Link`` header (and ``X-Total-Count`` where a Link is missing).

The next page's *number* is taken from ``Link: rel="next"`` and the spider builds that page's
URL itself: Gitea before 1.13 wrote its links as ``<AppURL><path>?page=N``, dropping ``limit``
(the next page would come in the server's default size, and rows would be skipped or
repeated), and AppURL is whatever host the server is configured with, not necessarily
OPENI_ENDPOINT. Gitea names stars ``stars_count`` and has no ``pushed_at``: ``updated_at``
stands in. ``mirror`` (a pull mirror of a repository hosted elsewhere) is stored as given.
Gitea (1.22+) gives the licence as ``licenses``, a list of detected SPDX ids (read by
ForgeSpider.licence); its ``open_issues_count`` counts issues only (pull requests are
``open_pr_counter``), unlike GitHub's. OPENI_TOKEN goes as ``Authorization: token``.
"""

from osir_crawl.parsing import as_bool
from osir_crawl.spiders._forge import ForgeSpider, link_page


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
    checked_fields = ("full_name", "html_url", "stars_count", "forks_count", "watchers_count",
                      "open_issues_count", "archived", "fork", "mirror", "updated_at")
    checked_optional = ("licenses", "language")  # licenses: Gitea 1.22+

    def next_request(self, response, account, page: int, rows: list):
        if response.headers.get("Link"):
            following = link_page(response, "next")
            return self.listing_request(account, following) if following else None
        return super().next_request(response, account, page, rows)  # X-Total-Count, short page

    def item_from(self, row, account):
        item = super().item_from(row, account)
        item.mirror = as_bool(self.sent(row, "mirror"))
        return item
