"""Whole tables in and out of pandas with one COPY each (no per-row round trips).

NULL travels as ``\\N``, so an empty string and a missing value stay different both ways;
timestamps are written as ISO 8601 with their offset.
"""

from __future__ import annotations

import io

import pandas as pd
import psycopg2.extensions

NULL = r"\N"


def copy_out(conn: psycopg2.extensions.connection, query: str) -> pd.DataFrame:
    """The rows of ``query`` as a frame of strings (NULL → NaN), pulled with one COPY."""
    buffer = io.StringIO()
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER, NULL '{NULL}')", buffer)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=str, keep_default_na=False, na_values=[NULL])


def copy_in(cur: psycopg2.extensions.cursor, table: str, frame: pd.DataFrame) -> None:
    """Append a frame to ``table`` (its columns by name) with one COPY; None/NaN/NaT become NULL."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep=NULL, date_format="%Y-%m-%dT%H:%M:%S.%f%z")
    buffer.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')", buffer)
