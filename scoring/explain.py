"""Why an organisation ranks where it does.

    explain_org(ranking, org, accumulated=False, labels=None) -> dict
    format_explanation(report) -> str        the readable table

explain_org's steps, each usable alone (the site, scoring/site/, takes the report and
not_measured from here, as the CLI does):
overall_context (the overall rank), dimension_explanation per dimension (dimension_tables: the
org's values; indicator_breakdown: each indicator's part of the score; rank_context: the
rank's part of the overall score), not_measured (indicators no organisation has), and
method_summary. format_explanation only renders the report.

For each dimension: every indicator's raw value, the column max (and min with
``minmax``), the normalised value, its weight and its contribution to the
dimension score (n / k for the plain mean, w·n / Σw when weighted; the
contributions add up to the score); then the dimension score and rank, the
discount g(rank), the overall weight, the term w·g(rank) and its share of the
overall score. ``accumulated=True`` explains ``overall-accumulated-rank``.
"""

import difflib

from osir_crawl.ops.text_tables import table_lines

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
    overall = overall_context(ranking, org, accumulated)
    dims = [dimension_explanation(ranking, org, d, w, accumulated, labels or {}, overall["score"])
            for d, w in ranking.method.overall_weights]
    return {
        "org": org,
        "month": month,
        "not_measured": not_measured(ranking, accumulated),
        "method": method_summary(ranking.method),
        "dimensions": dims,
        "overall": overall,
    }


def method_summary(method):
    """The method's choices the explanation depends on."""
    return {"normalisation": method.normalisation, "ties": method.ties,
            "discount": method.discount,
            "combine": {d.name: ("weighted mean" if d.weights else "mean")
                        for d in method.dimensions}}


def overall_context(ranking, org, accumulated=False):
    """``org``'s place in the overall ranking (or the accumulated one): its table, score, rank,
    the number ranked and the rank change."""
    name = f"overall{ACCUMULATED}-rank" if accumulated else "overall-rank"
    if name not in ranking.rankings:
        raise ScoringError(f"no {name}: the month has no accumulated summaries")
    table = ranking.rankings[name]
    present = org in table.index
    return {"table": name, "present": present,
            "score": _value(table.at[org, "score"]) if present else None,
            "rank": _value(table.at[org, "rank"]) if present else None,
            "of": len(table),
            "delta_rank": (_value(table.at[org, DELTA]) if present and DELTA in table else None)}


def dimension_tables(ranking, dimension, accumulated=False):
    """``(ranked table's name, ranked table, raw input, input's name)`` of ``dimension``: its
    accumulated pair where asked for and the month has one."""
    acc = accumulated and f"{dimension}{ACCUMULATED}-rank" in ranking.rankings
    stem, key = ((f"{dimension}{ACCUMULATED}-rank", dimension + ACCUMULATED) if acc
                 else (f"{dimension}-rank", dimension))
    return stem, ranking.rankings[stem], ranking.inputs[key], key


def dimension_explanation(ranking, org, dimension, overall_weight, accumulated=False,
                          labels=None, overall_score=None):
    """``org`` in one dimension: where the values come from, each indicator's part of the
    score (:func:`indicator_breakdown`) and the rank's part of the overall score
    (:func:`rank_context`); only the first where the dimension does not rank ``org``."""
    stem, table, raw, key = dimension_tables(ranking, dimension, accumulated)
    entry = {"dimension": dimension, "table": stem, "source": raw.attrs.get("source", key),
             "present": org in table.index}
    if not entry["present"]:
        return entry
    dim = ranking.method.dimension(dimension)
    indicators = indicator_breakdown(ranking.method, dim, table, raw, org,
                                     (labels or {}).get(dimension, {}))
    entry.update({
        "indicators": indicators,
        "skipped": [c for c in dim.indicators if c not in table.columns],
        "k": sum(i["normalised"] is not None for i in indicators),
        **rank_context(ranking.method, table, org, overall_weight, overall_score),
    })
    return entry


def indicator_breakdown(method, dim, table, raw, org, labels=None):
    """Per indicator of ``dim`` the ranked ``table`` has: ``org``'s raw value, the column max
    (and min with ``minmax``), the normalised value, its weight and its contribution to the
    dimension score (n / k for the plain mean, w·n / Σw when weighted)."""
    labels = labels or {}
    columns = [c for c in dim.indicators if c in table.columns]
    weights = [dim.weight(c) for c in columns]
    normalised = [_value(table.at[org, c]) for c in columns]
    wsum = sum(w for w, n in zip(weights, normalised) if n is not None)
    out = []
    for c, n, w in zip(columns, normalised, weights):
        item = {"indicator": c,
                "group": labels.get(c, {}).get("group"),
                "label": labels.get(c, {}).get("label"),
                "raw": _value(raw.at[org, c]), "max": _value(raw[c].max())}
        if method.normalisation == "minmax":
            item["min"] = _value(raw[c].min())
        item["normalised"] = n
        item["weight"] = None if dim.weights is None else w
        item["contribution"] = (w * n / wsum) if n is not None and wsum else None
        out.append(item)
    return out


def rank_context(method, table, org, overall_weight, overall_score=None):
    """``org``'s score and rank in a dimension's ranked ``table``, the discount g(rank), and
    the term w·g(rank) with its share of the overall score."""
    rank = _value(table.at[org, "rank"])
    g = method.g(rank) if rank is not None else None
    term = overall_weight * g if g is not None else None
    return {"score": _value(table.at[org, "score"]), "rank": rank, "of": len(table),
            "distinct_ranks": int(table["rank"].nunique()),
            "delta_rank": _value(table.at[org, DELTA]) if DELTA in table else None,
            "discount": g, "overall_weight": overall_weight, "overall_term": term,
            "share": (term / overall_score) if term is not None and overall_score else None}


def _num(x, digits=6):
    if x is None:
        return "-"
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def _delta(d):
    """Rank change as a signed whole number; a float from a DataFrame column (NaN: none)."""
    if d is None or d != d:
        return ""
    return f", delta rank {int(d):+d}"


def _table(headers, rows, right):
    return table_lines(headers, rows, right=[j for j, r in enumerate(right) if r],
                       markdown=False, rule=False, indent="  ")


def format_explanation(explanation):
    """The readable text form of :func:`explain_org`'s report."""
    out = _heading(explanation)
    summary = []
    for d in explanation["dimensions"]:
        out.append("")
        out += _dimension_lines(d, explanation["method"]["normalisation"] == "minmax")
        if d["present"]:
            summary.append([d["dimension"], d["rank"], _num(d["discount"]),
                            _num(d["overall_weight"]), _num(d["overall_term"]),
                            "-" if d["share"] is None else f"{100 * d['share']:.1f}%"])
    return "\n".join(out + _overall_lines(explanation["overall"], summary))


def _heading(explanation):
    """The overall rank, the method and the indicators not measured."""
    overall = explanation["overall"]
    if overall["present"]:
        out = [f"{explanation['org']}: {overall['table']} {overall['rank']} of "
               f"{overall['of']}, score {_num(overall['score'], 10)}"
               f"{_delta(overall['delta_rank'])}"]
    else:
        out = [f"{explanation['org']}: not in {overall['table']} (missing from a dimension)"]
    m = explanation["method"]
    out.append(f"method: normalisation {m['normalisation']}, ranks {m['ties']}, "
               f"discount {m['discount']}")
    if explanation.get("not_measured"):
        month = f" in {explanation['month']}" if explanation.get("month") else ""
        out.append(f"not measured{month}: " + ", ".join(
            f"{i['dimension']} {i['indicator']}" for i in explanation["not_measured"])
            + " (no organisation has a value: each dimension's mean leaves it out, for every "
              "organisation alike)")
    return out


def _dimension_lines(d, minmax):
    """One dimension: its score and rank, the indicator table summing to the score, notes."""
    if not d["present"]:
        return [f"{d['dimension']}: not in {d['source']}"]
    out = [f"{d['dimension']} ({d['source']}): score {_num(d['score'], 10)}, rank {d['rank']} "
           f"of {d['of']}{_delta(d['delta_rank'])}"]
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
    return out + [f"  ({n})" for n in notes]


def _overall_lines(overall, summary):
    """The overall score as the sum of the dimensions' weight x g(rank) terms."""
    out = ["", "overall = sum of weight x g(rank), g(rank) = 1/log2(rank+1)"]
    if overall["present"]:
        summary = summary + [["= score", "", "", "", _num(overall["score"]), "100.0%"]]
    return out + _table(["dimension", "rank", "g(rank)", "weight", "weight x g", "share"],
                        summary, [False, True, True, True, True, True])
