"""Classification: curated labels first, then metadata rules, then the review list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.classify import (LabelError, Labels, DatasetLabel, ModelLabel, classify_dataset,
                              classify_datasets, classify_model, classify_models, dataset_rule,
                              load_labels, model_rule)
from scoring.rules import load_tables

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
    ({"pipeline_tag": "image-text-to-text", "model_type": "qwen2_5_vl"}, "Multimodal", True),
    ({"pipeline_tag": "automatic-speech-recognition", "architectures": '["WhisperForCond'
      'itionalGeneration"]'}, "Speech", True),
    ({"pipeline_tag": "image-to-3d", "library": "diffusers"}, "3D", True),
    ({"pipeline_tag": "robotics", "tags": ["llama"]}, "Embodied", True),  # a model-type tag
    ({"library": "sentence-transformers", "params": 568_000_000}, "Vector", True),
    ({"tags": '["protein", "esm"]'}, "Protein", True),
    ({"pipeline_tag": "image-classification", "tags": ["resnet"]}, "Vision", False),
    ({"pipeline_tag": "text-classification", "tags": ["lstm"]}, "Language", False),
    # Small embedding models stay large models (the published labels keep bge-small, 33M):
    # the 500M rule is for language models only.
    ({"pipeline_tag": "feature-extraction", "model_type": "bert", "params": 33_000_000},
     "Vector", True),
    # Real architecture metadata, not name keywords: CNNs are not Transformer-era.
    ({"pipeline_tag": "image-classification", "model_type": "resnet"}, "Vision", False),
    ({"pipeline_tag": "image-classification", "architectures": ["EfficientNetForImageCl"
      "assification"]}, "Vision", False),
    ({"pipeline_tag": "object-detection", "model_type": "yolos"}, "Vision", True),  # a ViT
    ({"pipeline_tag": "object-detection", "library": "ultralytics"}, "Vision", False),
])
def test_rules_for_unlabelled_models(meta, modality, large):
    v = classify_model("someone/model", LABELS, **meta)
    assert (v.path, v.modality, v.large) == ("rule", modality, large), v.reason


def test_transformer_with_convolutional_backbone_is_not_pre_transformer():
    assert model_rule(pipeline_tag="image-segmentation", name="facebook/maskformer-resnet101")[1]


@pytest.mark.parametrize("name, large", [
    ("Ultralytics/YOLOv8", False), ("timm/efficientnet_b0.ra_in1k", False),
    ("iic/cv_tinynas_head-detection_damoyolo", False), ("hustvl/yolos-small", True),
    ("timm/vit_base_patch16_224.augreg_in21k", True)])
def test_name_words_when_the_config_says_nothing(name, large):
    assert model_rule(pipeline_tag="object-detection", name=name)[1] is large


def test_parameter_count_zero_is_unknown_and_unknown_architectures_go_to_review():
    # a count of 0 is unknown, never small: a Transformer-era language model of unknown size
    # stays in, and says so
    v = classify_model("someone/llm", LABELS, pipeline_tag="text-generation", params=0,
                       model_type="llama")
    assert (v.path, v.large) == ("rule", True) and v.reason.endswith("; size unknown")
    v = classify_model("someone/new-arch", LABELS, pipeline_tag="image-classification",
                       model_type="brandnewnet")
    assert v.path == "review" and "'brandnewnet' not in data/rules/architectures.csv" in v.reason
    v = classify_model("someone/plain", LABELS, pipeline_tag="image-classification")
    assert v.path == "review" and "no architecture metadata" in v.reason
    # The published labels decide first: bge-small is a large Vector model there.
    assert load_labels().model("BAAI/bge-small-en-v1.5") == ModelLabel("Vector", True)


def test_review_when_neither_label_nor_metadata_decides():
    v = classify_model("someone/mystery", LABELS)
    assert v.path == "review" and "modality" in v.reason
    v = classify_model("someone/llm", LABELS, pipeline_tag="text-generation")  # no params
    assert v.path == "review" and v.modality == "Language" and "large-model" in v.reason
    assert "size unknown" in v.reason  # nor an architecture: review, not kept


LM = ModelLabel("Language", True)


@pytest.mark.parametrize("repo, params, path, large, reason", [
    # the label says it is a language model; the name or safetensors say how large
    ("facebook/opt-125m", None, "rule", False,
     "curated label: language model; 125M parameters (name) < 500M"),
    ("EleutherAI/pythia-70m-deduped", None, "rule", False,
     "curated label: language model; 70M parameters (name) < 500M"),
    ("Qwen/Qwen3-30B-A3B", None, "label", True,  # A3B: active parameters, not the size
     "curated label: language model; 30B parameters (name) >= 500M"),
    ("someone/tiny-7b-merge", 124_000_000, "rule", False,  # safetensors over the name
     "curated label: language model; 124M parameters (safetensors) < 500M"),
    ("openai-community/gpt2", None, "label", True,
     "curated label; language model, size unknown"),
])
def test_the_500m_rule_applies_to_labelled_language_models(repo, params, path, large, reason):
    from scoring.classify import decide_model, size_of, stated_size

    v = decide_model(LM, True, None, lambda: size_of(params, stated_size(repo)))
    assert (v.path, v.large, v.reason) == (path, large, reason)
    # the published profile keeps its labels as they are
    assert decide_model(LM, False, None, lambda: size_of(params, stated_size(repo))).large


def test_the_500m_rule_over_a_frame_of_labelled_records():
    """classify_models: the labelled language models of the published labels whose names
    state under 500M leave the large models in the default profile only."""
    import pandas as pd

    from scoring.classify import classify_models

    shipped = load_labels()
    labelled = ["facebook/opt-125m", "facebook/opt-1.3b", "EleutherAI/gpt-neo-125m"]
    assert all(shipped.model(r) == LM for r in labelled), "the published labels changed"
    frame = pd.DataFrame({"repo_id": labelled, "params": [None, None, 125_198_592],
                          "pipeline_tag": None, "library": None, "tags": None})
    default = classify_models(frame, shipped, use_rules=True)
    assert list(default.large) == [False, True, False]
    assert list(default.path) == ["rule", "label", "rule"]
    assert default.reason[0] == "curated label: language model; 125M parameters (name) < 500M"
    assert default.reason[2] == ("curated label: language model; 125M parameters "
                                 "(safetensors) < 500M")
    assert list(classify_models(frame, shipped, use_rules=False).large) == [True, True, True]


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


@pytest.mark.parametrize("tags, name, modality, lifecycle", [
    # Whole words: "test" inside "latest" is not Evaluation.
    (["modality:text"], "x/latest-news-2025", "Language", None),
    (["modality:text"], "x/news-test-split", "Language", "Evaluation"),
    (["modality:text"], "x/ChemBench4K", "Language", "Evaluation"),
    (["modality:text"], "x/contest-problems", "Language", None),
    (["modality:text"], "x/WebInstructSub", "Language", "Fine-tuning"),
    (["modality:text"], "x/pre-train-zh", "Language", "Pre-training"),
    # Tags first: the card's task categories give the modality, the Hub's size categories a
    # corpus-sized lifecycle.
    (["task_categories:automatic-speech-recognition"], "x/y", "Speech", None),
    (["task_categories:text-generation", "task_categories:image-to-text"], "x/y",
     "Multimodal", None),
    (["modality:text", "size_categories:10B<n<100B"], "x/chat-logs", "Language",
     "Pre-training"),
    (["modality:image", "modality:text", "task_categories:visual-question-answering"],
     "x/vqa-bench", "Multimodal", "Evaluation"),
])
def test_dataset_tags_first_then_whole_words(tags, name, modality, lifecycle):
    assert dataset_rule(tags=tags, name=name)[:2] == (modality, lifecycle)


def test_malformed_labels_name_file_and_line(tmp_path):
    (tmp_path / "models.csv").write_text("repo_id,modality,large_model\na/b,Language,1\nc/d,Smell,1\n")
    (tmp_path / "datasets.csv").write_text("repo_id,modality,lifecycle,valid\n")
    with pytest.raises(LabelError, match=r"models.csv line 3, column 'modality': unknown 'Smell'"):
        load_labels(tmp_path)
    (tmp_path / "models.csv").write_text("repo_id,modality,large_model\na/b,Language,yes\n")
    with pytest.raises(LabelError, match="line 2: expected 1, 0 or blank"):
        load_labels(tmp_path)


def test_malformed_rules_name_file_and_line(tmp_path):
    (tmp_path / "architectures.csv").write_text("kind,key,era,note\nfamily,llama,modern,\n")
    (tmp_path / "dataset_lifecycle.csv").write_text("kind,key,lifecycle,note\n")
    with pytest.raises(LabelError, match=r"architectures.csv line 2: .*era 'modern'"):
        load_tables(tmp_path)
    (tmp_path / "architectures.csv").write_text("kind,key,era,note\nword,vit(,transformer,\n")
    with pytest.raises(LabelError, match=r"architectures.csv line 2: not a regular expression"):
        load_tables(tmp_path)


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
        ({"tags": '["task:robotics", "vit-base"]'}, 0, 0),
        ({"pipeline_tag": "text-generation", "params": 0, "model_type": "llama"}, 0, 0),
        ({"pipeline_tag": "feature-extraction", "model_type": "bert", "params": 33_000_000},
         0, 0),
        ({"pipeline_tag": "image-classification", "architectures": '["EfficientNetForImage'
          'Classification"]'}, 0, 0),
        ({"pipeline_tag": "image-classification", "model_type": "brandnewnet"}, 0, 0),
        ({"pipeline_tag": "object-detection", "library": "ultralytics"}, 0, 0)])),
    *((name, {"pipeline_tag": "object-detection"}) for name in (
        "Ultralytics/YOLOv8", "timm/efficientnet_b0.ra_in1k", "hustvl/yolos-small",
        "iic/cv_tinynas_head-detection_damoyolo", "timm/vit_base_patch16_224.augreg_in21k")),
]
DATASET_CASES = [
    ("BAAI/CCI3-Data", None), ("x/placeholder", '["modality:text"]'),
    ("x/sft-mix", '["modality:text"]'), ("someone/math-dpo-pairs", '["modality:text"]'),
    ("someone/video-bench", '["modality:video", "modality:text"]'),
    ("someone/embodied-corpus", None), ("x/y", '["task_categories:robotics"]'),
    ("someone/unknown", None), ("someone/web-crawl", "not json"),
    ("x/latest-news-2025", '["modality:text"]'), ("x/ChemBench4K", '["modality:text"]'),
    ("x/WebInstructSub", None), ("x/chat-logs", '["modality:text", "size_categories:10B<n<100B"]'),
    ("x/y", '["task_categories:text-generation", "task_categories:image-to-text"]'),
    ("x/z", '["modality:text", "sft", "region:us"]'),  # a plain tag's words
]


@pytest.mark.parametrize("use_rules", [True, False])
def test_a_frame_of_records_gets_the_verdicts_of_one_repo_at_a_time(use_rules):
    columns = ("pipeline_tag", "library", "tags", "params", "model_type", "architectures")
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
