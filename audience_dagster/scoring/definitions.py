"""The scoring capability in Dagster: the scores multi-asset and its range checks."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.scoring.assets import SCORE_CHECKS, scores


def build_scoring_definitions(settings: Settings) -> dg.Definitions:
    """Resources ``warehouse`` and ``clock``."""
    return dg.Definitions(assets=[scores], asset_checks=SCORE_CHECKS)
