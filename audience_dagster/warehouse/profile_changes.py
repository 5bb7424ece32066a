"""A Python consumer of audience_events' profile change log (docs/incremental.md §4).

dbt writes the log (``dbt_project/macros/profile_changes.sql``): every incremental build of
audience_events logs, under a new generation number, each profile one of its rows moved into,
out of or within; a full build logs a marker (profile_id null: every profile changed). The
per-profile dbt tables consume it, and so can a Python asset: it reads its position, recomputes
the profiles logged after it (or everything when it is stale) and records the generation it
read, in the same transaction as its writes. The semantics are the dbt macros' exactly:

* stale (recompute everything) when the consumer has no row yet, when a full build of
  audience_events came after the generation it read, or when the log does not exist;
* the log's rows every consumer has read are pruned by dbt, so a registered consumer never
  misses a generation.

dbt owns the two tables; this module only reads the log and upserts its own consumer row.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2.extensions

LOG = "intermediate.audience_events_profile_changes"
CONSUMERS = "intermediate.audience_events_profile_consumers"


@dataclass(frozen=True)
class Position:
    """Where a consumer stands: the generation it read (None: never), the latest logged, and
    whether it must recompute everything."""

    consumed: int | None
    latest: int
    stale: bool


def position(cur: psycopg2.extensions.cursor, consumer: str) -> Position:
    """The consumer's position (stale when the log tables do not exist yet)."""
    cur.execute("SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL", (LOG, CONSUMERS))
    if not cur.fetchone()[0]:
        return Position(None, 0, True)
    cur.execute(
        f"SELECT (SELECT generation FROM {CONSUMERS} WHERE model = %s),"
        f" (SELECT max(generation) FROM {LOG} WHERE profile_id IS NULL),"
        f" (SELECT max(generation) FROM {LOG})",
        (consumer,),
    )
    consumed, full_at, logged = cur.fetchone()
    latest = max(logged or 0, consumed or 0)
    return Position(consumed, latest, consumed is None or (full_at is not None and consumed < full_at))


def changed_profiles(cur: psycopg2.extensions.cursor, at: Position) -> list[str]:
    """The profiles logged after the consumer's generation, up to ``at.latest`` (not stale)."""
    cur.execute(
        f"SELECT DISTINCT profile_id::text FROM {LOG}"
        " WHERE generation > %s AND generation <= %s AND profile_id IS NOT NULL ORDER BY 1",
        (at.consumed, at.latest),
    )
    return [row[0] for row in cur.fetchall()]


def record_consumed(cur: psycopg2.extensions.cursor, consumer: str, generation: int) -> None:
    """The consumer has read up to ``generation`` (a no-op before the log exists)."""
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (CONSUMERS,))
    if cur.fetchone()[0]:
        cur.execute(
            f"INSERT INTO {CONSUMERS} (model, generation) VALUES (%s, %s)"
            " ON CONFLICT (model) DO UPDATE SET generation = excluded.generation",
            (consumer, generation),
        )
