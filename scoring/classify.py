"""Classification of models and datasets into the published categories, without Scrapy.

Three paths, in order (``path`` in the store's ``classification`` table):

* ``label`` — the curated labels in ``data/labels/`` (converted from OSIR-LMTS
  ``config/model-info.json`` and ``dataset-info.json``: the published, LLM-made and cached verdicts);
* ``rule`` — rules on platform metadata (pipeline_tag, task tags, library, parameter count) for
  repos without a label, or for the part a label leaves blank;
* ``review`` — what neither could classify; the reason says what was missing.

Model: modality (Vision, Language, Speech, 3D, Multimodal, Protein, Vector, Embodied) and whether
it is a large model (rule: language models under 500M parameters and pre-Transformer
architectures are not). Dataset: modality (Language, Speech, Vision, Multimodal, Embodied),
lifecycle (Pre-training, Fine-tuning, Preference, Evaluation) and validity.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "labels"
MODEL_MODALITIES = ("Vision", "Language", "Speech", "3D", "Multimodal", "Protein", "Vector", "Embodied")
DATASET_MODALITIES = ("Language", "Speech", "Vision", "Multimodal", "Embodied")
LIFECYCLES = ("Pre-training", "Fine-tuning", "Preference", "Evaluation")
MIN_LANGUAGE_PARAMS = 500_000_000

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
_TASK = {task: modality for modality, tasks in TASK_MODALITY.items() for task in tasks}
PRE_TRANSFORMER = ("lstm", "rnn", "gru", "word2vec", "fasttext", "glove", "resnet", "vgg", "cnn",
                   "lenet", "alexnet", "crf", "elmo", "sklearn", "scikit-learn", "xgboost")
_DATASET_TAG = {  # Hugging Face dataset tags: modality:*, task_categories:*
    "modality:text": "Language", "modality:audio": "Speech", "modality:image": "Vision",
    "modality:video": "Vision", "modality:3d": "Vision", "modality:timeseries": None,
}
_LIFECYCLE_WORDS = (  # dataset names and tags; first match wins, most specific first
    ("Preference", r"dpo|preference|rlhf|reward|feedback|pairwise|chosen"),
    ("Evaluation", r"bench|eval|test|leaderboard|arena|exam"),
    ("Fine-tuning", r"sft|instruct|chat|dialog|conversation|tuning|finetun|alpaca"),
    ("Pre-training", r"pretrain|pre-train|corpus|pile|web|crawl|wiki|books|common"),
)


@dataclass(frozen=True)
class ModelLabel:
    modality: str | None
    large: bool | None


@dataclass(frozen=True)
class DatasetLabel:
    modality: str | None
    lifecycle: str | None
    valid: bool | None


@dataclass
class Verdict:
    """One repo's classification; ``path`` is label, rule or review."""

    path: str
    reason: str
    modality: str | None = None
    large: bool | None = None  # models
    lifecycle: str | None = None  # datasets
    valid: bool | None = None  # datasets


class LabelError(ValueError):
    """A labels file is malformed; the message names the file, line and column."""


@dataclass
class Labels:
    models: dict
    datasets: dict

    def model(self, repo_id):
        return self.models.get(repo_id)

    def dataset(self, repo_id):
        return self.datasets.get(repo_id)


def load_labels(folder=None) -> Labels:
    folder = Path(folder or LABELS_DIR)
    models = {k: ModelLabel(m, large) for k, m, large, *_ in
              _read(folder / "models.csv", ("repo_id", "modality", "large_model"),
                    MODEL_MODALITIES, None)}
    datasets = {k: DatasetLabel(m, lc, valid) for k, m, lc, valid in
                _read(folder / "datasets.csv", ("repo_id", "modality", "lifecycle", "valid"),
                      DATASET_MODALITIES + ("Multimodal",), LIFECYCLES)}
    return Labels(models, datasets)


def _read(path, header, modalities, lifecycles):
    try:
        fh = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise LabelError(f"{path}: labels file not found") from None
    with fh:
        reader = csv.reader(fh)
        if next(reader, None) != list(header):
            raise LabelError(f"{path} line 1: expected the header {','.join(header)}")
        seen = set()
        for n, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise LabelError(f"{path} line {n}: {len(row)} cells, expected {len(header)}")
            key, modality, *rest = row
            if "/" not in key or key in seen:
                raise LabelError(f"{path} line {n}: repo_id {key!r} is not owner/name or repeats")
            seen.add(key)
            if modality and modality not in modalities:
                raise LabelError(f"{path} line {n}, column 'modality': unknown {modality!r}")
            if lifecycles is not None:
                lifecycle, flag = rest
                if lifecycle and lifecycle not in lifecycles:
                    raise LabelError(f"{path} line {n}, column 'lifecycle': unknown {lifecycle!r}")
                yield key, modality or None, lifecycle or None, _flag(flag, path, n)
            else:
                yield key, modality or None, _flag(rest[0], path, n)


def _flag(cell, path, n):
    if cell not in ("", "0", "1"):
        raise LabelError(f"{path} line {n}: expected 1, 0 or blank, got {cell!r}")
    return None if cell == "" else cell == "1"


# -- rules -------------------------------------------------------------------------------------

def _tags(tags):
    if isinstance(tags, str):
        try:
            tags = json.loads(tags)
        except ValueError:
            tags = [tags]
    return [str(t).lower() for t in tags or []]


def model_rule(pipeline_tag=None, library=None, tags=(), params=None, name=""):
    """(modality, large, reason) from platform metadata; None where the metadata says nothing."""
    tags = _tags(tags)
    candidates = [pipeline_tag.lower()] if pipeline_tag else []
    candidates += [t.split(":", 1)[-1] for t in tags]
    modality, why = None, []
    for task in candidates:
        if task in _TASK:
            modality = _TASK[task]
            why.append(f"task {task}")
            break
    if modality is None and (library or "").lower() == "sentence-transformers":
        modality, _ = "Vector", why.append("library sentence-transformers")
    if modality is None and any(t in ("protein", "esm", "biology") for t in tags):
        modality, _ = "Protein", why.append("protein tag")
    words = tags + [(library or "").lower(), name.lower()]
    arch = [t for t in words if any(re.search(rf"(^|[-_/]){p}($|[-_\d])", t) for p in PRE_TRANSFORMER)]
    if any(re.search(r"former|detr|(^|[-_/])vit($|[-_])", t) for t in words):
        arch = []  # a Transformer with a convolutional backbone (MaskFormer-ResNet) is Transformer-era
    large = None
    if arch:
        large = False
        why.append(f"pre-Transformer architecture ({arch[0]})")
    elif modality in ("Language", "Vector") and isinstance(params, (int, float)):
        large = params >= MIN_LANGUAGE_PARAMS
        why.append(f"{params / 1e6:.0f}M parameters {'>=' if large else '<'} 500M")
    elif modality not in (None, "Language", "Vector"):
        large = True
        why.append("Transformer-era non-language model")
    return modality, large, "; ".join(why)


def dataset_rule(tags=(), name=""):
    """(modality, lifecycle, reason) from dataset tags and name."""
    tags = _tags(tags)
    found = {_DATASET_TAG[t] for t in tags if _DATASET_TAG.get(t)}
    why = []
    modality = None
    if len(found) == 1:
        modality = found.pop()
    elif len(found) > 1:
        modality = "Multimodal"
    if modality:
        why.append(f"modality tags -> {modality}")
    text = " ".join([name.lower(), *tags])
    lifecycle = None
    for stage, pattern in _LIFECYCLE_WORDS:
        if re.search(pattern, text):
            lifecycle = stage
            why.append(f"{stage} keyword")
            break
    if any(t.split(":")[-1] == "robotics" or "embodied" in t for t in tags) or "embodied" in name.lower():
        modality = "Embodied"
        why.append("embodied/robotics tag")
    return modality, lifecycle, "; ".join(why)


# -- the three paths ---------------------------------------------------------------------------

def classify_model(repo_id, labels, use_rules=True, **meta) -> Verdict:
    label = labels.model(repo_id)
    if label is not None and (not use_rules or label.modality and label.large is not None):
        return Verdict("label", "curated label", label.modality, label.large)
    if not use_rules:
        return Verdict("review", "no curated label")
    modality, large, why = model_rule(name=repo_id, **meta)
    if label is not None:  # the label decides what it says; rules may only fill its blanks
        filled = [n for n, lv, rv in (("modality", label.modality, modality),
                                      ("large-model", label.large, large)) if lv is None and rv is not None]
        modality = label.modality or modality
        large = label.large if label.large is not None else large
        if not filled:
            return Verdict("label", "curated label (blank parts: no rule applies)", modality, large)
        return Verdict("rule", f"label; rule filled {', '.join(filled)}: {why}", modality, large)
    if modality and large is not None:
        return Verdict("rule", why, modality, large)
    missing = [n for n, v in (("modality", modality), ("large-model verdict", large)) if v is None]
    return Verdict("review", f"no label; metadata gives no {' or '.join(missing)}"
                   + (f" ({why})" if why else ""), modality, large)


def classify_dataset(repo_id, labels, use_rules=True, **meta) -> Verdict:
    label = labels.dataset(repo_id)
    if label is not None:
        final = not use_rules or label.valid is False or label.modality and label.lifecycle
        if final:  # is_valid=false is a verdict on the repo itself: rules do not overturn it
            return Verdict("label", "curated label", label.modality, None, label.lifecycle,
                           label.valid)
        modality, lifecycle, why = dataset_rule(name=repo_id, **meta)
        filled = [n for n, lv, rv in (("modality", label.modality, modality),
                                      ("lifecycle", label.lifecycle, lifecycle))
                  if lv is None and rv is not None]
        verdict = Verdict("label", "curated label (blank parts: no rule applies)",
                          label.modality or modality, None, label.lifecycle or lifecycle,
                          label.valid)
        if filled:
            verdict.path, verdict.reason = "rule", f"label; rule filled {', '.join(filled)}: {why}"
        return verdict
    if not use_rules:
        return Verdict("review", "no curated label")
    modality, lifecycle, why = dataset_rule(name=repo_id, **meta)
    if modality and lifecycle:
        return Verdict("rule", why, modality, None, lifecycle, True)
    missing = [n for n, v in (("modality", modality), ("lifecycle", lifecycle)) if v is None]
    return Verdict("review", f"no label; metadata gives no {' or '.join(missing)}"
                   + (f" ({why})" if why else ""), modality, None, lifecycle, None)
