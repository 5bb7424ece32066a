"""Decide which identifiers are one person: the identity graph, resolved with numpy / scipy.

Nodes are distinct identifiers (a type such as ``email`` and a normalised value); edges say two
identifiers were seen together (an identify call, an order, a login) at a time.

Algorithm
---------
0. **Blocked identifiers.** Junk values (the junk list of :mod:`.junk`: ``'null'``, ``'guest'``,
   ``test@…``, placeholder phones … in every field) get label ``-1``; every edge touching one is
   dropped with reason ``blocked_identifier``. A ``'null'`` user id therefore links nobody.
   **Shared values** (:mod:`.hubs`): a person identifier whose direct links need more than
   ``rules.shared_value_people`` people under the limits joins nobody either (label ``-1``,
   reason ``shared_value``). **Equivalences** (aliases between user ids) are contracted first:
   a chain or loop of any length counts as one user id.
1. **Phase A — persons from strong identifiers.** Components of the graph of edges whose two ends
   are person types (``user_id``, ``email``, ``phone`` …) that break no limit are persons at once
   (scipy). The edges of the other components are replayed through a union-find that keeps, per
   root, how many identifiers of each limited type the profile holds: links between
   higher-priority types first (by the weaker end's type, then the stronger's: an account's
   user id ↔ email before a customer id or a phone attaches), then in time order, links of one
   time from the least connected identifiers up, then by edge index. So a reused weak id (a
   customer id two stores gave to two people) cannot pull one account's email into another's.
   A union that would exceed a limit is refused and recorded as ``limit:<type>`` (the
   highest-priority type whose limit breaks): among links of one strength the earlier wins, as
   in Segment Unify. This is the only sequential loop; it runs on plain Python lists with path
   halving and union by size.
   Strong identifiers without a strong edge are persons of their own.
2. **Phase B — devices, vectorised.** Connected components of the graph of device–device edges
   only (``anonymous_id``, ``device_id``) are computed with
   ``scipy.sparse.csgraph.connected_components``. Each device component collects the distinct
   Phase-A persons it touches through device–strong edges:

   * exactly one person → the whole component joins that person;
   * none → it is an anonymous profile of its own;
   * two or more → a *shared device*: a device node whose own links name exactly one person
     (the cookie one member used on the family tablet) joins that person; the others join
     nobody, are reported in ``shared_nodes``, their device–strong edges are dropped with reason
     ``shared_device``, and they keep a label of their own (an anonymous profile).

   Devices never link two persons: two people seen on one device stay two people.
3. **Manual decisions.** A person's decisions outrank the data (see
   :class:`ManualConstraints`): a *keep-apart* pair of node sets (an unmerge) refuses, in Phase A,
   any union that would put a node of one side with a node of the other (reason
   ``manual_unmerge``), and drops the device links from either side's devices to the other
   side's persons; a *merge group* (a manual merge) joins the final components of its nodes,
   whatever the limits say.
4. **Labels.** Every final component is labelled by the smallest node id in it, so the result
   does not depend on the order in which nodes or edges arrive (other than edge *time*, which
   decides which link wins a limit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audience_dagster.identity.components import (
    components,
    label_by_smallest_node,
    sorted_unique_inverse,
)
from audience_dagster.identity.devices import attach_devices, direct_person
from audience_dagster.identity.hubs import contraction, shared_values
from audience_dagster.identity.junk import JunkList, junk_codes, shipped_junk_list
from audience_dagster.identity.manual import (
    NO_CONSTRAINTS,
    ManualConstraints,
    apply_merge_groups,
    crosses_keep_apart,
    keep_apart_sides,
)
from audience_dagster.identity.normalize import as_strings
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules

__all__ = ["NO_CONSTRAINTS", "ManualConstraints", "Resolution", "resolve_identities"]

DROPPED_COLUMNS = ("edge", "reason", "u", "v")
_FIELD_BITS = 16  # bits per limited type in the packed per-profile counts of Phase A


@dataclass(frozen=True)
class Resolution:
    """Outcome of :func:`resolve_identities`.

    ``labels``: int64 component label per node (index = node id), ``-1`` for blocked nodes.
    ``dropped_edges``: one row per edge not used, columns ``edge`` (index into the input edges),
    ``reason`` (``limit:<type>``, ``shared_device``, ``blocked_identifier``, ``shared_value`` or
    ``manual_unmerge``), ``u``, ``v``;
    sorted by ``edge``. ``shared_nodes``: sorted node ids of device identifiers seen with two or
    more different persons (left unmerged). ``junk_codes``: per node, the junk-list rule that
    blocked it (:data:`~audience_dagster.identity.junk.JUNK_REASONS`; 0: not junk).
    ``shared_values``: sorted node ids of shared person identifiers; ``value_people``: per
    node, the fewest people its direct links need (see :mod:`.hubs`).
    """

    labels: np.ndarray
    dropped_edges: pd.DataFrame
    shared_nodes: np.ndarray
    junk_codes: np.ndarray | None = None
    shared_values: np.ndarray | None = None
    value_people: np.ndarray | None = None


def resolve_identities(
    node_types: np.ndarray,
    node_values: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_time: np.ndarray,
    rules: IdentityRules = DEFAULT_RULES,
    manual: ManualConstraints = NO_CONSTRAINTS,
    junk: JunkList | None = None,
    equivalent: np.ndarray | None = None,
) -> Resolution:
    """Partition identifiers into persons; see the module docstring for the algorithm.

    ``junk``: the junk list (default: the shipped one; ``rules.extra_blocked_patterns`` are added).
    ``equivalent``: boolean per edge, True for links that make two identifiers one identity
    (aliases between user ids); both ends must be of the same person type.
    """
    rules.validate()
    n = len(node_types)
    if len(node_values) != n:
        raise ValueError(f"node_types and node_values differ in length: {n} != {len(node_values)}")
    u = np.asarray(edge_u, dtype=np.int64)
    v = np.asarray(edge_v, dtype=np.int64)
    time = np.asarray(edge_time)
    if not len(u) == len(v) == len(time):
        raise ValueError(f"edge arrays differ in length: u={len(u)}, v={len(v)}, time={len(time)}")
    if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValueError(f"edge endpoints must be node ids in [0, {n})")

    types = as_strings(np.asarray(node_types, dtype=object)) if n else np.zeros(0, dtype=object)
    strong = _strong_mask(types, rules)
    junk = junk or shipped_junk_list()
    if rules.extra_blocked_patterns:
        junk = junk.extend(JunkList(patterns={"*": rules.extra_blocked_patterns}))
    codes = junk_codes(types, np.asarray(node_values, dtype=object), junk) if n else np.zeros(0, np.int8)
    blocked = codes > 0
    same = np.zeros(len(u), dtype=bool) if equivalent is None else np.asarray(equivalent, dtype=bool)
    type_code = pd.factorize(types.astype(object))[0] if n else np.zeros(0, dtype=np.int64)
    same &= ~blocked[u] & ~blocked[v] & strong[u] & (type_code[u] == type_code[v])
    rep = contraction(n, u, v, same)
    cu, cv = rep[u], rep[v]
    shared, people, degree = shared_values(types, strong, cu, cv, ~blocked[cu] & ~blocked[cv] & ~same, rules)
    result = _resolve(types, strong, blocked | shared, cu, cv, time, same, rules, manual, degree)
    labels = result.labels[rep]
    dropped = result.dropped_edges
    hub = shared[cu] | shared[cv]
    reason = dropped["reason"].to_numpy(dtype=object)
    reason[hub[dropped["edge"].to_numpy()] & ~(blocked[cu] | blocked[cv])[dropped["edge"].to_numpy()]] = "shared_value"
    dropped = dropped.assign(reason=reason, u=u[dropped["edge"].to_numpy()], v=v[dropped["edge"].to_numpy()])
    return Resolution(
        labels=labels,
        dropped_edges=dropped,
        shared_nodes=result.shared_nodes,
        junk_codes=codes,
        shared_values=np.flatnonzero(shared),
        value_people=people,
    )


def _resolve(
    types: np.ndarray,
    strong: np.ndarray,
    blocked: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    time: np.ndarray,
    same: np.ndarray,
    rules: IdentityRules,
    manual: ManualConstraints,
    degree: np.ndarray,
) -> Resolution:
    """Phases A, B and the manual decisions on the (contracted) graph; ``blocked`` nodes link nothing."""
    n = len(types)
    edge_blocked = (blocked[u] | blocked[v]) & ~same
    su, sv = strong[u], strong[v]
    side = keep_apart_sides(n, manual.keep_apart)
    apart = crosses_keep_apart(side, u, v) & ~edge_blocked & (su ^ sv)
    strong_edge = ~edge_blocked & su & sv & ~same
    device_edge = ~edge_blocked & ~su & ~sv
    mixed_edge = ~edge_blocked & (su ^ sv) & ~apart

    person, limit_dropped = _persons_from_strong_edges(types, u, v, time, strong_edge, rules, side, degree)
    # a "person" of nothing but transaction ids (a guest order whose email was junk) is no one:
    # it attaches to the device it was placed on, like a device
    strong = strong & _holds_a_person(types, person, strong, rules)
    su, sv = strong[u], strong[v]
    device_edge = ~edge_blocked & ~su & ~sv
    mixed_edge = ~edge_blocked & (su ^ sv) & ~apart

    comp, n_comp = components(n, u[device_edge], v[device_edge])
    dev_end = np.where(su, v, u)[mixed_edge]
    strong_end = np.where(su, u, v)[mixed_edge]
    attach, shared_comp = attach_devices(comp[dev_end], person[strong_end], n, n_comp)

    # in a shared component, a device whose own links name exactly one person is that person's
    direct = direct_person(dev_end, person[strong_end], shared_comp[comp[dev_end]], n)
    is_device = ~strong & ~blocked
    key = person.copy()
    dev_comp = comp[is_device]
    dev_person = np.where(attach[dev_comp] >= 0, attach[dev_comp], direct[is_device])
    key[is_device] = np.where(dev_person >= 0, dev_person, n + dev_comp)
    key = apply_merge_groups(key, blocked, manual.merge_groups, n + n_comp)
    labels = label_by_smallest_node(key, ~blocked, n + n_comp)

    mixed_idx = np.flatnonzero(mixed_edge)
    shared_idx = mixed_idx[shared_comp[comp[dev_end]] & (direct[dev_end] < 0)]
    dropped = _dropped_frame(
        u,
        v,
        [
            (np.flatnonzero(edge_blocked), "blocked_identifier"),
            (shared_idx, "shared_device"),
            (np.flatnonzero(apart), "manual_unmerge"),
            *limit_dropped,
        ],
    )
    shared_nodes = np.flatnonzero(is_device & shared_comp[comp] & (direct < 0))
    return Resolution(labels=labels, dropped_edges=dropped, shared_nodes=shared_nodes)


def _holds_a_person(types: np.ndarray, person: np.ndarray, strong: np.ndarray, rules: IdentityRules) -> np.ndarray:
    """Per node: whether its Phase-A person holds an identifier other than ``rules.event_types``."""
    event = np.zeros(len(types), dtype=bool)
    for name in rules.event_types:
        event |= types == name
    real = strong & ~event
    holds = np.zeros(len(types), dtype=bool)
    holds[person[real]] = True
    return holds[person]


def _strong_mask(types: np.ndarray, rules: IdentityRules) -> np.ndarray:
    strong = np.zeros(len(types), dtype=bool)
    known = np.zeros(len(types), dtype=bool)
    for name in rules.known_types:
        is_type = types == name
        known |= is_type
        if name in rules.person_types:
            strong |= is_type
    if not known.all():
        unknown = sorted({str(t) for t in types[~known][:1000]})
        raise ValueError(
            f"unknown identifier types {unknown}; "
            f"known types are {sorted(rules.known_types)} (add new ones to the IdentityRules)"
        )
    return strong


def _persons_from_strong_edges(
    node_types: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    time: np.ndarray,
    strong_edge: np.ndarray,
    rules: IdentityRules,
    side: dict[int, frozenset[tuple[int, int]]] | None = None,
    degree: np.ndarray | None = None,
) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]]:
    """Phase A. Returns the person (root node id) of every node and the refused edges by reason.

    Edges are replayed strongest first (by the lower priority of their two types, then the
    higher: user id ↔ email before customer id ↔ email, order ↔ email before order ↔ customer
    id), then in time order, then from the least connected
    identifiers up (``degree``: distinct strong neighbours per node), then in edge order.

    Only components that *could* refuse a union go through the sequential replay: a component of
    the strong-edge graph within every limit and without keep-apart nodes accepts all its edges
    in any order, so it is one person at once (vectorised). The replay sees the rest.
    """
    n = len(node_types)
    person = np.arange(n, dtype=np.int64)
    idx = np.flatnonzero(strong_edge & (u != v))
    if len(idx) == 0:
        return person, []
    limited = rules.limited_types()
    comp, n_comp = components(n, u[idx], v[idx])
    hard = np.zeros(n_comp, dtype=bool)
    for name in limited:
        hard |= np.bincount(comp[node_types == name], minlength=n_comp) > rules.limits[name]
    if side:
        hard[comp[np.fromiter(side.keys(), dtype=np.int64, count=len(side))]] = True
    easy = ~hard[comp]
    smallest = np.full(n_comp, n, dtype=np.int64)
    np.minimum.at(smallest, comp, np.arange(n, dtype=np.int64))
    person[easy] = smallest[comp[easy]]
    idx = idx[hard[comp[u[idx]]]]
    if len(idx) == 0:
        return person, []
    rank = np.zeros(n, dtype=np.int64)  # priority of each node's type (0 = highest)
    for position, name in enumerate(rules.priority):
        rank[node_types == name] = position
    weaker = np.maximum(rank[u[idx]], rank[v[idx]])  # a link is as strong as its weaker end,
    stronger = np.minimum(rank[u[idx]], rank[v[idx]])  # then as its stronger end
    hubness = np.zeros(len(idx), dtype=np.int64) if degree is None else np.maximum(degree[u[idx]], degree[v[idx]])
    order = idx[np.lexsort((idx, hubness, time[idx], stronger, weaker))]
    nodes, local = sorted_unique_inverse(np.concatenate([u[order], v[order]]))
    lu, lv = local[: len(order)], local[len(order) :]

    type_code = np.full(len(nodes), -1, dtype=np.int64)
    node_types_used = node_types[nodes]
    for t, name in enumerate(limited):
        type_code[node_types_used == name] = t
    local_of = {int(node): i for i, node in enumerate(nodes)} if side else {}
    local_side = {local_of[node]: tags for node, tags in (side or {}).items() if node in local_of}
    root, refused_pos, refused_type = _union_with_limits(
        len(nodes), lu.tolist(), lv.tolist(), type_code, [rules.limits[t] for t in limited], local_side
    )
    person[nodes] = nodes[root]
    refused_edges = order[np.asarray(refused_pos, dtype=np.int64)]
    refused_type = np.asarray(refused_type, dtype=np.int64)
    reasons = [*(f"limit:{name}" for name in limited), "manual_unmerge"]
    dropped = [(refused_edges[refused_type == t], reason) for t, reason in enumerate(reasons)]
    return person, [d for d in dropped if len(d[0])]


def _union_with_limits(
    m: int,
    us: list[int],
    vs: list[int],
    type_code: np.ndarray,
    limits: list[int],
    side: dict[int, frozenset[tuple[int, int]]] | None = None,
) -> tuple[np.ndarray, list[int], list[int]]:
    """Sequential union-find over ``m`` local nodes; refuses unions that break a type limit or
    a keep-apart pair.

    Returns the final root of every node, and for each refused edge its position in ``us``/``vs``
    and the index of the (first, i.e. highest-priority) limited type it would break, or
    ``len(limits)`` for a keep-apart refusal.

    ``side`` maps a local node to its keep-apart tags ``(pair, side)``; a union is refused when
    one root holds ``(k, 0)`` and the other ``(k, 1)``. Only the few tagged roots pay for this.

    Per root, the counts of all limited types are packed into one Python int, ``_FIELD_BITS``
    bits per type. Adding ``offset`` (``2**(w-1) - 1 - limit`` in each field) to the sum of two
    roots' counts sets a field's top (guard) bit exactly when that type's limit is exceeded, so
    one addition and one ``&`` check every limit at once.
    """
    w = _FIELD_BITS
    if any(limit >= 1 << (w - 2) for limit in limits):
        raise ValueError(f"type limits must be below {1 << (w - 2)}")
    offset = sum(((1 << (w - 1)) - 1 - limit) << (w * t) for t, limit in enumerate(limits))
    guard = sum(1 << (w * t + w - 1) for t in range(len(limits)))
    unit = np.array([1 << (w * t) for t in range(len(limits))] + [0], dtype=object)
    packed = unit[type_code].tolist()  # type_code -1 (unlimited type) -> 0

    parent = list(range(m))
    size = [1] * m
    tags = dict(side or {})  # root -> keep-apart tags of its set
    refused_pos: list[int] = []
    refused_type: list[int] = []
    for pos, (a, b) in enumerate(zip(us, vs, strict=True)):
        while parent[a] != a:
            parent[a] = a = parent[parent[a]]
        while parent[b] != b:
            parent[b] = b = parent[parent[b]]
        if a == b:
            continue
        total = packed[a] + packed[b]
        broken = (total + offset) & guard
        if broken:
            refused_pos.append(pos)
            refused_type.append(((broken & -broken).bit_length() - 1) // w)  # lowest field = highest priority
            continue
        if tags and (a in tags or b in tags):
            ta, tb = tags.get(a, frozenset()), tags.get(b, frozenset())
            if any((k, 1 - s) in tb for k, s in ta):
                refused_pos.append(pos)
                refused_type.append(len(limits))
                continue
            merged = ta | tb
        else:
            merged = None
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        packed[a] = total
        if merged is not None:
            tags[a] = merged
    root = np.asarray(parent, dtype=np.int64)
    while True:  # pointer jumping until every node points at its root
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root, refused_pos, refused_type
        root = nxt


def _dropped_frame(u: np.ndarray, v: np.ndarray, groups: list[tuple[np.ndarray, str]]) -> pd.DataFrame:
    edges = np.concatenate([g for g, _ in groups] + [np.zeros(0, dtype=np.int64)]).astype(np.int64)
    reasons = np.concatenate([np.full(len(g), r, dtype=object) for g, r in groups] + [np.zeros(0, dtype=object)])
    order = np.argsort(edges, kind="stable")
    edges, reasons = edges[order], reasons[order]
    return pd.DataFrame({"edge": edges, "reason": reasons, "u": u[edges], "v": v[edges]}, columns=list(DROPPED_COLUMNS))
