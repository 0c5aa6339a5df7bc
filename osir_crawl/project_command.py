"""The base of the project's ``scrapy`` commands (osir_crawl/commands/). It lives outside that
package: Scrapy takes every ScrapyCommand class defined in the package for a command."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand


class ProjectCommand(ScrapyCommand):
    """A command that needs the project's settings and starts no crawler process of Scrapy's
    (what it crawls, it runs as ``scrapy crawl`` subprocesses)."""

    requires_project = True
    requires_crawler_process = False
    usage = ""  # the arguments, for ``--help``
    summary = ""  # one line, for ``scrapy -h``

    def syntax(self):
        return self.usage

    def short_desc(self):
        return self.summary
