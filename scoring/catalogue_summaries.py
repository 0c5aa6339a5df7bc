"""The infrastructure and evaluation summaries of one snapshot from that snapshot's crawl plus
the catalogue (data/catalogue), with the provenance of every value: nothing carried forward
from a published file. Also the model dimension's ``num_adapted_chips`` and the data
dimension's ``operators``.

Frames in, frames out::

    inputs = read_inputs(db_path, "2025-10-07")          # the crawl's rows of the snapshot
    out = catalogue_summaries(load_catalogue(), "2025-10-07", orgs, inputs)
    out.tables["infra"]      # org x the 12 infra indicators     (index: orgs, in order)
    out.tables["eval"]       # org x the 5 eval indicators
    out.columns["model"]     # num_adapted_chips per org;  out.columns["data"]: operators
    out.provenance           # dimension, org, indicator, value, kind, source, as_of, flags
    with_kinds(build_provenance, snapshot, out)   # the build's cells, kinds and dates added

A value's ``kind`` is ``crawl`` when every part of it was read from a platform this snapshot (a
board a leaderboard spider read; ``source`` the crawl id, ``as_of`` the crawl date), ``rule``
when every part came from this snapshot's crawl and at least one was counted by a catalogue
counting rule over a repository the forge spider read (same source and date), else ``catalogue`` (``source`` the evidence URL of the
first catalogue entry behind it, ``as_of`` the oldest ``verified`` date among them; a value no
entry supplies is 0 with the catalogue's ``seeded_from`` list and ``reviewed`` date).
docs/catalogue.md describes how each indicator is derived.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from osir_crawl.inputs.catalogue import Catalogue
from osir_crawl.ops.outputs import store_path
from osir_crawl.rules.eval_rules import (
    MAX_AGE_DAYS,
    OpenWeights,
    board_maintained,
    board_max_age,
    judge_entries,
)

INFRA = ("num_operators", "num_adapted_chips_operator_lib",
         "num_adapted_frameworks_operator_lib", "support_heterogeneous_training_frameworks",
         "num_adapted_chips_frameworks", "support_lifecycle",
         "num_adapted_frameworks_ai_compiler", "num_adapted_chips_ai_compiler",
         "deep_learning_framework", "num_adapted_chips_communication_lib",
         "support_cross_chip_communication", "support_heterogeneous_training_communication_lib")
EVAL = ("num_leaderboards", "num_evaluated_models", "num_evaluation_datasets",
        "num_evaluation_methods", "num_evaluation_tools")
# (indicator, project kind, how: sum | chips | frameworks | lifecycle | any:<flag> | exists)
INFRA_RULES = (
    ("num_operators", "operator_library", "sum"),
    ("num_adapted_chips_operator_lib", "operator_library", "chips"),
    ("num_adapted_frameworks_operator_lib", "operator_library", "frameworks"),
    ("support_heterogeneous_training_frameworks", "parallel_framework",
     "any:heterogeneous_training"),
    ("num_adapted_chips_frameworks", "parallel_framework", "chips"),
    ("support_lifecycle", "parallel_framework", "lifecycle"),
    ("num_adapted_frameworks_ai_compiler", "ai_compiler", "frameworks"),
    ("num_adapted_chips_ai_compiler", "ai_compiler", "chips"),
    ("deep_learning_framework", "deep_learning_framework", "exists"),
    ("num_adapted_chips_communication_lib", "communication_library", "chips"),
    ("support_cross_chip_communication", "communication_library", "any:cross_chip"),
    ("support_heterogeneous_training_communication_lib", "communication_library",
     "any:heterogeneous_training"),
)
RESTING = ("inactive", "archived")  # catalogue statuses whose projects are not counted
PROVENANCE = ("dimension", "org", "indicator", "value", "kind", "source", "as_of", "flags")


@dataclass
class Inputs:
    """The crawl's rows of one snapshot that the catalogue indicators read."""

    snapshot: str
    counts: pd.DataFrame  # catalogue_counts: rule, value, names (list), crawl_id, fetched_at
    repos: pd.DataFrame  # catalogue_repos: platform, repo_id, entry, exists, archived, …
    boards: pd.DataFrame  # boards: board, maintained, dataset_release, crawl_id, …
    entries: pd.DataFrame  # leaderboard_entries: board, model, counted, crawl_id, fetched_at
    # the store's hub models, for entries a crawl left unjudged (read only when there are any)
    weights: OpenWeights | None = None


@dataclass
class CatalogueBuild:
    tables: dict  # "infra", "eval": frames indexed by org
    columns: dict  # "model": num_adapted_chips, "data": operators (Series by org)
    provenance: pd.DataFrame
    flags: list = field(default_factory=list)


EMPTY = {"counts": ("rule", "value", "names", "crawl_id", "fetched_at"),
         "repos": ("platform", "repo_id", "entry", "exists", "archived", "crawl_id"),
         "boards": ("board", "maintained", "dataset_release", "last_update", "crawl_id",
                    "fetched_at", "url"),
         "entries": ("board", "model", "org", "url", "public", "evaluated_at", "counted",
                     "excluded", "crawl_id", "fetched_at")}
TABLES = {"counts": "catalogue_counts", "repos": "catalogue_repos", "boards": "boards",
          "entries": "leaderboard_entries"}


def read_inputs(db_path, snapshot: str) -> Inputs:
    """The snapshot's rows of the four tables (empty frames for a table the store lacks)."""
    frames = {k: pd.DataFrame(columns=list(cols)) for k, cols in EMPTY.items()}
    if Path(db_path).exists():
        conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
        try:
            have = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            for key, table in TABLES.items():
                if table in have:
                    frames[key] = pd.read_sql_query(
                        f"SELECT * FROM [{table}] WHERE snapshot = ?", conn, params=[snapshot])
        finally:
            conn.close()
    if len(frames["counts"]):
        frames["counts"]["names"] = frames["counts"]["names"].map(
            lambda v: json.loads(v) if isinstance(v, str) else list(v or []))
    weights = None
    if frames["entries"]["counted"].isna().any():  # a crawl before the one rule step
        weights = OpenWeights.from_store(db_path, snapshot)
    return Inputs(snapshot, **frames, weights=weights)


def judged_entries(cat: Catalogue, inputs: Inputs, day: dt.date, max_age_days: int
                   ) -> pd.DataFrame:
    """The snapshot's board entries, each with its decision under the seed's rules: the stored
    one, or for an entry a crawl left unjudged (a store written before the rule step), the
    same step now (osir_crawl/rules/eval_rules.py) against the store's hub models."""
    entries = inputs.entries.copy()
    todo = entries["counted"].isna() if len(entries) else pd.Series([], dtype=bool)
    if todo.any():
        rows = entries[todo].astype(object).where(entries[todo].notna(), None)
        rows = rows.to_dict("records")
        for row in rows:
            row.setdefault("public_by", None)
        dated = {b: d for b, d in zip(inputs.boards.get("board", []),
                                      inputs.boards.get("last_update", [])) if d}
        for board in {r["board"] for r in rows} - set(dated):  # no boards row: its entries' dates
            latest = max((str(r["evaluated_at"]) for r in rows
                          if r["board"] == board and r.get("evaluated_at")), default=None)
            if latest:
                dated[board] = latest
        weights = inputs.weights or OpenWeights()
        weights.access = cat.model_access
        decisions = judge_entries(rows, dated, weights, cat, day, max_age_days)
        entries.loc[todo, "counted"] = [int(d.counted) for d in decisions]
        entries.loc[todo, "excluded"] = [d.excluded for d in decisions]
    return entries


class _Origin:
    """Where one part of a value came from."""

    def __init__(self, kind, source, as_of, flags=()):
        self.kind, self.source, self.as_of, self.flags = kind, source, as_of, list(flags)


def _crawl_origin(row, kind: str = "crawl") -> _Origin:
    return _Origin(kind, row["crawl_id"], str(row.get("fetched_at") or "")[:10] or None)


def _entry_origin(entry, day, vanished=()) -> _Origin:
    flags = []
    if entry.stale_on(day):
        flags.append(f"stale: {entry.id} last verified {entry.verified}")
    if getattr(entry, "status", "active") == "unmaintained":
        flags.append(f"unmaintained: {entry.id} ({entry.where})")
    flags += [f"vanished: {r}" for r in vanished]
    return _Origin("catalogue", entry.evidence[0], entry.verified.isoformat(), flags)


def _cell(parts: list[_Origin], value, default: _Origin) -> dict:
    """One provenance cell from the origins of its parts."""
    if not parts:
        origin = default
    elif all(p.kind in ("crawl", "rule") for p in parts):
        origin = next((p for p in parts if p.kind == "rule"), parts[0])
    else:
        cats = [p for p in parts if p.kind == "catalogue"]
        origin = min(cats, key=lambda p: p.as_of)
        origin = _Origin("catalogue", cats[0].source, origin.as_of)
    flags = sorted({f for p in parts for f in p.flags})
    return {"value": value, "kind": origin.kind, "source": origin.source,
            "as_of": origin.as_of, "flags": flags}


def catalogue_summaries(cat: Catalogue, snapshot: str, orgs, inputs: Inputs,
                        max_age_days: int = MAX_AGE_DAYS) -> CatalogueBuild:
    day = dt.date.fromisoformat(snapshot)
    orgs = list(orgs)
    cells = []  # (dimension, org, indicator, cell)
    vanished = _vanished(inputs)
    counts = {r["rule"]: r for _, r in inputs.counts.iterrows()}
    infra_default = _Origin("catalogue", cat.infra.seeded_from[0], cat.infra.reviewed.isoformat())
    eval_default = _Origin("catalogue", cat.eval.seeded_from[0], cat.eval.reviewed.isoformat())
    projects, resting = counted_projects(cat, day)
    entries = judged_entries(cat, inputs, day, max_age_days)
    for org in orgs:
        mine = [p for p in projects if p.org == org]
        for dimension, indicator, value, origins in _project_values(mine, counts, day, vanished,
                                                                    cat.vendor):
            cells.append((dimension, org, indicator, _cell(origins, value, infra_default)))
        value, origins = _model_chips(cat, org, day)
        cells.append(("model", org, "num_adapted_chips", _cell(origins, value, infra_default)))
        for indicator, value, origins in _eval_values(cat, org, day, inputs, max_age_days,
                                                      entries):
            cells.append(("eval", org, indicator, _cell(origins, value, eval_default)))
    prov = pd.DataFrame([{"dimension": d, "org": o, "indicator": i, **c} for d, o, i, c in cells],
                        columns=list(PROVENANCE))
    tables, columns = _by_org(prov, orgs)
    flags = sorted({f for fs in prov["flags"] for f in fs}) + resting
    return CatalogueBuild(tables, columns, prov, flags)


def counted_projects(cat: Catalogue, day: dt.date):
    """The catalogue's projects that count on ``day``, and a flag for each that does not
    because of its status: an inactive or archived project (no development: dormant or
    read-only) counts for nothing; an unmaintained one (still in use, development wound down)
    counts, flagged where its values are."""
    alive = [p for p in cat.projects if p.exists_on(day)]
    return ([p for p in alive if p.status not in RESTING],
            [f"not counted: {p.id} ({p.org}) is {p.status} ({p.where})"
             for p in alive if p.status in RESTING])


def _by_org(prov: pd.DataFrame, orgs: list):
    """The provenance's values as the infra and eval tables (org x indicator, in order) and the
    model and data columns (a Series by org)."""
    tables = {}
    for dim, names in (("infra", INFRA), ("eval", EVAL)):
        part = prov[prov["dimension"] == dim]
        table = part.pivot(index="org", columns="indicator", values="value")
        tables[dim] = table.reindex(index=orgs, columns=list(names)).astype("int64")
    columns = {dim: prov[prov["dimension"] == dim].set_index("org")["value"].reindex(orgs)
               .astype("int64").rename(ind)
               for dim, ind in (("model", "num_adapted_chips"), ("data", "operators"))}
    return tables, columns


def _vanished(inputs: Inputs) -> dict[str, list[str]]:
    """catalogue id -> repositories the forge answered 404 for."""
    out: dict[str, list[str]] = {}
    repos = inputs.repos
    if len(repos):
        for _, r in repos[repos["exists"] == 0].iterrows():
            out.setdefault(r["entry"], []).append(f"{r['platform']}:{r['repo_id']}")
    return out


# --- infra (and data operators): an org's projects of one kind, added up per indicator -------

def _project_values(projects, counts, day, vanished, vendor):
    """``(dimension, indicator, value, origins)`` of one org's counted ``projects``: the infra
    indicators, then the data dimension's operators (its data processing tools)."""
    for indicator, kind, how in INFRA_RULES:
        parts = [p for p in projects if kind in p.kinds]
        yield ("infra", indicator, *_infra_value(parts, how, counts, day, vanished, vendor))
    tools = [p for p in projects if "data_processing_tool" in p.kinds]
    yield ("data", "operators", *_infra_value(tools, "sum", counts, day, vanished, vendor))


RULE_FIELD = {"sum": "operators", "chips": "chips", "frameworks": "frameworks",
              "lifecycle": "lifecycle", "any:heterogeneous_training": "heterogeneous_training",
              "any:cross_chip": "cross_chip"}  # how an indicator adds up -> the field a
# counting rule counts ("exists" takes the catalogue's kinds)


def _infra_value(projects, how, counts, day, vanished, vendor):
    """An infra indicator over ``projects`` of one kind, with the origin of each part."""
    parts, origins = [], []
    for p in projects:
        rule, crawled = _counting_rule(p, how, counts)
        part = _project_part(p, how, rule, crawled, vendor)
        if part is None:
            continue  # a project without the capability adds nothing to a 0/1 flag
        parts.append(part)
        origins.append(_project_origin(p, rule, crawled, day, vanished))
    return _added_up(how, parts), origins


def _counting_rule(project, how, counts):
    """The project's counting rule for an indicator that adds up ``how``, and the row of what
    this snapshot's crawl counted with it (None: no rule, or not evaluated)."""
    rule = project.rules.get(RULE_FIELD.get(how, ""))
    return rule, (counts.get(rule.key) if rule is not None else None)


def _project_part(project, how, rule, crawled, vendor):
    """What one project adds to an indicator: a number (``sum``), a set of names (``chips``,
    ``frameworks``, ``lifecycle``), True (``any:<flag>`` where the project has it,
    ``exists``), None where it adds nothing. The crawl's count replaces the catalogue's value:
    for stages, what its rule's ``map`` says the names found stand for; a flag is true when its
    rule found at least one name (the evidence of the capability). Chips are counted as
    vendors (``vendor``: a chip name -> its vendor), so two projects naming one vendor
    differently (``npu``, ``ascend``) count it once."""
    if how == "sum":
        return int(crawled["value"]) if crawled is not None else project.operators or 0
    found = rule.meanings(crawled["names"]) if crawled is not None else None
    if how == "chips":
        return {vendor(str(n)) for n in (found if found is not None else project.chips)}
    if how == "frameworks":
        return {f.casefold() for f in (found if found is not None else project.frameworks)}
    if how == "lifecycle":
        return set(found if found is not None else project.lifecycle)
    if how.startswith("any:"):
        return True if (found if found is not None else getattr(project, how[4:])) else None
    return True


def _added_up(how, parts):
    """An indicator's value from its projects' parts."""
    if how == "sum":
        return sum(parts)
    if how in ("chips", "frameworks", "lifecycle"):
        return len(set().union(*parts))
    return int(bool(parts))


def _project_origin(project, rule, crawled, day, vanished) -> _Origin:
    """Where a project's part comes from: the crawl's count, else its catalogue entry (flagged
    where its counting rule was not evaluated)."""
    if crawled is not None:
        return _crawl_origin(crawled, "rule")
    origin = _entry_origin(project, day, vanished.get(project.id, ()))
    if rule is not None:
        origin.flags.append(f"rule not evaluated: {rule.key}")
    return origin


def _model_chips(cat, org, day):
    """The model dimension's num_adapted_chips: the chip vendors the dated adaptation lists
    name for ``org``'s models."""
    chips = [m for m in cat.model_chips if m.org == org and m.exists_on(day)]
    names = {cat.vendor(c) for m in chips for c in m.chips}
    return len(names), [_entry_origin(m, day) for m in chips]


# --- eval: an org's boards (crawled or from the catalogue) and listed entries ----------------

@dataclass
class _BoardTally:
    """An org's counted boards and evaluated models, with the origin of each part."""

    boards: list = field(default_factory=list)
    models: list = field(default_factory=list)
    crawled_models: set = field(default_factory=set)  # casefolded names, once across boards
    listed_models: int = 0  # the catalogue's counts of boards no crawl read


def _eval_values(cat, org, day, inputs: Inputs, max_age_days, entries):
    """``(indicator, value, origins)`` of ``org``'s eval indicators."""
    tally = _BoardTally()
    for b in [b for b in cat.boards if b.org == org and b.exists_on(day)]:
        rows = inputs.boards[inputs.boards["board"].map(b.covers)] if len(inputs.boards) \
            else inputs.boards
        seen = entries[entries["board"].map(b.covers)] if len(entries) else entries
        if b.spider and (len(rows) or len(seen)):
            _tally_crawled(tally, _live_boards(rows, seen), seen)
        elif _catalogue_board_counts(b, day, max_age_days):
            _tally_catalogue(tally, b, day)
    yield "num_leaderboards", len(tally.boards), tally.boards
    yield ("num_evaluated_models", len(tally.crawled_models) + tally.listed_models,
           tally.models)
    for indicator, items in (("num_evaluation_datasets", cat.datasets),
                             ("num_evaluation_methods", cat.methods),
                             ("num_evaluation_tools", cat.tools)):
        mine = [e for e in items if e.org == org and e.exists_on(day)]
        yield indicator, len(mine), [_entry_origin(e, day) for e in mine]


def _live_boards(rows, seen):
    """The crawled boards that count: maintained and not a dataset release; for a board
    without a boards row (an older crawl), live if any of its entries counts."""
    if len(rows):
        return rows[(rows["maintained"] == 1) & (rows["dataset_release"] != 1)]
    return (seen[seen["counted"] == 1].groupby("board")[["crawl_id", "fetched_at"]]
            .first().reset_index())


def _tally_crawled(tally: _BoardTally, live, seen):
    """Each live crawled board, and the models its counted entries name."""
    for _, row in live.iterrows():
        tally.boards.append(_crawl_origin(row))
        counted = seen[(seen["board"] == row["board"]) & (seen["counted"] == 1)]
        tally.crawled_models |= {str(m).casefold() for m in counted["model"]}
        if len(counted):
            tally.models.append(_crawl_origin(row))


def _tally_catalogue(tally: _BoardTally, board, day):
    """A board no crawl read this snapshot, as the catalogue has it; its models count only
    as an open-only figure (the seed counts public models only)."""
    origin = _entry_origin(board, day)
    if board.spider:
        origin.flags.append(f"board not crawled: {board.id}")
    tally.boards.append(origin)
    if board.models is not None and board.public_only:
        tally.listed_models += board.models
        tally.models.append(_entry_origin(board, day))
    elif board.models is not None:  # a mixed figure cannot count
        mixed = _entry_origin(board, day)
        mixed.flags.append(f"not counted as evaluated models: {board.id}'s {board.models} mix "
                           f"open and closed models (no open-only figure with evidence)")
        tally.models.append(mixed)


def _catalogue_board_counts(board, day, max_age_days) -> bool:
    """A board no crawl read this snapshot: not a release, and maintained by the date of its
    evidence (``last_update`` within ``max_age_days``; ``maintained: false`` overrides)."""
    if board.dataset_release or board.maintained is False:
        return False
    return board_maintained(board.last_update, day, max_age_days)[0]


# --- the build's side: constants, provenance kinds, JSON records ----------------------------

CATALOGUE_CELLS = {("model", "num_adapted_chips"), ("data", "operators")}
PUBLISHED_SOURCES = ("infra", "eval")  # and CATALOGUE_CELLS: what the published files supply


def constants(out: CatalogueBuild) -> dict:
    """``{"model": …, "data": …}`` objects with ``.of(org) -> (value, source)``, standing in
    for the published pipeline's constants in the summarise step."""
    from .curated import Constant

    prov = out.provenance.set_index(["dimension", "org", "indicator"])
    result = {}
    for dim, indicator in CATALOGUE_CELLS:
        rows = prov.xs((dim, indicator), level=("dimension", "indicator"))
        values = {org: (int(r["value"]), r["source"]) for org, r in rows.iterrows()}
        result[dim] = Constant(indicator, values, (0, "not in the catalogue"))
    return result


def sources_of(out: CatalogueBuild, dim: str) -> pd.DataFrame:
    """The source of each cell of ``out.tables[dim]`` (a frame shaped like it)."""
    part = out.provenance[out.provenance["dimension"] == dim]
    return (part.pivot(index="org", columns="indicator", values="source")
            .reindex(index=out.tables[dim].index, columns=out.tables[dim].columns))


def with_kinds(provenance: pd.DataFrame, snapshot: str, out: CatalogueBuild | None = None,
               published_as_of: dict | None = None) -> pd.DataFrame:
    """The build's provenance with ``kind``, ``as_of`` and ``flags`` (JSON) per cell. With
    ``out`` (default profile) the catalogue-built cells take their kind, source and date from
    it and every other cell is ``crawl`` as of the snapshot; without (published profile) the
    infra, eval, chips and operators cells are ``published`` (as of ``published_as_of[dim]``,
    the published month used). In both, a count that adds the frozen published list of
    official-site datasets (data/curated/other-source-datasets.csv) is ``published`` as of
    that list's date."""
    from .official_datasets import FROZEN, FROZEN_AS_OF

    frame = provenance.copy()
    base = frame["dimension"].str.removesuffix("-accumulated")
    frame["kind"], frame["as_of"], frame["flags"] = "crawl", snapshot, "[]"
    # counts that add the frozen published list of official-site datasets: never `crawl`
    frozen = frame["source"].astype(str).str.contains(FROZEN, regex=False)
    frame.loc[frozen, "kind"], frame.loc[frozen, "as_of"] = "published", FROZEN_AS_OF
    if out is None:
        mask = base.isin(PUBLISHED_SOURCES) | pd.Series(
            list(zip(base, frame["indicator"])), index=frame.index).isin(CATALOGUE_CELLS)
        frame.loc[mask, "kind"] = "published"
        frame.loc[mask, "as_of"] = base[mask].map(published_as_of or {}).fillna(snapshot)
        return frame
    cells = out.provenance.assign(flags=out.provenance["flags"].map(json.dumps))
    cells = cells.set_index(["dimension", "org", "indicator"])
    keys = pd.MultiIndex.from_arrays([base, frame["org"], frame["indicator"]])
    found = keys.isin(cells.index)
    picked = cells.reindex(keys[found])
    for column in ("kind", "source", "as_of", "flags"):
        frame.loc[found, column] = picked[column].to_numpy()
    return frame


def built_provenance(db_path, snapshot: str) -> pd.DataFrame:
    """The store's ``summaries`` rows of the snapshot's latest build (its provenance)."""
    from .errors import ScoringError
    from .store import open_store, table_columns

    conn = open_store(db_path)
    try:
        have = table_columns(conn, "summaries")
        if "kind" not in have:
            raise ScoringError(f"{db_path}: no build with provenance: run python -m scoring "
                               f"build --snapshot {snapshot} --db {db_path}")
        frame = pd.read_sql_query(
            "SELECT dimension, org, indicator, value, kind, source, as_of, flags FROM summaries "
            "WHERE snapshot = ? ORDER BY rowid", conn, params=[snapshot])
    finally:
        conn.close()
    if frame.empty:
        raise ScoringError(f"{db_path}: snapshot {snapshot} is not built: run python -m scoring "
                           f"build --snapshot {snapshot} --db {db_path}")
    return frame


def provenance_records(frame: pd.DataFrame) -> list[dict]:
    """The shape of ``python -m scoring evidence --json`` (DESIGN.md): dimension, org,
    indicator, value, kind, source, as_of — plus ``flags`` where any."""
    records = []
    for row in frame.to_dict("records"):
        flags = row.get("flags")
        flags = json.loads(flags) if isinstance(flags, str) else list(flags or [])
        value = row["value"]
        value = int(value) if isinstance(value, float) and value.is_integer() else value
        record = {k: row[k] for k in ("dimension", "org", "indicator")}
        record.update(value=value, kind=row["kind"], source=row["source"], as_of=row["as_of"])
        if flags:
            record["flags"] = flags
        records.append(record)
    return records


def main(argv=None) -> int:
    import argparse
    import os
    import sys

    from osir_crawl.inputs.catalogue import load_catalogue
    from osir_crawl.inputs.registry import DEFAULT_REGISTRY, load_registry

    parser = argparse.ArgumentParser(
        prog="python -m scoring.catalogue_summaries",
        description="The catalogue-built infra and eval values (and model num_adapted_chips, "
                    "data operators) of one snapshot, with their provenance.")
    parser.add_argument("--snapshot", required=True)
    parser.add_argument("--db", default=None, help="the store (default: OSIR_DB, data/osir.db)")
    parser.add_argument("--json", action="store_true", help="print the provenance as JSON")
    args = parser.parse_args(argv)
    db = store_path(args.db)
    registry = load_registry(os.environ.get("OSIR_ORGS") or DEFAULT_REGISTRY)
    cat = load_catalogue(os.environ.get("OSIR_CATALOGUE") or None, orgs=registry.orgs)
    out = catalogue_summaries(cat, args.snapshot, registry.orgs, read_inputs(db, args.snapshot),
                              board_max_age())
    if args.json:
        records = provenance_records(out.provenance.assign(
            flags=out.provenance["flags"].map(json.dumps)))
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for dim in ("infra", "eval"):
            print(f"## {dim} {args.snapshot}\n{out.tables[dim].to_string()}\n")
        print("\n".join(f"flag: {f}" for f in out.flags))
    return 0


def _main() -> int:
    from .errors import reader_went_away

    try:
        return main()
    except BrokenPipeError:  # output piped into head & co.
        return reader_went_away()


if __name__ == "__main__":
    raise SystemExit(_main())
