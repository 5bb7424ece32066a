-- The last full scoring pass of predictions/profile_predictions: its clock, the version of each
-- model it scored with and the BG/NBD + Gamma-Gamma fit on every customer then (parameters,
-- JSON). A refresh the same UTC day with the same models scores only the profiles the
-- audience_events change log names since, with that fit (predictions/incremental.py). One row.
CREATE TABLE IF NOT EXISTS marts.predictions_scoring_state (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    full_as_of     timestamptz NOT NULL,
    model_versions jsonb NOT NULL,
    btyd_fit       jsonb NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
