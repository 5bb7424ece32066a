-- Raw, append-only landing tables: one per touchpoint entity, plus the file ledger and the
-- quarantine. Idempotent: safe to run on every start.
-- Each raw row keeps the full source record in `payload` (nothing is lost) beside the few
-- typed columns ingestion itself needs (dedup key, timestamps), and where it came from
-- (file_sha256 + line_no).

CREATE SCHEMA IF NOT EXISTS raw;

-- Every file ever loaded, by content hash: loading the same bytes again is a no-op.
CREATE TABLE IF NOT EXISTS raw.loaded_files (
    file_sha256   text PRIMARY KEY,
    source        text        NOT NULL,
    file_path     text        NOT NULL,
    file_bytes    bigint      NOT NULL,
    lines         bigint      NOT NULL,
    inserted      bigint      NOT NULL,
    duplicates    bigint      NOT NULL,
    quarantined   bigint      NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    suppressed    bigint      NOT NULL DEFAULT 0,  -- records of erased people: not stored at all
    do_not_track  bigint      NOT NULL DEFAULT 0   -- Segment messages that said do-not-track
);
-- warehouses created before those two counts existed (checked first: ALTER TABLE would take an
-- exclusive lock on every start)
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'raw' AND table_name = 'loaded_files' AND column_name = 'do_not_track'
    ) THEN
        ALTER TABLE raw.loaded_files
            ADD COLUMN IF NOT EXISTS suppressed   bigint NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS do_not_track bigint NOT NULL DEFAULT 0;
    END IF;
END
$$;

-- Records that could not be accepted, with where they came from and why.
CREATE TABLE IF NOT EXISTS raw.quarantine (
    quarantine_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text        NOT NULL,
    file_path      text        NOT NULL,
    file_sha256    text        NOT NULL,
    line_no        bigint      NOT NULL,
    reason         text        NOT NULL,
    record         text,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_sha256, line_no)
);

-- Segment-spec messages (track, page, screen, identify, alias, group).
-- occurred_at is Segment's corrected `timestamp`:
--   receivedAt - (sentAt - originalTimestamp), clamped to receivedAt when it lies too far ahead.
CREATE TABLE IF NOT EXISTS raw.segment_messages (
    message_id          text PRIMARY KEY,
    message_type        text        NOT NULL,
    anonymous_id        text,
    user_id             text,
    original_timestamp  timestamptz NOT NULL,
    sent_at             timestamptz,
    received_at         timestamptz NOT NULL,
    occurred_at         timestamptz NOT NULL,
    timestamp_clamped   boolean     NOT NULL,
    payload             jsonb       NOT NULL,
    file_sha256         text        NOT NULL,
    line_no             bigint      NOT NULL,
    loaded_at           timestamptz NOT NULL
);

-- Email-provider events in SendGrid's event-webhook format.
CREATE TABLE IF NOT EXISTS raw.sendgrid_events (
    sg_event_id   text PRIMARY KEY,
    event         text        NOT NULL,
    email         text        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    payload       jsonb       NOT NULL,
    file_sha256   text        NOT NULL,
    line_no       bigint      NOT NULL,
    loaded_at     timestamptz NOT NULL
);

-- Shopify orders (REST Admin API order JSON, one order per line).
CREATE TABLE IF NOT EXISTS raw.shopify_orders (
    order_id      bigint PRIMARY KEY,
    created_at    timestamptz NOT NULL,
    payload       jsonb       NOT NULL,
    file_sha256   text        NOT NULL,
    line_no       bigint      NOT NULL,
    loaded_at     timestamptz NOT NULL
);

-- Social engagement (likes, shares, comments, follows) from platform exports.
CREATE TABLE IF NOT EXISTS raw.social_events (
    event_id      text PRIMARY KEY,
    platform      text        NOT NULL,
    action        text        NOT NULL,
    handle        text        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    payload       jsonb       NOT NULL,
    file_sha256   text        NOT NULL,
    line_no       bigint      NOT NULL,
    loaded_at     timestamptz NOT NULL
);

-- Historical orders a store imports from CSV. order_key is the given order_id, or, when the
-- file has none, a hash of the row's content and its occurrence number within the file.
CREATE TABLE IF NOT EXISTS raw.historical_orders (
    order_key     text PRIMARY KEY,
    order_id      text,
    customer_id   text,
    email         text,
    ordered_at    timestamptz   NOT NULL,
    amount        numeric(14,2) NOT NULL,
    currency      text,
    file_sha256   text          NOT NULL,
    line_no       bigint        NOT NULL,
    loaded_at     timestamptz   NOT NULL
);

-- Identifiers of erased people (audience_dagster/privacy): the type and the sha256 of the
-- normalised value (privacy.identifier_sha256), never the value itself. Ingest reads it so a
-- re-delivered record of an erased person is not stored again; erasure writes it.
CREATE SCHEMA IF NOT EXISTS privacy;
CREATE TABLE IF NOT EXISTS privacy.suppressed_identifiers (
    identifier_type text        NOT NULL,
    value_sha256    bytea       NOT NULL,
    suppressed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (value_sha256, identifier_type)  -- also finds a hash of any type
);
