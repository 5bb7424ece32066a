"""Hostile segment and cohort rows: each fails alone with a RuleError in its ``last_error``, the
others refresh. The compilers bound the depth, size and ranges of a definition (pure), and the
refresh reads each row's JSON bounded, one row at a time (on the embedded PostgreSQL)."""

from __future__ import annotations

import json
import re

import pytest

from audience_dagster.bench.scores import AS_OF
from audience_dagster.errors import RuleError, SegmentError
from audience_dagster.segments.behavior import compile_behavioral_segment
from audience_dagster.segments.cohort_refresh import refresh_cohorts
from audience_dagster.segments.ml import compile_ml_segment
from audience_dagster.segments.rules import compile_condition
from audience_dagster.segments.stored import json_depth, load_json
from audience_dagster.segments.warehouse import refresh_segments
from audience_dagster.warehouse.connection import connection

NOW = AS_OF.to_pydatetime()
LEAF = {"field": "total_orders", "operator": "greater_than", "value": 0}


def nested(depth: int) -> dict:
    rule: dict = LEAF
    for _ in range(depth):
        rule = {"rules": [rule], "rule_logic": "AND"}
    return rule


def nested_text(depth: int) -> str:
    """Groups nested ``depth`` deep as JSON text (json.dumps itself cannot write 1,000 levels)."""
    return '{"rules": [' * depth + json.dumps(LEAF) + "]}" * depth


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([nested(9)], "deeper than 8"),
        ([LEAF] * 101, "more than 100 rules"),
        ([{"field": "last_seen_at", "operator": "greater_than", "value": "999999 years ago"}], "36600 days"),
        ([{"field": "last_seen_at", "operator": "within_last", "value": 10**9}], "not a relative date"),
        ([{"field": "last_seen_at", "operator": "less_than", "value": "in 200 years"}], "36600 days"),
        ([{"field": "total_revenue", "operator": "greater_than", "value": 1e300}], "within ±1e+15"),
        ([{"field": "total_revenue", "operator": "greater_than", "value": 10**400}], "within ±1e+15"),
        ([{"field": "email", "operator": "equals", "value": "x" * 5000}], "at most 1000"),
        ([{"field": "total_orders", "operator": "in", "value": list(range(5000))}], "1 to 1000 values"),
        ([{"field": {"a": [1] * 10_000}, "operator": "equals", "value": 1}], "unknown field"),
    ],
)
def test_rule_trees_are_bounded(rules: list, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)) as error:
        compile_condition(rules)
    assert len(str(error.value)) < 1_000  # the message shows a short excerpt, never the whole value


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"event_type": "purchase", "lookback_days": 10**9}, "lookback_days must be a whole number from 1 to 36600"),
        ({"event_type": "purchase", "min_count": 10**12}, "min_count must be a whole number from 1 to"),
        ({"event_type": ["x"] * 5000}, "list of 1 to 1000"),
        ({"event_type": [{"a": 1}]}, "event type"),
    ],
)
def test_behavior_definitions_are_bounded(definition: dict, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)):
        compile_behavioral_segment(definition)


def test_ml_thresholds_must_be_finite() -> None:
    with pytest.raises(RuleError, match="within"):
        compile_ml_segment("churn", float("inf"))


def test_stored_json_is_bounded_before_it_is_parsed() -> None:
    assert json_depth('{"a": [1, {"b": "[[[["}], "c": "\\"]"}') == 3
    deep = nested_text(1_000)
    with pytest.raises(RuleError, match="nests deeper than 64"):
        load_json(deep, "rules", [])
    with pytest.raises(RuleError, match="characters of JSON"):
        load_json(json.dumps(["x" * 300_000]), "rules", [])
    with pytest.raises(RuleError, match="beyond the range of a double"):
        load_json("[1e400]", "rules", [])
    assert load_json(None, "rules", []) == []


HOSTILE_SEGMENTS = {
    # slug: (segment_type, rules JSON, behavior_definition JSON, model_threshold, error fragment)
    "deep-rules": ("rule_based", f"[{nested_text(1_000)}]", "{}", None, "nests deeper than 64"),
    "many-rules": ("rule_based", json.dumps([LEAF] * 1_000), "{}", None, "more than 100 rules"),
    "far-dates": (
        "rule_based",
        json.dumps([{"field": "last_seen_at", "operator": "greater_than", "value": "99999 years ago"}]),
        "{}",
        None,
        "36600 days",
    ),
    "rules-not-a-list": ("rule_based", '"oops"', "{}", None, "'rules' must be a non-empty list"),
    "huge-lookback": (
        "behavioral",
        "[]",
        json.dumps({"event_type": "purchase", "lookback_days": 10**9}),
        None,
        "lookback_days",
    ),  # fmt: skip
    "infinite-threshold": ("ml_based", "[]", "{}", "1e400", "model_threshold"),
}


@pytest.mark.integration
def test_each_hostile_segment_row_fails_alone_and_the_others_refresh(segment_db: str) -> None:
    with connection(segment_db) as conn, conn.cursor() as cur:
        for slug, (kind, rules, behavior, threshold, _) in HOSTILE_SEGMENTS.items():
            cur.execute(
                "INSERT INTO marts.micro_segments (name, slug, segment_type, rules, behavior_definition, model_id,"
                " model_threshold) VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, 'churn', %s::numeric)",
                (slug, slug, kind, rules, behavior, threshold or "0.5"),
            )
    with connection(segment_db) as conn:
        results = {r.slug: r for r in refresh_segments(conn, NOW)}
    for slug, (*_, message) in HOSTILE_SEGMENTS.items():
        assert results[slug].error and message in results[slug].error and repr(slug) in results[slug].error, slug
    good = [r for slug, r in results.items() if slug not in HOSTILE_SEGMENTS]
    assert len(good) >= 5 and all(r.error is None for r in good)
    assert sum(r.members for r in good) > 0
    with connection(segment_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT slug, last_error FROM marts.micro_segments")
        stored = dict(cur.fetchall())
    assert all(stored[slug] and message in stored[slug] for slug, (*_, message) in HOSTILE_SEGMENTS.items())
    assert all(stored[r.slug] is None for r in good)


@pytest.mark.integration
def test_each_hostile_cohort_row_fails_alone(segment_db: str) -> None:
    hostile = {
        "deep-entry": ('{"date_field": "first_seen_at", "rules": [' + nested_text(1_000) + "]}", None, None),
        "long-lookback": (json.dumps({"date_field": "first_seen_at"}), None, 2_000_000_000),
        "inactive-forever": (json.dumps({"date_field": "first_seen_at"}), json.dumps({"inactive_days": 10**9}), None),
        "entry-not-an-object": ("[1, 2, 3]", None, None),
    }
    with connection(segment_db) as conn, conn.cursor() as cur:
        for slug, (entry, leave, lookback) in hostile.items():
            cur.execute(
                "INSERT INTO marts.cohort_definitions (name, slug, cohort_type, entry_criteria, exit_criteria,"
                " cohort_period, lookback_days) VALUES (%s, %s, 'acquisition', %s::jsonb, %s::jsonb, 'month', %s)",
                (slug, slug, entry, leave, lookback),
            )
    with connection(segment_db) as conn:
        results = {r.slug: r for r in refresh_cohorts(conn, NOW)}
    for slug in hostile:
        assert results[slug].error and f"cohort {slug!r}" in results[slug].error, (slug, results[slug].error)
    good = [r for slug, r in results.items() if slug not in hostile]
    assert good and all(r.error is None for r in good) and sum(r.members for r in good) > 0
    with connection(segment_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT slug FROM marts.cohort_definitions WHERE last_error IS NOT NULL")
        assert {slug for (slug,) in cur.fetchall()} == set(hostile)


def test_segment_errors_name_the_slug() -> None:
    assert str(SegmentError("x", "boom")) == "segment 'x': boom"
