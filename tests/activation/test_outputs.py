"""Recommendations, next best actions and offers on the real PostgreSQL, and the three of them
in the profile API's statement (the one `audience serve` runs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from audience_dagster.activation.definitions import BOUGHT_RECOMMENDED
from audience_dagster.activation.marts import build_next_best_actions, build_price_offers
from audience_dagster.activation.pricing import policy_from_mapping
from audience_dagster.activation.recommendations import build_recommendations
from audience_dagster.collector.profiles import SECTIONS, compile_profile_query, parse_request
from audience_dagster.warehouse.connection import connection

pytestmark = pytest.mark.integration

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
POLICY = policy_from_mapping(
    {
        "guardrails": {"max_discount_pct": 15, "full_price_lookback_days": 30, "require_consent": True},
        "sensitivity_prior_orders": 1,
        "tiers": [
            {"name": "premium", "wtp_min": 70, "sensitivity_max": 0.3, "offer": "premium_bundle"},
            {"name": "sensitive", "sensitivity_min": 0.5, "offer": "discount", "discount_pct": 15},
            {"name": "default", "offer": "full_price"},
        ],
    },
    "test policy",
)


def event(shop, name: str, kind: str, product: str, days_ago: float, discount: str = "0.00") -> None:
    properties = (
        {"products": [{"product_id": product}], "total_discounts": discount}
        if kind == "purchase"
        else {"product_id": product}
    )
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO marts.audience_events (profile_id, event_type, properties, occurred_at)"
            " VALUES (%s, %s, %s, %s)",
            (shop.people[name], kind, json.dumps(properties), AS_OF - timedelta(days=days_ago)),
        )


@pytest.fixture()
def store(shop):
    shop.add_person("ann", wtp=85, orders=3)  # bought p1 at full price three times, viewed p2
    shop.add_person("bob", wtp=65)  # never bought; viewed p1 p2 p3
    shop.add_person("cat", consent=False, wtp=30, orders=2)  # bought p1 and p3 with discounts
    shop.add_person("dan", wtp=20, orders=3)  # always with a discount, p4 p5; long ago
    shop.add_person("eve", wtp=50)  # nothing at all: a cold start
    shop.add_person("fay", wtp=50, orders=3)  # discounts twice, then full price 5 days ago
    for days in (3, 10, 20):
        event(shop, "ann", "purchase", "p1", days)
    event(shop, "ann", "product_viewed", "p2", 2)
    for product in ("p1", "p2", "p3"):
        event(shop, "bob", "product_viewed", product, 5)
    event(shop, "cat", "purchase", "p1", 40, "5.00")
    event(shop, "cat", "purchase", "p3", 41, "5.00")
    for i, product in enumerate(("p4", "p5", "p4")):
        event(shop, "dan", "purchase", product, 100 + i, "9.00")
    event(shop, "fay", "purchase", "p6", 60, "4.00")
    event(shop, "fay", "purchase", "p6", 50, "4.00")
    event(shop, "fay", "purchase", "p6", 5)
    with connection(shop.url) as conn:
        build_recommendations(conn, AS_OF, 4)
        build_next_best_actions(conn, AS_OF)
        build_price_offers(conn, POLICY, AS_OF)
    return shop


def rows(shop, sql: str) -> list[tuple]:
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_recommendations_learn_co_occurrence_exclude_bought_and_fall_back_to_popular(store):
    p = store.people
    recs = rows(store, "SELECT profile_id::text, item_id, rank, reason FROM marts.recommendations ORDER BY 1, 3")
    by = {name: [(item, reason) for pid, item, _, reason in recs if pid == p[name]] for name in p}
    assert "p1" not in [item for item, _ in by["ann"]]  # bought
    assert by["ann"][0] == ("p3", "co_occurrence")  # p1 and p2 were seen with p3 (bob, cat)
    assert [item for item, _ in by["dan"]][:1] == ["p1"] and all(item not in ("p4", "p5") for item, _ in by["dan"])
    assert [reason for _, reason in by["eve"]] == ["popular"] * 4
    assert [item for item, _ in by["eve"]][0] == "p1"  # touched by the most people


def test_the_check_counts_a_bought_product_recommended_by_this_build(store):
    """The asset check's statement finds nothing in a correct build, and finds a product the
    person bought when this build's rows recommend it (not a row of an earlier build's)."""
    with connection(store.url) as conn, conn.cursor() as cur:
        cur.execute(BOUGHT_RECOMMENDED, {"as_of": AS_OF})
        assert cur.fetchone()[0] == 0
        cur.execute(
            "UPDATE marts.recommendations SET item_id = 'p1' WHERE profile_id = %s AND rank = 1",
            (store.people["ann"],),
        )
        cur.execute(BOUGHT_RECOMMENDED, {"as_of": AS_OF})
        assert cur.fetchone()[0] == 3  # bought three times
        cur.execute(BOUGHT_RECOMMENDED, {"as_of": AS_OF + timedelta(hours=1)})
        assert cur.fetchone()[0] == 0


def test_next_best_actions_follow_the_documented_rules(store):
    p = store.people
    actions = dict(
        (pid, (action, item))
        for pid, action, item in rows(store, "SELECT profile_id::text, action, item_id FROM marts.next_best_actions")
    )
    assert actions[p["ann"]] == ("upsell_premium", "p3")  # customer, WTP 85; her top product
    assert actions[p["bob"]][0] == "first_purchase_nudge"  # no order, WTP 65
    assert actions[p["cat"]] == ("none", None)  # no consent
    assert actions[p["eve"]][0] == "nurture_content"


def test_offers_respect_the_guardrails(store):
    p = store.people
    offers = {
        pid: (offer, float(pct), reason)
        for pid, offer, pct, reason in rows(
            store, "SELECT profile_id::text, offer, discount_pct, reason FROM marts.price_offers"
        )
    }
    assert offers[p["dan"]][:2] == ("discount", 15.0)  # discount on every order: very sensitive
    assert offers[p["cat"]][:2] == ("full_price", 0.0) and "consent" in offers[p["cat"]][2]
    # sensitivity shrunk toward the population's discount rate 7/11 with one order's weight
    assert offers[p["ann"]][:2] == ("premium_bundle", 0.0)  # high WTP, (0 + 7/11) / 4 < 0.3
    assert offers[p["fay"]][:2] == ("free_shipping", 0.0)  # (2 + 7/11) / 4 ≥ 0.5, but paid in full lately
    assert "full price within 30 days" in offers[p["fay"]][2]
    assert max(pct for _, pct, _ in offers.values()) <= POLICY.max_discount_pct


def test_the_profile_api_returns_recommendations_action_and_offer(store):
    request = parse_request("profile_id", store.people["ann"], "recommendations,next_best_action,offer", ["id"])
    sql = compile_profile_query("profile_id", request.sections)
    with connection(store.url) as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS identity")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS identity.profiles (profile_id uuid PRIMARY KEY, current_profile_id uuid)"
        )
        cur.execute(sql, request.params())
        document = json.loads(cur.fetchone()[0])
        assert document["offer"]["offer"] == "premium_bundle"
    assert {"recommendations", "next_best_action", "offer"} <= set(SECTIONS)
    assert document["recommendations"][0] == {
        "item_type": "product",
        "item_id": "p3",
        "rank": 1,
        "score": pytest.approx(document["recommendations"][0]["score"]),
        "reason": "co_occurrence",
    }
    assert document["next_best_action"]["action"] == "upsell_premium"
    assert document["offer"]["offer"] == "premium_bundle"
    with connection(store.url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE marts.price_offers SET valid_until = now() - interval '1 second'")
        cur.execute(sql, request.params())
        assert json.loads(cur.fetchone()[0])["offer"] is None  # an expired offer is no current offer
