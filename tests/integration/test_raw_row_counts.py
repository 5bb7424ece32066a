"""The raw tables' row counters (ingest migration 005) equal count(*) through loads, re-loads,
deletes (erasure), rolled-back statements and truncation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest

from audience_dagster.ingest.loader import load_source
from audience_dagster.ingest.sources import SEGMENT
from audience_dagster.summary import warehouse_counts
from audience_dagster.warehouse.connection import connection
from tests.conftest import write_lines
from tests.integration.test_ingest import seg

pytestmark = pytest.mark.integration


def _kept_and_counted(url: str) -> tuple[dict[str, int], dict[str, int]]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name, row_count FROM raw.row_counts")
        kept = dict(cur.fetchall())
        counted = {}
        for name in kept:  # names from the counter table, which the migration wrote
            cur.execute(f"SELECT count(*) FROM {name}")
            counted[name] = cur.fetchone()[0]
    return kept, counted


def test_every_raw_table_but_the_ledger_has_a_counter(empty_raw: str) -> None:
    with connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT 'raw.' || table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            " AND table_type = 'BASE TABLE' AND table_name NOT IN ('loaded_files', 'row_counts')"
        )
        tables = {row[0] for row in cur.fetchall()}
    kept, counted = _kept_and_counted(empty_raw)
    assert set(kept) == tables and "raw.segment_messages" in tables
    assert kept == counted == dict.fromkeys(tables, 0)


def test_the_counters_follow_loads_deletes_rollbacks_and_truncation(empty_raw: str, tmp_path: Path) -> None:
    day = timedelta(days=1)
    write_lines(tmp_path / "segment" / "a.jsonl", [seg(f"a{i}") for i in range(50)] + ["{broken", "[1]"])
    write_lines(tmp_path / "segment" / "b.jsonl", [seg(f"b{i}") for i in range(30)] + [seg("a1"), "{also broken"])
    load_source(empty_raw, SEGMENT, tmp_path, future_tolerance=day, workers=2)  # two files at once
    kept, counted = _kept_and_counted(empty_raw)
    assert kept == counted
    assert kept["raw.segment_messages"] == 80 and kept["raw.quarantine"] == 3

    load_source(empty_raw, SEGMENT, tmp_path, future_tolerance=day, workers=2)  # nothing new
    assert _kept_and_counted(empty_raw)[0] == kept

    with connection(empty_raw) as conn, conn.cursor() as cur:  # an erasure deletes raw rows
        cur.execute("DELETE FROM raw.segment_messages WHERE message_id LIKE 'b%'")
    kept, counted = _kept_and_counted(empty_raw)
    assert kept == counted and kept["raw.segment_messages"] == 50

    with pytest.raises(psycopg2.Error), connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM raw.segment_messages WHERE message_id LIKE 'a1%'")
        cur.execute("SELECT 1 / 0")  # the transaction fails: its delete and its counting roll back
    assert _kept_and_counted(empty_raw) == (kept, counted)
    assert warehouse_counts(empty_raw)["raw.segment_messages"] == 50

    with connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE raw.quarantine")
    kept, counted = _kept_and_counted(empty_raw)
    assert kept == counted and kept["raw.quarantine"] == 0
