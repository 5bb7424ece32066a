"""The Dagster code location: every asset, check, job, schedule, sensor, logger and resource.

Importing this module resolves the warehouse (starting the embedded PostgreSQL unless
``DATABASE_URL`` is set) and exports the connection for dbt, so ``dagster dev``, the CLI and
the tests all run against the same server.

The asset graph reads left to right by capability — ingest → identity → profiles → scoring,
predictions → segments → reports — and every table a step reads is an asset some step of the
same job materialises, so Dagster orders the steps by what they read.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from audience_dagster.activation.definitions import build_activation_definitions
from audience_dagster.clock import RunClock
from audience_dagster.collector.definitions import build_collector_definitions
from audience_dagster.config import load_settings
from audience_dagster.identity.assets import IDENTITY_ASSETS
from audience_dagster.ingest.assets import ingest
from audience_dagster.predictions.assets import prediction_models, profile_predictions, weekly_training
from audience_dagster.runs.progress import progress_logger
from audience_dagster.scoring.assets import SCORE_CHECKS, scores
from audience_dagster.segments.assets import SEGMENT_ASSETS, segment_refresh_job, segment_schedule
from audience_dagster.transform.dbt import DBT_ASSETS
from audience_dagster.transform.dbt_process import dbt_executable
from audience_dagster.transform.project import dbt_project
from audience_dagster.warehouse.connection import export_env, resolve_warehouse
from audience_dagster.warehouse.resource import LandingZone, WarehouseResource

settings = load_settings()
export_env(resolve_warehouse(settings))

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

ingest_job = dg.define_asset_job(
    "audience_ingest",
    selection=dg.AssetSelection.assets(ingest),
    description="The ingest pass alone: load every new landing file into the raw tables.",
)

hourly_ingest = dg.ScheduleDefinition(
    name="hourly_ingest",
    job=ingest_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Load new landing files every hour; downstream models follow by automation (only after new files).",
)

automation = dg.AutomationConditionSensorDefinition(
    "audience_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)

core = dg.Definitions(
    assets=[ingest, *DBT_ASSETS, *IDENTITY_ASSETS, scores, prediction_models, profile_predictions, *SEGMENT_ASSETS],
    asset_checks=SCORE_CHECKS,
    jobs=[refresh_everything, ingest_job, segment_refresh_job],
    schedules=[hourly_ingest, weekly_training],
    sensors=[automation, segment_schedule],
    loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    resources={
        "warehouse": WarehouseResource(
            url=dg.EnvVar("AUDIENCE_WAREHOUSE_URL"),
            future_tolerance_seconds=settings.future_tolerance_seconds,
        ),
        "landing": LandingZone(path=str(settings.landing_dir)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        "clock": RunClock(as_of=settings.as_of.isoformat() if settings.as_of else ""),
    },
)

# the collector's intake asset and sensor (audience_dagster/collector/definitions.py), activation's
# destinations, recommendations, actions and offers (audience_dagster/activation/definitions.py)
defs = dg.Definitions.merge(core, build_collector_definitions(settings), build_activation_definitions(settings))
