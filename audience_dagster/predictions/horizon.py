"""Horizon-aware training: when the history is shorter than label window + horizon, the short
types (churn, next purchase, upgrade) learn on the longest label window the history allows and
their probabilities are carried to the horizon here; the model card says so
(``pipeline.train_all``). LTV is stretched the same way by BG/NBD's expected purchases
(``score._extension``).

For a customer, BG/NBD gives the chance of no purchase in the rest of the horizon given none
in the labelled window: ``P(none in H) / P(none in L)`` from its own posterior, so

* churn over H = churn over L x ``P_none(H) / P_none(L)``;
* a purchase within H = 1 - (1 - P(purchase within L)) x ``P_none(H) / P_none(L)``.

Without BTYD (prospects, or a BG/NBD that could not be fitted) the hazard is taken as constant:
``P_none(H) = P_none(L) ^ (H / L)``. Pure numpy; no Dagster or database import.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def label_window(horizon: int, history_days: float, min_history: int, min_label: int) -> int | None:
    """The label window for a ``horizon``: the horizon itself when the history leaves
    ``min_history`` days of features before it, else the longest window that does (at least
    ``min_label`` days), else None (nothing can be labelled)."""
    available = int(history_days - min_history)
    if available >= horizon:
        return horizon
    return available if available >= min_label else None


def stretch_probability(
    kind: str, p: np.ndarray, label_days: int, horizon_days: int, btyd: pd.DataFrame, mask: np.ndarray
) -> np.ndarray:
    """``p`` (rows ``mask`` of the scoring frame) learnt over ``label_days``, carried to
    ``horizon_days`` as the module docstring says."""
    quiet = 1.0 - p if kind != "churn" else p  # P(no event within the labelled window)
    full = btyd.get(f"btyd_p_no_purchase_{horizon_days}d")
    part = btyd.get(f"btyd_p_no_purchase_{label_days}d")
    exponent = horizon_days / label_days
    constant = np.power(np.clip(quiet, 0.0, 1.0), exponent)
    stretched = constant
    if kind != "upgrade" and full is not None and part is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = full.to_numpy(float)[mask] / part.to_numpy(float)[mask]
        usable = np.isfinite(ratio) & (ratio > 0)
        stretched = np.where(usable, quiet * np.clip(ratio, 0.0, 1.0), constant)
    return stretched if kind == "churn" else 1.0 - stretched
