"""The segments capability in Dagster: definitions, memberships, cohorts, the refresh job and the
per-segment schedule sensor."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.segments.assets import SEGMENT_ASSETS, segment_refresh_job, segment_schedule


def build_segments_definitions(settings: Settings) -> dg.Definitions:
    """Resources ``warehouse`` and ``clock``."""
    return dg.Definitions(assets=SEGMENT_ASSETS, jobs=[segment_refresh_job], sensors=[segment_schedule])
