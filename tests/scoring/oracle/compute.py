"""Every score for every profile in one pass (pure): the order the spec implies.

engagement → (WTP reads engagement_score; lead and health read it too; lifecycle's advocate
rule reads it) → RFM is independent. Returns the score columns and one explanation table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from audience_dagster.scoring.parameters import HEALTH_BASE, LEAD_BASE, SCORE_COLUMNS
from audience_dagster.scoring.rules import Rule
from tests.scoring.oracle.engagement import engagement_components
from tests.scoring.oracle.explain import CONTRIBUTION_COLUMNS
from tests.scoring.oracle.lifecycle import lifecycle_stage
from tests.scoring.oracle.rfm import rfm_scores
from tests.scoring.oracle.rules import score_with_rules
from tests.scoring.oracle.signals import HEALTH_SIGNALS, LEAD_SIGNALS, score_signals


@dataclass(frozen=True)
class Scores:
    """``columns``: :data:`SCORE_COLUMNS` per profile (index = profile id). ``contributions``:
    ``profile, score_type, rule, points`` for engagement, wtp, lead and health."""

    columns: pd.DataFrame
    contributions: pd.DataFrame


def compute_scores(
    profiles: pd.DataFrame, activity: pd.DataFrame, rules: Sequence[Rule], as_of: pd.Timestamp
) -> Scores:
    """All scores. ``profiles``: profile columns (index = id) incl. every field the rules name;
    ``activity``: per-profile event aggregates (engagement's and the signals'), same index."""
    activity = activity.reindex(profiles.index)
    parts = engagement_components(profiles["last_seen_at"], activity, as_of)
    engagement = parts.sum(axis=1).clip(upper=100).astype("int64")
    engagement_long = parts.stack().rename("points").reset_index()
    engagement_long.columns = ["profile", "rule", "points"]
    engagement_long = engagement_long[engagement_long["points"] != 0]

    frame = profiles.assign(engagement_score=engagement).join(activity.drop(columns=profiles.columns, errors="ignore"))
    wtp, wtp_why = score_with_rules(frame, rules)
    lead, lead_why = score_signals(frame, LEAD_SIGNALS, LEAD_BASE, as_of)
    health, health_why = score_signals(frame, HEALTH_SIGNALS, HEALTH_BASE, as_of)
    columns = pd.DataFrame(
        {
            "engagement_score": engagement,
            "wtp_score": wtp,
            "lead_score": lead,
            "health_score": health,
            "lifecycle_stage": lifecycle_stage(frame, engagement),
        },
        index=profiles.index,
    ).join(rfm_scores(profiles, as_of))
    contributions = pd.concat(
        [
            why.assign(score_type=name)
            for name, why in (
                ("engagement", engagement_long),
                ("wtp", wtp_why),
                ("lead", lead_why),
                ("health", health_why),
            )
        ],
        ignore_index=True,
    )[["profile", "score_type", *CONTRIBUTION_COLUMNS[1:]]]
    return Scores(columns=columns[list(SCORE_COLUMNS)], contributions=contributions)
