"""Segments on the embedded PostgreSQL: the shipped segments' members against an independent
pandas evaluation of the same profile rows, history across refreshes, manual/import members,
expiry, and a bad segment failing alone."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

from audience_dagster.bench.scores import AS_OF
from audience_dagster.errors import SegmentError
from audience_dagster.segments.cohort_refresh import refresh_cohorts
from audience_dagster.segments.warehouse import add_members, refresh_segments
from audience_dagster.warehouse.connection import connection
from audience_dagster.warehouse.frames import copy_out

pytestmark = pytest.mark.integration
NOW = AS_OF.to_pydatetime()


def profiles(url: str) -> pd.DataFrame:
    with connection(url) as conn:
        frame = copy_out(
            conn,
            "SELECT id, total_revenue, total_orders, last_order_at, health_score, email_subscribed,"
            " engagement_score, wtp_score, rfm_segment, email FROM marts.audience_profiles",
        )
    for column in ("total_revenue", "total_orders", "health_score", "engagement_score", "wtp_score"):
        frame[column] = pd.to_numeric(frame[column])
    frame["last_order_at"] = pd.to_datetime(frame["last_order_at"], utc=True, format="ISO8601")
    frame["email_subscribed"] = frame["email_subscribed"].eq("t")
    return frame.set_index("id")


def members(url: str, slug: str) -> dict[str, tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT m.profile_id::text, m.source, m.joined_at, m.score FROM marts.segment_membership m"
            " JOIN marts.micro_segments s ON s.id = m.segment_id WHERE s.slug = %s",
            (slug,),
        )
        return {r[0]: r[1:] for r in cur.fetchall()}


def changes(url: str, slug: str) -> set[tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c.profile_id::text, c.change, c.source, c.reason, c.changed_at"
            " FROM marts.segment_membership_changes c JOIN marts.micro_segments s ON s.id = c.segment_id"
            " WHERE s.slug = %s",
            (slug,),
        )
        return set(cur.fetchall())


def expected_prebuilt(p: pd.DataFrame) -> dict[str, set[str]]:
    """The spec's five pre-built segments, evaluated in pandas (nulls never match a comparison)."""
    cutoff = AS_OF - pd.Timedelta(days=90)
    rules = {
        "high-value-customers": (p.total_revenue > 500) & (p.total_orders > 2),
        "at-risk-customers": (p.total_orders > 0) & (p.last_order_at < cutoff) & (p.health_score < 40),
        "engaged-subscribers": p.email_subscribed & (p.engagement_score > 60),
        "high-wtp-non-buyers": (p.wtp_score > 70) & (p.total_orders == 0),
        "champions": p.rfm_segment.eq("champions"),
    }
    return {slug: set(p.index[mask.fillna(False).astype(bool)]) for slug, mask in rules.items()}


def test_prebuilt_behavioral_and_ml_segments_match_an_independent_evaluation(segment_db: str) -> None:
    with connection(segment_db) as conn, conn.cursor() as cur:
        # predictions: churn for 600 profiles, some expired, some below the threshold
        cur.execute(
            "INSERT INTO marts.predictions (profile_id, prediction_type, predicted_value, valid_until)"
            " SELECT id, 'churn', (abs(hashtext(id::text)) %% 1000) / 1000.0,"
            " CASE WHEN abs(hashtext(id::text)) %% 7 = 0 THEN %s END"
            " FROM marts.audience_profile_base ORDER BY id LIMIT 600",
            (NOW - timedelta(days=1),),
        )
        # a behavioral segment with property containment and a maximum
        cur.execute(
            "INSERT INTO marts.micro_segments (name, slug, segment_type, behavior_definition) VALUES"
            " ('Shoe browsers', 'shoe-browsers', 'behavioral', %s)",
            (json.dumps({"event_type": "product_viewed", "min_count": 1, "max_count": 3, "lookback_days": 60,
                         "properties": {"category": "shoes"}}),),
        )  # fmt: skip
        results = refresh_segments(conn, NOW)
        predictions = copy_out(conn, "SELECT profile_id, predicted_value, valid_until FROM marts.predictions")
        events = copy_out(conn, "SELECT profile_id, event_type, occurred_at, properties FROM marts.audience_events")
    assert all(r.error is None for r in results), [r.error for r in results]
    assert {r.slug for r in results} >= {"champions", "repeat-buyers-90d", "likely-churners", "shoe-browsers"}

    expected = expected_prebuilt(profiles(segment_db))
    for slug, wanted in expected.items():
        got = members(segment_db, slug)
        assert set(got) == wanted, slug
        assert all(source == "automatic" and joined == NOW for source, joined, _ in got.values())
    assert all(expected[s] for s in ("high-value-customers", "champions", "at-risk-customers")), "non-trivial sample"

    # behavioral, evaluated in pandas over the same events
    events["occurred_at"] = pd.to_datetime(events["occurred_at"], utc=True, format="ISO8601")
    recent = events[(events.occurred_at > AS_OF - pd.Timedelta(days=90)) & (events.occurred_at <= AS_OF)]
    counts = recent[recent.event_type == "purchase"].groupby("profile_id").size()
    assert set(members(segment_db, "repeat-buyers-90d")) == set(counts.index[counts >= 2])
    shoes = (
        events[
            (events.occurred_at > AS_OF - pd.Timedelta(days=60))
            & (events.occurred_at <= AS_OF)
            & (events.event_type == "product_viewed")
            & events.properties.map(lambda text: json.loads(text).get("category") == "shoes")
        ]
        .groupby("profile_id")
        .size()
    )
    assert set(members(segment_db, "shoe-browsers")) == set(shoes.index[shoes.between(1, 3)])
    assert len(shoes) > 0

    # ML: churn > 0.7 and still valid; the score is the predicted value
    predictions["predicted_value"] = pd.to_numeric(predictions["predicted_value"])
    valid = predictions.valid_until.isna() & (predictions.predicted_value > 0.7)
    got = members(segment_db, "likely-churners")
    assert set(got) == set(predictions.profile_id[valid]) and got
    by_id = predictions.set_index("profile_id").predicted_value
    assert all(float(score) == pytest.approx(by_id[pid]) for pid, (_, _, score) in got.items())
    with connection(segment_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT slug, member_count, last_calculated_at FROM marts.micro_segments")
        stats = {slug: (count, at) for slug, count, at in cur.fetchall()}
    assert stats["champions"] == (len(expected["champions"]), NOW)


def test_history_across_two_refreshes_and_manual_members(segment_db: str) -> None:
    slug = "high-value-customers"
    with connection(segment_db) as conn:
        refresh_segments(conn, NOW, [slug])
    first = members(segment_db, slug)
    p = profiles(segment_db)
    leaving = sorted(first)[:5]
    outsiders = p[(p.total_orders > 2) & (p.total_revenue <= 500)].index[:4].tolist()
    manual = p[(p.total_orders == 0) & p.email.notna()].index[:3].tolist()
    later = NOW + timedelta(days=1)
    with connection(segment_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE marts.audience_profile_base SET total_revenue = 10 WHERE id::text = ANY(%s)", (leaving,))
        cur.execute("UPDATE marts.audience_profile_base SET total_revenue = 900 WHERE id::text = ANY(%s)", (outsiders,))
        conn.commit()
        # one by id (manual), one by email (import, expiring before the third refresh), one automatic → manual
        add_members(conn, slug, profile_ids=[manual[0]], as_of=NOW)
        emails = [p.email[manual[1]].upper()]
        added = add_members(
            conn, slug, emails=emails, source="import", expires_at=later + timedelta(hours=1), as_of=NOW
        )
        assert added == {"added": 1, "converted": 0, "unknown": 0}
        kept = add_members(conn, slug, profile_ids=[leaving[0], "00000000-0000-4000-8000-000000000000"], as_of=NOW)
        assert kept == {"added": 0, "converted": 1, "unknown": 1}
        (second,) = refresh_segments(conn, later, [slug])
    after = members(segment_db, slug)
    assert (second.entered, second.exited) == (4, 4)
    assert set(after) == (set(first) - set(leaving[1:])) | set(outsiders) | set(manual[:2])
    # stayers keep joined_at; newcomers joined at the second refresh; manual rows survive the rules
    assert all(after[pid][1] == NOW for pid in first if pid not in leaving)
    assert all(after[pid][1] == later for pid in outsiders)
    assert after[leaving[0]][0] == "manual" and after[manual[1]][0] == "import"
    history = changes(segment_db, slug)
    assert {(pid, "exited", "automatic", "refresh", later) for pid in leaving[1:]} <= history
    assert {(pid, "entered", "automatic", "refresh", later) for pid in outsiders} <= history
    assert (manual[1], "entered", "import", "import", NOW) in history
    assert sum(1 for c in history if c[4] == NOW and c[1] == "entered") == len(first) + 2
    # the import expires: the next refresh removes it and says why
    third_at = later + timedelta(hours=2)
    with connection(segment_db) as conn:
        (third,) = refresh_segments(conn, third_at, [slug])
    assert manual[1] not in members(segment_db, slug) and manual[0] in members(segment_db, slug)
    assert (manual[1], "exited", "import", "expired", third_at) in changes(segment_db, slug)
    assert third.members == len(after) - 1
    with pytest.raises(SegmentError, match="'nope'"), connection(segment_db) as conn:
        add_members(conn, "nope", profile_ids=[manual[0]], as_of=NOW)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"field": "total_revenu", "operator": "greater_than", "value": 1}], "unknown field 'total_revenu'"),
        ([{"field": "total_orders", "operator": "greater_than", "value": "2"}], "is number"),
        ([{"field": "email; DROP TABLE marts.segment_membership", "operator": "is_null"}], "unknown field"),
        ([{"field": "total_orders", "operator": "> 0 OR true --", "value": 1}], "unknown operator"),
    ],
)
def test_a_bad_segment_fails_alone_with_its_slug(segment_db: str, rules: list, message: str) -> None:
    with connection(segment_db) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO marts.micro_segments (name, slug, segment_type, rules)"
            " VALUES ('Bad', 'bad-one', 'rule_based', %s)",
            (json.dumps(rules),),
        )
        conn.commit()
        results = {r.slug: r for r in refresh_segments(conn, NOW)}
        cur.execute("SELECT last_error, last_calculated_at FROM marts.micro_segments WHERE slug = 'bad-one'")
        error, calculated = cur.fetchone()
        cur.execute("SELECT count(*) FROM marts.segment_membership")
        total = cur.fetchone()[0]
    assert results["bad-one"].error.startswith("segment 'bad-one': ") and message in results["bad-one"].error
    assert error == results["bad-one"].error and calculated is None
    assert all(r.error is None for slug, r in results.items() if slug != "bad-one") and results["champions"].members
    assert total == sum(r.members for r in results.values())


def test_inactive_and_unknown_segments_do_not_refresh(segment_db: str) -> None:
    with connection(segment_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE marts.micro_segments SET status = 'inactive' WHERE slug = 'champions'")
        conn.commit()
        results = {r.slug: r for r in refresh_segments(conn, NOW, ["champions", "ghost", "high-value-customers"])}
    assert results["champions"].error and "no active segment" in results["champions"].error
    assert results["ghost"].error and results["high-value-customers"].error is None
    assert members(segment_db, "champions") == {}


def test_cohorts_enter_and_exit(segment_db: str) -> None:
    with connection(segment_db) as conn, conn.cursor() as cur:
        results = {r.slug: r for r in refresh_cohorts(conn, NOW)}
        cur.execute(
            "SELECT d.slug, count(*), count(m.exited_at) FROM marts.cohort_membership m"
            " JOIN marts.cohort_definitions d ON d.id = m.cohort_id GROUP BY 1"
        )
        counts = {slug: (n, exited) for slug, n, exited in cur.fetchall()}
        cur.execute("SELECT count(*) FILTER (WHERE first_seen_at <= %s) FROM marts.audience_profiles", (NOW,))
        everyone = cur.fetchone()[0]
    assert all(r.error is None for r in results.values()), results
    assert counts["monthly-acquisition"] == (everyone, 0)
    assert results["first-purchase-weekly"].members == counts["first-purchase-weekly"][0] > 0
