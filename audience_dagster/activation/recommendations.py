"""``marts.recommendations``: per profile, the top products and content from events and orders.

Interactions come out of PostgreSQL already aggregated (one COPY: profile, item type, item,
weight — purchase line items 3, add to cart 2, product views and content consumed 1), the model
(:class:`~audience_dagster.activation.recommend.ItemCooccurrence`) is fitted per item type, and
the lists go back with one COPY into a fresh table swapped in for the old one (readers never see
a half-written table). Bought products and consumed content are never recommended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg2.extensions
import scipy.sparse as sp

from audience_dagster.activation.recommend import ItemCooccurrence, Recommendations, interaction_matrix
from audience_dagster.activation.tables import replace_table
from audience_dagster.warehouse.frames import copy_out

PRODUCT_EVENTS = {"product_viewed": 1, "product_added": 2}
CONTENT_EVENTS = ("article_read", "video_watched", "file_downloaded")

INTERACTIONS = """
WITH touches AS (
    SELECT profile_id, 'product' AS item_type, properties ->> 'product_id' AS item_id,
           CASE event_type WHEN 'product_added' THEN 2 ELSE 1 END AS weight, false AS consumed
    FROM marts.audience_events
    WHERE event_type IN ('product_viewed', 'product_added') AND properties ->> 'product_id' IS NOT NULL
      AND occurred_at < %(before)s
    UNION ALL
    SELECT e.profile_id, 'product', item ->> 'product_id', 3, true
    FROM marts.audience_events AS e CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(e.properties -> 'products') = 'array' THEN e.properties -> 'products' ELSE '[]' END
    ) AS item
    WHERE e.event_type = 'purchase' AND item ->> 'product_id' IS NOT NULL AND e.occurred_at < %(before)s
    UNION ALL
    SELECT profile_id, 'content', coalesce(content_id::text, properties ->> 'content_id'), 1, true
    FROM marts.audience_events
    WHERE event_type IN ('article_read', 'video_watched', 'file_downloaded')
      AND coalesce(content_id::text, properties ->> 'content_id') IS NOT NULL AND occurred_at < %(before)s
)
SELECT t.profile_id::text AS profile_id, t.item_type, t.item_id, sum(t.weight) AS weight,
       bool_or(t.consumed) AS consumed
FROM touches AS t
WHERE t.profile_id IS NOT NULL
GROUP BY 1, 2, 3
"""

LIVE_PROFILES = "SELECT id::text AS profile_id FROM marts.audience_profiles"


def read_interactions(conn: psycopg2.extensions.connection, before: datetime) -> pd.DataFrame:
    """profile_id, item_type, item_id, weight, consumed (bought / read) — events before ``before``."""
    query = conn.cursor().mogrify(INTERACTIONS, {"before": before}).decode()
    frame = copy_out(conn, query)
    return frame.astype({"weight": np.float32}).assign(consumed=frame["consumed"] == "t")


@dataclass
class TypeModel:
    """One item type's fitted model with its id ↔ index maps."""

    item_type: str
    items: pd.Index
    model: ItemCooccurrence
    history: sp.csr_matrix
    exclude: sp.csr_matrix


def fit_type(interactions: pd.DataFrame, profiles: pd.Index, item_type: str) -> TypeModel | None:
    """The model of one item type over ``profiles`` (rows in that order); None without items."""
    part = interactions[interactions["item_type"] == item_type]
    part = part[part["profile_id"].isin(profiles)]
    if part.empty:
        return None
    items = pd.Index(part["item_id"].unique())
    rows = profiles.get_indexer(part["profile_id"])
    cols = items.get_indexer(part["item_id"])
    shape = (len(profiles), len(items))
    history = interaction_matrix(rows, cols, part["weight"].to_numpy(), shape)
    consumed = part["consumed"].to_numpy()
    exclude = sp.csr_matrix((np.ones(consumed.sum(), np.float32), (rows[consumed], cols[consumed])), shape=shape)
    return TypeModel(item_type, items, ItemCooccurrence().fit(history), history, exclude)


def recommendation_rows(fitted: TypeModel, profiles: pd.Index, n: int) -> pd.DataFrame:
    """The long table of one item type: profile_id, item_type, item_id, rank, score, reason."""
    recs: Recommendations = fitted.model.recommend(fitted.history, fitted.exclude, n)
    valid = recs.items >= 0
    row, slot = np.nonzero(valid)
    return pd.DataFrame(
        {
            "profile_id": profiles.to_numpy()[row],
            "item_type": fitted.item_type,
            "item_id": fitted.items.to_numpy()[recs.items[row, slot]],
            "rank": slot + 1,
            "score": np.round(recs.scores[row, slot].astype(np.float64), 6),
            "reason": np.where(recs.from_history[row, slot], "co_occurrence", "popular"),
        }
    )


def build_recommendations(conn: psycopg2.extensions.connection, as_of: datetime, n: int) -> dict[str, object]:
    """Fit on every event before ``as_of`` and replace ``marts.recommendations``; figures."""
    interactions = read_interactions(conn, as_of)
    profiles = pd.Index(copy_out(conn, LIVE_PROFILES)["profile_id"])
    frames, figures = [], {}
    for item_type, count in (("product", n), ("content", max(1, n // 2))):
        fitted = fit_type(interactions, profiles, item_type)
        if fitted is None:
            figures[f"{item_type}_items"] = 0
            continue
        rows = recommendation_rows(fitted, profiles, count)
        frames.append(rows)
        figures[f"{item_type}_items"] = len(fitted.items)
        figures[f"{item_type}_from_history_share"] = round(float((rows["reason"] == "co_occurrence").mean()), 4)
    result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["profile_id"])
    result["computed_at"] = as_of
    with conn.cursor() as cur:
        replace_table(cur, "marts.recommendations", result)
    conn.commit()
    figures.update(profiles=len(profiles), rows=len(result), interactions=len(interactions))
    return figures
