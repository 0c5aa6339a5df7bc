"""Fixture tests of the catalogue's counting rules on the three forges that host infrastructure
projects (GitHub, Gitee, GitCode): each rule of data/catalogue as the forge spider evaluates it,
on answers recorded from the real repositories (tests/fixtures/RULE-SOURCES.md names source and
commit), through the API each forge documents for it."""

from __future__ import annotations

import json

import pytest

from osir_crawl.inputs.catalogue import CatalogueError, load_catalogue
from osir_crawl.items import CatalogueCountItem, RequestFailure
from osir_crawl.spiders.gitcode import GitcodeReposSpider
from osir_crawl.spiders.gitee import GiteeReposSpider
from osir_crawl.spiders.github import GithubReposSpider
from tests.spider_fixtures import build, feed, started, stats

GITHUB, GITEE, GITCODE = ("https://api.github.com", "https://gitee.com/api/v5",
                          "https://api.gitcode.com/api/v5")


def evaluate(spider_cls, key: str, ref: str, fixture: str, **response):
    spider = build(spider_cls)
    request = spider.rule_request(key, [ref], 0, [], [])
    items, requests = feed(request, fixture, **response)
    assert requests == []
    return spider, request, items


@pytest.mark.parametrize("spider_cls, key, ref, fixture, url, names", [
    (GithubReposSpider, "diopi.chips", "main", "github_repos/tree-DIOPI-b179d61.json",
     f"{GITHUB}/repos/DeepLink-org/DIOPI/git/trees/main?recursive=1",
     ["ascend", "camb", "cuda", "droplet", "kunlunxin", "muxi", "supa", "topsrider"]),
    (GithubReposSpider, "dicp.chips", "main",
     "github_repos/contents-deeplink.framework-dicp-vendor.json",
     f"{GITHUB}/repos/DeepLink-org/deeplink.framework/contents/dicp/dicp/vendor?ref=main",
     ["Ascend", "Tops"]),
    (GithubReposSpider, "fastchat.chips", "main", "github_repos/raw-FastChat-model_adapter.py",
     f"{GITHUB}/repos/lm-sys/FastChat/contents/fastchat/model/model_adapter.py?ref=main",
     ["cuda", "mps", "npu", "xpu"]),
    (GithubReposSpider, "xtuner.chips", "main", "github_repos/raw-xtuner-device.py",
     f"{GITHUB}/repos/InternLM/xtuner/contents/xtuner/utils/device.py?ref=main",
     ["cuda", "npu"]),
    (GithubReposSpider, "paddle.chips", "develop",
     "github_repos/raw-Paddle-docs-hardware_info_cn.md",
     f"{GITHUB}/repos/PaddlePaddle/docs/contents/docs/guides/hardware_support/"
     f"hardware_info_cn.md?ref=develop",
     ["Graphcore", "NVIDIA", "华为", "壁仞", "天数智芯", "太初", "寒武纪", "海光", "燧原",
      "百度"]),
    (GithubReposSpider, "flagscale.lifecycle", "main", "github_repos/tree-FlagScale-396cfce.json",
     f"{GITHUB}/repos/FlagOpen/FlagScale/git/trees/main?recursive=1",
     ["inference", "serve", "train", "train/peft"]),
    (GithubReposSpider, "flagscale.heterogeneous_training", "main",
     "github_repos/tree-FlagScale-396cfce.json",
     f"{GITHUB}/repos/FlagOpen/FlagScale/git/trees/main?recursive=1",
     ["aquila", "deepseek_v3", "llama3"]),
    (GithubReposSpider, "flagscale.chips", "main", "github_repos/tree-FlagScale-396cfce.json",
     f"{GITHUB}/repos/FlagOpen/FlagScale/git/trees/main?recursive=1",
     ["BI_V150", "Cambricon_MLU", "Huawei_Atlas800TA3", "Hygon_BW1000", "Kunlunxin_R310p",
      "MUSA_S5000", "Metax_C550", "Tsing_micro"]),
    (GithubReposSpider, "flagcx.heterogeneous_training", "main",
     "github_repos/tree-FlagCX-6db7a25.json",
     f"{GITHUB}/repos/flagos-ai/FlagCX/git/trees/main?recursive=1", ["nvidia_iluvatar"]),
    (GithubReposSpider, "flagcx.cross_chip", "main", "github_repos/raw-FlagCX-README.md",
     f"{GITHUB}/repos/flagos-ai/FlagCX/contents/README.md?ref=main",
     ["allgather", "allreduce", "alltoall", "alltoallv", "broadcast", "gather", "group ops",
      "recv", "reduce", "reducescatter", "scatter", "send"]),
    (GithubReposSpider, "bladedisc.frameworks", "master", "github_repos/raw-BladeDISC-README.md",
     f"{GITHUB}/repos/alibaba/BladeDISC/contents/README.md?ref=master",
     ["PyTorch", "TensorFlow"]),
    (GithubReposSpider, "bladedisc.chips", "master", "github_repos/raw-BladeDISC-README.md",
     f"{GITHUB}/repos/alibaba/BladeDISC/contents/README.md?ref=master",
     ["AMD GPU", "Hygon DCU", "Nvidia GPU"]),
    (GithubReposSpider, "fastchat.lifecycle", "main", "github_repos/tree-FastChat-0e6d3e4.json",
     f"{GITHUB}/repos/lm-sys/FastChat/git/trees/main?recursive=1",
     ["serve/", "serve/inference.py", "train/"]),
    (GithubReposSpider, "megatron-lm.lifecycle", "main",
     "github_repos/tree-Megatron-LM-48b1bbf.json",
     f"{GITHUB}/repos/NVIDIA/Megatron-LM/git/trees/main?recursive=1",
     ["megatron/inference/", "megatron/inference/text_generation_server.py",
      "megatron/training/datasets/sft_dataset.py", "pretrain_gpt.py"]),
    (GithubReposSpider, "mlx-lm.lifecycle", "main", "github_repos/contents-mlx-lm-mlx_lm.json",
     f"{GITHUB}/repos/ml-explore/mlx-lm/contents/mlx_lm?ref=main",
     ["__init__", "__main__", "_version", "benchmark", "cache_prompt", "chat", "convert",
      "evaluate", "fuse", "generate", "gguf", "lora", "manage", "perplexity", "sample_utils",
      "server", "tokenizer_utils", "upload", "utils"]),
    (GithubReposSpider, "internevo.lifecycle", "develop", "github_repos/tree-InternEvo-c628a8c.json",
     f"{GITHUB}/repos/InternLM/InternEvo/git/trees/develop?recursive=1",
     ["sft", "train"]),
    (GithubReposSpider, "xtuner.lifecycle", "main", "github_repos/contents-xtuner-tools.json",
     f"{GITHUB}/repos/InternLM/xtuner/contents/xtuner/tools?ref=main",
     ["chat", "check_custom_dataset", "copy_cfg", "eval_refcoco", "get_data_order", "list_cfg",
      "list_dataset_format", "log_dataset", "mmbench", "process_untokenized_datasets",
      "process_untokenized_datasets_legacy", "process_untokenized_llava_data", "test",
      "tokenize_ftdp_datasets", "train", "utils"]),
    (GithubReposSpider, "lmdeploy.lifecycle", "main", "github_repos/contents-lmdeploy-lmdeploy.json",
     f"{GITHUB}/repos/InternLM/lmdeploy/contents/lmdeploy?ref=main",
     ["cli", "lite", "metrics", "monitoring", "pytorch", "serve", "turbomind", "vl"]),
    (GithubReposSpider, "gpt-neox.lifecycle", "main", "github_repos/tree-gpt-neox-d12c771.json",
     f"{GITHUB}/repos/EleutherAI/gpt-neox/git/trees/main?recursive=1",
     ["generate.py", "post-training/", "train.py"]),
    (GithubReposSpider, "torchtitan.lifecycle", "main", "github_repos/contents-torchtitan-torchtitan.json",
     f"{GITHUB}/repos/pytorch/torchtitan/contents/torchtitan?ref=main",
     ["__init__", "train"]),
    (GithubReposSpider, "torchtune.chips", "main", "github_repos/raw-torchtune-device.py",
     f"{GITHUB}/repos/pytorch/torchtune/contents/torchtune/utils/_device.py?ref=main",
     ["cuda", "hpu", "mps", "npu", "xpu"]),
    (GithubReposSpider, "torchtune.lifecycle", "main", "github_repos/contents-torchtune-recipes.json",
     f"{GITHUB}/repos/pytorch/torchtune/contents/recipes?ref=main",
     ["__init__", "eleuther_eval", "full_dpo_distributed", "full_finetune_distributed",
      "full_finetune_single_device", "generate", "knowledge_distillation_distributed",
      "knowledge_distillation_single_device", "lora_dpo_distributed", "lora_dpo_single_device",
      "lora_finetune_distributed", "lora_finetune_single_device",
      "ppo_full_finetune_single_device", "qat_distributed", "qat_lora_finetune_distributed",
      "qat_single_device", "quantize"]),
    (GithubReposSpider, "pai-megatron-patch.lifecycle", "main", "github_repos/tree-Pai-Megatron-Patch-7a91081.json",
     f"{GITHUB}/repos/alibaba/Pai-Megatron-Patch/git/trees/main?recursive=1",
     ["megatron_patch/generation/", "toolkits/pretrain_data_preprocessing/", "toolkits/sft_data_preprocessing/"]),
    (GithubReposSpider, "rtp-llm.chips", "main", "github_repos/contents-rtp-llm-devices.json",
     f"{GITHUB}/repos/alibaba/rtp-llm/contents/rtp_llm/cpp/devices?ref=main",
     ["cuda", "rocm"]),
    (GithubReposSpider, "flashmla.chips", "main", "github_repos/raw-FlashMLA-setup.py",
     f"{GITHUB}/repos/deepseek-ai/FlashMLA/contents/setup.py?ref=main",
     ["CUDA"]),
    (GithubReposSpider, "deepgemm.chips", "main", "github_repos/raw-DeepGEMM-setup.py",
     f"{GITHUB}/repos/deepseek-ai/DeepGEMM/contents/setup.py?ref=main",
     ["CUDA"]),
    (GithubReposSpider, "deepep.chips", "main", "github_repos/raw-DeepEP-setup.py",
     f"{GITHUB}/repos/deepseek-ai/DeepEP/contents/setup.py?ref=main",
     ["CUDA"]),
    (GithubReposSpider, "nccl.chips", "master", "github_repos/raw-nccl-CMakeLists.txt",
     f"{GITHUB}/repos/NVIDIA/nccl/contents/CMakeLists.txt?ref=master",
     ["CUDA"]),
    (GithubReposSpider, "tilefusion.chips", "master", "github_repos/raw-TileFusion-CMakeLists.txt",
     f"{GITHUB}/repos/microsoft/TileFusion/contents/CMakeLists.txt?ref=master",
     ["CUDA"]),
    (GithubReposSpider, "rtp-llm.lifecycle", "main", "github_repos/contents-rtp-llm-rtp_llm.json",
     f"{GITHUB}/repos/alibaba/rtp-llm/contents/rtp_llm?ref=main",
     ["access_logger", "aios", "async_decoder_engine", "config", "cpp", "device", "distribute",
      "embedding", "eplb", "flexlb", "frontend", "libs", "lora", "metrics", "model_loader",
      "models", "models_py", "openai", "ops", "pipeline", "plugins", "server", "structure",
      "test", "tokenizer_data", "tools", "utils", "vipserver"]),
    (GithubReposSpider, "flashmla.frameworks", "main", "github_repos/raw-FlashMLA-setup.py",
     f"{GITHUB}/repos/deepseek-ai/FlashMLA/contents/setup.py?ref=main", ["torch"]),
    (GithubReposSpider, "deepgemm.frameworks", "main", "github_repos/raw-DeepGEMM-setup.py",
     f"{GITHUB}/repos/deepseek-ai/DeepGEMM/contents/setup.py?ref=main", ["torch"]),
    (GithubReposSpider, "tilefusion.frameworks", "master",
     "github_repos/raw-TileFusion-pyproject.toml",
     f"{GITHUB}/repos/microsoft/TileFusion/contents/pyproject.toml?ref=master", ["torch"]),
    (GiteeReposSpider, "mindspore.chips", "master",
     "gitee_repos/contents-mindspore-plugin-device.json",
     f"{GITEE}/repos/mindspore/mindspore/contents/mindspore/ccsrc/plugin/device?ref=master",
     ["ascend", "gpu"]),
    (GitcodeReposSpider, "mindspore.operators", "master",
     "gitcode_repos/raw-mindspore-ops-operations-init.py",
     f"{GITCODE}/repos/mindspore/mindspore/raw/mindspore/python/mindspore/ops/operations/"
     f"__init__.py?ref=master",
     ["Add", "AllGather", "AllReduce", "ApplyKerasMomentum", "Broadcast", "CeLU",
      "CropAndResize", "EditDistance", "Equal", "Ger", "HSVToRGB", "PadV3", "ReduceOp",
      "ReduceScatter", "ReverseSequence", "Roll", "Sort", "TensorAdd", "Unique", "Zeta"]),
])
def test_a_rule_counts_what_the_real_repository_states(spider_cls, key, ref, fixture, url,
                                                       names):
    spider, request, items = evaluate(spider_cls, key, ref, fixture)
    assert request.url == url
    [count] = items
    assert isinstance(count, CatalogueCountItem)
    assert (count.rule, count.value, count.names, count.refs) == (key, len(names), names, [ref])
    reads = spider.rules_by_key[key].reads
    assert stats(spider)[f"osir/catalogue/rules_evaluated/{reads}"] == 1


def test_github_reads_a_file_raw_and_gitee_gitcode_through_their_raw_route():
    github = build(GithubReposSpider).rule_request("fastchat.chips", ["main"], 0, [], [])
    assert github.headers["Accept"] == b"application/vnd.github.raw+json"
    gitcode = build(GitcodeReposSpider).rule_request("mindspore.operators", ["main"], 0, [], [])
    assert "/raw/" in gitcode.url and "access_token" not in gitcode.url  # added on the wire


def test_a_folder_or_file_gone_is_a_failure_not_a_zero():
    spider, request, items = evaluate(GiteeReposSpider, "mindspore.chips", "master", None,
                                      status=404)
    [failure] = items
    assert isinstance(failure, RequestFailure)
    assert failure.reason == "mindspore/ccsrc/plugin/device/: HTTP 404"


def test_a_github_folder_listing_at_its_1000_entry_limit_is_a_failure(tmp_path, monkeypatch):
    import tests.spider_fixtures as fixtures
    full = [{"name": f"d{i}", "path": f"dicp/dicp/vendor/X{i}Graph", "type": "dir"}
            for i in range(1000)]
    (tmp_path / "full.json").write_text(json.dumps(full))
    monkeypatch.setattr(fixtures, "FIXTURES", tmp_path)
    _, _, [failure] = evaluate(GithubReposSpider, "dicp.chips", "main", "full.json")
    assert failure.reason == ("dicp/dicp/vendor/: 1000 entries, the listing's limit "
                              "(count cut)")


def catalogue_with(tmp_path, rule: str):
    from osir_crawl.inputs.catalogue import CATALOGUE_DIR
    (tmp_path / "eval.yaml").write_text((CATALOGUE_DIR / "eval.yaml").read_text())
    (tmp_path / "infra.yaml").write_text(f"""
projects:
  - id: x
    name: X
    org: Huawei
    kinds: [operator_library]
    since: 2025-01-01
    evidence: [https://example.org]
    verified: 2025-01-01
    counts:
      chips:
{rule}
seeded_from: [https://example.org]
reviewed: 2025-01-01
""")
    return load_catalogue(tmp_path)


@pytest.mark.parametrize("rule, message", [
    ("        repo: gitcode:cann/ops-nn\n        tree: '^a/([^/]+)/'",
     "infra.yaml:12: counts.chips: a tree rule cannot be evaluated on gitcode"),
    ("        repo: github:o/r\n        dir: a\n        within: '(x)'\n        pattern: '(y)'",
     "infra.yaml:14: counts.chips.within narrows a file: only with file"),
    ("        repo: openi:o/r\n        file: a.txt\n        pattern: '(y)'",
     "infra.yaml:12: counts.chips: a file rule cannot be evaluated on openi"),
    ("        repo: gitee:o/r\n        file: a\n        dir: b\n        pattern: '(y)'",
     "infra.yaml:12: counts.chips: give exactly one of file"),
])
def test_a_rule_the_forge_cannot_evaluate_stops_the_load(tmp_path, rule, message):
    with pytest.raises(CatalogueError) as caught:
        catalogue_with(tmp_path, rule)
    assert str(caught.value).startswith(message)


def test_chips_are_counted_as_vendors_across_an_organisations_projects():
    cat = load_catalogue()
    assert {cat.vendor(n) for n in ("npu", "ascend", "cann", "Huawei")} == {"Ascend"}
    assert cat.vendor("xpu") == "xpu"  # Intel's in FastChat, Kunlunxin's in FlagTree


def test_a_catalogued_repository_on_gitee_records_its_last_push():
    """What a project's `status` is judged by: every forge's repository object gives
    ``pushed_at``; GitHub also ``archived`` (Gitee documents none: left unknown)."""
    spider = build(GiteeReposSpider, orgs="Baidu")
    [check] = [r for r in started(spider)
               if r.url == f"{GITEE}/repos/paddlepaddle/Paddle"]
    [repo], [] = feed(check, "gitee_repos/repo-paddlepaddle-Paddle.json")
    assert (repo.platform, repo.repo_id, repo.entry, repo.exists) == (
        "gitee", "paddlepaddle/Paddle", "paddle", True)
    assert (repo.pushed_at, repo.archived) == ("2025-09-06T10:01:11+08:00", None)


def test_rules_reading_the_same_tree_are_each_evaluated():
    """FlagScale's chips, lifecycle and heterogeneous-recipe rules read one git tree: each asks
    for it on its own (the dupefilter must not drop the second and third unseen)."""
    spider = build(GithubReposSpider, orgs="BAAI")
    keys = ("flagscale.chips", "flagscale.lifecycle", "flagscale.heterogeneous_training")
    requests = [spider.rule_request(key, ["main"], 0, [], []) for key in keys]
    assert len({r.url for r in requests}) == 1 and all(r.dont_filter for r in requests)
    values = {}
    for key, request in zip(keys, requests):
        [count], [] = feed(request, "github_repos/tree-FlagScale-396cfce.json")
        values[count.rule] = count.value
    assert values == {"flagscale.chips": 8, "flagscale.lifecycle": 4,
                      "flagscale.heterogeneous_training": 3}


def test_a_file_without_the_part_a_rule_reads_is_a_failure_not_a_zero(tmp_path, monkeypatch):
    """BladeDISC's README with its Backend Support Matrix heading renamed: the chips rule
    cannot find the part it reads, a failure (a zero would be a wrong count)."""
    import tests.spider_fixtures as fixtures
    text = fixtures.FIXTURES.joinpath("github_repos/raw-BladeDISC-README.md").read_text()
    (tmp_path / "readme.md").write_text(text.replace("#### Backend Support Matrix",
                                                     "#### Backends"))
    monkeypatch.setattr(fixtures, "FIXTURES", tmp_path)
    _, _, [failure] = evaluate(GithubReposSpider, "bladedisc.chips", "master", "readme.md")
    assert isinstance(failure, RequestFailure)
    assert failure.reason.startswith("README.md: no part matches within '^#### Backend Support")
