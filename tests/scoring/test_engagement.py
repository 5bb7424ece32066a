"""The spec's engagement formula, by hand."""

from __future__ import annotations

import pandas as pd

from tests.scoring.oracle.engagement import engagement_components, engagement_score

AS_OF = pd.Timestamp("2026-11-01T12:00:00Z")


def activity(rows: dict[str, dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index")
    for t in ("purchase", "email_click", "article_read", "video_watch", "download"):
        if f"has_{t}" not in frame:
            frame[f"has_{t}"] = False
    return frame


def test_each_component_by_hand() -> None:
    last_seen = pd.Series(
        pd.to_datetime(
            [
                "2026-10-26T12:00:00Z",  # 6 days: 30
                "2026-10-25T11:00:00Z",  # 7 days 1 hour -> 7 whole days: 30
                "2026-10-20T12:00:00Z",  # 12 days: 20
                "2026-10-10T12:00:00Z",  # 22 days: 10
                "2026-09-01T12:00:00Z",  # 61 days: 0
                None,  # never seen: 0
            ],
            utc=True,
        ),
        index=list("abcdef"),
    )
    acts = activity(
        {
            "a": {"active_days": 4, "has_purchase": True},  # 12 + 15
            "b": {"active_days": 12, "has_email_click": True, "has_download": True},  # 30 (cap) + 10 + 5
            "c": {"active_days": 1, "has_article_read": True, "has_video_watch": True},  # 3 + 5 + 5
        }
    )
    parts = engagement_components(last_seen, acts, AS_OF)
    assert parts["recency"].tolist() == [30, 30, 20, 10, 0, 0]
    assert parts["frequency"].tolist() == [12, 30, 3, 0, 0, 0]
    assert engagement_score(last_seen, acts, AS_OF).tolist() == [57, 75, 33, 10, 0, 0]


def test_capped_at_100() -> None:
    last_seen = pd.Series(pd.to_datetime(["2026-11-01T00:00:00Z"], utc=True), index=["x"])
    everything = {f"has_{t}": True for t in ("purchase", "email_click", "article_read", "video_watch", "download")}
    acts = activity({"x": {"active_days": 30, **everything}})
    # 30 + 30 + 40 = 100 exactly; the cap is the spec's Math.min(100, score)
    assert engagement_score(last_seen, acts, AS_OF).tolist() == [100]
