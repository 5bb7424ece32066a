from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from audience_dagster.bench.identity_graph import synthetic_graph
from audience_dagster.identity.graph import Resolution, resolve_identities
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules

Edge = tuple[str, str] | tuple[str, str, int]


def resolve(nodes: Sequence[str], edges: Sequence[Edge], rules: IdentityRules = DEFAULT_RULES) -> Resolution:
    """Resolve a graph written as ``"type:value"`` nodes and ``(a, b[, time])`` edges (time defaults to 0)."""
    ids = {name: i for i, name in enumerate(nodes)}
    types = np.array([n.split(":", 1)[0] for n in nodes], dtype=object)
    values = np.array([n.split(":", 1)[1] for n in nodes], dtype=object)
    u = np.array([ids[e[0]] for e in edges], dtype=np.int64)
    v = np.array([ids[e[1]] for e in edges], dtype=np.int64)
    t = np.array([e[2] if len(e) == 3 else 0 for e in edges], dtype=np.int64)
    return resolve_identities(types, values, u, v, t, rules)


def dropped(result: Resolution) -> list[tuple[int, str, int, int]]:
    return list(result.dropped_edges.itertuples(index=False, name=None))


def test_alias_chain_joins_the_user() -> None:
    nodes = ["anonymous_id:a1", "anonymous_id:a2", "anonymous_id:a3", "user_id:u1", "email:x@y.com"]
    result = resolve(nodes, [("anonymous_id:a1", "anonymous_id:a2"), ("anonymous_id:a3", "anonymous_id:a2"),
                             ("anonymous_id:a3", "user_id:u1")])  # fmt: skip
    assert result.labels.tolist() == [0, 0, 0, 0, 4]
    assert result.labels.dtype == np.int64
    assert dropped(result) == []
    assert result.shared_nodes.tolist() == []
    assert list(result.dropped_edges.columns) == ["edge", "reason", "u", "v"]


def test_long_chain_of_devices_resolves_to_one_label() -> None:
    n = 10_000
    types = np.array(["device_id" if i % 2 else "anonymous_id" for i in range(n - 1)] + ["user_id"], dtype=object)
    values = np.array([f"id{i}" for i in range(n)], dtype=object)
    u = np.arange(n - 1, dtype=np.int64)
    result = resolve_identities(types, values, u, u + 1, np.zeros(n - 1, dtype=np.int64))
    assert np.array_equal(result.labels, np.zeros(n, dtype=np.int64))
    assert len(result.dropped_edges) == 0


def test_long_chain_of_strong_identifiers_in_reverse_time() -> None:
    # emails chained e0-e1-e2-e3 would break the email limit of 3: the earliest edges win.
    nodes = ["email:e0@x.io", "email:e1@x.io", "email:e2@x.io", "email:e3@x.io"]
    edges = [("email:e2@x.io", "email:e3@x.io", 1), ("email:e1@x.io", "email:e2@x.io", 2),
             ("email:e0@x.io", "email:e1@x.io", 3)]  # fmt: skip
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, 1, 1, 1]
    assert dropped(result) == [(2, "limit:email", 0, 1)]


def test_shared_device_keeps_two_people_apart() -> None:
    nodes = ["user_id:A", "user_id:B", "anonymous_id:s", "anonymous_id:a1"]
    edges = [("anonymous_id:s", "user_id:A", 1), ("user_id:B", "anonymous_id:s", 2),
             ("anonymous_id:a1", "user_id:A", 3)]  # fmt: skip
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, 1, 2, 0]
    assert result.shared_nodes.tolist() == [2]
    assert dropped(result) == [(0, "shared_device", 2, 0), (1, "shared_device", 1, 2)]


def test_shared_device_component_gives_each_device_to_the_one_person_it_names() -> None:
    # s1 and s2 are one device component (alias edge) seen with A and with B: each device's own
    # links name one person, so each joins that person; nothing is left shared.
    nodes = ["anonymous_id:s1", "user_id:A", "device_id:s2", "email:b@x.io", "anonymous_id:lonely"]
    edges = [("anonymous_id:s1", "device_id:s2"), ("anonymous_id:s1", "user_id:A"), ("device_id:s2", "email:b@x.io")]
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, 0, 2, 2, 4]
    assert result.shared_nodes.tolist() == []
    assert dropped(result) == []


def test_family_tablet_stays_shared_but_each_members_cookie_joins_them() -> None:
    # the tablet (device id) carries two app installs (anonymous ids), one per family member;
    # the laptop cookie is seen with both members directly: it stays shared.
    nodes = ["user_id:ann", "user_id:bob", "device_id:tablet", "anonymous_id:ann-app", "anonymous_id:bob-app",
             "anonymous_id:laptop"]  # fmt: skip
    edges = [("device_id:tablet", "anonymous_id:ann-app"), ("device_id:tablet", "anonymous_id:bob-app"),
             ("anonymous_id:ann-app", "user_id:ann"), ("anonymous_id:bob-app", "user_id:bob"),
             ("anonymous_id:laptop", "user_id:ann"), ("anonymous_id:laptop", "user_id:bob")]  # fmt: skip
    result = resolve(nodes, edges)
    labels = result.labels.tolist()
    assert labels[3] == labels[0] == 0 and labels[4] == labels[1] == 1
    assert (labels[2], labels[5]) == (2, 5)  # tablet and laptop: anonymous profiles of their own
    assert result.shared_nodes.tolist() == [2, 5]
    assert [r for _, r, _, _ in dropped(result)] == ["shared_device", "shared_device"]


def test_device_linked_twice_to_one_person_is_not_shared() -> None:
    nodes = ["email:jane@x.io", "anonymous_id:a", "user_id:u"]
    edges = [("user_id:u", "email:jane@x.io"), ("anonymous_id:a", "user_id:u"), ("anonymous_id:a", "email:jane@x.io")]
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, 0, 0]
    assert result.shared_nodes.tolist() == []
    assert dropped(result) == []


def test_junk_identifiers_link_nobody() -> None:
    nodes = ["email:jane@x.io", "user_id:null", "email:bob@x.io", "anonymous_id:anonymous", "user_id:u7",
             "email:test@shop.io"]  # fmt: skip
    edges = [("email:jane@x.io", "user_id:null"), ("user_id:null", "email:bob@x.io"),
             ("anonymous_id:anonymous", "user_id:u7"), ("anonymous_id:anonymous", "email:jane@x.io"),
             ("email:test@shop.io", "user_id:u7"), ("user_id:u7", "email:bob@x.io")]  # fmt: skip
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, -1, 2, -1, 2, -1]
    assert dropped(result) == [
        (0, "blocked_identifier", 0, 1),
        (1, "blocked_identifier", 1, 2),
        (2, "blocked_identifier", 3, 4),
        (3, "blocked_identifier", 3, 0),
        (4, "blocked_identifier", 5, 4),
    ]


def test_extra_blocked_patterns_from_rules() -> None:
    rules = IdentityRules(extra_blocked_patterns=(r"^qa-",))
    result = resolve(["user_id:qa-1", "email:a@x.io", "email:b@x.io"],
                     [("email:a@x.io", "user_id:qa-1"), ("email:b@x.io", "user_id:qa-1")], rules)  # fmt: skip
    assert result.labels.tolist() == [-1, 1, 2]
    assert dropped(result)[0][1] == "blocked_identifier"


def test_two_user_ids_through_one_email_the_earlier_edge_wins() -> None:
    nodes = ["email:jane@x.io", "user_id:u1", "user_id:u2", "anonymous_id:a2"]
    # listed later but earlier in time: u2 wins
    edges = [("email:jane@x.io", "user_id:u1", 20), ("user_id:u2", "email:jane@x.io", 10),
             ("anonymous_id:a2", "user_id:u2", 0)]  # fmt: skip
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, 1, 0, 0]
    assert dropped(result) == [(0, "limit:user_id", 0, 1)]


def test_equal_times_are_broken_by_edge_index() -> None:
    nodes = ["email:jane@x.io", "user_id:u1", "user_id:u2"]
    result = resolve(nodes, [("email:jane@x.io", "user_id:u1", 5), ("user_id:u2", "email:jane@x.io", 5)])
    assert result.labels.tolist() == [0, 0, 2]
    assert dropped(result) == [(1, "limit:user_id", 2, 0)]


def test_fourth_email_is_dropped() -> None:
    nodes = ["user_id:u", "email:e1@x.io", "email:e2@x.io", "email:e3@x.io", "email:e4@x.io"]
    edges = [("user_id:u", f"email:e{k}@x.io", k) for k in (1, 2, 3, 4)]
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, 0, 0, 0, 4]
    assert dropped(result) == [(3, "limit:email", 0, 4)]


def test_limits_count_whole_profiles_and_report_the_highest_priority_type() -> None:
    # {u1, e1, e2} and {u2, e3, e4}: joining would give 2 user ids and 4 emails -> user_id reported.
    nodes = ["user_id:u1", "email:e1@x.io", "email:e2@x.io", "user_id:u2", "email:e3@x.io", "email:e4@x.io"]
    edges = [("user_id:u1", "email:e1@x.io", 1), ("user_id:u1", "email:e2@x.io", 2),
             ("user_id:u2", "email:e3@x.io", 3), ("user_id:u2", "email:e4@x.io", 4),
             ("email:e2@x.io", "email:e3@x.io", 5)]  # fmt: skip
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [0, 0, 0, 3, 3, 3]
    assert dropped(result) == [(4, "limit:user_id", 2, 4)]


def test_custom_limits() -> None:
    rules = IdentityRules(limits={"email": 1})
    result = resolve(["user_id:u1", "user_id:u2", "email:a@x.io", "email:b@x.io"],
                     [("user_id:u1", "user_id:u2", 1), ("email:a@x.io", "user_id:u1", 2),
                      ("user_id:u2", "email:b@x.io", 3)], rules)  # fmt: skip
    assert result.labels.tolist() == [0, 0, 0, 3]
    assert dropped(result) == [(2, "limit:email", 1, 3)]


def test_device_without_person_is_its_own_profile_labelled_by_smallest_node() -> None:
    nodes = ["user_id:u", "device_id:d2", "anonymous_id:d1", "anonymous_id:d3"]
    result = resolve(nodes, [("anonymous_id:d3", "device_id:d2"), ("anonymous_id:d1", "anonymous_id:d3")])
    assert result.labels.tolist() == [0, 1, 1, 1]


def test_order_placed_on_a_shared_device_stays_with_its_buyer() -> None:
    # the order names its buyer (customer, email, user id); the household's anonymous id is shared
    nodes = ["user_id:ann", "user_id:bob", "anonymous_id:family", "shopify_order_id:o1", "email:ann@x.io"]
    result = resolve(
        nodes,
        [
            ("user_id:ann", "anonymous_id:family", 1),
            ("user_id:bob", "anonymous_id:family", 2),
            ("shopify_order_id:o1", "anonymous_id:family", 3),
            ("shopify_order_id:o1", "user_id:ann", 3),
            ("shopify_order_id:o1", "email:ann@x.io", 3),
        ],
    )
    assert result.labels.tolist() == [0, 1, 2, 0, 0]
    assert result.shared_nodes.tolist() == [2]


def test_partition_does_not_depend_on_node_order() -> None:
    graph = synthetic_graph(3_000, seed=7)
    base = resolve_identities(graph.node_types, graph.node_values, graph.edge_u, graph.edge_v, graph.edge_time)
    n = len(graph.node_types)
    perm = np.random.default_rng(1).permutation(n)  # old id -> new id
    types = np.empty(n, dtype=object)
    values = np.empty(n, dtype=object)
    types[perm], values[perm] = graph.node_types, graph.node_values
    moved = resolve_identities(types, values, perm[graph.edge_u], perm[graph.edge_v], graph.edge_time)

    assert pd.crosstab(base.labels, moved.labels[perm]).astype(bool).sum(axis=1).eq(1).all()
    assert pd.crosstab(moved.labels[perm], base.labels).astype(bool).sum(axis=1).eq(1).all()
    assert np.array_equal(np.sort(perm[base.shared_nodes]), moved.shared_nodes)
    pd.testing.assert_frame_equal(base.dropped_edges[["edge", "reason"]], moved.dropped_edges[["edge", "reason"]])
    # every label is the smallest node id of its component
    for labels in (base.labels, moved.labels):
        valid = labels >= 0
        smallest = pd.Series(np.flatnonzero(valid)).groupby(labels[valid]).min()
        assert np.array_equal(smallest.index.to_numpy(), smallest.to_numpy())


def test_unknown_type_and_bad_edges_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown identifier types \['fax'\]"):
        resolve(["fax:1", "email:a@x.io"], [("fax:1", "email:a@x.io")])
    with pytest.raises(ValueError, match=r"edge endpoints must be node ids in \[0, 1\)"):
        resolve_identities(np.array(["email"], dtype=object), np.array(["a@x.io"], dtype=object),
                           np.array([0]), np.array([1]), np.array([0]))  # fmt: skip


def test_empty_graph() -> None:
    empty = np.zeros(0, dtype=np.int64)
    result = resolve_identities(np.zeros(0, dtype=object), np.zeros(0, dtype=object), empty, empty, empty)
    assert result.labels.tolist() == []
    assert dropped(result) == []
