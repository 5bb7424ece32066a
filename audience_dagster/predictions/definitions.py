"""The predictions capability's Dagster definitions, built from one :class:`Settings`: the two
assets, the ``predictions`` resource they read their settings from, and the weekly training
schedule (its cron from ``AUDIENCE_TRAINING_CRON``, read once by ``config.py``). Importing this
module reads no environment and starts nothing; the top-level definitions merge the result
(``warehouse`` and ``clock`` come from there)."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.predictions.assets import MODELS_KEY, prediction_models, profile_predictions
from audience_dagster.predictions.resource import PredictionsResource


def build_predictions_definitions(settings: Settings) -> dg.Definitions:
    """Assets ``predictions/prediction_models`` and ``predictions/profile_predictions``, the
    ``predictions`` resource and the ``weekly_model_training`` schedule."""
    weekly_training = dg.ScheduleDefinition(
        name="weekly_model_training",
        target=dg.AssetSelection.assets(MODELS_KEY),
        cron_schedule=settings.training_cron,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Retrain the prediction models weekly; predictions follow by automation.",
    )
    return dg.Definitions(
        assets=[prediction_models, profile_predictions],
        schedules=[weekly_training],
        resources={
            "predictions": PredictionsResource(
                models_dir=str(settings.models_dir), horizons_days=dict(settings.horizons_days)
            )
        },
    )
