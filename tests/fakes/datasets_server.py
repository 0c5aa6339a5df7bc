"""A fake of the Hugging Face dataset viewer (datasets-server) ``/rows`` endpoint, serving the
``open-llm-leaderboard/contents`` table: ``{"features": […], "rows": [{"row_idx", "row"}],
"num_rows_total", "num_rows_per_page", "partial"}``, ``length`` capped at 100.

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
        **scores,
    }


class FakeDatasetsServer(FakeAPI):
    routes = [(*route("GET", r"/rows"), "rows_page")]
    max_length = 100

    def __init__(self, rows: list, port: int = 0, dataset: str = "open-llm-leaderboard/contents"):
        super().__init__(port)
        self.rows, self.dataset = rows, dataset

    def rows_page(self, query: list, body: bytes) -> Reply:
        params = dict(query)
        if params.get("dataset") != self.dataset:
            return Reply({"error": "The dataset does not exist on the Hub."}, 404)
        offset = int(params.get("offset", 0))
        length = min(self.max_length, int(params.get("length", self.max_length)))
        page = self.rows[offset : offset + length]
        features = [{"feature_idx": i, "name": k, "type": {"dtype": "string", "_type": "Value"}}
                    for i, k in enumerate(self.rows[0] if self.rows and
                                          isinstance(self.rows[0], dict) else [])]
        return Reply({"features": features,
                      "rows": [{"row_idx": offset + i, "row": r, "truncated_cells": []}
                               for i, r in enumerate(page)],
                      "num_rows_total": len(self.rows), "num_rows_per_page": self.max_length,
                      "partial": False})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--rows", type=int, default=450)
    args = parser.parse_args()
    FakeDatasetsServer(leaderboard_rows(args.rows), port=args.port).serve_forever()


if __name__ == "__main__":
    main()
