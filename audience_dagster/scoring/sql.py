"""Every score as one set-based SQL statement, compiled from the rules (pure: rules → sql, params).

This is the production path of the scores asset: PostgreSQL computes engagement, WTP, lead,
health, lifecycle and RFM for every profile in one ``CREATE TEMP TABLE … AS`` over the profiles
and one grouped pass over ``audience_events``; nothing is pulled into Python. The pandas modules
beside it (:mod:`.engagement`, :mod:`.rules`, :mod:`.signals`, :mod:`.rfm`, :mod:`.lifecycle`)
define the same formulas and serve as the independent evaluation the tests compare against.

User input (the WTP rules) only ever reaches the SQL as bound parameters; fields are checked
against the profile table's columns (a whitelist) and operators against a fixed list, by
:func:`~audience_dagster.scoring.rules.check_rule`, before anything is compiled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from audience_dagster.errors import RuleError
from audience_dagster.scoring.parameters import (
    ADVOCATE_MIN_ENGAGEMENT,
    ADVOCATE_MIN_ORDERS,
    DEPTH_EVENT_TYPES,
    DEPTH_POINTS,
    HEALTH_BASE,
    LEAD_BASE,
    MAX_FREQUENCY_POINTS,
    POINTS_PER_ACTIVE_DAY,
    RECENCY_POINTS,
    SCORE_COLUMNS,
    WINDOW_DAYS,
)
from audience_dagster.scoring.rules import BASE_SCORE, Rule, check_rule

# what the statement writes, and the profile columns WTP rules may not read (computed with or
# after WTP, or predictions)
SCORE_OUTPUT = SCORE_COLUMNS
SCORES_COMPUTED_HERE = frozenset(SCORE_COLUMNS) | {"predicted_ltv", "churn_risk", "next_purchase_probability"}

LEAD_TERMS: tuple[tuple[str, str], ...] = (
    (
        "contactable",
        "CASE WHEN (email IS NOT NULL OR phone IS NOT NULL) AND NOT coalesce(do_not_track, false) THEN 10 END",
    ),
    ("subscribed", "CASE WHEN coalesce(email_subscribed, false) THEN 10 END"),
    ("engagement", "(3 * engagement_score + 5) / 10"),
    ("email_clicker", "CASE WHEN emails_clicked > 5 THEN 15 WHEN emails_clicked >= 1 THEN 10 END"),
    ("shopping_intent", "CASE WHEN coalesce(shopping_intent_30d, false) THEN 20 END"),
    ("recently_active", "CASE WHEN days_seen <= 7 THEN 10 END"),
    ("unreachable", "CASE WHEN coalesce(email_bounced, false) OR coalesce(email_spam_report, false) THEN -20 END"),
)
HEALTH_TERMS: tuple[tuple[str, str], ...] = (
    ("on_cadence", "CASE WHEN total_orders >= 2 AND days_order <= 1.5 * order_gap THEN 20 END"),
    ("lapsed", "CASE WHEN total_orders >= 2 AND days_order > 3 * order_gap THEN -20 END"),
    ("recent_first_order", "CASE WHEN total_orders = 1 AND days_order <= 90 THEN 10 END"),
    ("stale_single_order", "CASE WHEN total_orders = 1 AND days_order > 365 THEN -15 END"),
    ("engaged", "CASE WHEN engagement_score >= 60 THEN 15 END"),
    ("disengaged", "CASE WHEN engagement_score <= 10 THEN -15 END"),
    ("active", "CASE WHEN days_seen <= 30 THEN 10 END"),
    ("gone_quiet", "CASE WHEN days_seen > 180 THEN -20 END"),
    ("subscribed", "CASE WHEN coalesce(email_subscribed, false) THEN 5 END"),
    (
        "unsubscribed",
        "CASE WHEN NOT coalesce(email_subscribed, false) AND email_subscription_date IS NOT NULL THEN -15 END",
    ),
    ("bounced", "CASE WHEN coalesce(email_bounced, false) THEN -10 END"),
    ("spam_report", "CASE WHEN coalesce(email_spam_report, false) THEN -20 END"),
)
ENGAGEMENT_TERMS: tuple[tuple[str, str], ...] = (
    (
        "recency",
        "CASE " + " ".join(f"WHEN days_seen <= {days} THEN {points}" for days, points in RECENCY_POINTS) + " END",
    ),
    ("frequency", f"least({MAX_FREQUENCY_POINTS}, coalesce(active_days, 0) * {POINTS_PER_ACTIVE_DAY})"),
    *((kind, f"CASE WHEN coalesce(has_{kind}, false) THEN {points} END") for kind, points in DEPTH_POINTS.items()),
)


def pg_kind(data_type: str) -> str:
    """A PostgreSQL column type in the rules' vocabulary (see ``field_kind``)."""
    if data_type == "boolean":
        return "bool"
    if data_type in ("integer", "bigint", "smallint", "numeric", "double precision", "real"):
        return "number"
    if data_type.startswith("timestamp") or data_type == "date":
        return "datetime"
    if data_type == "ARRAY":
        return "array"
    if data_type in ("text", "character varying", "uuid"):
        return "text"
    return data_type  # jsonb and friends: only 'exists' applies


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def wtp_terms(rules: Sequence[Rule], column_types: Mapping[str, str]) -> tuple[list[tuple[str, str]], dict]:
    """``(rule name, SQL points expression)`` per rule in priority order, and the bound params."""
    kinds = {name: pg_kind(t) for name, t in column_types.items() if name not in SCORES_COMPUTED_HERE}
    kinds["engagement_score"] = "number"  # computed first, in the same statement
    terms, params = [], {}
    for i, rule in enumerate(sorted(rules, key=lambda r: r.priority)):
        if rule.field in SCORES_COMPUTED_HERE - {"engagement_score"}:
            raise RuleError(f"WTP rule {rule.name!r}: {rule.field!r} is computed after WTP and cannot be an input")
        operand = check_rule(rule, kinds)
        field, key = _ident(rule.field), f"wtp_{i}"
        if rule.operator == "exists":
            condition = f"cardinality({field}) > 0" if kinds[rule.field] == "array" else f"{field} IS NOT NULL"
        elif rule.operator == "contains":
            condition = f"%({key})s = ANY({field})"
        elif rule.operator == "equals":
            condition = f"{field} = %({key})s"
        elif rule.operator in ("greater_than", "less_than"):
            condition = f"{field} {'>' if rule.operator == 'greater_than' else '<'} %({key})s"
        else:
            condition = f"{field} BETWEEN %({key}_min)s AND %({key}_max)s"
            params[f"{key}_min"], params[f"{key}_max"] = operand
            operand = None
        if operand is not None:
            params[key] = operand.to_pydatetime() if hasattr(operand, "to_pydatetime") else operand
        if rule.applies_to == "new":
            condition += " AND coalesce(total_orders, 0) = 0 AND coalesce(total_sessions, 0) <= 1"
        elif rule.applies_to == "returning":
            condition += " AND NOT (coalesce(total_orders, 0) = 0 AND coalesce(total_sessions, 0) <= 1)"
        points = rule.score_adjustment
        if rule.max_contribution is not None:
            points = (1 if points > 0 else -1) * min(abs(points), rule.max_contribution)
        terms.append((rule.name, f"CASE WHEN {condition} THEN {points} ELSE 0 END"))
    return terms, params


def _activity_ctes(events: str) -> str:
    """Per-profile event aggregates as two hash aggregates: the 30-day window (active days, depth
    kinds, shopping intent), grouped by profile and day first so no DISTINCT forces a sort; and
    the few all-time facts (first purchase, bounces, spam reports) from rare event types only."""
    window = f"occurred_at >= %(as_of)s - interval '{WINDOW_DAYS} days' AND occurred_at <= %(as_of)s"
    kinds = {**DEPTH_EVENT_TYPES, "shopping_intent_30d": ("product_added", "checkout_started")}
    flags = {name if name.endswith("_30d") else f"has_{name}": types for name, types in kinds.items()}
    per_day = ",\n            ".join(
        f"bool_or(event_type IN ({', '.join(repr(t) for t in types)})) AS {name}" for name, types in flags.items()
    )
    per_profile = ", ".join(f"bool_or({name}) AS {name}" for name in flags)
    return f"""recent_days AS (
        SELECT profile_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
            {per_day}
        FROM {events}
        WHERE profile_id IS NOT NULL AND {window}
        GROUP BY 1, 2
    ),
    recent AS (
        SELECT profile_id, count(*) AS active_days, {per_profile}
        FROM recent_days GROUP BY profile_id
    ),
    history AS (
        SELECT profile_id,
            min(occurred_at) FILTER (WHERE event_type = 'purchase') AS first_order_at,
            bool_or(event_type = 'email_bounce') AS email_bounced,
            bool_or(event_type = 'email_spamreport') AS email_spam_report
        FROM {events}
        WHERE profile_id IS NOT NULL AND occurred_at <= %(as_of)s
          AND event_type IN ('purchase', 'email_bounce', 'email_spamreport')
        GROUP BY profile_id
    )"""


def _quintile(expression: str) -> str:
    """The spec's getQuintile in integers: share strictly below = (rank − 1) / n, ≤ k/5 → k."""
    below = f"(rank() OVER (ORDER BY {expression}) - 1)"
    n = "count(*) OVER ()"
    steps = " ".join(f"WHEN 5 * {below} <= {k} * {n} THEN {k}" for k in range(1, 5))
    return f"CASE {steps} ELSE 5 END"


def _sum(names: Sequence[str]) -> str:
    return " + ".join(f"coalesce({n}, 0)" for n in names) or "0"


def _array(names: Sequence[str]) -> str:
    return f"ARRAY[{', '.join(f'coalesce({n}, 0)' for n in names)}]::smallint[]"


# the lifecycle stage of a row of `terms t` (the first that holds, from the top)
LIFECYCLE_STAGE_SQL = f"""CASE
        WHEN t.total_orders >= {ADVOCATE_MIN_ORDERS} AND t.engagement_score >= {ADVOCATE_MIN_ENGAGEMENT} THEN 'advocate'
        WHEN t.total_orders > 0 THEN 'customer'
        WHEN coalesce(t.email_subscribed, false) THEN 'subscriber'
        WHEN t.known THEN 'visitor'
        ELSE 'anonymous'
    END"""
# the spec's RFM segment of a row of `rfm r` (NULL for a profile that is no customer)
RFM_SEGMENT_SQL = """CASE
        WHEN r.id IS NULL THEN NULL
        WHEN r.rfm_recency >= 4 AND r.rfm_frequency >= 4 AND r.rfm_monetary >= 4 THEN 'champions'
        WHEN r.rfm_frequency >= 4 THEN 'loyal'
        WHEN r.rfm_recency >= 4 AND r.rfm_frequency >= 2 THEN 'potential_loyalist'
        WHEN r.rfm_recency >= 4 THEN 'recent'
        WHEN r.rfm_recency <= 2 AND r.rfm_frequency >= 3 THEN 'at_risk'
        WHEN r.rfm_recency <= 2 AND r.rfm_frequency >= 2 AND r.rfm_monetary >= 2 THEN 'hibernating'
        WHEN r.rfm_recency <= 2 AND r.rfm_frequency <= 2 THEN 'lost'
        ELSE 'needs_attention'
    END"""


def compile_scores(
    rules: Sequence[Rule], column_types: Mapping[str, str], profiles: str, events: str, target: str
) -> tuple[str, dict]:
    """``(sql, params)`` of one ``INSERT INTO target … SELECT``: per profile ``id``, the score
    columns, the points of every term (``*_points`` smallint arrays in the order of
    :func:`term_names`) and ``scored_at``. ``params`` lacks ``as_of``, which the caller binds."""
    wtp, params = wtp_terms(rules, column_types)
    e_cols = [f"e_{name}" for name, _ in ENGAGEMENT_TERMS]
    w_cols = [f"w_{i}" for i in range(len(wtp))]
    l_cols = [f"l_{name}" for name, _ in LEAD_TERMS]
    h_cols = [f"h_{name}" for name, _ in HEALTH_TERMS]
    known = "(email IS NOT NULL OR phone IS NOT NULL OR coalesce(external_ids, '{}'::jsonb) <> '{}'::jsonb)"
    days = "floor(extract(epoch FROM (%(as_of)s - {})) / 86400)"
    base_columns = ", ".join(f"p.{_ident(c)}" for c in column_types if c not in SCORES_COMPUTED_HERE)
    depth_columns = ", ".join(f"r.has_{k}" for k in DEPTH_EVENT_TYPES)
    sql = f"""
INSERT INTO {target} (id, {", ".join(SCORE_OUTPUT)}, engagement_points, wtp_points, lead_points, health_points,
                     scored_at)
WITH {_activity_ctes(events)},
base AS (
    SELECT {base_columns}, r.active_days, {depth_columns}, h.first_order_at,
           r.shopping_intent_30d, h.email_bounced, h.email_spam_report,
           {days.format("p.last_seen_at")} AS days_seen,
           {days.format("p.last_order_at")} AS days_order,
           -- mean days between orders, at least 1 (greatest() skips NULLs: keep NULL explicitly)
           CASE WHEN h.first_order_at IS NOT NULL THEN
               greatest(extract(epoch FROM (p.last_order_at - h.first_order_at)) / 86400
                        / greatest(p.total_orders - 1, 1), 1)
           END AS order_gap,
           {known} AS known
    FROM {profiles} p
    LEFT JOIN recent r ON r.profile_id = p.id
    LEFT JOIN history h ON h.profile_id = p.id
),
engagement AS (
    SELECT *, {", ".join(f"{sql} AS {col}" for (_, sql), col in zip(ENGAGEMENT_TERMS, e_cols, strict=True))}
    FROM base
),
engaged AS (
    SELECT *, least(100, {_sum(e_cols)})::integer AS engagement_score FROM engagement
),
terms AS (
    SELECT *,
        {", ".join(f"{sql} AS {col}" for (_, sql), col in zip(wtp, w_cols, strict=True)) or "NULL AS no_wtp"},
        {", ".join(f"{sql} AS {col}" for (_, sql), col in zip(LEAD_TERMS, l_cols, strict=True))},
        {", ".join(f"{sql} AS {col}" for (_, sql), col in zip(HEALTH_TERMS, h_cols, strict=True))}
    FROM engaged
),
customers AS (
    -- narrow rows, customers only: the three window sorts stay small
    SELECT id, {days.format("last_order_at")} AS days_order, total_orders, coalesce(total_revenue, 0) AS revenue
    FROM {profiles}
    WHERE total_orders > 0 AND last_order_at IS NOT NULL
),
rfm AS (
    SELECT id,
        6 - {_quintile("days_order")} AS rfm_recency,
        {_quintile("total_orders")} AS rfm_frequency,
        {_quintile("revenue")} AS rfm_monetary
    FROM customers
)
SELECT
    t.id,
    t.engagement_score,
    greatest(0, least(100, {BASE_SCORE} + {_sum(w_cols)}))::integer AS wtp_score,
    greatest(0, least(100, {LEAD_BASE} + {_sum(l_cols)}))::integer AS lead_score,
    greatest(0, least(100, {HEALTH_BASE} + {_sum(h_cols)}))::integer AS health_score,
    {LIFECYCLE_STAGE_SQL} AS lifecycle_stage,
    r.rfm_recency::integer AS rfm_recency,
    r.rfm_frequency::integer AS rfm_frequency,
    r.rfm_monetary::integer AS rfm_monetary,
    {RFM_SEGMENT_SQL} AS rfm_segment,
    {_array(e_cols)} AS engagement_points,
    {_array(w_cols) if w_cols else "ARRAY[]::smallint[]"} AS wtp_points,
    {_array(l_cols)} AS lead_points,
    {_array(h_cols)} AS health_points,
    %(as_of)s AS scored_at
FROM terms t LEFT JOIN rfm r ON r.id = t.id
"""
    return sql, params


def term_names(rules: Sequence[Rule]) -> dict[str, list[str]]:
    """The rule name behind each position of the ``*_points`` arrays, per score type."""
    return {
        "engagement": [name for name, _ in ENGAGEMENT_TERMS],
        "wtp": [rule.name for rule in sorted(rules, key=lambda r: r.priority)],
        "lead": [name for name, _ in LEAD_TERMS],
        "health": [name for name, _ in HEALTH_TERMS],
    }
