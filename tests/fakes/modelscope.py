"""A fake of the ModelScope OpenAPI v1 (the shapes of modelscope_hub's vendored openapi.json).

Serves ``GET /openapi/v1/models`` and ``/openapi/v1/datasets`` (``owner``, ``sort=downloads``,
``page_number`` ≥ 1,
``page_size`` 1–50, ``page_number * page_size <= 3000``, else a 400 ``InputParameterError``
envelope) in the ``{success, data: {total_count, page_number, page_size, models|datasets},
request_id}`` envelope, and the single-repo endpoints. Content is seeded from the published
OSIR-LMTS raw records when they are present (real names, downloads and likes), else synthetic.
Inject ``success: false`` bodies (``RateLimitExceed`` …) with :meth:`FakeAPI.add_fault`.

``GET /models/{owner}/{name}`` and ``/datasets/{owner}/{name}``: the repo page, a shell whose
script renders the tab bar (…, ``交流反馈N``) a moment after loading, as the site's SPA does;
N is the repo's community count (the published records' ``community`` when seeded from them).
Where the real page gets N from is not documented, so the fake page has it inline.

Run by hand: ``python -m tests.fakes.modelscope --port 8766``.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from osir_crawl.inputs import published
from tests.fakes.base import FakeAPI, FixedWindow, Reply, agreeing_params, route

ANCHOR_MONTH = published.PUBLISHED_DIR / "months" / "2025-09-07"
TASKS = ["text-generation", "sentence-similarity", "image-text-to-text", "text-to-image",
         "auto-speech-recognition", "feature-extraction", "text-to-speech"]
LIBRARIES = ["transformers", "pytorch", "safetensors", "gguf"]
MAX_ROWS = 3000


@dataclass
class ScopeData:
    models: list[dict] = field(default_factory=list)
    datasets: list[dict] = field(default_factory=list)
    community: dict[str, int] = field(default_factory=dict)  # repo id -> 交流反馈 count

    @classmethod
    def from_anchors(cls, owners: list[str] | None = None, month: Path = ANCHOR_MONTH,
                     seed: int = 11) -> ScopeData:
        """Rows for the published 2025-09-07 ModelScope records (optionally some owners only)."""
        rng = random.Random(seed)
        data = cls()
        for kind, name_key in (("models", "model_name"), ("datasets", "dataset_name")):
            path = month / "ModelScope" / f"raw-{kind}-info.jsonl"
            for line in published.read_text(path).splitlines():
                rec = json.loads(line)
                if owners is not None and rec["repo"] not in owners:
                    continue
                repo_id = f"{rec['repo']}/{rec[name_key]}"
                row = (model_row if kind == "models" else dataset_row)(
                    repo_id, rec["total_downloads"], rec["likes"], rng)
                getattr(data, kind).append(row)
                data.community[repo_id] = max(0, rec.get("community") or 0)
        return data

    @classmethod
    def synthetic(cls, owners: dict[str, int], seed: int = 11) -> ScopeData:
        """``owners``: owner -> number of models (and a quarter as many datasets)."""
        rng = random.Random(seed)
        data = cls()
        for owner, n in owners.items():
            data.models += [model_row(f"{owner}/model-{i:04d}", rng.randint(0, 10**6),
                                      rng.randint(0, 500), rng) for i in range(n)]
            data.datasets += [dataset_row(f"{owner}/dataset-{i:03d}", rng.randint(0, 10**4),
                                          rng.randint(0, 50), rng) for i in range(max(1, n // 4))]
        for row in data.models + data.datasets:
            data.community[row["id"]] = rng.choice([0, 0, 1, 3, rng.randint(0, 1200)])
        return data

    @classmethod
    def load(cls, owners: list[str]) -> ScopeData:
        if (ANCHOR_MONTH / "ModelScope").is_dir():
            return cls.from_anchors(owners)
        return cls.synthetic({o: 30 for o in owners})


def model_row(repo_id: str, downloads: int, likes: int, rng: random.Random) -> dict:
    task, library = rng.choice(TASKS), rng.choice(LIBRARIES)
    return {
        "id": repo_id,
        "display_name": repo_id.split("/")[1],
        "description": "",
        "downloads": downloads,
        "likes": likes,
        "license": "apache-2.0",
        "tasks": [task],
        "created_at": "2024-01-30T02:10:11Z",
        "last_modified": "2025-07-04T08:01:26Z",
        "file_size": rng.randint(10**6, 10**11),
        "params": agreeing_params(repo_id, rng.choice([0, 567_754_752, 7_615_616_512,
                                                       32_763_876_352])),
        "private": False,
        "gated": False,
        "tags": ["license:apache-2.0", f"task:{task}", f"library:{library}"],
    }


def dataset_row(repo_id: str, downloads: int, likes: int, rng: random.Random) -> dict:
    return {
        "id": repo_id,
        "display_name": repo_id.split("/")[1],
        "description": "",
        "downloads": downloads,
        "likes": likes,
        "private": False,
        "gated": False,
        "login_required": False,
        "created_at": "2024-09-19T14:24:37Z",
        "last_modified": "2025-05-22T02:21:56Z",
        "file_size": rng.randint(10**6, 10**12),
        "license": "cc-by-4.0",
        "tasks": [rng.choice(["text-generation", "image-classification"])],
        "tags": ["license:cc-by-4.0"],
    }


REPO_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>__NAME__ · 魔搭社区</title>
<link rel="stylesheet" href="/static/umi.css"></head>
<body><div id="root"><main><div class="loading">加载中…</div></main></div>
<script>
setTimeout(() => {
  const tabs = ["__FIRST__", "__FILES__", "交流反馈", "版本"];
  const bar = document.createElement("div");
  bar.className = "tabs";
  for (const label of tabs) {
    const tab = document.createElement("div");
    tab.textContent = label;
    if (label === "交流反馈" && __COUNT__ > 0) {
      const badge = document.createElement("span");
      badge.textContent = "__COUNT_TEXT__";
      tab.appendChild(badge);
    }
    bar.appendChild(tab);
  }
  document.querySelector("main").replaceChildren(bar);
}, 150);
</script></body></html>"""


def error(code: str, message: str, status: int = 400) -> Reply:
    return Reply({"success": False, "code": code, "message": message,
                  "request_id": str(uuid.uuid4())}, status)


class FakeModelScope(FakeAPI):
    routes = [
        (*route("GET", r"/openapi/v1/(?P<kind>models|datasets)"), "list_repos"),
        (*route("GET", r"/openapi/v1/(?P<kind>models|datasets)/(?P<repo>[^/]+/[^/]+)"),
         "repo_info"),
        (*route("GET", r"/(?P<kind>models|datasets)/(?P<repo>[^/]+/[^/]+)"), "repo_page"),
    ]

    def __init__(self, data: ScopeData, port: int = 0, rate_limit: FixedWindow | None = None):
        super().__init__(port, rate_limit)
        self.data = data

    def list_repos(self, kind: str, query: list, body: bytes) -> Reply:
        params = dict(query)
        try:
            page = int(params.get("page_number", "1"))
            size = int(params.get("page_size", "10"))
        except ValueError:
            return error("InputParameterError", "page_number and page_size must be integers")
        if page < 1 or not 1 <= size <= 50:
            return error("InputParameterError", "page_number >= 1, 1 <= page_size <= 50")
        if page * size > MAX_ROWS:
            return error("InputParameterError", f"page_number * page_size must be <= {MAX_ROWS}")
        rows = getattr(self.data, kind)
        if owner := params.get("owner"):
            rows = [r for r in rows if _owner(r) == owner.casefold()]
        if params.get("sort") == "downloads":  # most downloaded first (modelscope_hub's sort)
            rows = sorted(rows, key=_downloads, reverse=True)
        shown = rows[(page - 1) * size: page * size]
        return Reply({"success": True, "request_id": str(uuid.uuid4()),
                      "data": {"total_count": len(rows), "page_number": page, "page_size": size,
                               kind: shown}})

    def repo_info(self, kind: str, repo: str, query: list, body: bytes) -> Reply:
        for row in getattr(self.data, kind):
            if isinstance(row, dict) and row.get("id") == repo:
                return Reply({"success": True, "request_id": str(uuid.uuid4()), "data": row})
        return error("ResourceNotFound", f"{repo} not found", 404)


    def repo_page(self, kind: str, repo: str, query: list, body: bytes) -> Reply:
        if not any(isinstance(r, dict) and r.get("id") == repo for r in getattr(self.data, kind)):
            return Reply("<html><body><h1>404</h1></body></html>", 404)
        count = self.data.community.get(repo, 0)
        page = REPO_PAGE.replace("__NAME__", repo).replace("__COUNT__", str(count)).replace(
            "__COUNT_TEXT__", f"{count:,}").replace(
            "__FIRST__", "模型介绍" if kind == "models" else "数据集介绍").replace(
            "__FILES__", "模型文件" if kind == "models" else "数据集文件")
        return Reply(page)


def _downloads(row) -> int:
    value = row.get("downloads") if isinstance(row, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _owner(row) -> str:
    repo_id = row.get("id") if isinstance(row, dict) else None
    if isinstance(repo_id, str):
        return repo_id.split("/")[0].casefold()
    return str(row.get("owner", "")).casefold() if isinstance(row, dict) else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--owners", default="BAAI,Qwen,deepseek-ai,OpenGVLab,ZhipuAI")
    args = parser.parse_args()
    FakeModelScope(ScopeData.load(args.owners.split(",")), port=args.port).serve_forever()


if __name__ == "__main__":
    main()
