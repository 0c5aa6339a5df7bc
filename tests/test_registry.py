import pytest

from osir_crawl.inputs.registry import RegistryError, load_registry
from tests.conftest import ROOT


def write(tmp_path, text):
    path = tmp_path / "orgs.yaml"
    path.write_text(text)
    return path


def test_shipped_registry_has_the_32_published_orgs(anchors):
    from osir_crawl.inputs.published import read_json

    registry = load_registry(ROOT / "data" / "orgs.yaml")
    links = read_json(anchors / "config" / "org-links.json")
    assert registry.orgs[: len(links)] == list(links)
    for org, platforms in links.items():
        for url in platforms.get("HuggingFace", []):
            assert registry.org_of("huggingface", url.rstrip("/").rsplit("/", 1)[1]) == org
        for url in platforms.get("ModelScope", []):
            assert registry.org_of("modelscope", url.rstrip("/").rsplit("/", 1)[1]) == org
    assert registry.orgs_with_flag("baai_data") == ["BAAI"]
    assert [a.name for a in registry.accounts_on("opendatalab")] == [
        "12199", "11828", "12157", "12589", "1678533"]


def test_lookup_is_case_insensitive_and_selection_is_checked(tmp_path):
    registry = load_registry(write(tmp_path, "A:\n  huggingface: [Qwen]\nB:\n  huggingface: [x]\n"))
    assert registry.org_of("huggingface", "qwen") == "A"
    assert registry.org_of("modelscope", "Qwen") is None
    assert registry.select("B") == ["B"]
    assert registry.select(None) == ["A", "B"]
    assert [a.name for a in registry.accounts_on("huggingface", ["B"])] == ["x"]
    with pytest.raises(RegistryError, match=r"unknown org\(s\) C"):
        registry.select("A,C")


def test_accounts_may_carry_a_source(tmp_path):
    registry = load_registry(write(
        tmp_path, "A:\n  github:\n    - {account: FlagOpen, source: 'https://github.com/FlagOpen'}\n"))
    [account] = registry.accounts_on("github")
    assert (account.name, account.org, account.source) == (
        "FlagOpen", "A", "https://github.com/FlagOpen")


@pytest.mark.parametrize("text, message", [
    ("A:\n  huggingfaces: [x]\n", "org A: unknown platform key 'huggingfaces'"),
    ("A:\n  huggingface: [x]\nB:\n  huggingface: [X]\n",
     "org B: huggingface account 'X' is already claimed by org A"),
    ("A:\n  huggingface: x\n", "org A: huggingface must be a list of accounts"),
    ("A:\n  huggingface: [a/b]\n", "org A: huggingface account 'a/b' must be a plain account"),
    ("A:\n  baai_data: yes-please\n", "org A: baai_data must be true or false"),
    ("A: [1, 2]\n", "org A: expected a mapping"),
    ("- just\n- a list\n", "expected a mapping of org name"),
    ("A:\n  huggingface: [x\n", "not valid YAML"),
    ("A: !!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
])
def test_malformed_registry_names_the_org_and_problem(tmp_path, text, message):
    with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_registry(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(RegistryError, match="registry file not found"):
        load_registry(tmp_path / "nope.yaml")


def test_shipped_openi_accounts_each_name_their_evidence():
    """openi_repos has accounts to crawl (BAAI, Huawei's MindSpore, Baidu's PaddlePaddle), and
    each points at a page of that account on OpenI."""
    registry = load_registry(ROOT / "data" / "orgs.yaml")
    accounts = registry.accounts_on("openi")
    assert {(a.org, a.name) for a in accounts} == {
        ("BAAI", "BAAI"), ("Huawei", "MindSpore"), ("Baidu", "PaddlePaddle")}
    for account in accounts:
        assert account.source.startswith(f"https://openi.pcl.ac.cn/{account.name}/")


@pytest.mark.parametrize("text, where", [
    ("A:\n  huggingface: [x]\n  githb: [y]\n", ":3: org A: unknown platform key 'githb'"),
    ("A:\n  github:\n    - x\n    - {account: y, sorce: z}\n", ":4: org A: github account entry"),
    ("A:\n  huggingface: [x]\nB:\n  modelscope: [m]\n  huggingface:\n    - X\n",
     ":6: org B: huggingface account 'X' is already claimed by org A"),
])
def test_registry_errors_name_the_file_and_line(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert str(caught.value).startswith(f"{path}{where}")
