"""The catalogue (data/catalogue/*.yaml): the shipped files load against the registry, and a
malformed entry is refused with the file, the line and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from osir_crawl.inputs.catalogue import CatalogueError, Repo, Rule, load_catalogue
from osir_crawl.inputs.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "catalogue"


@pytest.fixture(scope="module")
def shipped():
    return load_catalogue(SHIPPED, orgs=load_registry(ROOT / "data" / "orgs.yaml").orgs)


def test_shipped_catalogue_loads_with_evidence_for_every_entry(shipped):
    entries = [*shipped.projects, *shipped.boards, *shipped.datasets, *shipped.methods,
               *shipped.tools]
    assert len(shipped.projects) >= 30 and len(shipped.boards) >= 20
    for entry in entries:
        assert entry.evidence and all(u.startswith(("http://", "https://"))
                                      for u in entry.evidence), entry.where
        assert entry.verified and entry.since, entry.where
    crawled = {b.spider for b in shipped.boards if b.spider}
    assert {"opencompass_vlm", "lmarena", "helm", "open_llm_leaderboard",
            "open_asr_leaderboard"} <= crawled


def test_counting_rules_match_file_lines_and_tree_paths(shipped):
    rules = {r.key: r for r in shipped.rules()}
    ops = rules["flaggems.operators"]
    text = 'registrar((\n    ("abs", abs),\n    ("add.Tensor", add),\n    ("add_.Tensor", add_),\n'
    assert ops.names([text]) == {"abs", "add", "add_"}
    chips = rules["flagscale.chips"]
    paths = ["hardware/BI_V150/x.patch", "hardware/NVIDIA_CambriconMLU/Megatron-LM/y",
             "hardware/Metax_C550/z", "hardware/README.md", "flagscale/train/a.py"]
    assert chips.names(paths) == {"BI_V150", "Metax_C550"}  # pairs with NVIDIA excluded
    assert rules["flagtree.chips"].refs[0] == "main"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "catalogue"
    shutil.copytree(SHIPPED, folder)
    return folder


def _replace(path: Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("file, old, new, problem", [
    ("infra.yaml", "    org: BAAI\n    kinds: [operator_library]",
     "    org: Nobody\n    kinds: [operator_library]", "org 'Nobody' is not in the registry"),
    ("infra.yaml", "kinds: [operator_library]\n    repos: [github:flagos-ai/FlagGems]",
     "kinds: [operator_lib]\n    repos: [github:flagos-ai/FlagGems]", "kinds: unknown"),
    ("infra.yaml", "repos: [github:flagos-ai/FlagGems]", "repos: [gitlab:flagos-ai/FlagGems]",
     "is not forge:owner/name"),
    ("infra.yaml", "    since: 2024-02-27", "    since: last spring", "since must be a YYYY-MM-DD"),
    ("infra.yaml", "pattern: '\\(\\s*\"([A-Za-z0-9_]+)", "pattern: '\\(\\s*\"(?:[A-Za-z0-9_]+)",
     "the pattern needs a group"),
    ("eval.yaml", "    models: 24\n", "    models: many\n", "models must be a whole number"),
    ("eval.yaml", "  - id: mathbench\n", "  - id: mmbench\n", "id 'mmbench' is used twice"),
    ("eval.yaml", "    maintained: true\n    last_update: 2025-05-16\n", "    maintained: true\n",
     "maintained: true needs last_update"),
])
def test_a_malformed_entry_names_file_line_and_problem(tmp_path, file, old, new, problem):
    folder = _copy(tmp_path)
    _replace(folder / file, old, new)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder, orgs=load_registry(ROOT / "data" / "orgs.yaml").orgs)
    message = str(caught.value)
    assert message.startswith(f"{file}:") and message.split(":")[1].isdigit(), message
    assert problem in message


def test_evidence_must_be_http_urls(tmp_path):
    folder = _copy(tmp_path)
    _replace(folder / "eval.yaml", "      - https://huggingface.co/datasets/lmsys/lmsys-chat-1m",
             "      - huggingface lmsys-chat-1m")
    with pytest.raises(CatalogueError, match=r"eval\.yaml:\d+: evidence must be a list of http"):
        load_catalogue(folder)


def test_repo_urls_and_rule_keys():
    repo = Repo("gitee", "ascend/cann-hccl")
    assert repo.url == "https://gitee.com/ascend/cann-hccl"
    assert str(repo) == "gitee:ascend/cann-hccl"
    rule = Rule("x", "chips", Repo("github", "o/r"), r"^a/([^/]+)/", exclude="^skip")
    assert rule.key == "x.chips" and rule.names(["a/one/f", "a/skip_me/f", "b/two/f"]) == {"one"}


def _published_2025_09_07() -> dict:
    """(dimension, org, indicator) -> the published value, from data/curated."""
    import csv

    curated = ROOT / "data" / "curated"
    out = {}
    for dim in ("infra", "eval"):
        with open(curated / f"{dim}.csv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.pop("month") != "2025-09-07":
                    continue
                org = row.pop("org")
                row.pop("source")
                out.update({(dim, org, k): float(v) for k, v in row.items() if v != ""})
    for dim, name, indicator in (("model", "model-adapted-chips.csv", "num_adapted_chips"),
                                 ("data", "data-operators.csv", "operators")):
        with open(curated / name, encoding="utf-8") as fh:
            values = {r["org"]: float(r["value"]) for r in csv.DictReader(fh)}
        for org in {o for (_, o, _) in out}:
            out[(dim, org, indicator)] = values.get(org, values.get("*", 0.0))
    return out


def test_gaps_list_every_difference_from_the_published_2025_09_07_summaries(shipped):
    """Without a crawl, the catalogue alone gives these values for 2025-09-07; every one that
    differs from the published summary is in `gaps` with both numbers, and nothing else is."""
    from scoring.catalogue_summaries import catalogue_summaries, read_inputs

    orgs = load_registry(ROOT / "data" / "orgs.yaml").orgs
    built = catalogue_summaries(shipped, "2025-09-07", orgs, read_inputs("/no/store", "x"))
    published = _published_2025_09_07()
    differences = set()
    for row in built.provenance.itertuples():
        expected = published[(row.dimension, row.org, row.indicator)]
        if float(row.value) != expected:
            differences.add((row.dimension, row.org, row.indicator, expected, float(row.value)))
    listed = {(g.dimension, g.org, g.indicator, float(g.published), float(g.catalogue))
              for g in shipped.gaps}
    assert listed == differences
    assert all(g.note for g in shipped.gaps)
