"""The Dagster resources for the warehouse and the landing zone (thin wrappers).

Building them starts nothing: :class:`WarehouseResource` holds where the warehouse is (a URL, or
the embedded server's data folder) and resolves it when a step, sensor or schedule first uses it
— starting the embedded PostgreSQL then if it is not running, and handing the connection to the
dbt processes of this process (:func:`~audience_dagster.warehouse.connection.export_env`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psycopg2.extensions

from audience_dagster.config import Settings
from audience_dagster.errors import WarehouseError
from audience_dagster.warehouse.connection import Warehouse, bootstrap, connection, export_env, locate_warehouse

# Every step that writes the warehouse claims a slot of this concurrency pool; the instance
# limits it to one (warehouse/dagster_home.py), so such steps never overlap across runs.
WAREHOUSE_POOL = "warehouse"

# resolved warehouses of this process, by (database_url, dagster_database_url, pgdata_dir)
_RESOLVED: dict[tuple[str, str, str], Warehouse] = {}


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse: raw tables, dbt models and the Python assets' outputs.

    ``database_url`` empty means the embedded server with its data in ``pgdata_dir``."""

    database_url: str = ""
    dagster_database_url: str = ""
    pgdata_dir: str = ""
    pg_start_timeout_seconds: int = 1800
    future_tolerance_seconds: int = 86_400

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(
            database_url=settings.database_url or "",
            dagster_database_url=settings.dagster_database_url or "",
            pgdata_dir=str(settings.pgdata_dir),
            pg_start_timeout_seconds=settings.pg_start_timeout_seconds,
            future_tolerance_seconds=settings.future_tolerance_seconds,
        )

    def resolve(self) -> Warehouse:
        """Where the warehouse is (starting the embedded server on first use in this process)."""
        where = (self.database_url, self.dagster_database_url, self.pgdata_dir)
        if not self.database_url and not self.pgdata_dir:
            # Path("") is the working directory: never initialise a server there
            raise WarehouseError(
                "WarehouseResource needs database_url or pgdata_dir (build it with from_settings(load_settings()))"
            )
        if where not in _RESOLVED:
            warehouse = locate_warehouse(
                self.database_url or None,
                self.dagster_database_url or None,
                Path(self.pgdata_dir),
                self.pg_start_timeout_seconds,
            )
            export_env(warehouse)  # dbt, started by the steps of this process, reads it
            _RESOLVED[where] = warehouse
        return _RESOLVED[where]

    @property
    def url(self) -> str:
        return self.resolve().url

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        bootstrap(self.url)

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        with connection(self.url) as conn:
            yield conn

    @property
    def future_tolerance(self) -> timedelta:
        return timedelta(seconds=self.future_tolerance_seconds)


class LandingZone(dg.ConfigurableResource):
    """Where landing files arrive: one sub-folder per source (segment/, sendgrid/, …)."""

    path: str
    load_workers: int = 2

    @property
    def root(self) -> Path:
        return Path(self.path)
