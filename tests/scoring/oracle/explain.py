"""Additive scores with their explanation: base + per-rule points, clamped to 0–100 once."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

CONTRIBUTION_COLUMNS = ("profile", "rule", "points")


def accumulate(
    index: pd.Index, base: int, named_points: Iterable[tuple[str, np.ndarray]]
) -> tuple[pd.Series, pd.DataFrame]:
    """(score clamped to 0–100, contributions) from ``(rule name, points per profile)`` pairs in
    evaluation order. ``contributions`` has one row per (profile, rule) with non-zero points,
    ordered by profile then evaluation order."""
    total = np.full(len(index), base, dtype=np.int64)
    parts = []
    for order, (name, points) in enumerate(named_points):
        points = np.asarray(points, dtype=np.int64)
        moved = np.flatnonzero(points)
        if len(moved):
            total += points
            parts.append(pd.DataFrame({"row": moved, "rule": name, "points": points[moved], "order": order}))
    score = pd.Series(np.clip(total, 0, 100), index=index, name="score")
    if not parts:
        return score, pd.DataFrame({c: [] for c in CONTRIBUTION_COLUMNS})
    contributions = pd.concat(parts, ignore_index=True).sort_values(["row", "order"], kind="stable")
    contributions.insert(0, "profile", index.to_numpy()[contributions["row"].to_numpy()])
    return score, contributions.drop(columns=["row", "order"]).reset_index(drop=True)
