"""The segment rule compiler, pure: exact SQL and parameters, and every bad rule → a clear error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audience_dagster.errors import RuleError, SegmentError
from audience_dagster.segments.behavior import compile_behavioral_segment
from audience_dagster.segments.cohorts import compile_cohort
from audience_dagster.segments.compile import compile_segment
from audience_dagster.segments.definition import CohortDefinition, SegmentDefinition
from audience_dagster.segments.definitions_yaml import load_cohorts, load_segments, segment_from_mapping
from audience_dagster.segments.ml import compile_ml_segment
from audience_dagster.segments.rules import OPERATOR_KINDS, compile_condition, compile_rule_segment


def one(field: str, operator: str, value: object = None, **extra: object) -> tuple[str, dict]:
    rule = {"field": field, "operator": operator, **({} if operator.startswith("is_") else {"value": value})}
    return compile_condition([{**rule, **extra}])


@pytest.mark.parametrize(
    ("rule", "sql", "params"),
    [
        (("total_revenue", "equals", 500), 'p."total_revenue" = %(r0)s', {"r0": 500}),
        (("rfm_segment", "not_equals", "lost"), 'p."rfm_segment" <> %(r0)s', {"r0": "lost"}),
        (("wtp_score", "greater_than", 70), 'p."wtp_score" > %(r0)s', {"r0": 70}),
        (("health_score", "less_than", 40.5), 'p."health_score" < %(r0)s', {"r0": 40.5}),
        (("total_orders", "greater_or_equal", 2), 'p."total_orders" >= %(r0)s', {"r0": 2}),
        (("total_orders", "less_or_equal", 2), 'p."total_orders" <= %(r0)s', {"r0": 2}),
        (("interests", "contains", "premium"), '%(r0)s = ANY(p."interests")', {"r0": "premium"}),
        (("email", "contains", "@example"), 'strpos(p."email", %(r0)s) > 0', {"r0": "@example"}),
        (("last_order_at", "is_null", None), 'p."last_order_at" IS NULL', {}),
        (("churn_risk", "is_not_null", None), 'p."churn_risk" IS NOT NULL', {}),
        (
            ("lifecycle_stage", "in", ["customer", "advocate"]),
            'p."lifecycle_stage" = ANY(%(r0)s::text[])',
            {"r0": ["customer", "advocate"]},
        ),
        (("rfm_recency", "not_in", [1, 2]), 'NOT (p."rfm_recency" = ANY(%(r0)s::numeric[]))', {"r0": [1, 2]}),
        (
            ("engagement_score", "between", [40, 60]),
            'p."engagement_score" BETWEEN %(r0)s AND %(r1)s',
            {"r0": 40, "r1": 60},
        ),
        (("email_subscribed", "equals", True), 'p."email_subscribed" = %(r0)s', {"r0": True}),
    ],
)
def test_every_operator_compiles_to_a_bound_comparison(rule: tuple, sql: str, params: dict) -> None:
    assert one(*rule) == (sql, params)


def test_every_operator_is_covered_above_or_below() -> None:
    assert set(OPERATOR_KINDS) == {
        "equals", "not_equals", "greater_than", "less_than", "greater_or_equal", "less_or_equal",
        "between", "in", "not_in", "contains", "is_null", "is_not_null", "within_last",
    }  # fmt: skip


def test_relative_and_absolute_dates() -> None:
    assert one("last_order_at", "less_than", "90 days ago") == (
        'p."last_order_at" < (%(as_of)s - %(r0)s::interval)',
        {"r0": "90 days"},
    )
    assert one("last_seen_at", "greater_than", "2 Weeks ago")[1] == {"r0": "2 weeks"}
    assert one("last_seen_at", "less_than", "in 3 days")[0] == 'p."last_seen_at" < (%(as_of)s + %(r0)s::interval)'
    assert one("last_seen_at", "less_than", "now") == ('p."last_seen_at" < %(as_of)s', {})
    window = 'p."last_seen_at" >= (%(as_of)s - %(r0)s::interval) AND p."last_seen_at" <= %(as_of)s'
    for value in ("30 days", "last 30 days", "within last 30 days", 30):
        assert one("last_seen_at", "within_last", value) == (f"({window})", {"r0": "30 days"}), value
    assert one("last_seen_at", "equals", "within the last 30 days") == (f"({window})", {"r0": "30 days"})
    assert one("first_seen_at", "greater_than", "2025-01-31") == (
        'p."first_seen_at" > %(r0)s',
        {"r0": datetime(2025, 1, 31, tzinfo=UTC)},
    )
    assert one("acquisition_date", "between", ["2025-01-01", "180 days ago"])[0] == (
        'p."acquisition_date" BETWEEN %(r0)s AND (%(as_of)s - %(r1)s::interval)'
    )


def test_nested_groups_with_and_or_at_every_level() -> None:
    rules = [
        {"field": "total_orders", "operator": "greater_than", "value": 0},
        {
            "rule_logic": "OR",
            "rules": [
                {"field": "rfm_segment", "operator": "in", "value": ["at_risk", "hibernating"]},
                {
                    "rules": [
                        {"field": "health_score", "operator": "less_than", "value": 40},
                        {"field": "last_order_at", "operator": "less_than", "value": "90 days ago"},
                    ]
                },
            ],
        },
    ]
    sql, params = compile_condition(rules, "AND")
    assert sql == (
        '(p."total_orders" > %(r0)s AND (p."rfm_segment" = ANY(%(r1)s::text[]) OR '
        '(p."health_score" < %(r2)s AND p."last_order_at" < (%(as_of)s - %(r3)s::interval))))'
    )
    assert params == {"r0": 0, "r1": ["at_risk", "hibernating"], "r2": 40, "r3": "90 days"}
    assert compile_condition(rules[:1], "or")[0] == 'p."total_orders" > %(r0)s'
    assert compile_rule_segment(rules[:1], "OR")[0] == (
        'SELECT p.id AS profile_id, 1::numeric AS score FROM marts.audience_profiles p WHERE p."total_orders" > %(r0)s'
    )


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"field": "total_revenu", "operator": "equals", "value": 1}], r"rules\[0\]: unknown field 'total_revenu'"),
        (
            [{"field": "id; DROP TABLE marts.micro_segments; --", "operator": "equals", "value": 1}],
            "unknown field 'id; DROP TABLE",
        ),
        ([{"field": "total_orders", "operator": "OR 1=1 --", "value": 1}], "unknown operator 'OR 1=1 --'"),
        ([{"field": "total_orders", "operator": "like", "value": 1}], "unknown operator 'like'"),
        ([{"field": "total_orders", "operator": "greater_than", "value": "2"}], "'total_orders' is number; '2'"),
        ([{"field": "total_orders", "operator": "greater_than", "value": True}], "is number; True"),
        ([{"field": "email_subscribed", "operator": "equals", "value": "yes"}], "'email_subscribed' is bool"),
        ([{"field": "rfm_segment", "operator": "equals", "value": ["a"]}], "'rfm_segment' is text"),
        ([{"field": "id", "operator": "equals", "value": "1 OR 1=1"}], "'id' is uuid"),
        ([{"field": "last_order_at", "operator": "less_than", "value": "ninety days ago"}], "neither ISO 8601"),
        ([{"field": "last_order_at", "operator": "within_last", "value": "soon"}], "not a relative date: 'soon'"),
        ([{"field": "rfm_segment", "operator": "greater_than", "value": "a"}], "does not apply to 'rfm_segment'"),
        ([{"field": "interests", "operator": "equals", "value": "a"}], "does not apply to 'interests' \\(array\\)"),
        ([{"field": "total_orders", "operator": "in", "value": []}], "needs a list of 1 to 1000 values"),
        ([{"field": "total_orders", "operator": "between", "value": [1]}], r"needs \[low, high\]"),
        ([{"field": "total_orders", "operator": "is_null", "value": 3}], "is_null takes no value"),
        ([{"field": "total_orders", "operator": "equals"}], "needs a value"),
        ([{"field": "total_orders", "operator": "equals", "value": 1, "valeu": 2}], r"unknown keys \['valeu'\]"),
        ([{"rules": [], "rule_logic": "AND"}], r"rules\[0\].rules: 'rules' must be a non-empty list"),
        ([{"rules": [{"field": "email", "operator": "is_null"}], "rule_logic": "XOR"}], "must be 'AND' or 'OR'"),
        (["total_orders > 2"], "a rule must be an object"),
        ([], "non-empty list"),
        ([{"field": "external_ids", "operator": "is_null"}], "unknown field 'external_ids'"),
    ],
)
def test_bad_rules_fail_with_their_path(rules: list, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        compile_condition(rules)


def test_values_never_reach_the_sql_text() -> None:
    sql, params = one("rfm_segment", "equals", "x'; DROP TABLE marts.micro_segments; --")
    assert "DROP" not in sql and params == {"r0": "x'; DROP TABLE marts.micro_segments; --"}


def test_deep_nesting_is_refused() -> None:
    rules: list = [{"field": "email", "operator": "is_null"}]
    for _ in range(10):
        rules = [{"rules": rules}]
    with pytest.raises(RuleError, match="nest deeper"):
        compile_condition(rules)


def test_behavioral_segments() -> None:
    sql, params = compile_behavioral_segment(
        {"event_type": "purchase", "min_count": 2, "max_count": 5, "lookback_days": 90, "properties": {"a": 1}}
    )
    assert "HAVING count(*) >= %(b_min)s AND count(*) <= %(b_max)s" in sql
    assert "e.properties @> %(b_properties)s::jsonb" in sql
    assert params == {"b_types": ["purchase"], "b_days": 90, "b_min": 2, "b_max": 5, "b_properties": '{"a": 1}'}
    sql, params = compile_behavioral_segment({"event_type": ["page_view", "product_viewed"]})
    assert "properties" not in sql and "b_max" not in sql
    assert params == {"b_types": ["page_view", "product_viewed"], "b_days": 30, "b_min": 1}
    for bad, message in [
        ({}, "event_type must be"),
        ({"event_type": "x", "min_count": 0}, "min_count must be"),
        ({"event_type": "x", "min_count": 3, "max_count": 2}, "below min_count"),
        ({"event_type": "x", "lookback_days": "30"}, "lookback_days must be"),
        ({"event_type": "x", "properties": []}, "properties must be an object"),
        ({"event_type": "x", "window": 3}, r"unknown keys \['window'\]"),
    ]:
        with pytest.raises(RuleError, match=message):
            compile_behavioral_segment(bad)


def test_ml_segments() -> None:
    sql, params = compile_ml_segment("churn_risk", 0.7)
    assert "pr.predicted_value > %(m_threshold)s" in sql and params == {"m_type": "churn", "m_threshold": 0.7}
    assert "<= %(m_threshold)s" in compile_ml_segment("ltv", 100, "less_or_equal")[0]
    with pytest.raises(RuleError, match="not a prediction type"):
        compile_ml_segment("propensity", 0.5)
    with pytest.raises(RuleError, match="model_threshold must be a number"):
        compile_ml_segment("churn", "0.7")
    with pytest.raises(RuleError, match="model_operator"):
        compile_ml_segment("churn", 0.7, "> 0 OR true")


def test_compile_segment_names_the_slug() -> None:
    bad = SegmentDefinition(slug="vip", name="VIP", segment_type="rule_based", rules=[{"field": "x"}])
    with pytest.raises(SegmentError, match="segment 'vip': rules\\[0\\]: unknown field 'x'"):
        compile_segment(bad)
    assert compile_segment(SegmentDefinition(slug="m", name="M", segment_type="manual")) is None
    with pytest.raises(SegmentError, match="segment 'x'.*segment_type"):
        segment_from_mapping({"slug": "x", "name": "X", "segment_type": "magic"}, "x.yaml")
    with pytest.raises(SegmentError, match="x.yaml: unknown keys"):
        segment_from_mapping({"slug": "x", "name": "X", "segment_type": "manual", "colour": 1}, "x.yaml")


def test_the_shipped_definitions_load_and_compile() -> None:
    segments = {s.slug: s for s in load_segments()}
    prebuilt = {"high-value-customers", "at-risk-customers", "engaged-subscribers", "high-wtp-non-buyers", "champions"}
    assert prebuilt <= set(segments)
    assert {s.segment_type for s in segments.values()} >= {"rule_based", "behavioral", "ml_based"}
    assert segments["at-risk-customers"].rules[1] == {
        "field": "last_order_at",
        "operator": "less_than",
        "value": "90 days ago",
    }
    assert {c.cohort_type for c in load_cohorts()} == {"acquisition", "behavioral", "lifecycle"}


def test_cohorts_compile_entry_and_exit() -> None:
    cohort = CohortDefinition(
        slug="c",
        name="C",
        cohort_type="lifecycle",
        entry_criteria={
            "date_field": "first_seen_at",
            "rules": [{"field": "total_orders", "operator": "greater_than", "value": 0}],
        },
        exit_criteria={"rules": [{"field": "total_orders", "operator": "equals", "value": 0}]},
        cohort_period="week",
        lookback_days=30,
    )
    sql, params = compile_cohort(cohort)
    assert 'p."total_orders" > %(ce0)s' in sql and 'CASE WHEN p."total_orders" = %(cx0)s THEN %(as_of)s END' in sql
    assert params == {"c_period": "week", "c_days": 30, "ce0": 0, "cx0": 0}
    for entry, message in [
        ({"date_field": "email"}, "not a profile date"),
        ({}, "exactly one of date_field"),
        ({"date_field": "first_seen_at", "event_type": "purchase"}, "exactly one"),
        ({"event_type": ""}, "event_type must be"),
    ]:
        with pytest.raises(RuleError, match=message):
            compile_cohort(CohortDefinition(slug="c", name="C", cohort_type="acquisition", entry_criteria=entry))
    with pytest.raises(RuleError, match="cohort_period"):
        compile_cohort(
            CohortDefinition(
                slug="c",
                name="C",
                cohort_type="acquisition",
                entry_criteria={"date_field": "first_seen_at"},
                cohort_period="year",
            )
        )
