"""What spans the capabilities: the job that refreshes everything, the full rebuild, the
automation sensor that rebuilds what depends on new data, and the loggers of a run."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.ingest.assets import ingest
from audience_dagster.runs.progress import progress_logger
from audience_dagster.transform.stages import STAGES

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

FULL_REBUILD_JOB = "audience_full_rebuild"
# The YAML definitions are synced again even when their files did not change, and every dbt
# stage runs `dbt build --full-refresh` (the incremental models rebuilt from the raw tables), and
# every profile is scored.
FULL_REBUILD_OPS_CONFIG = {
    "segment_definitions": {"config": {"resync": True}},
    "predictions__profile_predictions": {"config": {"full": True}},
    **{stage.name: {"config": {"full_refresh": True}} for stage in STAGES},
}

full_rebuild = dg.define_asset_job(
    FULL_REBUILD_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*ingest.keys),
    config={"ops": FULL_REBUILD_OPS_CONFIG},
    description=(
        "A full rebuild (`audience refresh --full` runs it after the ingest pass): every asset after"
        " the ingest pass, from the raw tables as they are — staging, identity, audience_events, the"
        " profiles, scores, models and predictions, segments (their YAML definitions synced again),"
        " cohorts and reports — whether or not anything is out of date. For after editing"
        " `marts.wtp_scoring_rules` or Python code, which Dagster cannot see. It loads no landing"
        " file: launch `audience_ingest` first for those."
    ),
)

automation = dg.AutomationConditionSensorDefinition(
    "audience_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)


def build_runs_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        jobs=[refresh_everything, full_rebuild],
        sensors=[automation],
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    )
