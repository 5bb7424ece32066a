"""From the warehouse's identity edges to an identity map with stable profile ids.

``int_identity_identifiers`` (nodes) and ``int_identity_edges`` (dbt) → normalise (emails,
phones to E.164) → typed nodes and edges → recorded manual decisions
(``identity.manual_operations``) → :func:`resolve_identities` → stable profile ids
(:func:`assign_profile_ids`) → ``identity.identity_map`` (one row per identifier with its
profile id), ``identity.profiles`` (registry of every id ever issued), ``identity.profile_merges``
(merge / split log with evidence) and ``identity.dropped_edges``. Columns move in bulk: COPY out
to pandas, COPY back in; no per-row round trips. One transaction, under an advisory lock that
manual operations take too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg2.extensions

from audience_dagster.identity.graph import ManualConstraints, Resolution, resolve_identities
from audience_dagster.identity.normalize import normalize_emails, normalize_phones
from audience_dagster.identity.profile_ids import REGISTRY_COLUMNS, Assignment, assign_profile_ids
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules
from audience_dagster.warehouse.frames import copy_in, copy_out

EDGES_TABLE = "intermediate.int_identity_edges"
IDENTIFIERS_TABLE = "intermediate.int_identity_identifiers"
LOCK_KEY = 0x1D_E7_17_1E  # pg_advisory_xact_lock key shared by rebuilds and manual operations
MAP_COLUMNS = (
    "identifier_type",
    "identifier_value",
    "profile_id",
    "shared_device",
    "blocked",
    "first_seen_at",
    "last_seen_at",
)
STATE_DDL = """
CREATE SCHEMA IF NOT EXISTS identity;
CREATE TABLE IF NOT EXISTS identity.identity_map (
    identifier_type  text        NOT NULL,
    identifier_value text        NOT NULL,
    profile_id       uuid,                  -- NULL for blocked (junk) identifiers
    shared_device    boolean     NOT NULL,
    blocked          boolean     NOT NULL,
    first_seen_at    timestamptz,
    last_seen_at     timestamptz,
    PRIMARY KEY (identifier_type, identifier_value)
);
CREATE INDEX IF NOT EXISTS identity_map_profile_id ON identity.identity_map (profile_id);
CREATE TABLE IF NOT EXISTS identity.profiles (
    profile_id         uuid PRIMARY KEY,
    created_at         timestamptz NOT NULL,
    status             text NOT NULL CHECK (status IN ('active', 'merged', 'retired', 'erased')),
    merged_into        uuid,
    retired_at         timestamptz,
    current_profile_id uuid
);
CREATE TABLE IF NOT EXISTS identity.profile_merges (
    merge_id            bigserial PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('rule', 'manual', 'split', 'unmerge')),
    retired_profile_id  uuid NOT NULL,
    survivor_profile_id uuid NOT NULL,
    evidence            jsonb NOT NULL DEFAULT '{}',
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS identity.manual_operations (
    op_id                bigserial PRIMARY KEY,
    op_type              text NOT NULL CHECK (op_type IN ('merge', 'unmerge')),
    primary_profile_id   uuid NOT NULL,
    secondary_profile_id uuid NOT NULL,
    identifiers          jsonb NOT NULL,
    other_identifiers    jsonb NOT NULL,
    reason               text NOT NULL,
    requested_by         text NOT NULL,
    requested_at         timestamptz NOT NULL DEFAULT now(),
    active               boolean NOT NULL DEFAULT true,
    superseded_by        bigint
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
    """Typed nodes (``types``/``values``, first/last seen) and the edges between them (node ids)."""

    types: np.ndarray
    values: np.ndarray
    first_seen: np.ndarray
    last_seen: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_time: np.ndarray
    edges: pd.DataFrame

    def edge_keys(self) -> tuple[pd.Index, pd.Index]:
        """Both ends of every edge as ``"type:value"`` keys (for evaluation against truth)."""
        keys = pd.Index(pd.Series(self.types, dtype=str) + ":" + pd.Series(self.values, dtype=str))
        return keys[self.edge_u], keys[self.edge_v]

    def node_ids(self, identifiers: pd.Series) -> np.ndarray:
        """Node id of each ``"type:value"`` string (-1 when the graph does not hold it)."""
        parts = identifiers.astype(str).str.split(":", n=1, expand=True)
        if parts.shape[1] < 2:
            return np.full(len(identifiers), -1, dtype=np.int64)
        index = pd.MultiIndex.from_arrays([self.types, self.values])
        return index.get_indexer(pd.MultiIndex.from_arrays([parts[0], parts[1]])).astype(np.int64)


@dataclass(frozen=True)
class IdentityRun:
    """What one rebuild produced (for asset metadata and benchmarks)."""

    frame: pd.DataFrame
    resolution: Resolution
    graph: IdentityGraph
    assignment: Assignment
    manual_operations: int
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: read, resolve, assign, write


def read_edges(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """All identity edges, pulled with one COPY."""
    return copy_out(
        conn,
        "SELECT left_type, left_value, right_type, right_value, edge_source, first_seen_at, last_seen_at"
        f" FROM {EDGES_TABLE}",
    )


def read_identifiers(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """Every identifier any record carries (the graph's nodes), pulled with one COPY."""
    return copy_out(
        conn, f"SELECT identifier_type, identifier_value, first_seen_at, last_seen_at FROM {IDENTIFIERS_TABLE}"
    )


def read_identity_map(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """``identity.identity_map`` as a frame (:data:`MAP_COLUMNS`; profile_id as str or None)."""
    frame = copy_out(conn, f"SELECT {', '.join(MAP_COLUMNS)} FROM identity.identity_map")
    frame["profile_id"] = frame["profile_id"].astype(object).where(frame["profile_id"].notna(), None)
    for column in ("shared_device", "blocked"):
        frame[column] = frame[column].eq("t")
    return frame


def read_registry(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    frame = copy_out(conn, f"SELECT {', '.join(REGISTRY_COLUMNS)} FROM identity.profiles")
    frame = frame.astype(object).where(frame.notna(), None)
    for column in ("created_at", "retired_at"):
        frame[column] = _times(frame[column].fillna("")).astype("datetime64[us, UTC]")
    return frame


def normalise_values(types: pd.Series, values: pd.Series) -> pd.Series:
    """Emails trimmed/lower-cased, phones to E.164; implausible ones become NA (then blocked)."""
    out = values.astype("string").str.strip()
    is_email, is_phone = types.eq("email"), types.eq("phone")
    out[is_email] = normalize_emails(out[is_email])
    out[is_phone] = normalize_phones(out[is_phone])
    return out


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", None), utc=True, format="ISO8601")


def build_graph(edges: pd.DataFrame, identifiers: pd.DataFrame | None = None) -> IdentityGraph:
    """Distinct (type, normalised value) nodes, their first/last sighting, and the edges as
    node-id pairs (vectorised). ``identifiers`` adds nodes no edge names (anonymous visitors)."""
    identifiers = (
        identifiers if identifiers is not None else pd.DataFrame(columns=["identifier_type", "identifier_value"])
    )
    n = len(edges)
    types = pd.concat([edges["left_type"], edges["right_type"], identifiers["identifier_type"]], ignore_index=True)
    values = pd.concat(
        [
            normalise_values(edges["left_type"], edges["left_value"]),
            normalise_values(edges["right_type"], edges["right_value"]),
            normalise_values(identifiers["identifier_type"], identifiers["identifier_value"]),
        ],
        ignore_index=True,
    ).fillna("")
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([types.astype(str), values]))
    edge_first = _times(edges["first_seen_at"])
    edge_last = _times(edges["last_seen_at"]) if "last_seen_at" in edges else edge_first
    sightings = pd.DataFrame(
        {
            "node": codes,
            "first": pd.concat(
                [edge_first, edge_first, _times(identifiers.get("first_seen_at", pd.Series(dtype=str)))],
                ignore_index=True,
            ),
            "last": pd.concat(
                [edge_last, edge_last, _times(identifiers.get("last_seen_at", pd.Series(dtype=str)))],
                ignore_index=True,
            ),
        }
    )
    seen = sightings.groupby("node").agg(first=("first", "min"), last=("last", "max")).reindex(range(len(uniques)))
    return IdentityGraph(
        types=uniques.get_level_values(0).to_numpy(dtype=object),
        values=uniques.get_level_values(1).to_numpy(dtype=object),
        first_seen=seen["first"].to_numpy(),
        last_seen=seen["last"].to_numpy(),
        edge_u=codes[:n].astype(np.int64),
        edge_v=codes[n : 2 * n].astype(np.int64),
        edge_time=edge_first.to_numpy(dtype="datetime64[ns]"),
        edges=edges,
    )


def read_manual_operations(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """Active manual merges / unmerges, oldest first, identifiers exploded one per row."""
    return copy_out(
        conn,
        "SELECT op_id, op_type, 'identifiers' AS side, jsonb_array_elements_text(identifiers) AS identifier"
        " FROM identity.manual_operations WHERE active"
        " UNION ALL SELECT op_id, op_type, 'other', jsonb_array_elements_text(other_identifiers)"
        " FROM identity.manual_operations WHERE active ORDER BY 1",
    )


def manual_constraints(graph: IdentityGraph, operations: pd.DataFrame) -> ManualConstraints:
    """Recorded operations as node-id constraints (identifiers the graph no longer holds are ignored)."""
    if operations.empty:
        return ManualConstraints()
    ops = operations.assign(node=graph.node_ids(operations["identifier"]))
    ops = ops[ops["node"] >= 0]
    keep_apart, merge_groups = [], []
    for (_, op_type), rows in ops.groupby(["op_id", "op_type"], sort=True):  # one group per operation
        nodes = rows["node"].to_numpy(dtype=np.int64)
        if op_type == "merge":
            merge_groups.append(nodes)
        else:
            side = rows["side"].eq("identifiers").to_numpy()
            keep_apart.append((nodes[side], nodes[~side]))
    return ManualConstraints(keep_apart=tuple(keep_apart), merge_groups=tuple(merge_groups))


def identity_map_frame(graph: IdentityGraph, resolution: Resolution) -> pd.DataFrame:
    """One row per identifier: component label (-1 when blocked), flags and first/last seen."""
    shared = np.zeros(len(graph.types), dtype=bool)
    shared[resolution.shared_nodes] = True
    frame = pd.DataFrame(
        {
            "identifier_type": graph.types,
            "identifier_value": graph.values,
            "label": resolution.labels,
            "shared_device": shared,
            "blocked": resolution.labels < 0,
            "first_seen_at": graph.first_seen,
            "last_seen_at": graph.last_seen,
        }
    )
    return frame[frame["identifier_value"] != ""].reset_index(drop=True)


def merge_evidence(graph: IdentityGraph, labels: np.ndarray, previous_id: np.ndarray, retired: pd.Index) -> pd.Series:
    """For each retired (rule-merged) profile id: the newest edge that joins one of its
    identifiers to an identifier of another profile in its new component, as a JSON string."""
    u, v = graph.edge_u, graph.edge_v
    code = retired.get_indexer(previous_id)  # retired-profile code per node, -1 otherwise
    same = (labels[u] == labels[v]) & (labels[u] >= 0) & (previous_id[u] != previous_id[v])
    rows = []
    for near in (u, v):
        hit = same & (code[near] >= 0)
        rows.append(pd.DataFrame({"retired": code[near][hit], "edge": np.flatnonzero(hit)}))
    cand = pd.concat(rows, ignore_index=True)
    if cand.empty:
        return pd.Series(dtype=object)
    cand["time"] = graph.edge_time[cand["edge"].to_numpy()]
    best = cand.sort_values(["retired", "time", "edge"]).drop_duplicates("retired", keep="last")
    e = graph.edges.iloc[best["edge"].to_numpy()]
    evidence = pd.DataFrame(
        {
            "edge_source": e["edge_source"].to_numpy(),
            "left": (e["left_type"] + ":" + e["left_value"]).to_numpy(),
            "right": (e["right_type"] + ":" + e["right_value"]).to_numpy(),
            "first_seen_at": e["first_seen_at"].to_numpy(),
        }
    )
    return pd.Series(
        evidence.to_json(orient="records", lines=True).splitlines(), index=retired[best["retired"].to_numpy()]
    )


def ensure_state(cur) -> None:
    """Create the identity schema's tables; replace a map written before profile ids existed."""
    cur.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'identity'"
        " AND table_name = 'identity_map' AND column_name = 'profile_key'"
    )
    if cur.fetchone():
        cur.execute("DROP TABLE identity.identity_map")
    cur.execute(STATE_DDL)


def resolve_warehouse_identities(
    conn: psycopg2.extensions.connection,
    rules: IdentityRules = DEFAULT_RULES,
    now: pd.Timestamp | None = None,
) -> IdentityRun:
    """Rebuild the identity map (see the module docstring) in one transaction."""
    now = now or pd.Timestamp.now(tz="UTC")
    clock = _Clock()
    with conn.cursor() as cur:
        ensure_state(cur)
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    edges, identifiers = read_edges(conn), read_identifiers(conn)
    operations = read_manual_operations(conn)
    previous = read_identity_map(conn)
    previous["first_seen_at"] = _times(previous["first_seen_at"])
    registry = read_registry(conn)
    clock.lap("read")
    graph = build_graph(edges, identifiers)
    clock.lap("graph")
    resolution = resolve_identities(
        graph.types,
        graph.values,
        graph.edge_u,
        graph.edge_v,
        graph.edge_time,
        rules,
        manual_constraints(graph, operations),
    )
    clock.lap("resolve")
    frame = identity_map_frame(graph, resolution)
    kept = ~frame["blocked"]
    assignment = assign_profile_ids(frame.loc[kept], previous, registry, now)
    frame["profile_id"] = None
    frame.loc[kept, "profile_id"] = assignment.profile_id
    merges = _merge_log(graph, resolution, previous, assignment)
    dropped = graph.edges.iloc[resolution.dropped_edges["edge"].to_numpy()][
        ["left_type", "left_value", "right_type", "right_value", "edge_source"]
    ].assign(reason=resolution.dropped_edges["reason"].to_numpy())
    clock.lap("assign")
    with conn.cursor() as cur:
        cur.execute("TRUNCATE identity.identity_map, identity.dropped_edges, identity.profiles")
        copy_in(cur, "identity.identity_map", frame[list(MAP_COLUMNS)])
        copy_in(cur, "identity.profiles", assignment.registry[list(REGISTRY_COLUMNS)])
        copy_in(cur, "identity.profile_merges", merges)
        copy_in(cur, "identity.dropped_edges", dropped)
    conn.commit()
    clock.lap("write")
    return IdentityRun(frame, resolution, graph, assignment, operations["op_id"].nunique(), clock.laps)


def _merge_log(graph: IdentityGraph, resolution: Resolution, previous: pd.DataFrame, assignment: Assignment):
    """This rebuild's merge-log rows, each with its evidence (the newest joining edge, for a rule merge)."""
    merges = assignment.merges.copy()
    prev_index = pd.MultiIndex.from_frame(previous[["identifier_type", "identifier_value"]])
    at = prev_index.get_indexer(pd.MultiIndex.from_arrays([graph.types, graph.values]))
    previous_id = np.append(previous["profile_id"].fillna("").to_numpy(dtype=object), "")[at]  # -1 -> ""
    rule = merges["kind"].eq("rule")
    evidence = merge_evidence(graph, resolution.labels, previous_id, pd.Index(merges.loc[rule, "retired_profile_id"]))
    merges["evidence"] = merges["retired_profile_id"].map(evidence).where(rule, '{"reason": "identifiers split off"}')
    merges["evidence"] = merges["evidence"].fillna("{}")
    return merges[["kind", "retired_profile_id", "survivor_profile_id", "evidence"]]


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now
