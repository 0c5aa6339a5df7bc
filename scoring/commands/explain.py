"""``python -m scoring explain MONTH_DIR --org NAME [--previous DIR] [--json]``, or from the
store: ``python -m scoring explain --snapshot YYYY-MM-DD [--db PATH] --org NAME [--json]``."""

import json
import sys
from pathlib import Path

from ..errors import ScoringError
from ..explain import explain_org, format_explanation
from ..io import read_month, read_previous
from ..method import load_indicator_labels, load_method
from ..rank import Previous, rank_month
from ..store import built_snapshots, open_store, read_build, read_previous_build
from . import add_store_option, store_of

ORDER = 20


def add_parser(subparsers):
    p = subparsers.add_parser(
        "explain", help="why one organisation ranks where it does",
        description="For one organisation: each indicator's raw value, column max, normalised value "
                    "and contribution; the dimension scores, ranks, g(rank), weights and shares of "
                    "the overall score. From a month's summary files (MONTH_DIR), or from a "
                    "snapshot's build in the store (--snapshot, --db; deltas against the store's "
                    "month before).")
    p.add_argument("month_dir", metavar="MONTH_DIR", nargs="?",
                   help="a folder of summary files (rankings/SNAPSHOT of a build has them)")
    p.add_argument("--snapshot", metavar="YYYY-MM-DD", help="the store's build of this snapshot")
    add_store_option(p)
    p.add_argument("--org", required=True, metavar="NAME")
    p.add_argument("--previous", metavar="PREV_DIR", help="last month's folder, for delta ranks")
    p.add_argument("--accumulated", action="store_true",
                   help="explain overall-accumulated-rank (accumulated data/model tables)")
    p.add_argument("--method", metavar="YAML", help="method file (default data/method.yaml)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args):
    method = load_method(args.method)
    if (args.month_dir is None) == (args.snapshot is None):
        raise ScoringError("explain takes MONTH_DIR or --snapshot (with --db or OSIR_DB), "
                           "one of them")
    if args.snapshot is not None:
        if args.previous:
            raise ScoringError("--previous is for MONTH_DIR: with --snapshot, deltas come from "
                               "the store's month before")
        tables, previous = from_store(store_of(args), args.snapshot)
        month = args.snapshot
    else:
        tables = read_month(args.month_dir, method)
        previous = read_previous(args.previous, method) if args.previous else None
        month = Path(args.month_dir).resolve().name
    ranking = rank_month(tables, method, previous)
    report = explain_org(ranking, args.org, args.accumulated, load_indicator_labels(), month)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(format_explanation(report))
    return 0


def from_store(db, snapshot):
    """The summaries of ``snapshot``'s build in the store, and its month before's."""
    conn = open_store(db)
    try:
        _, _, summaries = read_build(conn, snapshot)
        if not summaries:
            built = built_snapshots(conn)
            raise ScoringError(
                f"{db}: snapshot {snapshot} is not built (built: {', '.join(built) or 'none'}); "
                f"run python -m scoring build --snapshot {snapshot} --db {db}")
        prev, _, ranks, sums = read_previous_build(conn, snapshot)
    finally:
        conn.close()
    for dim, table in summaries.items():
        table.attrs["source"] = f"{dim} of {snapshot} in {db}"
    for dim, table in sums.items():
        table.attrs["source"] = f"{dim} of {prev} in {db}"
    return summaries, (Previous(ranks, sums, f"store {prev}") if prev else None)
