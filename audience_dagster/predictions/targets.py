"""What each prediction type means, as labels from the purchases after a cutoff.

| type | label after the cutoff | kind |
| --- | --- | --- |
| ``churn`` | 1 when the profile makes **no purchase** within the churn horizon (90 days) | probability |
| ``next_purchase`` | 1 when it makes a purchase within the next-purchase horizon (30 days) | probability |
| ``ltv`` | its revenue over the LTV horizon (365 days) | amount |
| ``upgrade`` | 1 when it moves into a higher **spend tier** within the upgrade horizon (90 days) | probability |

Spend tiers: tier 0 is no spend in the trailing 365 days; tiers 1-4 are the quartiles of the
trailing 365-day revenue among the spending profiles at the training cutoff (the edges are
saved in the model card). "Moving up" compares the tier of the trailing 365 days at the cutoff
with the tier of the trailing 365 days at the end of the horizon. So a visitor's or
subscriber's upgrade is their first purchase, a customer's upgrade is spending enough to
reach the next band; the top tier cannot upgrade.

Churn is defined for everyone: for somebody who never bought, "no purchase within 90 days"
is the complement of converting. Holdout metrics are reported over customers (people with
a purchase before the cutoff), where churn is the question a business asks, and over
everyone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audience_dagster.predictions.baseline import spend_tier

PREDICTION_TYPES = ("churn", "next_purchase", "ltv", "upgrade")
PROBABILITIES = ("churn", "next_purchase", "upgrade")
TIER_QUANTILES = (0.25, 0.5, 0.75)


def tier_edges(revenue_365d: pd.Series) -> np.ndarray:
    """Quartile edges of the trailing revenue of the spending profiles (empty when nobody spends)."""
    spending = revenue_365d[revenue_365d > 0]
    if spending.empty:
        return np.array([], dtype=float)
    return np.unique(np.quantile(spending.to_numpy(float), TIER_QUANTILES))


def make_targets(features: pd.DataFrame, labels: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    """One label column per prediction type for every profile of ``features`` (no purchase after
    the cutoff = no row in ``labels``)."""
    joined = labels.reindex(features.index)
    orders_churn = joined["orders_churn"].fillna(0).to_numpy()
    orders_next = joined["orders_next"].fillna(0).to_numpy()
    before = spend_tier(features["revenue_365d"].to_numpy(), edges)
    after = spend_tier(joined["trailing_revenue_after"].fillna(0).to_numpy(), edges)
    return pd.DataFrame(
        {
            "churn": (orders_churn == 0).astype(np.int8),
            "next_purchase": (orders_next > 0).astype(np.int8),
            "ltv": joined["revenue_ltv"].fillna(0).to_numpy(float),
            "upgrade": (after > before).astype(np.int8),
        },
        index=features.index,
    )
