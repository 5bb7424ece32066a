"""The predictions capability in Dagster: the models, the predictions and the weekly training."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.predictions.assets import prediction_models, profile_predictions, weekly_training


def build_predictions_definitions(settings: Settings) -> dg.Definitions:
    """Resources ``warehouse`` and ``clock``."""
    return dg.Definitions(assets=[prediction_models, profile_predictions], schedules=[weekly_training])
