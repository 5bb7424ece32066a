-- Activation (audience_dagster/activation): destinations synced from YAML, their sync state
-- (cursor, outbox, dead letters, who each destination holds), recommendations, next best
-- actions and price offers. Created by bootstrap (idempotent). profile_id is not a foreign key:
-- audience_profiles is a view.
CREATE SCHEMA IF NOT EXISTS activation;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS activation.destinations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug           text UNIQUE NOT NULL,
    name           text NOT NULL,
    segment_slug   text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('file', 'webhook', 'mailchimp')),
    settings       jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    managed_by     text NOT NULL DEFAULT 'yaml',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_synced_at timestamptz,
    last_error     text
);

-- one row per sync: the planned diff in `batches` batches; next_batch is the cursor (every batch
-- before it was delivered or dead-lettered). A sync that is still 'sending' is resumed first.
CREATE TABLE IF NOT EXISTS activation.destination_syncs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination_id uuid NOT NULL REFERENCES activation.destinations (id) ON DELETE CASCADE,
    status         text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'done')),
    batches        integer NOT NULL,
    next_batch     integer NOT NULL DEFAULT 0,
    entered        integer NOT NULL DEFAULT 0,
    exited         integer NOT NULL DEFAULT 0,
    removed        integer NOT NULL DEFAULT 0,
    skipped_no_consent integer NOT NULL DEFAULT 0,
    sent           integer NOT NULL DEFAULT 0,
    failed         integer NOT NULL DEFAULT 0,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_destination_syncs_open
    ON activation.destination_syncs (destination_id) WHERE status = 'sending';

-- the planned changes of open syncs (deleted when the sync is done)
CREATE TABLE IF NOT EXISTS activation.destination_outbox (
    sync_id        bigint NOT NULL REFERENCES activation.destination_syncs (id) ON DELETE CASCADE,
    batch_no       integer NOT NULL,
    change         text NOT NULL CHECK (change IN ('entered', 'exited', 'removed')),
    profile_id     uuid NOT NULL,
    subscriber_key text NOT NULL,
    payload        jsonb NOT NULL,
    PRIMARY KEY (sync_id, batch_no, profile_id)
);

-- who each destination holds (what was delivered); erasure marks rows erased_at, and the next
-- sync sends their removal and deletes them. subscriber_key: the id the destination knows them
-- by (profile id; Mailchimp: md5 of the lower-case email), never the email itself.
CREATE TABLE IF NOT EXISTS activation.destination_members (
    destination_id uuid NOT NULL REFERENCES activation.destinations (id) ON DELETE CASCADE,
    profile_id     uuid NOT NULL,
    subscriber_key text NOT NULL,
    sent_at        timestamptz NOT NULL,
    erased_at      timestamptz,
    PRIMARY KEY (destination_id, profile_id)
);
CREATE INDEX IF NOT EXISTS idx_destination_members_profile ON activation.destination_members (profile_id);

CREATE TABLE IF NOT EXISTS activation.dead_letters (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination_id  uuid NOT NULL REFERENCES activation.destinations (id) ON DELETE CASCADE,
    sync_id         bigint NOT NULL,
    batch_no        integer NOT NULL,
    idempotency_key text NOT NULL,
    attempts        integer NOT NULL,
    last_status     integer,
    error           text NOT NULL,
    changes         integer NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_dead_letters_destination ON activation.dead_letters (destination_id, sync_id);

CREATE TABLE IF NOT EXISTS marts.recommendations (
    profile_id  uuid NOT NULL,
    item_type   text NOT NULL CHECK (item_type IN ('product', 'content')),
    item_id     text NOT NULL,
    rank        integer NOT NULL,
    score       double precision NOT NULL,
    reason      text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (profile_id, item_type, rank)
);

CREATE TABLE IF NOT EXISTS marts.next_best_actions (
    profile_id  uuid PRIMARY KEY,
    action      text NOT NULL,
    priority    integer NOT NULL,
    reason      text NOT NULL,
    item_id     text,
    computed_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS marts.price_offers (
    profile_id        uuid PRIMARY KEY,
    offer             text NOT NULL CHECK (offer IN ('full_price', 'premium_bundle', 'discount', 'free_shipping')),
    discount_pct      numeric NOT NULL DEFAULT 0,
    reason            text NOT NULL,
    wtp_score         numeric,
    price_sensitivity numeric,
    valid_until       timestamptz NOT NULL,
    computed_at       timestamptz NOT NULL
);
