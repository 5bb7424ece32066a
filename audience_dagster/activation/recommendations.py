"""``marts.recommendations``: per profile, the top products and content from events and orders.

Interactions come out of PostgreSQL already aggregated (one COPY: profile, item type, item,
weight — purchase line items 3, add to cart 2, product views and content consumed 1), the model
(:class:`~audience_dagster.activation.recommend.ItemCooccurrence`) is fitted per item type, and
the lists go back with one COPY into a fresh table swapped in for the old one (readers never see
a half-written table). Bought products and consumed content are never recommended.

The model is fitted on the prediction models' training cadence (weekly) and kept in the
warehouse (:mod:`.recommendation_model`); an hourly refresh in between reads only the events of
the profiles whose events changed (audience_events' change log) and replaces only their lists,
in one transaction. Until the next fit, an item first seen since the fit is not recommended, and
the co-occurrence other people's new events add is not learnt (docs/activation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg2.extensions
import scipy.sparse as sp

from audience_dagster.activation.recommend import ItemCooccurrence, Recommendations, interaction_matrix
from audience_dagster.activation.recommendation_model import fitted_as_of, load_model, save_models
from audience_dagster.activation.tables import replace_table
from audience_dagster.clock import cadence_due
from audience_dagster.warehouse.frames import copy_in, copy_out
from audience_dagster.warehouse.profile_changes import Position, changed_profiles, position, record_consumed

PRODUCT_EVENTS = {"product_viewed": 1, "product_added": 2}
CONTENT_EVENTS = ("article_read", "video_watched", "file_downloaded")

# {scope}: every profile (a fit) or the profiles of %(profiles)s (an update between fits)
INTERACTIONS = """
WITH touches AS (
    SELECT profile_id, 'product' AS item_type, properties ->> 'product_id' AS item_id,
           CASE event_type WHEN 'product_added' THEN 2 ELSE 1 END AS weight, false AS consumed
    FROM marts.audience_events AS e
    WHERE event_type IN ('product_viewed', 'product_added') AND properties ->> 'product_id' IS NOT NULL
      AND occurred_at < %(before)s AND {scope}
    UNION ALL
    SELECT e.profile_id, 'product', item ->> 'product_id', 3, true
    FROM marts.audience_events AS e CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(e.properties -> 'products') = 'array' THEN e.properties -> 'products' ELSE '[]' END
    ) AS item
    WHERE e.event_type = 'purchase' AND item ->> 'product_id' IS NOT NULL AND e.occurred_at < %(before)s
      AND {scope}
    UNION ALL
    SELECT profile_id, 'content', coalesce(content_id::text, properties ->> 'content_id'), 1, true
    FROM marts.audience_events AS e
    WHERE event_type IN ('article_read', 'video_watched', 'file_downloaded')
      AND coalesce(content_id::text, properties ->> 'content_id') IS NOT NULL AND occurred_at < %(before)s
      AND {scope}
)
SELECT t.profile_id::text AS profile_id, t.item_type, t.item_id, sum(t.weight) AS weight,
       bool_or(t.consumed) AS consumed
FROM touches AS t
WHERE t.profile_id IS NOT NULL
GROUP BY 1, 2, 3
"""
# the partitions' profile_id index finds a list's events (= ANY(array): the list is read once)
SCOPED = "e.profile_id = ANY(%(profiles)s::uuid[])"

LIVE_PROFILES = "SELECT id::text AS profile_id FROM marts.audience_profiles"
CONSUMER = "marts.recommendations"  # its row in audience_events' change log consumers


def read_interactions(
    conn: psycopg2.extensions.connection, before: datetime, profiles: list[str] | None = None
) -> pd.DataFrame:
    """profile_id, item_type, item_id, weight, consumed (bought / read) — events before ``before``,
    of every profile or of ``profiles``."""
    sql = INTERACTIONS.format(scope="true" if profiles is None else SCOPED)
    query = conn.cursor().mogrify(sql, {"before": before, "profiles": profiles}).decode()
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


def _matrices(
    interactions: pd.DataFrame, profiles: pd.Index, item_type: str, items: pd.Index | None
) -> tuple[pd.Index, sp.csr_matrix, sp.csr_matrix] | None:
    """Items, history and exclusions (profiles × items, rows in ``profiles``' order) of one item
    type; ``items`` None: the items the interactions touch, in order of appearance (a fit), else
    those items only (a stored model knows no other). None without any interaction."""
    part = interactions[interactions["item_type"] == item_type]
    part = part[part["profile_id"].isin(profiles)]
    if items is None:
        if part.empty:
            return None
        items = pd.Index(part["item_id"].unique())
    cols = items.get_indexer(part["item_id"])
    known = cols >= 0
    part, cols = part[known], cols[known]
    rows = profiles.get_indexer(part["profile_id"])
    shape = (len(profiles), len(items))
    history = interaction_matrix(rows, cols, part["weight"].to_numpy(), shape)
    consumed = part["consumed"].to_numpy()
    exclude = sp.csr_matrix((np.ones(consumed.sum(), np.float32), (rows[consumed], cols[consumed])), shape=shape)
    return items, history, exclude


def fit_type(interactions: pd.DataFrame, profiles: pd.Index, item_type: str) -> TypeModel | None:
    """The model of one item type over ``profiles`` (rows in that order); None without items."""
    matrices = _matrices(interactions, profiles, item_type, None)
    if matrices is None:
        return None
    items, history, exclude = matrices
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


def _item_types(n: int) -> tuple[tuple[str, int], ...]:
    return (("product", n), ("content", max(1, n // 2)))


def _lists(fitted: list[TypeModel], profiles: pd.Index, n: int, as_of: datetime) -> tuple[pd.DataFrame, dict]:
    """Every type's lists for ``profiles`` in one frame, and each type's figures."""
    frames, figures = [], {}
    counts = dict(_item_types(n))
    for model in fitted:
        rows = recommendation_rows(model, profiles, counts[model.item_type])
        frames.append(rows)
        figures[f"{model.item_type}_items"] = len(model.items)
        figures[f"{model.item_type}_from_history_share"] = round(float((rows["reason"] == "co_occurrence").mean()), 4)
    result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["profile_id"])
    result["computed_at"] = as_of
    return result, figures


def _fit(conn: psycopg2.extensions.connection, as_of: datetime, n: int) -> dict[str, object]:
    """Fit on every event before ``as_of``, keep the model, replace ``marts.recommendations``."""
    interactions = read_interactions(conn, as_of)
    profiles = pd.Index(copy_out(conn, LIVE_PROFILES)["profile_id"])
    fitted = [m for item_type, _ in _item_types(n) if (m := fit_type(interactions, profiles, item_type))]
    result, figures = _lists(fitted, profiles, n, as_of)
    with conn.cursor() as cur:
        replace_table(cur, "marts.recommendations", result)
        save_models(cur, [(m.item_type, m.items, m.model) for m in fitted], as_of)
    return {**figures, "profiles": len(profiles), "rows": len(result), "interactions": len(interactions)}


def _update(conn: psycopg2.extensions.connection, as_of: datetime, n: int, changed: list[str]) -> dict[str, object]:
    """The lists of the ``changed`` profiles, with the stored model, in place of theirs (a
    profile merged away or erased loses its rows and gets none)."""
    if not changed:
        return {"profiles": 0, "rows": 0, "interactions": 0}
    with conn.cursor() as cur:
        live_sql = cur.mogrify(LIVE_PROFILES + " WHERE id = ANY(%s::uuid[]) ORDER BY 1", (changed,)).decode()
    profiles = pd.Index(copy_out(conn, live_sql)["profile_id"])
    interactions = read_interactions(conn, as_of, list(profiles))
    fitted = []
    for item_type, _ in _item_types(n):
        stored = load_model(conn, item_type)
        if stored is not None:
            items, model = stored
            _, history, exclude = _matrices(interactions, profiles, item_type, items)
            fitted.append(TypeModel(item_type, items, model, history, exclude))
    result, figures = _lists(fitted, profiles, n, as_of)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM marts.recommendations WHERE profile_id = ANY(%s::uuid[])", (changed,))
        if len(result):
            copy_in(cur, "marts.recommendations", result)
    return {**figures, "profiles": len(profiles), "rows": len(result), "interactions": len(interactions)}


def fit_due(at: Position, fitted: datetime | None, cron: str | None, as_of: datetime) -> tuple[bool, str]:
    """Whether this build fits the model again (else it updates the changed profiles), and why."""
    if cron is None:
        return True, "no training cadence given: every build fits"
    if fitted is None:
        return True, "never fitted"
    if at.stale:
        return True, "audience_events was built in full since the last build (or the change log is new)"
    return cadence_due(fitted, cron, as_of)


def build_recommendations(
    conn: psycopg2.extensions.connection, as_of: datetime, n: int, cron: str | None = None
) -> dict[str, object]:
    """Refresh ``marts.recommendations`` as of ``as_of`` and commit; figures.

    On the training cadence ``cron`` (the prediction models' weekly cron) the model is fitted on
    every event before ``as_of`` and every profile's lists are replaced (also when never fitted,
    after a full build of audience_events, and always when ``cron`` is None); between two ticks
    only the profiles whose events changed since the last build (audience_events' change log,
    :mod:`audience_dagster.warehouse.profile_changes`) get new lists, from the stored model."""
    with conn.cursor() as cur:
        at = position(cur, CONSUMER)
        due, why = fit_due(at, fitted_as_of(cur), cron, as_of)
        changed = [] if due else changed_profiles(cur, at)
    figures = _fit(conn, as_of, n) if due else _update(conn, as_of, n, changed)
    with conn.cursor() as cur:
        record_consumed(cur, CONSUMER, at.latest)
    conn.commit()
    return {**figures, "mode": "fit" if due else "update", "reason": why, "changed_profiles": len(changed)}
