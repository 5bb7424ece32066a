-- Raw, append-only landing tables: one per touchpoint entity, plus the file ledger and the
-- quarantine. Version 1 of the ingest schema, idempotent: it also adopts a warehouse made before
-- migrations (the guarded DO blocks convert the shapes earlier releases created).
-- Each raw row keeps the full source record in `payload` (nothing is lost) beside the few
-- typed columns ingestion itself needs (dedup key, timestamps), and where it came from
-- (file_sha256 + line_no).

CREATE SCHEMA IF NOT EXISTS raw;

-- Every landing file ever seen, by source and content hash: loading the same bytes of a source
-- again is a no-op. A file that could not be read at all (a corrupt gzip, an I/O error, any
-- other failure) is recorded as `rejected` with the reason; it is tried again at every run and
-- its row becomes `loaded` once it loads. (Keyed by content hash alone before: a file equal to
-- another source's file was skipped.)
CREATE TABLE IF NOT EXISTS raw.loaded_files (
    source              text        NOT NULL,
    file_sha256         text        NOT NULL,
    file_path           text        NOT NULL,
    file_bytes          bigint      NOT NULL,
    lines               bigint      NOT NULL,
    inserted            bigint      NOT NULL,
    duplicates          bigint      NOT NULL,
    quarantined         bigint      NOT NULL,
    loaded_at           timestamptz NOT NULL DEFAULT now(),
    suppressed          bigint      NOT NULL DEFAULT 0,  -- records of erased people: not stored at all
    do_not_track        bigint      NOT NULL DEFAULT 0,  -- Segment messages that said do-not-track
    already_quarantined bigint      NOT NULL DEFAULT 0,  -- bad records quarantined before (same text)
    blank_lines         bigint      NOT NULL DEFAULT 0,  -- not records: blank, a CSV header or continuation
    status              text        NOT NULL DEFAULT 'loaded' CHECK (status IN ('loaded', 'rejected')),
    reason              text,                             -- why a rejected file could not be loaded
    attempts            integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (source, file_sha256)
);
-- Warehouses created before: add the later columns, then re-key the ledger by (source, sha256).
-- Each step is checked first: ALTER TABLE would take an exclusive lock on every start.
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
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'raw' AND table_name = 'loaded_files' AND column_name = 'status'
    ) THEN
        ALTER TABLE raw.loaded_files
            ADD COLUMN IF NOT EXISTS already_quarantined bigint NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS blank_lines bigint NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'loaded' CHECK (status IN ('loaded', 'rejected')),
            ADD COLUMN IF NOT EXISTS reason text,
            ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 1;
        ALTER TABLE raw.loaded_files DROP CONSTRAINT IF EXISTS loaded_files_pkey;
        ALTER TABLE raw.loaded_files ADD PRIMARY KEY (source, file_sha256);
    END IF;
END
$$;

-- Records that could not be accepted, with where they came from and why. A record quarantined
-- once (the same text from the same source, `record_sha256`) is not quarantined again when
-- another file delivers it again.
CREATE TABLE IF NOT EXISTS raw.quarantine (
    quarantine_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text        NOT NULL,
    file_path      text        NOT NULL,
    file_sha256    text        NOT NULL,
    line_no        bigint      NOT NULL,
    reason         text        NOT NULL,
    record         text,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    record_sha256  bytea,
    UNIQUE (file_sha256, line_no)
);
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'raw' AND table_name = 'quarantine' AND column_name = 'record_sha256'
    ) THEN
        ALTER TABLE raw.quarantine ADD COLUMN record_sha256 bytea;
        -- earlier rows: the first of each (source, record) keeps the hash, repeats stay NULL
        UPDATE raw.quarantine AS q SET record_sha256 = sha256(convert_to(coalesce(q.record, ''), 'UTF8'))
        WHERE q.quarantine_id IN (
            SELECT min(quarantine_id) FROM raw.quarantine
            GROUP BY source, sha256(convert_to(coalesce(record, ''), 'UTF8'))
        );
    END IF;
END
$$;
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_source_record ON raw.quarantine (source, record_sha256);

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

-- The line item ids of the Shopify orders above, each owned by one order (staging tests their
-- uniqueness): the load statement quarantines an order naming a line item id another order
-- holds, and records the line items of the orders it lands. Filled once from raw.shopify_orders
-- in warehouses created before it existed.
CREATE TABLE IF NOT EXISTS raw.shopify_line_items (
    line_item_id  bigint PRIMARY KEY,
    order_id      bigint NOT NULL
);
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM raw.shopify_line_items) AND EXISTS (SELECT 1 FROM raw.shopify_orders) THEN
        INSERT INTO raw.shopify_line_items (line_item_id, order_id)
        SELECT (item ->> 'id')::bigint, o.order_id
        FROM raw.shopify_orders AS o
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(o.payload -> 'line_items') = 'array' THEN o.payload -> 'line_items' ELSE '[]' END
        ) AS item
        WHERE jsonb_typeof(item) = 'object' AND item ->> 'id' ~ '^[0-9]{1,18}$'
        ON CONFLICT DO NOTHING;
    END IF;
END
$$;

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
