"""A strict CSV reader that never raises on content: each bad row is set aside with its reason.

Pure (no database). Python's ``csv`` module alone cannot be used on a whole file here: an
unterminated quote makes it swallow every later row into one field, a field over its 128 KiB
limit or (before 3.11) a NUL byte raises and ends the file, and a text wrapper with
``errors="replace"`` hides invalid UTF-8. So records are framed line by line first:

* every physical line is decoded strictly: invalid UTF-8, a NUL byte or more than
  :data:`MAX_RECORD_BYTES` set that line aside (with the reason) and nothing else;
* a line with an odd number of quotes opens a quoted field that continues on the next lines
  (RFC 4180 allows newlines inside quotes); the record is accepted only if the quote closes
  within :data:`MAX_RECORD_LINES` lines and :data:`MAX_RECORD_BYTES`, and the record has the
  header's number of fields. Otherwise only its first line is set aside ("unterminated quoted
  field") and reading resumes on the line after it, so one stray quote costs one row;
* each framed record is parsed by ``csv.reader`` (strict), one record at a time, so a
  malformed one (``"a"b``) is set aside alone.

Line numbers count physical lines with the header as line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MAX_RECORD_BYTES = 128 << 10  # the csv module's own field limit, for the whole record
MAX_RECORD_LINES = 100  # a quoted field may hold newlines, but not a whole file's


@dataclass
class CsvRows:
    """What reading one CSV file found (after :func:`read_rows` is exhausted)."""

    lines: int = 0  # physical lines, header included
    blank: int = 0  # blank lines: not records
    continued: int = 0  # lines that continue a quoted field of the record before them
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)  # line -> (reason, record text)


def _text(line: bytes) -> str:
    """A line as storable text, whatever it holds (for the quarantine's record column)."""
    return line.replace(b"\x00", b"\\u0000").decode("utf-8", "replace")


def _problem(line: bytes) -> str | None:
    if len(line) > MAX_RECORD_BYTES:
        return f"record too large: {len(line)} bytes (limit {MAX_RECORD_BYTES})"
    if b"\x00" in line:
        return "NUL byte in record"
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 in record (byte {exc.start + 1})"
    return None


def _parse(record: str) -> list[str] | str:
    """The fields of one framed record, or why it is not CSV."""
    try:
        rows = list(csv.reader([record], strict=True))
    except csv.Error as exc:
        return f"malformed CSV: {exc}"
    return rows[0] if rows else []


def read_rows(
    raw_lines: Iterable[bytes], width: int, report: CsvRows, first_line: int = 2
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, fields)`` of every good data row; bad rows go to ``report.bad``.

    ``raw_lines`` are the file's physical lines after the header (bytes, with or without their
    line ending); ``width`` is the header's number of fields.
    """
    pending: deque[tuple[int, bytes]] = deque()
    numbered = ((first_line + i, line.rstrip(b"\r\n")) for i, line in enumerate(raw_lines))
    report.lines = first_line - 1

    def next_line() -> tuple[int, bytes] | None:
        if pending:
            return pending.popleft()
        item = next(numbered, None)
        if item is not None:
            report.lines = item[0]
        return item

    while (item := next_line()) is not None:
        number, line = item
        problem = _problem(line)
        if problem:
            report.bad[number] = (problem, _text(line))
            continue
        if not line.strip():
            report.blank += 1
            continue
        parts = [line]
        while line.count(b'"') % 2 and len(parts) < MAX_RECORD_LINES:  # a quoted field continues
            following = next_line()
            if following is None or _problem(following[1]):
                if following is not None:
                    pending.appendleft(following)
                break
            parts.append(following[1])
            line = b"\n".join(parts)
            if len(line) > MAX_RECORD_BYTES:
                break
        record = b"\n".join(parts).decode("utf-8")
        closed = record.count('"') % 2 == 0 and len(record.encode()) <= MAX_RECORD_BYTES
        fields = _parse(record) if closed else "unterminated quoted field"
        if len(parts) > 1 and (isinstance(fields, str) or len(fields) != width):
            # not a multi-line record after all: only its first line is bad, read on after it
            report.bad[number] = ("unterminated quoted field", _text(parts[0]))
            pending.extendleft(reversed([(number + i, p) for i, p in enumerate(parts[1:], start=1)]))
            continue
        if isinstance(fields, str):
            report.bad[number] = (fields, record)
        elif len(fields) != width:
            report.bad[number] = (f"wrong number of fields: expected {width}, got {len(fields)}", record)
        else:
            report.continued += len(parts) - 1
            yield number, fields
