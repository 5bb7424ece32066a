"""Landing files → a byte stream for ``COPY … FROM STDIN`` (text format, one column per line).

Pure logic, no database: finding files, hashing them, and escaping their lines so that each
physical line arrives in PostgreSQL verbatim as one ``text`` value, in order, whatever it
contains. Validation happens afterwards, set-based, in SQL. Lines that cannot even be sent as
text (invalid UTF-8, NUL bytes) are sent with replacement characters, and lines longer than
:data:`MAX_RECORD_BYTES` are sent cut to :data:`KEPT_BYTES_OF_OVERSIZED`; all are reported by
line number so the SQL side quarantines them with the right reason. Nothing here raises on
what a file holds; reading a broken file (a truncated gzip) raises ``OSError``/``EOFError``,
which the loader records as the file's rejection.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 8 << 20
MAX_RECORD_BYTES = 1 << 20  # a record longer than 1 MiB is quarantined, not parsed
KEPT_BYTES_OF_OVERSIZED = 64 << 10  # what raw.quarantine keeps of it (the file keeps the rest)
_SUFFIXES = {"jsonl": (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz"), "csv": (".csv", ".csv.gz")}


def find_landing_files(directory: Path, file_format: str) -> list[Path]:
    """The files of one format in ``directory`` (recursively), in a stable name order."""
    if not directory.is_dir():
        return []
    suffixes = _SUFFIXES[file_format]
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name.endswith(suffixes))


RACY_SECONDS = 2.0  # a file modified this recently may still change within its mtime's granularity


@dataclass(frozen=True)
class FileIdentity:
    """A landing file's content hash with the size and modification time it had *before* it was
    read: if the file changes while it loads, the next pass sees a new time and reads it again.
    ``mtime_ns`` is None for a file modified less than :data:`RACY_SECONDS` before (git's "racy
    clean" rule: a write in the same clock tick would keep the time), so it is hashed again."""

    sha256: str
    size: int
    mtime_ns: int | None


def file_identity(path: Path) -> FileIdentity:
    stat = path.stat()
    racy = time.time_ns() - stat.st_mtime_ns < RACY_SECONDS * 1e9
    return FileIdentity(file_sha256(path), stat.st_size, None if racy else stat.st_mtime_ns)


def file_sha256(path: Path) -> str:
    """Content hash of the file as stored (the idempotency key of a load)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def open_landing(path: Path) -> BinaryIO:
    """Open a landing file for reading bytes, transparently un-gzipping ``*.gz``."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def escape_copy_text(block: bytes) -> bytes:
    """Escape raw lines for COPY text format so each line arrives verbatim as one value."""
    return block.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\r", b"\\r")


@dataclass
class LineStream:
    """A file-like object for ``cursor.copy_expert``: yields escaped blocks of whole lines.

    After it is exhausted, ``lines`` is the number of lines sent and ``unreadable`` maps the
    1-based line numbers that were not valid UTF-8 (or held NUL bytes) to a reason.
    """

    source: BinaryIO
    chunk_bytes: int = CHUNK_BYTES
    lines: int = 0
    unreadable: dict[int, str] = field(default_factory=dict)
    _blocks: Iterator[bytes] | None = None

    def read(self, size: int = -1) -> bytes:  # noqa: ARG002 - COPY accepts any block size
        if self._blocks is None:
            self._blocks = self._generate()
        return next(self._blocks, b"")

    def _generate(self) -> Iterator[bytes]:
        carry = b""
        oversized = 0  # bytes of the current line seen so far once it passed MAX_RECORD_BYTES
        while True:
            block = self.source.read(self.chunk_bytes)
            if not block:
                break
            if oversized:  # skipping the rest of a line too long to keep
                cut = block.find(b"\n")
                if cut < 0:
                    oversized += len(block)
                    continue
                yield self._oversized(carry, oversized + cut)
                carry, oversized, block = b"", 0, block[cut + 1 :]
            block = carry + block
            cut = block.rfind(b"\n")
            if cut < 0:
                carry = block
                if len(carry) > MAX_RECORD_BYTES:
                    carry, oversized = carry[:KEPT_BYTES_OF_OVERSIZED], len(carry)
                continue
            carry = block[cut + 1 :]
            if len(carry) > MAX_RECORD_BYTES:
                carry, oversized = carry[:KEPT_BYTES_OF_OVERSIZED], len(carry)
            yield self._prepare(block[: cut + 1])
        if oversized:
            yield self._oversized(carry, oversized)
        elif carry:
            yield self._prepare(carry + b"\n")

    def _oversized(self, head: bytes, size: int) -> bytes:
        """One line too long to keep: its head, flagged with its size."""
        self.lines += 1
        self.unreadable[self.lines] = f"record too large: {size} bytes (limit {MAX_RECORD_BYTES})"
        head = head[:KEPT_BYTES_OF_OVERSIZED].replace(b"\x00", b"\\u0000").replace(b"\n", b" ")
        return escape_copy_text(head.decode("utf-8", "replace").encode("utf-8") + b"\n")

    def _prepare(self, block: bytes) -> bytes:
        """Whole lines, ending in b'\\n' → escaped bytes; counts lines, flags bad ones."""
        first_line = self.lines + 1
        self.lines += block.count(b"\n")
        long_line = len(block) > MAX_RECORD_BYTES and max(map(len, block.split(b"\n"))) > MAX_RECORD_BYTES
        if long_line or b"\x00" in block or not _is_utf8(block):
            block = self._repair(block, first_line)
        return escape_copy_text(block)

    def _repair(self, block: bytes, first_line: int) -> bytes:
        repaired: list[bytes] = []
        for offset, line in enumerate(block.split(b"\n")[:-1]):
            reason = None
            if len(line) > MAX_RECORD_BYTES:
                reason = f"record too large: {len(line)} bytes (limit {MAX_RECORD_BYTES})"
                line = line[:KEPT_BYTES_OF_OVERSIZED]
            if b"\x00" in line:
                reason = reason or "NUL byte in record"
                line = line.replace(b"\x00", b"\\u0000")
            if not _is_utf8(line):
                reason = reason or "invalid UTF-8 in record"
                line = line.decode("utf-8", "replace").encode("utf-8")
            if reason:
                self.unreadable[first_line + offset] = reason
            repaired.append(line)
        return b"\n".join(repaired) + b"\n"


def _is_utf8(block: bytes) -> bool:
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
