"""A fake of the Hugging Face dataset viewer (datasets-server): ``/rows`` pages — ``{"features":
[…], "rows": [{"row_idx", "row", "truncated_cells"}], "num_rows_total", "num_rows_per_page",
"partial"}``, ``length`` capped at 100 — and ``/splits?dataset=`` (``{"splits": [{"dataset",
"config", "split"}], "pending": [], "failed": []}``). It serves the
``open-llm-leaderboard/contents`` table and, given ``tables``, more datasets by (dataset,
config, split), e.g. :func:`lmarena_tables` (``lmarena-ai/leaderboard-dataset``).

Run by hand: ``python -m tests.fakes.datasets_server --port 8767 --rows 450``.
"""

from __future__ import annotations

import argparse
import random

from tests.fakes.base import FakeAPI, Reply, route

BENCHMARKS = ("IFEval", "BBH", "MATH Lvl 5", "GPQA", "MUSR", "MMLU-PRO")
OWNERS = ("Qwen", "meta-llama", "deepseek-ai", "internlm", "THUDM", "01-ai", "microsoft",
          "google", "mistralai", "someuser", "MaziyarPanahi", "nvidia")


def leaderboard_rows(n: int, seed: int = 5) -> list[dict]:
    """``n`` rows like the real table's; every 9th model is also listed in a second precision."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        owner = OWNERS[i % len(OWNERS)]
        fullname = f"{owner}/model-{i:04d}-Instruct"
        scores = {b: round(rng.uniform(0, 80), 2) for b in BENCHMARKS}
        rows.append(_row(fullname, scores, "bfloat16", rng))
        if i % 9 == 0:
            rows.append(_row(fullname, {b: s - 1 for b, s in scores.items()}, "float16", rng))
    return rows


def _row(fullname: str, scores: dict, precision: str, rng: random.Random) -> dict:
    submitted = (f"2024-{rng.randint(6, 12):02d}-{rng.randint(1, 28):02d}"
                 f"T{rng.randint(0, 23):02d}:00:00Z")
    if rng.random() < 0.1:  # the last submissions before the board was retired
        submitted = "2025-03-13T09:30:00Z"
    return {
        "eval_name": f"{fullname.replace('/', '_')}_{precision}",
        "Precision": precision,
        "Type": "💬 chat models (RLHF, DPO, IFT, ...)",
        "Model": f'<a target="_blank" href="https://huggingface.co/{fullname}">{fullname}</a>',
        "fullname": fullname,
        "Average ⬆️": round(sum(scores.values()) / len(scores), 2),
        "#Params (B)": rng.choice([0.5, 7.62, 72.71, 235.0]),
        "Hub ❤️": rng.randint(0, 900),
        "Hub License": "apache-2.0",
        "Available on the hub": True,
        "Official Providers": fullname.split("/")[0] in ("Qwen", "meta-llama"),
        "Submission Date": submitted,
        "Upload To Hub Date": submitted[:10],
        **scores,
    }


ARENA_MODELS = [  # model_name, organization, license
    ("gemini-2.5-pro", "Google", "Proprietary"), ("gpt-4o-2024-05-13", "OpenAI", "Proprietary"),
    ("qwen3-235b-a22b", "Alibaba", "Apache 2.0"), ("deepseek-r1-0528", "DeepSeek", "MIT"),
    ("glm-4.5", "Zhipu", "MIT"), ("llama-3.1-405b-instruct", "Meta", "Llama 3.1 Community"),
    ("kimi-k2-0711-preview", "Moonshot", "Modified MIT"),
    ("internlm3-8b-instruct", "Shanghai AI Lab", "Apache 2.0"),
    ("mistral-medium-2505", "Mistral", "Proprietary"), ("gemma-3-27b-it", "Google", "Gemma"),
]


def lmarena_tables(publish_date: str = "2025-09-30", seed: int = 9) -> dict:
    """``lmarena-ai/leaderboard-dataset`` subsets: rows per (model, category), ``latest``."""
    rng = random.Random(seed)
    tables = {}
    for config, models in (("text", ARENA_MODELS), ("vision", ARENA_MODELS[:5]),
                           ("text_style_control", ARENA_MODELS)):
        rows = []
        for category in ("overall", "coding", "math"):
            for rank, (name, org, licence) in enumerate(models, start=1):
                rating = round(1500 - rank * 7 + rng.uniform(-3, 3), 2)
                rows.append({"model_name": name, "organization": org, "license": licence,
                             "rating": rating, "rating_lower": rating - 5,
                             "rating_upper": rating + 5, "variance": 4.1,
                             "vote_count": rng.randint(2000, 60000), "rank": rank,
                             "category": category, "leaderboard_publish_date": publish_date})
        tables[("lmarena-ai/leaderboard-dataset", config, "latest")] = rows
    # Subsets such as ``agent`` publish score/score_ci_*/observation_count instead.
    tables[("lmarena-ai/leaderboard-dataset", "agent", "latest")] = [
        {"model_name": name, "organization": org, "license": licence,
         "score": (score := round(1300 - rank * 9 + rng.uniform(-3, 3), 2)),
         "score_ci_lower": score - 6, "score_ci_upper": score + 6,
         "observation_count": rng.randint(300, 9000), "rank": rank, "category": "overall",
         "leaderboard_publish_date": publish_date}
        for rank, (name, org, licence) in enumerate(ARENA_MODELS[:6], start=1)]
    return tables


class FakeDatasetsServer(FakeAPI):
    routes = [(*route("GET", r"/rows"), "rows_page"), (*route("GET", r"/splits"), "splits")]
    max_length = 100

    def __init__(self, rows: list, port: int = 0, dataset: str = "open-llm-leaderboard/contents",
                 tables: dict | None = None):
        super().__init__(port)
        self.rows, self.dataset = rows, dataset
        self.tables = {(dataset, "default", "train"): rows, **(tables or {})}

    def splits(self, query: list, body: bytes) -> Reply:
        name = dict(query).get("dataset")
        found = [{"dataset": d, "config": c, "split": s} for d, c, s in self.tables if d == name]
        if not found:
            return Reply({"error": "The dataset does not exist on the Hub."}, 404)
        return Reply({"splits": found, "pending": [], "failed": []})

    def rows_page(self, query: list, body: bytes) -> Reply:
        params = dict(query)
        key = (params.get("dataset"), params.get("config", "default"), params.get("split", "train"))
        rows = self.tables.get(key)
        if rows is None:
            return Reply({"error": "The dataset does not exist on the Hub."}, 404)
        offset = int(params.get("offset", 0))
        length = min(self.max_length, int(params.get("length", self.max_length)))
        page = rows[offset : offset + length]
        features = [{"feature_idx": i, "name": k, "type": {"dtype": "string", "_type": "Value"}}
                    for i, k in enumerate(rows[0] if rows and isinstance(rows[0], dict) else [])]
        return Reply({"features": features,
                      "rows": [{"row_idx": offset + i, "row": r, "truncated_cells": []}
                               for i, r in enumerate(page)],
                      "num_rows_total": len(rows), "num_rows_per_page": self.max_length,
                      "partial": False})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--rows", type=int, default=450)
    args = parser.parse_args()
    FakeDatasetsServer(leaderboard_rows(args.rows), port=args.port).serve_forever()


if __name__ == "__main__":
    main()
