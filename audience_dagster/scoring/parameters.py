"""The scores' parameters: points, windows and thresholds of the formulas (docs/scoring.md),
read by the one implementation (the SQL compiled in :mod:`.sql`) and by the tests' oracle."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# engagement: recency of last_seen_at, active days in the window, depth by kind of event
WINDOW_DAYS = 30
RECENCY_POINTS: tuple[tuple[int, int], ...] = ((7, 30), (14, 20), (30, 10))  # (within days, points)
POINTS_PER_ACTIVE_DAY = 3
MAX_FREQUENCY_POINTS = 30
DEPTH_POINTS: Mapping[str, int] = MappingProxyType(
    {"purchase": 15, "email_click": 10, "article_read": 5, "video_watch": 5, "download": 5}
)

# the event types of audience_events that count for each depth kind
DEPTH_EVENT_TYPES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "purchase": ("purchase",),
        "email_click": ("email_click",),
        "article_read": ("article_read",),
        "video_watch": ("video_watch", "video_watched"),
        "download": ("download", "file_downloaded"),
    }
)

# lifecycle: the first stage that holds, from advocate down
STAGES = ("anonymous", "visitor", "subscriber", "customer", "advocate")
ADVOCATE_MIN_ORDERS = 3
ADVOCATE_MIN_ENGAGEMENT = 50

# lead and health: base points before the signals
LEAD_BASE, HEALTH_BASE = 0, 50

# RFM: the spec's segment map, in the order the conditions are tried
RFM_SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalist",
    "recent",
    "at_risk",
    "hibernating",
    "lost",
    "needs_attention",
)

# what the scores statement writes per profile
SCORE_COLUMNS = (
    "engagement_score",
    "wtp_score",
    "lead_score",
    "health_score",
    "lifecycle_stage",
    "rfm_recency",
    "rfm_frequency",
    "rfm_monetary",
    "rfm_segment",
)
