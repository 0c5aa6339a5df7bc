"""``python -m scoring evidence --snapshot YYYY-MM-DD [--db PATH] [--out DIR] [--json]``."""

import json
import sys

from osir_crawl.ops import outputs

from ..evidence import collect, markdown, write
from ..store import open_store
from . import add_store_option, store_of

ORDER = 40


def add_parser(subparsers):
    p = subparsers.add_parser(
        "evidence", help="curated versus derived infra/eval values per organisation",
        description="Put the curated infra and eval indicators (data/curated/) beside the values "
                    "derived from the store's crawled repositories and leaderboards, with their "
                    "sources; print the Markdown report and write evidence.md and evidence.csv "
                    "into OUT (default: the store's rankings folder of SNAPSHOT, "
                    "data/rankings/SNAPSHOT for data/osir.db).")
    p.add_argument("--snapshot", required=True, metavar="YYYY-MM-DD")
    add_store_option(p)
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: rankings/SNAPSHOT beside the store)")
    p.add_argument("--curated", metavar="DIR", help="curated folder (default data/curated)")
    p.add_argument("-q", "--quiet", action="store_true", help="write the files, print nothing")
    p.add_argument("--json", action="store_true",
                   help="print the built snapshot's provenance instead: a JSON array, one object "
                        "per (dimension, org, indicator) with value, kind (crawl, catalogue or "
                        "published), source (crawl id or evidence URL), as_of and any flags (a "
                        "stale catalogue entry, an indicator not measured in the month, …)")
    p.add_argument("--summary", action="store_true",
                   help="with --json: print instead one object counting the built month's values "
                        "by kind per dimension, the indicators no organisation has a value for "
                        "and the typed catalogue values on evidence older than six months")
    p.set_defaults(func=run)


def run(args):
    import datetime as dt

    from ..errors import ScoringError

    try:
        dt.date.fromisoformat(args.snapshot)
    except ValueError:
        raise ScoringError(f"--snapshot {args.snapshot!r} is not a YYYY-MM-DD date") from None
    db = store_of(args)
    open_store(db).close()  # one-line error when it is missing
    if args.json:
        from .. import coverage
        from ..catalogue_summaries import built_provenance, provenance_records

        built = built_provenance(db, args.snapshot)
        out = (coverage.summary(built, args.snapshot) if args.summary
               else provenance_records(built))
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    evidence = collect(args.snapshot, db, args.curated)
    written = write(evidence, outputs.claim(
        args.out or outputs.folder(db, "rankings", args.snapshot), db))
    flags = built_values_markdown(db, args.snapshot) + catalogue_flags_markdown(db, args.snapshot)
    with open(written[0], "a", encoding="utf-8") as fh:  # evidence.md
        fh.write(flags)
    if not args.quiet:
        print(markdown(evidence) + flags)
        print(f"wrote {', '.join(map(str, written))}", file=sys.stderr)
    return 0


def built_values_markdown(db, snapshot) -> str:
    """The built month's values by kind, its not-measured indicators, its stale typed values
    (scoring/coverage.py); a line saying so when the snapshot is not built."""
    from .. import coverage
    from ..catalogue_summaries import built_provenance
    from ..errors import ScoringError

    try:
        built = built_provenance(db, snapshot)
    except ScoringError as exc:
        return f"\n## Values by kind\n\n{exc}\n"
    return "\n" + "\n".join(coverage.markdown(built, snapshot))


def catalogue_flags_markdown(db, snapshot) -> str:
    """Stale catalogue entries, vanished repositories, boards that stopped updating."""
    from osir_crawl.inputs.catalogue_flags import catalogue_flags

    flags = catalogue_flags(db, snapshot)
    lines = ["", "## Catalogue flags", ""]
    lines += [f"- {f['flag']}: {f['entry'] or ''} ({f['org'] or ''}) — {f['detail']}"
              for f in flags] or ["None."]
    return "\n".join(lines) + "\n"
