"""Cohort membership in the warehouse: every active cohort rebuilt, one transaction each; a cohort
that fails is rolled back alone and its ``last_error`` says why."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import psycopg2.extensions

from audience_dagster.segments.cohorts import compile_cohort
from audience_dagster.segments.stored import cohort_from_row
from audience_dagster.segments.warehouse import COHORT_MEMBERSHIP, COHORTS, failure_message


@dataclass(frozen=True)
class CohortRefresh:
    slug: str
    members: int = 0
    exited: int = 0
    seconds: float = 0.0
    error: str | None = None


def refresh_cohorts(conn: psycopg2.extensions.connection, as_of: datetime) -> list[CohortRefresh]:
    """Rebuild every active cohort's membership (one transaction each). ``exited_at`` is kept from
    an earlier refresh, so a member who left by the exit rules keeps the time it was first seen."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id::text, slug, name, cohort_type, entry_criteria::text AS entry_criteria,"
            " exit_criteria::text AS exit_criteria, cohort_period, lookback_days"
            f" FROM {COHORTS} WHERE status = 'active' ORDER BY slug"
        )
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    conn.commit()
    results = []
    for row in rows:
        started = time.perf_counter()
        keys = {"cid": row["id"], "as_of": as_of}
        slug = str(row["slug"] or row["id"])
        try:
            cohort = cohort_from_row(row)
            query, params = compile_cohort(cohort)
            with conn.cursor() as cur:
                cur.execute(f"CREATE TEMP TABLE cohort_matches ON COMMIT DROP AS {query}", {**params, "as_of": as_of})
                cur.execute("ANALYZE cohort_matches")
                cur.execute(
                    f"DELETE FROM {COHORT_MEMBERSHIP} c WHERE c.cohort_id = %(cid)s"
                    " AND NOT EXISTS (SELECT 1 FROM cohort_matches x WHERE x.profile_id = c.profile_id)",
                    keys,
                )
                cur.execute(
                    f"""
                    INSERT INTO {COHORT_MEMBERSHIP} AS c
                        (cohort_id, profile_id, cohort_period_start, entered_at, exited_at)
                    SELECT %(cid)s, profile_id, cohort_period_start, entered_at, exited_at FROM cohort_matches
                    ON CONFLICT (cohort_id, profile_id) DO UPDATE SET
                        cohort_period_start = EXCLUDED.cohort_period_start,
                        entered_at = EXCLUDED.entered_at,
                        exited_at = CASE WHEN EXCLUDED.exited_at IS NULL THEN NULL
                                         ELSE coalesce(c.exited_at, EXCLUDED.exited_at) END
                    WHERE (c.cohort_period_start, c.entered_at, c.exited_at)
                          IS DISTINCT FROM (EXCLUDED.cohort_period_start, EXCLUDED.entered_at, EXCLUDED.exited_at)
                    """,
                    keys,
                )
                cur.execute(
                    f"SELECT count(*), count(exited_at) FROM {COHORT_MEMBERSHIP} WHERE cohort_id = %(cid)s", keys
                )
                members, exited = cur.fetchone()
                cur.execute(
                    f"UPDATE {COHORTS} SET total_members = %(n)s, last_calculated_at = %(as_of)s, last_error = NULL"
                    " WHERE id = %(cid)s",
                    {**keys, "n": members},
                )
            conn.commit()
            results.append(CohortRefresh(slug, members, exited, time.perf_counter() - started))
        except Exception as exc:  # noqa: BLE001 - any failure of one definition is that cohort's own
            conn.rollback()
            message = failure_message(f"cohort {slug!r}", exc)
            with conn.cursor() as cur:
                cur.execute(f"UPDATE {COHORTS} SET last_error = %s WHERE id = %s", (message, row["id"]))
            conn.commit()
            results.append(CohortRefresh(slug, error=message))
    return results
