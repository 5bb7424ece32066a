"""Do-not-track and suppression inside the set-based load statement (real PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from audience_dagster.ingest.historical_orders import compile_orders_load, load_orders_csv
from audience_dagster.ingest.loader import load_source
from audience_dagster.ingest.sources import CONSENT_EVENT, JSON_SOURCES, SEGMENT, compile_load_statement
from audience_dagster.warehouse.connection import connection
from tests.conftest import write_lines
from tests.privacy.conftest import DAY, seg

pytestmark = pytest.mark.integration

REFUSE_ALL = {"categoryPreferences": {"Advertising": False, "Analytics": "false", "Functional": 0}}
SOME = {"categoryPreferences": {"Advertising": False, "Analytics": True}}


def rows(url: str, sql: str) -> list[tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def suppress(url: str, *identifiers: tuple[str, str]) -> None:
    """Suppress values (already normalised) the way erasure does: sha256 of the UTF-8 value."""
    with connection(url) as conn, conn.cursor() as cur:
        for kind, value in identifiers:
            cur.execute(
                "INSERT INTO privacy.suppressed_identifiers (identifier_type, value_sha256) VALUES (%s, %s)",
                (kind, hashlib.sha256(value.encode()).digest()),
            )


def test_do_not_track_messages_are_counted_not_stored_but_consent_updates_are_kept(
    raw_only: str, tmp_path: Path
) -> None:
    write_lines(
        tmp_path / "segment" / "dnt.jsonl",
        [
            seg("d1", "a1", kind="page", context={"doNotTrack": True}),
            seg("d2", "a1", context={"doNotTrack": "1"}),
            seg("d3", "a1", kind="page", context={"consent": REFUSE_ALL}),
            seg("d4", "a1", kind="identify", traits={"email": "a@b.com"}, context={"doNotTrack": "true"}),
            # malformed, but it said do-not-track: not quarantined either (nothing of it is kept)
            seg("d5", "a1", timestamp="yesterday", context={"doNotTrack": True}),
            seg("k1", "a1", event=CONSENT_EVENT, context={"consent": REFUSE_ALL}),  # the refusal itself
            seg("k2", "a1", event=CONSENT_EVENT, context={"doNotTrack": True, "consent": REFUSE_ALL}),
            seg("k3", "a1", context={"doNotTrack": False}),
            seg("k4", "a1", context={"doNotTrack": "0"}),
            seg("k5", "a1", kind="page", context={"consent": SOME}),
            seg("k6", "a1", kind="page", context={"consent": {"categoryPreferences": {}}}),
            seg("q1", "a1", timestamp="yesterday"),
        ],
    )
    report = load_source(raw_only, SEGMENT, tmp_path, future_tolerance=DAY, workers=1)
    (load,) = report.files
    assert (load.records, load.inserted, load.do_not_track, load.quarantined, load.suppressed) == (12, 6, 5, 1, 0)
    assert rows(raw_only, "SELECT message_id FROM raw.segment_messages ORDER BY 1") == [
        ("k1",),
        ("k2",),
        ("k3",),
        ("k4",),
        ("k5",),
        ("k6",),
    ]
    assert rows(raw_only, "SELECT line_no FROM raw.quarantine") == [(12,)]
    assert rows(raw_only, "SELECT do_not_track, suppressed, inserted FROM raw.loaded_files") == [(5, 0, 6)]


def test_suppressed_identifiers_are_neither_stored_nor_quarantined(raw_only: str, tmp_path: Path) -> None:
    suppress(
        raw_only,
        ("anonymous_id", "anon-gone"),
        ("user_id", "u_gone"),
        ("email", "gone@mail.com"),
        ("email_provider_id", "c-gone"),
        ("shopify_customer_id", "6000000000009"),
        ("social_handle", "tiktok:gone.person"),
    )
    write_lines(
        tmp_path / "segment" / "s.jsonl",
        [
            seg("s1", "anon-gone"),
            seg("s2", "anon-other", userId="u_gone"),
            seg("s3", "anon-other", kind="identify", traits={"email": " Gone@Mail.COM"}),
            seg("s4", "anon-other", kind="alias", userId="u_new", previousId="anon-gone"),
            seg("s5", "anon-gone", timestamp="yesterday"),  # malformed and suppressed: suppressed
            '{"type":"page","anonymousId":"anon-gone","messageId":"s6"',  # unreadable, names them
            '{"type":"page","anonymousId":"ANON-GONE"',  # the raw text is searched case-insensitively
            seg("k1", "anon-other"),
            seg("k2", "anon-other", kind="identify", traits={"email": "not.gone@mail.com"}),
            '{"type":"page","anonymousId":"anon-gone-2","messageId":"q1"',  # a longer id: quarantined
        ],
    )
    write_lines(
        tmp_path / "sendgrid" / "e.jsonl",
        [
            json.dumps(
                {
                    "email": "x@mail.com",
                    "contact_id": "c-gone",
                    "event": "open",
                    "sg_event_id": "e1",
                    "timestamp": 1767225600,
                }
            ),
            json.dumps({"email": "x@mail.com", "event": "open", "sg_event_id": "e2", "timestamp": 1767225600}),
        ],
    )
    order = {"created_at": "2026-01-05T09:12:44Z", "total_price": "1.00", "currency": "USD", "line_items": []}
    write_lines(
        tmp_path / "shopify" / "o.jsonl",
        [
            json.dumps({**order, "id": 1, "customer": {"id": 6000000000009}}),
            json.dumps({**order, "id": 2, "email": "gone@mail.com"}),
            json.dumps({**order, "id": 3, "email": "kept@mail.com"}),
        ],
    )
    event = {"platform": "TikTok", "action": "like", "occurred_at": "2026-01-01T00:00:00Z"}
    write_lines(
        tmp_path / "social" / "x.jsonl",
        [
            json.dumps({**event, "event_id": "x1", "handle": "@Gone.Person"}),
            json.dumps({**event, "event_id": "x2", "handle": "@other", "email": "gone@mail.com"}),
            json.dumps({**event, "event_id": "x3", "handle": "@gone.person2"}),
        ],
    )
    loads = {
        source.name: load_source(raw_only, source, tmp_path, future_tolerance=DAY, workers=1).files[0]
        for source in JSON_SOURCES
    }
    got = {name: (f.inserted, f.suppressed, f.quarantined) for name, f in loads.items()}
    assert got == {"segment": (2, 7, 1), "sendgrid": (1, 1, 0), "shopify": (1, 2, 0), "social": (1, 2, 0)}
    assert rows(raw_only, "SELECT message_id FROM raw.segment_messages ORDER BY 1") == [("k1",), ("k2",)]
    assert rows(raw_only, "SELECT source, line_no FROM raw.quarantine") == [("segment", 10)]
    assert rows(raw_only, "SELECT source, suppressed FROM raw.loaded_files ORDER BY 1") == [
        ("segment", 7),
        ("sendgrid", 1),
        ("shopify", 2),
        ("social", 2),
    ]


def test_historical_orders_of_suppressed_customers_are_counted_not_stored(raw_only: str, tmp_path: Path) -> None:
    suppress(raw_only, ("shopify_customer_id", "c-gone"), ("email", "gone@mail.com"))
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,email,order_date,amount\n"
        "1,c-gone,,2025-01-02,1.00\n"
        "2,,GONE@mail.com ,2025-01-02,1.00\n"
        "3,c-kept,,2025-01-02,1.00\n"
        "4,c-gone,,yesterday,1.00\n"  # bad date, but suppressed: not quarantined
        "5,c-gone\n"  # broken row naming them: not quarantined
        "6,c-kept\n"  # broken row: quarantined
    )
    with connection(raw_only) as conn:
        load = load_orders_csv(conn, path)
    assert (load.records, load.inserted, load.suppressed, load.quarantined) == (6, 1, 4, 1)
    assert rows(raw_only, "SELECT order_id FROM raw.historical_orders") == [("3",)]
    assert rows(raw_only, "SELECT line_no FROM raw.quarantine") == [(7,)]


def test_the_suppression_check_is_compiled_only_when_asked() -> None:
    for source in JSON_SOURCES:
        assert "privacy." not in compile_load_statement(source).replace("privacy.refuses_every_category", "")
        with_check = compile_load_statement(source, suppression=True)
        n = len(source.identifiers)
        assert f"AS suppression_key_{n - 1}" in with_check and f"suppression_key_{n}" not in with_check
        # one hash per distinct value of the file, one look-up in the list
        assert with_check.count("privacy.identifier_sha256(") == with_check.count("privacy.suppressed_identifiers") == 1
        assert "privacy.mentions_suppressed(l.body)" in with_check
    assert "privacy." not in compile_orders_load()
    assert "customer_id AS suppression_key_0" in compile_orders_load(suppression=True)


def test_per_record_suppression_look_ups_are_hashed_even_without_statistics(raw_only: str) -> None:
    """A look-up into a set the planner thinks is as large as the file would be a scan per
    record (a 400k-line file took 170 s instead of 11 s): every per-record one must be hashed."""
    import re
    from datetime import UTC, datetime, timedelta

    with connection(raw_only) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '64kB'")  # a small server: only tiny sets are hashed
        cur.execute("CREATE TEMP TABLE landing_lines (line_no bigint GENERATED ALWAYS AS IDENTITY, body text)")
        cur.execute("INSERT INTO landing_lines (body) SELECT %s FROM generate_series(1, 50000)", (seg("m", "a"),))
        params = {
            "source": "segment",
            "file_path": "x",
            "file_sha256": "x",
            "loaded_at": datetime.now(UTC),
            "future_tolerance": timedelta(days=1),
            "skip_lines": [],
        }
        cur.execute("EXPLAIN " + compile_load_statement(SEGMENT, suppression=True), params)
        plan = "\n".join(row[0] for row in cur.fetchall())
        conn.rollback()
    filters = [line for line in plan.splitlines() if "Filter:" in line and "SubPlan" in line]
    assert len(filters) >= 2  # candidates and landed at least
    assert not [f for f in filters if re.search(r"(?<!hashed )SubPlan \d+", f)], plan
