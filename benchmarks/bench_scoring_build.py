"""Benchmark: ``python -m scoring build`` over a store snapshot of 1,000,000 model rows (and
100,000 dataset rows), owned by the accounts of the real registry (data/orgs.yaml): wall time
and peak RSS of the build process, and beside them the time pandas takes to read the same rows
from the store (``pandas.read_sql`` of every column of the snapshot's models and datasets, in a
process of its own, import not counted) and the ratio build / read.

    python benchmarks/bench_scoring_build.py [--models 1000000] [--datasets 100000] [--repeat 1]
                                             [--db EXISTING.db]

Figures, not assertions. The machine is shared: note the load (printed) and repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_hf_crawl import run  # noqa: E402

from osir_crawl import store  # noqa: E402
from osir_crawl.inputs.registry import load_registry  # noqa: E402

SNAPSHOT = "2025-09-07"
NAMES = ["Qwen2.5-{n}B-Instruct", "llama-3-{n}b-chat", "bge-m3-v{n}", "whisper-large-v{n}",
         "stable-diffusion-{n}", "InternVL-{n}B", "deepseek-coder-{n}b", "tiny-random-{n}"]
TASKS = ["text-generation", "feature-extraction", "image-text-to-text", "text-to-image",
         "automatic-speech-recognition", None]
CONFIGS = [("qwen2", '["Qwen2ForCausalLM"]'), ("bert", '["XLMRobertaModel"]'),
           ("internvl_chat", '["InternVLChatModel"]'), ("whisper", '["WhisperForConditional'
           'Generation"]'), (None, "[]")]  # Hugging Face's config (model_type, architectures)


def fill(db_path: Path, n_models: int, n_datasets: int) -> float:
    start = time.perf_counter()
    store.open_store(db_path).close()
    accounts = [a for a in load_registry(ROOT / "data" / "orgs.yaml").accounts
                if a.platform in ("huggingface", "modelscope")]
    rng = random.Random(5)
    conn = sqlite3.connect(db_path)

    def rows(kind: str, n: int):
        for i in range(n):
            account = accounts[i % len(accounts)]
            name = rng.choice(NAMES).format(n=i) if kind == "models" else f"corpus-{i}"
            row = {"platform": account.platform, "repo_id": f"{account.name}/{name}",
                   "snapshot": SNAPSHOT, "org": account.org, "owner": account.name, "name": name,
                   "downloads": rng.randint(0, 10**5), "downloads_total": rng.randint(0, 10**7),
                   "likes": rng.randint(0, 500), "discussions": rng.randint(0, 30),
                   "tags": json.dumps(["transformers", "license:apache-2.0"]),
                   "created_at": "2025-01-01T00:00:00+00:00", "url": "https://example.invalid/",
                   "crawl_id": "bench", "fetched_at": "2025-09-07T00:00:00+00:00"}
            if kind == "models":
                row.update(pipeline_tag=rng.choice(TASKS), descendants=rng.randint(0, 40),
                           params=rng.choice([None, 0, 7_000_000_000]))
                row["model_type"], row["architectures"] = (
                    rng.choice(CONFIGS) if account.platform == "huggingface" else (None, None))
            else:
                row.update(dataset_usage=rng.randint(0, 100))
            yield row

    for kind, n in (("models", n_models), ("datasets", n_datasets)):
        it = rows(kind, n)
        first = next(it)
        columns = list(first)
        sql = (f"INSERT OR REPLACE INTO {kind} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        with conn:
            conn.execute(sql, [first[c] for c in columns])
            conn.executemany(sql, ([r[c] for c in columns] for r in it))
    conn.execute("INSERT INTO crawls (crawl_id, spider, snapshot, outcome) "
                 "VALUES ('bench', 'bench', ?, 'finished')", [SNAPSHOT])
    conn.commit()
    conn.close()
    return time.perf_counter() - start


# pandas reading the snapshot's rows as stored; prints the seconds the two reads took.
READ = ("import sqlite3, sys, time; import pandas as pd; "
        "conn = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True); "
        "t = time.perf_counter(); "
        "frames = [pd.read_sql(f'SELECT * FROM {kind} WHERE snapshot = ?', conn, "
        "params=[sys.argv[2]]) for kind in ('models', 'datasets')]; "
        "print(time.perf_counter() - t, sum(len(f) for f in frames))")


def read_time(db: Path) -> tuple[float, int]:
    """Seconds pandas takes to read the snapshot's rows (in a fresh process), and the rows."""
    out = subprocess.run([sys.executable, "-c", READ, str(db), SNAPSHOT], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1_000_000)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="build and read this many times")
    parser.add_argument("--db", type=Path, help="an existing store (skips filling one)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="osir-bench-build-"))
    db = args.db or tmp / "osir.db"
    if args.db is None:
        filled = fill(db, args.models, args.datasets)
        print(f"store: {args.models} model rows, {args.datasets} dataset rows "
              f"({db.stat().st_size / 2**20:.0f} MiB, filled in {filled:.1f} s)")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    for i in range(args.repeat):
        load = os.getloadavg()[0]
        wall, rss = run([sys.executable, "-m", "scoring", "build", "--snapshot", SNAPSHOT,
                         "--db", str(db), "--out", str(tmp / "out"), "-q"], env)
        read, rows = read_time(db)
        print(f"run {i + 1}: scoring build {wall:.1f} s wall, peak RSS {rss / 1024:.0f} MiB; "
              f"pandas read_sql of the same {rows:,} rows {read:.1f} s; build / read "
              f"{wall / read:.1f}x (load average {load:.1f} -> {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
