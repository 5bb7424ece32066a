"""The Dagster resources for the warehouse and the landing zone (thin wrappers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psycopg2.extensions

from audience_dagster.warehouse.connection import bootstrap, connection

# Every step that writes the warehouse claims a slot of this concurrency pool; the instance
# limits it to one (warehouse/dagster_home.py), so such steps never overlap across runs.
WAREHOUSE_POOL = "warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse: raw tables, dbt models and the Python assets' outputs."""

    url: str
    future_tolerance_seconds: int = 86_400

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
