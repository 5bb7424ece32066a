"""WTP rules: every operator, caps, priority, applies_to, and malformed rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audience_dagster.errors import RuleError
from audience_dagster.scoring.rules import DEFAULT_WTP_RULES, Rule, rules_from_frame
from tests.scoring.oracle.rules import rule_matches, score_with_rules


@pytest.fixture()
def profiles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "total_orders": [0, 1, 3, 5],
            "total_sessions": [1, 4, 2, 9],
            "average_order_value": [None, 40.0, 120.0, 100.0],
            "emails_clicked": [0, 6, 2, 10],
            "engagement_score": [10, 50, 80, 71],
            "interests": [None, ["discount", "shoes"], ["premium"], []],
            "email_subscribed": [False, True, True, False],
            "country": ["US", "DE", None, "US"],
            "last_order_at": pd.to_datetime([None, "2026-01-05", "2026-06-01", "2026-10-01"], utc=True),
        },
        index=["p0", "p1", "p2", "p3"],
    )


def hits(rule: Rule, profiles: pd.DataFrame) -> list[str]:
    return profiles.index[rule_matches(rule, profiles)].tolist()


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("country", "equals", "US", ["p0", "p3"]),
        ("email_subscribed", "equals", False, ["p0", "p3"]),
        ("total_orders", "equals", 3, ["p2"]),
        ("average_order_value", "greater_than", 100, ["p2"]),  # 100 is not > 100; NULL never matches
        ("engagement_score", "less_than", 50, ["p0"]),
        ("interests", "contains", "premium", ["p2"]),
        ("interests", "exists", None, ["p1", "p2"]),  # an empty array is missing
        ("average_order_value", "exists", None, ["p1", "p2", "p3"]),
        ("total_orders", "range", {"min": 1, "max": 3}, ["p1", "p2"]),  # inclusive both ends
        ("last_order_at", "greater_than", "2026-05-31", ["p2", "p3"]),
        ("last_order_at", "range", {"min": "2026-01-01", "max": "2026-06-01"}, ["p1", "p2"]),
    ],
)
def test_operator(profiles, field, operator, value, expected) -> None:
    assert hits(Rule("r", field, operator, value, 1), profiles) == expected


def test_default_rules_by_hand(profiles) -> None:
    score, contributions = score_with_rules(profiles, DEFAULT_WTP_RULES)
    # p0: low_engagement -10, churned_email -5                                     -> 35
    # p1: has_purchased +20, email_engaged +10, price_sensitive -15                 -> 65
    # p2: has_purchased +20, high_aov +15, repeat +15, high_engagement +10, premium +10 -> 120 -> 100
    # p3: has_purchased +20, repeat +15, email_engaged +10, high_engagement +10, churned_email -5 -> 100
    assert score.tolist() == [35, 65, 100, 100]
    p2 = contributions[contributions["profile"] == "p2"]
    assert p2["rule"].tolist() == [
        "has_purchased",
        "high_aov",
        "repeat_customer",
        "high_engagement",
        "premium_interest",
    ]
    assert p2["points"].sum() == 70  # the explanation keeps the points before clamping


def test_max_contribution_caps_magnitude_both_ways(profiles) -> None:
    rules = [Rule("big", "total_orders", "greater_than", 0, 40, max_contribution=25),
             Rule("penalty", "email_subscribed", "equals", False, -30, max_contribution=10)]  # fmt: skip
    score, contributions = score_with_rules(profiles, rules)
    assert score.tolist() == [40, 75, 75, 65]
    assert set(contributions["points"]) == {25, -10}


def test_priority_orders_the_explanation_not_the_score(profiles) -> None:
    first = Rule("first", "total_orders", "greater_than", 0, 5, priority=1)
    second = Rule("second", "total_orders", "greater_than", 0, 7, priority=2)
    a, ca = score_with_rules(profiles, [second, first])
    b, cb = score_with_rules(profiles, [first, second])
    assert a.tolist() == b.tolist() == [50, 62, 62, 62]
    assert ca[ca["profile"] == "p1"]["rule"].tolist() == ["first", "second"]


def test_applies_to_new_and_returning(profiles) -> None:
    # new = no order and at most one session: only p0
    new = Rule("welcome", "engagement_score", "greater_than", -1, 3, applies_to="new")
    returning = Rule("back", "engagement_score", "greater_than", -1, 4, applies_to="returning")
    score, _ = score_with_rules(profiles, [new, returning])
    assert score.tolist() == [53, 54, 54, 54]


def test_inactive_rules_are_skipped_and_values_parse_from_json() -> None:
    table = pd.DataFrame(
        {
            "name": ["on", "off"],
            "field": ["total_orders", "total_orders"],
            "operator": ["range", "greater_than"],
            "value": ['{"min": 1, "max": 2}', "0"],
            "score_adjustment": [5, 50],
            "max_contribution": [np.nan, np.nan],
            "priority": [100, 100],
            "applies_to": ["all", "all"],
            "rule_type": ["aggregate", "aggregate"],
            "status": ["active", "inactive"],
        }
    )
    (rule,) = rules_from_frame(table)
    assert (rule.name, rule.value, rule.max_contribution) == ("on", {"min": 1, "max": 2}, None)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule("typo", "total_order", "greater_than", 0, 5), "unknown field 'total_order'"),
        (Rule("op", "total_orders", "greater_or_equal", 0, 5), "unknown operator"),
        (Rule("txt", "total_orders", "greater_than", "ten", 5), "'ten' is not a number"),
        (Rule("arr", "country", "contains", "US", 5), "needs an array field"),
        (Rule("rng", "total_orders", "range", {"min": 5}, 5), "'range' needs a value"),
        (Rule("inv", "total_orders", "range", {"min": 5, "max": 1}, 5), "min is above max"),
        (Rule("typ", "email_subscribed", "equals", "yes", 5), "cannot equal 'email_subscribed'"),
        (Rule("cmp", "country", "greater_than", 3, 5), "needs a numeric or date field"),
    ],
)
def test_malformed_rules_fail_naming_the_rule(profiles, rule, message) -> None:
    with pytest.raises(RuleError, match=message) as error:
        score_with_rules(profiles, [rule])
    assert repr(rule.name) in str(error.value)


def test_unknown_applies_to_fails(profiles) -> None:
    with pytest.raises(RuleError, match="applies_to 'vip'"):
        score_with_rules(profiles, [Rule("x", "total_orders", "greater_than", 0, 5, applies_to="vip")])
