"""From the warehouse's identity edges to an identity map: which identifiers are one person.

``int_identity_edges`` (dbt) → normalise (emails, phones to E.164) → typed nodes and edges →
:func:`resolve_identities` → ``identity.identity_map`` (one row per identifier with its
profile key). Columns move in bulk: COPY out to pandas, COPY back in; no per-row round trips.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg2.extensions

from audience_dagster.identity.graph import Resolution, resolve_identities
from audience_dagster.identity.normalize import normalize_emails, normalize_phones
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules

EDGES_TABLE = "intermediate.int_identity_edges"
MAP_DDL = """
CREATE SCHEMA IF NOT EXISTS identity;
CREATE TABLE IF NOT EXISTS identity.identity_map (
    identifier_type  text    NOT NULL,
    identifier_value text    NOT NULL,
    profile_key      bigint,           -- NULL for blocked (junk) identifiers
    shared_device    boolean NOT NULL,
    blocked          boolean NOT NULL,
    PRIMARY KEY (identifier_type, identifier_value)
);
CREATE TABLE IF NOT EXISTS identity.dropped_edges (
    left_type   text NOT NULL,
    left_value  text NOT NULL,
    right_type  text NOT NULL,
    right_value text NOT NULL,
    edge_source text NOT NULL,
    reason      text NOT NULL
);
"""


@dataclass(frozen=True)
class IdentityGraph:
    """Typed nodes (``types``/``values``) and the edges between them (node ids), with the edge rows."""

    types: np.ndarray
    values: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_time: np.ndarray
    edges: pd.DataFrame


def read_edges(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """All identity edges, pulled with one COPY."""
    buffer = io.StringIO()
    with conn.cursor() as cur:
        cur.copy_expert(
            f"COPY (SELECT left_type, left_value, right_type, right_value, edge_source, first_seen_at"
            f" FROM {EDGES_TABLE}) TO STDOUT WITH (FORMAT csv, HEADER)",
            buffer,
        )
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=str, keep_default_na=False, na_values=[])


def read_identity_map(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """``identity.identity_map`` as a frame (identifier_type, identifier_value, profile_key, blocked)."""
    columns = ["identifier_type", "identifier_value", "profile_key", "blocked"]
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM identity.identity_map")
        return pd.DataFrame(cur.fetchall(), columns=columns)


def normalise_values(types: pd.Series, values: pd.Series) -> pd.Series:
    """Emails trimmed/lower-cased, phones to E.164; implausible ones become NA (then blocked)."""
    out = values.astype("string").str.strip()
    is_email, is_phone = types.eq("email"), types.eq("phone")
    out[is_email] = normalize_emails(out[is_email])
    out[is_phone] = normalize_phones(out[is_phone])
    return out


def build_graph(edges: pd.DataFrame) -> IdentityGraph:
    """Distinct (type, normalised value) nodes and the edges as node-id pairs (vectorised)."""
    left = normalise_values(edges["left_type"], edges["left_value"])
    right = normalise_values(edges["right_type"], edges["right_value"])
    ends = pd.DataFrame(
        {
            "type": pd.concat([edges["left_type"], edges["right_type"]], ignore_index=True),
            "value": pd.concat([left, right], ignore_index=True).fillna(""),
        }
    )
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(ends))
    n = len(edges)
    types = uniques.get_level_values(0).to_numpy(dtype=object)
    values = uniques.get_level_values(1).to_numpy(dtype=object)
    time = pd.to_datetime(edges["first_seen_at"], utc=True, format="ISO8601").to_numpy(dtype="datetime64[ns]")
    return IdentityGraph(types, values, codes[:n].astype(np.int64), codes[n:].astype(np.int64), time, edges)


def identity_map_frame(graph: IdentityGraph, resolution: Resolution) -> pd.DataFrame:
    """One row per identifier: its profile key (None when blocked), shared-device and blocked flags."""
    blocked = resolution.labels < 0
    shared = np.zeros(len(graph.types), dtype=bool)
    shared[resolution.shared_nodes] = True
    frame = pd.DataFrame(
        {
            "identifier_type": graph.types,
            "identifier_value": graph.values,
            "profile_key": pd.array(np.where(blocked, 0, resolution.labels), dtype="Int64"),
            "shared_device": shared,
            "blocked": blocked,
        }
    )
    frame.loc[blocked, "profile_key"] = pd.NA
    return frame[frame["identifier_value"] != ""]


def resolve_warehouse_identities(
    conn: psycopg2.extensions.connection, rules: IdentityRules = DEFAULT_RULES
) -> tuple[pd.DataFrame, Resolution, IdentityGraph]:
    """Read edges, resolve, replace ``identity.identity_map`` and ``identity.dropped_edges``."""
    graph = build_graph(read_edges(conn))
    resolution = resolve_identities(graph.types, graph.values, graph.edge_u, graph.edge_v, graph.edge_time, rules)
    frame = identity_map_frame(graph, resolution)
    dropped = graph.edges.iloc[resolution.dropped_edges["edge"].to_numpy()][
        ["left_type", "left_value", "right_type", "right_value", "edge_source"]
    ].assign(reason=resolution.dropped_edges["reason"].to_numpy())
    with conn.cursor() as cur:
        cur.execute(MAP_DDL)
        cur.execute("TRUNCATE identity.identity_map, identity.dropped_edges")
        _copy_in(cur, "identity.identity_map", frame)
        _copy_in(cur, "identity.dropped_edges", dropped)
    conn.commit()
    return frame, resolution, graph


def _copy_in(cur, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
