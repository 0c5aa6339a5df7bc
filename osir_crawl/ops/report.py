"""The crawl report of one snapshot, from the store's ``crawls`` rows: Markdown and JSON in
``reports/YYYY-MM-DD/`` beside the store (``data/reports/`` for ``data/osir.db``).

Per spider: the latest crawl of the snapshot, its outcome, items, rejects, failures, retries
and duration, and the item count of the spider's latest crawl of the previous snapshot. Items,
rejects and failures are counted in the store by ``crawl_id``, so a crawl resumed from its
JOBDIR (one crawl id, several processes) counts everything it stored, not only the last part.
Flags: not finished (or not started: its host was unreachable); finished with no items; items
fell by more than ``DROP`` since last time. A spider with nothing to crawl (no registry accounts
on its platform) gets a note, not a flag. Failed requests are grouped by cause (DNS lookup
failed, HTTP 404, …) with a count and an example URL.

``python -m osir_crawl.ops.report --snapshot YYYY-MM-DD [--db PATH] [--out DIR]`` rewrites it; it
exits 1 when a spider is flagged, 2 with one ``error:`` line when it cannot (a snapshot that is
not a date, a store that cannot be read).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import sys
from pathlib import Path

from osir_crawl.middlewares.failure_causes import cause_of_reason
from osir_crawl.ops import outputs
from osir_crawl.ops.text_tables import table_lines
from osir_crawl.shards import Shard
from osir_crawl.snapshots import check_snapshot
from osir_crawl.store import RECORD_TABLES, dict_rows, table_names

DROP = 0.20  # a fall in items larger than this is flagged


def _count(conn, tables, table: str, crawl_id: str) -> int:
    if table not in tables:
        return 0
    sql = f"SELECT count(*) FROM [{table}] WHERE crawl_id = ?"
    return conn.execute(sql, [crawl_id]).fetchone()[0]


def latest_crawls(conn, snapshot: str) -> dict[str, dict]:
    """The latest crawl row of each spider for ``snapshot``. A spider crawled in shards
    (``-a shard=I/N``, then ``scrapy merge``) is the latest crawl of each of its shards, as one
    row: counts summed, outcome ``finished`` only if every shard finished (else the first
    shard's that did not), ``crawl_ids`` listing them."""
    rows = dict_rows(conn, "SELECT * FROM crawls WHERE snapshot = ? ORDER BY started_at, rowid",
                 [snapshot])
    by_spider: dict[str, dict[str, dict]] = {}
    for row in rows:  # later rows win, per shard; an unsharded crawl covers every shard
        shards = by_spider.setdefault(row["spider"], {})
        label = row.get("shard") or ""
        if not label:
            shards.clear()
        elif "" in shards or any(Shard.parse(k).count != Shard.parse(label).count
                                 for k in shards):
            shards.clear()  # a later split replaces an earlier whole or other split
        shards[label] = row
    return {spider: _combined(shards) for spider, shards in by_spider.items()}


def _combined(shards: dict[str, dict]) -> dict:
    if list(shards) == [""]:
        return {**shards[""], "crawl_ids": [shards[""]["crawl_id"]]}
    ordered = [shards[k] for k in sorted(shards, key=lambda k: Shard.parse(k).index)]
    first = ordered[0]
    unfinished = [c for c in ordered if c["outcome"] != "finished"]
    return {**first, "crawl_ids": [c["crawl_id"] for c in ordered],
            "outcome": unfinished[0]["outcome"] if unfinished else "finished",
            "shards": [c["shard"] for c in ordered],
            "retries": sum(c["retries"] or 0 for c in ordered),
            "requests": sum(c["requests"] or 0 for c in ordered),
            "started_at": min(c["started_at"] or "" for c in ordered) or None,
            "finished_at": max(c["finished_at"] or "" for c in ordered) or None}


def previous_snapshot(conn, spider: str, snapshot: str) -> str | None:
    row = conn.execute(
        "SELECT max(snapshot) FROM crawls "
        "WHERE spider = ? AND snapshot < ? AND outcome = 'finished'",
        [spider, snapshot]).fetchone()
    return row[0] if row else None


def _seconds(start: str | None, end: str | None) -> float | None:
    try:
        return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return None


def _stats(crawl: dict) -> dict:
    try:
        stats = json.loads(crawl.get("stats") or "{}")
    except ValueError:
        return {}
    return stats if isinstance(stats, dict) else {}


def spider_entry(conn, tables, crawl: dict) -> dict:
    cid = crawl["crawl_id"]
    ids = crawl.get("crawl_ids") or [cid]

    def count(table_names):
        return sum(_count(conn, tables, t, c) for t in table_names for c in ids)

    stats = _stats(crawl)
    return {
        "note": stats.get("osir/nothing_to_crawl"),
        "unreachable": stats.get("osir/unreachable"),
        "spider": crawl["spider"],
        "crawl_id": cid,
        "crawl_ids": ids,
        "shards": crawl.get("shards") or ([crawl["shard"]] if crawl.get("shard") else []),
        "outcome": crawl["outcome"],
        "finish_reason": crawl["finish_reason"],
        "items": count(RECORD_TABLES),
        "rejects": count(["rejects"]),
        "failures": count(["failures"]),
        "retries": crawl["retries"] or 0,
        "requests": crawl["requests"] or 0,
        "started_at": crawl["started_at"],
        "finished_at": crawl["finished_at"],
        "duration_s": _seconds(crawl["started_at"], crawl["finished_at"]),
    }


def flags_of(entry: dict) -> list[str]:
    flags = []
    if entry["outcome"] == "unreachable":
        flags.append(f"not started: host unreachable ({entry['unreachable']})")
    elif entry.get("unreachable") and entry["outcome"] != "finished":
        flags.append(f"not finished ({entry['outcome']}: {entry['unreachable']})")
    elif entry["outcome"] != "finished":
        flags.append(f"not finished ({entry['outcome']})")
    elif entry["items"] == 0 and entry.get("note"):
        pass  # nothing to crawl: a note, not a failure
    elif entry["items"] == 0:
        flags.append("finished with no items" + ("" if entry.get("requests") else
                     " and no requests (no registry accounts on its platform?)"))
    previous = entry.get("previous_items")
    if previous and entry["items"] < previous * (1 - DROP):
        flags.append(f"items fell {1 - entry['items'] / previous:.0%} "
                     f"since {entry['previous_snapshot']}")
    return flags


def failures_by_cause(conn, tables, crawl_ids: list[str]) -> list[dict]:
    """The failed requests of these crawls grouped by cause, most frequent first."""
    if "failures" not in tables or not crawl_ids:
        return []
    groups: dict[str, dict] = {}
    marks = ",".join("?" * len(crawl_ids))
    for row in conn.execute(f"SELECT spider, url, reason FROM failures WHERE crawl_id IN "
                            f"({marks}) ORDER BY id", crawl_ids):
        cause = cause_of_reason(row["reason"])
        group = groups.setdefault(cause, {"cause": cause, "count": 0, "spiders": [],
                                          "example_url": row["url"]})
        group["count"] += 1
        if row["spider"] not in group["spiders"]:
            group["spiders"].append(row["spider"])
    return sorted(groups.values(), key=lambda g: (-g["count"], g["cause"]))


def build_report(db_path: str | Path, snapshot: str, spiders: list[str] | None = None,
                 extra: dict | None = None, not_started: dict[str, str] | None = None) -> dict:
    """The report as a dict. ``spiders``: those expected in this run (a spider with no crawl
    row is reported as ``missing``); default: every spider that crawled the snapshot.
    ``not_started``: spider -> why crawlall did not start it (``host: cause``)."""
    not_started = not_started or {}
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        tables = table_names(conn)
        crawls = latest_crawls(conn, snapshot) if "crawls" in tables else {}
        entries = []
        for name in spiders or sorted(crawls):
            crawl = crawls.get(name)
            if name in not_started or crawl is None:
                entry = {"spider": name, "outcome": "missing", "items": 0, "rejects": 0,
                         "failures": 0, "retries": 0, "requests": 0, "duration_s": None}
                if name in not_started:
                    entry.update(outcome="unreachable", unreachable=not_started[name])
            else:
                entry = spider_entry(conn, tables, crawl)
            prev = previous_snapshot(conn, name, snapshot) if "crawls" in tables else None
            entry["previous_snapshot"] = prev
            entry["previous_items"] = None
            if prev:
                entry["previous_items"] = spider_entry(
                    conn, tables, latest_crawls(conn, prev)[name])["items"]
            entry["flags"] = flags_of(entry)
            entries.append(entry)
        causes = failures_by_cause(conn, tables, [c for e in entries
                                                  for c in e.get("crawl_ids") or []])
    finally:
        conn.close()
    totals = {k: sum(e[k] for e in entries) for k in ("items", "rejects", "failures", "retries")}
    return {
        "snapshot": snapshot,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "store": str(db_path),
        "spiders": entries,
        "totals": totals,
        "failures_by_cause": causes,
        "flagged": [e["spider"] for e in entries if e["flags"]],
        "catalogue_flags": catalogue_section(db_path, snapshot),
        "values": values_section(db_path, snapshot),
        **(extra or {}),
    }


def values_section(db_path, snapshot: str) -> dict | None:
    """The build of the snapshot (scoring's ``summaries`` rows): values by kind per dimension,
    indicators no organisation has a value for, stale typed values (scoring/coverage.py);
    None before the snapshot is built. Never fails the report."""
    try:
        from scoring import coverage
        from scoring.catalogue_summaries import built_provenance
        from scoring.errors import ScoringError

        try:
            return coverage.summary(built_provenance(db_path, snapshot), snapshot)
        except ScoringError:
            return None
    except Exception as exc:  # noqa: BLE001 -- the spider table matters more than this section
        return {"error": f"{type(exc).__name__}: {exc}"}


def catalogue_section(db_path, snapshot: str) -> list[dict]:
    """data/catalogue entries to look at (osir_crawl/inputs/catalogue_flags.py); never fails the report."""
    try:
        from osir_crawl.inputs.catalogue_flags import catalogue_flags
        return catalogue_flags(db_path, snapshot, os.environ.get("OSIR_CATALOGUE") or None)
    except Exception as exc:  # noqa: BLE001 -- the spider table matters more than this section
        return [{"flag": "catalogue flags unavailable", "entry": None, "org": None,
                 "detail": f"{type(exc).__name__}: {exc}", "source": None}]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def to_markdown(report: dict) -> str:
    lines = [f"# Crawl report {report['snapshot']}", "",
             f"Generated {report['generated_at']} from `{report['store']}`.", ""]
    totals = report["totals"]
    lines.append(f"**{len(report['spiders'])} spiders**, {totals['items']:,} items, "
                 f"{totals['rejects']:,} rejects, {totals['failures']:,} failed requests, "
                 f"{totals['retries']:,} retries. "
                 + (f"**Flagged: {', '.join(report['flagged'])}.**" if report["flagged"]
                    else "Nothing flagged."))
    if "scoring" in report:
        lines += ["", f"Scoring: {report['scoring']['status']} — {report['scoring']['detail']}"]
    rows = []
    for e in report["spiders"]:
        prev = e["previous_items"]
        change = f"{(e['items'] - prev) / prev:+.0%}" if prev else "–"
        prev_text = f"{prev:,} ({e['previous_snapshot']})" if prev is not None else "–"
        remark = "; ".join(e["flags"]) or (f"note: {e['note']}" if e.get("note") else "")
        shards = f" (shards {', '.join(e['shards'])})" if e.get("shards") else ""
        rows.append([f"{e['spider']}{shards}", e["outcome"], f"{e['items']:,}", prev_text, change,
                     f"{e['rejects']:,}", f"{e['failures']:,}", f"{e['retries']:,}",
                     _duration(e["duration_s"]), remark])
    lines += ["", *table_lines(("spider", "outcome", "items", "previous", "change", "rejects",
                                "failures", "retries", "duration", "flags"), rows,
                               right=range(2, 9))]
    if report.get("failures_by_cause"):
        lines += ["", "Failed requests by cause:", "", *table_lines(
            ("cause", "requests", "spiders", "example"),
            ([g["cause"], f"{g['count']:,}", ", ".join(g["spiders"]), g["example_url"]]
             for g in report["failures_by_cause"]), right=(1,))]
    lines += ["", f"A spider is flagged when it did not start or finish, finished with no "
              f"items, or its items fell by more than {DROP:.0%} since the previous snapshot; "
              f"one with nothing to crawl (no registry accounts) only gets a note. Rejects and "
              f"failures are in the store tables `rejects` and `failures` (by crawl_id).", ""]
    return "\n".join(lines + values_markdown(report.get("values"), report["snapshot"])
                     + catalogue_markdown(report.get("catalogue_flags") or []))


def values_markdown(values: dict | None, snapshot: str) -> list[str]:
    lines = ["## Values by kind", ""]
    if not values:
        return lines + [f"{snapshot} is not built: no values yet.", ""]
    if "error" in values:
        return lines + [f"unavailable: {values['error']}", ""]
    kinds = ("crawl", "rule", "catalogue", "published")
    lines += ["Monthly summary cells per dimension and kind (non-zero in brackets).", "",
              "| dimension | " + " | ".join(kinds) + " |", "|---" + "|--:" * len(kinds) + "|"]
    for dim, counts in values["kinds"].items():
        lines.append(f"| {dim} | " + " | ".join(
            f"{counts[k]['values']} ({counts[k]['nonzero']})" if k in counts else "0"
            for k in kinds) + " |")
    missing = values["not_measured"]
    lines += ["", f"**not measured in {snapshot}: " + ", ".join(
        f"{m['dimension']} {m['indicator']}" for m in missing) + "** (no organisation has a "
        "value: each drops out of its dimension's mean)" if missing
        else f"Every indicator has a value for some organisation in {snapshot}.",
        "", f"{values['stale_catalogue_values']} non-zero catalogue values rest on evidence more "
        f"than six months older than {snapshot}.", ""]
    return lines


def catalogue_markdown(flags: list[dict]) -> list[str]:
    lines = ["## Catalogue", ""]
    if not flags:
        return lines + ["No catalogue entry flagged.", ""]
    lines += [f"{len(flags)} flags (stale: verified more than six months before the snapshot; "
              "vanished/archived repositories; boards that stopped updating; counting rules "
              "not evaluated).", ""]
    lines += table_lines(("flag", "entry", "org", "detail"),
                         ([f["flag"], f["entry"], f["org"], f["detail"]] for f in flags))
    return lines + [""]


def write_report(db_path: str | Path, snapshot: str, out_dir: str | Path,
                 spiders: list[str] | None = None, extra: dict | None = None,
                 not_started: dict[str, str] | None = None) -> tuple[Path, Path, dict]:
    check_snapshot(snapshot)
    report = build_report(db_path, snapshot, spiders, extra, not_started)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "crawl-report.md", out / "crawl-report.json"
    md.write_text(to_markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md, js, report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m osir_crawl.ops.report",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--snapshot", required=True)
    parser.add_argument("--db", default=None, help="the store (default: OSIR_DB or data/osir.db)")
    parser.add_argument("--out", default=None, help="default: reports/SNAPSHOT beside the store "
                                                    "(data/reports/SNAPSHOT for data/osir.db)")
    args = parser.parse_args(argv)
    db = outputs.store_path(args.db)
    try:  # one line, not a traceback: the snapshot becomes a path, the store may be unusable
        snapshot = check_snapshot(args.snapshot, "--snapshot")
        out = outputs.claim(args.out or outputs.folder(db, "reports", snapshot), db)
        md, js, report = write_report(db, snapshot, out)
    except sqlite3.Error as exc:
        print(f"error: cannot read the store {db}: {exc}", file=sys.stderr)
        return 2
    except (outputs.OutputClash, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {md} and {js}; flagged: {', '.join(report['flagged']) or 'none'}")
    return 1 if report["flagged"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
