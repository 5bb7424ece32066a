"""``audience eval predictions``: every prediction type against purchases that really happened
later, beside the BTYD baseline.

* ``--dataset sample``: the demo warehouse and the generator's ground truth. Models train as
  of the sample's last observed instant (the same honest temporal split as production), then
  predict the holdout the generator simulated but never landed (``truth/holdout_orders.csv``),
  mapped to profiles through the identity map (a person's purchases go to the profile holding
  most of their orders, else most of their identifiers).
* ``--dataset cdnow``: the CDNOW sample (2,357 customers) from the ``lifetimes`` wheel. The
  39-week calibration period is imported through the historical-orders import into a scratch
  database and runs the real pipeline (staging, identity, profiles, events); the next 39
  weeks are the holdout, as in the literature (LTV horizon = 39 weeks there).

Populations: churn over customers (a purchase before the cutoff: the only people churn is
predicted for); next_purchase, upgrade and LTV over every profile, and ``conversion_*`` — the
next purchase of prospects (no purchase yet) — when the warehouse has prospects. The last line is
``churn_auc=… churn_brier=… churn_ece=… ltv_mae=… baseline_churn_auc=… baseline_ltv_mae=…``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2.extensions

from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.predictions.baseline import spend_tier
from audience_dagster.predictions.metrics import classification_metrics, regression_metrics
from audience_dagster.predictions.pipeline import read_labels, scoring_features, train_all
from audience_dagster.predictions.score import predict_values
from audience_dagster.predictions.targets import PREDICTION_TYPES, PROBABILITIES
from audience_dagster.warehouse.connection import connection, resolve_warehouse
from audience_dagster.warehouse.frames import copy_out

CDNOW_DB = "audience_eval_cdnow"


def truth_outcomes(
    x: pd.DataFrame,
    observed: pd.DataFrame,
    orders: pd.DataFrame,
    as_of: datetime,
    horizons: dict[str, int],
    edges: np.ndarray,
) -> pd.DataFrame:
    """Targets per profile of ``x`` from ``orders`` (profile_id, at, amount) after ``as_of``;
    ``observed`` are the warehouse's labels as of ``as_of`` (the part of the trailing spend
    that was already observed)."""
    after = orders[(orders["at"] >= as_of)].copy()
    days = (after["at"] - as_of).dt.total_seconds() / 86400

    def within(limit: int, column: str, how: str) -> pd.Series:
        subset = after[days < limit].groupby("profile_id")[column]
        return (subset.count() if how == "count" else subset.sum()).reindex(x.index, fill_value=0)

    churn_orders = within(horizons["churn"], "amount", "count")
    next_orders = within(horizons["next_purchase"], "amount", "count")
    ltv = within(horizons["ltv"], "amount", "sum")
    trailing = observed["trailing_revenue_after"].reindex(x.index, fill_value=0) + within(
        horizons["upgrade"], "amount", "sum"
    )
    before = spend_tier(x["revenue_365d"].to_numpy(), edges)
    return pd.DataFrame(
        {
            "churn": (churn_orders.to_numpy() == 0).astype(int),
            "next_purchase": (next_orders.to_numpy() > 0).astype(int),
            "ltv": ltv.to_numpy(float),
            "upgrade": (spend_tier(trailing.to_numpy(), edges) > before).astype(int),
        },
        index=x.index,
    )


def evaluate(
    conn: psycopg2.extensions.connection,
    orders: pd.DataFrame,
    as_of: datetime,
    horizons: dict[str, int],
) -> dict[str, float]:
    """Train as of ``as_of``, predict, and compare with ``orders`` (the truth after it)."""
    run = train_all(conn, horizons, as_of)
    x, btyd, _ = scoring_features(conn, as_of, run.models["churn"].baseline.horizons_days, {})
    observed = read_labels(conn, as_of, horizons)
    edges = run.models["upgrade"].baseline.tier_edges
    truth = truth_outcomes(x, observed, orders, as_of, horizons, edges)
    customer = (x["orders"] > 0).to_numpy()
    figures: dict[str, float] = {
        "profiles": len(x),
        "customers": int(customer.sum()),
        "holdout_orders": len(orders[orders["at"] >= as_of]),
    }
    for kind in PREDICTION_TYPES:
        model = run.models[kind]
        predicted = predict_values(model, x, btyd)
        baseline, _ = model.baseline.predict(kind, x, btyd)
        actual = truth[kind].to_numpy(float)
        mask = customer if kind == "churn" else np.ones(len(x), bool)
        measure = classification_metrics if kind in PROBABILITIES else regression_metrics
        keys = ("auc", "brier", "ece") if kind in PROBABILITIES else ("mae", "gini", "total_predicted", "total_actual")
        ok = np.isfinite(predicted) & np.isfinite(baseline)
        for prefix, values in (("", predicted), ("baseline_", baseline)):
            got = measure(values[mask & ok], actual[mask & ok])
            figures.update({f"{prefix}{kind}_{k}": round(got[k], 4) for k in keys})
        figures[f"{kind}_method"] = model.method
        if kind == "next_purchase" and (~customer & ok).sum() and len(np.unique(actual[~customer & ok])) == 2:
            # a prospect's next purchase is its conversion
            for prefix, values in (("", predicted), ("baseline_", baseline)):
                got = measure(values[~customer & ok], actual[~customer & ok])
                figures.update({f"{prefix}conversion_{k}": round(got[k], 4) for k in keys})
        if kind == "ltv":
            got = regression_metrics(predicted[customer & ok], actual[customer & ok])
            base = regression_metrics(baseline[customer & ok], actual[customer & ok])
            figures.update(customers_ltv_mae=round(got["mae"], 4), baseline_customers_ltv_mae=round(base["mae"], 4))
    return figures


def headline(figures: dict[str, object]) -> dict[str, object]:
    """The figures with the issue's six last, in its order."""
    last = ("churn_auc", "churn_brier", "churn_ece", "ltv_mae", "baseline_churn_auc", "baseline_ltv_mae")
    rest = {k: v for k, v in figures.items() if k not in last}
    return {**rest, **{k: figures[k] for k in last}}


def _profile_of(conn: psycopg2.extensions.connection, identifiers: pd.DataFrame) -> pd.DataFrame:
    """identifier_type, identifier_value, person_id -> the person's profile (most orders, then
    most identifiers), via the identity map."""
    mapped = copy_out(
        conn, "SELECT identifier_type, identifier_value, profile_id::text AS profile_id FROM identity.identity_map"
    )
    joined = identifiers.merge(mapped, on=["identifier_type", "identifier_value"])
    orders = copy_out(
        conn,
        "SELECT profile_id::text AS profile_id, count(*) AS orders FROM marts.audience_events "
        "WHERE event_type = 'purchase' GROUP BY 1",
    ).astype({"orders": int})
    per = joined.groupby(["person_id", "profile_id"]).size().rename("identifiers").reset_index()
    per = per.merge(orders, on="profile_id", how="left").fillna({"orders": 0})
    per = per.sort_values(["person_id", "orders", "identifiers"], ascending=[True, False, False])
    return per.drop_duplicates("person_id")[["person_id", "profile_id"]]


def evaluate_sample(sample: Path | None = None) -> dict[str, object]:
    settings = load_settings()
    truth = (sample or settings.sample_dir) / "truth"
    if not (truth / "holdout_orders.csv").exists():
        raise ConfigError(f"no ground truth at {truth}: run `audience demo` (or pass --sample <folder>)")
    manifest = json.loads((truth / "manifest.json").read_text())
    as_of = datetime.fromisoformat(manifest["window"]["observed_until"].replace("Z", "+00:00"))
    holdout_days = int(manifest["parameters"]["holdout_days"])
    horizons = dict(settings.horizons_days)
    if holdout_days < max(horizons.values()):
        raise ConfigError(f"the sample's holdout has {holdout_days} days; the horizons need {max(horizons.values())}")
    identifiers = pd.read_csv(truth / "identifiers.csv", dtype=str, keep_default_na=False)
    holdout = pd.read_csv(truth / "holdout_orders.csv", dtype={"person_id": str})
    with connection(resolve_warehouse(settings).url) as conn:
        owners = _profile_of(conn, identifiers)
        orders = holdout.merge(owners, on="person_id")
        orders = pd.DataFrame(
            {
                "profile_id": orders["profile_id"],
                "at": pd.to_datetime(orders["order_at"], utc=True),
                "amount": orders["amount"],
            }
        )
        figures = evaluate(conn, orders, as_of, horizons)
    figures["holdout_orders_unmapped"] = len(holdout) - len(orders)
    return headline(figures)


def evaluate_cdnow() -> dict[str, object]:
    from audience_dagster.bench.database import bench_database_url, drop_bench_database
    from audience_dagster.bench.identity import DOWNSTREAM_MODELS, dbt_run
    from audience_dagster.identity.identity_map import resolve_warehouse_identities
    from audience_dagster.ingest.historical_orders import load_orders_csv
    from audience_dagster.predictions.cdnow import (
        CALIBRATION_END,
        OBSERVATION_END,
        cdnow_transactions,
        write_cdnow_orders_csv,
    )
    from audience_dagster.warehouse.connection import bootstrap

    url = bench_database_url(CDNOW_DB)
    bootstrap(url)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cdnow_calibration.csv"
        written = write_cdnow_orders_csv(path, until=CALIBRATION_END)
        with connection(url) as conn:
            load = load_orders_csv(conn, path)
    print(f"[cdnow] {written} calibration orders written, {load.inserted} imported", file=sys.stderr)
    dbt_run(url, "fqn:*", exclude=DOWNSTREAM_MODELS)
    with connection(url) as conn:
        resolve_warehouse_identities(conn)
    dbt_run(url, DOWNSTREAM_MODELS)
    as_of = datetime.fromisoformat(CALIBRATION_END).replace(tzinfo=UTC) + timedelta(days=1)
    holdout_days = (datetime.fromisoformat(OBSERVATION_END).replace(tzinfo=UTC) + timedelta(days=1) - as_of).days
    horizons = {"churn": 90, "next_purchase": 30, "ltv": holdout_days, "upgrade": 90}
    transactions = cdnow_transactions("sample")
    holdout = transactions[transactions["date"] >= as_of.replace(tzinfo=None)]
    with connection(url) as conn:
        mapped = copy_out(
            conn,
            "SELECT identifier_value, profile_id::text AS profile_id FROM identity.identity_map "
            "WHERE identifier_type = 'shopify_customer_id'",
        )
        owners = dict(zip(mapped["identifier_value"], mapped["profile_id"], strict=True))
        profile = ("cdnow-" + holdout["customer_id"].astype(str)).map(owners)
        orders = pd.DataFrame(
            {
                "profile_id": profile,
                "at": pd.to_datetime(holdout["date"]).dt.tz_localize(UTC),
                "amount": holdout["amount"],
            }
        ).dropna(subset=["profile_id"])
        figures = evaluate(conn, orders, as_of, horizons)
    figures["ltv_horizon_days"] = holdout_days
    drop_bench_database(url, CDNOW_DB)
    return headline(figures)
