"""Phase B of identity resolution: devices (anonymous ids, app device ids) attach to persons.

Pure numpy: each device component joins the one person it touches; a component seen with
several people is shared, except that a device whose own links name exactly one person joins
that person (:func:`direct_person`)."""

from __future__ import annotations

import numpy as np


def attach_devices(
    comp_of_link: np.ndarray, person_of_link: np.ndarray, n: int, n_comp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per device component: the one person it joins (-1 if none or several), and whether it is shared."""
    pairs = sorted_unique(comp_of_link * n + person_of_link)
    pair_comp, pair_person = pairs // n, pairs % n
    n_persons = np.bincount(pair_comp, minlength=n_comp)
    attach = np.full(n_comp, -1, dtype=np.int64)
    single = n_persons[pair_comp] == 1
    attach[pair_comp[single]] = pair_person[single]
    return attach, n_persons >= 2


def direct_person(dev_end: np.ndarray, person_of_link: np.ndarray, in_shared: np.ndarray, n: int) -> np.ndarray:
    """Per node: the one person its own device–person links name, for devices of shared
    components (-1 elsewhere, or when they name none or several)."""
    pairs = sorted_unique(dev_end[in_shared] * n + person_of_link[in_shared])
    node, owner = pairs // n, pairs % n
    count = np.bincount(node, minlength=n)
    direct = np.full(n, -1, dtype=np.int64)
    single = count[node] == 1
    direct[node[single]] = owner[single]
    return direct


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort + diff; numpy's hash-based ``unique`` is slower on large int arrays)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
