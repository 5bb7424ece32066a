"""The fitted candidates a segment chooses between, and what they share: a histogram
gradient-boosting model (monotonic where the direction is known, see ``MONOTONE``) and a
regularised linear model on log-scaled features; their loss; and :class:`Calibrated`, a
classifier followed by an isotonic (or, on few validation rows, Platt) map learnt on a
validation split that the classifier never saw."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.metrics import log_loss, mean_poisson_deviance
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from audience_dagster.predictions.targets import PROBABILITIES

ISOTONIC_FROM = 1_000  # validation rows: below, Platt scaling (two parameters) instead of isotonic
CALIBRATION_FOLDS = 5
# the direction a probability must move in when one feature grows and the others stay: more
# time since the last order or a higher BTYD risk of no purchase never lowers churn
_CHURN_UP = ("days_since_last_order", "btyd_p_no_purchase_", "recency_vs_cadence")
_CHURN_DOWN = ("orders_90d", "btyd_expected_purchases_")
MONOTONE = {
    "churn": {**dict.fromkeys(_CHURN_UP, 1), **dict.fromkeys(_CHURN_DOWN, -1)},
    "next_purchase": {**dict.fromkeys(_CHURN_UP, -1), **dict.fromkeys(_CHURN_DOWN, 1)},
}


def monotone_constraints(kind: str, features: list[str]) -> dict[str, int]:
    """``monotonic_cst`` for the gradient-boosting candidate: features matched by name prefix."""
    rules = MONOTONE.get(kind, {})
    out = {}
    for feature in features:
        for prefix, sign in rules.items():
            if feature.startswith(prefix):
                out[feature] = sign
    return out


class ModelScale(TransformerMixin, BaseEstimator):
    """The linear candidates' scale: every value clipped to the range seen in training (a
    linear model must not extrapolate: scoring sees longer histories than the training
    cutoff did), then probabilities (``btyd_p_*``) as logits and everything else on a signed
    log scale (counts, amounts and days are heavy-tailed). NaN passes through."""

    def fit(self, x: pd.DataFrame, y: object = None) -> ModelScale:
        self.logit_ = np.array([str(c).startswith("btyd_p_") for c in x.columns])
        values = np.asarray(x, dtype=float)
        seen = np.isfinite(values).any(axis=0)
        self.low_ = np.where(seen, np.nanmin(np.where(np.isfinite(values), values, np.inf), axis=0), -np.inf)
        self.high_ = np.where(seen, np.nanmax(np.where(np.isfinite(values), values, -np.inf), axis=0), np.inf)
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        values = np.clip(np.asarray(x, dtype=float), self.low_, self.high_)
        p = np.clip(values[:, self.logit_], 1e-4, 1 - 1e-4)
        values[:, self.logit_] = np.log(p / (1 - p))
        other = values[:, ~self.logit_]
        values[:, ~self.logit_] = np.sign(other) * np.log1p(np.abs(other))
        return values


def candidates(kind: str, rows: int, features: list[str] | None = None) -> dict[str, object]:
    boosted = dict(
        learning_rate=0.1,
        max_iter=200,
        max_leaf_nodes=15 if rows < 20_000 else 31,
        min_samples_leaf=int(max(10, min(100, rows // 100))),
        l2_regularization=1.0,
        early_stopping=rows >= 2_000,
        n_iter_no_change=10,
        random_state=0,
    )
    prepare = (ModelScale(), SimpleImputer(strategy="median"), StandardScaler())
    if kind in PROBABILITIES:
        return {
            "gbm": HistGradientBoostingClassifier(
                **boosted, monotonic_cst=monotone_constraints(kind, features or []) or None
            ),
            "linear": make_pipeline(*prepare, LogisticRegression(C=0.1, solver="newton-cholesky", max_iter=300)),
        }
    return {
        "gbm": HistGradientBoostingRegressor(loss="poisson", **boosted),
        "linear": make_pipeline(*prepare, PoissonRegressor(alpha=1e-3, solver="newton-cholesky", max_iter=300)),
    }


def fit_estimator(estimator: object, x: pd.DataFrame, y: np.ndarray, weights: np.ndarray) -> None:
    if len(weights) and np.all(weights == weights[0]):
        weights = None  # uniform (a segment is sampled evenly): and weighted binning is slow
    if isinstance(estimator, Pipeline):
        estimator.fit(x, y, **{f"{estimator.steps[-1][0]}__sample_weight": weights})
    else:
        estimator.fit(x, y, sample_weight=weights)


def raw_predict(estimator: object, kind: str, x: pd.DataFrame) -> np.ndarray:
    if kind in PROBABILITIES:
        return estimator.predict_proba(x)[:, 1]
    return estimator.predict(x)


def loss(kind: str, actual: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> float:
    if kind in PROBABILITIES:
        return float(log_loss(actual, np.clip(predicted, 1e-6, 1 - 1e-6), sample_weight=weights, labels=[0, 1]))
    return float(mean_poisson_deviance(actual, np.maximum(predicted, 1e-9), sample_weight=weights))


class Calibrated:
    """A fitted classifier followed by a map of its probability learnt on rows it never saw:
    isotonic regression from ``ISOTONIC_FROM`` validation rows, else Platt scaling (a logistic
    regression on the logit). Exposes ``predict_proba`` like the classifier it wraps."""

    def __init__(self, estimator: object, method: str) -> None:
        self.estimator = estimator
        self.method = method

    def fit(self, x: pd.DataFrame, y: np.ndarray, weights: np.ndarray | None = None) -> Calibrated:
        raw = self.estimator.predict_proba(x)[:, 1]
        if self.method == "isotonic":
            self.map_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self.map_.fit(raw, y, sample_weight=weights)
        else:
            self.map_ = LogisticRegression(C=1e4).fit(_logit(raw)[:, None], y, sample_weight=weights)
        return self

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        raw = self.estimator.predict_proba(x)[:, 1]
        p = self._map(raw)
        return np.column_stack([1.0 - p, p])

    def _map(self, raw: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            return self.map_.predict(raw)
        return self.map_.predict_proba(_logit(raw)[:, None])[:, 1]


def cross_calibrated(estimator: object, x: pd.DataFrame, y: np.ndarray, weights: np.ndarray) -> object:
    """``estimator`` fitted on every row as scikit-learn's ``CalibratedClassifierCV`` with
    ``CALIBRATION_FOLDS`` folds: each fold's model is calibrated on the fold it did not see, the
    folds' calibrated probabilities are averaged (for segments below ``REFIT_BELOW`` rows)."""
    uniform = len(weights) == 0 or np.all(weights == weights[0])
    method = "isotonic" if calibration_method(len(y) // CALIBRATION_FOLDS) == "isotonic" else "sigmoid"
    calibrated = CalibratedClassifierCV(estimator, method=method, cv=CALIBRATION_FOLDS, ensemble=True)
    return calibrated.fit(x, y, sample_weight=None if uniform else weights)


def calibration_method(rows: int) -> str:
    return "isotonic" if rows >= ISOTONIC_FROM else "platt"


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
