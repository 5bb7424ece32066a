"""A scored synthetic population on the embedded PostgreSQL, with the profiles view and the
shipped segments and cohorts synced (the same data the segments bench uses, smaller)."""

from __future__ import annotations

import pytest

from audience_dagster.bench.segments import load_synthetic
from audience_dagster.segments.definitions_yaml import load_cohorts, load_segments
from audience_dagster.segments.sync import sync_cohorts, sync_segments
from audience_dagster.warehouse.connection import bootstrap, connection


@pytest.fixture()
def segment_db(warehouse_url: str) -> str:
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS marts CASCADE")
    bootstrap(warehouse_url)
    load_synthetic(warehouse_url, 4_000, seed=5)
    with connection(warehouse_url) as conn:
        sync_segments(conn, load_segments())
        sync_cohorts(conn, load_cohorts())
    return warehouse_url
