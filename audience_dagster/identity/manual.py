"""Manual identity decisions as constraints on the identity graph (node ids), and how the
solver applies them: keep-apart pairs (an unmerge) refuse unions across their sides; merge
groups (a manual merge) join their nodes' final components whatever the limits say."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class ManualConstraints:
    """Recorded manual decisions, as node ids of the graph being resolved.

    ``keep_apart``: pairs ``(side_a, side_b)`` of node-id arrays that must never be one profile
    (an unmerge: the identifiers split out, and the profile's other identifiers at the time).
    ``merge_groups``: node-id arrays whose profiles become one (a manual merge).
    Node ids absent from the graph must already be filtered out by the caller.
    """

    keep_apart: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    merge_groups: tuple[np.ndarray, ...] = ()


NO_CONSTRAINTS = ManualConstraints()


def keep_apart_sides(
    n: int, keep_apart: tuple[tuple[np.ndarray, np.ndarray], ...]
) -> dict[int, frozenset[tuple[int, int]]]:
    """Node -> its keep-apart tags ``(pair index, side 0/1)``; a node on both sides of a pair is an error."""
    tags: dict[int, set[tuple[int, int]]] = {}
    for k, pair in enumerate(keep_apart):
        a, b = (np.unique(np.asarray(s, dtype=np.int64)) for s in pair)
        if len(np.intersect1d(a, b)):
            raise ValueError(f"keep-apart pair {k} names the same identifier on both sides")
        if len(a) and (a.min() < 0 or a.max() >= n) or len(b) and (b.min() < 0 or b.max() >= n):
            raise ValueError(f"keep-apart pair {k} names node ids outside [0, {n})")
        for s, nodes in enumerate((a, b)):
            for node in nodes.tolist():
                tags.setdefault(node, set()).add((k, s))
    return {node: frozenset(t) for node, t in tags.items()}


def crosses_keep_apart(side: dict[int, frozenset[tuple[int, int]]], u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Edges joining the two sides of a keep-apart pair directly (only tagged nodes are looked at)."""
    out = np.zeros(len(u), dtype=bool)
    if not side:
        return out
    tagged = np.fromiter(side.keys(), dtype=np.int64, count=len(side))
    for i in np.flatnonzero(np.isin(u, tagged) & np.isin(v, tagged)).tolist():
        tu, tv = side[int(u[i])], side[int(v[i])]
        out[i] = any((k, 1 - s) in tv for k, s in tu)
    return out


def apply_merge_groups(key: np.ndarray, blocked: np.ndarray, groups: tuple[np.ndarray, ...], n_keys: int) -> np.ndarray:
    """Join the components (keys) of each merge group's nodes: connected components over keys."""
    pairs = []
    for group in groups:
        nodes = np.asarray(group, dtype=np.int64)
        nodes = nodes[~blocked[nodes]]
        if len(nodes) > 1:
            keys = key[nodes]
            pairs.append(np.stack([np.full(len(keys) - 1, keys[0]), keys[1:]]))
    if not pairs:
        return key
    ku, kv = np.concatenate(pairs, axis=1)
    graph = coo_matrix((np.ones(len(ku), dtype=np.int8), (ku, kv)), shape=(n_keys, n_keys)).tocsr()
    _, comp = connected_components(graph, directed=False)
    # representative key of each joined set: its smallest key, so labels stay order-independent
    smallest = np.full(comp.max() + 1, n_keys, dtype=np.int64)
    np.minimum.at(smallest, comp, np.arange(n_keys, dtype=np.int64))
    return smallest[comp[key]]
