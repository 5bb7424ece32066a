"""The segments capability's asset keys, defined once."""

from __future__ import annotations

import dagster as dg

SEGMENTS_KEY = dg.AssetKey(["segments", "micro_segments"])
COHORTS_KEY = dg.AssetKey(["segments", "cohort_definitions"])
MEMBERSHIP_KEY = dg.AssetKey(["segments", "segment_membership"])
COHORT_MEMBERSHIP_KEY = dg.AssetKey(["segments", "cohort_membership"])
