"""Write the predictions into ``marts.predictions`` in one transaction.

A full pass replaces the table as a whole (TRUNCATE, then one COPY): its indexes and unique
constraint are dropped before the load and rebuilt after it, which is several times faster
than maintaining them row by row. A pass over some profiles deletes their rows and COPYs their
new ones (:mod:`.incremental`). Readers see the old predictions until the commit.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import psycopg2.extensions

from audience_dagster.warehouse.frames import copy_in
from audience_dagster.warehouse.indexes import drop_indexes

TABLE = "marts.predictions"


def write_predictions(
    conn: psycopg2.extensions.connection,
    frame: pd.DataFrame,
    profiles: list[str] | None = None,
    finish: Callable[[psycopg2.extensions.cursor], None] | None = None,
) -> int:
    """Replace ``marts.predictions`` with ``frame`` (the spec's columns but ``id``), or only the
    rows of ``profiles`` (``frame`` holds their new rows); ``finish`` runs in the same
    transaction before the commit. Returns the rows written."""
    with conn.cursor() as cur:
        if profiles is None:
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cur.execute(f"TRUNCATE {TABLE}")
            rebuild = drop_indexes(cur, TABLE, constraints=True)  # as sql/001_predictions_schema.sql made them
            copy_in(cur, TABLE, frame)
            for statement in rebuild:
                cur.execute(statement)
        else:
            cur.execute(f"DELETE FROM {TABLE} WHERE profile_id = ANY(%s::uuid[])", (list(profiles),))
            if len(frame):
                copy_in(cur, TABLE, frame)
        if finish is not None:
            finish(cur)
    conn.commit()
    return len(frame)


def prediction_summary(conn: psycopg2.extensions.connection) -> list[tuple]:
    """Per type: profiles, mean value, mean confidence, methods (for metadata and the CLI)."""
    with conn.cursor() as cur:
        cur.execute(
            f"""
            SELECT prediction_type, count(*), round(avg(predicted_value), 4), round(avg(confidence), 4),
                   string_agg(DISTINCT model_version, ', ')
            FROM {TABLE} GROUP BY 1 ORDER BY 1
            """
        )
        return cur.fetchall()
