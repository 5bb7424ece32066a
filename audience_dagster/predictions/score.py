"""Score every profile with a trained model: value, confidence and top drivers per profile
(vectorised; the methods are documented in ``train.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audience_dagster.predictions.baseline import BGNBD_INPUTS
from audience_dagster.predictions.targets import PROBABILITIES
from audience_dagster.predictions.train import (
    ANCHOR_FLOOR,
    DRIVERS,
    SegmentModel,
    TrainedModel,
    ltv_anchor,
    segment_masks,
)


def predict_values(model: TrainedModel, x: pd.DataFrame, btyd: pd.DataFrame) -> np.ndarray:
    """The prediction of ``model`` for every row of ``x`` (features as of the scoring time):
    each segment by its own method, the baseline where the segment has no fitted model."""
    return predict_with_drivers(model, x, btyd, with_drivers=False)[0]


def predict_with_drivers(
    model: TrainedModel, x: pd.DataFrame, btyd: pd.DataFrame, with_drivers: bool = True
) -> tuple[np.ndarray, pd.Series]:
    """Predictions and ``features_used`` (JSON text) per row, each segment predicted once:
    feature -> signed effect for fitted segment models (this profile's prediction minus its
    prediction with the feature at the training median), the BTYD inputs' values for customers
    the BTYD baseline scored, ``{}`` otherwise."""
    kind = model.prediction_type
    values, _ = model.baseline.predict(kind, x, btyd)
    used = pd.Series("{}", index=x.index, dtype=object)
    for name, mask in segment_masks(x).items():
        segment = model.segments[name]
        if not mask.any():
            continue
        if segment.estimator is not None:
            scale = _scale(model, segment, x, btyd)[mask]
            features = x.loc[mask, segment.features]
            base = segment.predict(kind, features)
            values[mask] = base * scale
            if with_drivers and segment.driver_candidates:
                effects = np.empty((len(features), len(segment.driver_candidates)))
                for j, feature in enumerate(segment.driver_candidates):
                    kept = features[feature].copy()
                    features[feature] = segment.medians.get(feature, 0.0)
                    effects[:, j] = (base - segment.predict(kind, features)) * scale
                    features[feature] = kept
                used[mask] = _json_top(segment.driver_candidates, effects)
        elif with_drivers and segment.method == "btyd" and kind != "upgrade" and name == "customers":
            used[mask] = _json_values(BGNBD_INPUTS, x.loc[mask, list(BGNBD_INPUTS)].to_numpy(float))
    if kind in PROBABILITIES:
        return np.clip(values, 0.0, 1.0), used
    return np.maximum(values, 0.0), used


def _scale(model: TrainedModel, segment: SegmentModel, x: pd.DataFrame, btyd: pd.DataFrame) -> np.ndarray:
    """What a segment estimator's output is multiplied by: BTYD's LTV over the horizon for an
    anchored LTV model, the stretch to the horizon for an LTV model learnt on fewer days, else 1."""
    if segment.anchored:
        anchor = ltv_anchor(x, model.horizon_days)
        if anchor is not None:
            return np.maximum(np.nan_to_num(anchor, nan=ANCHOR_FLOOR), ANCHOR_FLOOR)
    if model.prediction_type == "ltv" and 0 < model.label_days < model.horizon_days:
        return _extension(model, x, btyd)
    return np.ones(len(x))


def _extension(model: TrainedModel, x: pd.DataFrame, btyd: pd.DataFrame) -> np.ndarray:
    """LTV learnt over ``label_days`` < horizon: stretched by BG/NBD's expected purchases over
    the horizon / over the labelled days (customers), linearly for everyone else."""
    linear = model.horizon_days / model.label_days
    full = btyd.get(f"btyd_expected_purchases_{model.horizon_days}d")
    part = btyd.get(f"btyd_expected_purchases_{model.label_days}d")
    if full is None or part is None:
        return np.full(len(x), linear)
    ratio = full.to_numpy(float) / part.to_numpy(float)
    return np.where(np.isfinite(ratio) & (ratio > 0), ratio, linear)


def confidence(model: TrainedModel, x: pd.DataFrame) -> np.ndarray:
    """skill x reliability of the profile's segment x coverage (see ``train.py``)."""
    coverage = 0.5 + 0.5 * np.clip(x["tenure_days"].to_numpy(float) / model.horizon_days, 0.0, 1.0)
    out = np.zeros(len(x))
    for name, mask in segment_masks(x).items():
        segment = model.segments[name]
        out[mask] = segment.skill * segment.reliability * coverage[mask]
    return np.round(out, 4)


def drivers(model: TrainedModel, x: pd.DataFrame, btyd: pd.DataFrame) -> pd.Series:
    """``features_used`` per profile (see :func:`predict_with_drivers`)."""
    return predict_with_drivers(model, x, btyd)[1]


def _json_top(names: list[str], effects: np.ndarray) -> np.ndarray:
    """The DRIVERS largest effects per row as a JSON object (effects of 0 left out)."""
    order = np.argsort(-np.abs(effects), axis=1)[:, :DRIVERS]
    rows = np.arange(len(effects))
    text = pd.Series("", index=rows, dtype=object)
    for rank in range(order.shape[1]):
        value = np.round(effects[rows, order[:, rank]], 4)
        name = np.asarray(names, dtype=object)[order[:, rank]]
        part = ', "' + pd.Series(name, index=rows) + '": ' + pd.Series(value, index=rows).astype(str)
        text = text + part.where(np.abs(value) > 1e-6, "")
    return ("{" + text.str.removeprefix(", ") + "}").to_numpy()


def _json_values(names: tuple[str, ...], values: np.ndarray) -> np.ndarray:
    text = pd.Series("{", index=range(len(values)))
    for j, name in enumerate(names):
        text = text + ("" if j == 0 else ", ") + f'"{name}": ' + pd.Series(np.round(values[:, j], 2)).astype(str)
    return (text + "}").to_numpy()
