"""Holdout metrics, the spend tiers, the targets and the quality gates: hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audience_dagster.predictions.baseline import Baseline, spend_tier
from audience_dagster.predictions.gates import evaluate_gates
from audience_dagster.predictions.metrics import (
    calibration_by_decile,
    classification_metrics,
    expected_calibration_error,
    normalized_gini,
    regression_metrics,
)
from audience_dagster.predictions.targets import make_targets, tier_edges
from audience_dagster.predictions.train import SegmentModel, TrainedModel


def test_calibration_by_decile_and_ece_by_hand() -> None:
    predicted = np.array([0.1] * 10 + [0.9] * 10)
    actual = np.array([0] * 9 + [1] + [1] * 8 + [0] * 2)
    table = calibration_by_decile(predicted, actual)
    assert list(table["profiles"]) == [2] * 10
    # the first five deciles hold the 0.1 predictions: observed 0,0,0,0,0.5; the rest 1,1,1,1,0
    assert table["observed"].tolist() == [0, 0, 0, 0, 0.5, 1, 1, 1, 1, 0]
    # |0.1-0|*4 + |0.1-0.5| + |0.9-1|*4 + |0.9-0| = 0.4+0.4+0.4+0.9 = 2.1 over 10 equal bins
    assert expected_calibration_error(predicted, actual) == pytest.approx(0.21)


def test_classification_metrics_auc_and_brier() -> None:
    got = classification_metrics(np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 1, 0, 1]))
    assert got["auc"] == pytest.approx(0.75)  # 3 of 4 (positive, negative) pairs in order
    assert got["brier"] == pytest.approx((0.04 + 0.36 + 0.36 + 0.04) / 4)
    assert math.isnan(classification_metrics(np.array([0.3, 0.4]), np.array([1, 1]))["auc"])


def test_normalized_gini_is_one_for_a_perfect_order_and_negative_when_reversed() -> None:
    actual = np.array([0.0, 0.0, 10.0, 40.0])
    assert normalized_gini(actual, actual) == pytest.approx(1.0)
    assert normalized_gini(-actual, actual) < 0
    assert math.isnan(normalized_gini(np.array([1.0, 2.0]), np.array([5.0, 5.0])))  # equal buyers: nothing to rank
    figures = regression_metrics(np.array([1.0, 1.0, 9.0, 30.0]), actual)
    assert figures["mae"] == pytest.approx((1 + 1 + 1 + 10) / 4)
    assert figures["total_predicted"] == 41.0 and figures["total_actual"] == 50.0


def test_spend_tiers_and_the_upgrade_label() -> None:
    features = pd.DataFrame({"revenue_365d": [0.0, 10.0, 50.0, 200.0, 0.0]}, index=list("abcde"))
    edges = tier_edges(features["revenue_365d"])
    assert spend_tier(np.array([0.0, 10.0, 50.0, 200.0]), np.array([20.0, 60.0])).tolist() == [0, 1, 2, 3]
    labels = pd.DataFrame(
        {
            "orders_churn": [1, 0, 2],
            "orders_next": [1, 0, 0],
            "revenue_ltv": [30.0, 0.0, 500.0],
            "trailing_revenue_after": [5.0, 10.0, 900.0],
        },
        index=["a", "b", "d"],
    )
    targets = make_targets(features, labels, edges)
    assert targets["churn"].tolist() == [0, 1, 1, 0, 1]  # c and e bought nothing after the cutoff
    assert targets["next_purchase"].tolist() == [1, 0, 0, 0, 0]
    assert targets["ltv"].tolist() == [30.0, 0.0, 0.0, 500.0, 0.0]
    # a: first purchase (tier 0 -> 1) is an upgrade; b stays; d is already in the top tier
    assert targets["upgrade"].tolist() == [1, 0, 0, 0, 0]


def _model(kind: str, model: dict, baseline: dict) -> TrainedModel:
    empty = Baseline({kind: 90}, {}, {}, {}, np.array([]))
    trained = TrainedModel(kind, "v", 90, 90, "2026-01-01", "2026-01-01T00:00:00", empty)
    fitted = SegmentModel("gbm", estimator=object())
    trained.segments = {"customers": fitted, "prospects": SegmentModel("base-rate")}
    trained.metrics = {"model": model, "baseline": baseline}
    return trained


def test_gates_fail_a_model_worse_than_btyd_or_badly_calibrated() -> None:
    good = {"auc": 0.9, "customers_auc": 0.8, "ece": 0.01, "customers_ece": 0.02}
    good.update(base_rate=0.3, profiles=10_000.0, customers_base_rate=0.5, customers_profiles=2_000.0)
    base = {"auc": 0.88, "customers_auc": 0.8}
    assert all(g.passed for g in evaluate_gates(_model("churn", good, base)))
    worse = {**good, "customers_auc": 0.75}
    gates = {g.name: g for g in evaluate_gates(_model("churn", worse, base))}
    assert not gates["beats_baseline"].passed and "customers_auc" in gates["beats_baseline"].detail
    off = {**good, "ece": 0.2}
    gates = {g.name: g for g in evaluate_gates(_model("churn", off, base))}
    assert not gates["calibrated"].passed and gates["beats_baseline"].passed
    # LTV: the error against BTYD, and the total against what happened
    ltv = {"mae": 10.0, "total_predicted": 100.0, "total_actual": 200.0}
    gates = {g.name: g for g in evaluate_gates(_model("ltv", ltv, {"mae": 12.0, "total_predicted": 180.0}))}
    assert gates["beats_baseline"].passed and not gates["calibrated"].passed
    # no further off than BTYD: calibrated enough
    gates = {g.name: g for g in evaluate_gates(_model("ltv", ltv, {"mae": 12.0, "total_predicted": 320.0}))}
    assert gates["calibrated"].passed
    assert all(g.blocking for g in gates.values())
    # a model that is only its baseline: a calibration miss warns (nothing better to serve)
    baseline_only = _model("ltv", ltv, {"mae": 12.0})
    baseline_only.segments = {"customers": SegmentModel("btyd"), "prospects": SegmentModel("base-rate")}
    gates = {g.name: g for g in evaluate_gates(baseline_only)}
    assert not gates["calibrated"].passed and not gates["calibrated"].blocking
    # with a small holdout, two standard errors of the actual total are allowed
    noisy = {**ltv, "total_actual_se": 60.0}
    assert {g.name: g for g in evaluate_gates(_model("ltv", noisy, {"mae": 12.0}))}["calibrated"].passed
    unmeasured = _model("ltv", {}, {})
    unmeasured.metrics = {}
    assert all(g.passed and "unmeasured" in g.detail for g in evaluate_gates(unmeasured))
