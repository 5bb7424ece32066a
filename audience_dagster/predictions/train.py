"""Train one prediction type: a fitted scikit-learn model where the data supports one, else the
BTYD baseline, else base rates — each saying so in its ``method`` and ``confidence``.

Two segments are modelled apart, because they answer different questions: **customers**
(a purchase before the cutoff: will they come back?) and **prospects** (none yet: will they
convert?); churn is a customers' question only (prospects: method ``none``, no row). For each,
the candidates of ``candidates.py`` (gradient boosting with monotonic constraints, a
regularised linear model containing the BTYD outputs among its inputs) are fitted on 75% of
its training rows, classifiers calibrated on the other 25%, and the one with the lower loss
on held-back validation rows (log loss; Poisson deviance for LTV) wins; below ``REFIT_BELOW``
rows it is refitted on all of them (classifiers with cross-fitted calibration). The baseline
itself competes: when it has the lowest validation loss, it serves the segment. A fitted
model's outputs stay within the range it produced on its training rows.

Training is temporal and honest: the frame holds features as of a cutoff (see
``features.py``) and the targets hold what happened in the horizon after it. A fixed 20% of
profiles (by :func:`split_keys`, a hash of each history: the same for a given warehouse) is
held out; the model learns on the rest, and the holdout compares it with the BTYD baseline on
the same people.

Small data: in a segment with fewer than ``MIN_CLASS`` positive or negative training profiles
(buyers for LTV) any fitted model would memorise noise, so the baseline serves that segment:
BG/NBD + Gamma-Gamma for customers when they can be fitted, base rates otherwise — and the
segment's ``reason`` says why (stored with each of its predictions).

Each segment keeps its holdout *skill* (``2 * AUC - 1``, normalised Gini for LTV; 0 for base
rates), *reliability* (``n / (n + 50)``, n the smaller holdout class) and, for LTV, a
split-conformal 80% interval (:func:`ltv_interval`); ``score.confidence`` turns them into a
per-profile confidence.

Drivers (``features_used``): for the segment model's three most important features (mean absolute
change of the holdout predictions when the feature is set to its training median), the change
of *this* profile's prediction when that feature is set to the median, signed (zero effects
left out). For the BTYD baseline the drivers are its inputs (purchase days, recency, age).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from audience_dagster.predictions.baseline import BGNBD_INPUTS, Baseline
from audience_dagster.predictions.candidates import (
    Calibrated,
    calibration_method,
    candidates,
    cross_calibrated,
    fit_estimator,
    loss,
    raw_predict,
)
from audience_dagster.predictions.features import FEATURES
from audience_dagster.predictions.metrics import (
    calibration_by_decile,
    classification_metrics,
    lift_by_decile,
    ltv_interval,
    regression_metrics,
)
from audience_dagster.predictions.targets import PROBABILITIES

BASE_FEATURES = tuple(FEATURES)
HOLDOUT_SHARE = 5  # one profile in five
MIN_CLASS = 30
MAX_TRAIN_ROWS = 150_000  # per segment, sampled with weights above it
REFIT_BELOW = 50_000  # rows: below, the chosen candidate is refitted on all of them
DRIVER_CANDIDATES = 3
DRIVERS = 3
RELIABILITY_PRIOR = 50.0
UNMEASURED_RELIABILITY = 0.1
ANCHOR_FLOOR = 1.0  # the smallest BTYD LTV (currency units) an anchored LTV model multiplies
SEGMENTS = ("customers", "prospects")


@dataclass
class SegmentModel:
    """How one segment (customers / prospects) is predicted."""

    method: str  # gbm | linear | btyd | base-rate | none (the type does not apply)
    estimator: object | None = None
    reason: str = ""  # why a baseline serves (too little data, ...), stored with each prediction
    interval: tuple[float, float] | None = None  # LTV: (q, c) of :func:`ltv_interval`
    baseline_interval: tuple[float, float] | None = None  # the same for the baseline's predictions
    features: list[str] = field(default_factory=list)
    medians: dict[str, float] = field(default_factory=dict)
    driver_candidates: list[str] = field(default_factory=list)
    skill: float = 0.0
    reliability: float = UNMEASURED_RELIABILITY
    training_rows: int = 0
    selection: dict[str, float] = field(default_factory=dict)  # candidate -> validation loss
    anchored: bool = False  # LTV of customers: the estimator predicts a multiple of BTYD's LTV
    output_range: tuple[float, float] = (-np.inf, np.inf)  # of its predictions on the training rows

    def predict(self, kind: str, x: pd.DataFrame) -> np.ndarray:
        """The estimator's output, kept inside what it produced on its training rows: a linear
        model must not extrapolate to feature combinations training never showed."""
        return np.clip(raw_predict(self.estimator, kind, x[self.features]), *self.output_range)


@dataclass
class TrainedModel:
    """A trained prediction type: what scores, how it did on the holdout, and its provenance."""

    prediction_type: str
    version: str
    horizon_days: int
    label_days: int  # the horizon the labels covered (LTV may be shorter, then extended by BTYD)
    cutoff: str
    trained_at: str
    baseline: Baseline
    segments: dict[str, SegmentModel] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # model / baseline, per population
    calibration: list[dict[str, float]] = field(default_factory=list)
    lift: list[dict[str, float]] = field(default_factory=list)  # by decile of the prediction
    notes: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        """e.g. ``customers:linear+prospects:gbm``."""
        return "+".join(f"{name}:{seg.method}" for name, seg in self.segments.items())

    @property
    def features(self) -> list[str]:
        """The fitted segments' features, plus BG/NBD's inputs when BTYD serves a segment."""
        used = {f for seg in self.segments.values() for f in seg.features}
        if any(seg.method == "btyd" for seg in self.segments.values()):
            used |= {*BGNBD_INPUTS, "btyd_monetary"}
        return sorted(used)

    @property
    def training_rows(self) -> int:
        return sum(seg.training_rows for seg in self.segments.values())


def segment_masks(x: pd.DataFrame) -> dict[str, np.ndarray]:
    customer = (x["orders"] > 0).to_numpy()
    return {"customers": customer, "prospects": ~customer}


def split_keys(x: pd.DataFrame) -> np.ndarray:
    """A hash of each profile's history as of the cutoff (its base features): the same for a
    given warehouse however often its identity graph is rebuilt, unlike the profile uuids,
    which are new on every fresh database. The holdout and the row order come from it."""
    columns = [c for c in BASE_FEATURES if c in x.columns]
    return pd.util.hash_pandas_object(x[columns], index=False).to_numpy()


def holdout_mask(x: pd.DataFrame) -> np.ndarray:
    """True for the fixed fifth of profiles held out (by :func:`split_keys`: stable across runs)."""
    return (split_keys(x) % HOLDOUT_SHARE) == 0


def _capped(members: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_TRAIN_ROWS rows of a segment, re-weighted so probabilities stay calibrated."""
    if len(members) <= MAX_TRAIN_ROWS:
        return members, np.ones(len(members))
    chosen = np.sort(rng.choice(members, MAX_TRAIN_ROWS, replace=False))
    return chosen, np.full(MAX_TRAIN_ROWS, len(members) / MAX_TRAIN_ROWS)


def _metrics(kind: str, predicted: np.ndarray, actual: np.ndarray, customer: np.ndarray) -> dict[str, float]:
    measure = classification_metrics if kind in PROBABILITIES else regression_metrics
    out = dict(measure(predicted, actual))
    out.update({f"customers_{k}": v for k, v in measure(predicted[customer], actual[customer]).items()})
    out.update({f"prospects_{k}": v for k, v in measure(predicted[~customer], actual[~customer]).items()})
    return out


def segment_skill(kind: str, metrics: dict[str, float], segment: str) -> float:
    """How well a segment's predictions rank its holdout, from the holdout metrics of
    :func:`_metrics`: ``2 * AUC - 1`` (normalised Gini for LTV), clipped to [0, 1]; 0 unmeasured."""
    if kind in PROBABILITIES:
        value = 2 * metrics.get(f"{segment}_auc", float("nan")) - 1
    else:
        value = metrics.get(f"{segment}_gini", float("nan"))
    return float(np.clip(value, 0.0, 1.0)) if np.isfinite(value) else 0.0


def _reliability(kind: str, actual: np.ndarray) -> float:
    if len(actual) == 0:
        return UNMEASURED_RELIABILITY
    n = float((actual > 0).sum() if kind == "ltv" else min(actual.sum(), len(actual) - actual.sum()))
    return n / (n + RELIABILITY_PRIOR)


def _fit_segment(
    kind: str,
    x: pd.DataFrame,
    actual: np.ndarray,
    train: np.ndarray,
    baseline: np.ndarray,
    baseline_method: str,
    anchor: np.ndarray | None = None,
) -> SegmentModel:
    """Choose between the candidates on an inner split of ``train`` rows.

    The baseline (BTYD, or the base rate) competes too: when neither fitted candidate has a
    lower validation loss than it, the segment is served by the baseline. A classifier is
    fitted on the inner 75% and calibrated on the other 25% (:class:`Calibrated`); its
    selection loss is measured on the half of those 25% the calibration map did not see, with
    a map fitted on the other half. Below ``REFIT_BELOW`` rows the winner is refitted on every
    row — a classifier as :func:`~audience_dagster.predictions.candidates.cross_calibrated`
    (five folds, each calibrated on the fold it did not see) — so small data loses none.

    With an ``anchor`` (BTYD's LTV over the labelled window, for customers) the candidates learn
    the ratio actual / anchor with weights ``anchor`` — a Poisson model with offset
    log(anchor) — so the prediction is BTYD's LTV times a learnt correction, and keeps BTYD's
    extrapolation to the horizon and to longer histories."""
    rng = np.random.default_rng(0)
    rows, weights = _capped(np.flatnonzero(train), rng)
    varying = x.iloc[rows].nunique() >= 2  # a constant column teaches nothing (and breaks binning)
    features = list(x.columns[varying])
    data = x.iloc[rows][features]
    target = actual[rows]
    if anchor is not None:
        scale = np.maximum(anchor[rows], ANCHOR_FLOOR)
        target, weights = target / scale, weights * scale
    inner = rng.random(len(rows)) < 0.75
    half = np.flatnonzero(~inner)
    first, second = half[::2], half[1::2]
    reference = np.ones(len(rows)) if anchor is not None else baseline[rows]
    losses, fitted = {}, {}
    if np.isfinite(reference[second]).all():
        losses[baseline_method] = loss(kind, target[second], reference[second], weights[second])
    for name, estimator in candidates(kind, len(rows), features).items():
        if kind in PROBABILITIES and (len(np.unique(target[inner])) < 2 or len(np.unique(target[first])) < 2):
            continue
        fit_estimator(estimator, data[inner], target[inner], weights[inner])
        if kind in PROBABILITIES:
            method = calibration_method(len(first))
            probe = Calibrated(estimator, method).fit(data.iloc[first], target[first], weights[first])
            predicted = raw_predict(probe, kind, data.iloc[second])
            estimator = Calibrated(estimator, calibration_method(len(half)))
            estimator.fit(data[~inner], target[~inner], weights[~inner])
        else:
            predicted = raw_predict(estimator, kind, data.iloc[second])
        fitted[name] = estimator
        losses[name] = loss(kind, target[second], predicted, weights[second])
    best = min(losses, key=losses.get)
    if best not in fitted:
        return SegmentModel(method=best, training_rows=len(rows), selection=losses)
    estimator = fitted[best]
    if len(rows) < REFIT_BELOW:  # with plenty of rows, the 25% left out changes little
        estimator = candidates(kind, len(rows), features)[best]
        if kind in PROBABILITIES:  # every row trains, every row calibrates (cross-fitted)
            estimator = cross_calibrated(estimator, data, target, weights)
        else:
            fit_estimator(estimator, data, target, weights)
    medians = {c: float(v) for c, v in data.median().fillna(0).items()}
    seen = raw_predict(estimator, kind, data)
    return SegmentModel(
        method=best,
        estimator=estimator,
        features=features,
        medians=medians,
        training_rows=len(rows),
        selection=losses,
        anchored=anchor is not None,
        output_range=(float(seen.min()), float(seen.max())),
    )


def ltv_anchor(x: pd.DataFrame, days: int) -> np.ndarray | None:
    """BTYD's LTV over ``days`` per row, or None when BTYD could not be fitted."""
    column = x.get(f"btyd_ltv_{days}d")
    if column is None or not np.isfinite(column.to_numpy(float)[(x["orders"] > 0).to_numpy()]).any():
        return None
    return column.to_numpy(float)


def _fallback(
    kind: str, name: str, train: np.ndarray, actual: np.ndarray, method: str, forced: dict[str, str]
) -> SegmentModel | None:
    """The baseline segment when the training rows cannot support a fitted model (or ``forced``
    names the segment, with why), else None."""
    if kind == "churn" and name == "prospects":
        return SegmentModel(method="none", reason="churn is asked of customers: a prospect has no purchase to stop")
    if name in forced:
        return SegmentModel(method=method, training_rows=int(train.sum()), reason=forced[name])
    positives = int((actual[train] > 0).sum())
    negatives = int((actual[train] <= 0).sum()) if kind in PROBABILITIES else MIN_CLASS
    if positives >= MIN_CLASS and negatives >= MIN_CLASS:
        return None
    reason = (
        f"{positives} positive and {negatives} negative training profiles (< {MIN_CLASS}): "
        f"too few to learn from, served by the {method} baseline"
    )
    return SegmentModel(method=method, training_rows=int(train.sum()), reason=reason)


def train_prediction(
    kind: str,
    x: pd.DataFrame,
    y: pd.Series,
    baseline: Baseline,
    btyd: pd.DataFrame,
    cutoff: datetime,
    label_days: int,
    baseline_for: dict[str, str] | None = None,
) -> TrainedModel:
    """Train ``kind`` on features ``x`` (as of ``cutoff``) and targets ``y`` (the ``label_days``
    after it), compare with the baseline on the holdout, and return what will score.
    ``baseline_for`` maps segments the baseline must serve to why."""
    trained_at = datetime.now(UTC)
    actual = y.to_numpy(float)
    holdout = holdout_mask(x)
    customer = (x["orders"] > 0).to_numpy()
    base_pred, base_uses = baseline.predict(kind, x, btyd)
    if kind == "churn":
        base_pred = np.where(customer, base_pred, np.nan)
    model = TrainedModel(
        prediction_type=kind,
        version="",
        horizon_days=baseline.horizons_days[kind],
        label_days=label_days,
        cutoff=cutoff.isoformat(),
        trained_at=trained_at.isoformat(timespec="seconds"),
        baseline=baseline,
    )
    predicted = base_pred.copy()
    for name, mask in segment_masks(x).items():
        train, test = mask & ~holdout, mask & holdout
        method = "btyd" if base_uses[mask].any() else "base-rate"
        segment = _fallback(kind, name, train, actual, method, baseline_for or {})
        if segment is not None:
            if segment.reason:
                model.notes.append(f"{name}: {segment.reason}")
        else:
            anchor = ltv_anchor(x, label_days) if kind == "ltv" and name == "customers" else None
            segment = _fit_segment(kind, x, actual, train, base_pred, method, anchor)
            if segment.estimator is not None and test.any():
                predicted[test] = segment.predict(kind, x.loc[test])
                if anchor is not None:
                    predicted[test] *= np.maximum(anchor[test], ANCHOR_FLOOR)
                segment.driver_candidates = _important_features(segment, kind, x.loc[test])
        segment.reliability = _reliability(kind, actual[test])
        if kind == "ltv":
            segment.interval = ltv_interval(predicted[test], actual[test])
            segment.baseline_interval = ltv_interval(base_pred[test], actual[test])
        model.segments[name] = segment
    _measure(model, base_pred, predicted, actual, customer, holdout)
    model.version = versioned(model)
    return model


def _measure(
    model: TrainedModel,
    base_pred: np.ndarray,
    predicted: np.ndarray,
    actual: np.ndarray,
    customer: np.ndarray,
    holdout: np.ndarray,
) -> None:
    """Holdout metrics of the model and its baseline over the profiles the type applies to
    (churn: customers), calibration by decile, and each segment's skill."""
    kind = model.prediction_type
    rows = holdout & np.isfinite(predicted) & np.isfinite(base_pred)
    if rows.any():
        model.metrics["baseline"] = _metrics(kind, base_pred[rows], actual[rows], customer[rows])
        model.metrics["model"] = _metrics(kind, predicted[rows], actual[rows], customer[rows])
        if kind in PROBABILITIES:
            model.calibration = calibration_by_decile(predicted[rows], actual[rows]).to_dict("records")
            model.lift = lift_by_decile(predicted[rows], actual[rows]).to_dict("records")
    for name, segment in model.segments.items():  # base rates rank nobody
        if segment.method not in ("base-rate", "none"):
            segment.skill = segment_skill(kind, model.metrics.get("model", {}), name)


def versioned(model: TrainedModel) -> str:
    """``<type>-c.<customers' method>-p.<prospects' method>-<trained at>``."""
    stamp = datetime.fromisoformat(model.trained_at).strftime("%Y%m%dT%H%M%S")
    segments = model.segments
    return f"{model.prediction_type}-c.{segments['customers'].method}-p.{segments['prospects'].method}-{stamp}"


def _important_features(segment: SegmentModel, kind: str, x: pd.DataFrame) -> list[str]:
    sample = x[segment.features].sample(min(len(x), 5_000), random_state=0)
    base = segment.predict(kind, sample)
    scale = np.abs(base).mean() or 1.0
    importance = {}
    for column in sample.columns:
        changed = sample.copy()
        changed[column] = segment.medians.get(column, 0.0)
        importance[column] = float(np.abs(segment.predict(kind, changed) - base).mean() / scale)
    ranked = sorted(importance, key=importance.get, reverse=True)
    return [c for c in ranked[:DRIVER_CANDIDATES] if importance[c] > 0]
