"""Lifecycle stage: anonymous, visitor, subscriber, customer, advocate (first rule that holds,
from the top):

* ``advocate`` — a customer with at least :data:`ADVOCATE_MIN_ORDERS` orders who also engages
  (engagement score ≥ :data:`ADVOCATE_MIN_ENGAGEMENT`): a repeat buyer who keeps coming back;
* ``customer`` — at least one order;
* ``subscriber`` — subscribed to email (``email_subscribed``);
* ``visitor`` — known: the profile has an email, a phone or an external id (user id, Shopify
  customer, email-provider contact, social handle), but no order and no subscription;
* ``anonymous`` — only device identifiers (cookies, app devices).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audience_dagster.scoring.parameters import ADVOCATE_MIN_ENGAGEMENT, ADVOCATE_MIN_ORDERS


def lifecycle_stage(profiles: pd.DataFrame, engagement_score: pd.Series) -> pd.Series:
    """Stage per profile. ``profiles`` needs ``total_orders``, ``email_subscribed`` and ``known``
    (email, phone or any external id present — computed in SQL by the reader)."""
    orders = profiles["total_orders"].fillna(0).to_numpy()
    stage = np.select(
        [
            (orders >= ADVOCATE_MIN_ORDERS) & (engagement_score.to_numpy() >= ADVOCATE_MIN_ENGAGEMENT),
            orders > 0,
            profiles["email_subscribed"].fillna(False).to_numpy(dtype=bool),
            profiles["known"].fillna(False).to_numpy(dtype=bool),
        ],
        ["advocate", "customer", "subscriber", "visitor"],
        default="anonymous",
    )
    return pd.Series(stage, index=profiles.index, name="lifecycle_stage")
