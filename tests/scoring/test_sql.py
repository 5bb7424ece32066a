"""The scoring SQL compiler, without a database: values are bound, fields whitelisted."""

from __future__ import annotations

import pytest

from audience_dagster.errors import RuleError
from audience_dagster.scoring.rules import DEFAULT_WTP_RULES, Rule
from audience_dagster.scoring.sql import compile_scores, term_names, wtp_terms

COLUMNS = {
    "id": "uuid",
    "email": "text",
    "phone": "text",
    "external_ids": "jsonb",
    "country": "text",
    "total_orders": "integer",
    "total_sessions": "integer",
    "total_revenue": "numeric",
    "average_order_value": "numeric",
    "emails_clicked": "integer",
    "email_subscribed": "boolean",
    "email_subscription_date": "timestamp with time zone",
    "last_seen_at": "timestamp with time zone",
    "last_order_at": "timestamp with time zone",
    "interests": "ARRAY",
    "do_not_track": "boolean",
}


def test_values_are_bound_parameters_never_sql_text() -> None:
    evil = "x'; DROP TABLE marts.audience_profile_base; --"
    terms, params = wtp_terms([Rule("evil", "country", "equals", evil, 5)], COLUMNS)
    ((name, sql),) = terms
    assert name == "evil" and evil not in sql and "%(wtp_0)s" in sql
    assert params == {"wtp_0": evil}


def test_each_operator_compiles_to_its_condition() -> None:
    rules = [
        Rule("a", "interests", "contains", "premium", 1, priority=1),
        Rule("b", "interests", "exists", None, 1, priority=2),
        Rule("c", "total_revenue", "range", {"min": 10, "max": 20}, 1, priority=3),
        Rule("d", "last_order_at", "greater_than", "2026-01-01", 1, priority=4),
        Rule("e", "total_orders", "less_than", 3, 30, max_contribution=10, priority=5, applies_to="new"),
    ]
    terms, params = wtp_terms(rules, COLUMNS)
    sql = dict(terms)
    assert sql["a"] == 'CASE WHEN %(wtp_0)s = ANY("interests") THEN 1 ELSE 0 END'
    assert sql["b"] == 'CASE WHEN cardinality("interests") > 0 THEN 1 ELSE 0 END'
    assert sql["c"] == 'CASE WHEN "total_revenue" BETWEEN %(wtp_2_min)s AND %(wtp_2_max)s THEN 1 ELSE 0 END'
    assert sql["d"].startswith('CASE WHEN "last_order_at" > %(wtp_3)s')
    assert "THEN 10 ELSE 0" in sql["e"] and "coalesce(total_sessions, 0) <= 1" in sql["e"]
    assert params["wtp_3"].year == 2026 and params["wtp_3"].tzinfo is not None


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule("x", "interests; DROP", "exists", None, 1), "unknown field"),
        (Rule("y", "lead_score", "greater_than", 5, 1), "computed after WTP"),
        (Rule("z", "external_ids", "equals", "a", 1), "cannot equal"),
    ],
)
def test_bad_rules_fail_before_any_sql(rule: Rule, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        wtp_terms([rule], COLUMNS)


def test_whole_statement_and_term_names_line_up() -> None:
    sql, params = compile_scores(DEFAULT_WTP_RULES, COLUMNS, "marts.base", "marts.events", "marts.profile_scores")
    assert sql.lstrip().startswith("INSERT INTO marts.profile_scores")
    assert "%(as_of)s" in sql and "as_of" not in params
    names = term_names(DEFAULT_WTP_RULES)
    assert names["wtp"][0] == "has_purchased" and len(names["engagement"]) == 7
    assert sql.count("AS w_") == len(DEFAULT_WTP_RULES)
