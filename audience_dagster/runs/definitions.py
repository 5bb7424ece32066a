"""What spans the capabilities: the job that refreshes everything, the automation sensor that
rebuilds what depends on new data, and the loggers of a run."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.runs.progress import progress_logger

refresh_everything = dg.define_asset_job(
    "audience_refresh",
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest every new landing file, then rebuild every downstream model: staging, identity,"
        " audience_events and the profiles, every score, the prediction models and the predictions,"
        " the profile view, segments, cohorts and reports. With no new file, the ingest step"
        " materialises nothing and every later step is skipped."
    ),
)

automation = dg.AutomationConditionSensorDefinition(
    "audience_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)


def build_runs_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        jobs=[refresh_everything],
        sensors=[automation],
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    )
