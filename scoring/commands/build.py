"""``python -m scoring build --snapshot YYYY-MM-DD [--profile published|default] [--diff]
[--universe registry|all [--top N] [--reports-dir DIR]] [--db PATH] [--out DIR]``: summaries and
rankings of one store snapshot (see scoring.build); ``--universe all`` ranks every organisation
found and writes the discovery report (see scoring.discovery)."""

import csv
import sys
from pathlib import Path

from osir_crawl.ops import outputs

from ..build import BuildInputs, build, profile_diff
from ..discovery import discovered, write_report
from ..profile import FIXES, PROFILES
from ..store import UNIVERSES
from . import add_store_option

ORDER = 30


def add_parser(subparsers):
    p = subparsers.add_parser(
        "build", help="summaries and rankings of one snapshot of the store",
        description="Build the data and model summaries of SNAPSHOT from the store (OSIR_DB), add "
                    "the curated infra/eval indicators, adapted chips, operators and other-source "
                    "datasets of data/curated/, rank them, and write data/rankings/SNAPSHOT/ and "
                    "the store tables summaries, rankings and classification.")
    p.add_argument("--snapshot", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--profile", choices=sorted(PROFILES), default="default",
                   help="published: reproduce the published tables, quirks included; "
                        "default: correct the quirks that are bugs (see --diff)")
    p.add_argument("--diff", action="store_true",
                   help="also list every summary cell where the two profiles differ, and why "
                        "(written to OUT/profile-diff.csv)")
    p.add_argument("--universe", choices=UNIVERSES, default="registry",
                   help="registry: the organisations of the curated files (default); all: also "
                        "every organisation with records, registered or not (the ecosystem: "
                        "data/rankings/SNAPSHOT/ecosystem/, store tables ecosystem_*, and the "
                        "discovery report)")
    p.add_argument("--top", type=int, metavar="N",
                   help="discovery: unregistered authors ranked within the top N of the model "
                        "or data dimension (default: as many as the registry ranking ranks)")
    p.add_argument("--reports-dir", metavar="DIR",
                   help="discovery report folder: DIR/SNAPSHOT/discovery.md (default: reports/ "
                        "beside the store, data/reports for data/osir.db)")
    add_store_option(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: rankings/SNAPSHOT beside "
                                                "the store, data/rankings/SNAPSHOT for "
                                                "data/osir.db; its ecosystem/ with --universe "
                                                "all)")
    p.add_argument("--method", metavar="YAML", help="method file (default data/method.yaml)")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="rank the snapshot although some of its crawls did not finish "
                        "(incomplete, stopped, store error, running); the folder "
                        "(incomplete-crawls.csv), the rankings table (column incomplete) and "
                        "this report say so. Without it such a snapshot is refused")
    p.add_argument("-q", "--quiet", action="store_true", help="no report on stderr")
    p.set_defaults(func=run)


def run(args):
    inputs = BuildInputs.open(args.db, cache_records=args.diff, universe=args.universe)
    result = build(args.snapshot, inputs.db_path, args.profile, args.out, args.method,
                   inputs=inputs, allow_incomplete=args.allow_incomplete)
    out = result.written[0].parent
    if args.allow_incomplete and result.notes and result.notes[0].startswith("built with"):
        print(f"warning: {result.notes[0]}", file=sys.stderr)
    if args.universe == "all":
        top = args.top or registry_size(inputs, args.snapshot)
        found = discovered(result, top)
        reports = (outputs.claim(Path(args.reports_dir) / args.snapshot, inputs.db_path,
                                 "--reports-dir") if args.reports_dir
                   else outputs.claim(outputs.folder(inputs.db_path, "reports", args.snapshot),
                                      inputs.db_path, "--reports-dir"))
        report = write_report(found, result, top, reports)
        if not args.quiet:
            print(f"discovery: {len(found)} unregistered author(s) within the top {top} of the "
                  f"model or data dimension: {report[0]}", file=sys.stderr)
    if not args.quiet:
        err = sys.stderr
        for note in result.notes:
            if not note.startswith("built with --allow-incomplete"):  # said above
                print(f"note: {note}", file=err)
        counts = result.classification_counts()
        for kind in ("model", "dataset"):
            print(f"classification of {kind}s: " + ", ".join(
                f"{path} {counts.get((kind, path), 0)}" for path in ("label", "rule", "review")),
                file=err)
        overall = result.ranking.rankings["overall-rank"]
        top = sorted(zip(overall["rank"], overall.index))[:5]
        print(f"overall top 5 ({args.profile}): " + ", ".join(f"{r}. {o}" for r, o in top),
              file=err)
        print(f"wrote {len(result.written)} files to {out}", file=err)
    if args.diff:
        cells = profile_diff(args.snapshot, inputs=inputs)
        with open(out / "profile-diff.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["table", "org", "indicator", "published", "default", "reasons"])
            for table, org, ind, pub, dflt, why in cells:
                w.writerow([table, org, ind, pub, dflt, "; ".join(why)])
        print(f"{len(cells)} cells differ between the published and default profiles "
              f"(table, org, indicator: published -> default [reasons]):")
        for table, org, ind, pub, dflt, why in cells:
            print(f"  {table}, {org}, {ind}: {pub} -> {dflt}  [{', '.join(why)}]")
        used = sorted({w for *_, why in cells for w in why})
        for fix in used:
            print(f"{fix}: {FIXES.get(fix, '')}")
    return 0


def registry_size(inputs, snapshot) -> int:
    """How many organisations the registry ranking ranks that month (its curated infra rows)."""
    month = inputs.curated.month_for("infra", snapshot)
    return len(inputs.curated.rows("infra", month)) if month else 0
