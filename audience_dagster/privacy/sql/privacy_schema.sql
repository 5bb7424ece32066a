-- Privacy bookkeeping (idempotent). privacy.suppressed_identifiers lives in
-- ingest/sql/raw_schema.sql because ingestion reads it from the first load on.

CREATE SCHEMA IF NOT EXISTS privacy;

-- One row per erasure request, with no personal data: how the person was named (the type,
-- never the value), what was found and how many rows each table lost.
CREATE TABLE IF NOT EXISTS privacy.erasure_requests (
    request_id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    requested_at           timestamptz NOT NULL,
    completed_at           timestamptz NOT NULL,
    lookup_type            text        NOT NULL,
    outcome                text        NOT NULL,  -- 'erased' | 'already_erased'
    resolved_via           text        NOT NULL,  -- identity_map | profile_registry | records | suppression
    profiles_erased        integer     NOT NULL,
    identifiers_suppressed jsonb       NOT NULL,  -- {identifier_type: count}
    rows_deleted           jsonb       NOT NULL,  -- {table: rows}
    rows_updated           jsonb       NOT NULL,  -- {table: rows}: registry marked erased, evidence scrubbed
    skipped_tables         text[]      NOT NULL   -- registered tables that do not exist (yet)
);
