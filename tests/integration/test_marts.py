"""audience_events and audience_profiles end to end: hand-written landing files → Dagster job
(ingest, dbt staging, identity, dbt marts) on the embedded PostgreSQL, twice.

The landing set is small enough to count by hand, and every expectation below is derived
from it independently of the SQL under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from audience_dagster.config import DBT_PROJECT_DIR
from audience_dagster.runtime import prepare_runtime
from audience_dagster.warehouse.connection import bootstrap, connection
from tests.conftest import clear_landing, write_lines

pytestmark = pytest.mark.integration

ADA_EMAIL = "ada@lovelace.dev"
ORDER_ID = 4000000000001  # in Shopify and, again, in the historical CSV
OLD_ORDER_ID = 1001  # only in the historical CSV
CUSTOMER_ID = 6000000000001


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def segment(message_id: str, kind: str, when: str, anonymous_id: str, user_id: str | None = None, **body) -> str:
    moment = at(when)
    message = {
        "type": kind,
        "messageId": message_id,
        "anonymousId": anonymous_id,
        "timestamp": iso(moment),
        "sentAt": iso(moment),
        "receivedAt": iso(moment),
        "context": {
            "ip": "203.0.113.9",
            "locale": "en-GB",
            "timezone": "Europe/London",
            "library": {"name": "analytics.js", "version": "2.11.1"},
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        },
        **body,
    }
    if user_id:
        message["userId"] = user_id
    return json.dumps(message)


def page(message_id: str, when: str, anonymous_id: str, user_id: str | None = None, path: str = "/") -> str:
    url = f"https://shop.example.dev{path}"
    return segment(message_id, "page", when, anonymous_id, user_id, name="Home", properties={"url": url, "path": path})


# Ada browses anonymously on anon-a (two sessions), identifies, then buys; C opts out of
# tracking; B never identifies.
SEGMENT = [
    page("a1", "2026-01-10 10:00:00", "anon-a", path="/c/books"),
    segment(
        "a2",
        "track",
        "2026-01-10 10:01:00",
        "anon-a",
        event="Product Viewed",
        properties={"product_id": "8104000000001", "category": "books", "price": 12.5},
    ),
    page("a3", "2026-01-10 10:05:00", "anon-a", path="/p/atlas"),
    page("a4", "2026-01-10 12:00:00", "anon-a"),  # 2 hours later: a second session
    segment(
        "a5",
        "identify",
        "2026-02-03 09:00:00",
        "anon-a",
        "u-a",
        traits={
            "email": " Ada@Lovelace.dev ",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "address": {"city": "London", "state": "England", "country": "GB"},
        },
    ),
    page("a6", "2026-02-03 09:05:00", "anon-a", "u-a", path="/checkout"),
    segment(
        "a7",
        "track",
        "2026-02-03 09:10:00",
        "anon-a",
        "u-a",
        event="Order Completed",
        properties={"order_id": str(ORDER_ID), "revenue": 80.0, "total": 87.2, "currency": "USD"},
    ),
    page("b1", "2026-03-01 08:00:00", "anon-b"),
    segment("c1", "identify", "2026-03-02 09:00:00", "anon-c", "u-c", traits={"email": "cy@lovelace.dev"}),
    page("c2", "2026-03-02 09:30:00", "anon-c", "u-c"),
    segment(
        "c3",
        "track",
        "2026-03-02 10:00:00",
        "anon-c",
        "u-c",
        event="Segment Consent Preference Updated",
        properties={},
        context={"consent": {"categoryPreferences": {"Advertising": False, "Analytics": False}}},
    ),
    page("c4", "2026-03-02 10:05:00", "anon-c", "u-c"),  # after the opt-out: not kept
]
ADA_SEGMENT = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]
ADA_PAGES = ["a1", "a3", "a4", "a6"]
ADA_SESSIONS = 3  # 10:00-10:05, 12:00, 09:00-09:10 (next month)

SHOPIFY = [
    json.dumps(
        {
            "id": ORDER_ID,
            "name": "#1001",
            "email": ADA_EMAIL,
            "created_at": "2026-02-03T09:10:00+00:00",
            "currency": "USD",
            "subtotal_price": "80.00",
            "total_discounts": "0.00",
            "total_tax": "7.20",
            "total_price": "87.20",
            "financial_status": "paid",
            "landing_site": "/p/atlas?utm_source=newsletter&utm_medium=email&utm_campaign=weekly",
            "customer": {
                "id": CUSTOMER_ID,
                "email": ADA_EMAIL,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "default_address": {"city": "Paris", "province": None, "country_code": "FR"},
            },
            "line_items": [
                {"id": 1, "product_id": 8104000000001, "quantity": 1, "price": "80.00", "product_type": "books"}
            ],
        }
    )
]
HISTORICAL_CSV = (
    "order_id,customer_id,email,order_date,amount,currency\n"
    f"{OLD_ORDER_ID},{CUSTOMER_ID},{ADA_EMAIL},2025-12-01,12.50,USD\n"
    f"{ORDER_ID},{CUSTOMER_ID},{ADA_EMAIL},2026-02-03,87.20,USD\n"  # the Shopify order again
)
ADA_REVENUE = "99.70"  # 87.20 (Shopify) + 12.50 (old order); the CSV copy of the Shopify order is not counted


def sendgrid(event_id: str, event: str, when: str, **extra) -> str:
    return json.dumps(
        {
            "email": ADA_EMAIL,
            "timestamp": int(at(when).timestamp()),
            "event": event,
            "sg_event_id": event_id,
            "sg_message_id": "msg-1.filter0001.1",
            "contact_id": "contact-ada",
            "marketing_campaign_id": 12000,
            "marketing_campaign_name": "Weekly Picks",
            "category": ["newsletter"],
            **extra,
        }
    )


SENDGRID = [
    sendgrid("e1", "processed", "2026-02-10 14:00:00"),
    sendgrid("e2", "delivered", "2026-02-10 14:00:05"),
    sendgrid("e3", "open", "2026-02-10 15:00:00"),
    sendgrid("e4", "open", "2026-02-11 08:00:00"),  # the same message opened twice
    sendgrid("e5", "click", "2026-02-11 08:01:00", url="https://shop.example.dev/p/atlas"),
]
SOCIAL = [
    json.dumps(
        {
            "event_id": "s1",
            "platform": "instagram",
            "action": "like",
            "handle": "@Ada_L",
            "occurred_at": "2026-02-20T12:00:00Z",
            "post_id": "17900000000000001",
            "email": ADA_EMAIL,
        }
    )
]
ADA_EVENTS = len(ADA_SEGMENT) + 1 + 1 + len(SENDGRID) + 1  # segment, shopify, old order, email, social
MONTHS = {"2025_12", "2026_01", "2026_02", "2026_03"}


def write_landing(landing: Path) -> None:
    write_lines(landing / "segment" / "part-1.jsonl", SEGMENT)
    write_lines(landing / "shopify" / "part-1.jsonl", SHOPIFY)
    write_lines(landing / "sendgrid" / "part-1.jsonl", SENDGRID)
    write_lines(landing / "social" / "part-1.jsonl", SOCIAL)
    (landing / "historical_orders").mkdir(parents=True, exist_ok=True)
    (landing / "historical_orders" / "orders.csv").write_text(HISTORICAL_CSV)


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def refresh() -> dg.ExecuteInProcessResult:
    from audience_dagster.definitions import defs

    job = defs.resolve_job_def("audience_refresh")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


@pytest.fixture(scope="module")
def built(warehouse_url: str) -> Iterator[str]:
    """The hand-written landing set in an empty warehouse, materialised once through the whole
    job (module scope: the job takes a while; the tests only read, the rebuild test keeps data)."""
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity", "marts"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(warehouse_url)
    write_landing(clear_landing())
    prepare_runtime()
    result = refresh()
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [e.event_specific_data.check_name for e in checks if not e.event_specific_data.passed]
    assert result.success, "the job failed"
    assert failed == []
    yield warehouse_url


def events_of(url: str, source_record_ids: list[str]) -> dict[str, tuple]:
    found = rows(
        url,
        "SELECT source_record_id, profile_id, session_id, session_sequence FROM marts.audience_events"
        " WHERE source_system = 'segment' AND source_record_id = ANY(%s)",
        (source_record_ids,),
    )
    return {r[0]: r[1:] for r in found}


def ada_profile_id(url: str) -> str:
    [(profile_id,)] = rows(url, "SELECT id FROM marts.audience_profiles WHERE email = %s", (ADA_EMAIL,))
    return profile_id


def test_anonymous_history_joins_the_profile_once_the_visitor_identifies(built: str) -> None:
    ada = ada_profile_id(built)
    events = events_of(built, ADA_SEGMENT)
    assert set(events) == set(ADA_SEGMENT)
    # the four events from before the identify carry the person's profile too
    assert {profile for profile, _, _ in events.values()} == {ada}
    # email, orders and social resolve to the same person
    by_source = dict(
        rows(built, "SELECT source, count(*) FROM marts.audience_events WHERE profile_id = %s GROUP BY 1", (ada,))
    )
    assert by_source == {"website": len(ADA_SEGMENT), "shopify": 1, "store": 1, "email": len(SENDGRID), "social": 1}
    # a visitor who never identifies gets an anonymous profile of their own, and a session
    [(profile, session)] = rows(
        built, "SELECT profile_id, session_id FROM marts.audience_events WHERE source_record_id = 'b1'"
    )
    assert profile is not None and profile != ada and session is not None
    [(email, total_events)] = rows(
        built, "SELECT email, total_events FROM marts.audience_profiles WHERE id = %s", (profile,)
    )
    assert email is None and total_events >= 1


def test_sessions_split_after_30_minutes_of_inactivity(built: str) -> None:
    events = events_of(built, ADA_SEGMENT)
    sessions = [events[m][1] for m in ADA_SEGMENT]
    assert sessions[0] == sessions[1] == sessions[2]  # 10:00, 10:01, 10:05
    assert len({sessions[0], sessions[3], sessions[4]}) == 3  # 12:00, then next month
    assert sessions[4] == sessions[5] == sessions[6]
    assert [events[m][2] for m in ADA_SEGMENT] == [1, 2, 3, 1, 1, 2, 3]


def test_a_purchase_appears_once_with_its_revenue(built: str) -> None:
    ada = ada_profile_id(built)
    purchases = rows(
        built,
        "SELECT source, properties ->> 'order_id', revenue::text FROM marts.audience_events"
        " WHERE event_type = 'purchase' ORDER BY occurred_at",
    )
    assert purchases == [("store", str(OLD_ORDER_ID), "12.50"), ("shopify", str(ORDER_ID), "87.20")]
    # the web checkout's Order Completed stays an event, without revenue
    assert rows(
        built, "SELECT revenue, profile_id FROM marts.audience_events WHERE event_type = 'order_completed'"
    ) == [(None, ada)]
    [(orders, revenue, average, last_order)] = rows(
        built,
        "SELECT total_orders, total_revenue::text, average_order_value::text, last_order_at"
        " FROM marts.audience_profiles WHERE id = %s",
        (ada,),
    )
    assert (orders, revenue, average, last_order) == (2, ADA_REVENUE, "49.85", at("2026-02-03 09:10:00"))


def test_profile_aggregates_equal_independent_counts(built: str) -> None:
    ada = ada_profile_id(built)
    [profile] = rows(
        built,
        "SELECT total_events, total_pageviews, total_sessions, emails_received, emails_opened, emails_clicked,"
        " email_subscribed, first_name, last_name, city, country, timezone, external_ids, first_seen_at,"
        " last_seen_at, acquisition_source, interests, preferred_channels, do_not_track, lifecycle_stage,"
        " wtp_score FROM marts.audience_profiles WHERE id = %s",
        (ada,),
    )
    assert profile[:7] == (ADA_EVENTS, len(ADA_PAGES), ADA_SESSIONS, 1, 1, 1, True)
    # latest known value wins: the Shopify customer record (Feb 3, 09:10) is newer than the
    # identify (09:00), so the address is Paris/FR; the names agree
    assert profile[7:12] == ("Ada", "Lovelace", "Paris", "FR", "Europe/London")
    assert profile[12] == {
        "shopify_id": str(CUSTOMER_ID),
        "email_provider_id": "contact-ada",
        "user_id": "u-a",
        "social": {"instagram": "ada_l"},
    }
    assert profile[13:16] == (at("2025-12-01 00:00:00"), at("2026-02-20 12:00:00"), "store")
    assert "books" in profile[16] and profile[17][0] == "web"
    # scored as of today (months after the data): a customer; WTP 50 + has_purchased 20
    # - low_engagement 10 (nothing in the last 30 days)
    assert profile[18:] == (False, "customer", 60)


def test_do_not_track_drops_behaviour_after_the_opt_out(built: str) -> None:
    kept = {
        r[0] for r in rows(built, "SELECT source_record_id FROM marts.audience_events WHERE source_record_id ~ '^c'")
    }
    assert kept == {"c1", "c2", "c3"}  # c4 came after every category was refused
    assert rows(
        built, "SELECT do_not_track, gdpr_consent FROM marts.audience_profiles WHERE email = 'cy@lovelace.dev'"
    ) == [(True, False)]


def test_events_are_partitioned_by_month_with_the_spec_indexes(built: str) -> None:
    [(kind,)] = rows(built, "SELECT relkind::text FROM pg_class WHERE oid = 'marts.audience_events'::regclass")
    assert kind == "p"
    partitions = {
        r[0]
        for r in rows(
            built,
            "SELECT relid::regclass::text FROM pg_partition_tree('marts.audience_events') WHERE isleaf",
        )
    }
    assert partitions == {f"marts.audience_events_{m}" for m in MONTHS} | {"marts.audience_events_default"}
    indexes = {r[0] for r in rows(built, "SELECT indexname FROM pg_indexes WHERE tablename = 'audience_events'")}
    assert {
        "idx_audience_events_profile",
        "idx_audience_events_anonymous",
        "idx_audience_events_type",
        "idx_audience_events_occurred",
        "idx_audience_events_session",
    } <= indexes
    # audience_profiles is a view of two tables; the spec's indexes are on the table with the column
    profile_indexes = {
        r[0]
        for r in rows(
            built,
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('audience_profile_base', 'profile_scores')",
        )
    }
    assert {
        "audience_profile_base_pkey",
        "idx_audience_profiles_email",
        "idx_audience_profiles_interests",
        "idx_audience_profiles_last_seen",
        "idx_audience_profiles_wtp",
        "idx_audience_profiles_engagement",
        "idx_audience_profiles_lifecycle",
    } <= profile_indexes


def test_rebuilding_keeps_event_ids_and_profile_ids(built: str) -> None:
    def snapshot() -> tuple[set, set, set]:
        events = set(rows(built, "SELECT id, profile_id, session_id FROM marts.audience_events"))
        profiles = set(rows(built, "SELECT id, email FROM marts.audience_profiles"))
        objects = set(rows(built, "SELECT relname FROM pg_class WHERE relnamespace = 'marts'::regnamespace"))
        return events, profiles, objects

    before = snapshot()
    assert refresh().success
    after = snapshot()
    assert after == before
    assert not any("dbt" in name or "_old_" in name for (name,) in after[2])


def test_documented_columns_are_the_real_columns(built: str) -> None:
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    mine = (
        "models/staging/identity/",
        "models/intermediate/events/",
        "models/intermediate/profiles/",
        "models/marts/",
        "models/staging/scoring/",
        "models/staging/predictions/",
        "models/staging/segments/",
    )
    checked = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or not node["original_file_path"].startswith(mine):
            continue
        real = [
            r[0]
            for r in rows(
                built,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
                " ORDER BY ordinal_position",
                (node["schema"], node["alias"]),
            )
        ]
        assert list(node["columns"]) == real, node["name"]
        assert node["description"] and all(c["description"] for c in node["columns"].values()), node["name"]
        checked += 1
    # identity staging 2, events 9 (5 per source), profiles 9 (6 per topic), marts/audience 3,
    # the five reports, the six staging views of Python-written tables (scoring, predictions,
    # segments)
    assert checked == 34


def test_dbt_assets_split_around_the_python_assets() -> None:
    prepare_runtime()
    from audience_dagster.definitions import defs

    graph = defs.resolve_asset_graph()
    marts = dg.AssetKey(["marts", "audience_events"])
    profiles = dg.AssetKey(["marts", "audience_profiles"])
    identity = dg.AssetKey(["identity", "identity_map"])
    assert identity in graph.get(dg.AssetKey(["staging", "stg_identity__identifiers"])).parent_keys
    assert identity in graph.get(dg.AssetKey(["staging", "stg_identity__profiles"])).parent_keys
    assert graph.get(marts).group_name == graph.get(profiles).group_name == "profiles"
    # dbt stages: the marts are not in the one the identity asset depends on, and the profile view
    # (scores + predictions) is built by a stage of its own, after the scores
    upstream = graph.get(dg.AssetKey(["intermediate", "int_identity_edges"])).assets_def
    downstream = graph.get(marts).assets_def
    view = graph.get(profiles).assets_def
    assert len({id(upstream), id(downstream), id(view)}) == 3
    assert marts not in upstream.keys and profiles not in downstream.keys
    # the view reads the Python-written scores and predictions through their staging views
    scores_view = dg.AssetKey(["staging", "stg_scoring__profile_scores"])
    predictions_view = dg.AssetKey(["staging", "stg_predictions__predictions"])
    assert {scores_view, predictions_view} <= graph.get(profiles).parent_keys
    assert dg.AssetKey(["scoring", "profile_scores"]) in graph.get(scores_view).parent_keys
    assert dg.AssetKey(["predictions", "profile_predictions"]) in graph.get(predictions_view).parent_keys
    assert graph.get(scores_view).assets_def is view  # built by the profile view's stage, after the scores
    assert graph.get(marts).automation_condition is not None
