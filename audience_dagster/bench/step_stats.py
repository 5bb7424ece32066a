"""Per-step seconds of the runs a refresh made, from its Dagster instance's step stats.

``python -m audience_dagster.bench.step_stats SINCE`` (epoch seconds), in the refresh's own
environment (its ``AUDIENCE_HOME`` and database), prints one JSON object: step key → seconds,
summed over every run created after ``SINCE`` (the ingest run and the rebuild run). A child
process of its own, so the bench reads the instance the refresh wrote without taking on its
environment.
"""

from __future__ import annotations

import json
import sys


def step_seconds(since: float) -> dict[str, float]:
    import dagster as dg

    from audience_dagster.config import load_settings
    from audience_dagster.warehouse.connection import export_env, resolve_warehouse
    from audience_dagster.warehouse.dagster_home import prepare_dagster_home

    settings = load_settings()
    export_env(resolve_warehouse(settings))
    prepare_dagster_home(settings.dagster_home)
    seconds: dict[str, float] = {}
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs(dg.RunsFilter(created_after=_utc(since))):
            for stats in instance.get_run_step_stats(run.run_id):
                if stats.start_time is not None and stats.end_time is not None:
                    took = stats.end_time - stats.start_time
                    seconds[stats.step_key] = seconds.get(stats.step_key, 0.0) + took
    return seconds


def _utc(epoch: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)


if __name__ == "__main__":
    print(json.dumps(step_seconds(float(sys.argv[1]))))
