"""Per-organisation data and model summaries from the store's records (research/osir-lmts-method.md
§4), as steps over DataFrames.

One snapshot (:func:`month`): keep the records of registry accounts, classify them
(:mod:`scoring.classify`), work out each one's monthly downloads, keep those the method counts
(§4.1: eligible), merge an organisation's copies across platforms (§4.2). Then
:func:`model_summary` and :func:`data_summary` count and sum per organisation (§4.3);
:func:`accumulate` merges the monthly records of several snapshots (§4.4). The
:class:`~scoring.profile.Profile` says which published quirks to reproduce; each is one named
switch, read in exactly one place below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from osir_crawl.inputs.registry import UNREGISTERED_SEPARATOR  # yaml only, no Scrapy

from .classify import classify_datasets, classify_models
from .provenance import sources_like
from .vocabulary import (
    ACCUMULATED,
    DATASET_COLUMN_LIFECYCLES,
    DATASET_COLUMN_MODALITIES,
    INDICATORS,
    MODEL_COLUMN_MODALITIES,
    column,
)

KINDS = ("models", "datasets")
DATASETS_NEED_BASELINE = ("opendatalab", "baai_data")  # no baseline or a fall: not counted
MERGED = ("org", "name", "repo", "platform", "modality", "lifecycle", "downloads", "likes",
          "community", "usage")


@dataclass
class Month:
    """One snapshot's eligible records, merged, and the classification of its records."""

    snapshot: str
    previous: str | None
    models: pd.DataFrame  # merged records (columns MERGED)
    datasets: pd.DataFrame
    classification: pd.DataFrame  # one row per record of a registry account


def month(snapshot, records, previous, previous_totals, labels, profile, accounts=None) -> Month:
    """``records``: {"models": frame, "datasets": frame} of :func:`scoring.store.read_records`;
    ``previous_totals``: the same of :func:`scoring.store.read_totals` for the ``previous``
    snapshot (or None); ``accounts``: {platform: account names as the registry spells them}."""
    eligible, verdicts = {}, []
    for kind in KINDS:
        rows = of_registry_accounts(records[kind], accounts, profile)
        if kind == "models":
            verdict = classify_models(rows, labels, profile.use_rules)
        else:
            verdict = classify_datasets(rows, labels, profile.use_rules)
        base = baseline(rows, kind, previous_totals, profile)
        downloads = monthly_downloads(rows, kind, base, profile)
        keep = eligible_mask(rows, kind, verdict, downloads, profile).to_numpy()
        eligible[kind] = pd.DataFrame({
            "org": rows["org"][keep], "name": rows["name"][keep], "repo": rows["owner"][keep],
            "platform": rows.platform[keep], "modality": verdict.modality[keep],
            "lifecycle": verdict["lifecycle"][keep] if "lifecycle" in verdict else None,
            "downloads": downloads[keep], "likes": rows.likes[keep],
            "community": rows.community[keep], "usage": rows.usage[keep]})
        verdicts.append(classification_rows(rows, kind, verdict))
    return Month(snapshot, previous, merge(eligible["models"], profile),
                 merge(eligible["datasets"], profile), pd.concat(verdicts, ignore_index=True))


def of_registry_accounts(records, accounts, profile):
    """Records with an organisation; with ``owner_case_sensitive``, only those whose owner is
    spelt exactly as the registry spells the account (platforms without accounts: all).
    Records of unregistered authors (``platform:author``, read for ``--universe all`` only)
    are their author's own: the registry's spelling does not apply to them."""
    rows = records[records.org.notna() & (records.org != "")]
    if profile.owner_case_sensitive and accounts:
        registered = ~rows.org.str.contains(UNREGISTERED_SEPARATOR, regex=False)
        listed = rows.platform.isin(list(accounts)) & registered
        spelt = pd.Series(False, index=rows.index)
        for platform, names in accounts.items():
            on = rows.platform == platform
            spelt |= on & rows.owner.isin(list(names))
        rows = rows[~listed | spelt]
    return rows


def classification_rows(rows, kind, verdict) -> pd.DataFrame:
    """The store's ``classification`` rows of one kind."""
    out = pd.DataFrame({"kind": kind[:-1], "platform": rows.platform, "repo_id": rows.repo_id,
                        "org": rows.org, "path": verdict.path, "reason": verdict.reason,
                        "modality": verdict.modality, "large_model": _flag(verdict.get("large")),
                        "lifecycle": verdict.get("lifecycle"),
                        "valid": _flag(verdict.get("valid"))})
    return out.reset_index(drop=True)


def _flag(values):
    return None if values is None else values.map({True: 1, False: 0}).astype("Int64")


# -- monthly downloads (§4.1) ---------------------------------------------------------------------

def baseline(rows, kind, previous_totals, profile) -> pd.Series:
    """Last month's cumulative total of each record (NA where there is none), looked up as the
    profile keys it: with ``ms_key_collision`` ModelScope models and datasets share one lookup
    by repo_id, datasets written last (a same-named dataset's total is a model's baseline)."""
    if previous_totals is None:
        return pd.Series(pd.NA, index=rows.index, dtype="Int64")
    own = previous_totals[kind]
    base = _lookup(own.platform + "\x1f" + own.repo_id, own.downloads_total,
                   rows.platform + "\x1f" + rows.repo_id)
    if profile.ms_key_collision:
        both = pd.concat([previous_totals[k] for k in KINDS], ignore_index=True)
        shared = both[both.platform == "modelscope"].drop_duplicates("repo_id", keep="last")
        on_ms = rows.platform == "modelscope"
        base = base.where(~on_ms, _lookup(shared.repo_id, shared.downloads_total, rows.repo_id))
    return base


def _lookup(keys, values, wanted) -> pd.Series:
    where = pd.Index(keys).get_indexer(wanted)
    out = pd.Series(values.to_numpy(dtype="float64", na_value=np.nan)[np.maximum(where, 0)]
                    if len(values) else np.full(len(wanted), np.nan), index=wanted.index)
    return out.where(where >= 0).astype("Int64")


def monthly_downloads(rows, kind, base, profile) -> pd.Series:
    """The 30-day figure where the platform gives one, else this total minus last month's; NA
    when it cannot be known (no baseline). A new dataset of a platform that needs no baseline
    counts with 0 (published: also one whose last total was 0)."""
    total = rows.downloads_total
    delta = total - base
    if kind == "datasets":
        new = base.isna()
        if profile.zero_baseline_is_missing:
            new |= base.eq(0).fillna(False)
        counted = total.notna() & new & ~rows.platform.isin(DATASETS_NEED_BASELINE)
        delta = delta.mask(counted, 0)
    return rows.downloads.fillna(delta)


def eligible_mask(rows, kind, verdict, downloads, profile) -> pd.Series:
    """The records the summaries count (§4.1): large models with enough monthly downloads;
    valid datasets with known downloads (OpenDataLab and BAAI Data: no fall either)."""
    known = downloads.notna()
    if kind == "models":
        enough = (downloads >= profile.min_downloads if profile.min_downloads_inclusive
                  else downloads > profile.min_downloads)
        return (verdict.large == True) & known & enough.fillna(False)  # noqa: E712 (None, NA)
    no_fall = ~rows.platform.isin(DATASETS_NEED_BASELINE) | (downloads >= 0).fillna(False)
    return (verdict.valid == True) & known & no_fall  # noqa: E712


# -- merge and accumulate (§4.2, §4.4) ------------------------------------------------------------

def merge(eligible, profile) -> pd.DataFrame:
    """One record per org/name across platforms, in ``profile.merge_order`` (ModelScope first):
    the first record gives repo, platform, modality, lifecycle; positive downloads, likes,
    community and usage are summed."""
    rank = eligible.platform.map({p: i for i, p in enumerate(profile.merge_order)})
    ordered = eligible.iloc[np.argsort(rank.fillna(len(profile.merge_order)).to_numpy(),
                                   kind="stable")]
    ordered = ordered.assign(downloads=ordered.downloads.where(ordered.downloads > 0, 0))
    return _combine(ordered, ["org", "name"], first=["repo", "platform", "modality", "lifecycle"],
                    summed=["downloads", "likes", "community", "usage"], largest=[])


def accumulate(months) -> pd.DataFrame:
    """§4.4: key repo/name over the months' merged records (in month order); the earliest
    record gives org, repo, platform, modality, lifecycle; downloads summed; likes,
    community and usage the maximum."""
    frames = [m for m in months if len(m)]
    every = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=MERGED)
    return _combine(every, ["repo", "name"], first=["org", "platform", "modality", "lifecycle"],
                    summed=["downloads"], largest=["likes", "community", "usage"])


def _combine(rows, keys, first, summed, largest) -> pd.DataFrame:
    """One row per distinct ``keys`` (in order of first appearance): the first row's ``first``
    columns, the sum of ``summed`` and the maximum of ``largest`` (missing counts as 0)."""
    group = rows.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    out = rows.iloc[np.flatnonzero(~pd.Series(group).duplicated().to_numpy())][keys + first]
    out = out.reset_index(drop=True)
    grouped = rows[summed + largest].fillna(0).astype("int64").groupby(group, sort=True)
    for name in summed:
        out[name] = grouped[name].sum().to_numpy()
    for name in largest:
        out[name] = grouped[name].max().to_numpy()
    return out[list(MERGED)]


# -- the crawled dimensions of a month ----------------------------------------------------------

def crawled_summaries(this: Month, months: list, orgs, curated, profile, constants=None,
                      official=None):
    """The summarise step of the crawled dimensions: model and data summaries of ``this``
    month and accumulated over ``months`` -> ({name: summary frame}, {name: sources frame}).
    ``constants`` ({"model": …, "data": …}, default the published ones in ``curated``) give
    num_adapted_chips and operators; ``official`` (the snapshot's ``official_datasets`` rows,
    default profile) replaces the frozen other-source rows of the orgs it covers."""
    from .official_datasets import other_datasets

    constants = constants or curated.constants
    chips, operators = constants["model"], constants["data"]
    other, other_notes = other_datasets(curated.other_datasets, official or [])
    store = (f"store: {this.snapshot} (monthly downloads vs "
             f"{this.previous or 'no earlier snapshot'}), profile {profile.name}")
    span = (f"store: snapshots {months[0].snapshot}..{months[-1].snapshot} accumulated"
            if months else "no snapshots")
    tables = {
        "model": model_summary(this.models, orgs, chips, profile),
        "data": data_summary(this.datasets, orgs, operators, other),
        "model" + ACCUMULATED: model_summary(accumulate(m.models for m in months), orgs, chips,
                                             profile),
        "data" + ACCUMULATED: data_summary(accumulate(m.datasets for m in months), orgs,
                                           operators, other)}
    orgs = pd.Index(orgs)
    others = pd.Series([d["org"] for d in other], dtype=object).value_counts().reindex(orgs)
    others = others.fillna(0).astype(int)
    other_notes = pd.Series(other_notes, dtype=object).reindex(orgs).fillna("")
    sources = {}
    for name, table in tables.items():
        note = span if name.endswith(ACCUMULATED) else store
        src = sources_like(table, note)
        if name.startswith("model"):
            src["num_adapted_chips"] = [chips.of(org)[1] for org in orgs]
        else:
            src["operators"] = [operators.of(org)[1] for org in orgs]
            counted = [c for c in src.columns if c.startswith("num_")]
            with_other = f"{note} + " + other_notes
            src.loc[others > 0, counted] = np.repeat(
                with_other[others > 0].to_numpy()[:, None], len(counted), axis=1)
        sources[name] = src
    return tables, sources


# -- per-organisation summaries (§4.3) ------------------------------------------------------------

def _per_org(merged, orgs, by, labels, prefix_count, prefix_downloads):
    """Counts and download sums per organisation and label (a modality or lifecycle), one
    column each, for the labels given; others fall in no column."""
    cols = merged[by].map({label: column(label) for label in labels})
    counted = merged[cols.notna()].assign(_col=cols)
    grouped = counted.groupby(["org", "_col"])
    wanted = [column(label) for label in labels]
    num = grouped.size().unstack().reindex(index=orgs, columns=wanted).fillna(0)
    downloads = grouped.downloads.sum().unstack().reindex(index=orgs, columns=wanted).fillna(0)
    return (num.add_prefix(prefix_count).astype("int64"),
            downloads.add_prefix(prefix_downloads).astype("int64"))


def _org_sum(merged, orgs, field):
    return merged.groupby("org")[field].sum().reindex(orgs).fillna(0).astype("int64")


def model_summary(merged, orgs, chips, profile) -> pd.DataFrame:
    """``model-summary.csv`` for ``orgs`` (in that order): per modality the count and
    downloads; descendants, likes, issue (= community) over every eligible model;
    num_adapted_chips from the curated constant. With ``embodied_as_multimodal`` Embodied
    models count as Multimodal (published: in no modality column)."""
    orgs = pd.Index(orgs, name="org")
    if profile.embodied_as_multimodal:
        merged = merged.assign(modality=merged.modality.replace("Embodied", "Multimodal"))
    num, downloads = _per_org(merged, orgs, "modality", MODEL_COLUMN_MODALITIES, "num_",
                              "downloads_")
    table = pd.concat([num, downloads], axis=1).assign(
        descendants=_org_sum(merged, orgs, "usage"), likes=_org_sum(merged, orgs, "likes"),
        issue=_org_sum(merged, orgs, "community"),
        num_adapted_chips=[chips.of(org)[0] for org in orgs])
    return table[list(INDICATORS["model"])]


def data_summary(merged, orgs, operators, other_datasets) -> pd.DataFrame:
    """``data-summary.csv`` for ``orgs``: per modality and per lifecycle the count and
    downloads, dataset_usage, operators (curated). Other-source datasets (official sites, not
    hubs) add to the counts only."""
    orgs = pd.Index(orgs, name="org")
    other = pd.DataFrame(other_datasets, columns=["org", "modality", "lifecycle"]).assign(
        downloads=0, usage=0)
    every = pd.concat([merged[["org", "modality", "lifecycle", "downloads", "usage"]], other],
                      ignore_index=True)
    parts = [*_per_org(every, orgs, "modality", DATASET_COLUMN_MODALITIES, "num_", "downloads_"),
             *_per_org(every, orgs, "lifecycle", DATASET_COLUMN_LIFECYCLES, "num_",
                       "downloads_")]
    table = pd.concat(parts, axis=1).assign(
        dataset_usage=_org_sum(merged, orgs, "usage"),
        operators=[operators.of(org)[0] for org in orgs])
    return table[list(INDICATORS["data"])]
