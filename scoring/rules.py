"""The classification rules as data: what platform metadata says about a repository.

:mod:`scoring.classify` applies these tables; a new rule is a new row here or in the CSV tables
of ``data/rules/`` (or a new table and the line in ``classify`` that reads it). Matching is
case-insensitive (everything is lower-cased first).

``data/rules/architectures.csv`` (kind, key, era, note): whether an architecture is "a
Transformer or later" — ``family`` rows keyed by a config's ``model_type`` / ``architectures``
or a model-type tag (letters only: ``Qwen2_5_VLForConditionalGeneration`` -> ``qwenvl``),
``word`` rows (whole words of the repo name, a regular expression), ``library`` rows.
``data/rules/dataset_lifecycle.csv`` (kind, key, lifecycle, note): ``tag`` rows, then ``word``
rows (whole words of the dataset name and its plain tags), most specific first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .csv_files import checked_rows
from .labels import LabelError
from .vocabulary import LIFECYCLES

RULES_DIR = Path(__file__).resolve().parents[1] / "data" / "rules"
MIN_LANGUAGE_PARAMS = 500_000_000  # a language model under this is not "large" (not Vector)

# Hugging Face pipeline tags / ModelScope tasks -> model modality.
TASK_MODALITY = {
    "Language": ("text-generation", "text2text-generation", "fill-mask", "token-classification",
                 "text-classification", "question-answering", "summarization", "translation",
                 "conversational", "zero-shot-classification", "table-question-answering",
                 "text-ranking", "chat", "named-entity-recognition", "word-segmentation"),
    "Vector": ("sentence-similarity", "feature-extraction", "sentence-embedding"),
    "Vision": ("image-classification", "object-detection", "image-segmentation", "depth-estimation",
               "image-to-image", "unconditional-image-generation", "video-classification",
               "zero-shot-object-detection", "mask-generation", "keypoint-detection",
               "image-feature-extraction", "super-resolution", "ocr-detection", "ocr-recognition",
               "image-super-resolution", "video-object-detection"),
    "Multimodal": ("image-to-text", "image-text-to-text", "visual-question-answering",
                   "text-to-image", "text-to-video", "image-to-video", "video-text-to-text",
                   "any-to-any", "document-question-answering", "zero-shot-image-classification",
                   "visual-document-retrieval", "multimodal", "audio-text-to-text",
                   "text-to-image-synthesis", "text-to-video-synthesis", "image-captioning",
                   "multi-modal-embedding", "video-to-video"),
    "Speech": ("automatic-speech-recognition", "text-to-speech", "audio-classification",
               "audio-to-audio", "text-to-audio", "voice-activity-detection", "speech-synthesis",
               "auto-speech-recognition", "speaker-verification", "speech-timestamp",
               "text-to-speech-synthesis"),
    "3D": ("image-to-3d", "text-to-3d"),
    "Embodied": ("robotics", "reinforcement-learning"),
    "Protein": ("protein-folding", "protein"),
}
TASK = {task: modality for modality, tasks in TASK_MODALITY.items() for task in tasks}
LIBRARY_MODALITY = {"sentence-transformers": "Vector"}
PROTEIN_TAGS = ("protein", "esm", "biology")

# Hugging Face dataset tags -> dataset modality (two or more modalities: Multimodal).
# modality:* is detected by the Hub from the files; without one, the card's task_categories:*.
DATASET_TAG_MODALITY = {
    "modality:text": "Language", "modality:audio": "Speech", "modality:image": "Vision",
    "modality:video": "Vision", "modality:3d": "Vision", "modality:timeseries": None,
}
DATASET_TASK_PREFIX = "task_categories:"
# A task's model modality -> the dataset modality (datasets have no Vector, 3D or Protein).
DATASET_FROM_MODEL_MODALITY = {"Vector": "Language", "3D": "Vision", "Protein": None}
EMBODIED_TAG = "task_categories:robotics"
EMBODIED_WORD = "embodied"  # a whole word of the dataset's repo_id

ERAS = ("transformer", "pre-transformer")
TRANSFORMER, PRE_TRANSFORMER = ERAS


class Tables(NamedTuple):
    """The rule tables of ``data/rules/``; patterns are strings (run vectorised over a column
    of name words, see :func:`scoring.classify.name_words`)."""

    families: dict  # family key (letters only) -> era
    libraries: dict  # library name -> era
    words: tuple  # (whole-word pattern, era), Transformer words first: they win
    lifecycle_tags: dict  # tag -> lifecycle
    lifecycle_words: tuple  # (whole-word pattern, lifecycle), most specific first


@lru_cache(maxsize=4)
def load_tables(folder=None) -> Tables:
    """The CSV tables of ``folder`` (default ``data/rules/``); :class:`LabelError` names the
    file and line of a malformed row."""
    folder = Path(folder or RULES_DIR)
    families, libraries, words = {}, {}, []
    path = folder / "architectures.csv"
    for n, row in _rows(path, ("kind", "key", "era", "note")):
        kind, key, era = row["kind"], row["key"], row["era"]
        if era not in ERAS or kind not in ("family", "library", "word"):
            raise LabelError(f"{path} line {n}: kind {kind!r} / era {era!r} (kinds: family, "
                             f"library, word; eras: {', '.join(ERAS)})")
        if kind == "family":
            families[family_key(key)] = era
        elif kind == "library":
            libraries[key.lower()] = era
        else:
            words.append((_whole_words(key, path, n), era))
    words.sort(key=lambda w: w[1] != TRANSFORMER)  # a Transformer word wins (MaskFormer-ResNet)
    lifecycle_tags, lifecycle_words = {}, []
    path = folder / "dataset_lifecycle.csv"
    for n, row in _rows(path, ("kind", "key", "lifecycle", "note")):
        if row["lifecycle"] not in LIFECYCLES or row["kind"] not in ("tag", "word"):
            raise LabelError(f"{path} line {n}: kind {row['kind']!r} / lifecycle "
                             f"{row['lifecycle']!r}")
        if row["kind"] == "tag":
            lifecycle_tags[row["key"].lower()] = row["lifecycle"]
        else:
            lifecycle_words.append((_whole_words(row["key"], path, n), row["lifecycle"]))
    return Tables(families, libraries, tuple(words), lifecycle_tags, tuple(lifecycle_words))


def _rows(path, header):
    for n, row in checked_rows(path, header, LabelError, "rules"):
        yield n, dict(zip(header, row))


def _whole_words(pattern: str, path, n) -> str:
    """``pattern`` as whole words, with the match as its one group, ``word`` (for the reason)."""
    whole = rf"\b(?P<word>(?:{pattern}))\b"
    try:
        compiled = re.compile(whole)
    except re.error as exc:
        raise LabelError(f"{path} line {n}: not a regular expression: {exc}") from None
    if compiled.groups != 1:
        raise LabelError(f"{path} line {n}: use (?:...) for groups in a pattern")
    return whole


def family_key(name: str) -> str:
    """A model type or architecture class as a family key: ``Qwen2_5_VLForConditionalGeneration``
    -> ``qwenvl``, ``xlm-roberta`` -> ``xlmroberta`` (letters only, lower case)."""
    name = re.sub(r"(For[A-Z]\w*|LMHeadModel|Model|Pipeline)$", "", name)
    return re.sub(r"[^a-z]", "", name.lower())


def family_era(name, tables: Tables) -> str | None:
    """A family's era: the exact key, else the longest key of 4+ letters it starts with."""
    key = family_key(str(name))
    if not key:
        return None
    if key in tables.families:
        return tables.families[key]
    prefixes = [k for k in tables.families if len(k) >= 4 and key.startswith(k)]
    return tables.families[max(prefixes, key=len)] if prefixes else None
