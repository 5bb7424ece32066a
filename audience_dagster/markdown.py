"""Markdown tables for asset metadata and model cards: the one formatter every capability uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """A table cell: empty for None, floats to four decimals, anything else as ``str``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a Markdown table: the header, its rule, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table as one string."""
    return "\n".join(table_lines(header, rows))
