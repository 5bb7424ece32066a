"""Scores in the warehouse.

Tables (schema ``marts``, beside ``audience_profiles``, so the spec's queries run unchanged with
``search_path = marts``):

* ``wtp_scoring_rules`` — the spec's table, created and seeded with the spec's nine default rules
  the first time scoring runs; from then on it is the user's (edits, new rules, ``status =
  'inactive'``) and is read at every materialisation. A rule row that cannot be used (unknown
  field, bad value, out-of-range points, a duplicate name: :func:`check_rules`) is set aside
  alone — its ``last_error`` (a column this project adds) says why — and the others score;
* ``profile_scores`` — every score per profile plus the points of every term (``*_points``),
  replaced as a whole by :func:`run_scores` (one set-based statement, see :mod:`.sql`);
  ``audience_profiles`` (a dbt view) shows them in the spec's columns;
* ``score_terms`` and the view ``score_contributions`` — which rule moved which score by how
  much, for any profile (see ``sql/001_scores_schema.sql``).
"""

from __future__ import annotations

import time

import pandas as pd
import psycopg2.extensions

from audience_dagster.errors import RuleError
from audience_dagster.scoring.rules import Rule, rules_and_failures_from_frame
from audience_dagster.scoring.schema import ensure_schema
from audience_dagster.scoring.sql import compile_scores, term_names, wtp_terms
from audience_dagster.warehouse.frames import copy_out
from audience_dagster.warehouse.indexes import drop_indexes

PROFILES = "marts.audience_profile_base"
EVENTS = "marts.audience_events"
RULES = "marts.wtp_scoring_rules"


def ensure_rules_table(conn: psycopg2.extensions.connection) -> bool:
    """Migrate the scoring schema (which creates ``wtp_scoring_rules`` seeded with the defaults
    when it does not exist: ``sql/002_wtp_scoring_rules.py``); True if the table was created."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NULL", (RULES,))
        missing = cur.fetchone()[0]
    ensure_schema(conn)
    return missing


def check_rules(conn: psycopg2.extensions.connection) -> tuple[list[Rule], dict[str, str]]:
    """(the active rules that can be used, in priority order; {rule id: why one cannot}).

    Each rule is read and compiled alone against the profile columns, so a hostile row —
    an unknown field, a value of the wrong shape, points out of range, a second active rule
    with the same name (it would make the explanation ambiguous: the first by priority wins) —
    fails only itself."""
    frame = copy_out(
        conn,
        f"SELECT id::text AS id, name, rule_type, field, operator, value::text AS value, score_adjustment,"
        f" max_contribution, priority, applies_to, status FROM {RULES}",
    )
    frame["max_contribution"] = pd.to_numeric(frame["max_contribution"])
    frame["value"] = frame["value"].where(frame["value"].notna(), "null")
    readable, failures = rules_and_failures_from_frame(frame)
    column_types = profile_column_types(conn)
    usable, names = [], set()
    for rule in readable:
        try:
            if rule.name in names:
                raise RuleError(f"WTP rule {rule.name!r}: another active rule has this name; rename one in {RULES}")
            wtp_terms([rule], column_types)  # compiles it alone: RuleError names it
        except RuleError as exc:
            failures[rule.rule_id or rule.name] = str(exc)
            continue
        names.add(rule.name)
        usable.append(rule)
    return usable, failures


def read_rules(conn: psycopg2.extensions.connection) -> list[Rule]:
    """The active rules the scores use, in priority order (see :func:`check_rules`)."""
    return check_rules(conn)[0]


def record_rule_errors(conn: psycopg2.extensions.connection, failures: dict[str, str]) -> None:
    """Store why each failed rule was set aside, and clear ``last_error`` of every other rule."""
    with conn.cursor() as cur:
        cur.execute(
            f"UPDATE {RULES} AS r SET last_error = f.message"
            " FROM (SELECT id::text AS id FROM marts.wtp_scoring_rules) AS ids"
            " LEFT JOIN unnest(%s::text[], %s::text[]) AS f (id, message) ON f.id = ids.id"
            " WHERE r.id::text = ids.id AND r.last_error IS DISTINCT FROM f.message",
            (list(failures), list(failures.values())),
        )


def profile_column_types(conn: psycopg2.extensions.connection) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            tuple(PROFILES.split(".")),
        )
        return dict(cur.fetchall())


def run_scores(conn: psycopg2.extensions.connection, as_of: pd.Timestamp) -> dict[str, object]:
    """Compute every score in the database and replace ``profile_scores``, in one transaction.

    The secondary indexes are dropped before the insert and rebuilt after it (faster than
    maintaining them row by row); readers of ``audience_profiles`` wait for the commit.
    Returns figures: rules used, rows written, seconds per step."""
    started = time.perf_counter()
    created = ensure_rules_table(conn)
    rules, failures = check_rules(conn)
    record_rule_errors(conn, failures)
    statement, params = compile_scores(rules, profile_column_types(conn), PROFILES, EVENTS, "marts.profile_scores")
    with conn.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")  # the per-profile hash aggregates stay in memory
        cur.execute("TRUNCATE marts.profile_scores, marts.score_terms")
        rebuild = drop_indexes(cur, "marts.profile_scores")  # as sql/001_scores_schema.sql made them
        cur.execute(statement, {**params, "as_of": as_of.to_pydatetime()})
        written = cur.rowcount
        computed = time.perf_counter()
        for statement in rebuild:
            cur.execute(statement)
        rows = [(kind, i + 1, name) for kind, names in term_names(rules).items() for i, name in enumerate(names)]
        cur.executemany("INSERT INTO marts.score_terms (score_type, position, rule) VALUES (%s, %s, %s)", rows)
        cur.execute("ANALYZE marts.profile_scores")
    conn.commit()
    done = time.perf_counter()
    return {
        "rules_table_created": created,
        "active_rules": len(rules),
        "rules_failed": failures,
        "profiles_scored": written,
        "compute_seconds": computed - started,
        "index_seconds": done - computed,
        "seconds": done - started,
    }
