"""Lead score (sales readiness) and health score (relationship health), 0–100.

The spec names both without formulas. Each is a transparent sum of documented signals, base
plus points, clamped to 0–100, and every signal that moved a profile's score is stored as a
contribution (like WTP), so any score can be explained.

**Lead score** — how ready is this person to buy (now)? Base 0:

| signal | points |
| --- | --- |
| ``contactable``: known email or phone and not do-not-track | +10 |
| ``subscribed``: subscribed to email | +10 |
| ``engagement``: engagement score × 0.3, rounded half up | 0…+30 |
| ``email_clicker``: clicked at least one email / more than five | +10 / +15 |
| ``shopping_intent``: added to cart or started checkout in the last 30 days | +20 |
| ``recently_active``: seen in the last 7 days | +10 |
| ``unreachable``: email bounced or marked as spam | −20 |

**Health score** — is the relationship going well? Base 50:

| signal | points |
| --- | --- |
| ``on_cadence`` / ``lapsed``: (≥ 2 orders) days since the last order ≤ 1.5× / > 3× | +20 / −20 |
|   the person's own mean gap between orders (in between: 0 points) | |
| ``recent_first_order`` / ``stale_single_order``: one order, ≤ 90 / > 365 days ago | +10 / −15 |
| ``engaged`` / ``disengaged``: engagement score ≥ 60 / ≤ 10 | +15 / −15 |
| ``active`` / ``gone_quiet``: seen within 30 days / not for 180 days | +10 / −20 |
| ``subscribed``: subscribed to email | +5 |
| ``unsubscribed``: once subscribed, no longer | −15 |
| ``bounced`` / ``spam_report``: an email bounced / marked as spam | −10 / −20 |

Inputs: profile columns plus per-profile event aggregates from ``scoring/warehouse.py:SIGNALS_SQL``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tests.scoring.oracle.engagement import days_since
from tests.scoring.oracle.explain import accumulate


@dataclass(frozen=True)
class Signal:
    """A named rule: points (a constant or per-profile array) where ``when`` holds."""

    name: str
    when: Callable[[pd.DataFrame, pd.Timestamp], np.ndarray]
    points: int | Callable[[pd.DataFrame, pd.Timestamp], np.ndarray]


def _col(frame: pd.DataFrame, name: str, fill: object = 0) -> np.ndarray:
    return frame[name].fillna(fill).to_numpy()


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].fillna(False).to_numpy(dtype=bool)


def _days(frame: pd.DataFrame, name: str, as_of: pd.Timestamp) -> np.ndarray:
    return days_since(frame[name], as_of).to_numpy(dtype=float)  # NaN when missing


def _cadence_ratio(f: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    orders = _col(f, "total_orders").astype(float)
    span = (
        pd.to_datetime(f["last_order_at"], utc=True) - pd.to_datetime(f["first_order_at"], utc=True)
    ) / pd.Timedelta(days=1)
    gap = span.to_numpy(dtype=float) / np.maximum(orders - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _days(f, "last_order_at", as_of) / np.maximum(gap, 1.0)
    return np.where(orders >= 2, ratio, np.nan)


LEAD_SIGNALS: tuple[Signal, ...] = (
    Signal(
        "contactable",
        lambda f, _: (f["email"].notna() | f["phone"].notna()).to_numpy() & ~_flag(f, "do_not_track"),
        10,
    ),
    Signal("subscribed", lambda f, _: _flag(f, "email_subscribed"), 10),
    Signal(
        "engagement",
        lambda f, _: _col(f, "engagement_score") > 0,
        lambda f, _: (3 * _col(f, "engagement_score").astype(np.int64) + 5) // 10,
    ),
    Signal(
        "email_clicker",
        lambda f, _: _col(f, "emails_clicked") >= 1,
        lambda f, _: np.where(_col(f, "emails_clicked") > 5, 15, 10),
    ),
    Signal("shopping_intent", lambda f, _: _flag(f, "shopping_intent_30d"), 20),
    Signal("recently_active", lambda f, t: _days(f, "last_seen_at", t) <= 7, 10),
    Signal("unreachable", lambda f, _: _flag(f, "email_bounced") | _flag(f, "email_spam_report"), -20),
)

HEALTH_SIGNALS: tuple[Signal, ...] = (
    Signal("on_cadence", lambda f, t: _cadence_ratio(f, t) <= 1.5, 20),
    Signal("lapsed", lambda f, t: _cadence_ratio(f, t) > 3, -20),
    Signal(
        "recent_first_order",
        lambda f, t: (_col(f, "total_orders") == 1) & (_days(f, "last_order_at", t) <= 90),
        10,
    ),
    Signal(
        "stale_single_order",
        lambda f, t: (_col(f, "total_orders") == 1) & (_days(f, "last_order_at", t) > 365),
        -15,
    ),
    Signal("engaged", lambda f, _: _col(f, "engagement_score") >= 60, 15),
    Signal("disengaged", lambda f, _: _col(f, "engagement_score") <= 10, -15),
    Signal("active", lambda f, t: _days(f, "last_seen_at", t) <= 30, 10),
    Signal("gone_quiet", lambda f, t: _days(f, "last_seen_at", t) > 180, -20),
    Signal("subscribed", lambda f, _: _flag(f, "email_subscribed"), 5),
    Signal(
        "unsubscribed",
        lambda f, _: ~_flag(f, "email_subscribed") & f["email_subscription_date"].notna().to_numpy(),
        -15,
    ),
    Signal("bounced", lambda f, _: _flag(f, "email_bounced"), -10),
    Signal("spam_report", lambda f, _: _flag(f, "email_spam_report"), -20),
)


def score_signals(
    frame: pd.DataFrame, signals: tuple[Signal, ...], base: int, as_of: pd.Timestamp
) -> tuple[pd.Series, pd.DataFrame]:
    """(score 0–100, contributions ``profile, rule, points``) — the same shape as WTP's."""

    def points():
        for signal in signals:
            hit = np.asarray(signal.when(frame, as_of), dtype=bool)
            amount = signal.points(frame, as_of) if callable(signal.points) else signal.points
            yield signal.name, np.where(hit, amount, 0)

    return accumulate(frame.index, base, points())
