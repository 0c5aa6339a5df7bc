"""A fake of the BAAI data platform (data.baai.ac.cn).

* ``POST /api/datahub/search/v1/getAllDataset`` — JSON body ``{limit, offset, datasetName,
  startTime, endTime, orderBy}`` → ``{"code": 200, "data": {"total": N, "list": [...]}}`` with the
  item fields of platform-apis.md §11. With ``refusal=FORM`` it refuses a request without the
  ``baai_session`` cookie in one of the forms a refusal takes: ``401`` / ``403`` (status),
  ``error_code`` (200, ``{"code": 401, "message": "请先登录", "data": null}``), ``empty`` (200,
  empty body, as login-only datahub calls are reported to answer), ``login_page`` (200, an HTML
  login page). ``require_session=True`` is ``refusal="401"``.
* ``GET /dataset`` — the listing page: sets the session cookie and its JavaScript POSTs the
  listing itself (12 per page, as a listing page would) and renders the names.

Content: the published 2025-09-07 BAAI Data records (real names, downloads, subscriptions) when
present, else synthetic. Run by hand: ``python -m tests.fakes.baai --port 8768 [--session]``.
"""

from __future__ import annotations

import argparse
import json
import random
import threading

from osir_crawl.inputs import published
from tests.fakes.base import FakeAPI, Reply, route

ANCHOR = published.PUBLISHED_DIR / "months/2025-09-07/BAAIData/raw-datasets-info.jsonl"
API = "/api/datahub/search/v1/getAllDataset"
SESSION = "baai_session=fake-session-7f3a"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>数据集 - 北京智源人工智能研究院</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><div id="app"><h1>数据集</h1><ul id="list"><li>加载中…</li></ul></div>
<script>
fetch("__API__", {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json", "Accept": "application/json"},
  body: JSON.stringify({limit: 12, offset: 0, datasetName: "", startTime: null, endTime: null, orderBy: "5"})})
  .then(r => r.json())
  .then(j => {
    document.getElementById("list").innerHTML = j.data.list.map(d =>
      '<li><a href="/datadetail/' + d.uriName + '">' + d.datasetName + '</a> <img src="' +
      d.imagePath + '"> <span>' + d.downloadNumb + '</span></li>').join("");
  });
</script></body></html>"""


LOGIN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>登录 - 智源</title></head>
<body><form action="/login" method="post"><input name="phone"><button>登录</button></form>
</body></html>"""


def load_datasets(seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    if published.exists(ANCHOR):
        records = [json.loads(line) for line in published.read_text(ANCHOR).splitlines()]
        base = [(r["dataset_name"], r["total_downloads"], r["likes"]) for r in records]
    else:
        base = [(f"BAAI-Set-{i:02d}", rng.randint(0, 3000), rng.randint(0, 20)) for i in range(40)]
    rows = []
    for i, (uri, downloads, likes) in enumerate(base):
        rows.append({
            "id": 1000 + i, "datasetId": f"ds{100000 + i}", "datasetName": uri, "uriName": uri,
            "downloadNumb": downloads, "subscribedNumb": likes,
            "viewNumb": downloads * rng.randint(3, 12), "pushedNumb": rng.randint(0, 9),
            "tags": rng.choice([["文本", "预训练"], ["多模态"], ["语音", "中文"]]),
            "totalSize": f"{rng.randint(1, 999)}.{rng.randint(0, 9)} GB",
            "totalSizeByte": rng.randint(10**9, 10**12),
            "createTime": "2024-09-19T14:24:37.000+00:00",
            "updateTime": "2025-05-22T02:21:56.000+00:00",
            "profiles": "", "imagePath": f"/static/cover/{uri}.png", "datasetType": 1,
        })
    return rows


class FakeBaai(FakeAPI):
    routes = [
        (*route("POST", API), "list_datasets"),
        (*route("GET", r"/dataset"), "page"),
    ]

    REFUSALS = ("401", "403", "error_code", "empty", "login_page")

    def __init__(self, datasets: list[dict], port: int = 0, require_session: bool = False,
                 refusal: str | None = None):
        super().__init__(port)
        self.datasets = datasets
        self.refusal = refusal or ("401" if require_session else None)
        assert self.refusal in (None, *self.REFUSALS)
        self._request = threading.local()  # the headers of the request being answered

    def _handle(self, handler, method: str):
        self._request.headers = handler.headers
        super()._handle(handler, method)

    def list_datasets(self, query: list, body: bytes) -> Reply:
        if self.refusal and SESSION not in (self._request.headers.get("Cookie") or ""):
            return self.refuse()
        try:
            params = json.loads(body or b"{}")
            limit, offset = int(params.get("limit", 10)), int(params.get("offset", 0))
        except (ValueError, TypeError, AttributeError):
            return Reply({"code": 400, "message": "参数错误", "data": None}, 400)
        return Reply({"code": 200, "message": "success",
                      "data": {"total": len(self.datasets),
                               "list": self.datasets[offset: offset + max(0, limit)]}})

    def refuse(self) -> Reply:
        login = {"code": 401, "message": "请先登录", "data": None}
        if self.refusal in ("401", "403"):
            return Reply(login, int(self.refusal))
        if self.refusal == "error_code":
            return Reply(login)
        if self.refusal == "empty":
            return Reply(b"", headers={"Content-Type": "application/json"})
        return Reply(LOGIN_PAGE)

    def page(self, query: list, body: bytes) -> Reply:
        return Reply(PAGE.replace("__API__", API), 200,
                     {"Content-Type": "text/html; charset=utf-8",
                      "Set-Cookie": f"{SESSION}; Path=/; HttpOnly"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--session", action="store_true", help="refuse anonymous API calls")
    parser.add_argument("--refusal", choices=FakeBaai.REFUSALS, help="how to refuse them")
    args = parser.parse_args()
    FakeBaai(load_datasets(), port=args.port, require_session=args.session,
             refusal=args.refusal).serve_forever()


if __name__ == "__main__":
    main()
