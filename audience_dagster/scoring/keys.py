"""The scoring capability's asset keys, defined once: one per score and the table they fill."""

from __future__ import annotations

import dagster as dg

ENGAGEMENT = dg.AssetKey(["scoring", "engagement_score"])
WTP = dg.AssetKey(["scoring", "wtp_score"])
LEAD = dg.AssetKey(["scoring", "lead_score"])
HEALTH = dg.AssetKey(["scoring", "health_score"])
LIFECYCLE = dg.AssetKey(["scoring", "lifecycle_stage"])
RFM = dg.AssetKey(["scoring", "rfm"])
# the table the scores multi-asset writes, as dbt sees it (source scoring.profile_scores):
# materialised by the same step, downstream of the scores, upstream of audience_profiles
PROFILE_SCORES = dg.AssetKey(["scoring", "profile_scores"])
