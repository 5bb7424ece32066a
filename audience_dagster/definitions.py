"""The Dagster code location: every asset, check, job, schedule, sensor and resource.

Importing this module resolves the warehouse (starting the embedded PostgreSQL unless
``DATABASE_URL`` is set) and exports the connection for dbt, so ``dagster dev``, the CLI and
the tests all run against the same server.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from audience_dagster.collector.definitions import build_collector_definitions
from audience_dagster.config import load_settings
from audience_dagster.identity.assets import identity_map
from audience_dagster.ingest.assets import ingest_bookkeeping, raw_assets
from audience_dagster.predictions.assets import (
    PREDICTIONS_TABLE,
    prediction_models,
    profile_predictions,
    weekly_training,
)
from audience_dagster.scoring.assets import PROFILE_SCORES_TABLE, SCORE_CHECKS, scores
from audience_dagster.segments.assets import SEGMENT_ASSETS, segment_refresh_job, segment_schedule
from audience_dagster.transform.dbt import audience_dbt_marts, audience_dbt_models, audience_dbt_reports
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
        " audience_events and the profiles, then every score, the prediction models and the predictions."
    ),
)

hourly_ingest = dg.ScheduleDefinition(
    name="hourly_ingest",
    target=dg.AssetSelection.groups("ingest"),
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Load new landing files every hour; downstream models follow by automation.",
)

automation = dg.AutomationConditionSensorDefinition(
    "audience_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)

core = dg.Definitions(
    assets=[
        *raw_assets,
        *ingest_bookkeeping,
        audience_dbt_models,
        identity_map,
        audience_dbt_marts,
        scores,
        PROFILE_SCORES_TABLE,
        prediction_models,
        profile_predictions,
        PREDICTIONS_TABLE,
        *SEGMENT_ASSETS,
        audience_dbt_reports,
    ],
    asset_checks=SCORE_CHECKS,
    jobs=[refresh_everything, segment_refresh_job],
    schedules=[hourly_ingest, weekly_training],
    sensors=[automation, segment_schedule],
    resources={
        "warehouse": WarehouseResource(
            url=dg.EnvVar("AUDIENCE_WAREHOUSE_URL"),
            future_tolerance_seconds=settings.future_tolerance_seconds,
        ),
        "landing": LandingZone(path=str(settings.landing_dir)),
        "dbt": DbtCliResource(project_dir=dbt_project),
    },
)

# the collector's intake asset and sensor (audience_dagster/collector/definitions.py)
defs = dg.Definitions.merge(core, build_collector_definitions(settings))
