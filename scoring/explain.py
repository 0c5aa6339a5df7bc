"""Why an organisation ranks where it does.

    explain_org(ranking, org, accumulated=False, labels=None) -> dict
    format_explanation(report) -> str        the readable table

For each dimension: every indicator's raw value, the column max (and min with
``minmax``), the normalised value, its weight and its contribution to the
dimension score (n / k for the plain mean, w·n / Σw when weighted; the
contributions add up to the score); then the dimension score and rank, the
discount g(rank), the overall weight, the term w·g(rank) and its share of the
overall score. ``accumulated=True`` explains ``overall-accumulated-rank``.
"""

import difflib

from osir_crawl.text_tables import table_lines

from .errors import ScoringError
from .rank import ACCUMULATED, DELTA


def _find_org(ranking, org):
    known = []
    for t in ranking.rankings.values():
        known += [o for o in t.index if o not in known]
    if org in known:
        return org
    folded = [o for o in known if o.casefold() == org.casefold()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(org, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(known)}"
    raise ScoringError(f"organisation {org!r} not found in this month's tables{hint}")


def _value(x):
    """A numpy scalar as a plain int or float; NaN as None."""
    if x is None or x != x:
        return None
    return x.item() if hasattr(x, "item") else x


def not_measured(ranking, accumulated=False):
    """``[{"dimension", "indicator"}]``: the indicators of the month's tables that no
    organisation has a value for (every value 0 or missing): x/max is 0/0, so each dimension's
    mean leaves them out, for every organisation."""
    out = []
    for d, _ in ranking.method.overall_weights:
        key = d + ACCUMULATED if accumulated and d + ACCUMULATED in ranking.inputs else d
        raw = ranking.inputs.get(key)
        if raw is None:
            continue
        for c in ranking.method.dimension(d).indicators:
            if c in raw.columns and not (raw[c].fillna(0) != 0).any():
                out.append({"dimension": d, "indicator": c})
    return out


def explain_org(ranking, org, accumulated=False, labels=None, month=None):
    """A JSON-ready dict explaining ``org``'s dimension and overall ranks. ``month`` names the
    month in the "not measured" line (default: the tables' names)."""
    org = _find_org(ranking, org)
    method = ranking.method
    labels = labels or {}
    overall_name = f"overall{ACCUMULATED}-rank" if accumulated else "overall-rank"
    if overall_name not in ranking.rankings:
        raise ScoringError(f"no {overall_name}: the month has no accumulated summaries")
    overall = ranking.rankings[overall_name]
    in_overall = org in overall.index
    o_score = _value(overall.at[org, "score"]) if in_overall else None

    dims = []
    for d, w in method.overall_weights:
        acc = accumulated and f"{d}{ACCUMULATED}-rank" in ranking.rankings
        stem, key = (f"{d}{ACCUMULATED}-rank", d + ACCUMULATED) if acc else (f"{d}-rank", d)
        t, raw = ranking.rankings[stem], ranking.inputs[key]
        dim = method.dimension(d)
        columns = [c for c in dim.indicators if c in t.columns]
        entry = {"dimension": d, "table": stem, "source": raw.attrs.get("source", key),
                 "present": org in t.index}
        if org not in t.index:
            dims.append(entry)
            continue
        weights = [dim.weight(c) for c in columns]
        row = [_value(t.at[org, c]) for c in columns]
        wsum = sum(wj for wj, n in zip(weights, row) if n is not None)
        inds = []
        for c, n, wj in zip(columns, row, weights):
            item = {"indicator": c,
                    "group": labels.get(d, {}).get(c, {}).get("group"),
                    "label": labels.get(d, {}).get(c, {}).get("label"),
                    "raw": _value(raw.at[org, c]), "max": _value(raw[c].max())}
            if method.normalisation == "minmax":
                item["min"] = _value(raw[c].min())
            item["normalised"] = n
            item["weight"] = None if dim.weights is None else wj
            item["contribution"] = (wj * n / wsum) if n is not None and wsum else None
            inds.append(item)
        rank = _value(t.at[org, "rank"])
        g = method.g(rank) if rank is not None else None
        term = w * g if g is not None else None
        entry.update({
            "indicators": inds,
            "skipped": [c for c in dim.indicators if c not in columns],
            "k": sum(n is not None for n in row),
            "score": _value(t.at[org, "score"]), "rank": rank, "of": len(t),
            "distinct_ranks": int(t["rank"].nunique()),
            "delta_rank": _value(t.at[org, DELTA]) if DELTA in t else None,
            "discount": g, "overall_weight": w, "overall_term": term,
            "share": (term / o_score) if in_overall and term is not None and o_score else None,
        })
        dims.append(entry)
    return {
        "org": org,
        "month": month,
        "not_measured": not_measured(ranking, accumulated),
        "method": {"normalisation": method.normalisation, "ties": method.ties,
                   "discount": method.discount, "combine":
                       {d.name: ("weighted mean" if d.weights else "mean")
                        for d in method.dimensions}},
        "dimensions": dims,
        "overall": {"table": overall_name, "present": in_overall, "score": o_score,
                    "rank": _value(overall.at[org, "rank"]) if in_overall else None,
                    "of": len(overall),
                    "delta_rank": (_value(overall.at[org, DELTA])
                                   if in_overall and DELTA in overall else None)},
    }


def _num(x, digits=6):
    if x is None:
        return "-"
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def _delta(d):
    return "" if d is None else f", delta rank {d:+d}"


def _table(headers, rows, right):
    return table_lines(headers, rows, right=[j for j, r in enumerate(right) if r],
                       markdown=False, rule=False, indent="  ")


def format_explanation(explanation):
    """The readable text form of :func:`explain_org`'s report."""
    overall = explanation["overall"]
    out = []
    if overall["present"]:
        out.append(f"{explanation['org']}: {overall['table']} {overall['rank']} of "
                   f"{overall['of']}, score {_num(overall['score'], 10)}"
                   f"{_delta(overall['delta_rank'])}")
    else:
        out.append(f"{explanation['org']}: not in {overall['table']} (missing from a dimension)")
    m = explanation["method"]
    out.append(f"method: normalisation {m['normalisation']}, ranks {m['ties']}, "
               f"discount {m['discount']}")
    if explanation.get("not_measured"):
        month = f" in {explanation['month']}" if explanation.get("month") else ""
        out.append(f"not measured{month}: " + ", ".join(
            f"{i['dimension']} {i['indicator']}" for i in explanation["not_measured"])
            + " (no organisation has a value: each dimension's mean leaves it out, for every "
              "organisation alike)")
    summary = []
    for d in explanation["dimensions"]:
        out.append("")
        if not d["present"]:
            out.append(f"{d['dimension']}: not in {d['source']}")
            continue
        out.append(f"{d['dimension']} ({d['source']}): score {_num(d['score'], 10)}, rank {d['rank']} "
                   f"of {d['of']}{_delta(d['delta_rank'])}")
        minmax = m["normalisation"] == "minmax"
        weighted = any(i["weight"] is not None for i in d["indicators"])
        headers = ["indicator", "raw", "max"] + (["min"] if minmax else []) + \
                  ["normalised"] + (["weight"] if weighted else []) + ["contribution", "label"]
        rows = []
        for i in d["indicators"]:
            rows.append([i["indicator"], _num(i["raw"]), _num(i["max"])]
                        + ([_num(i["min"])] if minmax else [])
                        + [_num(i["normalised"])] + ([_num(i["weight"])] if weighted else [])
                        + [_num(i["contribution"]), i["label"] or ""])
        total = sum(i["contribution"] for i in d["indicators"] if i["contribution"] is not None)
        rows.append(["= score", "", ""] + ([""] if minmax else []) + [""]
                    + ([""] if weighted else []) + [_num(total), ""])
        right = [False] + [True] * (len(headers) - 2) + [False]
        out += _table(headers, rows, right)
        notes = []
        if d["skipped"]:
            notes.append(f"not in the table, skipped: {', '.join(d['skipped'])}")
        nan = [i["indicator"] for i in d["indicators"] if i["normalised"] is None]
        if nan:
            notes.append(f"divisor 0, skipped: {', '.join(nan)}")
        out += [f"  ({n})" for n in notes]
        summary.append([d["dimension"], d["rank"], _num(d["discount"]), _num(d["overall_weight"]),
                        _num(d["overall_term"]),
                        "-" if d["share"] is None else f"{100 * d['share']:.1f}%"])
    out.append("")
    out.append("overall = sum of weight x g(rank), g(rank) = 1/log2(rank+1)")
    if overall["present"]:
        summary.append(["= score", "", "", "", _num(overall["score"]), "100.0%"])
    out += _table(["dimension", "rank", "g(rank)", "weight", "weight x g", "share"], summary,
                  [False, True, True, True, True, True])
    return "\n".join(out)
