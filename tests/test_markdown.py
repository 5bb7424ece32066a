"""The shared Markdown table formatter of asset metadata and model cards."""

from __future__ import annotations

from decimal import Decimal

from audience_dagster import markdown


def test_table_has_header_rule_and_one_line_per_row():
    text = markdown.table(("a", "b"), [(1, None), (0.123456, "x")])
    assert text.splitlines() == ["| a | b |", "| --- | --- |", "| 1 |  |", "| 0.1235 | x |"]


def test_cells_cannot_break_the_table():
    assert markdown.cell("a|b\nc") == "a\\|b c"
    assert markdown.cell(Decimal("12.50")) == "12.50"
    assert markdown.table_lines(("only",), []) == ["| only |", "| --- |"]
