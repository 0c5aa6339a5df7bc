"""``python -m scoring chart --snapshot YYYY-MM-DD [--db PATH] [--out DIR]``: PNG charts of the
rankings in the store (see scoring.chart)."""

import sys

from . import add_store_option, store_of

ORDER = 40


def add_parser(subparsers):
    p = subparsers.add_parser(
        "chart", help="PNG charts of a snapshot's rankings in the store",
        description="Draw the overall ranking, each dimension's scores and every organisation's "
                    "rank over all stored snapshots (up to SNAPSHOT) from the store table "
                    "rankings, as PNG files.")
    p.add_argument("--snapshot", required=True, metavar="YYYY-MM-DD")
    add_store_option(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: charts/SNAPSHOT beside "
                                                "the store, data/charts/SNAPSHOT for "
                                                "data/osir.db)")
    p.set_defaults(func=run)


def run(args):
    from osir_crawl.ops import outputs

    from ..chart import write_charts  # matplotlib loads only for this command

    db = store_of(args)
    out = outputs.claim(args.out or outputs.folder(db, "charts", args.snapshot), db)
    written = write_charts(db, args.snapshot, out)
    for path in written:
        print(path)
    print(f"wrote {len(written)} charts", file=sys.stderr)
    return 0
