-- Exact row counts of the raw tables, kept by statement-level triggers, so a pass reports each
-- table's rows (`dagster/row_count`, the closing summary) without count(*) reading the whole
-- table: at 200k people raw.segment_messages is 6 GB, and after a full build pushed it out of
-- the page cache one count read it from disk for over a minute, on every refresh with new data.
--
-- Each INSERT / DELETE statement adds or subtracts the rows it changed (its transition table);
-- a TRUNCATE sets zero. The counter moves in the statement's transaction, so a rolled-back load
-- leaves it as it was. Concurrent loads of one table wait for each other's commit only at the
-- counter row, after their statements ran. Tables are counted once here, when the triggers are
-- made, in the same transaction (CREATE TRIGGER locks out writers meanwhile).
CREATE TABLE IF NOT EXISTS raw.row_counts (
    table_name text   PRIMARY KEY,  -- schema-qualified: raw.segment_messages
    row_count  bigint NOT NULL CHECK (row_count >= 0)
);

CREATE OR REPLACE FUNCTION raw.count_inserted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE raw.row_counts SET row_count = row_count + (SELECT count(*) FROM inserted_rows)
    WHERE table_name = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION raw.count_deleted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE raw.row_counts SET row_count = row_count - (SELECT count(*) FROM deleted_rows)
    WHERE table_name = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION raw.count_truncated_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE raw.row_counts SET row_count = 0 WHERE table_name = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'segment_messages', 'sendgrid_events', 'shopify_orders', 'shopify_line_items', 'social_events',
        'historical_orders', 'quarantine'
    ] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS count_inserted ON raw.%I', t);
        EXECUTE format('DROP TRIGGER IF EXISTS count_deleted ON raw.%I', t);
        EXECUTE format('DROP TRIGGER IF EXISTS count_truncated ON raw.%I', t);
        EXECUTE format(
            'CREATE TRIGGER count_inserted AFTER INSERT ON raw.%I REFERENCING NEW TABLE AS inserted_rows'
            ' FOR EACH STATEMENT EXECUTE FUNCTION raw.count_inserted_rows()', t);
        EXECUTE format(
            'CREATE TRIGGER count_deleted AFTER DELETE ON raw.%I REFERENCING OLD TABLE AS deleted_rows'
            ' FOR EACH STATEMENT EXECUTE FUNCTION raw.count_deleted_rows()', t);
        EXECUTE format(
            'CREATE TRIGGER count_truncated AFTER TRUNCATE ON raw.%I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION raw.count_truncated_rows()', t);
        EXECUTE format(
            'INSERT INTO raw.row_counts (table_name, row_count) SELECT %L, count(*) FROM raw.%I'
            ' ON CONFLICT (table_name) DO UPDATE SET row_count = EXCLUDED.row_count', 'raw.' || t, t);
    END LOOP;
END $$;
