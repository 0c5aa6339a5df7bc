"""The ranking site in a real browser: replay two published months (``scrapy crawl
legacy_import``, in process), ``python -m scoring build`` each, ``python -m scoring site``, then
open the site from disk in Chromium (Playwright, the system browser, never a downloaded one) and
follow every link: no broken link, image or style sheet, no console error, and the index's table
is the store's overall ranking. Screenshots of the index and an organisation page (both
languages) are kept in ``test-artifacts/site/`` (or ``$OSIR_TEST_ARTIFACTS/site``), named in
the test's output."""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from osir_crawl.settings import OSIR_CHROMIUM
from tests.conftest import ANCHORS, ROOT, async_test, rows

MONTHS = ("2025-08-07", "2025-09-07")
SHOTS = {"index.html": "index.png", "zh/index.html": "zh-index.png",
         "en/orgs/BAAI/index.html": "en-org-BAAI.png", "zh/orgs/BAAI/index.html": "zh-org-BAAI.png"}
pytestmark = pytest.mark.slow  # a replay, two builds and ~200 pages in a browser


def artefacts() -> Path:
    folder = Path(os.environ.get("OSIR_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "site"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def browse(out: Path, shots: Path) -> dict:
    """Open every page reachable from index.html; what the browser saw."""
    from playwright.sync_api import sync_playwright

    root = out.resolve().as_uri() + "/"
    seen = {"pages": [], "files": set(), "errors": [], "broken": [], "external": set()}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=OSIR_CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: m.type == "error" and seen["errors"].append(
            f"{page.url}: console: {m.text}"))
        page.on("pageerror", lambda e: seen["errors"].append(f"{page.url}: {e}"))
        page.on("requestfailed", lambda r: seen["broken"].append(
            f"{page.url} -> {r.url}: {r.failure}"))
        queue, queued = deque([root + "index.html"]), {root + "index.html"}
        while queue:
            url = queue.popleft()
            reply = page.goto(url, wait_until="load")
            assert reply is None or reply.ok, url  # file:// answers no status
            seen["pages"].append(url)
            refs = page.eval_on_selector_all(
                "a[href], img[src], link[href]", "els => els.map(e => e.href || e.src)")
            for ref in refs:
                target = urldefrag(ref).url
                if not target.startswith(root):
                    assert urlsplit(target).scheme == "https", (url, ref)  # evidence links
                    seen["external"].add(target)
                elif target.endswith(".html"):
                    if target not in queued:
                        queued.add(target)
                        queue.append(target)
                else:  # a download, chart or style sheet: the file is there
                    seen["files"].add(target)
                    if not Path(urlsplit(target).path).is_file():
                        seen["broken"].append(f"{url} -> {target}: no such file")
            if url[len(root):] in SHOTS:
                page.screenshot(path=shots / SHOTS[url[len(root):]], full_page=True)
            if url == root + "index.html":
                seen["index_table"] = page.locator("table").first.locator(
                    "tbody tr").evaluate_all(
                    "trs => trs.map(tr => [...tr.cells].map(td => td.innerText.trim()))")
        browser.close()
    return seen


@async_test
async def test_the_site_in_chromium(crawl, cli, tmp_path):
    db, out = tmp_path / "osir.db", tmp_path / "site"
    started = time.monotonic()
    replay = await crawl("legacy_import", db, settings={"LOG_LEVEL": "WARNING"},
                         args={"root": ANCHORS / "months", "months": ",".join(MONTHS)})
    assert replay.status == 0, replay.log
    for month in MONTHS:
        built = cli.scoring("build", "--snapshot", month, "--profile", "published", "--db", db,
                            "--out", tmp_path / "rankings" / month, "-q")
        assert built.status == 0, built.err
    built_at = time.monotonic()
    made = cli.scoring("site", "--db", db, "--out", out)
    assert made.status == 0 and "open " in made.err, made.err
    site_at = time.monotonic()

    shots = artefacts()
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API, away from the test's reactor
        seen = pool.submit(browse, out, shots).result(timeout=400)
    print(f"\nreplay and builds {built_at - started:.1f} s, site {site_at - built_at:.1f} s, "
          f"browser {time.monotonic() - site_at:.1f} s: {len(seen['pages'])} pages, "
          f"{len(seen['files'])} other files, {len(seen['external'])} evidence links (not "
          f"followed); screenshots in {shots}")
    assert not seen["broken"], "\n".join(seen["broken"][:20])
    assert not seen["errors"], "\n".join(seen["errors"][:20])
    html = {p.resolve().as_uri() for p in out.rglob("*.html")}
    assert html == set(seen["pages"]), "pages no link reaches"  # each reached from the index
    for name in SHOTS.values():
        assert (shots / name).stat().st_size > 10_000

    # The index's table, as the browser shows it, is the store's latest overall ranking.
    stored = rows(db, "SELECT org, rank, score, delta_rank FROM rankings "
                      "WHERE snapshot = ? AND dimension = 'overall' ORDER BY rank, org",
                  [MONTHS[-1]])
    shown = seen["index_table"]
    assert len(shown) == len(stored) > 20
    for cells, row in zip(shown, stored):
        rank, change, org, score = cells[:4]
        delta = row["delta_rank"]
        expected = ("new" if delta is None else "=" if delta == 0
                    else f"▲{delta:g}" if delta > 0 else f"▼{-delta:g}")
        assert (int(rank), change, org, score) == (row["rank"], expected, row["org"],
                                                   f"{row['score']:.3f}")
    assert any(c[1].startswith("▲") for c in shown)  # rank changes against the replayed month
