-- The identity schema: identity.identity_map and the tables around it (version 1: idempotent,
-- adopts a warehouse made before migrations).
CREATE SCHEMA IF NOT EXISTS identity;
-- a map written before profile ids existed (keyed by profile_key) is rebuilt from scratch
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'identity' AND table_name = 'identity_map' AND column_name = 'profile_key'
    ) THEN
        DROP TABLE identity.identity_map;
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS identity.identity_map (
    identifier_type  text        NOT NULL,
    identifier_value text        NOT NULL,
    profile_id       uuid,                  -- NULL for blocked (junk) identifiers
    shared_device    boolean     NOT NULL,
    blocked          boolean     NOT NULL,
    first_seen_at    timestamptz,
    last_seen_at     timestamptz,
    PRIMARY KEY (identifier_type, identifier_value)
);
CREATE INDEX IF NOT EXISTS identity_map_profile_id ON identity.identity_map (profile_id);
CREATE TABLE IF NOT EXISTS identity.profiles (
    profile_id         uuid PRIMARY KEY,
    created_at         timestamptz NOT NULL,
    status             text NOT NULL CHECK (status IN ('active', 'merged', 'retired', 'erased')),
    merged_into        uuid,
    retired_at         timestamptz,
    current_profile_id uuid
);
CREATE TABLE IF NOT EXISTS identity.profile_merges (
    merge_id            bigserial PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('rule', 'manual', 'split', 'unmerge')),
    retired_profile_id  uuid NOT NULL,
    survivor_profile_id uuid NOT NULL,
    evidence            jsonb NOT NULL DEFAULT '{}',
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS identity.manual_operations (
    op_id                bigserial PRIMARY KEY,
    op_type              text NOT NULL CHECK (op_type IN ('merge', 'unmerge')),
    primary_profile_id   uuid NOT NULL,
    secondary_profile_id uuid NOT NULL,
    identifiers          jsonb NOT NULL,
    other_identifiers    jsonb NOT NULL,
    reason               text NOT NULL,
    requested_by         text NOT NULL,
    requested_at         timestamptz NOT NULL DEFAULT now(),
    active               boolean NOT NULL DEFAULT true,
    superseded_by        bigint
);
CREATE TABLE IF NOT EXISTS identity.dropped_edges (
    left_type   text NOT NULL,
    left_value  text NOT NULL,
    right_type  text NOT NULL,
    right_value text NOT NULL,
    edge_source text NOT NULL,
    reason      text NOT NULL
);

-- Values that link nobody, and why: the junk list (reason junk_list:<rule>), the shared-value
-- guard (shared_value, with the people its links need) and values that cannot be normalised
-- (invalid_email, invalid_phone: <why>; identifier_value is then the trimmed raw value).
CREATE TABLE IF NOT EXISTS identity.blocked_identifiers (
    identifier_type  text   NOT NULL,
    identifier_value text   NOT NULL,
    reason           text   NOT NULL,
    people           bigint,           -- shared_value: the fewest people its direct links need
    observations     bigint            -- invalid values: graph rows that carried the value
);
-- Your own junk values, added to identity/junk_values.yaml at every rebuild ('*': every type).
CREATE TABLE IF NOT EXISTS identity.junk_values (
    identifier_type text NOT NULL DEFAULT '*',
    value           text NOT NULL,
    note            text,
    added_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identifier_type, value)
);
-- Reviewable duplicate suggestions, never merged automatically: links a per-type limit refused
-- (over_limit) and probabilistic record-linkage matches (fuzzy). `audience identity suggestions`
-- lists them; accepting one records a manual merge (identity.manual_operations).
CREATE TABLE IF NOT EXISTS identity.duplicate_suggestions (
    suggestion_id      bigserial PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('over_limit', 'fuzzy')),
    profile_id_a       uuid NOT NULL,
    profile_id_b       uuid NOT NULL,
    match_probability  double precision,  -- fuzzy: posterior match probability; over_limit: NULL
    comparisons        jsonb NOT NULL,    -- what drove it: agreement per field, or the refused links
    status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    first_suggested_at timestamptz NOT NULL DEFAULT now(),
    last_suggested_at  timestamptz NOT NULL DEFAULT now(),
    decided_at         timestamptz,
    decided_by         text,
    decision_reason    text,
    op_id              bigint,            -- the manual merge an acceptance recorded
    UNIQUE (kind, profile_id_a, profile_id_b),
    CHECK (profile_id_a < profile_id_b)
);
