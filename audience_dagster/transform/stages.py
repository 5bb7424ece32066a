"""The dbt stages: one ``dbt build`` per stage, split where a Python step sits between models
(docs/runs.md). Plain data, importable without the dbt manifest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DbtStage:
    """One ``dbt build`` step: a dbt selection of models (and their tests)."""

    name: str
    select: str
    description: str


STAGES: tuple[DbtStage, ...] = (
    DbtStage(
        "dbt_staging",
        "path:models/staging/segment path:models/staging/sendgrid path:models/staging/shopify"
        " path:models/staging/social path:models/staging/store path:models/staging/ingest"
        " path:models/intermediate/identity",
        "`dbt build` of the staging views over the raw tables (renames and casts) and of the identity"
        " graph they feed (every identifier, every proven link), with their tests.",
    ),
    DbtStage(
        "dbt_profiles",
        "path:models/staging/identity path:models/intermediate/profiles path:models/intermediate/events"
        " audience_events audience_profile_base",
        "`dbt build` of what reads the identity map: the event pipeline, audience_events (partitioned"
        " by month) and audience_profile_base, with their tests.",
    ),
    DbtStage(
        "dbt_profile_view",
        "path:models/staging/scoring path:models/staging/predictions audience_profiles",
        "`dbt build` of the spec's audience_profiles view (profile base + scores + predictions), the"
        " staging views of the scores and predictions, and their tests, after the scores and predictions.",
    ),
    DbtStage(
        "dbt_reports",
        "path:models/staging/segments path:models/marts/reports",
        "`dbt build` of the analyst reports (the spec's four queries, segment performance, the cohort"
        " retention matrix), after the segments and cohorts.",
    ),
)
