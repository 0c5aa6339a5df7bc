"""The one YAML loader of the project's inputs (osir_crawl/inputs): line marks, and the
file:line of every problem, whatever the file."""

import pytest

from osir_crawl.inputs import line_of, load_yaml, parse_yaml


class InputError(ValueError):
    pass


def test_mappings_and_lists_know_their_lines():
    data = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2,\n     d: 3}\n", "f.yaml", InputError)
    assert data == {"a": 1, "b": ["x", {"c": 2, "d": 3}]}
    assert line_of(data, ("a",)) == 1 and line_of(data, ("b", 1)) == 4
    assert line_of(data, ("b", 1, "d")) == 5 and line_of(data, ("b", 7)) == 3
    assert line_of({"a": {"b": 1}}, ("a", "b")) is None  # data in memory: no line


@pytest.mark.parametrize("text, message", [
    ("a: 1\nb: 2\na: 3\n", "f.yaml:3: 'a' appears twice in one mapping (first on line 1)"),
    ("a: [1\nb: 2\n", "f.yaml:2: not valid YAML"),
    ("a: 1\nb: 2025-13-45\n", "f.yaml:2: not valid YAML: '2025-13-45' is not a date"),
    ("a: !!python/name:os.system\n", "f.yaml:1: not valid YAML"),
])
def test_a_file_that_is_not_plain_yaml_names_its_line(text, message):
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "f.yaml", InputError)
    assert str(caught.value).startswith(message)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match=r"nope.yaml: method file not found"):
        load_yaml(tmp_path / "nope.yaml", InputError, "method")
    (tmp_path / "latin.yaml").write_bytes(b"a: \xe9\n")
    with pytest.raises(InputError, match=r"latin.yaml: not UTF-8 text \(byte 3"):
        load_yaml(tmp_path / "latin.yaml", InputError, "method")
