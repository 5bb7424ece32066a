"""Data-subject access: everything held about a person, as one JSON document.

The same registry and predicates as erasure find the rows; each table is read with one
``jsonb_agg(to_jsonb(t))`` query. Sections: ``profile`` (spec profile rows and registry rows),
``identifiers`` (identity map rows with their blocked / shared-device flags), ``events``,
``records`` (raw and quarantined records per table), ``merge_history``, ``identity_links``,
``manual_operations``, any further registered section, ``consent`` (profile flags and every
consent update received) and ``suppression`` (which of their identifiers are suppressed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg2.extensions

from audience_dagster.ingest.sources import CONSENT_EVENT
from audience_dagster.privacy.identifiers import Lookup
from audience_dagster.privacy.registry import PERSONAL_TABLES, PersonalTable
from audience_dagster.privacy.resolve import Person, resolve_person, table_columns

CONSENT_COLUMNS = ("gdpr_consent", "gdpr_consent_date", "do_not_track")


def export_person(
    conn: psycopg2.extensions.connection,
    lookup: Lookup,
    *,
    tables: tuple[PersonalTable, ...] = PERSONAL_TABLES,
) -> dict[str, object]:
    """Everything held about the person ``lookup`` names (read-only; one snapshot).

    Raises :class:`~audience_dagster.privacy.identifiers.PersonNotFoundError` when nothing is
    held about them and they were never erased; for an erased person the document says so and
    holds no records.
    """
    own_transaction = conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    try:
        with conn.cursor() as cur:
            if own_transaction:  # every table read from one snapshot
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            catalog = table_columns(cur, [spec.table for spec in tables])
            person = resolve_person(cur, lookup, catalog)
            params = person.params()
            document: dict[str, object] = {
                "generated_at": datetime.now(UTC).isoformat(),
                "lookup_type": lookup.identifier_type,
                "resolved_via": person.resolved_via,
                "erased": person.already_erased,
                "profile_ids": list(person.profile_ids),
            }
            sections: dict[str, dict[str, list]] = {}
            for spec in tables:
                if spec.table not in catalog:
                    continue
                where = person.predicates(spec, catalog[spec.table]).any
                rows: list = []
                if where:
                    cur.execute(
                        f"SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]'::jsonb) FROM {spec.table} AS t WHERE {where}",
                        params,
                    )
                    rows = cur.fetchone()[0]
                sections.setdefault(spec.section, {})[spec.table] = rows
            document.update(sections)
            document["consent"] = _consent(cur, person, catalog, params, sections)
            document["suppression"] = _suppression(cur, person)
            document["skipped_tables"] = [spec.table for spec in tables if spec.table not in catalog]
    finally:
        if own_transaction:
            conn.rollback()
    return document


def _consent(cur, person: Person, catalog, params, sections) -> dict[str, object]:
    """Consent flags of the profile rows, and every consent update received from Segment."""
    profiles = sections.get("profile", {}).get("marts.audience_profile_base", [])
    flags = [{k: row.get(k) for k in CONSENT_COLUMNS if k in row} for row in profiles]
    updates: list = []
    spec = next((s for s in PERSONAL_TABLES if s.table == "raw.segment_messages"), None)
    if spec and spec.table in catalog:
        where = person.predicates(spec, catalog[spec.table]).identity
        if where:
            cur.execute(
                "SELECT coalesce(jsonb_agg(jsonb_build_object("
                " 'occurred_at', occurred_at, 'message_id', message_id,"
                " 'category_preferences', payload #> '{context,consent,categoryPreferences}',"
                " 'refuses_every_category',"
                " privacy.refuses_every_category(payload #> '{context,consent,categoryPreferences}'))"
                " ORDER BY occurred_at), '[]'::jsonb)"
                f" FROM raw.segment_messages WHERE message_type = 'track' AND payload->>'event' = %(consent_event)s"
                f" AND ({where})",
                {**params, "consent_event": CONSENT_EVENT},
            )
            updates = cur.fetchone()[0]
    latest = updates[-1] if updates else None
    return {
        "profile_flags": flags,
        "updates": updates,
        "do_not_track_by_latest_update": bool(latest and latest["refuses_every_category"]),
    }


def _suppression(cur, person: Person) -> dict[str, object]:
    """Which of the person's identifier types are on the suppression list (hashes, not values)."""
    if not person.identifiers:
        return {"suppressed": person.already_erased, "identifier_types": {}}
    cur.execute(
        "SELECT s.identifier_type, count(*) FROM privacy.suppressed_identifiers AS s"
        " JOIN unnest(%s::text[], %s::text[]) AS i (identifier_type, value)"
        " ON s.identifier_type = i.identifier_type"
        " AND s.value_sha256 = privacy.identifier_sha256(i.identifier_type, i.value)"
        " GROUP BY 1 ORDER BY 1",
        ([k for k, _ in person.identifiers], [v for _, v in person.identifiers]),
    )
    types = dict(cur.fetchall())
    return {"suppressed": bool(types), "identifier_types": types}
