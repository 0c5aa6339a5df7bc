"""``python -m scoring site [--db STORE] --out FOLDER``: the static ranking site (scoring.site)."""

import sys
import time

ORDER = 45


def add_parser(subparsers):
    p = subparsers.add_parser(
        "site", help="a static ranking site of every month in the store (English and Chinese)",
        description="Write a static site of every built month in the store (tables rankings and "
                    "summaries): the latest overall ranking with rank changes, one page per "
                    "ranking and month, one per organisation with its history, explain's "
                    "breakdown and every value's provenance, the biggest movers with the reason, "
                    "SVG charts and CSV/Parquet downloads of every table. Open FOLDER/index.html "
                    "(no server needed) or publish the folder anywhere.")
    p.add_argument("--db", metavar="STORE", help="the store (default: $OSIR_DB or data/osir.db)")
    p.add_argument("--out", metavar="FOLDER", default="data/site",
                   help="the site's folder (default data/site)")
    p.add_argument("--method", metavar="YAML", help="method file (default data/method.yaml)")
    p.set_defaults(func=run)


def run(args):
    from ..site import build_site
    from ..store import default_store

    started = time.monotonic()
    pages = build_site(args.db or default_store(), args.out, args.method)
    print(f"wrote {len(pages)} pages to {args.out} in {time.monotonic() - started:.1f} s; "
          f"open {args.out}/index.html", file=sys.stderr)
    return 0
