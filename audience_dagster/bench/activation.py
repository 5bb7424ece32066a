"""``audience bench activation``: recommendations, next best actions and price offers for N
synthetic profiles (default 1M) in a scratch database.

Profiles come from the scores bench (:func:`~audience_dagster.bench.scores.synthetic_profiles`:
the spec's columns) with consent, WTP and engagement drawn at random; events have the sample's
item structure: each profile has an interest category and a price level and views (≈8), adds to
cart and buys products of that category near that level (a fifth at random), and reads articles
of it; purchases carry a Shopify-like ``products`` array and ``total_discounts``. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from audience_dagster.activation.marts import build_next_best_actions, build_price_offers
from audience_dagster.activation.pricing import load_policy
from audience_dagster.activation.recommendations import build_recommendations
from audience_dagster.bench.database import bench_database_url, drop_bench_database
from audience_dagster.bench.scores import AS_OF, SPEC_TABLES, synthetic_profiles
from audience_dagster.config import load_settings
from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.frames import copy_in

BENCH_ACTIVATION_DB = "audience_bench_activation"
CATEGORIES, PRODUCTS_PER_CATEGORY, ARTICLES_PER_CATEGORY = 10, 300, 50


def synthetic_events(n: int, rng: np.random.Generator, ids: np.ndarray) -> pd.DataFrame:
    """Product views/adds/purchases and article reads with category and price structure."""
    category = rng.integers(0, CATEGORIES, n)
    level = rng.random(n)
    per = rng.poisson(8, n) + rng.poisson(1.5, n) * (rng.random(n) < 0.4)
    owner = np.repeat(np.arange(n), per)
    m = owner.size
    near = np.clip(
        (level[owner] * PRODUCTS_PER_CATEGORY + rng.normal(0, 15, m)).astype(int), 0, PRODUCTS_PER_CATEGORY - 1
    )
    product = np.where(
        rng.random(m) < 0.8,
        category[owner] * PRODUCTS_PER_CATEGORY + near,
        rng.integers(0, CATEGORIES * PRODUCTS_PER_CATEGORY, m),
    )
    kind = rng.choice(np.array(["product_viewed", "product_added", "purchase"]), m, p=[0.75, 0.15, 0.10])
    discount = np.where(rng.random(m) < 0.3, "4.50", "0.00")
    properties = np.where(
        kind == "purchase",
        '{"products":[{"product_id":"' + product.astype(str) + '"}],"total_discounts":"' + discount + '"}',
        '{"product_id":"' + product.astype(str) + '"}',
    )
    readers = np.repeat(np.arange(n), rng.poisson(2, n))
    article = category[readers] * ARTICLES_PER_CATEGORY + rng.integers(0, ARTICLES_PER_CATEGORY, readers.size)
    all_owners = np.concatenate([owner, readers])
    return pd.DataFrame(
        {
            "profile_id": ids[all_owners],
            "event_type": np.concatenate([kind, np.full(readers.size, "article_read")]),
            "properties": np.concatenate([properties, '{"content_id":"a' + article.astype(str) + '"}']),
            # ISO text up front: COPY reads it as is (pandas' per-row date formatting is slow)
            "occurred_at": np.datetime_as_string(
                np.datetime64(AS_OF.replace(tzinfo=None), "s")
                - (rng.exponential(60, all_owners.size) * 86_400).astype("timedelta64[s]"),
                unit="s",
            ).astype(object)
            + "Z",
        }
    )


def load_bench(url: str, profiles: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    frame, _ = synthetic_profiles(profiles, rng)
    frame["gdpr_consent"] = rng.random(profiles) < 0.8
    frame["do_not_track"] = rng.random(profiles) < 0.03
    frame["wtp_score"] = rng.integers(0, 101, profiles)
    frame["engagement_score"] = rng.integers(0, 101, profiles)
    events = synthetic_events(profiles, rng, frame["id"].to_numpy())
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(SPEC_TABLES)
        cur.execute("ALTER TABLE marts.audience_events ADD COLUMN properties jsonb, ADD COLUMN content_id uuid")
        cur.execute("CREATE VIEW marts.audience_profiles AS SELECT * FROM marts.audience_profile_base")
        copy_in(cur, "marts.audience_profile_base", frame)
        for start in range(0, len(events), 2_000_000):
            copy_in(cur, "marts.audience_events", events.iloc[start : start + 2_000_000])
        cur.execute("ANALYZE marts.audience_profile_base; ANALYZE marts.audience_events")
    return len(events)


def bench_activation(profiles: int = 1_000_000, seed: int = 7, keep: bool = False) -> dict[str, object]:
    url = bench_database_url(BENCH_ACTIVATION_DB)
    bootstrap(url)
    started = time.perf_counter()
    events = load_bench(url, profiles, seed)
    figures: dict[str, object] = {"profiles": profiles, "events": events, "load_seconds": time.perf_counter() - started}
    print(f"[bench] {profiles:,} profiles and {events:,} events loaded", file=sys.stderr)
    settings = load_settings()
    with connection(url) as conn:
        started = time.perf_counter()
        recs = build_recommendations(conn, AS_OF, settings.activation.recommendations)
        figures["recommendations_seconds"] = time.perf_counter() - started
        figures["recommendation_rows"] = recs["rows"]
        figures["product_from_history_share"] = recs.get("product_from_history_share", 0)
        print(f"[bench] recommendations: {recs}", file=sys.stderr)
        started = time.perf_counter()
        actions = build_next_best_actions(conn, AS_OF)
        figures["next_best_actions_seconds"] = time.perf_counter() - started
        print(f"[bench] next best actions: {actions}", file=sys.stderr)
        started = time.perf_counter()
        offers = build_price_offers(conn, load_policy(settings.activation.pricing_policy), AS_OF)
        figures["price_offers_seconds"] = time.perf_counter() - started
        print(f"[bench] offers: {offers}", file=sys.stderr)
    figures["activation_seconds"] = sum(
        figures[k] for k in ("recommendations_seconds", "next_best_actions_seconds", "price_offers_seconds")
    )
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    drop_bench_database(url, BENCH_ACTIVATION_DB, keep)
    return figures
