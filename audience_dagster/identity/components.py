"""Connected components and the sorted-array helpers the identity solver is built from
(numpy and scipy only: edges in, component labels out)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(n: int, du: np.ndarray, dv: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected components of ``n`` nodes joined by the edges ``du``–``dv`` (scipy)."""
    graph = coo_matrix((np.ones(len(du), dtype=np.int8), (du, dv)), shape=(n, n)).tocsr()
    n_comp, comp = connected_components(graph, directed=False)
    return comp.astype(np.int64), int(n_comp)


def label_by_smallest_node(key: np.ndarray, valid: np.ndarray, n_keys: int) -> np.ndarray:
    """Each node labelled by the smallest node with its key (``-1`` where not ``valid``)."""
    node = np.arange(len(key), dtype=np.int64)
    smallest = np.full(n_keys, len(key), dtype=np.int64)
    np.minimum.at(smallest, key[valid], node[valid])
    labels = smallest[key]
    labels[~valid] = -1
    return labels


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort + diff; numpy's hash-based ``unique`` is slower on large int arrays)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def sorted_unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, for each key, the index of its value among them."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]] if len(keys) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse
