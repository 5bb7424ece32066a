"""Write the predictions into ``marts.predictions`` in one transaction.

The table is replaced as a whole (TRUNCATE, then one COPY): its indexes and unique
constraint are dropped before the load and rebuilt after it, which is several times faster
than maintaining them row by row. Readers see the old predictions until the commit.
"""

from __future__ import annotations

import pandas as pd
import psycopg2.extensions

from audience_dagster.warehouse.frames import copy_in
from audience_dagster.warehouse.indexes import drop_indexes

TABLE = "marts.predictions"


def write_predictions(conn: psycopg2.extensions.connection, frame: pd.DataFrame) -> int:
    """Replace ``marts.predictions`` with ``frame`` (the spec's columns but ``id``); returns rows."""
    with conn.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cur.execute(f"TRUNCATE {TABLE}")
        rebuild = drop_indexes(cur, TABLE, constraints=True)  # as sql/001_predictions_schema.sql made them
        copy_in(cur, TABLE, frame)
        for statement in rebuild:
            cur.execute(statement)
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
