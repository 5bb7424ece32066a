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

CHUNK = 4096


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
    def __init__(self, neighbours: int = 50, shrinkage: float = 10.0) -> None:
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

    def recommend(self, history: sp.csr_matrix, exclude: sp.csr_matrix, n: int) -> Recommendations:
        """Top ``n`` items per row of ``history`` (profiles × items), never an item in ``exclude``."""
        if not hasattr(self, "similarity_"):
            raise ModelError("recommend() before fit()")
        profiles, items = history.shape
        n = min(n, items)
        out = Recommendations(
            np.full((profiles, n), -1, np.int32), np.zeros((profiles, n), np.float32), np.zeros((profiles, n), bool)
        )
        # popularity as a tiny tie-breaker below any co-occurrence score: fills short lists
        popular = (self.popularity_ / max(self.popularity_.max(), 1) * 1e-6).astype(np.float32)
        for start in range(0, profiles, CHUNK):
            stop = min(start + CHUNK, profiles)
            scores = (history[start:stop] @ self.similarity_).toarray().astype(np.float32)
            learned = scores > 0
            scores += popular
            blocked = exclude[start:stop].tocoo()
            scores[blocked.row, blocked.col] = -np.inf
            top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            top_scores = np.take_along_axis(top_scores, order, axis=1)
            ok = np.isfinite(top_scores)
            out.items[start:stop] = np.where(ok, top, -1)
            out.scores[start:stop] = np.where(ok, top_scores, 0)
            out.from_history[start:stop] = ok & np.take_along_axis(learned, top, axis=1)
        return out


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
