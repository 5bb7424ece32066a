"""RFM quintiles (rank-based, ties equal) and the spec's segment map, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.scoring.oracle.rfm import quintile, rfm_scores, rfm_segment

AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")


def test_quintile_of_distinct_values_follows_the_spec() -> None:
    # percentile = share strictly below: 0, .1, .2, … .9 -> 1,1,1,2,2,3,3,4,4,5
    assert quintile(np.arange(10)).tolist() == [1, 1, 1, 2, 2, 3, 3, 4, 4, 5]


def test_quintile_boundaries_are_inclusive() -> None:
    # 5 values: percentiles 0, .2, .4, .6, .8 -> each boundary belongs to the lower quintile
    assert quintile([10, 20, 30, 40, 50]).tolist() == [1, 1, 2, 3, 4]


def test_ties_share_a_score_whatever_the_order() -> None:
    orders = np.array([1] * 7 + [2, 2, 5])
    scores = quintile(orders)
    # 70% share the lowest value (percentile 0 -> 1); 2 orders: 70% below -> 4; 5 orders: 90% -> 5
    assert scores.tolist() == [1] * 7 + [4, 4, 5]
    shuffled = np.random.default_rng(3).permutation(len(orders))
    assert quintile(orders[shuffled]).tolist() == scores[shuffled].tolist()


def test_segment_map_first_rule_wins() -> None:
    r = np.array([5, 3, 4, 5, 2, 1, 2, 3, 1])
    f = np.array([4, 5, 2, 1, 3, 2, 1, 2, 2])
    m = np.array([4, 1, 1, 1, 1, 2, 5, 3, 1])
    assert rfm_segment(r, f, m).tolist() == [
        "champions",
        "loyal",
        "potential_loyalist",
        "recent",
        "at_risk",
        "hibernating",
        "lost",
        "needs_attention",
        "lost",
    ]


def test_only_customers_are_scored_and_recency_is_reversed() -> None:
    profiles = pd.DataFrame(
        {
            "total_orders": [0, 1, 1, 3, 2, 1],
            "total_revenue": [0, 10, 20, 300, 80, 20],
            "last_order_at": pd.to_datetime(
                [None, "2026-10-31", "2025-11-01", "2026-10-01", "2026-06-01", "2026-03-01"], utc=True
            ),
        }
    )
    out = rfm_scores(profiles, AS_OF)
    assert out.loc[0].isna().all()
    # days since 1, 365, 31, 153, 245: below-shares 0, .8, .2, .4, .6 -> quintiles 1, 4, 1, 2, 3
    # -> recency (6 - q) 5, 2, 5, 4, 3
    assert out["rfm_recency"].tolist()[1:] == [5, 2, 5, 4, 3]
    # orders 1,1,3,2,1: below-shares 0,0,.8,.6,0 -> 1,1,4,3,1
    assert out["rfm_frequency"].tolist()[1:] == [1, 1, 4, 3, 1]
    # revenue 10,20,300,80,20: 0,.2,.8,.6,.2 -> 1,1,4,3,1
    assert out["rfm_monetary"].tolist()[1:] == [1, 1, 4, 3, 1]
    assert out["rfm_segment"].tolist()[1:] == ["recent", "lost", "champions", "potential_loyalist", "needs_attention"]
