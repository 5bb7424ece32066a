-- The load sequence: every raw event row gets a number from one shared sequence when it lands,
-- so downstream stages keep a watermark (the largest number they have processed) and read only
-- the rows past it (docs/incremental.md). Existing rows are numbered when the column is added
-- (ADD COLUMN with a volatile default rewrites the table once); rows loaded later get larger
-- numbers. The loaders name their columns (INSERT … SELECT, COPY into temporary tables), so the
-- default fills it. One sequence for all tables: a single number orders loads across sources.
--
-- Numbers are handed out when a row is inserted, not when its transaction commits: a stage
-- that reads past its watermark while a load is still in flight could skip that load's rows.
-- Loads and dbt builds never overlap (one run at a time, docs/runs.md).
CREATE SEQUENCE IF NOT EXISTS raw.load_seq AS bigint;

ALTER TABLE raw.segment_messages  ADD COLUMN IF NOT EXISTS load_seq bigint NOT NULL DEFAULT nextval('raw.load_seq');
ALTER TABLE raw.sendgrid_events   ADD COLUMN IF NOT EXISTS load_seq bigint NOT NULL DEFAULT nextval('raw.load_seq');
ALTER TABLE raw.shopify_orders    ADD COLUMN IF NOT EXISTS load_seq bigint NOT NULL DEFAULT nextval('raw.load_seq');
ALTER TABLE raw.social_events     ADD COLUMN IF NOT EXISTS load_seq bigint NOT NULL DEFAULT nextval('raw.load_seq');
ALTER TABLE raw.historical_orders ADD COLUMN IF NOT EXISTS load_seq bigint NOT NULL DEFAULT nextval('raw.load_seq');

CREATE UNIQUE INDEX IF NOT EXISTS segment_messages_load_seq  ON raw.segment_messages (load_seq);
CREATE UNIQUE INDEX IF NOT EXISTS sendgrid_events_load_seq   ON raw.sendgrid_events (load_seq);
CREATE UNIQUE INDEX IF NOT EXISTS shopify_orders_load_seq    ON raw.shopify_orders (load_seq);
CREATE UNIQUE INDEX IF NOT EXISTS social_events_load_seq     ON raw.social_events (load_seq);
CREATE UNIQUE INDEX IF NOT EXISTS historical_orders_load_seq ON raw.historical_orders (load_seq);
