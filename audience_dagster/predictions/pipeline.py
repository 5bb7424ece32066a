"""Train the four prediction types from the warehouse, and score every profile with them.

``train_all``: features as of ``as_of - H`` (H the longest of the churn, next-purchase and
upgrade horizons) with the purchases of the following days as labels train churn,
next_purchase and upgrade; LTV trains as of ``as_of - L``, L = its horizon, or — when the
history is shorter than horizon + ``MIN_HISTORY_DAYS`` — the longest window the history
allows, stretched to the horizon by BG/NBD (the model card says so). With less history than
that, a type is served by its baseline, unvalidated.

``score_all``: features as of ``as_of`` for every profile, BG/NBD + Gamma-Gamma refitted on
the customers as of then, each model applied; one frame in the spec's ``predictions`` columns.

The Dagster assets pass the run's clock (:mod:`audience_dagster.clock`), the same instant the
scores and segments of that run use. Without one, ``as_of`` defaults to the data's own clock
(:func:`data_as_of`, the time of the latest event): the evaluations and benchmarks use that.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg2.extensions

from audience_dagster.errors import ModelError
from audience_dagster.predictions.baseline import Baseline, BtydFit, btyd_features
from audience_dagster.predictions.features import compile_features, compile_labels
from audience_dagster.predictions.horizon import label_window
from audience_dagster.predictions.score import confidence, serve
from audience_dagster.predictions.targets import PREDICTION_TYPES, make_targets, tier_edges
from audience_dagster.predictions.train import (
    SegmentModel,
    TrainedModel,
    split_keys,
    train_prediction,
    versioned,
)
from audience_dagster.warehouse.frames import copy_out

MIN_HISTORY_DAYS = 60
MIN_LTV_LABEL_DAYS = 30
MIN_SHORT_LABEL_DAYS = 14
UNVALIDATED_SKILL = 0.1  # BTYD without any holdout: assumed barely better than chance
SHORT_TYPES = ("churn", "next_purchase", "upgrade")


def data_as_of(conn: psycopg2.extensions.connection) -> datetime:
    """One second past the latest event (never later than now); now when there are no events."""
    with conn.cursor() as cur:
        cur.execute("SELECT min(occurred_at), max(occurred_at) FROM marts.audience_events")
        _, latest = cur.fetchone()
    now = datetime.now(UTC)
    if latest is None:
        return now
    return min(now, latest.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1))


def history_start(conn: psycopg2.extensions.connection) -> datetime | None:
    with conn.cursor() as cur:
        cur.execute("SELECT min(first_seen_at) FROM marts.audience_profile_base")
        (first,) = cur.fetchone()
    return None if first is None else first.astimezone(UTC)


def read_features(
    conn: psycopg2.extensions.connection, cutoff: datetime, profiles: list[str] | None = None
) -> pd.DataFrame:
    """Features of every profile first seen before ``cutoff`` (or of ``profiles`` only), as
    floats, indexed by profile id."""
    sql, params = compile_features(cutoff, profiles)
    with conn.cursor() as cur:
        query = cur.mogrify(sql, params).decode()
    frame = copy_out(conn, query).set_index("profile_id").sort_index().astype(float)
    # row order drives the inner splits: ordered by a hash of each history, not by the profile
    # uuids (new ones on every fresh database), so a given warehouse trains the same models
    return frame.iloc[np.argsort(split_keys(frame), kind="stable")]


def read_labels(conn: psycopg2.extensions.connection, cutoff: datetime, horizons_days: dict[str, int]) -> pd.DataFrame:
    sql, params = compile_labels(cutoff, horizons_days)
    with conn.cursor() as cur:
        query = cur.mogrify(sql, params).decode()
    return copy_out(conn, query).set_index("profile_id").astype(float)


def read_purchase_days(conn: psycopg2.extensions.connection, cutoff: datetime, days: int) -> pd.DataFrame:
    """(profile_id, day offset) of every purchase day in the ``days`` after ``cutoff``."""
    with conn.cursor() as cur:
        query = cur.mogrify(
            """
            SELECT profile_id::text AS profile_id,
                   floor(extract(epoch FROM min(occurred_at) - %(c)s::timestamptz) / 86400.0) AS offset_days
            FROM marts.audience_events
            WHERE event_type = 'purchase' AND profile_id IS NOT NULL
              AND occurred_at >= %(c)s AND occurred_at < %(c)s::timestamptz + %(span)s
            GROUP BY profile_id, (occurred_at AT TIME ZONE 'UTC')::date
            """,
            {"c": cutoff, "span": timedelta(days=days)},
        ).decode()
    return copy_out(conn, query).astype({"offset_days": float})


@dataclass
class TrainingRun:
    """Everything training produced: the models and what a data engineer wants to see."""

    models: dict[str, TrainedModel]
    as_of: datetime
    btyd: dict[str, BtydFit] = field(default_factory=dict)  # per cutoff name
    cumulative: pd.DataFrame | None = None  # BG/NBD expected vs actual repeat purchases, by week
    seconds: dict[str, float] = field(default_factory=dict)


def _dataset(
    conn: psycopg2.extensions.connection, cutoff: datetime, horizons: dict[str, int], btyd_horizons: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, BtydFit, np.ndarray]:
    features = read_features(conn, cutoff)
    btyd, fit = btyd_features(features, btyd_horizons)
    edges = tier_edges(features["revenue_365d"])
    targets = make_targets(features, read_labels(conn, cutoff, horizons), edges)
    return features.join(btyd), targets, btyd, fit, edges


def train_all(
    conn: psycopg2.extensions.connection, horizons_days: dict[str, int], as_of: datetime | None = None
) -> TrainingRun:
    """Train every prediction type as of ``as_of`` (default: :func:`data_as_of`)."""
    as_of = as_of or data_as_of(conn)
    start = history_start(conn)
    history = (as_of - start).total_seconds() / 86400 if start else 0.0
    run = TrainingRun(models={}, as_of=as_of)
    short = max(horizons_days[k] for k in SHORT_TYPES)
    short_days = label_window(short, history, MIN_HISTORY_DAYS, MIN_SHORT_LABEL_DAYS)
    labels = {k: min(horizons_days[k], short_days or 1) for k in SHORT_TYPES}
    ltv_days = horizons_days["ltv"]
    label_days = int(min(ltv_days, history - MIN_HISTORY_DAYS))
    btyd_horizons = {
        **horizons_days,
        "ltv_label": max(label_days, 1),
        **{f"{k}_label": days for k, days in labels.items()},
    }
    started = time.perf_counter()
    if short_days is not None:
        _train_short(conn, run, as_of - timedelta(days=short_days), horizons_days, labels, btyd_horizons)
    run.seconds["train_short_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    if label_days >= MIN_LTV_LABEL_DAYS:
        _train_ltv(conn, run, as_of - timedelta(days=label_days), horizons_days, label_days, btyd_horizons)
    run.seconds["train_ltv_seconds"] = time.perf_counter() - started

    for kind in PREDICTION_TYPES:
        if kind not in run.models:
            run.models[kind] = _unvalidated(kind, btyd_horizons, as_of, history)
    return run


def _train_short(
    conn: psycopg2.extensions.connection,
    run: TrainingRun,
    cutoff: datetime,
    horizons_days: dict[str, int],
    labels: dict[str, int],
    btyd_horizons: dict[str, int],
) -> None:
    """Churn, next purchase and upgrade from one cutoff; a type whose labelled window is shorter
    than its horizon is carried to the horizon at scoring (``horizon.py``) and says so."""
    x, targets, btyd, fit, edges = _dataset(conn, cutoff, {**horizons_days, **labels}, btyd_horizons)
    run.btyd["short"] = fit
    serving = Baseline.from_training(x, targets, btyd_horizons, edges)
    for kind in SHORT_TYPES:
        days = labels[kind]
        labelled = replace(serving, horizons_days={**btyd_horizons, kind: days})
        model = train_prediction(kind, x, targets[kind], labelled, btyd, cutoff, days)
        model.baseline, model.horizon_days = serving, horizons_days[kind]
        _note_btyd(model, fit)
        if days < horizons_days[kind]:
            model.notes.append(
                f"history allows {days} labelled days, not {horizons_days[kind]}: the model learnt "
                f"{days}-day probabilities, carried to {horizons_days[kind]} days by BG/NBD's P(no purchase) "
                "for customers and a constant hazard for everyone else (holdout figures are for the "
                f"{days}-day window)"
            )
            model.version = versioned(model).replace(f"{kind}-", f"{kind}-{days}d-", 1)
        run.models[kind] = model
    run.cumulative = _cumulative(conn, x, fit, cutoff, labels["churn"])


def _train_ltv(
    conn: psycopg2.extensions.connection,
    run: TrainingRun,
    cutoff: datetime,
    horizons_days: dict[str, int],
    label_days: int,
    btyd_horizons: dict[str, int],
) -> None:
    ltv_days = horizons_days["ltv"]
    ltv_horizons = {**horizons_days, "ltv": label_days}
    x, targets, btyd, fit, edges = _dataset(conn, cutoff, ltv_horizons, btyd_horizons)
    run.btyd["ltv"] = fit
    serving = Baseline.from_training(x, targets, btyd_horizons, edges)
    # on the holdout the baseline predicts the labelled window; once trained, the horizon
    labelled = replace(serving, horizons_days={**btyd_horizons, "ltv": label_days})
    # a customer correction learnt over fewer days than the horizon, from younger histories, does
    # not carry over (on CDNOW it more than doubled BTYD's error); BTYD extrapolates by construction
    shorter = {"customers": f"labelled window {label_days} days < horizon {ltv_days}: BTYD extrapolates"}
    forced = shorter if label_days < ltv_days and fit.usable else {}
    model = train_prediction("ltv", x, targets["ltv"], labelled, btyd, cutoff, label_days, forced)
    model.baseline, model.horizon_days = serving, ltv_days
    _note_btyd(model, fit)
    if label_days < ltv_days:
        model.notes.append(
            f"history allows {label_days} labelled days, not {ltv_days}: the model predicts "
            f"{label_days}-day revenue, stretched to {ltv_days} days by BG/NBD's expected purchases "
            "(customers; linearly for everyone else)"
        )
        model.version = versioned(model).replace("ltv-", f"ltv-{label_days}d-", 1)
    run.models["ltv"] = model


def _note_btyd(model: TrainedModel, fit: BtydFit) -> None:
    """The BTYD fit's problems (a penalised refit, zero spenders left out) on the model card."""
    model.notes.extend(f"BTYD: {problem}" for problem in fit.problems)
    if fit.gamma_gamma is None and fit.bgnbd is not None:
        model.notes.append("BTYD: no Gamma-Gamma fit; a customer's expected order value is their own average")


def _unvalidated(kind: str, btyd_horizons: dict[str, int], as_of: datetime, history: float) -> TrainedModel:
    """Too little history for any label: BTYD (customers) or nothing, with minimal confidence."""
    baseline = Baseline(
        btyd_horizons, noncustomer_rate={}, customer_rate={}, tier_upgrade_rate={}, tier_edges=np.array([])
    )
    why = f"{history:.0f} days of history: too short to label a {btyd_horizons[kind]}-day horizon"
    model = TrainedModel(
        prediction_type=kind,
        version="",
        horizon_days=btyd_horizons[kind],
        label_days=0,
        cutoff=as_of.isoformat(),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        baseline=baseline,
        segments={
            "customers": SegmentModel(method="btyd", skill=UNVALIDATED_SKILL, reason=f"{why}; BTYD, unvalidated"),
            "prospects": SegmentModel(method="none", reason=f"{why}; no prediction"),
        },
    )
    model.version = versioned(model) + "-unvalidated"
    model.notes.append(f"{why}: BTYD for customers (unvalidated), no prediction for anyone else")
    return model


def _cumulative(
    conn: psycopg2.extensions.connection, x: pd.DataFrame, fit: BtydFit, cutoff: datetime, days: int
) -> pd.DataFrame | None:
    """Weekly cumulative repeat purchase days of the customers at ``cutoff``: BG/NBD's
    expectation beside what happened."""
    if fit.bg is None:
        return None
    customers = x[x["orders"] > 0]
    happened = read_purchase_days(conn, cutoff, days)
    happened = happened[happened["profile_id"].isin(customers.index)]
    weeks = np.arange(7, days + 7, 7).clip(max=days)
    args = (customers["btyd_frequency"], customers["btyd_recency_days"], customers["btyd_age_days"])
    expected = [float(fit.bg.conditional_expected_number_of_purchases_up_to_time(t, *args).sum()) for t in weeks]
    actual = [int((happened["offset_days"] < t).sum()) for t in weeks]
    return pd.DataFrame({"day": weeks, "expected": np.round(expected, 1), "actual": actual})


def scoring_features(
    conn: psycopg2.extensions.connection,
    as_of: datetime,
    horizons: dict[str, int],
    seconds: dict[str, float],
    profiles: list[str] | None = None,
    fit: BtydFit | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, BtydFit]:
    """Features as of ``as_of`` (inclusive) of every profile, with BTYD refitted on them then, or
    of ``profiles`` only, with ``fit`` (a population's fit: a few profiles cannot refit it)."""
    if (profiles is None) != (fit is None):
        raise ValueError("scoring some profiles takes the BTYD fit of a full pass; a full pass refits")
    started = time.perf_counter()
    x = read_features(conn, as_of + timedelta(microseconds=1), profiles)
    seconds["features_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    btyd, fit = btyd_features(x, horizons, fit)
    seconds["btyd_seconds"] = time.perf_counter() - started
    return x.join(btyd), btyd, fit


def score_all(
    conn: psycopg2.extensions.connection,
    models: dict[str, TrainedModel],
    as_of: datetime | None = None,
    *,
    profiles: list[str] | None = None,
    fit: BtydFit | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Predictions of every type for every profile as of ``as_of``, in the spec's columns; or for
    ``profiles`` only, with the BTYD ``fit`` of the last full pass (:mod:`.incremental`). The
    fit used is in ``frame.attrs["btyd_fit"]``."""
    if not models:
        raise ModelError("no trained models: materialise predictions/prediction_models first")
    as_of = as_of or data_as_of(conn)
    seconds: dict[str, float] = {}
    horizons = next(iter(models.values())).baseline.horizons_days
    x, btyd, fit = scoring_features(conn, as_of, horizons, seconds, profiles, fit)
    frames = []
    started = time.perf_counter()
    for kind, model in models.items():
        missing = sorted(set(model.features) - set(x.columns))
        if missing:
            raise ModelError(f"model {model.version} needs features {missing} this scoring run lacks: retrain it")
        served = serve(model, x, btyd)
        values = served.values
        keep = served.applies  # no row where the type does not apply (a prospect's churn)
        frames.append(
            pd.DataFrame(
                {
                    "profile_id": x.index[keep],
                    "prediction_type": kind,
                    "predicted_value": np.round(values[keep], 6 if kind != "ltv" else 2),
                    "confidence": confidence(model, x, values)[keep],
                    "model_version": served.labels.to_numpy()[keep],
                    "features_used": served.used.to_numpy()[keep],
                    # constants per type, as text: formatting 4M timestamps in to_csv costs a minute
                    "predicted_at": as_of.isoformat(),
                    "valid_until": (as_of + timedelta(days=model.horizon_days)).isoformat(),
                }
            )
        )
    seconds["predict_seconds"] = time.perf_counter() - started
    frame = pd.concat(frames, ignore_index=True)
    frame.attrs["btyd_fit"] = fit
    return frame, seconds
