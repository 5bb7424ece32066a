"""Erase a person: every row about them, in one transaction, set-based.

1. Lock ``privacy.suppressed_identifiers`` (ingest waits; an erasure waits for loads in flight).
2. Resolve the person (:func:`~audience_dagster.privacy.resolve.resolve_person`).
3. One DELETE per registered table (identifier sets bound as arrays), or the table's
   ``mark_erased`` / ``scrub`` UPDATE (profile registry, merge evidence).
4. Add every identifier to ``privacy.suppressed_identifiers`` as (type, sha256 of the
   normalised value), so ingest never stores them again.
5. Record the request in ``privacy.erasure_requests`` (counts only, no personal data).

Erasing someone already erased is not an error: the same sweep runs again (normally deleting
nothing) and the request is recorded with outcome ``already_erased``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import psycopg2.extensions

from audience_dagster.privacy.identifiers import Lookup
from audience_dagster.privacy.registry import PERSONAL_TABLES, PersonalTable
from audience_dagster.privacy.resolve import Person, resolve_person, table_columns
from audience_dagster.privacy.schema import ensure_schema


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure did; holds no personal data (safe to print and log)."""

    request_id: str | None  # None for a dry run
    outcome: str  # 'erased' | 'already_erased'
    resolved_via: str
    profiles: int
    identifiers_suppressed: dict[str, int]
    rows_deleted: dict[str, int]
    rows_updated: dict[str, int]
    skipped_tables: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def total_deleted(self) -> int:
        return sum(self.rows_deleted.values())


def ensure_privacy_schema(cur) -> None:
    """Migrate the privacy schema to its latest version (:mod:`.schema`; commits when it had to)."""
    ensure_schema(cur.connection)


def compile_erasure(spec: PersonalTable, person: Person, columns: dict[str, str]) -> list[tuple[str, str]]:
    """The statements erasing ``person`` from one table: [(kind, sql)], kind 'deleted'/'updated'.

    At most one DELETE (or the ``mark_erased`` UPDATE) on the rows about them, then, for a
    table whose text matches are scrubbed, one UPDATE of the rows that only mention them.
    """
    where = person.predicates(spec, columns)
    statements: list[tuple[str, str]] = []
    if spec.mark_erased:
        if where.identity:
            statements.append(
                (
                    "updated",
                    f"UPDATE {spec.table} SET {spec.mark_erased}"
                    f" WHERE ({where.identity}) AND ({spec.erased}) IS NOT TRUE",
                )
            )
        return statements
    on_delete = where.any if spec.text_match == "delete" else where.identity
    if on_delete:
        statements.append(("deleted", f"DELETE FROM {spec.table} WHERE {on_delete}"))
    if spec.text_match == "scrub" and where.text:
        statements.append(("updated", f"UPDATE {spec.table} SET {spec.scrub} WHERE {where.text}"))
    return statements


def erase_person(
    conn: psycopg2.extensions.connection,
    lookup: Lookup,
    *,
    dry_run: bool = False,
    tables: tuple[PersonalTable, ...] = PERSONAL_TABLES,
) -> ErasureResult:
    """Erase the person ``lookup`` names (committed here; rolled back when ``dry_run``).

    Raises :class:`~audience_dagster.privacy.identifiers.PersonNotFoundError` when nothing is
    held about them and they were never erased.
    """
    requested_at = datetime.now(UTC)
    try:
        with conn.cursor() as cur:
            ensure_privacy_schema(cur)
            cur.execute("LOCK TABLE privacy.suppressed_identifiers IN SHARE ROW EXCLUSIVE MODE")
            catalog = table_columns(cur, [spec.table for spec in tables])
            person = resolve_person(cur, lookup, catalog)
            params = person.params()
            deleted: dict[str, int] = {}
            updated: dict[str, int] = {}
            for spec in tables:
                if spec.table not in catalog:
                    continue
                for kind, sql in compile_erasure(spec, person, catalog[spec.table]):
                    cur.execute(sql, params)
                    counts = deleted if kind == "deleted" else updated
                    counts[spec.table] = counts.get(spec.table, 0) + cur.rowcount
            suppressed = _suppress(cur, person)
            result = ErasureResult(
                request_id=None,
                outcome="already_erased" if person.already_erased else "erased",
                resolved_via=person.resolved_via,
                profiles=len(person.profile_ids),
                identifiers_suppressed=suppressed,
                rows_deleted=deleted,
                rows_updated=updated,
                skipped_tables=[spec.table for spec in tables if spec.table not in catalog],
                dry_run=dry_run,
            )
            request_id = _record_request(cur, lookup, requested_at, result)
    except BaseException:
        conn.rollback()
        raise
    if dry_run:
        conn.rollback()
        return result
    conn.commit()
    return replace(result, request_id=request_id)


def _suppress(cur, person: Person) -> dict[str, int]:
    """Add the person's identifiers (hashed in SQL, as ingest hashes them); count per type."""
    if not person.identifiers:
        return {}
    cur.execute(
        """
        INSERT INTO privacy.suppressed_identifiers (identifier_type, value_sha256)
        SELECT DISTINCT i.identifier_type, privacy.identifier_sha256(i.identifier_type, i.value)
        FROM unnest(%s::text[], %s::text[]) AS i (identifier_type, value)
        WHERE privacy.identifier_sha256(i.identifier_type, i.value) IS NOT NULL
        ON CONFLICT DO NOTHING
        """,
        ([k for k, _ in person.identifiers], [v for _, v in person.identifiers]),
    )
    counts: dict[str, int] = {}
    for kind, _ in person.identifiers:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _record_request(cur, lookup: Lookup, requested_at: datetime, result: ErasureResult) -> str:
    cur.execute(
        """
        INSERT INTO privacy.erasure_requests (requested_at, completed_at, lookup_type, outcome,
            resolved_via, profiles_erased, identifiers_suppressed, rows_deleted, rows_updated, skipped_tables)
        VALUES (%s, clock_timestamp(), %s, %s, %s, %s, %s, %s, %s, %s)
        RETURNING request_id::text
        """,
        (
            requested_at,
            lookup.identifier_type,
            result.outcome,
            result.resolved_via,
            result.profiles,
            json.dumps(result.identifiers_suppressed),
            json.dumps(result.rows_deleted),
            json.dumps(result.rows_updated),
            result.skipped_tables,
        ),
    )
    return cur.fetchone()[0]
