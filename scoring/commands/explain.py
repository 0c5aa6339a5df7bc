"""``python -m scoring explain MONTH_DIR --org NAME [--previous DIR] [--json]``."""

import json
import sys

from ..explain import explain_org, format_explanation
from ..io import read_month, read_previous
from ..method import load_indicator_labels, load_method
from ..rank import rank_month

ORDER = 20


def add_parser(subparsers):
    p = subparsers.add_parser(
        "explain", help="why one organisation ranks where it does",
        description="For one organisation: each indicator's raw value, column max, normalised value "
                    "and contribution; the dimension scores, ranks, g(rank), weights and shares of "
                    "the overall score.")
    p.add_argument("month_dir", metavar="MONTH_DIR")
    p.add_argument("--org", required=True, metavar="NAME")
    p.add_argument("--previous", metavar="PREV_DIR", help="last month's folder, for delta ranks")
    p.add_argument("--accumulated", action="store_true",
                   help="explain overall-accumulated-rank (accumulated data/model tables)")
    p.add_argument("--method", metavar="YAML", help="method file (default data/method.yaml)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args):
    method = load_method(args.method)
    previous = read_previous(args.previous, method) if args.previous else None
    ranking = rank_month(read_month(args.month_dir, method), method, previous)
    from pathlib import Path

    report = explain_org(ranking, args.org, args.accumulated, load_indicator_labels(),
                         Path(args.month_dir).resolve().name)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(format_explanation(report))
    return 0
