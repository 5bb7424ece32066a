"""Item-to-item co-occurrence recommendations with a popularity fallback (pure: numpy/scipy).

Shaped like lifetimes' fitters: :meth:`ItemCooccurrence.fit` learns from an interaction matrix
(profiles × items, weights: purchase 3, add to cart 2, view/read 1, summed, then ``log1p``) and
keeps its state in attributes ending in ``_``:

* ``similarity_``: the items' cosine similarity on who touched them,
  ``c_ij / (sqrt(n_i n_j) + shrinkage)`` (``c_ij`` people who touched both, ``n_i`` who touched
  ``i``; the shrinkage damps pairs seen by few people), each item keeping its ``neighbours``
  most similar items (sparse);
* ``popularity_``: people per item, for cold starts and to fill a short list.

:meth:`recommend` scores ``X @ similarity_`` per chunk of profiles (sparse × sparse), masks what
each profile must not get (bought products, consumed content), and takes the top ``n``; a slot
the co-occurrence cannot fill goes to the most popular item left (reason ``popular``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from audience_dagster.errors import ModelError

CHUNK = 50_000


@dataclass
class Recommendations:
    items: np.ndarray  # (profiles, n) item indices, -1 where nothing is left to recommend
    scores: np.ndarray  # (profiles, n) float32
    from_history: np.ndarray  # (profiles, n) bool: co-occurrence (True) or popularity (False)


def interaction_matrix(
    rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """Profiles × items, duplicate (row, col) summed, then ``log1p``."""
    matrix = sp.csr_matrix((weights.astype(np.float32), (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    matrix.data = np.log1p(matrix.data)
    return matrix


class ItemCooccurrence:
    def __init__(self, neighbours: int = 30, shrinkage: float = 10.0) -> None:
        if neighbours < 1 or shrinkage < 0:
            raise ModelError("ItemCooccurrence needs neighbours >= 1 and shrinkage >= 0")
        self.neighbours = neighbours
        self.shrinkage = shrinkage

    def fit(self, interactions: sp.csr_matrix) -> ItemCooccurrence:
        if interactions.shape[1] == 0:
            raise ModelError("no items to learn from: the events hold no product or content interactions")
        touched = (interactions > 0).astype(np.float32).tocsc()
        people = np.asarray(touched.sum(axis=0)).ravel()
        co = (touched.T @ touched).tocsr()
        co.setdiag(0)
        co.eliminate_zeros()
        norm = np.sqrt(people)
        co = co.tocoo()
        values = co.data / (norm[co.row] * norm[co.col] + self.shrinkage)
        self.similarity_ = _top_k_per_row(sp.csr_matrix((values, (co.row, co.col)), shape=co.shape), self.neighbours)
        self.popularity_ = people
        return self

    @classmethod
    def from_state(cls, similarity: sp.csr_matrix, popularity: np.ndarray) -> ItemCooccurrence:
        """A model with the fitted state of an earlier :meth:`fit` (``similarity_``, ``popularity_``)."""
        model = cls()
        model.similarity_ = similarity.tocsr()
        model.popularity_ = np.asarray(popularity, dtype=np.float32)
        return model

    def recommend(self, history: sp.csr_matrix, exclude: sp.csr_matrix, n: int) -> Recommendations:
        """Top ``n`` items per row of ``history`` (profiles × items), never an item in ``exclude``.

        Sparse throughout: the candidates of a profile are its items' neighbours (``history @
        similarity_``), ranked by one sort per chunk; short lists are filled from the most
        popular items not excluded and not already listed (score 0)."""
        if not hasattr(self, "similarity_"):
            raise ModelError("recommend() before fit()")
        profiles, items = history.shape
        n = min(n, items)
        out = Recommendations(
            np.full((profiles, n), -1, np.int32), np.zeros((profiles, n), np.float32), np.zeros((profiles, n), bool)
        )
        by_popularity = np.argsort(-self.popularity_, kind="stable")
        for start in range(0, profiles, CHUNK):
            stop = min(start + CHUNK, profiles)
            blocked = (exclude[start:stop] > 0).astype(np.float32).tocsr()
            scores = (history[start:stop] @ self.similarity_).tocsr()
            scores = (scores - scores.multiply(blocked)).tocsr()
            scores.eliminate_zeros()
            listed = _top_n_sparse(scores, n, out, start)
            _fill_popular(out, start, listed, blocked, by_popularity, n)
        return out


def _top_n_sparse(scores: sp.csr_matrix, n: int, out: Recommendations, offset: int) -> np.ndarray:
    """Write each row's ``n`` best (positive) entries into ``out``; how many each row got.

    One stable sort by (row, score descending) over sorted column indices: exact, and equal
    scores rank by item index whichever chunk of profiles a row is scored in (an update of a few
    profiles ranks exactly as a pass over all of them)."""
    scores.sort_indices()
    counts = np.diff(scores.indptr)
    row = np.repeat(np.arange(scores.shape[0]), counts)
    order = np.lexsort((-scores.data, row))
    pos = np.arange(row.size) - scores.indptr[row]
    top = pos < n
    picked = order[top]
    row, pos = row[top], pos[top]
    out.items[offset + row, pos] = scores.indices[picked]
    out.scores[offset + row, pos] = scores.data[picked]
    out.from_history[offset + row, pos] = True
    return np.minimum(counts, n)


def _fill_popular(
    out: Recommendations, offset: int, listed: np.ndarray, blocked: sp.csr_matrix, by_popularity: np.ndarray, n: int
) -> None:
    """Fill rows with fewer than ``n`` items from the most popular items they may get."""
    short = np.flatnonzero(listed < n)
    if short.size == 0:
        return
    items = blocked.shape[1]
    widest = int(blocked[short].getnnz(axis=1).max(initial=0)) + n
    candidates = np.broadcast_to(by_popularity[: min(items, widest + n)], (short.size, min(items, widest + n)))
    taken = out.items[offset + short]
    banned_rows, banned_cols = blocked[short].nonzero()
    taken_rows, taken_slots = np.nonzero(taken >= 0)
    banned = np.concatenate(
        [
            banned_rows.astype(np.int64) * items + banned_cols,
            taken_rows.astype(np.int64) * items + taken[taken_rows, taken_slots],
        ]
    )
    keys = np.arange(short.size, dtype=np.int64)[:, None] * items + candidates
    ok = ~np.isin(keys, banned)
    slot = np.cumsum(ok, axis=1) - 1 + listed[short][:, None]
    place = ok & (slot < n)
    r, c = np.nonzero(place)
    out.items[offset + short[r], slot[r, c]] = candidates[r, c]


def _top_k_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest values of each row."""
    matrix = matrix.tocsr()
    keep = np.zeros(matrix.nnz, dtype=bool)
    for row in range(matrix.shape[0]):
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        if hi - lo <= k:
            keep[lo:hi] = True
        else:
            keep[lo + np.argpartition(-matrix.data[lo:hi], k - 1)[:k]] = True
    kept = sp.csr_matrix((matrix.data * keep, matrix.indices, matrix.indptr), shape=matrix.shape)
    kept.eliminate_zeros()
    return kept


def popularity_baseline(popularity: np.ndarray, exclude: sp.csr_matrix, n: int) -> np.ndarray:
    """The ``n`` most popular items per profile, minus what it must not get: (profiles, n)."""
    ranked = np.argsort(-popularity, kind="stable")[: n + exclude.getnnz(axis=1).max(initial=0)]
    out = np.full((exclude.shape[0], n), -1, np.int32)
    blocked = exclude.tocsr()
    for row in range(exclude.shape[0]):
        banned = set(blocked.indices[blocked.indptr[row] : blocked.indptr[row + 1]].tolist())
        picks = [i for i in ranked if i not in banned][:n]
        out[row, : len(picks)] = picks
    return out
