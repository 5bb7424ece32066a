-- Privacy bookkeeping (version 1: idempotent, adopts a warehouse made before migrations).

CREATE SCHEMA IF NOT EXISTS privacy;

-- Identifiers of erased people: the type and the sha256 of the normalised value
-- (privacy.identifier_sha256), never the value itself. Ingest reads it so a re-delivered record
-- of an erased person is not stored again; erasure writes it.
CREATE TABLE IF NOT EXISTS privacy.suppressed_identifiers (
    identifier_type text        NOT NULL,
    value_sha256    bytea       NOT NULL,
    suppressed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (value_sha256, identifier_type)  -- also finds a hash of any type
);

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
