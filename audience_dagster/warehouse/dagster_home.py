"""Dagster's instance (runs, event logs, schedules) in PostgreSQL — never SQLite.

``prepare_dagster_home`` writes ``$AUDIENCE_HOME/dagster_home/dagster.yaml`` pointing the
storage at ``AUDIENCE_DAGSTER_PG_URL`` (exported by ``connection.export_env``) and sets
``DAGSTER_HOME`` for this process and its children (``dagster dev``, run workers).

One run at a time: the run queue starts one run at a time (``max_concurrent_runs: 1``; a run the
CLI executes in its own process counts as in progress too), so the hourly schedule, the sensors
and the UI queue instead of racing; and every step that writes the warehouse is in the
``warehouse`` concurrency pool, limited to one step at a time across all runs
(``pools.default_limit: 1``), which also serialises a run started in the instant between two
queue checks. Run monitoring fails runs stuck starting or cancelling.
"""

from __future__ import annotations

from pathlib import Path

from audience_dagster.config import export_environment

DAGSTER_YAML = """\
# Written by audience_dagster (warehouse/dagster_home.py); edits are overwritten.
storage:
  postgres:
    postgres_url:
      env: AUDIENCE_DAGSTER_PG_URL
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  cancel_timeout_seconds: 300
telemetry:
  enabled: false
"""


def prepare_dagster_home(path: Path) -> Path:
    """Create the Dagster home with Postgres storage; export DAGSTER_HOME; return the path."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    export_environment({"DAGSTER_HOME": str(path)})
    return path
