"""Run tags the CLI puts on its runs (kept apart so importing them loads no definitions)."""

from __future__ import annotations

LOG_DIR_TAG = "audience/log_dir"  # where the run's logs go (dagster.log, dbt.log)
REFRESH_TAG = "audience/refresh"  # the refresh a run belongs to (its ingest run and its rebuild run)
AS_OF_TAG = "audience/as_of"  # the refresh's clock, for the record
PID_TAG = "audience/pid"  # the process executing the run
PID_STARTED_TAG = "audience/pid_started"  # that process's start time (guards against pid reuse)
HOST_TAG = "audience/host"
