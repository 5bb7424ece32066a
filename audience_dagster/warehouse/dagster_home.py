"""Dagster's instance (runs, event logs, schedules) in PostgreSQL — never SQLite.

``prepare_dagster_home`` writes ``$AUDIENCE_HOME/dagster_home/dagster.yaml`` pointing the
storage at ``AUDIENCE_DAGSTER_PG_URL`` (exported by ``connection.export_env``) and sets
``DAGSTER_HOME`` for this process and its children (``dagster dev``, run workers).
"""

from __future__ import annotations

import os
from pathlib import Path

DAGSTER_YAML = """\
# Written by audience_dagster (warehouse/dagster_home.py); edits are overwritten.
storage:
  postgres:
    postgres_url:
      env: AUDIENCE_DAGSTER_PG_URL
telemetry:
  enabled: false
"""


def prepare_dagster_home(path: Path) -> Path:
    """Create the Dagster home with Postgres storage; export DAGSTER_HOME; return the path."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(path)
    return path
