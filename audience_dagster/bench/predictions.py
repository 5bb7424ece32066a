"""``audience bench predictions``: train and score every prediction type for N profiles (default 1M).

A scratch database (``audience_bench_predictions``, dropped afterwards unless ``--keep``) gets
synthetic ``marts.audience_profile_base`` and ``marts.audience_events`` (the columns the
features read) generated with numpy: profiles first seen over 540 days, 30% of them customers
whose purchases follow a BG/NBD process (Gamma purchase rates, Beta dropout, Gamma spend),
and about 15 site and email events per profile whose intensity rises with the purchase rate.
Then the predictions assets' path, timed per stage: training (features as of two cutoffs,
BTYD fits, four models with candidate selection), scoring (features as of now, BTYD refit,
predictions, confidences, drivers) and the write into ``marts.predictions``.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import UTC

import numpy as np
import pandas as pd

from audience_dagster.bench.database import bench_database_url, drop_bench_database
from audience_dagster.config import DEFAULT_HORIZONS_DAYS
from audience_dagster.identity.profile_ids import new_uuids
from audience_dagster.predictions.pipeline import score_all, train_all
from audience_dagster.predictions.warehouse import write_predictions
from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.frames import copy_in

BENCH_DB = "audience_bench_predictions"
AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")
DAY = pd.Timedelta(days=1)
TABLES = """
CREATE SCHEMA IF NOT EXISTS marts;
DROP TABLE IF EXISTS marts.audience_events;
DROP TABLE IF EXISTS marts.audience_profile_base CASCADE;
CREATE TABLE marts.audience_profile_base (id uuid PRIMARY KEY, first_seen_at timestamptz NOT NULL);
CREATE TABLE marts.audience_events (
    profile_id uuid, event_type text NOT NULL, occurred_at timestamptz NOT NULL,
    session_sequence integer, revenue numeric(10,2), properties jsonb
);
"""
ACTIVITY_TYPES = np.array(
    ["page_view", "page_view", "product_viewed", "product_added", "checkout_started", "article_read"]
    + ["email_delivered", "email_open", "email_click", "social_like"]
)


def synthetic_warehouse(
    n: int, rng: np.random.Generator, history_days: int = 540, customer_share: float = 0.3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(profiles, events) as the features read them, ending at ``AS_OF``; vectorised."""
    ids = new_uuids(n, rng)
    seen = -rng.random(n) * history_days  # days relative to AS_OF
    rate = np.minimum(rng.gamma(0.6, 1 / 40, n), 1 / 3)  # purchases per day while alive
    drop = rng.beta(1.0, 3.0, n)
    spend = rng.gamma(3.0, 25.0, n)
    customer = rng.random(n) < customer_share
    # purchases: the first ~20 days after the first sighting, then BG/NBD until dropout or AS_OF
    clock = seen + rng.exponential(20, n)
    alive = customer & (clock < 0)
    owners, times = [], []
    while alive.any():
        idx = np.flatnonzero(alive)
        owners.append(idx)
        times.append(clock[idx].copy())
        clock[idx] += rng.exponential(1 / rate[idx])
        alive[idx] = (rng.random(len(idx)) >= drop[idx]) & (clock[idx] < 0)
    owner = np.concatenate(owners) if owners else np.array([], dtype=np.int64)
    at = np.concatenate(times) if times else np.array([], dtype=float)
    amount = np.round(spend[owner] * rng.lognormal(0, 0.3, len(owner)), 2)
    discount = rng.random(len(owner)) < 0.2
    purchases = pd.DataFrame(
        {
            "profile_id": ids[owner],
            "event_type": "purchase",
            "occurred_at": AS_OF + pd.to_timedelta(at, unit="D"),
            "session_sequence": None,
            "revenue": amount,
            "properties": np.where(discount, '{"total_discounts": 5.0}', '{"total_discounts": 0}'),
        }
    )
    # activity: more for frequent buyers, over the profile's life
    per = rng.poisson(8 + 400 * rate)
    who = np.repeat(np.arange(n), per)
    activity = pd.DataFrame(
        {
            "profile_id": ids[who],
            "event_type": rng.choice(ACTIVITY_TYPES, len(who)),
            "occurred_at": AS_OF + pd.to_timedelta(rng.random(len(who)) * seen[who], unit="D"),
            "session_sequence": rng.integers(1, 5, len(who)),
            "revenue": np.nan,
            "properties": "{}",
        }
    )
    profiles = pd.DataFrame({"id": ids, "first_seen_at": AS_OF + pd.to_timedelta(seen, unit="D")})
    return profiles, pd.concat([purchases, activity], ignore_index=True)


def load_synthetic(url: str, profiles: pd.DataFrame, events: pd.DataFrame) -> None:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(TABLES)
        copy_in(cur, "marts.audience_profile_base", profiles)
        copy_in(cur, "marts.audience_events", events)
        cur.execute("CREATE INDEX ON marts.audience_events (occurred_at)")
        cur.execute("ANALYZE marts.audience_events")


def run_predictions_bench(profiles: int, keep: bool, seed: int = 7) -> dict[str, object]:
    figures: dict[str, object] = {"profiles": profiles}
    url = bench_database_url(BENCH_DB)
    bootstrap(url)
    started = time.perf_counter()
    people, events = synthetic_warehouse(profiles, np.random.default_rng(seed))
    figures["events"] = len(events)
    figures["purchases"] = int((events["event_type"] == "purchase").sum())
    figures["generate_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    load_synthetic(url, people, events)
    figures["load_seconds"] = time.perf_counter() - started
    del people, events
    print(f"[bench] {figures['events']:,} events for {profiles:,} profiles loaded", file=sys.stderr)

    as_of = AS_OF.to_pydatetime().astimezone(UTC)
    with connection(url) as conn:
        started = time.perf_counter()
        run = train_all(conn, dict(DEFAULT_HORIZONS_DAYS), as_of)
        figures["train_seconds"] = time.perf_counter() - started
        figures.update({k: v for k, v in run.seconds.items()})
        for kind, model in run.models.items():
            figures[f"{kind}_method"] = model.method
            if model.metrics:
                key = "auc" if "auc" in model.metrics["model"] else "mae"
                figures[f"{kind}_holdout_{key}"] = round(model.metrics["model"][key], 4)
                figures[f"{kind}_baseline_{key}"] = round(model.metrics["baseline"][key], 4)
        print(f"[bench] trained in {figures['train_seconds']:.1f}s", file=sys.stderr)
        started = time.perf_counter()
        frame, seconds = score_all(conn, run.models, as_of)
        figures["score_seconds"] = time.perf_counter() - started
        figures.update({f"score_{k}": v for k, v in seconds.items()})
        started = time.perf_counter()
        figures["predictions_written"] = write_predictions(conn, frame)
        figures["write_seconds"] = time.perf_counter() - started
    drop_bench_database(url, BENCH_DB, keep)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["train_and_score_seconds"] = figures["train_seconds"] + figures["score_seconds"] + figures["write_seconds"]
    figures["profiles_per_second"] = profiles / figures["train_and_score_seconds"]
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}


if __name__ == "__main__":  # pragma: no cover
    from audience_dagster.console import key_values

    print(key_values(run_predictions_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000, keep=False)))
