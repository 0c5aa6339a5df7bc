"""Fixture tests of spider callbacks: no server, no browser, no crawl.

A spider is built by Scrapy's ``get_crawler`` with the project's settings (the public default
endpoints, never contacted: nothing here downloads); a callback is fed a response made from a
saved, real-shaped answer under ``tests/fixtures/<spider>/`` for the very request the spider
made, and what it yields (items, further requests) is asserted. A browser-rendered page is the
saved rendered DOM, with the JSON the page fetched (``browser_json``) from a saved file.
"""

from __future__ import annotations

import json
from pathlib import Path

import scrapy
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

import osir_crawl.settings as project

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The project's settings, as `scrapy crawl` reads them (the reactor is get_crawler's choice).
PROJECT = {k: getattr(project, k) for k in dir(project) if k.isupper()
           and not k.startswith("TWISTED") and not k.endswith("_TOKEN")}


def build(spider_cls, settings: dict | None = None, **args):
    """A configured spider (``-a`` arguments as keywords) and its crawler, not crawling."""
    crawler = get_crawler(spider_cls, {**PROJECT, **(settings or {})})
    spider = spider_cls.from_crawler(crawler, **args)
    crawler.spider = spider
    return spider


def started(spider) -> list:
    """What ``spider.start()`` yields. Run to its end here, outside any event loop: the tests
    run inside the reactor's (pytest-twisted), where ``asyncio.run`` is refused, and a start
    that downloads nothing has nothing to wait for."""
    async def collect():
        return [r async for r in spider.start()]

    steps = collect()
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value
    steps.close()
    raise AssertionError("spider.start() waited on something: crawl it (the crawl fixture)")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def respond(request: scrapy.Request, name: str | None, status: int = 200,
            headers: dict | None = None, captured: str | None = None) -> TextResponse:
    """The response to ``request`` whose body is the fixture ``name`` (None: empty); ``captured``
    names a fixture of the JSON bodies a rendered page fetched."""
    if captured is not None:
        request.meta["browser_json"] = json.loads(fixture(captured))
    body = fixture(name) if name else b""
    kind = HtmlResponse if name and name.endswith(".html") else TextResponse
    return kind(request.url, status=status, headers=headers, body=body, request=request,
                encoding="utf-8")


def feed(request: scrapy.Request, name: str | None, **response) -> tuple[list, list]:
    """(items, requests) the request's callback yields for the fixture response."""
    out = list(request.callback(respond(request, name, **response), **request.cb_kwargs) or [])
    requests = [o for o in out if isinstance(o, scrapy.Request)]
    return [o for o in out if not isinstance(o, scrapy.Request)], requests


def sidecar(name: str) -> dict:
    """The sidecar of fixture ``name`` (without extension): ``<name>.source.json``, saying where
    the answer comes from (``recorded``: true for a public recording of the real service,
    false for a written one, with why) and, for a recorded one, its status and headers."""
    return json.loads(fixture(f"{name}.source.json"))


def recorded(name: str) -> dict:
    """``respond``'s status and headers for the recorded answer ``name``, from its sidecar."""
    meta = sidecar(name)
    assert meta["recorded"] is True, f"{name} is a written fixture"
    return {"status": meta["status"], "headers": meta["headers"]}


def stats(spider) -> dict:
    return spider.crawler.stats.get_stats()
