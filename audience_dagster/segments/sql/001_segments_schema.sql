-- Segments and cohorts (audience_dagster/segments). The spec's micro_segments,
-- segment_membership and cohort_definitions in its columns, plus a few this project adds (marked).
-- Created by bootstrap; the definitions asset syncs the YAML files into them, the membership
-- asset refreshes them. profile_id is not a foreign key: audience_profiles is a view.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.micro_segments (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL,
    slug                text UNIQUE NOT NULL,
    description         text,
    segment_type        text NOT NULL CHECK (segment_type IN ('rule_based', 'ml_based', 'behavioral', 'manual')),
    rules               jsonb DEFAULT '[]',
    rule_logic          text DEFAULT 'AND',
    model_id            text,
    model_threshold     numeric,
    behavior_definition jsonb DEFAULT '{}',
    member_count        integer DEFAULT 0,
    last_calculated_at  timestamptz,
    business_unit       text,
    use_cases           text[],
    refresh_frequency   interval DEFAULT '1 hour',
    auto_refresh        boolean DEFAULT true,
    status              text DEFAULT 'active',
    created_at          timestamptz DEFAULT now(),
    updated_at          timestamptz DEFAULT now(),
    -- added: how an ML segment compares predicted_value with model_threshold
    model_operator      text DEFAULT 'greater_than',
    -- added: 'yaml' when a file in the repo owns the row (synced over table edits), else 'table'
    managed_by          text DEFAULT 'table',
    -- added: the last refresh's error, null when it succeeded
    last_error          text
);
CREATE INDEX IF NOT EXISTS idx_micro_segments_type ON marts.micro_segments (segment_type);
CREATE INDEX IF NOT EXISTS idx_micro_segments_business_unit ON marts.micro_segments (business_unit);
CREATE INDEX IF NOT EXISTS idx_micro_segments_status ON marts.micro_segments (status);

CREATE TABLE IF NOT EXISTS marts.segment_membership (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    profile_id uuid NOT NULL,
    segment_id uuid NOT NULL REFERENCES marts.micro_segments (id) ON DELETE CASCADE,
    score      numeric,
    joined_at  timestamptz DEFAULT now(),
    expires_at timestamptz,
    source     text DEFAULT 'automatic' CHECK (source IN ('automatic', 'manual', 'import')),
    UNIQUE (profile_id, segment_id)
);
CREATE INDEX IF NOT EXISTS idx_segment_membership_profile ON marts.segment_membership (profile_id);
CREATE INDEX IF NOT EXISTS idx_segment_membership_segment ON marts.segment_membership (segment_id);
CREATE INDEX IF NOT EXISTS idx_segment_membership_score ON marts.segment_membership (score DESC);

-- added: who entered and who left each segment, and when (what activation sends)
CREATE TABLE IF NOT EXISTS marts.segment_membership_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    segment_id uuid NOT NULL REFERENCES marts.micro_segments (id) ON DELETE CASCADE,
    profile_id uuid NOT NULL,
    change     text NOT NULL CHECK (change IN ('entered', 'exited')),
    source     text NOT NULL,
    score      numeric,
    reason     text NOT NULL,  -- 'refresh', 'expired', 'manual', 'import'
    changed_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_segment_membership_changes_segment
    ON marts.segment_membership_changes (segment_id, changed_at);
CREATE INDEX IF NOT EXISTS idx_segment_membership_changes_profile ON marts.segment_membership_changes (profile_id);

CREATE TABLE IF NOT EXISTS marts.cohort_definitions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL,
    description    text,
    cohort_type    text NOT NULL CHECK (cohort_type IN ('acquisition', 'behavioral', 'lifecycle')),
    entry_criteria jsonb NOT NULL,
    exit_criteria  jsonb,
    cohort_period  text CHECK (cohort_period IN ('day', 'week', 'month')),
    lookback_days  integer,
    total_members  integer DEFAULT 0,
    status         text DEFAULT 'active',
    created_at     timestamptz DEFAULT now(),
    updated_at     timestamptz DEFAULT now(),
    -- added: a stable key for the YAML file that owns the row
    slug           text UNIQUE,
    managed_by     text DEFAULT 'table',
    last_calculated_at timestamptz,
    last_error     text
);

-- added: each cohort's members, when they entered (and the period that defines) and left
CREATE TABLE IF NOT EXISTS marts.cohort_membership (
    cohort_id           uuid NOT NULL REFERENCES marts.cohort_definitions (id) ON DELETE CASCADE,
    profile_id          uuid NOT NULL,
    cohort_period_start timestamptz NOT NULL,
    entered_at          timestamptz NOT NULL,
    exited_at           timestamptz,
    PRIMARY KEY (cohort_id, profile_id)
);
CREATE INDEX IF NOT EXISTS idx_cohort_membership_profile ON marts.cohort_membership (profile_id);
