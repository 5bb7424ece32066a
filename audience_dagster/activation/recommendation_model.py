"""The fitted recommendation model kept in the warehouse between fits (migration
``sql/002_recommendation_model.sql``): per item type, the items in the fit's order with the
people who touched each (the popularity fallback), each item's nearest neighbours with their
similarity, and the clock the fit was made as of. An update between two fits
(:func:`audience_dagster.activation.recommendations.build_recommendations`) scores the changed
profiles with exactly this state, so its lists are the lists a pass over every profile with
the same model gives."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import psycopg2.extensions
import scipy.sparse as sp

from audience_dagster.activation.recommend import ItemCooccurrence
from audience_dagster.activation.tables import replace_table
from audience_dagster.warehouse.frames import copy_out

ITEMS = "marts.recommendation_items"
NEIGHBOURS = "marts.recommendation_neighbours"
FIT = "activation.recommendation_fit"


def save_models(
    cur: psycopg2.extensions.cursor, fitted: list[tuple[str, pd.Index, ItemCooccurrence]], as_of: datetime
) -> None:
    """Replace the stored model with ``fitted`` (item type, items in order, model), fitted as of
    ``as_of`` (uncommitted)."""
    items, neighbours = [], []
    for item_type, index, model in fitted:
        items.append(
            pd.DataFrame(
                {
                    "item_type": item_type,
                    "position": np.arange(len(index)),
                    "item_id": index,
                    "people": model.popularity_,
                }
            )
        )
        similarity = model.similarity_.tocoo()
        neighbours.append(
            pd.DataFrame(
                {
                    "item_type": item_type,
                    "item": similarity.row,
                    "neighbour": similarity.col,
                    "similarity": similarity.data,
                }
            )
        )
    empty = {"item_type": []}
    replace_table(cur, ITEMS, pd.concat(items, ignore_index=True) if items else pd.DataFrame(empty))
    replace_table(cur, NEIGHBOURS, pd.concat(neighbours, ignore_index=True) if neighbours else pd.DataFrame(empty))
    cur.execute(
        f"INSERT INTO {FIT} (singleton, fitted_as_of, fitted_at) VALUES (true, %s, now())"
        " ON CONFLICT (singleton) DO UPDATE SET fitted_as_of = excluded.fitted_as_of, fitted_at = excluded.fitted_at",
        (as_of,),
    )


def fitted_as_of(cur: psycopg2.extensions.cursor) -> datetime | None:
    """The clock of the stored fit (None: never fitted)."""
    cur.execute(f"SELECT fitted_as_of FROM {FIT}")
    row = cur.fetchone()
    return row[0] if row else None


def load_model(conn: psycopg2.extensions.connection, item_type: str) -> tuple[pd.Index, ItemCooccurrence] | None:
    """The stored model of one item type: its items (in the fit's order) and the model; None
    when the fit had no items of that type."""
    with conn.cursor() as cur:
        items_sql = cur.mogrify(
            f"SELECT item_id, people FROM {ITEMS} WHERE item_type = %s ORDER BY position", (item_type,)
        )
        pairs_sql = cur.mogrify(
            f"SELECT item, neighbour, similarity FROM {NEIGHBOURS} WHERE item_type = %s", (item_type,)
        )
    items = copy_out(conn, items_sql.decode())
    if items.empty:
        return None
    pairs = copy_out(conn, pairs_sql.decode())
    shape = (len(items), len(items))
    similarity = sp.csr_matrix(
        (
            pairs["similarity"].to_numpy(np.float32),
            (pairs["item"].to_numpy(np.int64), pairs["neighbour"].to_numpy(np.int64)),
        ),
        shape=shape,
    )
    return pd.Index(items["item_id"]), ItemCooccurrence.from_state(similarity, items["people"].to_numpy(np.float32))
