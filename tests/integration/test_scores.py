"""Scores on the embedded PostgreSQL: the production SQL against the pandas formulas (an
independent evaluation of the same definitions), and the rules table as the user owns it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audience_dagster.bench.scores import AS_OF, SPEC_TABLES, synthetic_profiles
from audience_dagster.scoring.parameters import SCORE_COLUMNS
from audience_dagster.scoring.warehouse import read_rules, run_scores
from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.frames import copy_in
from tests.scoring.oracle.compute import compute_scores
from tests.scoring.oracle.inputs import read_activity, read_profiles


@pytest.fixture()
def scored_db(warehouse_url: str) -> str:
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS marts CASCADE")
    bootstrap(warehouse_url)
    profiles, events = synthetic_profiles(3_000, np.random.default_rng(11))
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(SPEC_TABLES)
        copy_in(cur, "marts.audience_profile_base", profiles)
        copy_in(cur, "marts.audience_events", events)
    return warehouse_url


def sql_scores(url: str) -> pd.DataFrame:
    with connection(url) as conn:
        run_scores(conn, AS_OF)
        with conn.cursor() as cur:
            cur.execute(f"SELECT id::text, {', '.join(SCORE_COLUMNS)} FROM marts.profile_scores")
            frame = pd.DataFrame(cur.fetchall(), columns=["id", *SCORE_COLUMNS]).set_index("id")
    return frame.sort_index()


def reference_scores(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    with connection(url) as conn:
        rules = read_rules(conn)
        profiles = read_profiles(conn, {rule.field for rule in rules})
        activity = read_activity(conn, AS_OF)
    computed = compute_scores(profiles, activity, rules, AS_OF)
    return computed.columns.sort_index(), computed.contributions


def test_sql_scores_equal_the_pandas_formulas_for_every_profile(scored_db: str) -> None:
    got = sql_scores(scored_db)
    expected, contributions = reference_scores(scored_db)
    assert len(got) == len(expected) == 3_000
    for column in SCORE_COLUMNS:
        left = got[column].astype(object).where(got[column].notna(), None)
        right = expected[column].astype(object).where(expected[column].notna(), None)
        assert (left == right).all() or left.equals(right), column
    # the explanation: every (profile, rule, points) the formulas produce, and nothing else
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT profile_id::text, score_type, rule, points FROM marts.score_contributions")
        stored = set(cur.fetchall())
    assert stored == set(contributions[["profile", "score_type", "rule", "points"]].itertuples(index=False, name=None))
    # a variety of outcomes, not one constant
    assert got["wtp_score"].nunique() > 5 and got["rfm_segment"].nunique() >= 6


def test_rules_are_the_users_edits_take_effect_and_a_bad_rule_fails_alone(scored_db: str) -> None:
    before = sql_scores(scored_db)  # first run creates and seeds the table
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM marts.wtp_scoring_rules")
        assert cur.fetchone()[0] == 9
        cur.execute("UPDATE marts.wtp_scoring_rules SET status = 'inactive' WHERE name <> 'has_purchased'")
        cur.execute(
            "INSERT INTO marts.wtp_scoring_rules (name, rule_type, field, operator, value, score_adjustment,"
            " max_contribution, applies_to) VALUES ('big_spender', 'aggregate', 'total_revenue', 'range',"
            " '{\"min\": 200, \"max\": 100000}', 40, 25, 'returning')"
        )
    after = sql_scores(scored_db)
    with connection(scored_db) as conn:
        profiles = read_profiles(conn, {"total_revenue"})
    bought = profiles["total_orders"].fillna(0) > 0
    big = profiles["total_revenue"].fillna(0).between(200, 100000) & (bought | (profiles["total_sessions"] > 1))
    expected = 50 + np.where(bought, 20, 0) + np.where(big, 25, 0)
    assert (after["wtp_score"].reindex(profiles.index).to_numpy() == expected).all()
    assert not before["wtp_score"].equals(after["wtp_score"])
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE marts.wtp_scoring_rules SET field = 'total_revenu' WHERE name = 'big_spender'")
    typo = sql_scores(scored_db)  # the broken rule is set aside alone, naming itself; has_purchased still scores
    assert (typo["wtp_score"].reindex(profiles.index).to_numpy() == 50 + np.where(bought, 20, 0)).all()
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, last_error FROM marts.wtp_scoring_rules WHERE last_error IS NOT NULL")
        ((name, error),) = cur.fetchall()
    assert name == "big_spender" and "unknown field 'total_revenu'" in error
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM marts.wtp_scoring_rules")
    sql_scores(scored_db)  # an empty table is the user's choice: not re-seeded, everyone at base 50
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM marts.wtp_scoring_rules")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT min(wtp_score), max(wtp_score) FROM marts.profile_scores")
        assert cur.fetchone() == (50, 50)


HOSTILE_RULES = [
    # (name, field, operator, value JSON, score_adjustment, max_contribution, the error it gets)
    ("huge_points", "total_orders", "greater_than", "0", 2_000_000_000, None, "score_adjustment"),
    ("huge_cap", "total_orders", "greater_than", "0", 5, 2_000_000_000, "max_contribution"),
    ("inf_value", "total_orders", "greater_than", "1e300", 5, None, "out of range"),
    ("big_int", "total_orders", "greater_than", "1" + "0" * 400, 5, None, "out of range"),
    ("deep_value", "total_orders", "range", "[" * 5000 + "]" * 5000, 5, None, "nests too deep"),
    ("someday", "last_order_at", "greater_than", '"someday"', 5, None, "not a date"),
    ("object_field", "interests", "equals", '{"a": 1}', 5, None, "equals"),
    ("score_input", "health_score", "greater_than", "1", 5, None, "computed after WTP"),
    ("has_purchased", "total_orders", "greater_than", "5", 5, None, "another active rule has this name"),
]


def test_every_hostile_wtp_rule_fails_alone_and_the_others_score(scored_db: str) -> None:
    sql_scores(scored_db)  # creates and seeds the table
    with connection(scored_db) as conn, conn.cursor() as cur:
        for name, field, operator, value, points, cap, _ in HOSTILE_RULES:
            cur.execute(
                "INSERT INTO marts.wtp_scoring_rules (name, rule_type, field, operator, value, score_adjustment,"
                " max_contribution, priority) VALUES (%s, 'attribute', %s, %s, %s::jsonb, %s, %s, 500)",
                (name, field, operator, value, points, cap),
            )
    scores = sql_scores(scored_db)
    assert scores["wtp_score"].between(0, 100).all() and len(scores) == 3_000
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, priority, last_error FROM marts.wtp_scoring_rules")
        errors = {(name, priority): error for name, priority, error in cur.fetchall()}
    for name, *_, message in HOSTILE_RULES:
        error = errors[(name, 500)]
        assert error is not None and message in error and repr(name) in error, (name, error)
    assert all(error is None for (name, priority), error in errors.items() if priority != 500)
    # the nine defaults scored exactly as before the hostile rows arrived
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM marts.wtp_scoring_rules WHERE priority = 500")
    assert sql_scores(scored_db)["wtp_score"].equals(scores["wtp_score"])
