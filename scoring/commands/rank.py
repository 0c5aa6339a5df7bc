"""``python -m scoring rank MONTH_DIR [--previous PREV_DIR] --out OUT_DIR``."""

import sys

from ..io import read_month, read_previous, write_outputs
from ..method import load_method
from ..rank import rank_month

ORDER = 10


def add_parser(subparsers):
    p = subparsers.add_parser(
        "rank", help="rank files of one month from its summary files",
        description="Read MONTH_DIR/{data,model,infra,eval}-summary.csv (and *-accumulated-summary.csv "
                    "when present) and write the published rank files into OUT_DIR.")
    p.add_argument("month_dir", metavar="MONTH_DIR")
    p.add_argument("--previous", metavar="PREV_DIR",
                   help="last month's folder (its rank files, or its summaries) for 'delta rank' "
                        "and the *-summary-delta.csv files")
    p.add_argument("--out", required=True, metavar="OUT_DIR")
    p.add_argument("--method", metavar="YAML", help="method file (default data/method.yaml)")
    p.add_argument("-q", "--quiet", action="store_true", help="no notes on stderr")
    p.set_defaults(func=run)


def run(args):
    method = load_method(args.method)
    tables = read_month(args.month_dir, method)
    previous = read_previous(args.previous, method) if args.previous else None
    ranking = rank_month(tables, method, previous)
    written = write_outputs(ranking, args.out)
    if not args.quiet:
        for note in ranking.warnings:
            print(f"note: {note}", file=sys.stderr)
        print(f"wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0
