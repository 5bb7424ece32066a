"""Segments in the warehouse: refresh membership with history, add members by hand.

A segment refresh is one transaction of four set-based statements around the compiled member
query (see :mod:`.compile`), materialised once into a temp table:

1. members who left — automatic members no longer matched, and any member whose ``expires_at``
   has passed — are deleted and logged as ``exited`` in ``segment_membership_changes``;
2. stayers keep their row and ``joined_at`` (only a changed score is written);
3. new matches are inserted (``source = 'automatic'``) and logged as ``entered``;
4. ``member_count`` and ``last_calculated_at`` are set.

Manual and imported members are never removed by a refresh (only by their ``expires_at``). A
segment that fails — a definition that cannot be read or compiled however hostile the row
(``stored.py``, ``rules.py``), an SQL error, anything else — is rolled back alone: its
``last_error`` says why and the other segments still refresh. Cohorts likewise
(:mod:`.cohort_refresh`); the YAML definitions are upserted by :mod:`.sync`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg2.extensions

from audience_dagster.errors import AudienceError, SegmentError
from audience_dagster.segments.compile import compile_segment
from audience_dagster.segments.definition import SegmentDefinition
from audience_dagster.segments.stored import segment_from_row

SEGMENTS = "marts.micro_segments"
MEMBERSHIP = "marts.segment_membership"
CHANGES = "marts.segment_membership_changes"
COHORTS = "marts.cohort_definitions"
COHORT_MEMBERSHIP = "marts.cohort_membership"
NO_MATCHES = "SELECT NULL::uuid AS profile_id, NULL::numeric AS score WHERE false"

EXITS_SQL = f"""
WITH gone AS (
    DELETE FROM {MEMBERSHIP} m
    WHERE m.segment_id = %(sid)s
      AND ((m.expires_at IS NOT NULL AND m.expires_at <= %(as_of)s)
           OR (m.source = 'automatic'
               AND NOT EXISTS (SELECT 1 FROM segment_matches x WHERE x.profile_id = m.profile_id)))
    RETURNING m.profile_id, m.source, m.score, m.expires_at
)
INSERT INTO {CHANGES} (segment_id, profile_id, change, source, score, reason, changed_at)
SELECT %(sid)s, profile_id, 'exited', source, score,
       CASE WHEN expires_at IS NOT NULL AND expires_at <= %(as_of)s THEN 'expired' ELSE 'refresh' END, %(as_of)s
FROM gone
"""
SCORES_SQL = f"""
UPDATE {MEMBERSHIP} m SET score = x.score
FROM segment_matches x
WHERE m.segment_id = %(sid)s AND m.profile_id = x.profile_id AND m.source = 'automatic'
  AND m.score IS DISTINCT FROM x.score
"""
ENTRIES_SQL = f"""
WITH entered AS (
    INSERT INTO {MEMBERSHIP} (profile_id, segment_id, score, joined_at, source)
    SELECT x.profile_id, %(sid)s, x.score, %(as_of)s, 'automatic'
    FROM segment_matches x
    WHERE NOT EXISTS (
        SELECT 1 FROM {MEMBERSHIP} m WHERE m.segment_id = %(sid)s AND m.profile_id = x.profile_id
    )
    RETURNING profile_id, score
)
INSERT INTO {CHANGES} (segment_id, profile_id, change, source, score, reason, changed_at)
SELECT %(sid)s, profile_id, 'entered', 'automatic', score, 'refresh', %(as_of)s FROM entered
"""
STATS_SQL = f"""
UPDATE {SEGMENTS} s
SET member_count = (SELECT count(*) FROM {MEMBERSHIP} m WHERE m.segment_id = s.id),
    last_calculated_at = %(as_of)s, last_error = NULL
WHERE s.id = %(sid)s
RETURNING member_count
"""


@dataclass(frozen=True)
class SegmentRefresh:
    """What one segment's refresh did (``error`` set when it failed and was rolled back)."""

    slug: str
    segment_type: str
    members: int = 0
    matched: int = 0
    entered: int = 0
    exited: int = 0
    seconds: float = 0.0
    error: str | None = None


def read_segments(
    conn: psycopg2.extensions.connection, slugs: Sequence[str] | None = None
) -> list[tuple[str, SegmentDefinition | SegmentError]]:
    """``(id, definition)`` of the active segments (those named in ``slugs``, else every one with
    ``auto_refresh`` on, and every manual one, whose members may expire). A row that cannot be
    read as a definition (see :mod:`.stored`) comes back as its :class:`SegmentError`."""
    where = "status = 'active'"
    params: dict[str, Any] = {}
    if slugs:
        where += " AND slug = ANY(%(slugs)s)"
        params["slugs"] = list(slugs)
    else:
        where += " AND (auto_refresh OR segment_type = 'manual')"
    with conn.cursor() as cur:
        # the JSON columns as text: parsed here, bounded, one row at a time (stored.py)
        cur.execute(
            "SELECT id::text, slug, name, segment_type, rules::text AS rules, rule_logic, model_id, model_threshold,"
            " model_operator, behavior_definition::text AS behavior_definition, status"
            f" FROM {SEGMENTS} WHERE {where} ORDER BY slug",
            params,
        )
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    read: list[tuple[str, SegmentDefinition | SegmentError]] = []
    for row in rows:
        try:
            read.append((row["id"], segment_from_row(row)))
        except SegmentError as exc:
            read.append((row["id"], exc))
    return read


def due_segments(conn: psycopg2.extensions.connection, as_of: datetime) -> list[tuple[str, datetime | None]]:
    """``(slug, last_calculated_at)`` of active auto-refresh segments whose refresh_frequency has
    passed since their last refresh (or that never ran)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT slug, last_calculated_at FROM {SEGMENTS} WHERE status = 'active' AND auto_refresh"
            " AND (last_calculated_at IS NULL OR last_calculated_at + refresh_frequency <= %s) ORDER BY slug",
            (as_of,),
        )
        return cur.fetchall()


def refresh_segment(
    conn: psycopg2.extensions.connection, segment_id: str, segment: SegmentDefinition, as_of: datetime
) -> SegmentRefresh:
    """Refresh one segment in one transaction (see the module docstring); commits."""
    started = time.perf_counter()
    compiled = compile_segment(segment)
    query, params = compiled if compiled is not None else (NO_MATCHES, {})
    keys = {"sid": segment_id, "as_of": as_of}
    with conn.cursor() as cur:
        cur.execute(f"SELECT 1 FROM {SEGMENTS} WHERE id = %(sid)s FOR UPDATE", keys)  # one refresh at a time
        cur.execute("SET LOCAL work_mem = '128MB'")
        cur.execute(f"CREATE TEMP TABLE segment_matches ON COMMIT DROP AS {query}", {**params, "as_of": as_of})
        matched = cur.rowcount
        cur.execute("ANALYZE segment_matches")
        cur.execute(EXITS_SQL, keys)
        exited = cur.rowcount
        cur.execute(SCORES_SQL, keys)
        cur.execute(ENTRIES_SQL, keys)
        entered = cur.rowcount
        cur.execute(STATS_SQL, keys)
        members = cur.fetchone()[0]
    conn.commit()
    return SegmentRefresh(
        segment.slug, segment.segment_type, members, matched, entered, exited, time.perf_counter() - started
    )


def refresh_segments(
    conn: psycopg2.extensions.connection, as_of: datetime, slugs: Sequence[str] | None = None
) -> list[SegmentRefresh]:
    """Refresh the active segments (``slugs``, or all with auto_refresh); a failing segment is
    rolled back, its ``last_error`` set, and the next one refreshed."""
    segments = read_segments(conn, slugs)
    conn.commit()
    known = {segment.slug for _, segment in segments}
    results = [
        SegmentRefresh(slug, "unknown", error=f"segment {slug!r}: no active segment with this slug")
        for slug in (slugs or [])
        if slug not in known
    ]
    for segment_id, segment in segments:
        try:
            if isinstance(segment, SegmentError):
                raise segment
            results.append(refresh_segment(conn, segment_id, segment, as_of))
        except Exception as exc:  # noqa: BLE001 - any failure of one definition is that segment's own
            slug = segment.slug if isinstance(segment, SegmentError | SegmentDefinition) else "?"
            message = failure_message(f"segment {slug!r}", exc)
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute(f"UPDATE {SEGMENTS} SET last_error = %s WHERE id = %s", (message, segment_id))
            conn.commit()
            kind = "unknown" if isinstance(segment, SegmentError) else segment.segment_type
            results.append(SegmentRefresh(slug, kind, error=message))
    return results


def failure_message(what: str, exc: BaseException) -> str:
    """``what: message`` for ``last_error`` (an :class:`AudienceError` already names the segment)."""
    message = (str(exc).strip() or type(exc).__name__)[:2000]
    if isinstance(exc, SegmentError):  # it names the slug as a segment's: name it as `what`
        return f"{what}: {message.removeprefix(f'segment {exc.slug!r}: ')}"
    if isinstance(exc, AudienceError | psycopg2.Error):
        return f"{what}: {message}"
    return f"{what}: {type(exc).__name__}: {message}"


def add_members(
    conn: psycopg2.extensions.connection,
    slug: str,
    *,
    profile_ids: Sequence[str] = (),
    emails: Sequence[str] = (),
    source: str = "manual",
    expires_at: datetime | None = None,
    as_of: datetime,
    profiles: str = "marts.audience_profiles",
) -> dict[str, int]:
    """Add profiles (by id or email) to a segment as ``manual`` or ``import`` members, set-based.

    An automatic member added by hand becomes manual (refreshes then keep them); new members are
    logged as ``entered``. Returns ``added``, ``converted`` and ``unknown`` (ids/emails matching
    no profile)."""
    if source not in ("manual", "import"):
        raise SegmentError(slug, f"members are added with source 'manual' or 'import', not {source!r}")
    params = {
        "slug": slug,
        "ids": [str(p) for p in profile_ids],
        "emails": [e.strip().lower() for e in emails],
        "source": source,
        "expires_at": expires_at,
        "as_of": as_of,
    }
    with conn.cursor() as cur:
        cur.execute(f"SELECT id FROM {SEGMENTS} WHERE slug = %(slug)s", params)
        row = cur.fetchone()
        if row is None:
            raise SegmentError(slug, f"no segment with this slug in {SEGMENTS}")
        params["sid"] = row[0]
        cur.execute(
            f"""
            CREATE TEMP TABLE wanted ON COMMIT DROP AS
            SELECT DISTINCT p.id AS profile_id FROM {profiles} p
            WHERE p.id::text = ANY(%(ids)s) OR lower(p.email) = ANY(%(emails)s)
            """,
            params,
        )
        found = cur.rowcount
        cur.execute(
            f"""
            SELECT count(*) FILTER (WHERE m.source = 'automatic'), count(m.profile_id)
            FROM wanted w LEFT JOIN {MEMBERSHIP} m ON m.segment_id = %(sid)s AND m.profile_id = w.profile_id
            """,
            params,
        )
        converted, already = cur.fetchone()
        cur.execute(
            f"""
            WITH upserted AS (
                INSERT INTO {MEMBERSHIP} (profile_id, segment_id, score, joined_at, expires_at, source)
                SELECT profile_id, %(sid)s, 1, %(as_of)s, %(expires_at)s, %(source)s FROM wanted
                ON CONFLICT (profile_id, segment_id)
                DO UPDATE SET source = EXCLUDED.source, expires_at = EXCLUDED.expires_at
                RETURNING profile_id, (xmax = 0) AS inserted
            )
            INSERT INTO {CHANGES} (segment_id, profile_id, change, source, score, reason, changed_at)
            SELECT %(sid)s, profile_id, 'entered', %(source)s, 1, %(source)s, %(as_of)s FROM upserted WHERE inserted
            """,
            params,
        )
        cur.execute(
            f"UPDATE {SEGMENTS} s SET member_count = (SELECT count(*) FROM {MEMBERSHIP} m WHERE m.segment_id = s.id)"
            " WHERE s.id = %(sid)s",
            params,
        )
    conn.commit()
    asked = len(set(params["ids"])) + len(set(params["emails"]))
    return {"added": found - already, "converted": converted, "unknown": max(asked - found, 0)}
