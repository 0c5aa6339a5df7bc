"""Benchmark: a full ``huggingface_models`` crawl of one fake org against a bare Scrapy spider
fetching the same pages with no pipelines, both against the same loopback fake.

    python benchmarks/bench_hf_crawl.py [--models 10000] [--repeat 1]

Prints items per second, requests per stored item, the crawl's peak RSS, and the wall-time
ratio full / bare. Both runs use the same download settings (concurrency, no AutoThrottle,
which would only add politeness delays on loopback). Not a test: figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.huggingface import FakeHuggingFace, HubData  # noqa: E402

SHARED = {"AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": "16",
          "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "HTTPCACHE_ENABLED": "False"}


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a live process: its own peak (ru_maxrss would carry this parent's across exec)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(cmd: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, peak_rss_kib(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{cmd[:4]} failed:\n{err.read().decode()[-3000:]}")
    return wall, peak


def settings_args(settings: dict) -> list[str]:
    return [arg for k, v in settings.items() for arg in ("-s", f"{k}={v}")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    data = HubData.synthetic({"bench-org": args.models}, datasets_per_account=0)
    tmp = Path(tempfile.mkdtemp(prefix="osir-bench-"))
    orgs = tmp / "orgs.yaml"
    orgs.write_text("BenchOrg:\n  huggingface: [bench-org]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with FakeHuggingFace(data) as fake:
        bare_cmd = [sys.executable, "-m", "scrapy", "runspider", "benchmarks/bare_hf_spider.py",
                    "-a", f"endpoint={fake.url}", "-a", "author=bench-org",
                    # Bare: none of the project's pipelines or middlewares, never its store.
                    *settings_args({**SHARED, "ITEM_PIPELINES": "{}", "EXTENSIONS": "{}",
                                    "DOWNLOADER_MIDDLEWARES": "{}", "OSIR_DB": tmp / "bare.db"})]
        bare_times, full_times, rss = [], [], 0
        for i in range(args.repeat):
            served = len(fake.log)
            bare_times.append(run(bare_cmd, env)[0])
            bare_requests = len(fake.log) - served
            db = tmp / f"osir-{i}.db"
            full_cmd = [sys.executable, "-m", "scrapy", "crawl", "huggingface_models",
                        *settings_args({**SHARED, "HF_ENDPOINT": fake.url, "OSIR_ORGS": orgs,
                                        "OSIR_DB": db, "OSIR_SNAPSHOT": "2025-09-07"})]
            served = len(fake.log)
            wall, rss = run(full_cmd, env)
            full_times.append(wall)
            full_requests = len(fake.log) - served
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM models").fetchone()[0]
        outcome = conn.execute("SELECT outcome FROM crawls").fetchone()[0]
    bare, full = min(bare_times), min(full_times)
    print(f"models served          {args.models}")
    print(f"stored rows            {stored} (crawl outcome: {outcome})")
    print(f"requests: full / bare  {full_requests} / {bare_requests}")
    print(f"requests per item      {full_requests / stored:.3f}")
    print(f"full crawl wall time   {full:.2f} s  ({stored / full:.0f} items/s)")
    print(f"bare spider wall time  {bare:.2f} s")
    print(f"wall-time ratio        {full / bare:.3f}  (full / bare)")
    print(f"peak RSS of the crawl   {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
