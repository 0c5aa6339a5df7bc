"""Classification of models and datasets into the published categories (a build's second step).

Three paths, in order (``path`` in the store's ``classification`` table):

* ``label`` — the curated labels of :mod:`scoring.labels` (``data/labels/``: the published,
  LLM-made and cached verdicts);
* ``rule`` — the rules of :mod:`scoring.rules` on platform metadata (pipeline_tag, task tags,
  library, parameter count, name) for repos without a label, or for the part a label leaves blank;
* ``review`` — what neither could classify; the reason says what was missing.

Model: modality and whether it is a large model (language models under 500M parameters and
pre-Transformer architectures are not). Dataset: modality, lifecycle and validity.

:func:`classify_models` and :func:`classify_datasets` take a frame of records and return one
verdict row per record (``path, reason, modality, large`` / ``path, reason, modality,
lifecycle, valid``). The decision itself is plain Python (:func:`decide_model`,
:func:`decide_dataset`), made once per distinct set of inputs and joined back: a million records
share a few thousand such sets. The regular expressions on names run vectorised over the column.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import rules
from .labels import DatasetLabel, LabelError, Labels, ModelLabel, load_labels  # noqa: F401

MODEL_VERDICT = ("path", "reason", "modality", "large")
DATASET_VERDICT = ("path", "reason", "modality", "lifecycle", "valid")


class Verdict(NamedTuple):
    """One repo's classification; ``path`` is label, rule or review."""

    path: str
    reason: str
    modality: str | None = None
    large: bool | None = None  # models
    lifecycle: str | None = None  # datasets
    valid: bool | None = None  # datasets


# -- what metadata says (one call per distinct tag set) ----------------------------------------

def _tags(tags):
    if isinstance(tags, str):
        try:
            tags = json.loads(tags)
        except ValueError:
            tags = [tags]
    return [str(t).lower() for t in tags or []]


class ModelMeta(NamedTuple):
    modality: str | None
    why: str  # how the modality was found
    arch: str | None  # the first tag or library naming a pre-Transformer architecture
    transformer: bool  # a tag or library names a Transformer


@lru_cache(maxsize=100_000)
def model_meta(pipeline_tag, library, tags) -> ModelMeta:
    """What pipeline tag, library and tags (a JSON list, as stored) say about a model."""
    tags = _tags(tags)
    library = (library or "").lower()
    candidates = ([pipeline_tag.lower()] if pipeline_tag else []) + [t.split(":", 1)[-1]
                                                                     for t in tags]
    modality = why = None
    task = next((t for t in candidates if t in rules.TASK), None)
    if task:
        modality, why = rules.TASK[task], f"task {task}"
    elif library in rules.LIBRARY_MODALITY:
        modality, why = rules.LIBRARY_MODALITY[library], f"library {library}"
    elif any(t in rules.PROTEIN_TAGS for t in tags):
        modality, why = "Protein", "protein tag"
    words = tags + [library]
    arch = next((w for w in words if re.search(rules.PRE_TRANSFORMER_RE, w)), None)
    transformer = any(re.search(rules.TRANSFORMER_RE, w) for w in words)
    return ModelMeta(modality, why or "", arch, transformer)


class DatasetMeta(NamedTuple):
    modality: str | None
    why: str
    stages: tuple  # per rules.LIFECYCLE_WORDS: does a tag hold the stage's keyword
    embodied: bool  # an embodied/robotics tag


@lru_cache(maxsize=100_000)
def dataset_meta(tags) -> DatasetMeta:
    tags = _tags(tags)
    found = {rules.DATASET_TAG_MODALITY[t] for t in tags if rules.DATASET_TAG_MODALITY.get(t)}
    modality = found.pop() if len(found) == 1 else "Multimodal" if found else None
    stages = tuple(any(re.search(pattern, t) for t in tags)
                   for _, pattern in rules.LIFECYCLE_WORDS)
    embodied = any(t.split(":")[-1] == rules.EMBODIED_TASK or rules.EMBODIED_WORD in t
                   for t in tags)
    return DatasetMeta(modality, f"modality tags -> {modality}" if modality else "", stages,
                       embodied)


# -- the decisions (plain Python, once per distinct input) ------------------------------------

def model_rule_from(meta: ModelMeta, name_arch, name_transformer, params):
    """(modality, large, reason) from the metadata and the name's flags; ``name_arch`` is the
    lower-cased name when it names a pre-Transformer architecture, else None."""
    why = [meta.why] if meta.why else []
    arch = meta.arch or name_arch
    if meta.transformer or name_transformer:
        arch = None  # a Transformer with a convolutional backbone is Transformer-era
    modality, large = meta.modality, None
    if arch:
        large = False
        why.append(f"pre-Transformer architecture ({arch})")
    elif modality in ("Language", "Vector") and params is not None:
        large = params >= rules.MIN_LANGUAGE_PARAMS
        why.append(f"{params / 1e6:.0f}M parameters {'>=' if large else '<'} 500M")
    elif modality not in (None, "Language", "Vector"):
        large = True
        why.append("Transformer-era non-language model")
    return modality, large, "; ".join(why)


def decide_model(label: ModelLabel | None, use_rules: bool, rule=None) -> Verdict:
    """A model's verdict from its label and (a callable giving) the rule's (modality, large,
    reason); the rule is asked only where the label leaves something open."""
    if label is not None and (not use_rules or label.modality and label.large is not None):
        return Verdict("label", "curated label", label.modality, label.large)
    if not use_rules:
        return Verdict("review", "no curated label")
    modality, large, why = rule()
    if label is not None:  # the label decides what it says; rules may only fill its blanks
        filled = [n for n, lv, rv in (("modality", label.modality, modality),
                                      ("large-model", label.large, large))
                  if lv is None and rv is not None]
        modality = label.modality or modality
        large = label.large if label.large is not None else large
        if not filled:
            return Verdict("label", "curated label (blank parts: no rule applies)", modality,
                           large)
        return Verdict("rule", f"label; rule filled {', '.join(filled)}: {why}", modality, large)
    if modality and large is not None:
        return Verdict("rule", why, modality, large)
    missing = [n for n, v in (("modality", modality), ("large-model verdict", large)) if v is None]
    return Verdict("review", f"no label; metadata gives no {' or '.join(missing)}"
                   + (f" ({why})" if why else ""), modality, large)


def dataset_rule_from(meta: DatasetMeta, name_stages, name_embodied):
    """(modality, lifecycle, reason) from the tags' and the name's findings."""
    why = [meta.why] if meta.why else []
    modality, lifecycle = meta.modality, None
    for (stage, _), in_tags, in_name in zip(rules.LIFECYCLE_WORDS, meta.stages, name_stages):
        if in_tags or in_name:
            lifecycle = stage
            why.append(f"{stage} keyword")
            break
    if meta.embodied or name_embodied:
        modality = "Embodied"
        why.append("embodied/robotics tag")
    return modality, lifecycle, "; ".join(why)


def decide_dataset(label: DatasetLabel | None, use_rules: bool, rule=None) -> Verdict:
    if label is not None:
        final = not use_rules or label.valid is False or label.modality and label.lifecycle
        if final:  # is_valid=false is a verdict on the repo itself: rules do not overturn it
            return Verdict("label", "curated label", label.modality, None, label.lifecycle,
                           label.valid)
        modality, lifecycle, why = rule()
        filled = [n for n, lv, rv in (("modality", label.modality, modality),
                                      ("lifecycle", label.lifecycle, lifecycle))
                  if lv is None and rv is not None]
        modality, lifecycle = label.modality or modality, label.lifecycle or lifecycle
        if filled:
            return Verdict("rule", f"label; rule filled {', '.join(filled)}: {why}", modality,
                           None, lifecycle, label.valid)
        return Verdict("label", "curated label (blank parts: no rule applies)", modality, None,
                       lifecycle, label.valid)
    if not use_rules:
        return Verdict("review", "no curated label")
    modality, lifecycle, why = rule()
    if modality and lifecycle:
        return Verdict("rule", why, modality, None, lifecycle, True)
    missing = [n for n, v in (("modality", modality), ("lifecycle", lifecycle)) if v is None]
    return Verdict("review", f"no label; metadata gives no {' or '.join(missing)}"
                   + (f" ({why})" if why else ""), modality, None, lifecycle, None)


# -- one repository ----------------------------------------------------------------------------

def _name_arch(name):
    return name if re.search(rules.PRE_TRANSFORMER_RE, name) else None


def model_rule(pipeline_tag=None, library=None, tags=(), params=None, name=""):
    """(modality, large, reason) from platform metadata; None where the metadata says nothing."""
    tags = json.dumps(list(tags)) if not isinstance(tags, str) else tags
    name = name.lower()
    return model_rule_from(model_meta(pipeline_tag, library, tags), _name_arch(name),
                           bool(re.search(rules.TRANSFORMER_RE, name)), params)


def dataset_rule(tags=(), name=""):
    """(modality, lifecycle, reason) from dataset tags and name."""
    tags = json.dumps(list(tags)) if not isinstance(tags, str) else tags
    name = name.lower()
    return dataset_rule_from(dataset_meta(tags), _name_stages(name),
                             rules.EMBODIED_WORD in name)


def _name_stages(name):
    return tuple(bool(re.search(pattern, name)) for _, pattern in rules.LIFECYCLE_WORDS)


def classify_model(repo_id, labels, use_rules=True, **meta) -> Verdict:
    return decide_model(labels.model(repo_id), use_rules,
                        lambda: model_rule(name=repo_id, **meta))


def classify_dataset(repo_id, labels, use_rules=True, **meta) -> Verdict:
    return decide_dataset(labels.dataset(repo_id), use_rules,
                          lambda: dataset_rule(name=repo_id, **meta))


# -- a frame of records ------------------------------------------------------------------------

def classify_models(records: pd.DataFrame, labels: Labels, use_rules: bool) -> pd.DataFrame:
    """One verdict per record (columns repo_id, pipeline_tag, library, tags, params)."""
    inputs = _label_columns(records.repo_id, labels.models, ModelLabel._fields)
    metas = records[["pipeline_tag", "library", "tags"]]
    if use_rules:  # the rule's inputs, where a rule is asked (no label, or a blank in it)
        ask = ~inputs.labelled | inputs.modality.isna() | inputs.large.isna()
        names = records.repo_id.str.lower().where(ask)
        inputs["meta"] = np.where(ask, _codes(metas), -1)
        inputs["name_arch"] = names.where(_contains(names, rules.PRE_TRANSFORMER_RE))
        inputs["name_transformer"] = _contains(names, rules.TRANSFORMER_RE)
        inputs["params"] = records["params"].where(ask)

    def verdict(row, first):
        label = ModelLabel(row.modality, row.large) if row.labelled else None
        if not use_rules:
            return decide_model(label, False)
        return decide_model(label, True, lambda: model_rule_from(
            model_meta(*(_none(v) for v in metas.iloc[first])), row.name_arch,
            row.name_transformer, row.params))

    return _decide_distinct(inputs, verdict, MODEL_VERDICT)


def classify_datasets(records: pd.DataFrame, labels: Labels, use_rules: bool) -> pd.DataFrame:
    """One verdict per record (columns repo_id, tags)."""
    inputs = _label_columns(records.repo_id, labels.datasets, DatasetLabel._fields)
    stages = [f"stage{i}" for i in range(len(rules.LIFECYCLE_WORDS))]
    if use_rules:
        final = inputs.labelled & ((inputs.valid == False) | (  # noqa: E712 (None is not False)
            inputs.modality.notna() & inputs.lifecycle.notna()))
        names = records.repo_id.str.lower().where(~final)
        inputs["meta"] = np.where(final, -1, _codes(records[["tags"]]))
        for column, (_, pattern) in zip(stages, rules.LIFECYCLE_WORDS):
            inputs[column] = _contains(names, pattern)
        inputs["name_embodied"] = _contains(names, re.escape(rules.EMBODIED_WORD))

    def verdict(row, first):
        label = DatasetLabel(row.modality, row.lifecycle, row.valid) if row.labelled else None
        if not use_rules:
            return decide_dataset(label, False)
        return decide_dataset(label, True, lambda: dataset_rule_from(
            dataset_meta(_none(records.tags.iloc[first])),
            tuple(getattr(row, s) for s in stages), row.name_embodied))

    return _decide_distinct(inputs, verdict, DATASET_VERDICT)


def _none(value):
    return None if value is None or value is pd.NA or value != value else value


def _contains(names, pattern):
    return names.str.contains(pattern, regex=True).fillna(False).astype(bool)


def _codes(frame):
    """0, 1, ... per distinct row of ``frame`` in order of appearance (missing values are a
    value of their own)."""
    return frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()


def _label_columns(repo_ids, labels, fields):
    """The label of each record (None where there is none) and whether it has one."""
    where = labels.index.get_indexer(repo_ids)
    labelled = where >= 0
    out = pd.DataFrame({"labelled": labelled}, index=repo_ids.index)
    for field in fields:
        values = labels[field].to_numpy(dtype=object)
        out[field] = np.where(labelled, values.take(np.maximum(where, 0)) if len(values)
                              else None, None)
    return out


def _decide_distinct(inputs: pd.DataFrame, verdict, columns) -> pd.DataFrame:
    """``verdict(row, first)`` once per distinct row of ``inputs`` (``first``: the position of
    the first record with it), spread back over every record."""
    codes = _codes(inputs)
    firsts = pd.Series(np.arange(len(codes))).groupby(codes, sort=True).first().to_numpy()
    distinct = inputs.iloc[firsts].astype(object)
    distinct = distinct.where(distinct.notna(), None)
    decided = [verdict(row, first) for row, first in
               zip(distinct.itertuples(index=False), firsts)]
    out = {name: np.array([getattr(v, name) for v in decided], dtype=object).take(codes)
           for name in columns}
    return pd.DataFrame(out, index=inputs.index, dtype=object)  # few distinct values: shared
