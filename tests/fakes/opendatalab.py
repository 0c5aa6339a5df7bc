"""A fake of opendatalab.com's dataset listing: a small single-page app.

``GET /?createdBy=UID&pageNo=N&pageSize=12&sort=downloadCount`` serves an HTML shell whose
JavaScript fetches ``/api/datasets?…`` (same query) from this server and renders the cards in the
layout the OSIR-LMTS crawler read (card ``a@href`` = ``/{org_on_site}/{dataset}``, likes at
``a/div[1]/div[2]/div[1]/div/span``, downloads such as "10.3k" at ``a/div[2]/div[2]/span[last()]``,
the total as "N 数据集"). Cards carry cover images, which a crawler should not load.
``pageNo`` counts from 0. With ``mode="ssr"`` the page embeds its data instead of fetching it,
so only the rendered cards are there to read. The JSON field names are this fake's choice: the
real site's XHR shape is undocumented.

Content: the published 2025-09-07 OpenDataLab records (real names, "10.3k"-style counts), each
site org under one of the registry's creator ids (``data/published``); synthetic without them.

Run by hand: ``python -m tests.fakes.opendatalab --port 8767`` then open
``http://127.0.0.1:8767/?createdBy=12199&pageNo=0&pageSize=12&sort=downloadCount``.
"""

from __future__ import annotations

import argparse
import json
import random

from osir_crawl.inputs import published
from osir_crawl.parsing import parse_count
from tests.fakes.base import FakeAPI, Reply, route

ANCHOR = published.PUBLISHED_DIR / "months/2025-09-07/OpenDataLab/raw-datasets-info.jsonl"
CREATORS = ["12199", "11828", "12157", "12589", "1678533"]  # data/orgs.yaml, ShanghaiAILab

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>OpenDataLab 数据集</title>
<link rel="stylesheet" href="/static/app.css"><link rel="icon" href="/static/favicon.png">
</head><body><div id="root"><div><div><main><p>加载中…</p></main></div></div></div>
<script>__DATA__</script>
<script>
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]); }
function shown(n) {
  if (n >= 1e6) return (Math.round(n / 1e5) / 10) + "m";
  if (n >= 1e3) return (Math.round(n / 1e2) / 10) + "k";
  return String(n);
}
function card(d) {
  const href = "/" + encodeURIComponent(d.orgName) + "/" + encodeURIComponent(d.name);
  return '<div class="card"><a href="' + href + '">' +
    '<div><div class="cover"><img src="/static/cover/' + esc(d.name) + '.png"></div>' +
    '<div><div><div><svg></svg><span>' + shown(d.likeCount) + '</span></div></div></div></div>' +
    '<div><div class="title">' + esc(d.name) + '</div>' +
    '<div><span>' + esc(d.orgName) + '</span><span>' + shown(d.downloadCount) + '</span></div></div>' +
    '</a></div>';
}
function render(data) {
  document.querySelector("main").innerHTML =
    '<div><div class="toolbar"><div class="total"><div>' + data.total.toLocaleString("en") +
    ' 数据集</div></div></div><div class="list">' + data.list.map(card).join("") + '</div></div>';
}
async function main() {
  if (window.__DATA__) { render(window.__DATA__.data); return; }
  const r = await fetch("/api/datasets" + location.search, {headers: {"Accept": "application/json"}});
  render((await r.json()).data);
}
main();
</script></body></html>"""


class OpenDataLabData:
    def __init__(self, creators: dict[str, list[dict]]):
        self.creators = creators  # creator id -> datasets, most downloaded first

    @classmethod
    def load(cls, per_creator: int | None = None, seed: int = 5) -> OpenDataLabData:
        """The published records when present, else synthetic; at most ``per_creator`` each."""
        by_org: dict[str, list[dict]] = {}
        if published.exists(ANCHOR):
            for line in published.read_text(ANCHOR).splitlines():
                rec = json.loads(line)
                by_org.setdefault(rec["repo"], []).append({
                    "name": rec["dataset_name"], "orgName": rec["repo"],
                    "downloadCount": parse_count(rec["metadata"]["downloads"]),
                    "likeCount": parse_count(rec["metadata"]["likes"]),
                })
        else:
            rng = random.Random(seed)
            for org, n in (("OpenScienceLab", 40), ("OpenMMLab", 11), ("OpenDriveLab", 7),
                           ("OpenXDLab", 4), ("OpenDILab", 1)):
                by_org[org] = [{"name": f"{org}-set-{i:03d}", "orgName": org,
                                "downloadCount": rng.choice([0, 7, 950, 10_300, 2_000_000]),
                                "likeCount": rng.randint(0, 60)} for i in range(n)]
        creators = {}
        for uid, rows in zip(CREATORS, by_org.values()):
            rows = sorted(rows, key=lambda d: -d["downloadCount"])[:per_creator]
            creators[uid] = [{"id": 1000 * i + 1, **d, "creatorId": int(uid)}
                             for i, d in enumerate(rows)]
        return cls(creators)


class FakeOpenDataLab(FakeAPI):
    routes = [
        (*route("GET", r"/"), "page"),
        (*route("GET", r"/api/datasets"), "list_datasets"),
    ]

    def __init__(self, data: OpenDataLabData, port: int = 0, mode: str = "xhr"):
        super().__init__(port)
        self.data, self.mode = data, mode

    def listing(self, query: list) -> dict:
        params = dict(query)
        rows = self.data.creators.get(params.get("createdBy", ""), [])
        page, size = int(params.get("pageNo", "0") or 0), int(params.get("pageSize", "12") or 12)
        return {"code": 200, "msg": "ok",
                "data": {"total": len(rows), "pageNo": page, "pageSize": size,
                         "list": rows[page * size: (page + 1) * size]}}

    def page(self, query: list, body: bytes) -> Reply:
        embedded = f"window.__DATA__ = {json.dumps(self.listing(query))};" if self.mode == "ssr" \
            else ""
        return Reply(PAGE.replace("__DATA__", embedded, 1), 200,
                     {"Content-Type": "text/html; charset=utf-8"})

    def list_datasets(self, query: list, body: bytes) -> Reply:
        return Reply(self.listing(query))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--mode", choices=["xhr", "ssr"], default="xhr")
    args = parser.parse_args()
    FakeOpenDataLab(OpenDataLabData.load(), port=args.port, mode=args.mode).serve_forever()


if __name__ == "__main__":
    main()
