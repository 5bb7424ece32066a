"""Delivery faults injected into landing files: at-least-once duplicates and malformed lines.

Duplicates repeat a record byte for byte somewhere later in the same file (same messageId /
sg_event_id), as at-least-once delivery does. Malformed lines are *extra* lines made from a
copy of a real record (with a fresh id where it keeps one), so no valid record is lost and the
ground truth stays exact; each is reported with its 1-based line number and kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson

from audience_dagster.sample_data.encode import base64url_ids, uuid4

TRUNCATED, ARRAY, STRING, MISSING_ID, BAD_TIMESTAMP, WRONG_TYPE = (
    "truncated_json",
    "json_array",
    "json_string",
    "missing_id",
    "bad_timestamp",
    "wrong_type",
)
BAD_DATE, BAD_AMOUNT = "bad_date", "bad_amount"
_BAD_TIMES = ("yesterday", "2026-13-45T99:00:00Z", "31/02/2026 25:61", "not a date")


@dataclass(frozen=True)
class SourceFaults:
    """How to break a record of one source."""

    id_key: str
    fresh_id: Callable[[np.random.Generator], object]
    time_key: str
    wrong_type: tuple[str, object] | None  # (key, value of the wrong type)
    kinds: tuple[str, ...]


def _uuid(rng: np.random.Generator) -> str:
    return uuid4(rng, 1)[0]


def _sg_id(rng: np.random.Generator) -> str:
    return base64url_ids(rng, 1)[0]


def _order_id(rng: np.random.Generator) -> int:
    return 4_900_000_000_000 + int(rng.integers(0, 10**11))


_JSON_KINDS = (TRUNCATED, ARRAY, STRING, MISSING_ID, BAD_TIMESTAMP)
SEGMENT = SourceFaults("messageId", _uuid, "timestamp", ("properties", "not an object"), (*_JSON_KINDS, WRONG_TYPE))
SENDGRID = SourceFaults("sg_event_id", _sg_id, "timestamp", ("timestamp", "notatime"), (*_JSON_KINDS, WRONG_TYPE))
SHOPIFY = SourceFaults("id", _order_id, "created_at", ("total_price", "abc"), (*_JSON_KINDS, WRONG_TYPE))
SOCIAL = SourceFaults("event_id", _uuid, "occurred_at", None, _JSON_KINDS)


def break_json_line(rng: np.random.Generator, line: str, kind: str, faults: SourceFaults) -> str:
    """A malformed variant of a valid JSON-object line."""
    record = orjson.loads(line)
    if kind == MISSING_ID:
        record.pop(faults.id_key, None)
        return orjson.dumps(record).decode()
    record[faults.id_key] = faults.fresh_id(rng)
    if kind == BAD_TIMESTAMP:
        record[faults.time_key] = _BAD_TIMES[int(rng.integers(0, len(_BAD_TIMES)))]
    elif kind == WRONG_TYPE and faults.wrong_type is not None:
        key, value = faults.wrong_type
        if key == "properties" and "traits" in record:  # identify calls: break the traits
            key = "traits"
        record[key] = value
    text = orjson.dumps(record).decode()
    if kind == TRUNCATED:
        return text[: int(rng.integers(10, len(text) - 1))]
    if kind == ARRAY:
        return f"[{text}]"
    if kind == STRING:
        return orjson.dumps(text).decode()
    return text


def break_csv_row(rng: np.random.Generator, row: str, kind: str) -> str:
    """A CSV row with an unparseable date or amount (order id blanked: it is not an order)."""
    order_id, customer, email, day, amount, currency = row.split(",")
    if kind == BAD_DATE:
        day = ("2025-02-30", "31/12/2025", "yesterday", "2025-13-01")[int(rng.integers(0, 4))]
    else:
        amount = ("12,50", "N/A", "abc", "$")[int(rng.integers(0, 4))]
        if "," in amount:
            amount = f'"{amount}"'
    return ",".join(("", customer, email, day, amount, currency))


@dataclass(frozen=True)
class FaultyFile:
    lines: list[str]
    duplicates: int
    malformed: list[tuple[int, str]]  # (1-based line number in the file, kind)


def inject_faults(
    rng: np.random.Generator,
    lines: list[str],
    duplicate_rate: float,
    malformed_rate: float,
    breaker: Callable[[np.random.Generator, str, str], str],
    kinds: tuple[str, ...],
    header_lines: int = 0,
) -> FaultyFile:
    """Insert duplicates (later in the file) and malformed lines (anywhere) into ``lines``."""
    n = len(lines)
    if n == 0:
        return FaultyFile(lines=[], duplicates=0, malformed=[])
    n_dup = int(rng.binomial(n, duplicate_rate)) if duplicate_rate > 0 else 0
    dup_src = np.sort(rng.choice(n, n_dup, replace=False)) if n_dup else np.zeros(0, np.int64)
    dup_after = dup_src + (rng.random(n_dup) * (n - dup_src)).astype(np.int64)
    n_bad = int(rng.binomial(n, malformed_rate)) if malformed_rate > 0 else 0
    bad_src = rng.integers(0, n, n_bad)
    bad_kind = rng.integers(0, len(kinds), n_bad)
    bad_after = rng.integers(-1, n, n_bad)
    bad_lines = [breaker(rng, lines[s], kinds[k]) for s, k in zip(bad_src.tolist(), bad_kind.tolist(), strict=True)]

    pool = lines + [lines[i] for i in dup_src.tolist()] + bad_lines
    key = np.concatenate([2 * np.arange(n), 2 * dup_after + 1, 2 * bad_after + 1])
    order = np.argsort(key, kind="stable")
    out = [pool[i] for i in order.tolist()]
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size)
    bad_positions = position[n + n_dup :] + 1 + header_lines
    malformed = sorted(zip(bad_positions.tolist(), [kinds[k] for k in bad_kind.tolist()], strict=True))
    return FaultyFile(lines=out, duplicates=n_dup, malformed=malformed)
