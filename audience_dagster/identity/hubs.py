"""Two graph preparations before identity resolution: shared values and identity equivalences.

**Shared values** (the automatic guard, in the spirit of Segment's and PostHog's): a person
identifier that the data links to more people than one value can belong to is *shared* (a
store's phone typed for every walk-in customer, a recycled provider contact id, a family
email): it joins nobody and is listed with its count. How many people a value is seen with is
a bound the limits prove: a value linked to ``d`` distinct identifiers of a type limited to
``k`` per profile touches at least ``ceil(d / k)`` people (two user ids: two people; seven
emails: three). A value whose bound exceeds ``IdentityRules.shared_value_people`` is shared.

**Equivalences**: an alias between two user ids says they are one identity (Segment's alias).
Such edges are contracted before resolution, so a chain or loop of any length is one node that
counts once against the user-id limit.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from audience_dagster.identity.rules import IdentityRules


def neighbour_pairs(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (node, neighbour) pairs of the undirected edges ``u``–``v`` (both directions)."""
    a = np.concatenate([u, v]).astype(np.int64)
    b = np.concatenate([v, u]).astype(np.int64)
    keys = np.sort(a * n + b)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    return keys // n, keys % n


def people_per_value(
    types: np.ndarray, node: np.ndarray, neighbour: np.ndarray, n: int, rules: IdentityRules
) -> np.ndarray:
    """Per node: the fewest people its direct links need under the rules' limits
    (``max over limited types of ceil(distinct neighbours of the type / limit)``)."""
    people = np.zeros(n, dtype=np.int64)
    neighbour_types = types[neighbour]
    for name in rules.limited_types():
        limit = rules.limits[name]
        count = np.bincount(node[neighbour_types == name], minlength=n)
        np.maximum(people, -(-count // limit), out=people)
    return people


def shared_values(
    types: np.ndarray, strong: np.ndarray, u: np.ndarray, v: np.ndarray, usable: np.ndarray, rules: IdentityRules
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shared mask per node, people bound per node, distinct strong neighbours per node).

    ``usable``: the edges that may link (not blocked); only person–person edges count.
    """
    n = len(types)
    idx = np.flatnonzero(usable & strong[u] & strong[v] & (u != v))
    node, neighbour = neighbour_pairs(n, u[idx], v[idx])
    people = people_per_value(types, node, neighbour, n, rules)
    degree = np.bincount(node, minlength=n).astype(np.int64)
    return strong & (people > rules.shared_value_people), people, degree


def contraction(n: int, u: np.ndarray, v: np.ndarray, equivalent: np.ndarray) -> np.ndarray:
    """Representative (smallest node id) of every node's class under the ``equivalent`` edges."""
    idx = np.flatnonzero(equivalent)
    if len(idx) == 0:
        return np.arange(n, dtype=np.int64)
    graph = coo_matrix((np.ones(len(idx), dtype=np.int8), (u[idx], v[idx])), shape=(n, n)).tocsr()
    _, comp = connected_components(graph, directed=False)
    smallest = np.full(int(comp.max()) + 1, n, dtype=np.int64)
    np.minimum.at(smallest, comp, np.arange(n, dtype=np.int64))
    return smallest[comp]
