"""Write the predictions into ``marts.predictions`` in one transaction.

The table is replaced as a whole (TRUNCATE, then one COPY): its indexes and unique
constraint are dropped before the load and rebuilt after it, which is several times faster
than maintaining them row by row. Readers see the old predictions until the commit.
"""

from __future__ import annotations

import pandas as pd
import psycopg2.extensions

from audience_dagster.warehouse.frames import copy_in

TABLE = "marts.predictions"
REBUILD = (
    "ALTER TABLE marts.predictions ADD CONSTRAINT predictions_pkey PRIMARY KEY (id)",
    "ALTER TABLE marts.predictions ADD CONSTRAINT predictions_profile_id_prediction_type_key "
    "UNIQUE (profile_id, prediction_type)",
    "CREATE INDEX idx_predictions_profile ON marts.predictions (profile_id)",
    "CREATE INDEX idx_predictions_type ON marts.predictions (prediction_type)",
    "CREATE INDEX idx_predictions_value ON marts.predictions (predicted_value DESC)",
)
DROP = (
    "ALTER TABLE marts.predictions DROP CONSTRAINT IF EXISTS predictions_pkey",
    "ALTER TABLE marts.predictions DROP CONSTRAINT IF EXISTS predictions_profile_id_prediction_type_key",
    "DROP INDEX IF EXISTS marts.idx_predictions_profile",
    "DROP INDEX IF EXISTS marts.idx_predictions_type",
    "DROP INDEX IF EXISTS marts.idx_predictions_value",
)


def write_predictions(conn: psycopg2.extensions.connection, frame: pd.DataFrame) -> int:
    """Replace ``marts.predictions`` with ``frame`` (the spec's columns but ``id``); returns rows."""
    with conn.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cur.execute(f"TRUNCATE {TABLE}")
        for statement in DROP:
            cur.execute(statement)
        copy_in(cur, TABLE, frame)
        for statement in REBUILD:
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
