"""A warehouse created before issue 11 upgrades in place: the ledger is re-keyed by (source,
sha256) with a status, the quarantine gets its record hash, line items their owner table."""

from __future__ import annotations

import pytest

from audience_dagster.warehouse.connection import bootstrap, connection

pytestmark = pytest.mark.integration

OLD_SCHEMA = """
CREATE SCHEMA raw;
CREATE TABLE raw.loaded_files (
    file_sha256 text PRIMARY KEY, source text NOT NULL, file_path text NOT NULL, file_bytes bigint NOT NULL,
    lines bigint NOT NULL, inserted bigint NOT NULL, duplicates bigint NOT NULL, quarantined bigint NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(), suppressed bigint NOT NULL DEFAULT 0,
    do_not_track bigint NOT NULL DEFAULT 0
);
CREATE TABLE raw.quarantine (
    quarantine_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, source text NOT NULL, file_path text NOT NULL,
    file_sha256 text NOT NULL, line_no bigint NOT NULL, reason text NOT NULL, record text,
    quarantined_at timestamptz NOT NULL DEFAULT now(), UNIQUE (file_sha256, line_no)
);
CREATE TABLE raw.shopify_orders (
    order_id bigint PRIMARY KEY, created_at timestamptz NOT NULL, payload jsonb NOT NULL,
    file_sha256 text NOT NULL, line_no bigint NOT NULL, loaded_at timestamptz NOT NULL
);
INSERT INTO raw.loaded_files VALUES ('abc', 'segment', 'segment/a.jsonl', 10, 2, 1, 0, 1, now(), 0, 0);
INSERT INTO raw.quarantine (source, file_path, file_sha256, line_no, reason, record) VALUES
    ('segment', 'segment/a.jsonl', 'abc', 2, 'invalid JSON', '{bad'),
    ('segment', 'segment/b.jsonl', 'def', 5, 'invalid JSON', '{bad');  -- the same record twice
INSERT INTO raw.shopify_orders VALUES
    (1, now(), '{"line_items": [{"id": 11}, {"id": "12"}, {"id": "x"}, 7]}', 'abc', 1, now());
"""


def test_an_old_warehouse_upgrades_in_place(warehouse_url: str) -> None:
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity", "privacy"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cur.execute(OLD_SCHEMA)
    bootstrap(warehouse_url)
    bootstrap(warehouse_url)  # and again: idempotent
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = 'raw.loaded_files'::regclass AND i.indisprimary"
        )
        assert cur.fetchone()[0] == ["file_sha256", "source"]  # (source, file_sha256), in column order
        cur.execute("SELECT source, status, reason, attempts, already_quarantined, blank_lines FROM raw.loaded_files")
        assert cur.fetchall() == [("segment", "loaded", None, 1, 0, 0)]
        cur.execute("SELECT file_sha256, record_sha256 IS NOT NULL FROM raw.quarantine ORDER BY quarantine_id")
        assert cur.fetchall() == [("abc", True), ("def", False)]  # the repeat keeps no hash
        cur.execute("SELECT line_item_id, order_id FROM raw.shopify_line_items ORDER BY 1")
        assert cur.fetchall() == [(11, 1), (12, 1)]
