"""Benchmark: a crawl the size of the 2025-09-07 registry — about 9,000 Hugging Face models,
3,000 ModelScope models and 1,700 Hugging Face datasets, spread over many accounts — against
bare Scrapy spiders fetching the same pages with no pipelines, all on loopback fakes.

    python benchmarks/bench_registry_crawl.py [--hf-models 9000] [--ms-models 3000]
                                              [--datasets 1700] [--accounts 68] [--repeat 1]

Prints, per spider and in total: stored rows, requests (full / bare), requests per stored
repository (the published tool loads one page per repository), wall time, items per second,
and the wall-time ratio full / bare (goal <= 1.3). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_hf_crawl import SHARED, run, settings_args  # noqa: E402

from tests.conftest import crawl_env  # noqa: E402
from tests.fakes.huggingface import FakeHuggingFace, HubData  # noqa: E402
from tests.fakes.modelscope import FakeModelScope, ScopeData  # noqa: E402

SNAPSHOT = "2025-09-07"


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hf-models", type=int, default=9000)
    parser.add_argument("--ms-models", type=int, default=3000)
    parser.add_argument("--datasets", type=int, default=1700)
    parser.add_argument("--accounts", type=int, default=68)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    accounts = [f"org{i:03d}" for i in range(args.accounts)]
    hf = HubData()
    for i, (account, n_models, n_datasets) in enumerate(zip(
            accounts, split(args.hf_models, len(accounts)), split(args.datasets, len(accounts)))):
        part = HubData.synthetic({account: n_models}, datasets_per_account=n_datasets, seed=i)
        hf.models += part.models
        hf.datasets += part.datasets
        hf.children.update(part.children)
        hf.discussions.update(part.discussions)
        hf.usage.update(part.usage)
    ms_owners = accounts[: max(1, len(accounts) // 2)]
    ms = ScopeData.synthetic(dict(zip(ms_owners, split(args.ms_models, len(ms_owners)))))

    tmp = Path(tempfile.mkdtemp(prefix="osir-bench-registry-"))
    orgs = tmp / "orgs.yaml"
    orgs.write_text("".join(
        f"Org{a}:\n  huggingface: [{a}]\n" + (f"  modelscope: [{a}]\n" if a in ms_owners else "")
        for a in accounts))
    env = crawl_env()
    results = []
    with FakeHuggingFace(hf) as hf_fake, FakeModelScope(ms) as ms_fake:
        plans = [
            ("huggingface_models", "models", hf_fake, {"HF_ENDPOINT": hf_fake.url},
             ["benchmarks/bare_hf_spider.py", "-a", f"endpoint={hf_fake.url}"], accounts),
            ("huggingface_datasets", "datasets", hf_fake, {"HF_ENDPOINT": hf_fake.url},
             ["benchmarks/bare_spiders.py", "-a", "kind=hf_datasets",
              "-a", f"endpoint={hf_fake.url}"], accounts),
            # The OpenAPI listing only: the bare spider renders no 交流反馈 pages.
            ("modelscope_models", "models", ms_fake, {"MODELSCOPE_ENDPOINT": ms_fake.url,
                                                      "MODELSCOPE_COMMUNITY": 0},
             ["benchmarks/bare_spiders.py", "-a", "kind=modelscope_models",
              "-a", f"endpoint={ms_fake.url}"], ms_owners),
        ]
        for spider, table, fake, endpoint, bare_args, authors in plans:
            # Bare: none of the project's pipelines or middlewares, and never its store.
            bare_cmd = [sys.executable, "-m", "scrapy", "runspider", *bare_args,
                        "-a", f"author={','.join(authors)}", *settings_args(
                            {**SHARED, "ITEM_PIPELINES": "{}", "EXTENSIONS": "{}",
                             "DOWNLOADER_MIDDLEWARES": "{}",
                             "OSIR_DB": tmp / "bare.db"})]
            bare_times, full_times = [], []
            for i in range(args.repeat):
                served = len(fake.log)
                bare_times.append(run(bare_cmd, env)[0])
                bare_requests = len(fake.log) - served
                db = tmp / f"{spider}-{i}.db"
                full_cmd = [sys.executable, "-m", "scrapy", "crawl", spider, *settings_args(
                    {**SHARED, **endpoint, "OSIR_ORGS": orgs, "OSIR_DB": db,
                     "OSIR_SNAPSHOT": SNAPSHOT})]
                served = len(fake.log)
                wall, rss = run(full_cmd, env)
                full_times.append(wall)
                full_requests = len(fake.log) - served
            with sqlite3.connect(db) as conn:
                stored = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                outcome = conn.execute("SELECT outcome FROM crawls").fetchone()[0]
            results.append((spider, stored, outcome, full_requests, bare_requests,
                            min(full_times), min(bare_times), rss))

    print(f"{'spider':22} {'stored':>7} {'outcome':>9} {'req full/bare':>14} {'req/repo':>8} "
          f"{'full s':>7} {'bare s':>7} {'ratio':>6} {'items/s':>8} {'RSS MiB':>8}")
    for spider, stored, outcome, fr, br, full, bare, rss in results:
        print(f"{spider:22} {stored:7d} {outcome:>9} {f'{fr}/{br}':>14} {fr / stored:8.3f} "
              f"{full:7.2f} {bare:7.2f} {full / bare:6.3f} {stored / full:8.0f} "
              f"{rss / 1024:8.0f}")
    stored = sum(r[1] for r in results)
    full, bare = sum(r[5] for r in results), sum(r[6] for r in results)
    requests = sum(r[3] for r in results)
    print(f"{'total':22} {stored:7d} {'':>9} {requests:>14} {requests / stored:8.3f} "
          f"{full:7.2f} {bare:7.2f} {full / bare:6.3f} {stored / full:8.0f}")
    print("goal: wall-time ratio full / bare <= 1.3; the published tool: 1 page load per repo")


if __name__ == "__main__":
    main()
