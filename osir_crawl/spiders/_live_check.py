"""What a spider declares for ``scrapy crawlall --check`` (osir_crawl/ops/livecheck.py runs it):
the first request it makes to each host it crawls, as a :class:`Check`. Here, beside the
spiders, so a spider does not import the operations module that sends the requests."""

from __future__ import annotations

from dataclasses import dataclass

from osir_crawl.middlewares import TOKEN_PLATFORMS


@dataclass(frozen=True)
class Check:
    """One host's probe, as a spider declares it: ``path`` (a format string over the sample
    account) below the endpoint setting's URL, the path to the first row in the answer, and
    the fields the spider reads there."""

    platform: str
    endpoint_setting: str
    path: str
    rows: tuple = ()  # keys to the list of rows ("*": a mapping's values; an int: that item)
    fields: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # fields a given row may lack (no config.json, no task)
    token_setting: str | None = None  # None: the token of the endpoint's platform, if any
    method: str = "GET"
    body: dict | None = None
    account_platform: str | None = None  # registry key of the sample account (None: none)
    note: str = ""
    accept: str = "application/json"
    format: str = "json"  # json | csv (the header row) | yaml
    every_column_read: bool = False  # boards whose every column is a score: nothing unread
    answer_only: bool = False  # any HTTP answer will do (a bucket whose file names come later)

    @property
    def token(self) -> str | None:
        """The setting holding the token this request carries."""
        if self.token_setting:
            return self.token_setting
        return next((t for t, (endpoint, _) in TOKEN_PLATFORMS.items()
                     if endpoint == self.endpoint_setting), None)
