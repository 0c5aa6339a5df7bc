"""A fake of OpenCompass: the OpenVLM results file and the LLM rank single-page app.

* ``GET /assets/OpenVLM.json`` — ``{"time", "results": {name: {"META": {"Method": [name, url],
  "Param (B)", …}, BENCHMARK: {"Overall": …}, …}}}`` (VLMEvalKit's "download all results").
* ``GET /leaderboard-llm`` — an HTML shell whose script (``/assets/rank.js``) fetches
  ``/api/leaderboard/llm`` after a short delay and renders the table (模型 | 发布日期 | 参数量 |
  均分 | 语言 | 知识 | 推理 | 数学 | 代码), as rank.opencompass.org.cn does. With
  ``llm_mode="inline"`` the data is compiled into the script instead (no JSON response to
  capture: only the rendered table has it).

Run by hand: ``python -m tests.fakes.opencompass --port 8768`` and open
http://127.0.0.1:8768/leaderboard-llm in a browser.
"""

from __future__ import annotations

import argparse
import json
import random

from tests.fakes.base import FakeAPI, Reply, route

VLM_MODELS = [  # name, url, params
    ("InternVL3-78B", "https://huggingface.co/OpenGVLab/InternVL3-78B", 78.4),
    ("Qwen2.5-VL-72B", "https://huggingface.co/Qwen/Qwen2.5-VL-72B-Instruct", 73.4),
    ("GPT-4o-20241120", "https://openai.com/index/hello-gpt-4o/", ""),
    ("Gemini-2.0-Pro", "https://deepmind.google/technologies/gemini/", None),
    ("Claude3.5-Sonnet", "https://www.anthropic.com/news/claude-3-5-sonnet", None),
    ("MiniCPM-V-2.6", "https://huggingface.co/openbmb/MiniCPM-V-2_6", 8.1),
    ("Emu3-Chat", "https://github.com/baaivision/Emu3", 8.0),
    ("deepseek-vl2", "https://huggingface.co/deepseek-ai/deepseek-vl2", 27.5),
    ("Step-1o", "https://www.stepfun.com/", None),
    ("LLaVA-OneVision-72B", "https://huggingface.co/lmms-lab/llava-onevision-qwen2-72b-ov", 73.2),
]
LLM_COLUMNS = ("语言", "知识", "推理", "数学", "代码")
LLM_MODELS = ["Qwen3-235B-A22B", "DeepSeek-R1-0528", "InternLM3-8B-Instruct", "GLM-4.5",
              "GPT-4o-20241120", "Doubao-1.5-pro", "Kimi-K2", "Llama-3.1-405B-Instruct",
              "ERNIE-4.5", "Hunyuan-TurboS", "Mystery-Model-X", "Yi-Lightning"]


def vlm_results(seed: int = 3) -> dict:
    rng = random.Random(seed)
    results = {}
    for i, (name, url, params) in enumerate(VLM_MODELS):
        entry = {"META": {"Method": [name, url], "Param (B)": params, "Language Model": "-",
                          "Vision Model": "-", "OpenSource": "Yes" if params else "No",
                          "Verified": "Yes"}}
        entry["MMBench_V11"] = {"Overall": round(rng.uniform(60, 90), 1), "CN": 80.0}
        entry["MMMU_VAL"] = {"Overall": round(rng.uniform(40, 75), 1)}
        if i % 3 != 2:  # not every model has every benchmark
            entry["OCRBench"] = {"Final Score": rng.randint(500, 950), "Text Recognition": 250}
        if i % 4 == 0:
            entry["MME"] = {"Overall": round(rng.uniform(1800, 2600), 1)}
        results[name] = entry
    results[""] = {"META": {"Param (B)": 1.0}, "MMMU_VAL": {"Overall": 30.0}}  # nameless: rejected
    return {"time": "20250917", "results": results}


def llm_rows(seed: int = 4) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for name in LLM_MODELS:
        scores = {c: round(rng.uniform(30, 90), 1) for c in LLM_COLUMNS}
        rows.append({"model": name, "releaseTime": f"2025-0{rng.randint(1, 9)}",
                     "param": rng.choice(["235B", "8B", "-", "671B", "405B"]),
                     "average": round(sum(scores.values()) / len(scores), 2), "scores": scores})
    return rows


PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>OpenCompass 司南 LLM 排行榜</title></head>
<body><div id="root"><p class="loading">加载中…</p></div>
<script src="/assets/rank.js"></script></body></html>
"""

SCRIPT = """
const COLUMNS = %(columns)s;
function render(rows) {
  const table = document.createElement('table');
  table.className = 'rank-table';
  const head = table.createTHead().insertRow();
  for (const label of ['排名', '模型', '发布日期', '参数量', '均分', ...COLUMNS]) {
    const th = document.createElement('th'); th.textContent = label; head.appendChild(th);
  }
  const body = table.createTBody();
  rows.forEach((r, i) => {
    const tr = body.insertRow();
    const cells = [i + 1, r.model, r.releaseTime, r.param, r.average.toFixed(2),
                   ...COLUMNS.map(c => r.scores[c].toFixed(1))];
    for (const value of cells) tr.insertCell().textContent = value;
  });
  const root = document.getElementById('root');
  root.replaceChildren(table);
}
async function load() {
  %(load)s
}
setTimeout(load, %(delay)d);
"""
FETCH = """const res = await fetch('/api/leaderboard/llm?lang=zh', {headers: {'Accept': 'application/json'}});
  const body = await res.json();
  render(body.data.list);"""


class FakeOpenCompass(FakeAPI):
    routes = [
        (*route("GET", r"/assets/OpenVLM\.json"), "vlm_json"),
        (*route("GET", r"/leaderboard-llm"), "llm_page"),
        (*route("GET", r"/assets/rank\.js"), "llm_script"),
        (*route("GET", r"/api/leaderboard/llm"), "llm_api"),
    ]

    def __init__(self, port: int = 0, vlm: dict | None = None, llm: list | None = None,
                 llm_mode: str = "fetch", delay_ms: int = 300):
        super().__init__(port)
        self.vlm = vlm if vlm is not None else vlm_results()
        self.llm = llm if llm is not None else llm_rows()
        self.llm_mode, self.delay_ms = llm_mode, delay_ms

    def vlm_json(self, query, body) -> Reply:
        return Reply(self.vlm)

    def llm_page(self, query, body) -> Reply:
        return Reply(PAGE)

    def llm_script(self, query, body) -> Reply:
        load = FETCH if self.llm_mode == "fetch" else (
            f"render({json.dumps(self.llm, ensure_ascii=False)});")
        script = SCRIPT % {"columns": json.dumps(LLM_COLUMNS, ensure_ascii=False), "load": load,
                           "delay": self.delay_ms}
        return Reply(script.encode(), headers={"Content-Type": "application/javascript; charset=utf-8"})

    def llm_api(self, query, body) -> Reply:
        return Reply({"code": 0, "msg": "ok", "data": {"total": len(self.llm), "list": self.llm}})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--llm-mode", choices=("fetch", "inline"), default="fetch")
    args = parser.parse_args()
    FakeOpenCompass(port=args.port, llm_mode=args.llm_mode).serve_forever()


if __name__ == "__main__":
    main()
