"""Unit tests of parsing.py's readers of undocumented layouts: field aliases, the lists inside a
JSON document, a rendered table."""

from __future__ import annotations

from parsel import Selector

from osir_crawl.parsing import alias_key, alias_value, html_table, json_lists


def test_alias_prefers_the_first_alias_holding_a_value():
    row = {"Name": "", "modelName": "Qwen3-8B", "downloadCount": 0}
    assert alias_key(row, ("name", "modelName")) == "modelName"  # case-insensitive, filled first
    assert alias_key({"Name": ""}, ("name", "modelName")) == "Name"  # present though empty
    assert alias_key(row, ("likes",)) is None
    assert alias_value(row, ("downloads", "downloadCount")) == 0  # 0 is a value
    assert alias_value({"name": ""}, ("name",)) is None


def test_json_lists_shallowest_first_with_their_holder():
    doc = {"meta": {"deep": {"rows": [1]}}, "data": {"total": 2, "list": [{"a": [3]}, {"b": 4}]}}
    found = [(rows, holder) for rows, holder in json_lists(doc)]
    assert [rows for rows, _ in found] == [[{"a": [3]}, {"b": 4}], [1], [3]]
    assert found[0][1] is doc["data"] and found[2][1] == {"a": [3]}
    assert [rows for rows, _ in json_lists([[1], 2])] == [[[1], 2], [1]]


def test_html_table_heads_from_thead_or_the_first_row():
    page = Selector(text="""<table><thead><tr><th><span>模型</span></th><th>均分</th></tr></thead>
        <tbody><tr><td> A </td><td><b>1.5</b></td></tr><tr><td>B</td><td>2</td></tr></tbody>
        </table><table><tr><td>model</td><td>score</td></tr><tr><td>C</td><td>3</td></tr></table>""")
    first, second = page.css("table")
    assert html_table(first) == (["模型", "均分"], [{"模型": "A", "均分": "1.5"},
                                                     {"模型": "B", "均分": "2"}])
    assert html_table(second) == (["model", "score"], [{"model": "C", "score": "3"}])
