"""The YAML definitions synced into ``micro_segments`` / ``cohort_definitions`` (upsert by slug,
``managed_by = 'yaml'``); rows only in the tables are left alone."""

from __future__ import annotations

import json
from collections.abc import Sequence

import psycopg2.extensions

from audience_dagster.segments.definition import CohortDefinition, SegmentDefinition
from audience_dagster.segments.warehouse import COHORTS, SEGMENTS

SEGMENT_COLUMNS = (
    "name",
    "description",
    "segment_type",
    "rules",
    "rule_logic",
    "model_id",
    "model_threshold",
    "model_operator",
    "behavior_definition",
    "business_unit",
    "use_cases",
    "refresh_frequency",
    "auto_refresh",
    "status",
)
COHORT_COLUMNS = (
    "name",
    "description",
    "cohort_type",
    "entry_criteria",
    "exit_criteria",
    "cohort_period",
    "lookback_days",
    "status",
)


def sync_segments(conn: psycopg2.extensions.connection, segments: Sequence[SegmentDefinition]) -> int:
    """Upsert the definitions by slug (``managed_by = 'yaml'``); returns rows written. Membership,
    counts and segments only in the table are left alone."""
    rows = [
        (
            s.slug,
            s.name,
            s.description,
            s.segment_type,
            json.dumps(s.rules),
            s.rule_logic,
            s.model_id,
            s.model_threshold,
            s.model_operator,
            json.dumps(s.behavior_definition),
            s.business_unit,
            list(s.use_cases),
            s.refresh_frequency,
            s.auto_refresh,
            s.status,
        )
        for s in segments
    ]
    return _upsert_by_slug(conn, SEGMENTS, SEGMENT_COLUMNS, rows)


def sync_cohorts(conn: psycopg2.extensions.connection, cohorts: Sequence[CohortDefinition]) -> int:
    rows = [
        (
            c.slug,
            c.name,
            c.description,
            c.cohort_type,
            json.dumps(c.entry_criteria),
            None if c.exit_criteria is None else json.dumps(c.exit_criteria),
            c.cohort_period,
            c.lookback_days,
            c.status,
        )
        for c in cohorts
    ]
    return _upsert_by_slug(conn, COHORTS, COHORT_COLUMNS, rows)


def _upsert_by_slug(conn: psycopg2.extensions.connection, table: str, columns: Sequence[str], rows: list[tuple]) -> int:
    """Insert or update definition rows (slug first, then ``columns``) as ``managed_by = 'yaml'``."""
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    sql = f"""
        INSERT INTO {table} (slug, {", ".join(columns)}, managed_by)
        VALUES (%s, {", ".join(["%s"] * len(columns))}, 'yaml')
        ON CONFLICT (slug) DO UPDATE SET {updates}, managed_by = 'yaml', updated_at = now()
    """
    with conn.cursor() as cur:
        cur.executemany(sql, rows)
    conn.commit()
    return len(rows)
