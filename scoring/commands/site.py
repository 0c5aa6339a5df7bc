"""``python -m scoring site --db STORE --out FOLDER``: the static ranking site (scoring.site).
Without ``--out``, the site goes to ``site/`` beside the store (``data/site`` for the default
``data/osir.db``), so sites of two stores never overwrite each other."""

import sys
import time
from pathlib import Path

from . import add_store_option, store_of

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
    add_store_option(p)
    p.add_argument("--out", metavar="FOLDER",
                   help="the site's folder (default: site/ beside the store, data/site for "
                        "data/osir.db)")
    p.add_argument("--method", metavar="YAML", help="method file (default data/method.yaml)")
    p.set_defaults(func=run)


def run(args):
    from ..site import build_site

    started = time.monotonic()
    db = store_of(args)
    out = Path(args.out or db.parent / "site")
    pages = build_site(db, out, args.method)
    print(f"wrote {len(pages)} pages to {out} in {time.monotonic() - started:.1f} s; "
          f"open {out / 'index.html'}", file=sys.stderr)
    return 0
