"""RFM (recency, frequency, monetary) scores 1–5 among customers, and the spec's segment map.

Quintiles follow the spec's ``getQuintile`` exactly and are defined by *rank*, never by sort
order: a value's percentile is the share of customers with a strictly smaller value
(``searchsorted(sorted, v, 'left') / n``), and the score is 1 for a percentile ≤ 0.2, 2 for
≤ 0.4, 3 for ≤ 0.6, 4 for ≤ 0.8, else 5. Tied values therefore always share a score. When most
customers have one order, they all have percentile 0 and frequency 1, and the first customer
with two orders jumps to the quintile of the share below them (e.g. 4 when 70% have one order):
quintiles are not equally filled when values tie, by design.

Recency is scored on whole days since the last order with the scale reversed
(``6 − quintile``): fewer days is better. Only profiles with ``total_orders > 0`` and a
``last_order_at`` are scored; the others keep NULL scores and no segment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audience_dagster.scoring.parameters import RFM_SEGMENTS as SEGMENTS
from tests.scoring.oracle.engagement import days_since


def quintile(values: pd.Series | np.ndarray) -> np.ndarray:
    """The spec's getQuintile for every value against the same values (1–5, ties equal)."""
    array = np.asarray(values, dtype=float)
    ordered = np.sort(array)
    percentile = np.searchsorted(ordered, array, side="left") / len(array)
    return np.digitize(percentile, [0.2, 0.4, 0.6, 0.8], right=True).astype(np.int64) + 1


def rfm_segment(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The spec's getRFMSegment, first matching rule wins."""
    conditions = [
        (r >= 4) & (f >= 4) & (m >= 4),
        f >= 4,
        (r >= 4) & (f >= 2),
        r >= 4,
        (r <= 2) & (f >= 3),
        (r <= 2) & (f >= 2) & (m >= 2),
        (r <= 2) & (f <= 2),
    ]
    return np.select(conditions, list(SEGMENTS[:-1]), default=SEGMENTS[-1])


def rfm_scores(profiles: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``rfm_recency, rfm_frequency, rfm_monetary`` (nullable ints) and ``rfm_segment`` per profile."""
    out = pd.DataFrame(index=profiles.index)
    for column in ("rfm_recency", "rfm_frequency", "rfm_monetary"):
        out[column] = pd.array([pd.NA] * len(profiles), dtype="Int64")
    out["rfm_segment"] = pd.Series(None, index=profiles.index, dtype=object)
    customers = (profiles["total_orders"].fillna(0) > 0) & profiles["last_order_at"].notna()
    if not customers.any():
        return out
    c = profiles.loc[customers]
    r = 6 - quintile(days_since(c["last_order_at"], as_of))
    f = quintile(c["total_orders"])
    m = quintile(pd.to_numeric(c["total_revenue"]).fillna(0))
    out.loc[customers, "rfm_recency"] = r
    out.loc[customers, "rfm_frequency"] = f
    out.loc[customers, "rfm_monetary"] = m
    out.loc[customers, "rfm_segment"] = rfm_segment(r, f, m)
    return out
