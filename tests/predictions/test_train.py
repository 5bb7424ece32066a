"""Training and scoring without a database: feature frames drawn from a BG/NBD world. Each world
is trained once per test session (``trained``), not once per test."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from audience_dagster.errors import ModelError
from audience_dagster.predictions.artifacts import load_latest, promote, save_model
from audience_dagster.predictions.baseline import Baseline, btyd_features
from audience_dagster.predictions.btyd import simulate_bgnbd
from audience_dagster.predictions.features import FEATURES
from audience_dagster.predictions.gates import baseline_only
from audience_dagster.predictions.score import confidence, drivers, predict_values, serve
from audience_dagster.predictions.targets import PREDICTION_TYPES
from audience_dagster.predictions.train import train_prediction

HORIZONS = {"churn": 90, "next_purchase": 30, "ltv": 365, "upgrade": 90}
CUTOFF = datetime(2026, 8, 1, tzinfo=UTC)


def world(customers: int, prospects: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features and targets: customers follow BG/NBD in days; prospects convert at ~2%."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(10, 400, customers)
    sim = simulate_bgnbd(0.6, 40.0, 0.8, 2.5, age, rng)
    spend = rng.gamma(3.0, 20.0, customers)
    n = customers + prospects
    x = pd.DataFrame(0.0, index=[f"p{i:06d}" for i in range(n)], columns=list(FEATURES))
    c = slice(0, customers)
    x.iloc[c, x.columns.get_loc("orders")] = sim["frequency"] + 1
    x.iloc[c, x.columns.get_loc("btyd_frequency")] = sim["frequency"]
    x.iloc[c, x.columns.get_loc("btyd_recency_days")] = sim["recency"]
    x.iloc[c, x.columns.get_loc("btyd_age_days")] = age
    x.iloc[c, x.columns.get_loc("btyd_monetary")] = np.where(sim["frequency"] > 0, spend, 0)
    x.iloc[c, x.columns.get_loc("avg_order_value")] = spend
    x.iloc[c, x.columns.get_loc("revenue")] = spend * (sim["frequency"] + 1)
    x.iloc[c, x.columns.get_loc("revenue_365d")] = spend * (sim["frequency"] + 1)
    x.iloc[c, x.columns.get_loc("days_since_last_order")] = age - sim["recency"]
    x["tenure_days"] = rng.uniform(10, 500, n)
    x["events_90d"] = rng.poisson(3, n)
    gap = np.concatenate([sim["next_purchase"].to_numpy() - age, np.where(rng.random(prospects) < 0.02, 20.0, np.inf)])
    y = pd.DataFrame(
        {
            "churn": (gap > 90).astype(int),
            "next_purchase": (gap <= 30).astype(int),
            "ltv": np.where(gap <= 365, np.concatenate([spend, np.full(prospects, 50.0)]), 0.0),
            "upgrade": ((gap <= 90) & (rng.random(n) < 0.5)).astype(int),
        },
        index=x.index,
    )
    return x, y


def train_everything(x: pd.DataFrame, y: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    btyd, _ = btyd_features(x, HORIZONS)
    frame = x.join(btyd)
    baseline = Baseline.from_training(frame, y, HORIZONS, np.array([50.0, 100.0, 200.0]))
    models = {k: train_prediction(k, frame, y[k], baseline, btyd, CUTOFF, HORIZONS[k]) for k in PREDICTION_TYPES}
    return models, frame, btyd


@pytest.fixture(scope="session")
def trained() -> dict[str, tuple[dict, pd.DataFrame, pd.DataFrame]]:
    """The worlds the tests share, each trained once: "large" (3,000 customers and prospects),
    "small" (45 customers), "tiny" (12)."""
    return {
        "large": train_everything(*world(3_000, 3_000)),
        "small": train_everything(*world(45, 60)),
        "tiny": train_everything(*world(12, 30)),
    }


def test_enough_data_trains_fitted_models_with_honest_holdout_figures(trained: dict) -> None:
    models, frame, btyd = trained["large"]
    churn = models["churn"]
    assert churn.segments["customers"].method in {"gbm", "linear", "btyd"}
    assert set(churn.segments["customers"].selection) == {"gbm", "linear", "btyd"}
    assert churn.metrics["model"]["customers_profiles"] > 400  # the fifth held out
    assert churn.metrics["model"]["customers_auc"] > 0.7
    for kind, model in models.items():
        values = predict_values(model, frame, btyd)
        applies = serve(model, frame, btyd).applies
        assert np.isfinite(values[applies]).all(), kind
        assert (values[applies] >= 0).all() and (kind == "ltv" or (values[applies] <= 1).all()), kind
        conf = confidence(model, frame, values)
        assert ((conf >= 0) & (conf <= 1)).all()
        customers = (frame["orders"] > 0).to_numpy()
        # per profile, not one constant per segment
        assert len(np.unique(conf[customers])) > 10, kind
        texts = drivers(model, frame, btyd)
        parsed = [json.loads(t) for t in texts.iloc[:200]]
        assert all(len(set(p) - {"ltv_interval_80"}) <= 3 for p in parsed)
        if kind == "ltv":
            low, high = parsed[0]["ltv_interval_80"]
            assert 0 <= low <= high
    assert model.version.startswith("upgrade-c.") and "-p." in model.version
    # a model that fails a gate is replaced by its baseline from the same run
    fallback = baseline_only(churn)
    assert fallback.version.endswith("-gated") and {s.method for s in fallback.segments.values()} == {
        "btyd",
        "none",
    }
    expected, _ = churn.baseline.predict("churn", frame, btyd)
    customers = (frame["orders"] > 0).to_numpy()
    fallback_values = predict_values(fallback, frame, btyd)
    assert np.allclose(fallback_values[customers], np.clip(expected, 0, 1)[customers])
    assert np.isnan(fallback_values[~customers]).all()  # churn is asked of customers only
    assert predict_values(churn, frame, btyd)[customers].tolist() != fallback_values[customers].tolist()


def test_tens_of_customers_fall_back_to_btyd_or_base_rates_with_low_confidence(trained: dict) -> None:
    models, frame, btyd = trained["small"]
    for kind, model in models.items():
        assert {s.method for s in model.segments.values()} <= {"btyd", "base-rate", "none"}, kind
        assert any("served by the" in note for note in model.notes)
        served = serve(model, frame, btyd)
        assert np.isfinite(served.values[served.applies]).all()
        assert confidence(model, frame, served.values).max() <= 0.25  # few holdout examples: little reliability
        # the stored label names what produced each value; a fallback says why
        for name, segment in model.segments.items():
            rows = served.labels[(frame["orders"] > 0).to_numpy() == (name == "customers")]
            assert rows.str.startswith(model.version + ":").all()
            if segment.method == "base-rate":
                assert rows.str.endswith(".base-rate").all()
                assert all("fallback" in json.loads(u) for u in served.used[rows.index])
    customers = frame["orders"] > 0
    churn = predict_values(models["churn"], frame, btyd)
    # BTYD speaks for each customer; prospects get no churn at all
    assert len(np.unique(np.round(churn[customers.to_numpy()], 6))) > 1
    assert np.isnan(churn[~customers.to_numpy()]).all()
    # next purchase of a prospect is its conversion, and the label says so
    labels = serve(models["next_purchase"], frame, btyd).labels[~customers]
    assert labels.str.contains(":conversion.").all()
    one_time = (frame["btyd_frequency"] == 0) & customers
    # the trap: P(alive) is 1 for one-time buyers, yet their churn risk is not 0
    assert (frame.loc[one_time, "btyd_p_alive"] == 1).all()
    assert (churn[one_time.to_numpy()] > 0.3).all()


def test_a_dozen_customers_too_few_for_btyd_get_base_rates_never_a_crash(trained: dict) -> None:
    models, frame, btyd = trained["tiny"]
    for kind, model in models.items():
        expected = {"base-rate", "none"} if kind == "churn" else {"base-rate"}
        assert {s.method for s in model.segments.values()} == expected, kind
        assert f"c.base-rate-p.{'none' if kind == 'churn' else 'base-rate'}" in model.version
        served = serve(model, frame, btyd)
        assert np.isfinite(served.values[served.applies]).all()
        assert (confidence(model, frame, served.values) == 0).all()  # base rates rank nobody


def test_models_round_trip_through_their_folder_and_only_promoted_ones_score(tmp_path, trained: dict) -> None:
    models, frame, btyd = trained["large"]
    with pytest.raises(ModelError, match="no trained churn model"):
        load_latest(tmp_path)
    for model in models.values():
        folder = save_model(model, tmp_path)
        card = json.loads((folder / "card.json").read_text())
        assert card["version"] == model.version and card["features"] and "holdout_metrics" in card
        assert (folder / "MODEL_CARD.md").read_text().startswith(f"# Model card: {model.version}")
    with pytest.raises(ModelError):
        load_latest(tmp_path)  # saved, not promoted
    for model in models.values():
        promote(model, tmp_path)
    loaded = load_latest(tmp_path)
    for kind, model in models.items():
        assert np.allclose(
            predict_values(loaded[kind], frame, btyd), predict_values(model, frame, btyd), equal_nan=True
        )
        card = (tmp_path / kind / model.version / "MODEL_CARD.md").read_text()
        assert "## Holdout" in card and "| metric | baseline | model |" in card
        if kind != "ltv":
            assert "## Calibration by decile" in card and "## Lift and cumulative gain" in card
