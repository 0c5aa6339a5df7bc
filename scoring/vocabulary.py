"""The words scoring counts in, defined once: modalities, lifecycles and every dimension's
indicators (the columns of its summary and of ``data/method.yaml``, in published order).

Classification labels use the capitalised names; summary columns their lower-case,
hyphen-less form (``Pre-training`` -> ``num_pretraining``, ``3D`` -> ``num_3d``).
"""

from __future__ import annotations

MODEL_MODALITIES = ("Vision", "Language", "Speech", "3D", "Multimodal", "Protein", "Vector",
                    "Embodied")
DATASET_MODALITIES = ("Language", "Speech", "Vision", "Multimodal", "Embodied")
LIFECYCLES = ("Pre-training", "Fine-tuning", "Preference", "Evaluation")

# What the summaries count in columns of their own (published, method §4.3): Embodied models
# and Evaluation datasets fall in no column (they still count in likes, usage, ...).
MODEL_COLUMN_MODALITIES = MODEL_MODALITIES[:7]
DATASET_COLUMN_MODALITIES = DATASET_MODALITIES
DATASET_COLUMN_LIFECYCLES = LIFECYCLES[:3]


def column(label: str) -> str:
    """The summary-column form of a modality or lifecycle: ``Pre-training`` -> ``pretraining``."""
    return label.lower().replace("-", "")


INDICATORS = {
    "data": (*(f"num_{column(m)}" for m in DATASET_COLUMN_MODALITIES),
             *(f"downloads_{column(m)}" for m in DATASET_COLUMN_MODALITIES),
             "dataset_usage",
             *(f"num_{column(c)}" for c in DATASET_COLUMN_LIFECYCLES),
             *(f"downloads_{column(c)}" for c in DATASET_COLUMN_LIFECYCLES),
             "operators"),
    "model": (*(f"downloads_{column(m)}" for m in MODEL_COLUMN_MODALITIES), "descendants",
              *(f"num_{column(m)}" for m in MODEL_COLUMN_MODALITIES), "likes", "issue",
              "num_adapted_chips"),
    "infra": ("num_operators", "num_adapted_chips_operator_lib",
              "num_adapted_frameworks_operator_lib", "support_heterogeneous_training_frameworks",
              "num_adapted_chips_frameworks", "support_lifecycle",
              "num_adapted_frameworks_ai_compiler", "num_adapted_chips_ai_compiler",
              "deep_learning_framework", "num_adapted_chips_communication_lib",
              "support_cross_chip_communication",
              "support_heterogeneous_training_communication_lib"),
    "eval": ("num_leaderboards", "num_evaluated_models", "num_evaluation_datasets",
             "num_evaluation_methods", "num_evaluation_tools"),
}
# Collected only since 2025-03-07: the published tables before then lack these columns.
LATER_INDICATORS = {
    "infra": ("num_adapted_frameworks_ai_compiler", "num_adapted_chips_ai_compiler",
              "num_adapted_chips_communication_lib", "support_cross_chip_communication",
              "support_heterogeneous_training_communication_lib"),
    "eval": ("num_evaluation_tools",),
}
ACC = "-accumulated"  # suffix of the accumulated summaries and ranks (data-accumulated, ...)
CURATED_DIMENSIONS = ("infra", "eval")  # hand-curated per month (data/curated/)
CRAWLED_DIMENSIONS = ("data", "model")  # summarised from the store's records
