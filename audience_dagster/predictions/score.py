"""Score every profile with a trained model: value, confidence, the label of what produced the
value, and the top drivers per profile (vectorised; the methods are documented in
``train.py`` and ``docs/predictions.md``).

Honest serving: each segment is predicted by the method its model card names and nothing else.
A segment served by base rates gets the base rate even when a BG/NBD refit at scoring time
would have produced numbers; a segment served by BTYD whose refit fails at scoring time gets
the base rate, and its rows say so. The per-row ``model_version`` is
``<model version>:<segment>.<method>`` — e.g. ``churn-c.gbm-p.none-…:customers.gbm``,
``…:conversion.gbm`` for a prospect's next purchase, ``…:customers.btyd-penalised`` when a
penalised BG/NBD refit served, ``…:customers.base-rate`` — so a stored value always names
what produced it; a fallback's ``features_used`` carries ``{"fallback": why}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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

HISTORY_PRIOR = {"customers": 2.0, "prospects": 5.0}  # purchases / recent events worth half the history weight


@dataclass
class Served:
    """What scoring produced for every row: values, ``features_used`` (JSON text), per-row labels."""

    values: np.ndarray
    used: pd.Series
    labels: pd.Series
    applies: np.ndarray  # False where the segment's method is ``none`` (no row is stored)


def segment_label(kind: str, name: str) -> str:
    """A prospect's next purchase is its conversion."""
    return "conversion" if kind == "next_purchase" and name == "prospects" else name


def _btyd_method(btyd: pd.DataFrame, kind: str) -> str:
    penalised = btyd.attrs.get("bgnbd_penalizer") or 0.0
    method = "btyd-penalised" if penalised > 0 else "btyd"
    if kind == "ltv" and not btyd.attrs.get("gamma_gamma", True):
        method += "-own-order-value"
    return method


def serve(model: TrainedModel, x: pd.DataFrame, btyd: pd.DataFrame, with_drivers: bool = True) -> Served:
    """Predictions, ``features_used`` and labels per row, each segment predicted once by its own
    method: feature -> signed effect for fitted segment models (this profile's prediction minus
    its prediction with the feature at the training median), the BTYD inputs' values for
    customers the BTYD baseline scored, ``{"fallback": why}`` for base rates."""
    kind = model.prediction_type
    btyd_values, uses_btyd = model.baseline.predict(kind, x, btyd)
    rates = model.baseline.rates(kind, x)
    values = np.full(len(x), np.nan)
    used = pd.Series("{}", index=x.index, dtype=object)
    labels = pd.Series("", index=x.index, dtype=object)
    applies = np.ones(len(x), bool)
    for name, mask in segment_masks(x).items():
        segment = model.segments[name]
        if not mask.any():
            continue
        label = f"{model.version}:{segment_label(kind, name)}."
        if segment.estimator is not None:
            _fitted(model, segment, x, btyd, mask, values, used, with_drivers)
            labels[mask] = label + segment.method
        elif segment.method == "none":
            labels[mask] = label + "none"
            applies[mask] = False
        elif segment.method.startswith("btyd"):
            ok = mask & uses_btyd
            values[ok] = btyd_values[ok]
            labels[ok] = label + _btyd_method(btyd, kind)
            if with_drivers and kind != "upgrade":
                used[ok] = _json_values(BGNBD_INPUTS, x.loc[ok, list(BGNBD_INPUTS)].to_numpy(float))
            lost = mask & ~uses_btyd
            values[lost] = rates[lost]
            labels[lost] = label + "base-rate"
            used[lost] = json.dumps({"fallback": "BG/NBD could not be refitted at scoring time: base rate"})
        else:
            values[mask] = rates[mask]
            labels[mask] = label + "base-rate"
            used[mask] = json.dumps({"fallback": segment.reason or "base rate of the training cutoff"})
        if kind == "ltv" and segment.interval is not None and with_drivers:
            used[mask] = _with_interval(used[mask], values[mask], segment.interval)
    values = np.clip(values, 0.0, 1.0) if kind in PROBABILITIES else np.maximum(values, 0.0)
    return Served(values, used, labels, applies)


def _fitted(
    model: TrainedModel,
    segment: SegmentModel,
    x: pd.DataFrame,
    btyd: pd.DataFrame,
    mask: np.ndarray,
    values: np.ndarray,
    used: pd.Series,
    with_drivers: bool,
) -> None:
    kind = model.prediction_type
    scale = _scale(model, segment, x, btyd)[mask]
    features = x.loc[mask, segment.features]
    base = segment.predict(kind, features)
    values[mask] = _to_horizon(model, base * scale, btyd, x, mask)
    if with_drivers and segment.driver_candidates:
        effects = np.empty((len(features), len(segment.driver_candidates)))
        for j, feature in enumerate(segment.driver_candidates):
            kept = features[feature].copy()
            features[feature] = segment.medians.get(feature, 0.0)
            effects[:, j] = (base - segment.predict(kind, features)) * scale
            features[feature] = kept
        used[mask] = _json_top(segment.driver_candidates, effects)


def predict_values(model: TrainedModel, x: pd.DataFrame, btyd: pd.DataFrame) -> np.ndarray:
    """The prediction of ``model`` for every row of ``x`` (features as of the scoring time)."""
    return serve(model, x, btyd, with_drivers=False).values


def drivers(model: TrainedModel, x: pd.DataFrame, btyd: pd.DataFrame) -> pd.Series:
    """``features_used`` per profile (see :func:`serve`)."""
    return serve(model, x, btyd).used


def _to_horizon(
    model: TrainedModel, p: np.ndarray, btyd: pd.DataFrame, x: pd.DataFrame, mask: np.ndarray
) -> np.ndarray:
    """A probability learnt over ``label_days`` < horizon, carried to the horizon (see
    :func:`audience_dagster.predictions.horizon.stretch_probability`); amounts are scaled in
    :func:`_scale`."""
    from audience_dagster.predictions.horizon import stretch_probability

    if model.prediction_type not in PROBABILITIES or not 0 < model.label_days < model.horizon_days:
        return p
    return stretch_probability(model.prediction_type, p, model.label_days, model.horizon_days, btyd, mask)


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


def confidence(model: TrainedModel, x: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Per profile: skill x reliability of its segment x history x sharpness, in [0, 1].

    * skill and reliability (``train.py``): how well the segment's method ranked its holdout,
      and how many holdout examples that was measured on; 0 skill for base rates;
    * history: ``0.5 + 0.25 min(1, tenure / horizon) + 0.25 n / (n + k)`` with ``n`` the
      profile's orders (customers, k = 2) or events in the last 90 days (prospects, k = 5);
    * sharpness: for a calibrated probability ``0.5 + 0.5 |2p - 1|`` (a 50/50 call is the least
      actionable); for LTV ``1 / (1 + q)`` with ``q`` the relative half-width of its 80%
      conformal interval.
    Zero where the value is missing or its method is no better than chance on the holdout."""
    tenure = x["tenure_days"].to_numpy(float)
    coverage = np.clip(np.nan_to_num(tenure) / max(model.horizon_days, 1), 0.0, 1.0)
    out = np.zeros(len(x))
    for name, mask in segment_masks(x).items():
        segment = model.segments[name]
        evidence = x["orders"] if name == "customers" else x.get("events_90d", pd.Series(0.0, index=x.index))
        n = np.nan_to_num(evidence.to_numpy(float)[mask])
        history = 0.5 + 0.25 * coverage[mask] + 0.25 * n / (n + HISTORY_PRIOR[name])
        v = values[mask]
        if model.prediction_type in PROBABILITIES:
            sharpness = 0.5 + 0.5 * np.abs(2 * np.nan_to_num(v, nan=0.5) - 1)
        else:
            sharpness = 1.0 / (1.0 + segment.interval[0]) if segment.interval else 0.5
        out[mask] = segment.skill * segment.reliability * history * sharpness
    out[~np.isfinite(values)] = 0.0
    return np.round(np.clip(out, 0.0, 1.0), 4)


def _with_interval(used: pd.Series, values: np.ndarray, interval: tuple[float, float]) -> pd.Series:
    """``features_used`` with ``"ltv_interval_80": [low, high]`` added."""
    q, c = interval
    low = pd.Series(np.round(np.maximum(values - q * (values + c), 0.0), 2), index=used.index).astype(str)
    high = pd.Series(np.round(values + q * (values + c), 2), index=used.index).astype(str)
    head = used.str[:-1]
    sep = np.where(head == "{", "", ", ")
    return head + sep + '"ltv_interval_80": [' + low + ", " + high + "]}"


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
