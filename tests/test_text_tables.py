"""The one table renderer (osir_crawl/ops/text_tables.py): cells cannot break a table."""

from osir_crawl.ops.report import catalogue_markdown
from osir_crawl.ops.text_tables import table_lines


def test_markdown_escapes_bars_and_line_breaks():
    lines = table_lines(("name", "count"), [["a|b", 3], ["two\nlines", None]], right=(1,))
    assert lines == ["| name | count |", "|---|--:|", r"| a\|b | 3 |", "| two lines |  |"]


def test_text_columns_line_up_whatever_the_cells_hold():
    lines = table_lines(("name", "n"), [["a|b", 3], ["long\nname", 12]], right=(1,),
                        markdown=False, indent="  ")
    assert lines == ["  name        n", "  ---------  --", "  a|b         3", "  long name  12"]
    assert table_lines(("a", "b"), [["x", ""]], markdown=False, rule=False) == ["a  b", "x"]


def test_a_detail_holding_a_bar_stays_in_its_cell():
    """A catalogue flag's detail quotes a regular expression or an error text: with ``|`` in
    it the report's row would gain columns."""
    [row] = catalogue_markdown([{"flag": "rule not evaluated", "entry": "vllm", "org": None,
                                 "detail": "pattern (a|b) matched nothing"}])[-2:-1]
    assert row == r"| rule not evaluated | vllm |  | pattern (a\|b) matched nothing |"
    assert row.replace(r"\|", "").count("|") == 5
