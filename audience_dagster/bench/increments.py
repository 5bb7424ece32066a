"""Hourly-shaped increments for ``audience bench refresh``: split a generated sample's landing
files into a base (the full build) and a few increments that arrive later as new files.

An increment is what an hourly refresh really sees, not a random sample of all history (that
would touch a quarter of all people): the records of the latest stretch of the sample — new and
returning people, identifies that link their earlier anonymous browsing, orders, email and
social events as they happen — plus a few late records (older timestamps arriving late, from the
week before the stretch). The stretch holds ``increments × share`` of all event records, cut at
equal-count time boundaries, one window per increment; the late records are dealt out evenly.

Every event source is split (Segment, SendGrid, Shopify, social, by their own time field); the
historical orders CSV stays whole in the base. A line that is not a JSON object with a readable
time (the generator's malformed lines) stays in the base, where ingest quarantines it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson

from audience_dagster.ingest.landing import find_landing_files

# landing folder → the record's time field (SendGrid: epoch seconds; the others ISO 8601)
TIME_FIELDS = {"segment": "receivedAt", "sendgrid": "timestamp", "shopify": "created_at", "social": "occurred_at"}
LATE_LOOKBACK_SECONDS = 7 * 86_400


def record_time(source: str, line: bytes) -> tuple[float, dict | None]:
    """Epoch seconds of one landing line and the parsed record (NaN, None when unreadable)."""
    try:
        record = orjson.loads(line)
        value = record[TIME_FIELDS[source]]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), record
        return datetime.fromisoformat(value).timestamp(), record
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return float("nan"), None


@dataclass
class IncrementFigures:
    """What one increment holds: records, late ones, Segment identifies linking anonymous ids."""

    records: int = 0
    late: int = 0
    identifies: int = 0
    identifies_linking_anonymous: int = 0  # anonymousId seen before, anonymous, in what was loaded
    returning_users: int = 0  # distinct userIds that appear in what was loaded before
    new_users: int = 0  # distinct userIds seen for the first time
    start: float = 0.0  # epoch seconds of the window
    end: float = 0.0


@dataclass
class Split:
    """The base landing folder, the increments' folders (each a landing tree of new files)."""

    landing: Path
    increments: list[Path]
    base_records: int
    figures: list[IncrementFigures] = field(default_factory=list)

    @property
    def cutoff(self) -> float:
        return self.figures[0].start if self.figures else float("nan")


@dataclass
class _SourceLines:
    source: str
    files: list[Path]
    times: list[np.ndarray]  # per file, per line


def _read_times(landing: Path) -> list[_SourceLines]:
    sources = []
    for source in TIME_FIELDS:
        files = find_landing_files(landing / source, "jsonl")
        times = []
        for path in files:
            with path.open("rb") as handle:
                times.append(np.array([record_time(source, line)[0] for line in handle], dtype=np.float64))
        sources.append(_SourceLines(source, files, times))
    return sources


def _assign(all_times: np.ndarray, increments: int, share: float, late_share: float, seed: int) -> np.ndarray:
    """Per record: 0 base, k (1..increments) the increment it arrives in."""
    valid = ~np.isnan(all_times)
    total = int(valid.sum())
    held = int(round(total * share * increments))
    late = int(round(held * late_share))
    recent = held - late
    where = np.zeros(len(all_times), dtype=np.int8)
    if recent <= 0:
        return where
    order = np.argsort(np.where(valid, all_times, -np.inf), kind="stable")
    latest = order[-recent:]
    for k, chunk in enumerate(np.array_split(latest, increments), start=1):
        where[chunk] = k
    cutoff = all_times[latest[0]]
    candidates = np.flatnonzero(valid & (where == 0) & (all_times >= cutoff - LATE_LOOKBACK_SECONDS))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(candidates, size=min(late, len(candidates)), replace=False)
    where[chosen] = -(np.arange(len(chosen)) % increments + 1)  # negative: late into increment -k
    return where


def split_landing(
    sample_landing: Path,
    out: Path,
    *,
    increments: int = 3,
    share: float = 0.01,
    late_share: float = 0.05,
    seed: int = 0,
) -> Split:
    """Write ``out/landing`` (the base) and ``out/increment-<k>`` (each a landing tree with one
    new file per source); see the module docstring. ``out`` is replaced."""
    shutil.rmtree(out, ignore_errors=True)
    sources = _read_times(sample_landing)
    flat = [t for s in sources for t in s.times]
    all_times = np.concatenate(flat) if flat else np.zeros(0)
    where = _assign(all_times, increments, share, late_share, seed)
    split = Split(out / "landing", [out / f"increment-{k}" for k in range(1, increments + 1)], 0)
    split.figures = [IncrementFigures() for _ in range(increments)]
    for k, figures in enumerate(split.figures, start=1):
        in_window = all_times[where == k]
        if len(in_window):
            figures.start, figures.end = float(in_window.min()), float(in_window.max())
    seen_anonymous: set[str] = set()
    seen_users: set[str] = set()
    held: list[list[tuple[str, bytes, dict | None, bool]]] = [[] for _ in range(increments)]
    offset = 0
    for lines in sources:
        for path, times in zip(lines.files, lines.times, strict=True):
            target = split.landing / path.relative_to(sample_landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            routes = where[offset : offset + len(times)]
            offset += len(times)
            with path.open("rb") as source, target.open("wb") as base:
                for line, route in zip(source, routes, strict=True):
                    if route == 0:
                        base.write(line)
                        split.base_records += 1
                        if lines.source == "segment":
                            _remember(record_time("segment", line)[1], seen_anonymous, seen_users)
                    else:
                        record = record_time(lines.source, line)[1] if lines.source == "segment" else None
                        held[abs(route) - 1].append((lines.source, line, record, route < 0))
    _copy_other_folders(sample_landing, split.landing)
    for k, records in enumerate(held):
        _write_increment(split.increments[k], k + 1, records, split.figures[k], seen_anonymous, seen_users)
    return split


def _remember(record: dict | None, seen_anonymous: set[str], seen_users: set[str]) -> None:
    if not isinstance(record, dict):
        return
    anonymous, user = record.get("anonymousId"), record.get("userId")
    if isinstance(user, str) and user:
        seen_users.add(user)
    elif isinstance(anonymous, str) and anonymous:
        seen_anonymous.add(anonymous)


def _write_increment(
    folder: Path,
    number: int,
    records: list[tuple[str, bytes, dict | None, bool]],
    figures: IncrementFigures,
    seen_anonymous: set[str],
    seen_users: set[str],
) -> None:
    """One file per source under ``folder``; counts into ``figures``; then what it held counts
    as loaded for the next increment."""
    files: dict[str, list[bytes]] = {}
    users: set[str] = set()
    for source, line, record, late in records:
        files.setdefault(source, []).append(line if line.endswith(b"\n") else line + b"\n")
        figures.records += 1
        figures.late += int(late)
        if record is None or record.get("type") != "identify":
            continue
        figures.identifies += 1
        anonymous, user = record.get("anonymousId"), record.get("userId")
        figures.identifies_linking_anonymous += isinstance(anonymous, str) and anonymous in seen_anonymous
        if isinstance(user, str) and user:
            users.add(user)
    figures.returning_users = len(users & seen_users)
    figures.new_users = len(users - seen_users)
    for source, lines in files.items():
        (folder / source).mkdir(parents=True, exist_ok=True)
        (folder / source / f"increment-{number:03d}.jsonl").write_bytes(b"".join(lines))
    for _, _, record, _ in records:
        if record is not None:
            _remember(record, seen_anonymous, seen_users)


def _copy_other_folders(sample_landing: Path, landing: Path) -> None:
    """The landing folders that are not split (historical orders), as they are."""
    for folder in sample_landing.iterdir():
        if folder.is_dir() and folder.name not in TIME_FIELDS:
            shutil.copytree(folder, landing / folder.name)


def deliver(increment: Path, landing: Path) -> None:
    """Drop an increment's files into the landing folder (as an upstream export would)."""
    for path in increment.rglob("*.jsonl"):
        target = landing / path.relative_to(increment)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
