"""The one table renderer of reports and command output: Markdown or aligned plain text.

A cell is any value (None is blank); its text is made safe for the format, so a name, URL or
error message holding ``|`` or a line break cannot split a row or shift the columns: in
Markdown ``|`` is escaped (``\\|``), in both formats a line break becomes a space.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell_text(value, markdown: bool = True) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.splitlines()) if "\n" in text or "\r" in text else text
    return text.replace("|", r"\|") if markdown else text


def table_lines(headers: Sequence, rows: Iterable[Sequence], right: Iterable[int] = (),
                markdown: bool = True, rule: bool = True, indent: str = "") -> list[str]:
    """The lines of a table; ``right``: the indexes of right-aligned (numeric) columns.

    Markdown: ``| a | b |`` rows under a ``|---|--:|`` rule. Text: columns padded to their
    widest cell, two spaces apart, trailing blanks cut, each line after ``indent``; ``rule``
    puts a line of dashes under the headers."""
    right = set(right)
    head = [cell_text(h, markdown) for h in headers]
    body = [[cell_text(c, markdown) for c in row] for row in rows]
    if markdown:
        marks = "|".join("--:" if j in right else "---" for j in range(len(head)))
        return [_markdown_row(head), f"|{marks}|", *(_markdown_row(r) for r in body)]
    widths = [max(len(r[j]) for r in [head, *body]) for j in range(len(head))]
    lines = [head, *([["-" * w for w in widths]] if rule else []), *body]
    return [indent + "  ".join(c.rjust(w) if j in right else c.ljust(w)
                               for j, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in lines]


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
