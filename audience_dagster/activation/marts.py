"""``marts.next_best_actions`` and ``marts.price_offers``, computed in PostgreSQL (one
INSERT … SELECT each, swapped in whole).

Next best action: documented rules over scores, segments, predictions and recommendations
(``queries/next_best_actions.sql``), first match wins:

| priority | action | when |
| --- | --- | --- |
| 0 | ``none`` | no consent, or do-not-track |
| 1 | ``win_back`` | a customer in ``at-risk-customers`` or with churn probability ≥ 0.5 |
| 2 | ``upsell_premium`` | a customer with WTP score ≥ 70 (item: their top product) |
| 3 | ``first_purchase_nudge`` | no order yet, WTP score ≥ 60 (item: their top product) |
| 4 | ``cross_sell`` | a customer with next-purchase probability ≥ 0.3 (item: top product) |
| 5 | ``subscribe_newsletter`` | has an email, not subscribed, engagement score ≥ 40 |
| 6 | ``nurture_content`` | everyone else (item: their top content) |
"""

from __future__ import annotations

from datetime import datetime

import psycopg2.extensions

from audience_dagster.activation.pricing import PricingPolicy, compile_offers
from audience_dagster.activation.schema import statement
from audience_dagster.activation.tables import replace_table_from_query

ACTION_THRESHOLDS = {
    "churn_threshold": 0.5,
    "upsell_wtp": 70,
    "nudge_wtp": 60,
    "cross_sell_threshold": 0.3,
    "subscribe_engagement": 40,
}
ACTION_COLUMNS = ("profile_id", "action", "priority", "reason", "item_id", "computed_at")
OFFER_COLUMNS = (
    "profile_id",
    "offer",
    "discount_pct",
    "reason",
    "wtp_score",
    "price_sensitivity",
    "valid_until",
    "computed_at",
)


def build_next_best_actions(conn: psycopg2.extensions.connection, as_of: datetime) -> dict[str, int]:
    """Replace ``marts.next_best_actions``; profiles per action."""
    with conn.cursor() as cur:
        params = {"as_of": as_of, **ACTION_THRESHOLDS}
        replace_table_from_query(cur, "marts.next_best_actions", ACTION_COLUMNS, statement("next_best_actions"), params)
        cur.execute("SELECT action, count(*) FROM marts.next_best_actions GROUP BY 1 ORDER BY 1")
        counts = dict(cur.fetchall())
    conn.commit()
    return counts


def build_price_offers(
    conn: psycopg2.extensions.connection, policy: PricingPolicy, as_of: datetime
) -> dict[str, object]:
    """Replace ``marts.price_offers``; offers per kind and the largest discount given."""
    sql, params = compile_offers(policy, as_of)
    with conn.cursor() as cur:
        replace_table_from_query(cur, "marts.price_offers", OFFER_COLUMNS, sql, params)
        cur.execute("SELECT offer, count(*) FROM marts.price_offers GROUP BY 1 ORDER BY 1")
        figures: dict[str, object] = {f"offers_{offer}": n for offer, n in cur.fetchall()}
        cur.execute("SELECT coalesce(max(discount_pct), 0) FROM marts.price_offers")
        figures["max_discount_pct"] = float(cur.fetchone()[0])
    conn.commit()
    return figures
