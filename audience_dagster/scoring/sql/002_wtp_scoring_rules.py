"""The spec's wtp_scoring_rules, seeded with its nine default rules when it is created.

Version 2 of the scoring schema, idempotent: a warehouse made before migrations may hold the
table already (created by the first scoring run, perhaps without ``last_error``, with the
user's edits): it is kept as it is and only gains the column. From then on the table is the
user's; a later change to the defaults in ``scoring/rules.py`` does not touch it.
"""

from __future__ import annotations

import json

from audience_dagster.scoring.rules import DEFAULT_WTP_RULES

DDL = """
CREATE TABLE IF NOT EXISTS marts.wtp_scoring_rules (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL,
    description      text,
    rule_type        text NOT NULL,
    field            text NOT NULL,
    operator         text NOT NULL,
    value            jsonb,
    score_adjustment integer NOT NULL,
    max_contribution integer,
    priority         integer DEFAULT 100,
    applies_to       text DEFAULT 'all',
    status           text DEFAULT 'active',
    created_at       timestamptz DEFAULT now(),
    updated_at       timestamptz DEFAULT now(),
    last_error       text  -- added: why the last run could not use the rule, null when it could
);
CREATE INDEX IF NOT EXISTS idx_wtp_rules_status ON marts.wtp_scoring_rules (status);
CREATE INDEX IF NOT EXISTS idx_wtp_rules_priority ON marts.wtp_scoring_rules (priority);
ALTER TABLE marts.wtp_scoring_rules ADD COLUMN IF NOT EXISTS last_error text;
"""
INSERT = (
    "INSERT INTO marts.wtp_scoring_rules (name, description, rule_type, field, operator, value,"
    " score_adjustment, max_contribution, priority, applies_to) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def upgrade(cur) -> None:
    cur.execute("SELECT to_regclass('marts.wtp_scoring_rules') IS NULL")
    created = cur.fetchone()[0]
    cur.execute(DDL)
    if created:
        cur.executemany(
            INSERT,
            [
                (
                    rule.name,
                    rule.description,
                    rule.rule_type,
                    rule.field,
                    rule.operator,
                    json.dumps(rule.value),
                    rule.score_adjustment,
                    rule.max_contribution,
                    rule.priority,
                    rule.applies_to,
                )
                for rule in DEFAULT_WTP_RULES
            ],
        )
