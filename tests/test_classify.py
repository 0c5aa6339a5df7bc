"""Classification: curated labels first, then metadata rules, then the review list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.classify import (LabelError, Labels, DatasetLabel, ModelLabel, classify_dataset,
                              classify_datasets, classify_model, classify_models, dataset_rule,
                              load_labels, model_rule)

LABELS = Labels.of(
    models={"BAAI/bge-m3": ModelLabel("Vector", True),
            "google/bert-base-uncased": ModelLabel("Language", False),
            "x/half-labelled": ModelLabel(None, True)},
    datasets={"BAAI/CCI3-Data": DatasetLabel("Language", "Pre-training", True),
              "x/placeholder": DatasetLabel(None, None, False),
              "x/sft-mix": DatasetLabel(None, "Fine-tuning", True)},
)


def test_shipped_labels_load_and_keep_the_published_counts():
    labels = load_labels()
    assert len(labels.models) == 10863 and len(labels.datasets) == 3760
    assert labels.model("sentence-transformers/all-MiniLM-L6-v2") == ModelLabel("Vector", True)
    assert labels.dataset("BAAI/IndustryCorpus2_law_judiciary") == DatasetLabel(
        "Language", "Pre-training", True)


def test_label_wins_over_rules():
    v = classify_model("google/bert-base-uncased", LABELS, pipeline_tag="text-generation",
                       params=7_000_000_000)
    assert (v.path, v.modality, v.large) == ("label", "Language", False)


@pytest.mark.parametrize("meta, modality, large", [
    ({"pipeline_tag": "text-generation", "params": 7_000_000_000}, "Language", True),
    ({"pipeline_tag": "text-generation", "params": 499_000_000}, "Language", False),  # < 500M
    ({"pipeline_tag": "fill-mask", "params": 110_000_000}, "Language", False),
    ({"pipeline_tag": "image-text-to-text"}, "Multimodal", True),
    ({"pipeline_tag": "automatic-speech-recognition"}, "Speech", True),
    ({"pipeline_tag": "image-to-3d"}, "3D", True),
    ({"pipeline_tag": "robotics"}, "Embodied", True),
    ({"library": "sentence-transformers", "params": 568_000_000}, "Vector", True),
    ({"tags": '["protein", "esm"]'}, "Protein", True),
    ({"pipeline_tag": "image-classification", "tags": ["resnet"]}, "Vision", False),
    ({"pipeline_tag": "text-classification", "tags": ["lstm"]}, "Language", False),
])
def test_rules_for_unlabelled_models(meta, modality, large):
    v = classify_model("someone/model", LABELS, **meta)
    assert (v.path, v.modality, v.large) == ("rule", modality, large), v.reason


def test_transformer_with_convolutional_backbone_is_not_pre_transformer():
    assert model_rule(pipeline_tag="image-segmentation", name="facebook/maskformer-resnet101")[1]


def test_review_when_neither_label_nor_metadata_decides():
    v = classify_model("someone/mystery", LABELS)
    assert v.path == "review" and "modality" in v.reason
    v = classify_model("someone/llm", LABELS, pipeline_tag="text-generation")  # no params
    assert v.path == "review" and v.modality == "Language" and "large-model" in v.reason


def test_rules_fill_only_the_blanks_of_a_label():
    v = classify_model("x/half-labelled", LABELS, pipeline_tag="text-to-speech")
    assert (v.path, v.modality, v.large) == ("rule", "Speech", True)
    assert "label; rule filled modality" in v.reason
    assert classify_model("x/half-labelled", LABELS).path == "label"  # nothing to fill


def test_published_profile_uses_labels_only():
    assert classify_model("someone/model", LABELS, use_rules=False,
                          pipeline_tag="text-generation", params=7e9).path == "review"
    assert classify_model("x/half-labelled", LABELS, use_rules=False).modality is None


def test_datasets():
    assert classify_dataset("BAAI/CCI3-Data", LABELS).path == "label"
    invalid = classify_dataset("x/placeholder", LABELS, tags=["modality:text"])
    assert (invalid.path, invalid.valid) == ("label", False)  # rules never overturn is_valid
    filled = classify_dataset("x/sft-mix", LABELS, tags=["modality:text"])
    assert (filled.path, filled.modality, filled.lifecycle) == ("rule", "Language", "Fine-tuning")
    v = classify_dataset("someone/math-dpo-pairs", LABELS, tags=["modality:text", "format:json"])
    assert (v.path, v.modality, v.lifecycle, v.valid) == ("rule", "Language", "Preference", True)
    v = classify_dataset("someone/video-bench", LABELS, tags=["modality:video", "modality:text"])
    assert (v.modality, v.lifecycle) == ("Multimodal", "Evaluation")
    assert dataset_rule(tags=["task_categories:robotics"], name="x/y")[0] == "Embodied"
    assert classify_dataset("someone/unknown", LABELS).path == "review"


def test_malformed_labels_name_file_and_line(tmp_path):
    (tmp_path / "models.csv").write_text("repo_id,modality,large_model\na/b,Language,1\nc/d,Smell,1\n")
    (tmp_path / "datasets.csv").write_text("repo_id,modality,lifecycle,valid\n")
    with pytest.raises(LabelError, match=r"models.csv line 3, column 'modality': unknown 'Smell'"):
        load_labels(tmp_path)
    (tmp_path / "models.csv").write_text("repo_id,modality,large_model\na/b,Language,yes\n")
    with pytest.raises(LabelError, match="line 2: expected 1, 0 or blank"):
        load_labels(tmp_path)


MODEL_CASES = [  # (repo_id, metadata): labelled, half-labelled and unlabelled repos
    ("BAAI/bge-m3", {}), ("google/bert-base-uncased", {"pipeline_tag": "text-generation"}),
    ("x/half-labelled", {"pipeline_tag": "text-to-speech"}), ("x/half-labelled", {}),
    ("someone/mystery", {}), ("someone/llm", {"pipeline_tag": "text-generation"}),
    ("facebook/maskformer-resnet101", {"pipeline_tag": "image-segmentation"}),
    ("someone/resnet-50", {"pipeline_tag": "image-classification"}),
    ("someone/lstm_tagger", {"tags": '["lstm", "region:us"]'}),
    *((f"someone/model-{i}", meta) for i, (meta, _, _) in enumerate([
        ({"pipeline_tag": "text-generation", "params": 7_000_000_000}, 0, 0),
        ({"pipeline_tag": "text-generation", "params": 499_000_000}, 0, 0),
        ({"library": "sentence-transformers", "params": 568_000_000}, 0, 0),
        ({"tags": '["protein", "esm"]'}, 0, 0),
        ({"pipeline_tag": "image-classification", "tags": '["resnet"]'}, 0, 0),
        ({"tags": '["task:robotics", "vit-base"]'}, 0, 0)])),
]
DATASET_CASES = [
    ("BAAI/CCI3-Data", None), ("x/placeholder", '["modality:text"]'),
    ("x/sft-mix", '["modality:text"]'), ("someone/math-dpo-pairs", '["modality:text"]'),
    ("someone/video-bench", '["modality:video", "modality:text"]'),
    ("someone/embodied-corpus", None), ("x/y", '["task_categories:robotics"]'),
    ("someone/unknown", None), ("someone/web-crawl", "not json"),
]


@pytest.mark.parametrize("use_rules", [True, False])
def test_a_frame_of_records_gets_the_verdicts_of_one_repo_at_a_time(use_rules):
    columns = ("pipeline_tag", "library", "tags", "params")
    models = pd.DataFrame([{"repo_id": r, **{c: meta.get(c) for c in columns}}
                           for r, meta in MODEL_CASES * 2]).astype({"params": "Int64"})
    got = classify_models(models, LABELS, use_rules)
    for i, (repo, meta) in enumerate(MODEL_CASES * 2):
        want = classify_model(repo, LABELS, use_rules, **meta)
        assert tuple(got.iloc[i].replace({np.nan: None})) == want[:4], repo
    datasets = pd.DataFrame([{"repo_id": r, "tags": t} for r, t in DATASET_CASES])
    got = classify_datasets(datasets, LABELS, use_rules)
    for i, (repo, tags) in enumerate(DATASET_CASES):
        want = classify_dataset(repo, LABELS, use_rules, tags=tags or ())
        assert tuple(got.iloc[i].replace({np.nan: None})) == (*want[:3], *want[4:]), repo
