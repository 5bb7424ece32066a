"""A warehouse made by the previous release upgrades in place, keeps its rows, and ends up with
exactly the schema of a fresh install; so does one at version 1 of every capability."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.migrations import Capability, migrate
from audience_dagster.warehouse.schema import CAPABILITIES, capabilities, capability, schema_status
from tests.warehouse.snapshot import differences, schema_snapshot

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent.parent / "fixtures"
# rows a user of release 6dcfe2c could hold, in every capability that release had
OLD_ROWS = """
INSERT INTO raw.loaded_files (file_sha256, source, file_path, file_bytes, lines, inserted, duplicates, quarantined)
VALUES ('f1', 'segment', '/landing/segment/a.jsonl', 100, 2, 2, 0, 0),
       ('f2', 'shopify', '/landing/shopify/b.jsonl', 200, 1, 1, 0, 2);
INSERT INTO raw.quarantine (source, file_path, file_sha256, line_no, reason, record)
VALUES ('shopify', '/landing/shopify/b.jsonl', 'f2', 2, 'invalid JSON', '{bad'),
       ('shopify', '/landing/shopify/b.jsonl', 'f2', 3, 'invalid JSON', '{bad');
INSERT INTO raw.shopify_orders (order_id, created_at, payload, file_sha256, line_no, loaded_at)
VALUES (7, '2026-01-05T10:00:00Z', '{"id": 7, "line_items": [{"id": 71}, {"id": 72}]}', 'f2', 1, now());
INSERT INTO raw.segment_messages (message_id, message_type, user_id, original_timestamp, received_at, occurred_at,
    timestamp_clamped, payload, file_sha256, line_no, loaded_at)
VALUES ('m1', 'track', 'u1', '2026-01-05T10:00:00Z', '2026-01-05T10:00:01Z', '2026-01-05T10:00:00Z', false,
    '{"type": "track"}', 'f1', 1, now());
INSERT INTO privacy.suppressed_identifiers (identifier_type, value_sha256)
VALUES ('email', privacy.identifier_sha256('email', 'Gone@Example.com'));
INSERT INTO identity.identity_map VALUES
    ('email', 'a@example.com', '00000000-0000-0000-0000-00000000000a', false, false, now(), now());
INSERT INTO identity.profiles (profile_id, created_at, status)
VALUES ('00000000-0000-0000-0000-00000000000a', now(), 'active');
INSERT INTO marts.wtp_scoring_rules (name, rule_type, field, operator, value, score_adjustment)
VALUES ('my own rule', 'demographic', 'total_orders', 'greater_than', '3', 12);
INSERT INTO marts.micro_segments (name, slug, segment_type) VALUES ('VIPs', 'vips', 'manual');
INSERT INTO marts.segment_membership (profile_id, segment_id, source)
SELECT '00000000-0000-0000-0000-00000000000a', id, 'manual' FROM marts.micro_segments;
INSERT INTO marts.predictions (profile_id, prediction_type, predicted_value, confidence)
VALUES ('00000000-0000-0000-0000-00000000000a', 'churn', 0.25, 0.8);
"""


def fresh_install(scratch_database: Callable[[str], str]) -> dict:
    url = scratch_database("fresh")
    bootstrap(url)
    return schema_snapshot(url)


def test_a_warehouse_of_the_previous_release_upgrades_in_place(scratch_database: Callable[[str], str]) -> None:
    url = scratch_database("old")
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute((FIXTURES / "schema_6dcfe2c.sql").read_text())
        cur.execute(OLD_ROWS)
    applied = bootstrap(url)
    assert applied[0].where == "privacy/sql/001_privacy_schema.sql"  # every file, in registry order
    assert differences(schema_snapshot(url), fresh_install(scratch_database)) == {}
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT source, file_sha256, status, attempts FROM raw.loaded_files ORDER BY 2")
        assert cur.fetchall() == [("segment", "f1", "loaded", 1), ("shopify", "f2", "loaded", 1)]
        cur.execute("SELECT line_no, record_sha256 IS NOT NULL FROM raw.quarantine ORDER BY line_no")
        assert cur.fetchall() == [(2, True), (3, False)]  # the repeat keeps no hash
        cur.execute("SELECT line_item_id, order_id FROM raw.shopify_line_items ORDER BY 1")
        assert cur.fetchall() == [(71, 7), (72, 7)]
        cur.execute("SELECT count(*) FROM raw.segment_messages")
        assert cur.fetchone() == (1,)
        cur.execute("SELECT identifier_type FROM privacy.suppressed_identifiers")
        assert cur.fetchall() == [("email",)]
        cur.execute("SELECT identifier_value, profile_id::text FROM identity.identity_map")
        assert cur.fetchall() == [("a@example.com", "00000000-0000-0000-0000-00000000000a")]
        # the user's rules are kept as they are (never re-seeded) and gain last_error
        cur.execute("SELECT name, score_adjustment, last_error FROM marts.wtp_scoring_rules")
        assert cur.fetchall() == [("my own rule", 12, None)]
        cur.execute("SELECT count(*) FROM marts.segment_membership JOIN marts.micro_segments s ON s.slug = 'vips'")
        assert cur.fetchone() == (1,)
        cur.execute("SELECT prediction_type, predicted_value FROM marts.predictions")
        assert [(kind, float(value)) for kind, value in cur.fetchall()] == [("churn", 0.25)]
        cur.execute("SELECT capability, bool_and(baseline) FROM meta.schema_versions GROUP BY 1 ORDER BY 1")
        adopted = dict(cur.fetchall())
    # what 6dcfe2c held is adopted (baseline); the collector and activation did not exist then:
    # a fresh install of each
    assert adopted == {name: name not in ("collector", "activation") for name in CAPABILITIES}
    assert bootstrap(url) == []  # and again: nothing to do


def test_a_warehouse_of_this_release_before_migrations_is_recognised(scratch_database: Callable[[str], str]) -> None:
    """Today's main ran the same files without recording versions: they are adopted as they are."""
    url = scratch_database("unversioned")
    bootstrap(url)
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO collector.api_keys (key_id, kind, name, token_sha256) VALUES ('k1', 'read', 'x', 'a')")
        cur.execute("DROP SCHEMA meta CASCADE")  # as main left it: no version table
    applied = bootstrap(url)
    assert len(applied) == sum(len(c.migrations()) for c in capabilities())
    with connection(url) as conn:
        statuses = schema_status(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT key_id FROM collector.api_keys")
            assert cur.fetchall() == [("k1",)]
    assert all(s.state == "up to date" and all(a.baseline for a in s.applied.values()) for s in statuses)
    assert differences(schema_snapshot(url), fresh_install(scratch_database)) == {}


def test_migrating_from_version_1_equals_a_fresh_install(
    scratch_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = scratch_database("v1")
    first_only = []
    for name in CAPABILITIES:
        folder = tmp_path / name
        folder.mkdir()
        first = capability(name).migrations()[0]
        shutil.copy(Path(str(capability(name).folder)) / first.name, folder / first.name)
        first_only.append(Capability(name, folder))
    with connection(url) as conn:
        migrate(conn, first_only)
        assert {s.capability.name: s.version for s in schema_status(conn)} == dict.fromkeys(CAPABILITIES, 1)
    later = bootstrap(url)
    assert all(m.version > 1 for m in later)
    assert differences(schema_snapshot(url), fresh_install(scratch_database)) == {}
