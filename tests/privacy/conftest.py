"""Two people in every table: Jane (to be erased) and Mary, whose email and handle contain
Jane's (mary.jane.doe@mail.com, @mary.jane.doe), plus a shared family tablet and a junk user id.

Raw tables are loaded by the real loaders from landing files; the identity and marts tables are
minimal stand-ins in the shape of the interface (identity_map with profile_id uuid, the profile
registry, merges, manual operations, marts.audience_events partitioned by month).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.loader import FileLoad, SourceLoad, load_directory, load_source
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.warehouse.connection import bootstrap, connection
from tests.conftest import write_lines

DAY = timedelta(days=1)
JANE, JANE_OLD = "11111111-1111-4111-8111-111111111111", "11111111-1111-4111-8111-000000000000"
MARY, MARY_OLD = "22222222-2222-4222-8222-222222222222", "22222222-2222-4222-8222-000000000000"
TABLET, OTHER = "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"
JANE_EMAIL, MARY_EMAIL = "jane.doe@mail.com", "mary.jane.doe@mail.com"

# (type, normalised value) of each person, as the identity map holds them
JANE_IDS = [
    ("anonymous_id", "anon-jane-web-0001"),
    ("anonymous_id", "anon-jane-app-0002"),
    ("user_id", "u_jane_000001"),
    ("email", JANE_EMAIL),
    ("phone", "+14155550123"),
    ("device_id", "dev-jane-ipad-01"),
    ("shopify_customer_id", "6000000000001"),
    ("shopify_order_id", "4000000000001"),
    ("email_provider_id", "contact-jane-0001"),
    ("social_handle", "instagram:jane.doe"),
]
MARY_IDS = [
    ("anonymous_id", "anon-mary-web-0001"),
    ("user_id", "u_mary_000001"),
    ("email", MARY_EMAIL),
    ("shopify_customer_id", "6000000000002"),
    ("shopify_order_id", "4000000000002"),
    ("email_provider_id", "contact-mary-0001"),
    ("social_handle", "instagram:mary.jane.doe"),
]
# tokens that, found in a row's text, mean the row is about Jane
JANE_TOKENS = [v for k, v in JANE_IDS if k not in ("social_handle", "phone")] + [
    "@jane.doe",
    "555-0123",
    JANE,
    JANE_OLD,
]
_BOUNDARY = "a-z0-9_.@+-"


def mentions_jane(text: str) -> bool:
    """Whether text names one of Jane's identifiers as a whole token (lower-cased)."""
    lowered = text.lower()
    return any(re.search(f"(^|[^{_BOUNDARY}]){re.escape(t.lower())}($|[^{_BOUNDARY}])", lowered) for t in JANE_TOKENS)


def seg(message_id: str, anonymous_id: str, *, kind: str = "track", **fields: object) -> str:
    message = {
        "type": kind,
        "messageId": message_id,
        "anonymousId": anonymous_id,
        "timestamp": "2026-03-01T10:00:00.000Z",
        "receivedAt": "2026-03-01T10:00:01.000Z",
        "context": {"ip": "10.0.0.1"},
    }
    if kind == "track":
        message["event"] = "Product Viewed"
    message.update(fields)
    return json.dumps(message)


def write_landing(root: Path) -> dict[str, int]:
    """The scenario's landing files; returns how many records in them are Jane's."""
    web = {"ip": "10.0.0.1"}
    consent_all_false = {"categoryPreferences": {"Advertising": False, "Analytics": False}}
    segment = [
        # Jane
        seg(
            "j1",
            "anon-jane-web-0001",
            kind="identify",
            userId="u_jane_000001",
            traits={"email": " Jane.Doe@Mail.com ", "phone": "(415) 555-0123"},
        ),
        seg("j2", "anon-jane-web-0001", kind="page", name="Home"),
        seg(
            "j3",
            "anon-jane-app-0002",
            kind="screen",
            name="Cart",
            context={"device": {"id": "dev-jane-ipad-01", "type": "ios"}},
        ),
        seg(
            "j4",
            "anon-jane-web-0001",
            userId="u_jane_000001",
            event="Order Completed",
            properties={"order_id": "4000000000001", "total": 10},
        ),
        seg(
            "j5",
            "anon-jane-web-0001",
            userId="u_jane_000001",
            event="Segment Consent Preference Updated",
            context={**web, "consent": consent_all_false},
        ),
        seg("j6", "anon-family-0001", userId="u_jane_000001", kind="page", name="Tablet"),
        seg("j7", "anon-unknown-0777", event="Newsletter Form", properties={"email": "JANE.DOE@mail.com"}),
        '{"type":"identify","messageId":"jbad","anonymousId":"anon-x","traits":{"email":"jane.doe@mail.com"',
        # Mary (and the tablet, and junk)
        seg("m1", "anon-mary-web-0001", kind="identify", userId="u_mary_000001", traits={"email": MARY_EMAIL}),
        seg("m2", "anon-mary-web-0001", kind="page", name="Home", properties={"search": "jane.doe"}),
        seg("m3", "anon-family-0001", userId="u_mary_000001", kind="page", name="Tablet"),
        seg("m4", "anon-family-0001", kind="page", name="Tablet anonymous"),
        seg("x1", "anon-junk-0001", userId="null"),
        '{"type":"identify","messageId":"mbad","anonymousId":"anon-y","traits":{"email":"mary.jane.doe@mail.com"',
    ]
    sendgrid = [
        {
            "email": "jane.doe@mail.com",
            "timestamp": 1767225600,
            "event": "open",
            "sg_event_id": "sj1",
            "contact_id": "contact-jane-0001",
        },
        {"email": " JANE.DOE@mail.com", "timestamp": 1767225601, "event": "click", "sg_event_id": "sj2"},
        {
            "email": MARY_EMAIL,
            "timestamp": 1767225602,
            "event": "open",
            "sg_event_id": "sm1",
            "contact_id": "contact-mary-0001",
        },
    ]
    order = {"created_at": "2026-01-05T09:12:44-05:00", "total_price": "10.00", "currency": "USD", "line_items": []}
    shopify = [
        {
            **order,
            "id": 4000000000001,
            "email": "jane.doe@mail.com",
            "customer": {"id": 6000000000001, "email": "jane.doe@mail.com", "phone": "415-555-0123"},
            "line_items": [{"id": 11, "quantity": 1, "price": "10.00"}],
        },
        {
            **order,
            "id": 4000000000002,
            "email": MARY_EMAIL,
            "customer": {"id": 6000000000002, "email": MARY_EMAIL},
            "line_items": [{"id": 12, "quantity": 1, "price": "10.00"}],
        },
    ]
    social = [
        {
            "event_id": "sj1",
            "platform": "Instagram",
            "action": "like",
            "handle": "@jane.doe",
            "occurred_at": "2026-01-01T00:00:00Z",
        },
        {
            "event_id": "sm1",
            "platform": "instagram",
            "action": "comment",
            "handle": "@mary.jane.doe",
            "occurred_at": "2026-01-01T00:00:00Z",
            "comment_text": "hi friend",
        },
    ]
    write_lines(root / "segment" / "s.jsonl", segment)
    write_lines(root / "sendgrid" / "e.jsonl", [json.dumps(r) for r in sendgrid])
    write_lines(root / "shopify" / "o.jsonl", [json.dumps(r) for r in shopify])
    write_lines(root / "social" / "x.jsonl", [json.dumps(r) for r in social])
    write_lines(
        root / "historical_orders" / "h.csv",
        [
            "order_id,customer_id,email,order_date,amount,currency",
            "1001,6000000000001,JANE.DOE@MAIL.COM,2025-01-02,12.50,USD",
            "1002,6000000000002,mary.jane.doe@mail.com,2025-01-03,7.00,USD",
            "1003,6000000000001,jane.doe@mail.com",  # broken row: quarantined by the reader
        ],
    )
    # one "mentions Jane" comment aside, Jane's records are her own lines
    return {"segment": 8, "sendgrid": 2, "shopify": 1, "social": 1, "historical_orders": 2}


def load_all(url: str, landing: Path) -> list[FileLoad]:
    reports: list[SourceLoad] = [
        load_source(url, source, landing, future_tolerance=DAY, workers=1) for source in JSON_SOURCES
    ]
    reports.append(load_directory(url, "historical_orders", landing / "historical_orders", "csv", load_orders_csv))
    return [f for report in reports for f in report.files]


# looser stand-ins for identity's tables (bootstrap's real ones are dropped first) and dbt's
STANDINS = f"""
DROP SCHEMA IF EXISTS identity CASCADE;
CREATE SCHEMA identity;
CREATE SCHEMA IF NOT EXISTS intermediate;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE identity.identity_map (
    identifier_type text NOT NULL, identifier_value text NOT NULL, profile_id uuid,
    shared_device boolean NOT NULL, blocked boolean NOT NULL,
    first_seen_at timestamptz, last_seen_at timestamptz,
    PRIMARY KEY (identifier_type, identifier_value)
);
CREATE TABLE identity.profiles (
    profile_id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), status text NOT NULL,
    merged_into uuid, retired_at timestamptz, current_profile_id uuid
);
CREATE TABLE identity.profile_merges (
    merge_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, retired_profile_id uuid, survivor_profile_id uuid,
    kind text, evidence jsonb, recorded_at timestamptz DEFAULT now()
);
CREATE TABLE identity.manual_operations (
    op_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, op_type text, primary_profile_id uuid,
    secondary_profile_id uuid, identifiers jsonb, reason text, requested_by text,
    requested_at timestamptz DEFAULT now(), active boolean DEFAULT true
);
CREATE TABLE identity.dropped_edges (
    left_type text, left_value text, right_type text, right_value text, edge_source text, reason text
);
CREATE TABLE intermediate.int_identity_edges (
    left_type text, left_value text, right_type text, right_value text, edge_source text,
    first_seen_at timestamptz, observations bigint
);
CREATE TABLE marts.audience_profile_base (
    id uuid PRIMARY KEY, email text UNIQUE, phone text, external_ids jsonb DEFAULT '{{}}',
    first_name text, gdpr_consent boolean DEFAULT false, gdpr_consent_date timestamptz,
    do_not_track boolean DEFAULT false
);
CREATE TABLE marts.audience_events (
    id uuid DEFAULT gen_random_uuid(), profile_id uuid, anonymous_id text, event_type text NOT NULL,
    properties jsonb DEFAULT '{{}}', occurred_at timestamptz, created_at timestamptz NOT NULL
) PARTITION BY RANGE (created_at);
CREATE TABLE marts.audience_events_2026_01 PARTITION OF marts.audience_events
    FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE marts.audience_events_2026_02 PARTITION OF marts.audience_events
    FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');

INSERT INTO identity.profiles (profile_id, status, merged_into, retired_at, current_profile_id) VALUES
    ('{JANE}', 'active', NULL, NULL, '{JANE}'),
    ('{JANE_OLD}', 'merged', '{JANE}', '2026-02-01', '{JANE}'),
    ('{MARY}', 'active', NULL, NULL, '{MARY}'),
    ('{MARY_OLD}', 'merged', '{MARY}', '2026-02-01', '{MARY}'),
    ('{TABLET}', 'active', NULL, NULL, '{TABLET}'),
    ('{OTHER}', 'active', NULL, NULL, '{OTHER}');
INSERT INTO identity.identity_map (identifier_type, identifier_value, profile_id, shared_device, blocked)
SELECT t, v, '{JANE}'::uuid, false, false FROM unnest(%(jane_types)s::text[], %(jane_values)s::text[]) AS i (t, v)
UNION ALL
SELECT t, v, '{MARY}'::uuid, false, false FROM unnest(%(mary_types)s::text[], %(mary_values)s::text[]) AS i (t, v)
UNION ALL VALUES
    ('anonymous_id', 'anon-family-0001', '{TABLET}'::uuid, true, false),
    ('user_id', 'null', NULL, false, true);
INSERT INTO identity.profile_merges (retired_profile_id, survivor_profile_id, kind, evidence) VALUES
    ('{JANE_OLD}', '{JANE}', 'email', '{{"email": "jane.doe@mail.com", "anonymous_id": "anon-jane-app-0002"}}'),
    ('{MARY_OLD}', '{MARY}', 'email', '{{"email": "mary.jane.doe@mail.com"}}'),
    ('{OTHER}', '{MARY}', 'rejected', '{{"conflict": "u_jane_000001", "email": "mary.jane.doe@mail.com"}}');
INSERT INTO identity.manual_operations (op_type, primary_profile_id, secondary_profile_id, identifiers, reason) VALUES
    ('merge', '{JANE}', '{JANE_OLD}', '[]', 'support ticket'),
    ('block', '{MARY}', NULL, '["mary.jane.doe@mail.com"]', 'typo'),
    ('split', '{OTHER}', NULL, '["jane.doe@mail.com"]', 'wrong link');
INSERT INTO identity.dropped_edges VALUES
    ('anonymous_id', 'anon-family-0001', 'user_id', 'u_jane_000001', 'segment.message', 'shared_device'),
    ('anonymous_id', 'anon-family-0001', 'user_id', 'u_mary_000001', 'segment.message', 'shared_device');
INSERT INTO intermediate.int_identity_edges VALUES
    ('user_id', 'u_jane_000001', 'email', 'jane.doe@mail.com', 'segment.identify', '2026-03-01', 1),
    ('shopify_customer_id', '6000000000001', 'phone', '415-555-0123', 'shopify.customer', '2026-01-05', 1),
    ('user_id', 'u_mary_000001', 'email', 'mary.jane.doe@mail.com', 'segment.identify', '2026-03-01', 1),
    ('device_id', 'dev-family-tablet', 'anonymous_id', 'anon-family-0001', 'segment.context.device', '2026-03-01', 2);
INSERT INTO marts.audience_profile_base (id, email, phone, first_name, gdpr_consent, do_not_track) VALUES
    ('{JANE}', 'jane.doe@mail.com', '+14155550123', 'Jane', false, true),
    ('{MARY}', 'mary.jane.doe@mail.com', NULL, 'Mary', true, false);
INSERT INTO marts.audience_events (profile_id, anonymous_id, event_type, created_at) VALUES
    ('{JANE}', 'anon-jane-web-0001', 'page_view', '2026-01-10'),
    ('{JANE_OLD}', 'anon-jane-app-0002', 'screen_view', '2026-02-10'),
    (NULL, 'anon-jane-web-0001', 'page_view', '2026-02-11'),
    ('{MARY}', 'anon-mary-web-0001', 'page_view', '2026-01-10'),
    (NULL, 'anon-family-0001', 'page_view', '2026-02-12');
INSERT INTO marts.predictions (profile_id, prediction_type, predicted_value) VALUES
    ('{JANE}', 'churn', 0.2), ('{MARY}', 'churn', 0.4);
-- segments and cohorts (tables created by bootstrap)
INSERT INTO marts.micro_segments (id, name, slug, segment_type)
    VALUES ('55555555-5555-4555-8555-555555555555', 'VIP', 'vip', 'manual');
INSERT INTO marts.segment_membership (profile_id, segment_id, source) VALUES
    ('{JANE}', '55555555-5555-4555-8555-555555555555', 'manual'),
    ('{MARY}', '55555555-5555-4555-8555-555555555555', 'import');
INSERT INTO marts.segment_membership_changes (segment_id, profile_id, change, source, reason, changed_at) VALUES
    ('55555555-5555-4555-8555-555555555555', '{JANE}', 'entered', 'manual', 'manual', '2026-03-01'),
    ('55555555-5555-4555-8555-555555555555', '{JANE_OLD}', 'exited', 'automatic', 'refresh', '2026-02-01'),
    ('55555555-5555-4555-8555-555555555555', '{MARY}', 'entered', 'import', 'import', '2026-03-01');
INSERT INTO marts.cohort_definitions (id, name, cohort_type, entry_criteria)
    VALUES ('66666666-6666-4666-8666-666666666666', 'All', 'acquisition', '{{"date_field": "first_seen_at"}}');
INSERT INTO marts.cohort_membership (cohort_id, profile_id, cohort_period_start, entered_at) VALUES
    ('66666666-6666-4666-8666-666666666666', '{JANE}', '2026-01-01', '2026-01-10'),
    ('66666666-6666-4666-8666-666666666666', '{MARY}', '2026-01-01', '2026-01-10');
"""

# every table the scenario fills, for the checks
SCENARIO_TABLES = (
    "raw.segment_messages",
    "raw.sendgrid_events",
    "raw.shopify_orders",
    "raw.social_events",
    "raw.historical_orders",
    "raw.quarantine",
    "intermediate.int_identity_edges",
    "identity.identity_map",
    "identity.dropped_edges",
    "identity.profile_merges",
    "identity.manual_operations",
    "identity.profiles",
    "marts.audience_profile_base",
    "marts.audience_events",
    "marts.predictions",
    "marts.segment_membership",
    "marts.segment_membership_changes",
    "marts.cohort_membership",
)


@dataclass(frozen=True)
class Scenario:
    url: str
    landing: Path
    jane_records: dict[str, int]


def reset_privacy(url: str) -> None:
    with connection(url) as conn, conn.cursor() as cur:
        for schema in ("privacy", "marts"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(url)


@pytest.fixture()
def raw_only(empty_raw: str) -> Iterator[str]:
    """The warehouse with empty raw and privacy schemas; privacy is dropped again afterwards
    so no suppression leaks into other tests on this database."""
    reset_privacy(empty_raw)
    yield empty_raw
    with connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE privacy.suppressed_identifiers")
        cur.execute("DROP TABLE IF EXISTS privacy.erasure_requests")


@pytest.fixture()
def scenario(raw_only: str, tmp_path: Path) -> Scenario:
    landing = tmp_path / "landing"
    jane_records = write_landing(landing)
    load_all(raw_only, landing)
    with connection(raw_only) as conn, conn.cursor() as cur:
        cur.execute(
            STANDINS,
            {
                "jane_types": [k for k, _ in JANE_IDS],
                "jane_values": [v for _, v in JANE_IDS],
                "mary_types": [k for k, _ in MARY_IDS],
                "mary_values": [v for _, v in MARY_IDS],
            },
        )
    return Scenario(raw_only, landing, jane_records)


def table_rows(url: str, table: str) -> list[str]:
    """Every row of a table as its text, sorted (for exact before/after comparisons)."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT t::text FROM {table} AS t")
        return sorted(r[0] for r in cur.fetchall())
