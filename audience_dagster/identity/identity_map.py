"""From the warehouse's identity edges to an identity map with stable profile ids.

``int_identity_identifiers`` (nodes) and ``int_identity_edges`` (dbt) → normalise (emails;
phones to E.164 in the record's country: :mod:`.values`) → typed nodes and edges → recorded
manual decisions (``identity.manual_operations``) and the junk list (``junk_values.yaml`` +
``identity.junk_values``) → :func:`resolve_identities` → stable profile ids
(:func:`assign_profile_ids`) → ``identity.identity_map`` (one row per identifier with its
profile id), ``identity.profiles`` (registry of every id ever issued), ``identity.profile_merges``
(merge / split log with evidence), ``identity.dropped_edges``, ``identity.blocked_identifiers``
(junk, shared and invalid values, with why) and the over-limit rows of
``identity.duplicate_suggestions``. Columns move in bulk: COPY out to pandas, COPY back in; no
per-row round trips. One transaction, under an advisory lock that manual operations take too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2.extensions

from audience_dagster.identity.factorize import factorize_pairs
from audience_dagster.identity.graph import ManualConstraints, Resolution, resolve_identities
from audience_dagster.identity.junk import JUNK_REASONS, load_junk_list
from audience_dagster.identity.profile_ids import REGISTRY_COLUMNS, Assignment, assign_profile_ids
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules
from audience_dagster.identity.state import LOCK_KEY, ensure_state
from audience_dagster.identity.suggestions import over_limit_suggestions, write_suggestions
from audience_dagster.identity.values import (
    DEFAULT_OPTIONS,
    NormalisationOptions,
    normalise_identifiers,
    rejected_identifiers,
)
from audience_dagster.warehouse.frames import copy_in, copy_out

EDGES_TABLE = "intermediate.int_identity_edges"
IDENTIFIERS_TABLE = "intermediate.int_identity_identifiers"
MAP_COLUMNS = (
    "identifier_type",
    "identifier_value",
    "profile_id",
    "shared_device",
    "blocked",
    "first_seen_at",
    "last_seen_at",
)


@dataclass(frozen=True)
class IdentityGraph:
    """Typed nodes (``types``/``values``, first/last seen) and the edges between them (node ids).

    ``equivalent``: per edge, True for an alias between two user ids (one identity).
    ``rejected``: values that could not be normalised (:func:`~.values.rejected_identifiers`).
    """

    types: np.ndarray
    values: np.ndarray
    first_seen: np.ndarray
    last_seen: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_time: np.ndarray
    edges: pd.DataFrame
    equivalent: np.ndarray | None = None
    rejected: pd.DataFrame | None = None

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
    suggestions: pd.DataFrame | None = None  # the over-limit duplicate suggestions written


def read_edges(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """All identity edges, pulled with one COPY."""
    return copy_out(
        conn,
        "SELECT left_type, left_value, right_type, right_value, right_region, edge_source, first_seen_at,"
        f" last_seen_at FROM {EDGES_TABLE}",
    )


def read_identifiers(conn: psycopg2.extensions.connection) -> pd.DataFrame:
    """Every identifier any record carries (the graph's nodes), pulled with one COPY: one row per
    identifier and region (the table keeps an alias's previousId apart, by origin)."""
    return copy_out(
        conn,
        "SELECT identifier_type, identifier_value, region, min(first_seen_at) AS first_seen_at,"
        f" max(last_seen_at) AS last_seen_at FROM {IDENTIFIERS_TABLE} GROUP BY identifier_type, identifier_value,"
        " region",
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


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", None), utc=True, format="ISO8601")


def build_graph(
    edges: pd.DataFrame, identifiers: pd.DataFrame | None = None, options: NormalisationOptions = DEFAULT_OPTIONS
) -> IdentityGraph:
    """Distinct (type, normalised value) nodes, their first/last sighting, and the edges as
    node-id pairs (vectorised). ``identifiers`` adds nodes no edge names (anonymous visitors).
    Values that cannot be normalised become the type's empty node (blocked) and are listed in
    ``rejected``."""
    identifiers = (
        identifiers if identifiers is not None else pd.DataFrame(columns=["identifier_type", "identifier_value"])
    )
    n = len(edges)
    types = pd.concat([edges["left_type"], edges["right_type"], identifiers["identifier_type"]], ignore_index=True)
    raw = pd.concat([edges["left_value"], edges["right_value"], identifiers["identifier_value"]], ignore_index=True)
    no_region = pd.Series(pd.NA, index=edges.index, dtype="string")
    regions = pd.concat(
        [
            no_region,
            edges.get("right_region", no_region),
            identifiers.get("region", pd.Series(pd.NA, index=identifiers.index, dtype="string")),
        ],
        ignore_index=True,
    )
    values, reasons = normalise_identifiers(types, raw, regions, options)
    codes, node_types, node_values = factorize_pairs(types.astype(str).to_numpy(dtype=object), values)
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
    seen = sightings.groupby("node").agg(first=("first", "min"), last=("last", "max")).reindex(range(len(node_types)))
    u, v = codes[:n].astype(np.int64), codes[n : 2 * n].astype(np.int64)
    alias = edges["edge_source"].eq("segment.alias").to_numpy() if n else np.zeros(0, dtype=bool)
    return IdentityGraph(
        types=node_types,
        values=node_values,
        first_seen=seen["first"].to_numpy(),
        last_seen=seen["last"].to_numpy(),
        edge_u=u,
        edge_v=v,
        edge_time=edge_first.to_numpy(dtype="datetime64[ns]"),
        edges=edges,
        equivalent=alias & (node_types[u] == "user_id") & (node_types[v] == "user_id"),
        rejected=rejected_identifiers(types, raw, reasons),
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
    """One row per identifier: node id, component label (-1 when blocked or shared), flags and
    first/last seen. A shared value is ``blocked`` too: it joins nobody."""
    shared = np.zeros(len(graph.types), dtype=bool)
    shared[resolution.shared_nodes] = True
    frame = pd.DataFrame(
        {
            "node": np.arange(len(graph.types), dtype=np.int64),
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


def resolve_warehouse_identities(
    conn: psycopg2.extensions.connection,
    rules: IdentityRules = DEFAULT_RULES,
    now: pd.Timestamp | None = None,
    options: NormalisationOptions = DEFAULT_OPTIONS,
    junk_file: Path | None = None,
) -> IdentityRun:
    """Rebuild the identity map (see the module docstring) in one transaction.

    ``options``: phone default region and email folding; ``junk_file``: a YAML junk list added
    to the shipped one (and to the rows of ``identity.junk_values``)."""
    now = now or pd.Timestamp.now(tz="UTC")
    clock = _Clock()
    with conn.cursor() as cur:
        ensure_state(cur)
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        cur.execute("SELECT identifier_type, value FROM identity.junk_values")
        junk = load_junk_list(junk_file, cur.fetchall())
    edges, identifiers = read_edges(conn), read_identifiers(conn)
    operations = read_manual_operations(conn)
    previous = read_identity_map(conn)
    previous["first_seen_at"] = _times(previous["first_seen_at"])
    registry = read_registry(conn)
    clock.lap("read")
    graph = build_graph(edges, identifiers, options)
    clock.lap("graph")
    resolution = resolve_identities(
        graph.types,
        graph.values,
        graph.edge_u,
        graph.edge_v,
        graph.edge_time,
        rules,
        manual_constraints(graph, operations),
        junk=junk,
        equivalent=graph.equivalent,
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
    profile_of_node = np.full(len(graph.types), None, dtype=object)
    profile_of_node[frame["node"].to_numpy()] = frame["profile_id"].to_numpy(dtype=object)
    suggestions = over_limit_suggestions(resolution.dropped_edges, graph.edges, profile_of_node)
    clock.lap("assign")
    with conn.cursor() as cur:
        cur.execute(
            "TRUNCATE identity.identity_map, identity.dropped_edges, identity.profiles, identity.blocked_identifiers"
        )
        copy_in(cur, "identity.identity_map", frame[list(MAP_COLUMNS)])
        copy_in(cur, "identity.profiles", assignment.registry[list(REGISTRY_COLUMNS)])
        copy_in(cur, "identity.profile_merges", merges)
        copy_in(cur, "identity.dropped_edges", dropped)
        copy_in(cur, "identity.blocked_identifiers", blocked_identifiers(graph, resolution))
        write_suggestions(cur, "over_limit", suggestions)
    conn.commit()
    clock.lap("write")
    return IdentityRun(frame, resolution, graph, assignment, operations["op_id"].nunique(), clock.laps, suggestions)


def blocked_identifiers(graph: IdentityGraph, resolution: Resolution) -> pd.DataFrame:
    """Every value that links nobody, with why: junk-list hits, shared values (with the people
    their links need) and values that could not be normalised."""
    codes = resolution.junk_codes
    junk = np.flatnonzero((codes > 1) & (graph.values != ""))  # 1 = missing: the empty node
    shared = resolution.shared_values
    people = resolution.value_people
    frames = [
        pd.DataFrame(
            {
                "identifier_type": graph.types[junk],
                "identifier_value": graph.values[junk],
                "reason": np.asarray(JUNK_REASONS, dtype=object)[codes[junk]],
                "people": None,
                "observations": None,
            }
        ),
        pd.DataFrame(
            {
                "identifier_type": graph.types[shared],
                "identifier_value": graph.values[shared],
                "reason": "shared_value",
                "people": people[shared],
                "observations": None,
            }
        ),
        graph.rejected.assign(people=None) if graph.rejected is not None else None,
    ]
    columns = ["identifier_type", "identifier_value", "reason", "people", "observations"]
    present = [f[columns] for f in frames if f is not None and len(f)]
    return pd.concat(present, ignore_index=True) if present else pd.DataFrame(columns=columns)


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
