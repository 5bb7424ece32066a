"""The COPY stream: every physical line arrives verbatim, numbered, whatever it contains."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from audience_dagster.ingest.landing import LineStream, escape_copy_text, find_landing_files, open_landing


def drain(stream: LineStream) -> bytes:
    out = b""
    while block := stream.read(8192):
        out += block
    return out


def unescape(data: bytes) -> list[str]:
    """What PostgreSQL's COPY text format makes of the stream, one value per line."""
    values = []
    for line in data.decode().split("\n")[:-1]:
        values.append(line.replace("\\t", "\t").replace("\\r", "\r").replace("\\\\", "\\"))
    return values


def test_escape_keeps_backslashes_tabs_and_carriage_returns() -> None:
    assert escape_copy_text(b'{"a":"x\\"y"}\t\r') == b'{"a":"x\\\\"y"}\\t\\r'


def test_lines_survive_round_trip_across_small_chunks() -> None:
    lines = ['{"a": 1}', '{"b": "tab\there"}', "\\.", '{"c": "back\\\\slash"}', "", "last"]
    data = "\n".join(lines).encode()  # no trailing newline on the last line
    stream = LineStream(io.BytesIO(data), chunk_bytes=7)
    assert unescape(drain(stream)) == lines
    assert stream.lines == 6
    assert stream.unreadable == {}


def test_invalid_utf8_and_nul_are_flagged_by_line_number() -> None:
    data = b'{"ok": 1}\n{"bad": "\xff"}\n{"nul": "a\x00b"}\n{"ok": 2}\n'
    stream = LineStream(io.BytesIO(data), chunk_bytes=5)
    values = unescape(drain(stream))
    assert len(values) == 4 and values[0] == '{"ok": 1}' and values[3] == '{"ok": 2}'
    assert stream.unreadable == {2: "invalid UTF-8 in record", 3: "NUL byte in record"}
    assert "\ufffd" in values[1]


def test_find_landing_files_by_format_sorted(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.jsonl.gz", "c.csv", "notes.txt", "sub/d.ndjson"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in find_landing_files(tmp_path, "jsonl")] == ["a.jsonl.gz", "b.jsonl", "d.ndjson"]
    assert [p.name for p in find_landing_files(tmp_path, "csv")] == ["c.csv"]
    assert find_landing_files(tmp_path / "missing", "csv") == []


def test_gzip_files_are_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n'))
    with open_landing(path) as handle:
        assert handle.read() == b'{"a": 1}\n'
