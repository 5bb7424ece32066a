"""The oracle's inputs: the profile columns and per-profile event aggregates the scores read,
pulled from the warehouse into pandas."""

from __future__ import annotations

import pandas as pd
import psycopg2.extensions

from audience_dagster.errors import RuleError
from audience_dagster.scoring.parameters import DEPTH_EVENT_TYPES, WINDOW_DAYS
from audience_dagster.scoring.warehouse import PROFILES, profile_column_types
from audience_dagster.warehouse.frames import copy_out

# profile columns the scores read besides the fields the WTP rules name
REQUIRED_COLUMNS = (
    "last_seen_at",
    "total_orders",
    "total_sessions",
    "total_revenue",
    "last_order_at",
    "average_order_value",
    "email",
    "phone",
    "do_not_track",
    "email_subscribed",
    "email_subscription_date",
    "emails_clicked",
    "interests",
)

# per-profile activity in the window (%(as_of)s bound); one scan of the events in the window
ACTIVITY_SQL = (
    "SELECT profile_id, count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) AS active_days, "
    + ", ".join(
        f"bool_or(event_type IN ({', '.join(repr(t) for t in types)})) AS has_{kind}"
        for kind, types in DEPTH_EVENT_TYPES.items()
    )
    + " FROM marts.audience_events"
    " WHERE profile_id IS NOT NULL"
    f" AND occurred_at >= %(as_of)s - interval '{WINDOW_DAYS} days' AND occurred_at <= %(as_of)s"
    " GROUP BY profile_id"
)


SIGNALS_SQL = (
    "SELECT profile_id,"
    " min(occurred_at) FILTER (WHERE event_type = 'purchase') AS first_order_at,"
    " bool_or(event_type IN ('product_added', 'checkout_started')"
    "   AND occurred_at >= %(as_of)s - interval '30 days' AND occurred_at <= %(as_of)s) AS shopping_intent_30d,"
    " bool_or(event_type = 'email_bounce') AS email_bounced,"
    " bool_or(event_type = 'email_spamreport') AS email_spam_report"
    " FROM marts.audience_events WHERE profile_id IS NOT NULL AND occurred_at <= %(as_of)s"
    " GROUP BY profile_id"
)


def read_profiles(conn: psycopg2.extensions.connection, fields: set[str]) -> pd.DataFrame:
    """The columns the scores need (plus ``fields``) and ``known``, indexed by profile id."""
    types = profile_column_types(conn)
    unknown = sorted(set(fields) - set(types))
    if unknown:
        raise RuleError(f"unknown profile fields {unknown}; {PROFILES} has {', '.join(sorted(types))}")
    columns = sorted(set(REQUIRED_COLUMNS) | set(fields))
    select = [f"array_to_string({c}, chr(31)) AS {c}" if types[c] == "ARRAY" else c for c in columns]
    known = "(email IS NOT NULL OR phone IS NOT NULL OR coalesce(external_ids, '{}'::jsonb) <> '{}'::jsonb) AS known"
    frame = copy_out(conn, f"SELECT id, {', '.join(select)}, {known} FROM {PROFILES}").set_index("id")
    for column in columns:
        frame[column] = _typed(frame[column], types[column])
    frame["known"] = _typed(frame["known"], "boolean")
    return frame


def read_activity(conn: psycopg2.extensions.connection, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per-profile event aggregates for engagement (30-day window) and the lead/health signals."""
    with conn.cursor() as cur:
        queries = [cur.mogrify(sql, {"as_of": as_of.to_pydatetime()}).decode() for sql in (ACTIVITY_SQL, SIGNALS_SQL)]
    window, signals = (copy_out(conn, q).set_index("profile_id") for q in queries)
    frame = window.join(signals, how="outer")
    for column in frame.columns:
        kind = "timestamp with time zone" if column.endswith("_at") else "boolean"
        frame[column] = _typed(frame[column], "integer" if column == "active_days" else kind)
    return frame


def _typed(values: pd.Series, data_type: str) -> pd.Series:
    if data_type == "boolean":
        return values.map({"t": True, "f": False}).astype(object).where(values.notna(), None)
    if data_type.startswith("timestamp") or data_type == "date":
        return pd.to_datetime(values, utc=True, format="ISO8601")
    if data_type in ("integer", "bigint", "smallint", "numeric", "double precision", "real"):
        return pd.to_numeric(values)
    if data_type == "ARRAY":
        split = values.str.split("\x1f")
        return split.where(values.fillna("x").ne(""), pd.Series([[]] * len(values), index=values.index))
    return values
