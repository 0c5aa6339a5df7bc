"""The classification rules as data: what platform metadata says about a repository.

:mod:`scoring.classify` applies these tables; a new rule is a new row here (or a new table
and the line in ``classify`` that reads it). Matching is case-insensitive (everything is
lower-cased first).
"""

from __future__ import annotations

import re

MIN_LANGUAGE_PARAMS = 500_000_000  # a language or vector model under this is not "large"

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

# A tag, library or repo name naming one of these is a pre-Transformer model (not "large") ...
PRE_TRANSFORMER = ("lstm", "rnn", "gru", "word2vec", "fasttext", "glove", "resnet", "vgg", "cnn",
                   "lenet", "alexnet", "crf", "elmo", "sklearn", "scikit-learn", "xgboost")
PRE_TRANSFORMER_RE = (r"(?:^|[-_/])(?:" + "|".join(map(re.escape, PRE_TRANSFORMER))
                      + r")(?:$|[-_0-9])")
# ... unless a word also names a Transformer (MaskFormer-ResNet has a convolutional backbone).
TRANSFORMER_RE = r"former|detr|(?:^|[-_/])vit(?:$|[-_])"

# Hugging Face dataset tags -> dataset modality (two or more modalities: Multimodal).
DATASET_TAG_MODALITY = {
    "modality:text": "Language", "modality:audio": "Speech", "modality:image": "Vision",
    "modality:video": "Vision", "modality:3d": "Vision", "modality:timeseries": None,
}
# Dataset name and tag keywords -> lifecycle; the first stage that matches wins.
LIFECYCLE_WORDS = (
    ("Preference", r"dpo|preference|rlhf|reward|feedback|pairwise|chosen"),
    ("Evaluation", r"bench|eval|test|leaderboard|arena|exam"),
    ("Fine-tuning", r"sft|instruct|chat|dialog|conversation|tuning|finetun|alpaca"),
    ("Pre-training", r"pretrain|pre-train|corpus|pile|web|crawl|wiki|books|common"),
)
EMBODIED_TASK = "robotics"  # a tag ending in it (task_categories:robotics), or "embodied" anywhere
EMBODIED_WORD = "embodied"
