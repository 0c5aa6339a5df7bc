"""What a built month's values rest on, from its provenance (one row per summary cell:
dimension, org, indicator, value, kind, as_of, flags): how many values of each dimension are of
each kind, which indicators no organisation has a value for, which typed catalogue values rest
on evidence more than six months older than the snapshot.

An indicator with no value for any organisation (every org 0) has a column maximum of 0: x/max
is 0/0 for every org and the dimension's mean leaves the column out (its divisor k is one
smaller), so the indicator drops out of the ranking. :func:`not_measured` names such columns,
and ``scoring build`` flags their cells ("not measured in …"), so ``scoring evidence``,
``scoring explain`` and the crawl report say so instead of letting them vanish.

Read by ``scoring build`` (flags), ``scoring evidence`` (text and JSON) and the crawl report
(:mod:`osir_crawl.ops.report`, from the store's ``summaries`` rows).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from osir_crawl.inputs.catalogue import STALE_DAYS  # catalogue evidence older than this is stale

DIMENSIONS = ("data", "model", "infra", "eval")  # the monthly tables (not the accumulated)
KINDS = ("crawl", "rule", "catalogue", "published")


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["dimension"].isin(DIMENSIONS)]


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").fillna(0)


def not_measured(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(dimension, indicator) of every monthly indicator no organisation has a value for."""
    part = _monthly(frame).assign(number=lambda f: _numbers(f["value"]))
    top = part.groupby(["dimension", "indicator"], sort=False)["number"].max()
    return [key for key, value in top.items() if value == 0]


def not_measured_note(snapshot: str, missing) -> str:
    """The sentence a reader sees ("not measured in 2025-10-07: model num_adapted_chips")."""
    return f"not measured in {snapshot}: " + ", ".join(f"{d} {i}" for d, i in missing)


def kind_counts(frame: pd.DataFrame) -> dict:
    """{dimension: {kind: {"values": n, "nonzero": m}}} over the monthly tables."""
    part = _monthly(frame).assign(nonzero=lambda f: _numbers(f["value"]) != 0)
    out = {}
    for (dim, kind), group in part.groupby(["dimension", "kind"], sort=False):
        out.setdefault(dim, {})[kind] = {"values": len(group),
                                         "nonzero": int(group["nonzero"].sum())}
    return {d: out[d] for d in DIMENSIONS if d in out}


def stale_values(frame: pd.DataFrame, snapshot: str, days: int = STALE_DAYS) -> pd.DataFrame:
    """Non-zero typed catalogue values whose evidence (``as_of``) is more than ``days`` older
    than the snapshot."""
    part = _monthly(frame)
    day = dt.date.fromisoformat(snapshot)
    as_of = pd.to_datetime(part["as_of"], errors="coerce").dt.date
    old = as_of.map(lambda d: d is not None and d == d and (day - d).days > days)
    return part[(part["kind"] == "catalogue") & old & (_numbers(part["value"]) != 0)]


def with_not_measured(frame: pd.DataFrame, snapshot: str) -> pd.DataFrame:
    """The provenance with the note added to the flags (JSON text) of every cell of a
    not-measured indicator (monthly and accumulated tables alike)."""
    missing = not_measured(frame)
    if not missing:
        return frame
    note = not_measured_note(snapshot, missing) + " (no organisation has a value: the " \
        "dimension's mean leaves the indicator out)"
    frame = frame.copy()
    base = frame["dimension"].str.removesuffix("-accumulated")
    hit = pd.Series(list(zip(base, frame["indicator"])), index=frame.index).isin(missing)
    frame.loc[hit, "flags"] = frame.loc[hit, "flags"].map(
        lambda f: json.dumps(sorted({*(json.loads(f) if isinstance(f, str) and f else []),
                                     note})))
    return frame


def summary(frame: pd.DataFrame, snapshot: str) -> dict:
    """Everything above as one JSON-ready dict."""
    stale = stale_values(frame, snapshot)
    return {"snapshot": snapshot, "kinds": kind_counts(frame),
            "not_measured": [{"dimension": d, "indicator": i} for d, i in not_measured(frame)],
            "stale_catalogue_values": len(stale),
            "stale_examples": stale[["dimension", "org", "indicator", "as_of"]]
            .head(10).to_dict("records")}


def markdown(frame: pd.DataFrame, snapshot: str) -> list[str]:
    """The report section (Markdown lines)."""
    info = summary(frame, snapshot)
    lines = ["## Values by kind", "",
             "Monthly summary cells of the build, per dimension and kind (non-zero in "
             "brackets): crawl = read this snapshot, rule = counted by a rule over crawled "
             "repositories, catalogue = typed with an evidence URL and date, published = from a "
             "frozen published file.", "",
             "| dimension | " + " | ".join(KINDS) + " |", "|---" + "|--:" * len(KINDS) + "|"]
    for dim, kinds in info["kinds"].items():
        cells = [f"{kinds[k]['values']} ({kinds[k]['nonzero']})" if k in kinds else "0"
                 for k in KINDS]
        lines.append(f"| {dim} | " + " | ".join(cells) + " |")
    missing = not_measured(frame)
    lines += ["", (not_measured_note(snapshot, missing) + ". No organisation has a value: "
                   "each drops out of its dimension's mean (x/max is 0/0).")
              if missing else f"Every indicator has a value for some organisation in {snapshot}."]
    lines += ["", f"{info['stale_catalogue_values']} non-zero catalogue values rest on evidence "
              f"more than six months older than {snapshot}"
              + (": " + "; ".join(f"{r['dimension']} {r['org']} {r['indicator']} (as of "
                                  f"{r['as_of']})" for r in info["stale_examples"])
                 + ("…" if info["stale_catalogue_values"] > 10 else "")
                 if info["stale_catalogue_values"] else "") + ".", ""]
    return lines
