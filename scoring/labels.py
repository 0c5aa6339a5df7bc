"""The curated labels (``data/labels/``): the published, LLM-made and cached verdicts.

``models.csv``: repo_id, modality, large_model; ``datasets.csv``: repo_id, modality, lifecycle,
valid (converted from OSIR-LMTS ``config/model-info.json`` and ``dataset-info.json``). Validated
on load: :class:`LabelError` names the file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .csv_files import checked_rows
from .vocabulary import DATASET_MODALITIES, LIFECYCLES, MODEL_MODALITIES

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "labels"


class ModelLabel(NamedTuple):
    modality: str | None
    large: bool | None


class DatasetLabel(NamedTuple):
    modality: str | None
    lifecycle: str | None
    valid: bool | None


class LabelError(ValueError):
    """A labels file is malformed; the message names the file, line and column."""


@dataclass
class Labels:
    """The curated labels: ``models`` (modality, large) and ``datasets`` (modality, lifecycle,
    valid), each a frame indexed by repo_id; blanks are None."""

    models: pd.DataFrame
    datasets: pd.DataFrame

    @classmethod
    def of(cls, models=None, datasets=None):
        """From ``{repo_id: ModelLabel}`` and ``{repo_id: DatasetLabel}``."""
        return cls(_label_frame(models or {}, ModelLabel._fields),
                   _label_frame(datasets or {}, DatasetLabel._fields))

    def model(self, repo_id):
        return _label_of(self.models, repo_id, ModelLabel)

    def dataset(self, repo_id):
        return _label_of(self.datasets, repo_id, DatasetLabel)


def _label_frame(mapping, fields):
    frame = pd.DataFrame.from_dict({k: tuple(v) for k, v in mapping.items()}, orient="index",
                                   columns=list(fields), dtype=object)
    frame.index.name = "repo_id"
    return frame


def _label_of(frame, repo_id, kind):
    if repo_id not in frame.index:
        return None
    return kind(*(None if pd.isna(v) else v for v in frame.loc[repo_id]))


def load_labels(folder=None) -> Labels:
    folder = Path(folder or LABELS_DIR)
    models = {k: ModelLabel(m, large) for k, m, large, *_ in
              _read(folder / "models.csv", ("repo_id", "modality", "large_model"),
                    MODEL_MODALITIES, None)}
    datasets = {k: DatasetLabel(m, lc, valid) for k, m, lc, valid in
                _read(folder / "datasets.csv", ("repo_id", "modality", "lifecycle", "valid"),
                      DATASET_MODALITIES, LIFECYCLES)}
    return Labels.of(models, datasets)


def _read(path, header, modalities, lifecycles):
    seen = set()
    for n, row in checked_rows(path, header, LabelError, "labels", skip_blank=False):
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
