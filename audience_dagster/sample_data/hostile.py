"""A hostile corpus: landing files a careless or malicious sender could write, with the truth.

``write_hostile_corpus(out, seed)`` writes, beside (or instead of) a generated sample:

* ``landing/<source>/hostile-<seed>.jsonl`` (and ``historical_orders/hostile-<seed>.csv``):
  every kind of :mod:`.hostile_records` in turn until each source has its share of
  ``records`` — at least 1,000 in all — deterministic per seed;
* files no loader can read: a truncated gzip, bytes that are not gzip at all and an orders CSV
  whose header lacks the required columns (each must be *rejected*, nothing else disturbed);
* ``truth/hostile.csv`` — per line: file, line number, source, kind, the expected outcome
  (``landed``, ``quarantined``, ``duplicate``, ``blank``, ``not_stored``) and a fragment the
  quarantine reason must contain — and ``truth/hostile_files.csv`` for the rejected files.

Pure apart from writing the files; no database.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass, field
from pathlib import Path

from audience_dagster.sample_data.hostile_records import CSV_HEADER, KINDS, Ids

SHARES = {"segment": 0.40, "sendgrid": 0.17, "shopify": 0.18, "social": 0.12, "historical_orders": 0.13}
EXTENSIONS = {"historical_orders": "csv"}


@dataclass(frozen=True)
class Expected:
    """What ingestion must do with one line of a corpus file."""

    file: str  # relative to landing/
    line: int
    source: str
    kind: str
    expect: str
    reason: str | None


@dataclass
class Corpus:
    """What :func:`write_hostile_corpus` wrote."""

    records: list[Expected] = field(default_factory=list)
    rejected_files: list[tuple[str, str]] = field(default_factory=list)  # (file, source)

    def count(self, expect: str) -> int:
        return sum(r.expect == expect for r in self.records)


def corpus_lines(source: str, seed: int, n: int) -> list[tuple[str, bytes, str, str | None]]:
    """``n`` lines of one source: (kind, line, expect, reason), cycling through its kinds."""
    ids, kinds, lines = Ids(seed), list(KINDS[source].items()), []
    while len(lines) < n:
        for kind, build in kinds:
            line, expect, reason = build(ids)
            lines.append((kind, line, expect, reason))
            if len(lines) == n:
                break
    return lines


def write_hostile_corpus(out: Path, seed: int = 11, records: int = 1_200) -> Corpus:
    """Write the corpus under ``out/landing`` and its truth under ``out/truth`` (see above)."""
    landing, truth = out / "landing", out / "truth"
    corpus = Corpus()
    for source, share in SHARES.items():
        directory = landing / source
        directory.mkdir(parents=True, exist_ok=True)
        name = f"hostile-{seed}.{EXTENSIONS.get(source, 'jsonl')}"
        lines = corpus_lines(source, seed, max(len(KINDS[source]), round(records * share)))
        header = [CSV_HEADER] if source == "historical_orders" else []
        (directory / name).write_bytes(b"\n".join([*header, *(line for _, line, _, _ in lines)]) + b"\n")
        number = len(header) + 1  # a record may span lines (a quoted CSV field with a newline)
        for kind, line, expect, reason in lines:
            corpus.records.append(Expected(f"{source}/{name}", number, source, kind, expect, reason))
            number += line.count(b"\n") + 1
    corpus.rejected_files = _unreadable_files(landing, seed)
    _write_truth(truth, corpus)
    return corpus


def _unreadable_files(landing: Path, seed: int) -> list[tuple[str, str]]:
    """Files that must be rejected as a whole, each beside good files of its source."""
    lines = b"".join(line + b"\n" for _, line, expect, _ in corpus_lines("segment", seed, 60) if expect == "landed")
    packed = gzip.compress(lines, mtime=0)  # deterministic bytes
    files = {
        ("segment", f"hostile-{seed}-truncated.jsonl.gz"): packed[: len(packed) // 2],
        ("social", f"hostile-{seed}-not-gzip.jsonl.gz"): b"this is not gzip data\n" * 3,
        ("historical_orders", f"hostile-{seed}-no-header.csv"): b"when,what\n2025-01-01,tea\n",
    }
    for (source, name), data in files.items():
        (landing / source).mkdir(parents=True, exist_ok=True)
        (landing / source / name).write_bytes(data)
    return [(f"{source}/{name}", source) for source, name in files]


def _write_truth(truth: Path, corpus: Corpus) -> None:
    truth.mkdir(parents=True, exist_ok=True)
    with (truth / "hostile.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "source", "kind", "expect", "reason"])
        writer.writerows((r.file, r.line, r.source, r.kind, r.expect, r.reason or "") for r in corpus.records)
    with (truth / "hostile_files.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "source", "expect"])
        writer.writerows((path, source, "rejected") for path, source in corpus.rejected_files)


def read_truth(truth: Path) -> tuple[list[Expected], list[tuple[str, str]]]:
    """The corpus truth written by :func:`write_hostile_corpus`."""
    with (truth / "hostile.csv").open(newline="") as handle:
        records = [
            Expected(r["file"], int(r["line"]), r["source"], r["kind"], r["expect"], r["reason"] or None)
            for r in csv.DictReader(handle)
        ]
    with (truth / "hostile_files.csv").open(newline="") as handle:
        files = [(r["file"], r["source"]) for r in csv.DictReader(handle)]
    return records, files
