"""Scores on the embedded PostgreSQL: the production SQL against the pandas formulas (an
independent evaluation of the same definitions), and the rules table as the user owns it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audience_dagster.bench.scores import AS_OF, SPEC_TABLES, synthetic_profiles
from audience_dagster.errors import RuleError
from audience_dagster.scoring.compute import SCORE_COLUMNS, compute_scores
from audience_dagster.scoring.warehouse import read_activity, read_profiles, read_rules, run_scores
from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.frames import copy_in


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


def test_rules_are_the_users_edits_take_effect_and_bad_rules_fail_by_name(scored_db: str) -> None:
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
    with pytest.raises(RuleError, match="'big_spender'.*unknown field 'total_revenu'"):
        sql_scores(scored_db)
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM marts.wtp_scoring_rules")
    sql_scores(scored_db)  # an empty table is the user's choice: not re-seeded, everyone at base 50
    with connection(scored_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM marts.wtp_scoring_rules")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT min(wtp_score), max(wtp_score) FROM marts.profile_scores")
        assert cur.fetchone() == (50, 50)
