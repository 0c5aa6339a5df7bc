"""Which published quirks a build reproduces (``published``) or corrects (``default``).

Each quirk is one named switch of :class:`Profile`; :data:`FIXES` says why the default
profile's setting is the correction (research/osir-lmts-method.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    ms_key_collision: bool  # ModelScope model and dataset baselines share one dict
    zero_baseline_is_missing: bool  # a ModelScope dataset whose last total was 0 gets 0
    embodied_as_multimodal: bool  # Embodied models counted as multimodal
    min_downloads_inclusive: bool  # a model with exactly min_downloads monthly downloads is kept
    use_rules: bool  # unlabelled repos classified by rules (else left out)
    accumulate_to_month: bool  # accumulated tables stop at the month (else: every snapshot)
    owner_case_sensitive: bool  # a record counts only if its owner is spelt as in the registry
    use_catalogue: bool  # infra, eval, model chips, data operators from crawl + data/catalogue
    min_downloads: int = 50
    row_order: str = "rank"  # rank files listed by rank, or "registry" (as published)
    merge_order: tuple = ("modelscope", "huggingface", "opendatalab", "baai_data")  # first wins


PROFILES = {
    "published": Profile(name="published", ms_key_collision=True, zero_baseline_is_missing=True,
                         embodied_as_multimodal=False, min_downloads_inclusive=True,
                         use_rules=False, accumulate_to_month=False, owner_case_sensitive=True,
                         use_catalogue=False, row_order="registry"),
    "default": Profile(name="default", ms_key_collision=False, zero_baseline_is_missing=False,
                       embodied_as_multimodal=True, min_downloads_inclusive=False,
                       use_rules=True, accumulate_to_month=True, owner_case_sensitive=False,
                       use_catalogue=True),
}
FIXES = {
    "ms_key_collision": "published: last month's ModelScope totals of models and datasets share "
                        "one dict keyed owner/name, so a same-named dataset's total is a model's "
                        "baseline (method §5.2); default keeps models and datasets apart",
    "zero_baseline_is_missing": "published: a ModelScope dataset whose previous total was 0 gets "
                                "0 monthly downloads; default: this total minus 0",
    "embodied_as_multimodal": "published: Embodied models fall in no modality column (the "
                              "intended Embodied->Multimodal remap is a no-op, method §5.5); "
                              "default remaps",
    "min_downloads_inclusive": "published keeps models with exactly 50 monthly downloads; the "
                               "method says 'over 50' (method §5.8); default drops them",
    "use_rules": "published counts only repos with a cached LLM label; default classifies "
                 "unlabelled repos by metadata rules (pipeline_tag, tags, library, parameters)",
    "owner_case_sensitive": "published maps a record to its org only when its owner is spelt "
                            "exactly as in org-links.json (ModelScope lists 27 OpenBMB models as "
                            "'openbmb'); default matches accounts case-insensitively, as the hubs "
                            "do",
    "use_catalogue": "published: infra and eval are the hand-typed published summaries "
                     "(data/curated), carried forward past 2025-09-07, and num_adapted_chips "
                     "and data operators the published pipeline's constants; default builds "
                     "them from the snapshot's crawl plus data/catalogue (docs/catalogue.md)",
    "accumulate_to_month": "published accumulates every snapshot but the first up to the run "
                           "date, future months included (method §4.4); default: every snapshot "
                           "up to the month's own date",
}
assert set(FIXES) == {f.name for f in fields(Profile) if f.type == "bool"}


def profile_named(name: str) -> Profile:
    from .errors import ScoringError

    if name not in PROFILES:
        raise ScoringError(f"unknown profile {name!r} (known: {', '.join(PROFILES)})")
    return PROFILES[name]


def with_fix(profile: Profile, switch: str) -> Profile:
    """``profile`` with one switch set as the default profile sets it."""
    return replace(profile, **{switch: getattr(PROFILES["default"], switch)})
