-- The spec's predictions table, written by the predictions asset (audience_dagster/predictions).
-- Created by bootstrap so the dbt view marts.audience_profiles can read it before the first
-- prediction run (the prediction columns are then null). Replaced as a whole at every scoring
-- run (TRUNCATE + COPY, one transaction). profile_id is not a foreign key: audience_profiles is
-- a view; a dbt relationships test checks it instead.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.predictions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    profile_id      uuid NOT NULL,
    prediction_type text NOT NULL CHECK (prediction_type IN ('churn', 'ltv', 'next_purchase', 'upgrade')),
    predicted_value numeric,
    confidence      numeric CHECK (confidence BETWEEN 0 AND 1),
    model_version   text,
    features_used   jsonb DEFAULT '{}',
    predicted_at    timestamptz DEFAULT now(),
    valid_until     timestamptz,
    UNIQUE (profile_id, prediction_type)
);
CREATE INDEX IF NOT EXISTS idx_predictions_profile ON marts.predictions (profile_id);
CREATE INDEX IF NOT EXISTS idx_predictions_type ON marts.predictions (prediction_type);
CREATE INDEX IF NOT EXISTS idx_predictions_value ON marts.predictions (predicted_value DESC);
