"""Predictions on the embedded PostgreSQL: features as of a cutoff (no leakage), hand-checked
features, the whole train → score → write path, small data and short histories."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from audience_dagster.bench.predictions import AS_OF, TABLES, load_synthetic, synthetic_warehouse
from audience_dagster.config import DEFAULT_HORIZONS_DAYS
from audience_dagster.predictions.incremental import plan_scoring, record_pass
from audience_dagster.predictions.pipeline import read_features, read_labels, score_all, train_all
from audience_dagster.predictions.warehouse import write_predictions
from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.frames import copy_in

pytestmark = pytest.mark.integration
NOW = AS_OF.to_pydatetime()
HORIZONS = dict(DEFAULT_HORIZONS_DAYS)


@pytest.fixture()
def fresh(warehouse_url: str) -> str:
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS marts CASCADE")
    bootstrap(warehouse_url)
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(TABLES)
    return warehouse_url


def events(rows: list[tuple]) -> pd.DataFrame:
    columns = ["profile_id", "event_type", "occurred_at", "session_sequence", "revenue", "properties"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"session_sequence": "Int64"})


def test_features_by_hand_and_no_post_cutoff_data_reaches_them(fresh: str) -> None:
    cutoff = datetime(2026, 6, 1, tzinfo=UTC)
    ada, bob = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    day = timedelta(days=1)
    before = events(
        [
            (ada, "purchase", cutoff - 100 * day, None, 40.0, '{"total_discounts": 0}'),
            (ada, "purchase", cutoff - 40 * day, None, 60.0, '{"total_discounts": 6.5}'),
            (ada, "purchase", cutoff - 40 * day + timedelta(hours=2), None, 20.0, "{}"),
            (ada, "purchase", cutoff - 10 * day, None, 80.0, "{}"),
            (ada, "page_view", cutoff - 5 * day, 1, None, "{}"),
            (ada, "page_view", cutoff - 5 * day + timedelta(minutes=1), 2, None, "{}"),
            (ada, "email_open", cutoff - 50 * day, None, None, "{}"),
            (ada, "email_unsubscribe", cutoff - 200 * day, None, None, "{}"),
            (bob, "page_view", cutoff - 3 * day, 1, None, "{}"),
        ]
    )
    after = events(
        [
            (ada, "purchase", cutoff + day, None, 500.0, '{"total_discounts": 50}'),
            (ada, "page_view", cutoff + 2 * day, 1, None, "{}"),
            (bob, "purchase", cutoff + 20 * day, None, 30.0, "{}"),
        ]
    )
    profiles = pd.DataFrame({"id": [ada, bob], "first_seen_at": [cutoff - 300 * day, cutoff - 3 * day]})
    with connection(fresh) as conn, conn.cursor() as cur:
        copy_in(cur, "marts.audience_profile_base", profiles)
        copy_in(cur, "marts.audience_events", before)
    with connection(fresh) as conn:
        first = read_features(conn, cutoff)
    a = first.loc[ada]
    assert a["orders"] == 4 and a["revenue"] == 200 and a["max_order_value"] == 80
    assert a["btyd_frequency"] == 2  # three purchase days
    assert a["btyd_recency_days"] == pytest.approx(90) and a["btyd_age_days"] == pytest.approx(100)
    assert a["btyd_monetary"] == pytest.approx((80 + 80) / 2)  # the repeat days: 60+20, 80
    assert a["ipt_mean_days"] == pytest.approx(45) and a["days_since_last_order"] == pytest.approx(10)
    assert a["orders_90d"] == 3 and a["revenue_90d"] == 160 and a["discount_share"] == pytest.approx(0.25)
    assert a["sessions_30d"] == 1 and a["pageviews_90d"] == 2 and a["email_opens_90d"] == 1
    assert a["email_unsubscribed"] == 1 and a["tenure_days"] == pytest.approx(300)
    assert first.loc[bob, "orders"] == 0 and np.isnan(first.loc[bob, "days_since_last_order"])
    # the future arrives: the features as of the cutoff do not move, the labels do
    with connection(fresh) as conn, conn.cursor() as cur:
        copy_in(cur, "marts.audience_events", after)
        cur.execute("UPDATE marts.audience_profile_base SET first_seen_at = first_seen_at")
    with connection(fresh) as conn:
        second = read_features(conn, cutoff)
        labels = read_labels(conn, cutoff, HORIZONS)
    pd.testing.assert_frame_equal(first.sort_index(), second.sort_index())
    assert labels.loc[ada, "orders_next"] == 1 and labels.loc[ada, "revenue_ltv"] == 500
    assert labels.loc[bob, "orders_next"] == 1 and labels.loc[bob, "orders_churn"] == 1
    # and a profile first seen after the cutoff is not a training row at all
    with connection(fresh) as conn:
        assert len(read_features(conn, cutoff - 10 * day)) == 1


def test_train_score_and_write_every_prediction_for_every_profile(fresh: str) -> None:
    profiles, history = synthetic_warehouse(4_000, np.random.default_rng(5))
    load_synthetic(fresh, profiles, history)
    with connection(fresh) as conn:
        run = train_all(conn, HORIZONS, NOW)
        assert set(run.models) == {"churn", "next_purchase", "ltv", "upgrade"}
        assert run.cumulative is not None and run.cumulative["actual"].iloc[-1] > 0
        frame, _ = score_all(conn, run.models, NOW)
        buyers = int((read_features(conn, NOW + timedelta(microseconds=1))["orders"] > 0).sum())
        for _attempt in range(2):  # replacing is idempotent; churn only for customers
            assert write_predictions(conn, frame) == 3 * 4_000 + buyers
        with conn.cursor() as cur:
            cur.execute(
                "SELECT prediction_type, count(*), count(DISTINCT profile_id), min(predicted_value),"
                " max(predicted_value), min(confidence), max(confidence), bool_and(valid_until > predicted_at)"
                " FROM marts.predictions GROUP BY 1"
            )
            rows = {r[0]: r[1:] for r in cur.fetchall()}
            cur.execute("SELECT features_used FROM marts.predictions WHERE features_used <> '{}'::jsonb LIMIT 50")
            used = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT extract(day FROM valid_until - predicted_at) FROM marts.predictions "
                "WHERE prediction_type = 'next_purchase' LIMIT 1"
            )
            assert cur.fetchone()[0] == 30
    assert set(rows) == {"churn", "next_purchase", "ltv", "upgrade"}
    for kind, (n, distinct, low, high, conf_low, conf_high, valid) in rows.items():
        assert n == distinct == (buyers if kind == "churn" else 4_000), kind
        assert low >= 0 and (kind == "ltv" or high <= 1), kind
        assert 0 <= conf_low <= conf_high <= 1 and valid, kind
    assert used and all(isinstance(u, dict) and 1 <= len(set(u) - {"ltv_interval_80"}) <= 3 for u in used)
    # every stored value names the model version and the segment method that produced it
    assert frame["model_version"].str.contains(r":(?:customers|prospects|conversion)\.").all()
    nxt = frame[frame["prediction_type"] == "next_purchase"]
    assert nxt["model_version"].str.contains(":conversion.").sum() == 4_000 - buyers
    # confidence is per profile, not one constant per type
    assert frame.groupby("prediction_type")["confidence"].nunique().min() > 10


def test_thirty_profiles_and_a_short_history_still_predict_and_say_so(fresh: str) -> None:
    profiles, history = synthetic_warehouse(30, np.random.default_rng(9), history_days=40)
    load_synthetic(fresh, profiles, history)
    with connection(fresh) as conn:
        run = train_all(conn, HORIZONS, NOW)
        frame, _ = score_all(conn, run.models, NOW)
        write_predictions(conn, frame)
    for model in run.models.values():
        assert "unvalidated" in model.version and model.notes
    # BTYD speaks for customers (when it can be fitted at all); nobody else gets a made-up number
    assert frame["model_version"].str.contains(":customers.").all()
    assert len(frame) == 4 * frame["profile_id"].nunique() and frame["profile_id"].nunique() < 30
    assert (frame["confidence"] <= 0.1).all()
    assert json.loads(frame["features_used"].iloc[0]) is not None


def test_fifty_customers_complete_with_labelled_low_confidence_fallbacks(fresh: str) -> None:
    profiles, history = synthetic_warehouse(160, np.random.default_rng(11))
    load_synthetic(fresh, profiles, history)
    with connection(fresh) as conn:
        run = train_all(conn, HORIZONS, NOW)
        frame, _ = score_all(conn, run.models, NOW)
        write_predictions(conn, frame)
        buyers = int((read_features(conn, NOW + timedelta(microseconds=1))["orders"] > 0).sum())
    assert 30 <= buyers <= 80
    assert (frame["confidence"] <= 0.3).all()
    for kind, model in run.models.items():
        rows = frame[frame["prediction_type"] == kind]
        assert rows["model_version"].str.startswith(model.version + ":").all(), kind
        for name, segment in model.segments.items():
            if segment.estimator is None and segment.method == "base-rate":
                label = ":conversion." if kind == "next_purchase" and name == "prospects" else f":{name}."
                fallback = rows[rows["model_version"].str.contains(label)]
                assert fallback["model_version"].str.endswith(".base-rate").all(), kind
                assert all("fallback" in json.loads(u) for u in fallback["features_used"]), kind


CHANGE_LOG = """
CREATE SCHEMA IF NOT EXISTS intermediate;
DROP TABLE IF EXISTS intermediate.audience_events_profile_changes, intermediate.audience_events_profile_consumers;
CREATE TABLE intermediate.audience_events_profile_changes (generation bigint NOT NULL, profile_id uuid);
CREATE TABLE intermediate.audience_events_profile_consumers (model text PRIMARY KEY, generation bigint NOT NULL);
INSERT INTO intermediate.audience_events_profile_changes VALUES (1, NULL);  -- a full build
"""


def _score(conn, models, as_of, plan):
    frame, _ = score_all(conn, models, as_of, profiles=plan.profiles, fit=plan.fit)
    finish = lambda cur: record_pass(cur, plan, models, as_of, frame.attrs["btyd_fit"])  # noqa: E731
    write_predictions(conn, frame, plan.profiles, finish=finish)
    return frame


def _stored(conn) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT profile_id::text, prediction_type, predicted_value::float8, confidence::float8, model_version,"
            " features_used::text, predicted_at FROM marts.predictions"
        )
        columns = ["profile_id", "prediction_type", "value", "confidence", "version", "used", "at"]
        return pd.DataFrame(cur.fetchall(), columns=columns).set_index(["profile_id", "prediction_type"]).sort_index()


def test_between_full_passes_only_the_changed_profiles_are_rescored_as_a_full_pass_would(fresh: str) -> None:
    """A full pass, then one purchase logged for one customer and one profile merged away: the
    next scoring the same day rewrites exactly their rows, with the values scoring everyone with
    the day's BTYD fit gives; the next day, new models or a full build score everyone."""
    profiles, history = synthetic_warehouse(1_500, np.random.default_rng(11))
    load_synthetic(fresh, profiles, history)
    later = NOW + timedelta(hours=5)
    with connection(fresh) as conn:
        models = train_all(conn, HORIZONS, NOW).models
        with conn.cursor() as cur:
            cur.execute(CHANGE_LOG)
            plan = plan_scoring(cur, models, NOW)
        assert plan.full and plan.reason == "no full pass recorded"
        _score(conn, models, NOW, plan)
        before = _stored(conn)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT profile_id::text FROM marts.audience_events WHERE event_type = 'purchase'"
                " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            )
            (buyer,) = cur.fetchone()
            gone = sorted(set(before.index.get_level_values(0)) - {buyer})[0]
            cur.execute(
                "INSERT INTO marts.audience_events VALUES (%s, 'purchase', %s, 1, 80.00, '{}')",
                (buyer, later - timedelta(hours=1)),
            )
            cur.execute("DELETE FROM marts.audience_events WHERE profile_id = %s", (gone,))
            cur.execute("DELETE FROM marts.audience_profile_base WHERE id = %s", (gone,))
            cur.execute(
                "INSERT INTO intermediate.audience_events_profile_changes VALUES (2, %s), (2, %s), (3, %s)",
                (buyer, gone, buyer),
            )
            plan = plan_scoring(cur, models, later)
        assert not plan.full and sorted(plan.profiles) == sorted([buyer, gone]) and plan.generation == 3
        _score(conn, models, later, plan)
        after = _stored(conn)
        # everyone else keeps the full pass's rows; the merged-away profile has none
        others = before.drop(index=[buyer, gone], level=0)
        pd.testing.assert_frame_equal(after.drop(index=buyer, level=0), others)
        assert gone not in after.index.get_level_values(0)
        assert (after.loc[buyer, "at"] == later).all()
        # the buyer's rows are what scoring everyone as of `later` with the day's fit gives it
        everyone = score_all(conn, models, later, profiles=list(profiles["id"].astype(str)), fit=plan.fit)[0]
        expected = everyone[everyone["profile_id"] == buyer].set_index("prediction_type").sort_index()
        got = after.loc[buyer].sort_index()
        np.testing.assert_allclose(got["value"], expected["predicted_value"].astype(float), rtol=0, atol=1e-6)
        np.testing.assert_allclose(got["confidence"], expected["confidence"].astype(float), rtol=0, atol=1e-4)
        assert list(got["version"]) == list(expected["model_version"])
        assert not np.allclose(got["value"], before.loc[buyer].sort_index()["value"])  # the purchase counted
        with conn.cursor() as cur:
            assert plan_scoring(cur, models, later).profiles == []  # nothing logged since
            assert plan_scoring(cur, models, NOW + timedelta(days=1)).full
            renamed = {kind: replace(model, version=model.version + "-b") for kind, model in models.items()}
            assert plan_scoring(cur, renamed, later).reason == "the models changed since the last full pass"
            cur.execute("INSERT INTO intermediate.audience_events_profile_changes VALUES (4, NULL)")
            assert plan_scoring(cur, models, later).full
