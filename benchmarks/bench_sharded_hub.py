"""Benchmark: the whole Hub, unsharded and in 2 and 4 shards. A fake Hugging Face of 1,000,000
models by 50,000 authors (tests/fakes/hub_scale.py: computed per rank, nothing stored), crawled
by ``huggingface_models -a universe=all`` down to a download floor; each shard as its own
``scrapy crawl`` against its own fake (a node with its own token: its own rate-limit window),
one after the other as separate nodes would run them side by side. Then ``scrapy merge`` of the
shard stores, a row-for-row comparison with the unsharded store, and
``python -m scoring build --universe all`` of the merged store.

    python benchmarks/bench_sharded_hub.py [--models 1000000] [--authors 50000]
        [--floor 1000] [--shards 1,2,4] [--window 0] [--min-downloads 50]

Prints per run: repos listed above the floor, rows stored, requests (listing and details),
wall time, peak RSS; per shard count: the slowest shard (the cluster's wall time), requests per
token, and the time those requests take at the published Hub budgets (1,000 API calls per
5 minutes for a free token, 2,500 PRO; docs/benchmarks.md); merge time; the ecosystem build.
``--window Q/S`` gives each fake a fixed window of Q requests per S seconds (a scaled budget, to
see a token's budget used: the share of its full windows' quota spent, and the 429s). The
registry is data/orgs.yaml: its Hugging Face accounts are authors of the fake Hub, so the
registry part of the crawl is exercised too. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_hf_crawl import SHARED, run, settings_args  # noqa: E402

from osir_crawl.store.merge import merge  # noqa: E402
from osir_crawl.inputs.registry import load_registry  # noqa: E402
from osir_crawl.store import RECORD_TABLES  # noqa: E402
from tests.conftest import crawl_env  # noqa: E402
from tests.fakes.base import FixedWindow  # noqa: E402
from tests.fakes.hub_scale import ScaledHub  # noqa: E402
from tests.fakes.huggingface import FakeHuggingFace  # noqa: E402

SNAPSHOT = "2031-03-07"
BUDGETS = {"free": 1000, "PRO": 2500}  # Hub API calls per 5-minute window (hub-docs)
IGNORED = ("crawl_id", "fetched_at")


def crawl(hub, db: Path, floor: int, min_downloads: int, shard: str | None, window) -> dict:
    limiter = FixedWindow(*window) if window else None
    with FakeHuggingFace(hub, rate_limit=limiter) as fake:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "huggingface_models",
               "-a", "universe=all", *(["-a", f"shard={shard}"] if shard else []),
               *settings_args({**SHARED, "HF_ENDPOINT": fake.url, "OSIR_DB": db,
                               "OSIR_SNAPSHOT": SNAPSHOT,
                               "OSIR_UNIVERSE_MIN_DOWNLOADS": floor,
                               "OSIR_MIN_DOWNLOADS": min_downloads,
                               "AUTOTHROTTLE_ENABLED": "False"})]
        wall, rss = run(cmd, crawl_env())
        listing = sum(1 for s in fake.log if s.path.startswith("/api/models?"))
        requests = len(fake.log)
        windows = limiter.windows if limiter else []
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM models").fetchone()[0]
        outcome = conn.execute("SELECT outcome FROM crawls").fetchone()[0]
    used = (sum(w["allowed"] for w in windows[:-1]) / (len(windows[:-1]) * limiter.limit)
            if len(windows) > 1 else None)
    return {"shard": shard or "—", "wall": wall, "rss": rss, "requests": requests,
            "listing": listing, "stored": stored, "outcome": outcome, "budget_used": used,
            "refused": sum(w["rejected"] for w in windows)}


def rows_of(db: Path) -> dict:
    """Every record table's rows, crawl_id and fetched_at aside, and URLs without their host:
    each crawl had a fake of its own, on a port of its own."""
    out = {}
    with sqlite3.connect(db) as conn:
        for table in RECORD_TABLES:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")
                       if r[1] not in IGNORED]
            url = columns.index("url") if "url" in columns else None
            found = conn.execute(f"SELECT {', '.join(f'[{c}]' for c in columns)} FROM [{table}]")
            out[table] = sorted((r if url is None else (*r[:url], _path(r[url]), *r[url + 1:])
                                 for r in found), key=repr)
    return out


def _path(url):
    return urlsplit(url)._replace(scheme="", netloc="").geturl() if url else url


def differences(rows: dict, reference: dict) -> str:
    """Where two stores' rows differ (the first differing row of each table), for the log."""
    out = []
    for table in reference:
        a, b = set(reference[table]), set(rows.get(table, []))
        if a != b:
            only, extra = sorted(a - b, key=repr), sorted(b - a, key=repr)
            out.append(f"{table}: {len(only):,} rows only unsharded (e.g. {only[:1]}), "
                       f"{len(extra):,} only merged (e.g. {extra[:1]})")
    return "; ".join(out)


def hours(requests: int, per_window: int) -> float:
    return requests / per_window * 5 / 60


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1_000_000)
    parser.add_argument("--authors", type=int, default=50_000)
    parser.add_argument("--floor", type=int, default=1000,
                        help="OSIR_UNIVERSE_MIN_DOWNLOADS: list the Hub down to this many "
                             "monthly downloads")
    parser.add_argument("--min-downloads", type=int, default=50,
                        help="OSIR_MIN_DOWNLOADS: details for repos at or above it")
    parser.add_argument("--shards", default="1,2,4")
    parser.add_argument("--window", default="", metavar="Q/S",
                        help="each fake allows Q requests per S seconds (default: unlimited)")
    parser.add_argument("--keep", action="store_true", help="keep the stores (path printed)")
    args = parser.parse_args()
    window = tuple(map(float, args.window.split("/"))) if args.window else None
    window = (int(window[0]), window[1]) if window else None

    registered = [a.name for a in load_registry(ROOT / "data" / "orgs.yaml")
                  .accounts_on("huggingface")]
    hub = ScaledHub(args.models, args.authors, registered=registered)
    tmp = Path(tempfile.mkdtemp(prefix="osir-bench-shards-"))
    print(f"fake Hub: {args.models:,} models by {args.authors:,} authors "
          f"({len(registered)} of them registry accounts); {hub.above(args.floor):,} models "
          f"at or above the floor of {args.floor:,} monthly downloads")
    print(f"{'shards':>6} {'shard':>5} {'stored':>8} {'requests':>9} {'listing':>8} "
          f"{'wall s':>7} {'RSS MiB':>8} {'budget':>7} {'429s':>5} outcome")
    results, reference = {}, None
    for count in map(int, args.shards.split(",")):
        runs = []
        for index in range(1, count + 1):
            shard = f"{index}/{count}" if count > 1 else None
            db = tmp / f"n{count}-{index}.db"
            result = crawl(hub, db, args.floor, args.min_downloads, shard, window)
            runs.append((db, result))
            used = f"{result['budget_used']:.0%}" if result["budget_used"] is not None else "–"
            print(f"{count:6d} {result['shard']:>5} {result['stored']:8,} "
                  f"{result['requests']:9,} {result['listing']:8,} {result['wall']:7.1f} "
                  f"{result['rss'] / 1024:8.0f} {used:>7} {result['refused']:5,} "
                  f"{result['outcome']}", flush=True)
        merged, merge_s = runs[0][0], 0.0
        if count > 1:
            merged = tmp / f"merged-{count}.db"
            start = time.perf_counter()
            merge(merged, [db for db, _ in runs])
            merge_s = time.perf_counter() - start
        rows = rows_of(merged)
        if reference is None:
            reference = rows
        same = rows == reference
        if not same:
            print(f"  {count} shards merged differ from unsharded: "
                  f"{differences(rows, reference)}", flush=True)
        results[count] = (runs, merge_s, same, merged)

    print()
    print(f"{'shards':>6} {'slowest shard s':>15} {'max req/token':>13} "
          + " ".join(f"{'h @' + k:>9}" for k in BUDGETS)
          + f" {'merge s':>8} {'equal to unsharded':>19}")
    for count, (runs, merge_s, same, _) in results.items():
        slowest = max(r["wall"] for _, r in runs)
        most = max(r["requests"] for _, r in runs)
        print(f"{count:6d} {slowest:15.1f} {most:13,} "
              + " ".join(f"{hours(most, per):9.2f}" for per in BUDGETS.values())
              + f" {merge_s:8.1f} {'yes' if same else 'NO':>19}")
    biggest = max(results)
    _, _, _, merged = results[biggest]
    out = tmp / "eco"
    start = time.perf_counter()
    build = [sys.executable, "-m", "scoring", "build", "--snapshot", SNAPSHOT, "--db",
             str(merged), "--universe", "all", "--out", str(out), "--reports-dir",
             str(tmp / "reports"), "-q"]
    wall, rss = run(build, crawl_env())
    print(f"\nscoring build --universe all of the {biggest}-shard merged store: {wall:.1f} s, "
          f"peak RSS {rss / 1024:.0f} MiB; discovery: {tmp / 'reports' / SNAPSHOT}")
    if args.keep:
        print(f"stores kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
