"""Pairwise precision and recall of a clustering of identifiers against ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd


def pairwise_precision_recall(predicted: pd.Series, truth: pd.Series) -> tuple[float, float]:
    """(precision, recall) over pairs of identifiers.

    Both series are indexed by identifier (e.g. ``"email:jane@x.com"``) with a cluster / person id
    as value; only identifiers present in both count, and a missing value is a singleton cluster.
    Precision = truly-same pairs among predicted-same pairs; recall = predicted-same pairs among
    truly-same pairs. Computed from the contingency table with ``n*(n-1)/2`` sums, never by
    enumerating pairs. A zero denominator gives 1.0.
    """
    for name, series in (("predicted", predicted), ("truth", truth)):
        if not series.index.is_unique:
            raise ValueError(f"{name} has duplicate identifiers in its index")
    common = predicted.index.intersection(truth.index)
    pred_codes = _codes(predicted.reindex(common))
    true_codes = _codes(truth.reindex(common))
    if len(common) == 0:
        return 1.0, 1.0

    n_true = int(true_codes.max()) + 1
    joint = _run_lengths(np.sort(pred_codes * n_true + true_codes))
    same_both = _pairs(joint)
    same_pred = _pairs(np.bincount(pred_codes))
    same_true = _pairs(np.bincount(true_codes))
    precision = same_both / same_pred if same_pred else 1.0
    recall = same_both / same_true if same_true else 1.0
    return float(precision), float(recall)


def _codes(labels: pd.Series) -> np.ndarray:
    """Dense int64 cluster codes; each missing label gets a code of its own."""
    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = codes < 0
    codes[missing] = len(uniques) + np.arange(int(missing.sum()), dtype=np.int64)
    return codes


def _run_lengths(ordered: np.ndarray) -> np.ndarray:
    """Sizes of the runs of equal values in a sorted array."""
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return np.diff(np.r_[starts, len(ordered)])


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def evaluate_identity_map(
    identity_map: pd.DataFrame, truth: pd.DataFrame, edges: tuple[pd.Index, pd.Index] | None = None
) -> dict[str, float]:
    """Compare an identity map with the generator's truth (``identifier_type, identifier_value,
    person_id``), pairwise over identifiers.

    Identifiers the truth gives to two people (shared devices) and blocked identifiers are left
    out. ``recall`` counts every truth identifier: one the map lacks is a profile of its own.

    With ``edges`` (the graph's edges as two aligned indexes of ``"type:value"`` keys), two more
    figures separate what the data proves from what the resolver does: ``recall_ceiling`` is the
    recall of the best clustering any resolver using only these links can reach (each person's
    identifiers split into the pieces their own links connect), and ``recall_provable`` is this
    map's recall against that clustering.
    """
    owners = truth.groupby(["identifier_type", "identifier_value"])["person_id"].transform("nunique")
    truth = truth[owners == 1].drop_duplicates(["identifier_type", "identifier_value"])
    truth_series = pd.Series(
        truth["person_id"].to_numpy(), index=truth["identifier_type"] + ":" + truth["identifier_value"]
    )
    kept = identity_map[~identity_map["blocked"].astype(bool)]
    predicted = pd.Series(
        kept["profile_id"].astype(str).to_numpy(), index=kept["identifier_type"] + ":" + kept["identifier_value"]
    )
    everything = predicted.reindex(truth_series.index)
    everything = everything.fillna(pd.Series("unlinked:" + everything.index, index=everything.index))
    precision, recall = pairwise_precision_recall(everything, truth_series)
    figures = {
        "truth_identifiers": float(len(truth_series)),
        "linked_identifiers": float(truth_series.index.isin(predicted.index).sum()),
    }
    if edges is not None:
        provable = provable_clusters(truth_series, *edges)
        figures["recall_ceiling"] = pairwise_precision_recall(provable, truth_series)[1]
        figures["recall_provable"] = pairwise_precision_recall(everything, provable)[1]
    figures.update(precision=precision, recall=recall)
    return figures


def provable_clusters(truth: pd.Series, left: pd.Index, right: pd.Index) -> pd.Series:
    """Each truth identifier's person refined by connectivity over the links between two
    identifiers of that same person (connected components, scipy)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(truth)
    u, v = truth.index.get_indexer(left), truth.index.get_indexer(right)
    values = truth.to_numpy()
    ok = (u >= 0) & (v >= 0)
    ok[ok] = values[u[ok]] == values[v[ok]]
    graph = coo_matrix((np.ones(int(ok.sum()), dtype=np.int8), (u[ok], v[ok])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    return pd.Series(comp.astype(str), index=truth.index)
