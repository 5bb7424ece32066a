"""The ingest capability in Dagster: the ingest multi-asset, its job and the hourly schedule."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.ingest.assets import ingest

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


def build_ingest_definitions(settings: Settings) -> dg.Definitions:
    """The raw tables, the quarantine and the ledger (resources ``warehouse``, ``landing``)."""
    return dg.Definitions(assets=[ingest], jobs=[ingest_job], schedules=[hourly_ingest])
