"""Lifecycle rules, lead and health signals, by hand."""

from __future__ import annotations

import pandas as pd

from audience_dagster.scoring.parameters import HEALTH_BASE, LEAD_BASE
from tests.scoring.oracle.lifecycle import lifecycle_stage
from tests.scoring.oracle.signals import HEALTH_SIGNALS, LEAD_SIGNALS, score_signals

AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")


def test_lifecycle_first_rule_wins() -> None:
    profiles = pd.DataFrame(
        {
            "total_orders": [3, 3, 1, 0, 0, 0],
            "email_subscribed": [True, False, False, True, False, False],
            "known": [True, True, True, True, True, False],
        }
    )
    engagement = pd.Series([50, 49, 90, 0, 0, 99])
    assert lifecycle_stage(profiles, engagement).tolist() == [
        "advocate",
        "customer",  # three orders but engagement below 50
        "customer",
        "subscriber",
        "visitor",
        "anonymous",
    ]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "email": ["a@x.io", None, "c@x.io"],
            "phone": [None, None, None],
            "do_not_track": [False, False, True],
            "email_subscribed": [True, False, False],
            "email_subscription_date": pd.to_datetime(["2026-01-01", None, "2025-01-01"], utc=True),
            "engagement_score": [70, 5, 0],
            "emails_clicked": [7, 0, 1],
            "shopping_intent_30d": [True, None, False],
            "last_seen_at": pd.to_datetime(["2026-10-30", "2026-03-01", "2026-10-10"], utc=True),
            "email_bounced": [False, False, True],
            "email_spam_report": [False, False, False],
            "total_orders": [3, 1, 1],
            "first_order_at": pd.to_datetime(["2026-07-01", "2025-06-01", "2026-09-01"], utc=True),
            "last_order_at": pd.to_datetime(["2026-10-01", "2025-06-01", "2026-09-01"], utc=True),
        },
        index=["a", "b", "c"],
    )


def test_lead_score_by_hand() -> None:
    score, contributions = score_signals(frame(), LEAD_SIGNALS, LEAD_BASE, AS_OF)
    # a: contactable 10 + subscribed 10 + engagement 21 + clicker(>5) 15 + intent 20 + recent 10 = 86
    # b: engagement round(1.5)=2 -> 2
    # c: (do-not-track: not contactable) clicker 10 + unreachable -20 = -10 -> 0
    assert score.tolist() == [86, 2, 0]
    assert contributions[contributions["profile"] == "c"]["rule"].tolist() == ["email_clicker", "unreachable"]


def test_health_score_by_hand() -> None:
    score, contributions = score_signals(frame(), HEALTH_SIGNALS, HEALTH_BASE, AS_OF)
    # a: 3 orders over 92 days -> gap 46; 31 days since last: 0.67x -> on_cadence +20, engaged +15,
    #    active +10, subscribed +5 -> 100
    # b: one order 518 days ago -> stale -15, disengaged -15, gone_quiet (245 days) -20 -> 0
    # c: one order 61 days ago -> recent_first_order +10, disengaged -15, active +10,
    #    unsubscribed -15, bounced -10 -> 30
    assert score.tolist() == [100, 0, 30]
    assert contributions[contributions["profile"] == "c"]["points"].tolist() == [10, -15, 10, -15, -10]
