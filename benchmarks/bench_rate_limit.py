"""Benchmark: the rate-limit budget. A Hugging Face fake enforces a fixed window (default 100
requests per 10 s, FixedWindow in tests/fakes/base.py) with the IETF ``RateLimit`` headers
(Hugging Face) or GitHub's ``x-ratelimit-*``; ``huggingface_models`` crawls with the production
settings (AutoThrottle on) for a few windows.

    python benchmarks/bench_rate_limit.py [--limit 100] [--seconds 10] [--windows 5]

Prints, per full window (the first, which holds the crawler's start-up, and the last, cut by
CLOSESPIDER_TIMEOUT, are left out): the share of the budget used (goal >= 90%) and the 429s
provoked (goal <= 1 per window). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_hf_crawl import run, settings_args  # noqa: E402

from tests.conftest import crawl_env  # noqa: E402
from tests.fakes.base import FixedWindow  # noqa: E402
from tests.fakes.huggingface import FakeHuggingFace, HubData  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--styles", default="ietf,github")
    args = parser.parse_args()

    data = HubData.synthetic({"busy-org": 4000}, datasets_per_account=0)  # more than we can fetch
    tmp = Path(tempfile.mkdtemp(prefix="osir-bench-ratelimit-"))
    orgs = tmp / "orgs.yaml"
    orgs.write_text("Busy:\n  huggingface: [busy-org]\n")
    print(f"window: {args.limit} requests per {args.seconds:g} s; goals: budget used >= 90%, "
          "<= 1 429 per window")
    for style in args.styles.split(","):
        window = FixedWindow(args.limit, args.seconds, style=style)
        with FakeHuggingFace(data, rate_limit=window) as fake:
            window.begin()  # windows from the crawl's start
            run([sys.executable, "-m", "scrapy", "crawl", "huggingface_models", *settings_args({
                "HF_ENDPOINT": fake.url, "OSIR_ORGS": orgs, "OSIR_DB": tmp / f"{style}.db",
                "HF_PAGE_SIZE": 100, "LOG_LEVEL": "WARNING",
                "CLOSESPIDER_TIMEOUT": args.seconds * (args.windows + 1) + 1})], crawl_env())
        full = window.windows[1:-1]
        used = [w["allowed"] / args.limit for w in full]
        limited = [w["rejected"] for w in full]
        print(f"{style:7} windows {len(full)}: budget used "
              f"{' '.join(f'{u:.0%}' for u in used)} (mean {sum(used) / len(used):.1%}); "
              f"429s {' '.join(map(str, limited))} (mean {sum(limited) / len(limited):.2f}, "
              f"max {max(limited)})")


if __name__ == "__main__":
    main()
