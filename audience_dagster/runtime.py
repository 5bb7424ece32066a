"""Everything a process does before it runs the pipeline: one call for the CLI and the tests."""

from __future__ import annotations

from audience_dagster.config import Settings, load_settings
from audience_dagster.warehouse.connection import (
    Warehouse,
    bootstrap,
    export_env,
    resolve_warehouse,
)
from audience_dagster.warehouse.dagster_home import prepare_dagster_home


def prepare_runtime(settings: Settings | None = None, *, parse_dbt: bool = True) -> Warehouse:
    """Start/resolve the warehouse, create the raw schema, point Dagster's instance storage at
    Postgres and (re)parse the dbt project so the definitions load with a fresh manifest."""
    settings = settings or load_settings()
    warehouse = resolve_warehouse(settings)
    export_env(warehouse)
    bootstrap(warehouse.url)
    prepare_dagster_home(settings.dagster_home)
    if parse_dbt:
        from audience_dagster.transform.project import dbt_project

        dbt_project.preparer.prepare(dbt_project)
    return warehouse
