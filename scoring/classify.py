"""Classification of models and datasets into the published categories (a build's second step).

Three paths, in order (``path`` in the store's ``classification`` table):

* ``label`` — the curated labels of :mod:`scoring.labels` (``data/labels/``: the published,
  LLM-made and cached verdicts);
* ``rule`` — the rules of :mod:`scoring.rules` on platform metadata (pipeline_tag, task tags,
  library, parameter count, the config's architecture, dataset tags, name words) for repos
  without a label, or for the part a label leaves blank;
* ``review`` — what neither could classify; the reason says what was missing.

Model: modality and whether it is a large model: a Transformer architecture or later
(``data/rules/architectures.csv``: the config's ``model_type``, then its ``architectures``, then
model-type tags, then whole words of the name, then the library; an architecture the table does
not know goes to review), and for language models only — labelled or not — 500M parameters or
more (the platform's safetensors count, else the size the name states, "opt-125m"; a count of 0
or none is unknown, and a language model of unknown size stays in, "size unknown"). Dataset: modality from ``modality:*`` tags, else ``task_categories:*``;
lifecycle from tags (``data/rules/dataset_lifecycle.csv``), else whole words of the name and
plain tags ("test" inside "latest" is not Evaluation); validity.

:func:`classify_models` and :func:`classify_datasets` take a frame of records and return one
verdict row per record (``path, reason, modality, large`` / ``path, reason, modality,
lifecycle, valid``). The decision itself is plain Python (:func:`decide_model`,
:func:`decide_dataset`), made once per distinct set of inputs and joined back: a million records
share a few thousand such sets. The regular expressions on names run vectorised over the column
(:func:`name_words`, :func:`first_word`); a name enters the decision only as the word a rule
matched.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import rules
from .labels import DatasetLabel, LabelError, Labels, ModelLabel, load_labels  # noqa: F401
from .rules import PRE_TRANSFORMER, TRANSFORMER, load_tables
from .store import TEXT

META_COLUMNS = ("pipeline_tag", "library", "tags", "model_type", "architectures")
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


# -- names as words ----------------------------------------------------------------------------

def words(text: str, last_part: bool = False) -> str:
    """Lower-case words split at case changes and punctuation: ``ChemBench4K`` -> ``chem
    bench4k``; ``latest`` stays one word, so it never reads as "test". With ``last_part``, of
    the part after the last ``/`` (a repo id's name)."""
    if last_part:
        text = text.split("/")[-1]
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def name_words(names: pd.Series, last_part: bool = True) -> pd.Series:
    """:func:`words` of a column of repo ids, vectorised (in Arrow where the pattern allows)."""
    names = names.astype(TEXT)
    if last_part:
        names = names.str.replace(r"^.*/", "", regex=True)
    names = names.str.replace(r"([a-z])([A-Z])", r"\1 \2", regex=True).str.lower()
    return names.str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()


def first_word(texts: pd.Series, patterns) -> tuple[pd.Series, pd.Series]:
    """(value, word) per text: the value of the first ``(pattern, value)`` whose pattern
    matches, and the word it matched (the pattern's one group); None where none does."""
    value = pd.Series(None, index=texts.index, dtype=object)
    word = pd.Series(None, index=texts.index, dtype=object)
    for pattern, found in patterns:
        open_ = value.isna().to_numpy()
        hit = _extract(texts[open_], pattern)
        new = np.flatnonzero(open_)[hit.notna().to_numpy()]
        value.iloc[new] = found
        word.iloc[new] = hit[hit.notna()].to_numpy(dtype=object)
    return value, word


def _extract(texts: pd.Series, pattern: str) -> pd.Series:
    """The group of ``pattern`` in each text (NA: no match): in Arrow (RE2), or with Python's
    ``re`` for what RE2 lacks (lookaround). Name words are ``[a-z0-9 ]`` only, where the two
    read ``\\b`` and ``\\w`` alike. (pandas' own ``str.extract`` runs Python's ``re``.)"""
    try:
        found = pc.struct_field(pc.extract_regex(pa.array(texts.array), pattern), [0])
    except pa.ArrowInvalid:
        return texts.astype(object).str.extract(pattern, expand=False)
    return pd.Series(found.to_pandas(types_mapper=pd.ArrowDtype).array, index=texts.index)


def _word(text: str, pattern: str) -> str | None:
    hit = re.search(pattern, text)
    return hit and hit.group(1)


# A size the name states: "opt-125m", "Qwen2.5-0.5B", "Mixtral-8x7B", "bloom-1b7"; not "A3B"
# (active parameters), "bge-m3", "128k" (context). The largest stated size counts.
_SIZE = re.compile(r"(?<![A-Za-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([mMbBtT])(\d)?(?![A-Za-z0-9])")
_SCALE = {"m": 1e6, "b": 1e9, "t": 1e12}


@lru_cache(maxsize=100_000)
def stated_size(name) -> float | None:
    """The parameter count a repo name states (of the part after the last ``/``), or None."""
    if not isinstance(name, str):
        return None
    sizes = []
    for times, number, unit, decimal in _SIZE.findall(name.split("/")[-1]):
        value = float(number + (f".{decimal}" if decimal and "." not in number else ""))
        sizes.append(value * _SCALE[unit.lower()] * (int(times) if times else 1))
    return max(sizes) if sizes else None


def size_of(params, name_size) -> tuple[float | None, str]:
    """(parameters, where the figure comes from): the platform's count (safetensors) first,
    else the size the name states."""
    if (params := _params(params)) is not None:
        return params, "safetensors"
    if isinstance(name_size, (int, float)) and name_size == name_size and name_size > 0:
        return float(name_size), "name"
    return None, ""


def _size_text(size: float, source: str) -> str:
    figure = f"{size / 1e9:.3g}B" if size >= 1e9 else f"{size / 1e6:.0f}M"
    return f"{figure} parameters ({source})"


# -- what metadata says (one call per distinct set of metadata) --------------------------------

def _parsed(values) -> list:
    """A list as the store holds it (JSON text), as an item gives it, or one bare string."""
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except ValueError:
            values = [values]
    return values or []


def _tags(tags):
    return [str(t).lower() for t in _parsed(tags) if t is not None]


def _list(values):
    return [str(v) for v in _parsed(values) if v]


def _stored(values):
    """A list as the store holds it (JSON text), so that one-repo calls share the cache."""
    return values if values is None or isinstance(values, str) else json.dumps(list(values))


class ModelMeta(NamedTuple):
    modality: str | None
    why: str  # how the modality was found
    era: str | None  # from the config's model_type or architectures, or a model-type tag
    era_why: str
    library_era: str | None  # the last resort, after the name's words
    library_why: str
    unknown: str  # the reason when nothing gives the era


@lru_cache(maxsize=100_000)
def model_meta(pipeline_tag, library, tags, model_type=None, architectures=None) -> ModelMeta:
    """What pipeline tag, library, tags and the config's model_type / architectures (JSON lists,
    as stored) say about a model."""
    tables = load_tables()
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
    architectures = _list(architectures)
    era, era_why = None, ""
    for what, values in (("model_type", [model_type] if model_type else []),
                         ("architecture", architectures),
                         ("tag", [t for t in tags if ":" not in t])):
        hit = next(((v, e) for v in values if (e := rules.family_era(v, tables))), None)
        if hit:
            value, era = hit
            era_why = f"{what} {value} -> {era}"
            break
    library_era = tables.libraries.get(library)
    unknown = model_type or (architectures or [None])[0]
    return ModelMeta(modality, why or "", era, era_why, library_era,
                     f"library {library} -> {library_era}" if library_era else "",
                     f"architecture {unknown!r} not in data/rules/architectures.csv" if unknown
                     else "no architecture metadata")


class DatasetMeta(NamedTuple):
    modality: str | None
    why: str
    lifecycle: str | None  # from a tag of the lifecycle table
    words: tuple  # per lifecycle word pattern: the word of the plain tags it matched, or None
    embodied: bool  # the robotics task category


@lru_cache(maxsize=100_000)
def dataset_meta(tags) -> DatasetMeta:
    tables = load_tables()
    tags = _tags(tags)
    found = {rules.DATASET_TAG_MODALITY[t] for t in tags if rules.DATASET_TAG_MODALITY.get(t)}
    source = "modality tags"
    if not found:  # the card's task categories
        tasks = [rules.TASK.get(t[len(rules.DATASET_TASK_PREFIX):]) for t in tags
                 if t.startswith(rules.DATASET_TASK_PREFIX)]
        found = {rules.DATASET_FROM_MODEL_MODALITY.get(m, m) for m in tasks if m} - {None}
        source = "task_categories"
    modality = found.pop() if len(found) == 1 else "Multimodal" if found else None
    lifecycle = next((tables.lifecycle_tags[t] for t in tags if t in tables.lifecycle_tags),
                     None)
    plain = words(" ".join(t for t in tags if ":" not in t))
    return DatasetMeta(modality, f"{source} -> {modality}" if modality else "", lifecycle,
                       tuple(_word(plain, p) for p, _ in tables.lifecycle_words),
                       rules.EMBODIED_TAG in tags)


# -- the decisions (plain Python, once per distinct input) ------------------------------------

def model_rule_from(meta: ModelMeta, name_era, name_word, params, name_size=None):
    """(modality, large, reason) from the metadata, the era of the name's words (and the word
    that gave it), the parameter count (None: unknown) and the size the name states."""
    why = [meta.why] if meta.why else []
    if meta.era:
        era, era_why = meta.era, meta.era_why
    elif name_era:
        era, era_why = name_era, f"name word {name_word!r} -> {name_era}"
    elif meta.library_era:
        era, era_why = meta.library_era, meta.library_why
    else:
        era, era_why = None, meta.unknown
    why.append(era_why)
    modality, large = meta.modality, None
    if era == PRE_TRANSFORMER:
        large = False
    elif modality == "Language":  # the 500M rule is for language models only
        size, source = size_of(params, name_size)
        if size is not None:
            large = size >= rules.MIN_LANGUAGE_PARAMS
            why.append(f"{_size_text(size, source)} {'>=' if large else '<'} 500M")
        else:  # unknown size keeps a Transformer-era language model
            large = True if era == TRANSFORMER else None
            why.append("size unknown")
    elif era == TRANSFORMER and modality is not None:
        large = True
    return modality, large, "; ".join(why)


def decide_model(label: ModelLabel | None, use_rules: bool, rule=None, size=None) -> Verdict:
    """A model's verdict from its label and (a callable giving) the rule's (modality, large,
    reason); the rule is asked only where the label leaves something open. With rules, the
    500M rule applies to every language model, labelled or not: the label says *whether* it
    is a language model, ``size`` ((parameters, source) or (None, "")) *how large* it is."""
    if label is not None and use_rules and label.modality == "Language" and label.large:
        params, source = size() if size is not None else (None, "")
        if params is None:
            return Verdict("label", "curated label; language model, size unknown", "Language",
                           True)
        large = params >= rules.MIN_LANGUAGE_PARAMS
        return Verdict("label" if large else "rule",
                       f"curated label: language model; {_size_text(params, source)} "
                       f"{'>=' if large else '<'} 500M", "Language", large)
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


def dataset_rule_from(meta: DatasetMeta, name_words, name_embodied):
    """(modality, lifecycle, reason) from the tags' findings and the name's: ``name_words``
    holds, per lifecycle word pattern, the word of the name it matched (or None)."""
    why = [meta.why] if meta.why else []
    modality, lifecycle = meta.modality, meta.lifecycle
    if lifecycle:
        why.append(f"tag -> {lifecycle}")
    else:
        patterns = load_tables().lifecycle_words
        for (_, stage), in_name, in_tags in zip(patterns, name_words, meta.words):
            if word := in_name or in_tags:
                lifecycle = stage
                why.append(f"word {word!r} -> {stage}")
                break
    if meta.embodied or name_embodied:
        modality = "Embodied"
        why.append("embodied/robotics")
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

def _params(params):
    """A parameter count, or None: 0, none or not a number is unknown, never "small"."""
    if isinstance(params, bool) or not isinstance(params, (int, float)) or params != params \
            or params <= 0:
        return None
    return params


def model_rule(pipeline_tag=None, library=None, tags=(), params=None, name="", model_type=None,
               architectures=()):
    """(modality, large, reason) from platform metadata; None where the metadata says nothing."""
    text = words(name, last_part=True)
    era, word = next(((era, w) for p, era in load_tables().words if (w := _word(text, p))),
                     (None, None))
    meta = model_meta(pipeline_tag, library, _stored(tags), model_type, _stored(architectures))
    return model_rule_from(meta, era, word, _params(params), stated_size(name))


def dataset_rule(tags=(), name=""):
    """(modality, lifecycle, reason) from dataset tags first, then whole words of the name."""
    text = words(name, last_part=True)
    found = tuple(_word(text, p) for p, _ in load_tables().lifecycle_words)
    embodied = rules.EMBODIED_WORD in words(name).split()
    return dataset_rule_from(dataset_meta(_stored(tags)), found, embodied)


def classify_model(repo_id, labels, use_rules=True, **meta) -> Verdict:
    return decide_model(labels.model(repo_id), use_rules,
                        lambda: model_rule(name=repo_id, **meta),
                        lambda: size_of(meta.get("params"), stated_size(repo_id)))


def classify_dataset(repo_id, labels, use_rules=True, **meta) -> Verdict:
    return decide_dataset(labels.dataset(repo_id), use_rules,
                          lambda: dataset_rule(name=repo_id, **meta))


# -- a frame of records ------------------------------------------------------------------------

def classify_models(records: pd.DataFrame, labels: Labels, use_rules: bool) -> pd.DataFrame:
    """One verdict per record (columns repo_id, pipeline_tag, library, tags, params,
    model_type, architectures)."""
    inputs = _label_columns(records.repo_id, labels.models, ModelLabel._fields)
    metas = pd.DataFrame({c: records[c] if c in records else None for c in META_COLUMNS},
                         index=records.index)  # an older store's records: no config columns
    if use_rules:  # the rule's inputs, where a rule is asked (no label, or a blank in it)
        ask = (~inputs.labelled | inputs.modality.isna() | inputs.large.isna()).to_numpy()
        inputs["meta"] = np.where(ask, _codes(metas), -1)
        era, word = first_word(name_words(records.repo_id[ask]), load_tables().words)
        inputs["name_era"], inputs["name_word"] = era, word  # aligned on the index: None else
        # the 500M rule's inputs: also for labelled language models
        sized = ask | ((inputs.modality == "Language") & (inputs.large == True)).to_numpy()  # noqa: E712
        params = records["params"]
        inputs["params"] = params.where(sized & (params > 0).fillna(False).to_numpy())
        names = records.repo_id[sized]
        inputs["name_size"] = names.map(dict(zip(uniq := names.unique(),
                                                 map(stated_size, uniq))))

    def verdict(row, first):
        label = ModelLabel(row.modality, row.large) if row.labelled else None
        if not use_rules:
            return decide_model(label, False)
        return decide_model(label, True, lambda: model_rule_from(
            model_meta(*(_none(v) for v in metas.iloc[first])), row.name_era, row.name_word,
            row.params, row.name_size), lambda: size_of(row.params, row.name_size))

    return _decide_distinct(inputs, verdict, MODEL_VERDICT)


def classify_datasets(records: pd.DataFrame, labels: Labels, use_rules: bool) -> pd.DataFrame:
    """One verdict per record (columns repo_id, tags)."""
    inputs = _label_columns(records.repo_id, labels.datasets, DatasetLabel._fields)
    patterns = load_tables().lifecycle_words
    stages = [f"stage{i}" for i in range(len(patterns))]
    if use_rules:
        final = (inputs.labelled & ((inputs.valid == False) | (  # noqa: E712 (None: not False)
            inputs.modality.notna() & inputs.lifecycle.notna()))).to_numpy()
        inputs["meta"] = np.where(final, -1, _codes(records[["tags"]]))
        ids = records.repo_id[~final]
        names = name_words(ids)
        for column, (pattern, stage) in zip(stages, patterns):
            inputs[column] = first_word(names, [(pattern, stage)])[1]
        whole = name_words(ids, last_part=False)
        inputs["name_embodied"] = (whole.str.contains(rf"\b{rules.EMBODIED_WORD}\b", regex=True)
                                   .fillna(False).astype(bool))

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
