"""What a stored prediction says about itself, without training: Gamma-Gamma with zero
spenders, honest per-row labels, horizon stretching, conformal LTV intervals, lift and gain,
the conversion gate, and the capability's definitions built from Settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audience_dagster.predictions.baseline import Baseline, btyd_features, fit_btyd
from audience_dagster.predictions.btyd import simulate_bgnbd
from audience_dagster.predictions.features import FEATURES
from audience_dagster.predictions.gates import evaluate_gates
from audience_dagster.predictions.horizon import label_window, stretch_probability
from audience_dagster.predictions.metrics import lift_by_decile, ltv_interval
from audience_dagster.predictions.score import confidence, serve
from audience_dagster.predictions.train import SegmentModel, TrainedModel, holdout_mask

HORIZONS = {"churn": 90, "next_purchase": 30, "ltv": 365, "upgrade": 90}


def customers(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.uniform(30, 400, n)
    sim = simulate_bgnbd(0.6, 40.0, 0.8, 2.5, age, rng).to_numpy()
    frequency, recency = sim[:, 0], sim[:, 1]
    x = pd.DataFrame(0.0, index=[f"c{i:05d}" for i in range(n)], columns=list(FEATURES))
    x["orders"] = frequency + 1
    x["btyd_frequency"] = frequency
    x["btyd_recency_days"] = recency
    x["btyd_age_days"] = age
    spend = rng.gamma(3.0, 20.0, n)
    x["btyd_monetary"] = np.where(frequency > 0, spend, 0.0)
    x["avg_order_value"] = spend
    x["tenure_days"] = age
    return x


def test_one_zero_spend_repeat_customer_does_not_switch_gamma_gamma_off() -> None:
    x = customers(2_000)
    repeaters = x.index[x["btyd_frequency"] > 0]
    x.loc[repeaters[:3], "btyd_monetary"] = 0.0  # free orders
    x.loc[repeaters[3], "btyd_monetary"] = -5.0  # refunds beyond the spend
    fit = fit_btyd(x)
    assert fit.gamma_gamma is not None and fit.zero_spend_repeaters == 4
    assert any("4 repeat customers with zero spend" in p for p in fit.problems)
    btyd, _ = btyd_features(x, HORIZONS)
    value = btyd["btyd_order_value"]
    assert np.isfinite(value).all() and (value > 0).all()
    # a zero spender's expected order value shrinks towards the population's, below the average
    assert value[repeaters[0]] < value.mean()
    # and the spend model is not everybody's own average
    assert not np.allclose(value, x["avg_order_value"])


def _two_segment_model(kind: str, customers_method: str, prospects_method: str) -> TrainedModel:
    base = Baseline(
        {**HORIZONS},
        noncustomer_rate=dict.fromkeys(HORIZONS, 0.2),
        customer_rate=dict.fromkeys(HORIZONS, 0.4),
        tier_upgrade_rate={},
        tier_edges=np.array([]),
    )
    segments = {
        "customers": SegmentModel(method=customers_method, reason="too few"),
        "prospects": SegmentModel(method=prospects_method, reason="too few"),
    }
    return TrainedModel(kind, f"{kind}-v1", HORIZONS[kind], HORIZONS[kind], "c", "2026-01-01T00:00:00", base, segments)


def test_a_base_rate_segment_serves_base_rates_even_when_btyd_could_be_refitted() -> None:
    x = pd.concat([customers(300), customers(100, seed=2).assign(orders=0.0).rename(index=lambda i: "p" + i)])
    btyd, fit = btyd_features(x, HORIZONS)
    assert fit.usable  # BG/NBD refits fine at scoring time ...
    model = _two_segment_model("next_purchase", "base-rate", "base-rate")
    served = serve(model, x, btyd)
    buyer = (x["orders"] > 0).to_numpy()
    # ... yet the card says base-rate, so base rates are what is stored, and labelled so
    assert np.allclose(served.values[buyer], 0.4) and np.allclose(served.values[~buyer], 0.2)
    assert (served.labels[buyer] == "next_purchase-v1:customers.base-rate").all()
    assert (served.labels[~buyer] == "next_purchase-v1:conversion.base-rate").all()
    assert {json.loads(u)["fallback"] for u in served.used} == {"too few"}
    # BTYD segments say which BTYD: plain here
    btyd_model = _two_segment_model("churn", "btyd", "none")
    served = serve(btyd_model, x, btyd)
    assert (served.labels[buyer] == "churn-v1:customers.btyd").all()
    assert not served.applies[~buyer].any() and served.applies[buyer].all()  # no churn for prospects
    assert set(json.loads(served.used.iloc[0])) == {"btyd_frequency", "btyd_recency_days", "btyd_age_days"}


def test_label_window_and_stretching_to_the_horizon_by_hand() -> None:
    assert label_window(90, 400, 60, 14) == 90
    assert label_window(273, 273, 60, 14) == 213  # 39 weeks of history, a 39-week question
    assert label_window(90, 70, 60, 14) is None
    mask = np.array([True, True, False])
    btyd = pd.DataFrame({"btyd_p_no_purchase_90d": [0.5, np.nan, 0.1], "btyd_p_no_purchase_30d": [0.8, 0.5, 0.2]})
    churn = stretch_probability("churn", np.array([0.6, 0.64]), 30, 90, btyd, mask)
    # BG/NBD's ratio for the first customer (0.5 / 0.8), a constant hazard without it: 0.64^3
    assert churn == pytest.approx([0.6 * 0.5 / 0.8, 0.64**3])
    nxt = stretch_probability("next_purchase", np.array([0.4, 0.36]), 30, 90, btyd, mask)
    assert nxt == pytest.approx([1 - 0.6 * 0.5 / 0.8, 1 - 0.64**3])


def test_conformal_interval_covers_eighty_percent_and_lift_by_hand() -> None:
    rng = np.random.default_rng(0)
    predicted = rng.gamma(2.0, 50.0, 5_000)
    actual = predicted * rng.lognormal(0.0, 0.5, 5_000)
    q, c = ltv_interval(predicted[:2_500], actual[:2_500])
    inside = np.abs(actual[2_500:] - predicted[2_500:]) <= q * (predicted[2_500:] + c)
    assert inside.mean() == pytest.approx(0.8, abs=0.03)
    assert ltv_interval(predicted[:10], actual[:10]) is None
    table = lift_by_decile(np.arange(20) / 20, np.array([0] * 10 + [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]))
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["lift"].iloc[0] == pytest.approx(1.0 / 0.3) and table["cumulative_gain"].iloc[-1] == 1.0
    assert table["cumulative_gain"].iloc[2] == pytest.approx(1.0)


def test_confidence_varies_per_profile_and_is_zero_for_base_rates() -> None:
    x = customers(500)
    btyd, _ = btyd_features(x, HORIZONS)
    model = _two_segment_model("churn", "btyd", "none")
    model.segments["customers"].skill, model.segments["customers"].reliability = 0.6, 0.9
    served = serve(model, x, btyd)
    conf = confidence(model, x, served.values)
    assert len(np.unique(conf)) > 50 and conf.max() <= 0.6 * 0.9
    long_history = x["orders"].to_numpy() >= 4
    assert conf[long_history].mean() > conf[x["orders"].to_numpy() == 1].mean()
    rates = _two_segment_model("churn", "base-rate", "none")
    assert (confidence(rates, x, serve(rates, x, btyd).values) == 0).all()


def test_holdout_is_the_same_for_the_same_histories_whatever_the_profile_ids() -> None:
    x = customers(1_000)
    renamed = x.rename(index=lambda i: f"other-{i[::-1]}")
    assert (holdout_mask(x) == holdout_mask(renamed)).all()
    assert 0.15 < holdout_mask(x).mean() < 0.25


def test_next_purchase_has_a_conversion_gate_over_prospects() -> None:
    model = _two_segment_model("next_purchase", "gbm", "gbm")
    model.segments["prospects"].estimator = object()
    good = {"auc": 0.8, "ece": 0.01, "base_rate": 0.1, "profiles": 1e4}
    figures = {f"{who}{k}": v for who in ("", "customers_") for k, v in good.items()}
    model.metrics = {
        "model": {**figures, "prospects_auc": 0.45, "prospects_ece": 0.01, "prospects_base_rate": 0.02},
        "baseline": {**figures, "prospects_auc": 0.5},
    }
    model.metrics["model"]["prospects_profiles"] = 1e4
    gates = {g.name: g for g in evaluate_gates(model)}
    assert gates["beats_baseline"].passed and not gates["conversion"].passed and gates["conversion"].blocking


def test_predictions_definitions_take_their_settings_from_the_settings_passed_in(tmp_path) -> None:
    from audience_dagster.config import load_settings
    from audience_dagster.predictions.definitions import build_predictions_definitions

    settings = load_settings({"AUDIENCE_HOME": str(tmp_path), "AUDIENCE_TRAINING_CRON": "15 4 * * 2"})
    defs = build_predictions_definitions(settings)
    (schedule,) = defs.schedules  # warehouse and clock come from the top-level definitions
    assert schedule.name == "weekly_model_training" and schedule.cron_schedule == "15 4 * * 2"
    assert defs.resources["predictions"].models_dir == str(settings.models_dir)
    assert defs.resources["predictions"].horizons_days == dict(settings.horizons_days)
    keys = {key.to_user_string() for asset in defs.assets for key in asset.keys}
    assert keys == {"predictions/prediction_models", "predictions/profile_predictions"}
