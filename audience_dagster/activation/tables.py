"""Replace a whole output table at once: fill a copy of it (COPY from a frame, or INSERT …
SELECT in the database), then swap names in one transaction, so readers (the profile API) see
the old rows or the new, never half. The primary key is built after the fill (faster than
maintaining it row by row)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import psycopg2.extensions

from audience_dagster.warehouse.frames import copy_in

PRIMARY_KEYS = {
    "marts.recommendations": "profile_id, item_type, rank",
    "marts.next_best_actions": "profile_id",
    "marts.price_offers": "profile_id",
    "marts.recommendation_items": "item_type, position",
    "marts.recommendation_neighbours": "item_type, item, neighbour",
}


def _replace(cur: psycopg2.extensions.cursor, table: str, fill: Callable[[str], None]) -> int:
    schema, name = table.split(".")
    fresh, old = f"{schema}.{name}__next", f"{schema}.{name}__old"
    cur.execute(f"DROP TABLE IF EXISTS {fresh}, {old}")
    cur.execute(f"CREATE TABLE {fresh} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    fill(fresh)
    cur.execute(f"SELECT count(*) FROM {fresh}")
    rows = cur.fetchone()[0]
    cur.execute(f"ALTER TABLE {table} RENAME TO {name}__old")
    cur.execute(f"ALTER TABLE {fresh} RENAME TO {name}")
    cur.execute(f"DROP TABLE {old}")
    cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({PRIMARY_KEYS[table]})")
    cur.execute(f"ANALYZE {table}")
    return rows


def replace_table(cur: psycopg2.extensions.cursor, table: str, frame: pd.DataFrame) -> int:
    """``table`` holds exactly ``frame``'s rows afterwards (uncommitted); the row count."""
    return _replace(cur, table, lambda fresh: copy_in(cur, fresh, frame) if len(frame) else None)


def replace_table_from_query(
    cur: psycopg2.extensions.cursor, table: str, columns: tuple[str, ...], query: str, params: dict[str, object]
) -> int:
    """``table`` holds exactly the rows of ``query`` (its ``columns``, in order) afterwards."""
    names = ", ".join(columns)
    return _replace(cur, table, lambda fresh: cur.execute(f"INSERT INTO {fresh} ({names}) {query}", params))
