"""``audience bench scores``: every score for N profiles (default 1M), set-based, beside the spec's
row-at-a-time approach on the same data.

A scratch database (``audience_bench_scores``) gets synthetic ``marts.audience_profile_base``
(the spec's profile columns) and ``marts.audience_events`` shaped like the generator's sample
(about 20 events per profile over its life; about a quarter of the profiles active in the last
30 days), generated with numpy and loaded with COPY. Then:

* **set-based**: the scores asset's path — one statement compiled from the rules computes every
  score in PostgreSQL, and ``profile_scores`` is replaced (TRUNCATE + INSERT, one transaction);
* **row-at-a-time** (the spec's TypeScript, translated): per profile, select the profile and its
  recent events, compute engagement, UPDATE; select it again with the rules, compute WTP,
  UPDATE — timed on a sample of profiles and extrapolated to N.

Ends with ``speedup=<row-at-a-time seconds / set-based seconds>``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from audience_dagster.bench.database import bench_database_url, drop_bench_database
from audience_dagster.identity.profile_ids import new_uuids
from audience_dagster.scoring.parameters import DEPTH_POINTS
from audience_dagster.scoring.warehouse import ensure_rules_table, run_scores
from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.frames import copy_in

BENCH_SCORES_DB = "audience_bench_scores"
AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")
SPEC_TABLES = """
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE marts.audience_profile_base (
    id uuid PRIMARY KEY, email text UNIQUE, phone text, external_ids jsonb DEFAULT '{}',
    first_name text, last_name text, display_name text, avatar_url text,
    city text, state text, country text, timezone text,
    first_seen_at timestamptz, last_seen_at timestamptz,
    total_sessions integer DEFAULT 0, total_pageviews integer DEFAULT 0, total_events integer DEFAULT 0,
    articles_read integer DEFAULT 0, videos_watched integer DEFAULT 0, downloads integer DEFAULT 0,
    email_subscribed boolean DEFAULT false, email_subscription_date timestamptz,
    emails_received integer DEFAULT 0, emails_opened integer DEFAULT 0, emails_clicked integer DEFAULT 0,
    total_orders integer DEFAULT 0, total_revenue numeric(10,2) DEFAULT 0, average_order_value numeric(10,2),
    last_order_at timestamptz,
    interests text[], preferred_verticals text[], preferred_content_types text[], preferred_channels text[],
    engagement_score integer DEFAULT 0, wtp_score integer DEFAULT 50, lead_score integer DEFAULT 0,
    health_score integer DEFAULT 50, lifecycle_stage text DEFAULT 'anonymous',
    acquisition_source text, acquisition_campaign text, acquisition_date timestamptz,
    rfm_recency integer, rfm_frequency integer, rfm_monetary integer, rfm_segment text,
    predicted_ltv numeric(10,2), churn_risk numeric, next_purchase_probability numeric,
    gdpr_consent boolean DEFAULT false, gdpr_consent_date timestamptz, do_not_track boolean DEFAULT false,
    created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now()
);
CREATE INDEX idx_audience_profiles_last_seen ON marts.audience_profile_base(last_seen_at DESC);
CREATE TABLE marts.audience_events (
    profile_id uuid, event_type text NOT NULL, occurred_at timestamptz NOT NULL
);
"""
EVENT_TYPES = ("page_view", "product_viewed", "product_added", "checkout_started", *DEPTH_POINTS, "email_open")


def synthetic_profiles(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = new_uuids(n, rng)
    orders = np.where(rng.random(n) < 0.3, rng.geometric(0.5, n), 0)
    aov = np.round(rng.lognormal(4.0, 0.6, n), 2)
    last_seen = AS_OF - pd.to_timedelta(rng.exponential(90, n), unit="D")
    last_order = np.where(orders > 0, (last_seen - pd.to_timedelta(rng.exponential(60, n), unit="D")), pd.NaT)
    interests = rng.choice(["", "premium", "discount", "premium\x1fshoes", "discount\x1fbags", "shoes"], n)
    profiles = pd.DataFrame(
        {
            "id": ids,
            "email": np.where(rng.random(n) < 0.6, pd.Series(ids).str[:13] + "@bench.example", None),
            "last_seen_at": last_seen,
            "first_seen_at": last_seen - pd.to_timedelta(rng.exponential(200, n), unit="D"),
            "total_sessions": rng.integers(1, 30, n),
            "total_orders": orders,
            "total_revenue": np.round(orders * aov, 2),
            "average_order_value": np.where(orders > 0, aov, np.nan),
            "last_order_at": last_order,
            "emails_clicked": rng.poisson(2, n),
            "email_subscribed": rng.random(n) < 0.5,
            "interests": ["{" + v.replace("\x1f", ",") + "}" for v in interests],
        }
    )
    # events shaped like the generator's sample (about 20 per profile over the profile's life, a
    # quarter of the profiles active in the last 30 days, ~8% of events there)
    per = rng.poisson(20, n)
    owner = np.repeat(np.arange(n), per)
    seen = pd.DatetimeIndex(profiles["last_seen_at"])
    life = (seen - pd.DatetimeIndex(profiles["first_seen_at"])).to_numpy()[owner]
    events = pd.DataFrame(
        {
            "profile_id": ids[owner],
            "event_type": rng.choice(EVENT_TYPES, len(owner)),
            "occurred_at": seen[owner] - pd.to_timedelta(rng.random(len(owner)) * life),
        }
    )
    return profiles, events


def set_based(url: str) -> dict[str, float]:
    """The scores asset's path: one compiled statement, profile_scores replaced."""
    with connection(url) as conn:
        figures = run_scores(conn, AS_OF)
    return {k: float(v) for k, v in figures.items() if k.endswith("seconds")}


def _spec_rule_holds(value: object, operator: str, target: object) -> bool:
    """The spec's evaluateWTPRule for one profile, in plain Python."""
    if operator == "equals":
        return value == target
    if operator == "exists":
        return value is not None
    if value is None:
        return False
    if operator == "greater_than":
        return value > target
    if operator == "less_than":
        return value < target
    if operator == "contains":
        return isinstance(value, list) and target in value
    if operator == "range":
        return target["min"] <= value <= target["max"]
    return False


def row_at_a_time(url: str, sample: int, rng: np.random.Generator) -> float:
    """Seconds per profile for the spec's calculateEngagementScore + calculateWTPScore."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id::text FROM marts.audience_profile_base ORDER BY random() LIMIT %s", (sample,))
        ids = [row[0] for row in cur.fetchall()]
        columns = None
        started = time.perf_counter()
        for profile_id in ids:
            # calculateEngagementScore
            cur.execute("SELECT * FROM marts.audience_profile_base WHERE id = %s", (profile_id,))
            row = cur.fetchone()
            columns = columns or [d.name for d in cur.description]
            profile = dict(zip(columns, row, strict=True))
            cur.execute(
                "SELECT event_type, occurred_at FROM marts.audience_events WHERE profile_id = %s AND occurred_at >= %s",
                (profile_id, (AS_OF - pd.Timedelta(days=30)).to_pydatetime()),
            )
            recent = cur.fetchall()
            days = (AS_OF - pd.Timestamp(profile["last_seen_at"])).days
            score = 30 if days <= 7 else 20 if days <= 14 else 10 if days <= 30 else 0
            score += min(30, len({t.date() for _, t in recent}) * 3)
            seen = {e for e, _ in recent}
            score = min(100, score + sum(p for e, p in DEPTH_POINTS.items() if e in seen))
            cur.execute(
                "UPDATE marts.audience_profile_base SET engagement_score = %s, updated_at = now() WHERE id = %s",
                (score, profile_id),
            )
            # calculateWTPScore
            cur.execute("SELECT * FROM marts.audience_profile_base WHERE id = %s", (profile_id,))
            profile = dict(zip(columns, cur.fetchone(), strict=True))
            cur.execute("SELECT * FROM marts.wtp_scoring_rules WHERE status = 'active' ORDER BY priority")
            rules = cur.fetchall()
            wtp = 50
            for rule in rules:
                field, operator, value, adjustment, cap = rule[4], rule[5], rule[6], rule[7], rule[8]
                if _spec_rule_holds(profile.get(field), operator, value):
                    wtp += adjustment if cap is None else int(np.sign(adjustment)) * min(abs(adjustment), cap)
            cur.execute(
                "UPDATE marts.audience_profile_base SET wtp_score = %s, updated_at = now() WHERE id = %s",
                (max(0, min(100, wtp)), profile_id),
            )
            conn.commit()
        return (time.perf_counter() - started) / len(ids)


def run_scores_bench(profiles: int, sample: int, keep: bool, seed: int = 7) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    url = bench_database_url(BENCH_SCORES_DB)
    bootstrap(url)
    started = time.perf_counter()
    frame, events = synthetic_profiles(profiles, rng)
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(SPEC_TABLES)
        copy_in(cur, "marts.audience_profile_base", frame)
        copy_in(cur, "marts.audience_events", events)
        cur.execute("CREATE INDEX ON marts.audience_events (profile_id, occurred_at)")
        cur.execute("ANALYZE marts.audience_profile_base; ANALYZE marts.audience_events")
        conn.commit()
        ensure_rules_table(conn)
    figures: dict[str, object] = {
        "profiles": profiles,
        "events": len(events),
        "load_seconds": time.perf_counter() - started,
    }
    print(f"[bench] {profiles:,} profiles and {len(events):,} events loaded", file=sys.stderr)
    fast = set_based(url)
    figures.update({f"set_based_{k}": v for k, v in fast.items()})
    print(f"[bench] set-based: {fast}", file=sys.stderr)
    per_profile = row_at_a_time(url, sample, rng)
    figures.update(
        row_sample=sample,
        row_ms_per_profile=per_profile * 1000,
        row_extrapolated_seconds=per_profile * profiles,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    drop_bench_database(url, BENCH_SCORES_DB, keep)
    figures["speedup"] = per_profile * profiles / fast["seconds"]
    return figures
