"""Features as of a cutoff, built set-based in PostgreSQL from events and profiles.

One statement per cutoff reads ``marts.audience_events`` strictly before the cutoff (and the
profile's ``first_seen_at``, a fact already true at the cutoff) and returns one row per profile
first seen before it. Nothing at or after the cutoff reaches a feature: training uses features
as of ``as_of - horizon`` with labels from the horizon after it, scoring uses features as of
``as_of`` (see ``tests/predictions/test_features.py`` for the leakage test).

The stored scores (engagement, WTP, …) are *not* features: they are computed as of now and
would leak the future into training rows. Their inputs enter instead, as of the cutoff:
recency, sessions, depth events, email behaviour.

Known limit: profile ids come from the identity map as built now, so an anonymous history
that was only linked to its person after the cutoff already counts as that person's history
at the cutoff.
"""

from __future__ import annotations

from datetime import datetime

EVENTS = "marts.audience_events"
PROFILES = "marts.audience_profile_base"

# name -> what it means; the order is the model's column order
FEATURES: dict[str, str] = {
    "tenure_days": "days from the profile's first sighting to the cutoff",
    "days_since_last_event": "days from the latest event to the cutoff (tenure when none)",
    "identified": "1 when the profile identified itself (identify, sign-up, subscription) before the cutoff",
    "events_30d": "events in the 30 days before the cutoff",
    "events_90d": "events in the 90 days before the cutoff",
    "sessions_30d": "web/app sessions started in the 30 days before the cutoff",
    "sessions_90d": "web/app sessions started in the 90 days before the cutoff",
    "pageviews_90d": "page and screen views in the 90 days before the cutoff",
    "product_views_90d": "product views in the 90 days before the cutoff",
    "cart_adds_90d": "products added to cart in the 90 days before the cutoff",
    "checkouts_90d": "checkouts started in the 90 days before the cutoff",
    "content_90d": "articles read, videos watched, files downloaded in the 90 days before the cutoff",
    "email_delivered_90d": "emails delivered in the 90 days before the cutoff",
    "email_opens_90d": "email opens in the 90 days before the cutoff",
    "email_clicks_90d": "email clicks in the 90 days before the cutoff",
    "email_unsubscribed": "1 when an unsubscribe happened before the cutoff",
    "social_90d": "social interactions in the 90 days before the cutoff",
    "orders": "orders before the cutoff",
    "revenue": "revenue before the cutoff",
    "avg_order_value": "revenue / orders (null without orders)",
    "max_order_value": "largest order (null without orders)",
    "days_since_last_order": "days from the latest order to the cutoff (RFM recency; null without orders)",
    "days_since_first_order": "days from the first order to the cutoff (null without orders)",
    "orders_90d": "orders in the 90 days before the cutoff",
    "orders_365d": "orders in the 365 days before the cutoff",
    "revenue_90d": "revenue in the 90 days before the cutoff",
    "revenue_365d": "revenue in the 365 days before the cutoff (the spend tier's measure)",
    "ipt_mean_days": "mean days between purchase days (null below two purchase days)",
    "ipt_std_days": "standard deviation of the days between purchase days (null below three)",
    "ipt_last_days": "days between the last two purchase days (null below two)",
    "recency_vs_cadence": "days since the last order / the profile's mean days between purchase days (null below two)",
    "order_value_trend": "revenue of the last purchase day / the mean revenue per purchase day (null without orders)",
    "engagement_trend": "events in the last 30 days / a third of the events in the last 90 (null without any)",
    "discount_share": "share of orders with a discount (null without orders)",
    # buy-till-you-die inputs (purchase days, as in the literature), used by btyd_features
    "btyd_frequency": "repeat purchase days (purchase days - 1)",
    "btyd_recency_days": "days between the first purchase and the first purchase of the last purchase day",
    "btyd_age_days": "days from the first purchase to the cutoff (BG/NBD's T)",
    "btyd_monetary": "mean revenue of the repeat purchase days (Gamma-Gamma's input; 0 without repeats)",
}

_DAYS = "extract(epoch FROM %(cutoff)s::timestamptz - {0}) / 86400.0"


def _within(days: int, column: str = "occurred_at") -> str:
    return f"{column} >= %(cutoff)s::timestamptz - interval '{days} days'"


FEATURES_SQL = f"""
WITH events AS NOT MATERIALIZED (
    SELECT profile_id, event_type, occurred_at, session_sequence, revenue, properties
    FROM {EVENTS}
    WHERE occurred_at < %(cutoff)s::timestamptz AND profile_id IS NOT NULL{{ONLY_EVENTS}}
),
activity AS (
    SELECT
        profile_id,
        max(occurred_at) AS last_event_at,
        count(*) FILTER (WHERE {_within(30)}) AS events_30d,
        count(*) FILTER (WHERE {_within(90)}) AS events_90d,
        count(*) FILTER (WHERE session_sequence = 1 AND {_within(30)}) AS sessions_30d,
        count(*) FILTER (WHERE session_sequence = 1 AND {_within(90)}) AS sessions_90d,
        count(*) FILTER (WHERE event_type IN ('page_view', 'screen_view') AND {_within(90)}) AS pageviews_90d,
        count(*) FILTER (WHERE event_type = 'product_viewed' AND {_within(90)}) AS product_views_90d,
        count(*) FILTER (WHERE event_type = 'product_added' AND {_within(90)}) AS cart_adds_90d,
        count(*) FILTER (WHERE event_type = 'checkout_started' AND {_within(90)}) AS checkouts_90d,
        count(*) FILTER (
            WHERE event_type IN ('article_read', 'video_watched', 'file_downloaded') AND {_within(90)}
        ) AS content_90d,
        count(*) FILTER (WHERE event_type = 'email_delivered' AND {_within(90)}) AS email_delivered_90d,
        count(*) FILTER (WHERE event_type = 'email_open' AND {_within(90)}) AS email_opens_90d,
        count(*) FILTER (WHERE event_type = 'email_click' AND {_within(90)}) AS email_clicks_90d,
        count(*) FILTER (WHERE event_type = 'email_unsubscribe') > 0 AS email_unsubscribed,
        count(*) FILTER (WHERE event_type LIKE 'social\\_%%' AND {_within(90)}) AS social_90d,
        count(*) FILTER (WHERE event_type IN ('identify', 'signed_up', 'email_subscribed')) > 0 AS identified
    FROM events
    GROUP BY profile_id
),
-- purchases per UTC day first (the BTYD literature counts purchase days), then per profile
purchase_days AS (
    SELECT
        profile_id,
        (occurred_at AT TIME ZONE 'UTC')::date AS day,
        min(occurred_at) AS first_at,
        max(occurred_at) AS last_at,
        count(*) AS orders,
        coalesce(sum(revenue), 0) AS revenue,
        max(revenue) AS max_order_value,
        count(*) FILTER (
            WHERE jsonb_typeof(properties -> 'total_discounts') = 'number'
              AND (properties ->> 'total_discounts')::numeric > 0
        ) AS discounted
    FROM events
    WHERE event_type = 'purchase'
    GROUP BY 1, 2
),
sequenced AS (
    SELECT
        *,
        row_number() OVER w AS n,
        count(*) OVER (PARTITION BY profile_id) AS days_n,
        extract(epoch FROM first_at - lag(first_at) OVER w) / 86400.0 AS gap_days
    FROM purchase_days
    WINDOW w AS (PARTITION BY profile_id ORDER BY day)
),
purchases AS (
    SELECT
        profile_id,
        sum(orders) AS orders,
        sum(revenue) AS revenue,
        max(max_order_value) AS max_order_value,
        min(first_at) AS first_order_at,
        max(last_at) AS last_order_at,
        max(first_at) AS last_purchase_day_at,
        sum(orders) FILTER (WHERE {_within(90, "last_at")}) AS orders_90d,
        sum(orders) FILTER (WHERE {_within(365, "last_at")}) AS orders_365d,
        sum(revenue) FILTER (WHERE {_within(90, "last_at")}) AS revenue_90d,
        sum(revenue) FILTER (WHERE {_within(365, "last_at")}) AS revenue_365d,
        avg(gap_days) AS ipt_mean_days,
        stddev_samp(gap_days) AS ipt_std_days,
        max(gap_days) FILTER (WHERE n = days_n) AS ipt_last_days,
        max(revenue) FILTER (WHERE n = days_n) AS last_day_revenue,
        avg(revenue) AS day_revenue,
        sum(discounted) AS discounted,
        count(*) - 1 AS btyd_frequency,
        sum(revenue) FILTER (WHERE n > 1) AS repeat_revenue
    FROM sequenced
    GROUP BY profile_id
)
SELECT
    p.id::text AS profile_id,
    {_DAYS.format("p.first_seen_at")} AS tenure_days,
    {_DAYS.format("coalesce(a.last_event_at, p.first_seen_at)")} AS days_since_last_event,
    coalesce(a.identified, false)::int AS identified,
    coalesce(a.events_30d, 0) AS events_30d,
    coalesce(a.events_90d, 0) AS events_90d,
    coalesce(a.sessions_30d, 0) AS sessions_30d,
    coalesce(a.sessions_90d, 0) AS sessions_90d,
    coalesce(a.pageviews_90d, 0) AS pageviews_90d,
    coalesce(a.product_views_90d, 0) AS product_views_90d,
    coalesce(a.cart_adds_90d, 0) AS cart_adds_90d,
    coalesce(a.checkouts_90d, 0) AS checkouts_90d,
    coalesce(a.content_90d, 0) AS content_90d,
    coalesce(a.email_delivered_90d, 0) AS email_delivered_90d,
    coalesce(a.email_opens_90d, 0) AS email_opens_90d,
    coalesce(a.email_clicks_90d, 0) AS email_clicks_90d,
    coalesce(a.email_unsubscribed, false)::int AS email_unsubscribed,
    coalesce(a.social_90d, 0) AS social_90d,
    coalesce(b.orders, 0) AS orders,
    coalesce(b.revenue, 0) AS revenue,
    b.revenue / nullif(b.orders, 0) AS avg_order_value,
    b.max_order_value,
    {_DAYS.format("b.last_order_at")} AS days_since_last_order,
    {_DAYS.format("b.first_order_at")} AS days_since_first_order,
    coalesce(b.orders_90d, 0) AS orders_90d,
    coalesce(b.orders_365d, 0) AS orders_365d,
    coalesce(b.revenue_90d, 0) AS revenue_90d,
    coalesce(b.revenue_365d, 0) AS revenue_365d,
    b.ipt_mean_days,
    b.ipt_std_days,
    b.ipt_last_days,
    {_DAYS.format("b.last_order_at")} / nullif(b.ipt_mean_days, 0) AS recency_vs_cadence,
    b.last_day_revenue / nullif(b.day_revenue, 0) AS order_value_trend,
    a.events_30d / nullif(a.events_90d / 3.0, 0) AS engagement_trend,
    b.discounted::float8 / nullif(b.orders, 0) AS discount_share,
    coalesce(b.btyd_frequency, 0) AS btyd_frequency,
    coalesce(extract(epoch FROM b.last_purchase_day_at - b.first_order_at) / 86400.0, 0) AS btyd_recency_days,
    coalesce({_DAYS.format("b.first_order_at")}, 0) AS btyd_age_days,
    coalesce(b.repeat_revenue / nullif(b.btyd_frequency, 0), 0) AS btyd_monetary
FROM {PROFILES} AS p
LEFT JOIN activity AS a ON a.profile_id = p.id
LEFT JOIN purchases AS b ON b.profile_id = p.id
WHERE p.first_seen_at < %(cutoff)s::timestamptz{{ONLY_PROFILES}}
"""
ONLY_EVENTS = "{ONLY_EVENTS}"
ONLY_PROFILES = "{ONLY_PROFILES}"


def compile_features(cutoff: datetime, profiles: list[str] | None = None) -> tuple[str, dict[str, object]]:
    """The feature statement as of ``cutoff`` (an aware datetime) and its bound parameters; with
    ``profiles`` (profile ids), the features of those profiles only (their events read through
    the events' profile_id index)."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    if profiles is None:
        return FEATURES_SQL.replace(ONLY_EVENTS, "").replace(ONLY_PROFILES, ""), {"cutoff": cutoff}
    sql = FEATURES_SQL.replace(ONLY_EVENTS, " AND profile_id = ANY(%(profiles)s::uuid[])").replace(
        ONLY_PROFILES, " AND p.id = ANY(%(profiles)s::uuid[])"
    )
    return sql, {"cutoff": cutoff, "profiles": list(profiles)}


# purchases after a cutoff, per profile: the labels of every prediction type at once
LABELS_SQL = f"""
SELECT
    profile_id::text AS profile_id,
    count(*) FILTER (WHERE occurred_at >= %(cutoff)s AND occurred_at < %(cutoff)s + %(churn)s) AS orders_churn,
    count(*) FILTER (WHERE occurred_at >= %(cutoff)s AND occurred_at < %(cutoff)s + %(next_purchase)s) AS orders_next,
    coalesce(sum(revenue) FILTER (WHERE occurred_at >= %(cutoff)s AND occurred_at < %(cutoff)s + %(ltv)s), 0)
        AS revenue_ltv,
    count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) FILTER (
        WHERE occurred_at >= %(cutoff)s AND occurred_at < %(cutoff)s + %(churn)s
    ) AS purchase_days_churn,
    coalesce(sum(revenue) FILTER (
        WHERE occurred_at >= %(cutoff)s + %(upgrade)s - interval '365 days' AND occurred_at < %(cutoff)s + %(upgrade)s
    ), 0) AS trailing_revenue_after
FROM {EVENTS}
WHERE event_type = 'purchase'
  AND profile_id IS NOT NULL
  AND occurred_at >= %(cutoff)s::timestamptz - interval '365 days'
  AND occurred_at < %(cutoff)s::timestamptz + %(longest)s
GROUP BY profile_id
"""


def compile_labels(cutoff: datetime, horizons_days: dict[str, int]) -> tuple[str, dict[str, object]]:
    """What happened in the horizons after ``cutoff``: purchases, revenue, the trailing spend
    ``upgrade`` days later. Only read for training and evaluation, never for features."""
    from datetime import timedelta

    spans = {kind: timedelta(days=days) for kind, days in horizons_days.items()}
    return LABELS_SQL, {"cutoff": cutoff, **spans, "longest": max(spans.values())}
