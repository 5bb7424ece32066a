"""Quality gates a trained model must pass before it may score (pure; the asset checks show them).

* ``beats_baseline``: on the holdout, a probability's AUC — over everyone and over customers —
  is no more than ``AUC_TOLERANCE`` below the BTYD baseline's; LTV's mean absolute error is no
  more than ``MAE_TOLERANCE`` (relative) above the baseline's.
* ``conversion`` (next purchase only): over the holdout's prospects, whose next purchase is
  their conversion, the AUC is not below the base rate's and the ECE is within the limit below;
* ``calibrated``: a probability's expected calibration error over everyone and over customers
  is at most ``ECE_LIMIT`` plus the sampling noise of a decile's observed rate,
  ``sqrt(p (1 - p) / (n / 10))`` — a perfectly calibrated model measured on 400 people misses
  by that much by chance alone. LTV: the total predicted is within ``TOTAL_TOLERANCE`` of the
  total that happened, or within two standard errors of that total when the holdout is small,
  or no further from it than the BTYD baseline's total (with the same 2% slack as the MAE).

Blocking: a failed gate stops the model from serving (it is saved, not promoted, and its
baseline is promoted in its place — see :func:`baseline_only`) when a fitted model serves a
segment. A
model served only by its baseline (too little data) passes ``beats_baseline`` trivially, and a
calibration miss is reported as a warning: there is nothing better to serve. A model without
holdout labels passes both, marked ``unmeasured``; its confidence is minimal (``train.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from audience_dagster.predictions.targets import PROBABILITIES
from audience_dagster.predictions.train import SegmentModel, TrainedModel, segment_skill, versioned

AUC_TOLERANCE = 0.01
MAE_TOLERANCE = 0.02
ECE_LIMIT = 0.05
TOTAL_TOLERANCE = 0.25


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    detail: str
    blocking: bool = True


def _noise(base_rate: float, profiles: float) -> float:
    if not profiles or not math.isfinite(base_rate):
        return 0.0
    return math.sqrt(max(base_rate * (1 - base_rate), 0.0) / max(profiles / 10, 1.0))


def evaluate_gates(model: TrainedModel) -> list[Gate]:
    metrics, base = model.metrics.get("model"), model.metrics.get("baseline")
    if not metrics or not base:
        detail = "no holdout labels: unmeasured"
        return [Gate("beats_baseline", True, detail), Gate("calibrated", True, detail)]
    fitted = any(segment.estimator is not None for segment in model.segments.values())
    gates = []
    if model.prediction_type in PROBABILITIES:
        worse = [
            f"{who}auc {metrics[f'{who}auc']:.4f} < baseline {base[f'{who}auc']:.4f} - {AUC_TOLERANCE}"
            for who in ("", "customers_")
            if math.isfinite(metrics[f"{who}auc"])
            and math.isfinite(base[f"{who}auc"])
            and metrics[f"{who}auc"] < base[f"{who}auc"] - AUC_TOLERANCE
        ]
        shown = ", ".join(
            f"{who}auc {metrics[f'{who}auc']:.4f} vs {base[f'{who}auc']:.4f}" for who in ("", "customers_")
        )
        gates.append(Gate("beats_baseline", not worse, "; ".join(worse) or shown, blocking=fitted))
        off = []
        for who in ("", "customers_"):
            ece, limit = metrics[f"{who}ece"], ECE_LIMIT + _noise(metrics[f"{who}base_rate"], metrics[f"{who}profiles"])
            if math.isfinite(ece) and ece > limit:
                off.append(f"{who}ece {ece:.4f} > {limit:.4f}")
        shown = ", ".join(f"{who}ece {metrics[f'{who}ece']:.4f}" for who in ("", "customers_"))
        gates.append(Gate("calibrated", not off, "; ".join(off) or shown, blocking=fitted))
        if model.prediction_type == "next_purchase":
            gates.append(_conversion_gate(model, metrics, base))
    else:
        mae, limit = metrics["mae"], base["mae"] * (1 + MAE_TOLERANCE)
        gates.append(Gate("beats_baseline", mae <= limit, f"mae {mae:.2f} vs baseline {base['mae']:.2f}", fitted))
        total, actual = metrics["total_predicted"], metrics["total_actual"]
        baseline_miss = abs(base.get("total_predicted", actual) - actual)
        allowed = max(
            TOTAL_TOLERANCE * actual, 2 * metrics.get("total_actual_se", 0.0), baseline_miss * (1 + MAE_TOLERANCE)
        )
        ok = actual <= 0 or abs(total - actual) <= allowed
        detail = (
            f"total predicted {total:,.0f} vs actual {actual:,.0f} (allowed ±{allowed:,.0f}; "
            f"BTYD baseline {base.get('total_predicted', float('nan')):,.0f})"
        )
        gates.append(Gate("calibrated", ok, detail, blocking=fitted))
    return gates


def _conversion_gate(model: TrainedModel, metrics: dict[str, float], base: dict[str, float]) -> Gate:
    """A prospect's next purchase is its conversion, a model of its own: its AUC over the
    prospects of the holdout is not below the base rate's, and it is calibrated there."""
    segment = model.segments.get("prospects")
    fitted = segment is not None and segment.estimator is not None
    auc, base_auc = metrics.get("prospects_auc", math.nan), base.get("prospects_auc", math.nan)
    ece = metrics.get("prospects_ece", math.nan)
    limit = ECE_LIMIT + _noise(metrics.get("prospects_base_rate", math.nan), metrics.get("prospects_profiles", 0.0))
    problems = []
    if math.isfinite(auc) and math.isfinite(base_auc) and auc < base_auc - AUC_TOLERANCE:
        problems.append(f"prospects auc {auc:.4f} < baseline {base_auc:.4f} - {AUC_TOLERANCE}")
    if math.isfinite(ece) and ece > limit:
        problems.append(f"prospects ece {ece:.4f} > {limit:.4f}")
    detail = "; ".join(problems) or f"conversion auc {auc:.4f} vs {base_auc:.4f}, ece {ece:.4f}"
    return Gate("conversion", not problems, detail, blocking=fitted)


def baseline_only(model: TrainedModel) -> TrainedModel:
    """What serves when ``model`` fails a gate: the same training run with every segment served
    by its baseline (BTYD for customers, base rates for prospects), version marked ``gated``."""
    metrics = model.metrics.get("baseline", {})
    segments = {}
    for name, segment in model.segments.items():
        method = "none" if segment.method == "none" else "btyd" if name == "customers" else "base-rate"
        skill = segment_skill(model.prediction_type, metrics, name) if method == "btyd" else 0.0
        segments[name] = SegmentModel(
            method=method,
            training_rows=segment.training_rows,
            skill=skill,
            reliability=segment.reliability,
            reason=segment.reason or f"{model.version} failed a quality gate",
            interval=segment.baseline_interval,
        )
    fallback = replace(model, segments=segments, metrics={"baseline": metrics, "model": metrics}, calibration=[])
    fallback.notes = [*model.notes, f"{model.version} failed a quality gate: its baseline serves instead"]
    fallback.version = versioned(fallback) + "-gated"
    return fallback
