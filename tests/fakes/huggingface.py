"""A fake of the Hugging Face Hub API (the shapes of huggingface_hub 2.x and hub-docs).

Serves ``/api/models`` and ``/api/datasets`` (author listing, ``sort=downloads`` — descending,
the only direction the Hub sorts in —, ``expand[]`` as a whitelist, Link cursor pagination,
``filter=dataset:ID``), the single-repo endpoint with
``childrenModelCount``, and ``/discussions``. Data comes from :class:`HubData`.

``expand`` takes only the values the Hub knows (huggingface_hub's ``ExpandModelProperty_T`` /
``ExpandDatasetProperty_T``; ``baseModels``, ``childrenModelCount`` and ``usedStorage`` only on
the single-model endpoint, huggingface_hub PR #3182); anything else is refused as the Hub
does, with 400 ``{"error": "\"expand\" must be one of [...]"}`` (huggingface_hub's
``TestExpandPropertyType`` reads exactly that message). A model's ``config`` is the subset of
config.json the Hub serves (``architectures``, ``model_type``).

Run by hand: ``python -m tests.fakes.huggingface --port 8765 --per-account 50``.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field

from osir_crawl.inputs import published
from tests.fakes.base import FakeAPI, FixedWindow, Reply, agreeing_params, route

ALWAYS = ("_id", "id")
# huggingface_hub hf_api.py ExpandModelProperty_T / ExpandDatasetProperty_T.
MODEL_EXPAND = (
    "author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt", "disabled",
    "downloads", "downloadsAllTime", "evalResults", "gated", "gguf", "inference",
    "inferenceProviderMapping", "lastModified", "library_name", "likes", "mask_token",
    "model-index", "pipeline_tag", "private", "resourceGroup", "safetensors", "sha", "siblings",
    "spaces", "tags", "transformersInfo", "trendingScore", "usedStorage", "widgetData")
MODEL_LIST_EXPAND = tuple(e for e in MODEL_EXPAND
                          if e not in ("baseModels", "childrenModelCount", "usedStorage"))
DATASET_EXPAND = (
    "author", "cardData", "citation", "createdAt", "description", "disabled", "downloads",
    "downloadsAllTime", "gated", "lastModified", "likes", "mainSize", "paperswithcode_id",
    "private", "resourceGroup", "sha", "siblings", "tags", "trendingScore", "usedStorage")
# name keyword -> (model_type, architecture): the config.json subset the Hub lists
CONFIGS = (("bge", ("xlm-roberta", "XLMRobertaModel")), ("qwen", ("qwen2", "Qwen2ForCausalLM")),
           ("deepseek", ("deepseek_v3", "DeepseekV3ForCausalLM")),
           ("internvl", ("internvl_chat", "InternVLChatModel")),
           ("whisper", ("whisper", "WhisperForConditionalGeneration")),
           ("vit", ("vit", "ViTForImageClassification")),
           ("resnet", ("resnet", "ResNetForImageClassification")))


@dataclass
class HubData:
    models: list[dict] = field(default_factory=list)
    datasets: list[dict] = field(default_factory=list)
    children: dict[str, int] = field(default_factory=dict)  # model id -> childrenModelCount
    children_unsent: set[str] = field(default_factory=set)  # answered without the key
    discussions: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (count, closed)
    usage: dict[str, list[str]] = field(default_factory=dict)  # dataset id -> model ids

    # What FakeHuggingFace asks (tests/fakes/hub_scale.py's ScaledHub answers the same).
    def listing(self, kind: str, author: str | None = None, sort: str | None = None) -> list:
        rows = self.models if kind == "models" else self.datasets
        if author is not None:
            rows = [r for r in rows if _author(r) == author.casefold()]
        if sort == "downloads":  # the Hub sorts descending only
            rows = sorted(rows, key=_downloads, reverse=True)
        return rows

    def find(self, repo_id: str) -> dict | None:
        if getattr(self, "_index", None) is None:
            self._index = {r["id"]: r for r in self.models + self.datasets
                           if isinstance(r, dict) and isinstance(r.get("id"), str)}
        return self._index.get(repo_id)

    def children_of(self, repo_id: str) -> int:
        return self.children.get(repo_id, 0)

    def discussions_of(self, repo_id: str) -> tuple[int, int]:
        return self.discussions.get(repo_id, (0, 0))

    def users_of(self, dataset_id: str) -> list[str]:
        return self.usage.get(dataset_id, [])

    @classmethod
    def synthetic(cls, accounts: dict[str, int], datasets_per_account: int | None = None,
                  seed: int = 7) -> HubData:
        """``accounts``: account -> number of models. Deterministic for a seed."""
        rng = random.Random(seed)
        data = cls()
        for account, n_models in accounts.items():
            for i in range(n_models):
                repo_id = f"{account}/model-{i:05d}"
                downloads = rng.choice([0, 3, 49, 50, 120, 5000, rng.randint(0, 10**6)])
                data.models.append(_model_row(repo_id, downloads, rng))
                if downloads >= 50:
                    data.children[repo_id] = rng.randint(0, 40)
                    data.discussions[repo_id] = (c := rng.randint(0, 30), rng.randint(0, c))
            for i in range(datasets_per_account if datasets_per_account is not None
                           else max(1, n_models // 4)):
                repo_id = f"{account}/dataset-{i:04d}"
                downloads = rng.choice([0, 10, 50, 800, rng.randint(0, 10**5)])
                data.datasets.append(_dataset_row(repo_id, downloads, rng))
                # Little-downloaded datasets have threads and users too (published records).
                data.discussions[repo_id] = (c := rng.randint(0, 10), rng.randint(0, c))
                users = [m["id"] for m in rng.sample(data.models, min(len(data.models),
                                                                       rng.randint(0, 5)))]
                data.usage[repo_id] = users
        return data


    @classmethod
    def from_anchors(cls, month_dir, seed: int = 7) -> HubData:
        """The published raw Hugging Face records of one month (real names, 30-day downloads,
        likes, community and model-tree counts); other fields synthetic."""
        rng = random.Random(seed)
        data = cls()
        for line in published.open_text(month_dir / "HuggingFace" / "raw-models-info.jsonl"):
            rec = json.loads(line)
            repo_id = f"{rec['repo']}/{rec['model_name']}"
            row = _model_row(repo_id, max(0, rec["downloads_last_month"] or 0), rng)
            row["likes"] = max(0, rec["likes"] or 0)
            data.models.append(row)
            data.children[repo_id] = max(0, rec.get("descendants") or 0)
            data.discussions[repo_id] = (max(0, rec.get("community") or 0), 0)
        model_ids = [m["id"] for m in data.models]
        for line in published.open_text(month_dir / "HuggingFace" / "raw-datasets-info.jsonl"):
            rec = json.loads(line)
            repo_id = f"{rec['repo']}/{rec['dataset_name']}"
            row = _dataset_row(repo_id, max(0, rec["downloads_last_month"] or 0), rng)
            row["likes"] = max(0, rec["likes"] or 0)
            data.datasets.append(row)
            data.discussions[repo_id] = (max(0, rec.get("community") or 0), 0)
            usage = min(len(model_ids), max(0, rec.get("dataset_usage") or 0))
            data.usage[repo_id] = rng.sample(model_ids, usage)
        return data


def model_config(repo_id: str, rng: random.Random) -> dict | None:
    """What ``expand[]=config`` gives: a known family by name, else a plausible LLM or none
    (repos without config.json, e.g. GGUF or timm-only, have no ``config``)."""
    name = repo_id.casefold()
    for keyword, (model_type, arch) in CONFIGS:
        if keyword in name:
            return {"architectures": [arch], "model_type": model_type}
    model_type, arch = rng.choice([("llama", "LlamaForCausalLM"), ("bert", "BertModel"),
                                   (None, None)])
    return {"architectures": [arch], "model_type": model_type} if model_type else None


def _model_row(repo_id: str, downloads: int, rng: random.Random) -> dict:
    params = agreeing_params(repo_id, rng.choice([None, 7_615_616_512, 567_754_752,
                                                  1_100_048_384]))
    config = model_config(repo_id, rng)
    return {
        "_id": f"{abs(hash(repo_id)) & 0xFFFFFFFFFFFF:024x}",
        "id": repo_id,
        "author": repo_id.split("/")[0],
        "downloads": downloads,
        "downloadsAllTime": downloads * rng.randint(1, 30),
        "likes": rng.randint(0, 3000),
        "createdAt": "2024-01-27T07:25:39.000Z",
        "lastModified": "2025-07-03T14:50:10.000Z",
        "pipeline_tag": rng.choice(["text-generation", "feature-extraction", None]),
        "library_name": rng.choice(["transformers", "sentence-transformers", None]),
        "tags": ["transformers", "safetensors", "license:apache-2.0", "region:us"],
        "safetensors": {"parameters": {"BF16": params}, "total": params} if params else None,
        **({"config": config} if config else {}),
        "private": False,
        "gated": False,
        "sha": "0" * 40,
    }


def _dataset_row(repo_id: str, downloads: int, rng: random.Random) -> dict:
    return {
        "_id": f"{abs(hash(repo_id)) & 0xFFFFFFFFFFFF:024x}",
        "id": repo_id,
        "author": repo_id.split("/")[0],
        "downloads": downloads,
        "downloadsAllTime": downloads * rng.randint(1, 30),
        "likes": rng.randint(0, 300),
        "createdAt": "2024-03-01T00:00:00.000Z",
        "lastModified": "2025-06-01T00:00:00.000Z",
        "tags": rng.choice(DATASET_TAGS) + ["library:datasets", "region:us"],
        "private": False,
        "gated": False,
    }


# Card tags (task_categories, size_categories) and the Hub's own (modality, format), as the
# Hub lists them (e.g. huggingface_hub's test_filter_datasets_by_size_categories).
DATASET_TAGS = [
    ["task_categories:text-generation", "language:en", "size_categories:1M<n<10M",
     "format:json", "modality:text"],
    ["task_categories:image-classification", "size_categories:10K<n<100K", "format:parquet",
     "modality:image"],
    ["task_categories:automatic-speech-recognition", "language:zh", "modality:audio",
     "format:parquet"],
    ["task_categories:robotics", "size_categories:10K<n<100K", "modality:video",
     "modality:tabular", "format:parquet"],
    ["language:en", "format:csv", "modality:text", "modality:image"],
]


class FakeHuggingFace(FakeAPI):
    routes = [
        (*route("GET", r"/api/(?P<kind>models|datasets)"), "list_repos"),
        (*route("GET", r"/api/(?P<kind>models|datasets)/(?P<repo>[^/]+/[^/]+)/discussions"),
         "repo_discussions"),
        (*route("GET", r"/api/(?P<kind>models|datasets)/(?P<repo>[^/]+/[^/]+)"), "repo_info"),
    ]
    default_limit = 1000
    max_limit = 1000

    def __init__(self, data: HubData, port: int = 0, rate_limit: FixedWindow | None = None,
                 repeat_across_pages: bool = False):
        super().__init__(port, rate_limit)
        self.data = data  # HubData, or ScaledHub (tests/fakes/hub_scale.py): same questions
        self.repeat_across_pages = repeat_across_pages

    def list_repos(self, kind: str, query: list, body: bytes) -> Reply:
        if refused := self.unknown_expand(query, MODEL_LIST_EXPAND if kind == "models"
                                          else DATASET_EXPAND):
            return refused
        params = dict(query)
        if flt := params.get("filter"):
            users = (self.data.users_of(flt[len("dataset:"):]) if flt.startswith("dataset:")
                     else [])
            rows = [row for m in users if (row := self.data.find(m)) is not None]
        else:
            rows = self.data.listing(kind, params.get("author"), params.get("sort"))
        expand = [v for k, v in query if k in ("expand[]", "expand")]
        limit = min(self.max_limit, int(params.get("limit", self.default_limit)))
        reply = self.link_page(f"/api/{kind}", query, rows, limit)  # rows read: this page's
        reply.body = [_expand(r, expand) for r in reply.body]
        offset = int(params.get("cursor", "0") or 0)
        if self.repeat_across_pages and offset > 0 and rows:
            # the last row of the previous page
            reply.body = [_expand(rows[offset - 1], expand), *reply.body]
        return reply

    def repo_info(self, kind: str, repo: str, query: list, body: bytes) -> Reply:
        if refused := self.unknown_expand(query, MODEL_EXPAND if kind == "models"
                                          else DATASET_EXPAND):
            return refused
        row = self.data.find(repo)
        if row is None:
            return Reply({"error": "Repository not found"}, 404)
        expand = [v for k, v in query if k in ("expand[]", "expand")]
        info = _expand(row, expand) if expand else dict(row)
        if "childrenModelCount" in expand and repo not in self.data.children_unsent:
            info["childrenModelCount"] = self.data.children_of(repo)
        return Reply(info)

    @staticmethod
    def unknown_expand(query: list, allowed: tuple[str, ...]) -> Reply | None:
        asked = [v for k, v in query if k in ("expand[]", "expand")]
        if all(e in allowed for e in asked):
            return None
        return Reply({"error": f'"expand" must be one of [{", ".join(allowed)}]'}, 400)

    def repo_discussions(self, kind: str, repo: str, query: list, body: bytes) -> Reply:
        if self.data.find(repo) is None:
            return Reply({"error": "Repository not found"}, 404)
        count, closed = self.data.discussions_of(repo)
        shown = [{"num": count - i, "title": f"discussion {count - i}", "status": "open",
                  "isPullRequest": False} for i in range(min(count, 50))]
        return Reply({"discussions": shown, "count": count, "start": 0,
                      "numClosedDiscussions": closed})


def _downloads(row) -> int:
    value = row.get("downloads") if isinstance(row, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _author(row) -> str:
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        return str(row.get("author", "")).casefold() if isinstance(row, dict) else ""
    return row["id"].split("/")[0].casefold()


def _expand(row, expand: list[str]):
    if not isinstance(row, dict):
        return row
    if not expand:
        return {k: row[k] for k in ("_id", "id", "likes", "private", "downloads", "tags",
                                     "pipeline_tag", "library_name", "createdAt") if k in row}
    return {k: v for k, v in row.items() if k in ALWAYS or k in expand}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--accounts", default="BAAI,Qwen,deepseek-ai,internlm,OpenGVLab")
    parser.add_argument("--per-account", type=int, default=40)
    args = parser.parse_args()
    data = HubData.synthetic({a: args.per_account for a in args.accounts.split(",")})
    FakeHuggingFace(data, port=args.port).serve_forever()


if __name__ == "__main__":
    main()
