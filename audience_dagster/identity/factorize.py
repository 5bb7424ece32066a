"""Distinct pairs of values as integer codes, fast (numpy / pandas hashing, no MultiIndex)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def factorize_pairs(
    first: pd.Series | np.ndarray, second: pd.Series | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the distinct (first, second) pairs in order of appearance, and the pairs' two
    columns: each column factorised alone, then the pair of codes as one int64 (much faster than
    factorising a MultiIndex of strings)."""
    a_codes, a_uniques = pd.factorize(np.asarray(first, dtype=object), use_na_sentinel=False)
    b_codes, b_uniques = pd.factorize(np.asarray(second, dtype=object), use_na_sentinel=False)
    combined = a_codes.astype(np.int64) * (len(b_uniques) + 1) + b_codes.astype(np.int64)
    codes, first_seen = pd.factorize(combined)
    pair_a, pair_b = np.divmod(first_seen, len(b_uniques) + 1)
    return (
        codes.astype(np.int64),
        np.asarray(a_uniques, dtype=object)[pair_a],
        np.asarray(b_uniques, dtype=object)[pair_b],
    )
