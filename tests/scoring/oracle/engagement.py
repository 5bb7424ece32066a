"""The spec's engagement score (0–100), for every profile at once.

As of a date ``as_of`` (default: now):

* **recency** of ``last_seen_at``: 30 points within 7 days, 20 within 14, 10 within 30
  (days = whole days elapsed, rounded down);
* **frequency**: distinct UTC calendar days with an event in the 30 days up to ``as_of``,
  3 points each, at most 30;
* **depth**: for each kind of engagement seen in those 30 days — purchase 15, email_click 10,
  article_read 5, video_watch 5, download 5 (:data:`DEPTH_EVENT_TYPES` says which event types
  of ``audience_events`` count for each);

capped at 100. The per-profile 30-day aggregates come from ``audience_events`` in one SQL pass
(:data:`ACTIVITY_SQL`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audience_dagster.scoring.parameters import (
    DEPTH_POINTS,
    MAX_FREQUENCY_POINTS,
    POINTS_PER_ACTIVE_DAY,
    RECENCY_POINTS,
)


def days_since(times: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Whole days from each time to ``as_of`` (floor); NaN where the time is missing."""
    delta = as_of - pd.to_datetime(times, utc=True)
    return np.floor(delta / pd.Timedelta(days=1))


def engagement_components(last_seen_at: pd.Series, activity: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Points per component (``recency``, ``frequency``, one column per depth type), indexed like
    ``last_seen_at``. ``activity``: ``active_days`` and ``has_<type>`` columns indexed by the same
    profile ids (profiles without activity in the window may be missing)."""
    activity = activity.reindex(last_seen_at.index)
    days = days_since(last_seen_at, as_of)
    recency = np.select([days <= within for within, _ in RECENCY_POINTS], [p for _, p in RECENCY_POINTS], 0)
    out = pd.DataFrame(index=last_seen_at.index)
    out["recency"] = np.where(days.isna(), 0, recency).astype(np.int64)
    active = activity["active_days"].fillna(0).to_numpy(dtype=np.int64)
    out["frequency"] = np.minimum(MAX_FREQUENCY_POINTS, active * POINTS_PER_ACTIVE_DAY)
    for event_type, points in DEPTH_POINTS.items():
        seen = activity[f"has_{event_type}"].fillna(False).to_numpy(dtype=bool)
        out[event_type] = np.where(seen, points, 0)
    return out


def engagement_score(last_seen_at: pd.Series, activity: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """The spec's engagement score, 0–100 (see the module docstring)."""
    total = engagement_components(last_seen_at, activity, as_of).sum(axis=1)
    return total.clip(upper=100).astype(np.int64).rename("engagement_score")
