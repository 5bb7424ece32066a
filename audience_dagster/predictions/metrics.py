"""Holdout metrics for probabilities and amounts (pure numpy / scikit-learn).

* ``auc``: area under the ROC curve (0.5 = chance); ``brier``: mean squared error of the
  probability; ``ece``: expected calibration error over ten equal-count bins — the
  count-weighted mean gap between predicted and observed rates;
* ``calibration_by_decile``: per decile of the prediction, its mean and the observed rate;
* ``lift_by_decile``: per decile of the prediction from the top, observed rate, lift and
  cumulative gain;
* ``mae``: mean absolute error of an amount; ``normalized_gini``: how well an amount ranks
  people, 1 = perfect order, 0 = random (Gini of the actuals sorted by prediction over the Gini
  of the actuals sorted by themselves).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

INTERVAL_COVERAGE = 0.8


def _deciles(predicted: np.ndarray, bins: int = 10) -> np.ndarray:
    order = np.argsort(predicted, kind="stable")
    decile = np.empty(len(predicted), dtype=np.int64)
    decile[order] = np.arange(len(predicted)) * bins // max(len(predicted), 1)
    return decile


def calibration_by_decile(predicted: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    """Per decile of ``predicted`` (1 = lowest): profiles, mean prediction, observed rate."""
    frame = pd.DataFrame({"decile": _deciles(predicted) + 1, "predicted": predicted, "actual": actual})
    table = frame.groupby("decile").agg(
        profiles=("actual", "size"), mean_predicted=("predicted", "mean"), observed=("actual", "mean")
    )
    return table.reset_index()


def expected_calibration_error(predicted: np.ndarray, actual: np.ndarray) -> float:
    table = calibration_by_decile(predicted, actual)
    gaps = (table["mean_predicted"] - table["observed"]).abs()
    return float((gaps * table["profiles"]).sum() / table["profiles"].sum())


def classification_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """auc, brier, ece, base rate and size; auc is NaN when only one class is present."""
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=int)
    both = 0 < actual.sum() < len(actual)
    return {
        "auc": float(roc_auc_score(actual, predicted)) if both else float("nan"),
        "brier": float(brier_score_loss(actual, predicted)) if len(actual) else float("nan"),
        "ece": expected_calibration_error(predicted, actual) if len(actual) else float("nan"),
        "base_rate": float(actual.mean()) if len(actual) else float("nan"),
        "profiles": float(len(actual)),
    }


def normalized_gini(predicted: np.ndarray, actual: np.ndarray) -> float:
    def gini(order_by: np.ndarray) -> float:
        ranked = actual[np.lexsort((np.arange(len(actual)), -order_by))]
        cumulative = np.cumsum(ranked) / ranked.sum()
        return float(cumulative.sum() / len(ranked) - (len(ranked) + 1) / (2 * len(ranked)))

    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if len(actual) == 0 or actual.sum() <= 0:
        return float("nan")
    best = gini(actual)
    return gini(predicted) / best if best > 0 else float("nan")  # one buyer: no order to get right


def regression_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """mae, normalized gini, totals predicted and actual (with the sampling standard error of
    the actual total, ``sqrt(n) * std``), size."""
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    return {
        "mae": float(np.abs(predicted - actual).mean()) if len(actual) else float("nan"),
        "gini": normalized_gini(predicted, actual),
        "total_predicted": float(predicted.sum()),
        "total_actual": float(actual.sum()),
        "total_actual_se": float(np.sqrt(len(actual)) * actual.std()) if len(actual) else float("nan"),
        "profiles": float(len(actual)),
    }


def lift_by_decile(predicted: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    """Lift and cumulative gain, the highest predictions first (decile 1 = the top tenth):
    profiles, observed rate, lift (rate / overall rate) and the share of all positives found
    in this and the higher deciles."""
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    frame = pd.DataFrame({"decile": 10 - _deciles(predicted), "actual": actual})
    table = frame.groupby("decile").agg(profiles=("actual", "size"), positives=("actual", "sum"))
    overall = actual.mean() if len(actual) else float("nan")
    table["observed"] = table["positives"] / table["profiles"]
    table["lift"] = table["observed"] / overall if overall > 0 else float("nan")
    total = table["positives"].sum()
    table["cumulative_gain"] = table["positives"].cumsum() / total if total > 0 else float("nan")
    return table.drop(columns="positives").reset_index()


def ltv_interval(predicted: np.ndarray, actual: np.ndarray, min_rows: int = 30) -> tuple[float, float] | None:
    """Split-conformal 80% interval for an amount, from a segment's holdout: ``(q, c)`` such that
    ``|actual - predicted| <= q (predicted + c)`` for 80% of the holdout (``c`` = its mean
    actual, so a predicted 0 still gets an interval). None below ``min_rows`` holdout rows."""
    ok = np.isfinite(predicted)
    if ok.sum() < min_rows:
        return None
    predicted, actual = predicted[ok], actual[ok]
    c = max(float(actual.mean()), 1.0)
    q = float(np.quantile(np.abs(actual - predicted) / (predicted + c), INTERVAL_COVERAGE))
    return q, c
