"""``audience eval recommendations``: the recommender on a time split of the sample.

Everything before ``split`` (the sample's end minus ``--test-days``) trains the model; the
products each profile *bought* in the test window (and had not bought before) are the truth.
Per profile with such a purchase: hit = at least one of them in the top 10; recall = the share
of them in the top 10. The baseline is the 10 most popular products (people who touched them
before the split) minus what the profile bought — what the model falls back to for a cold start.
The model must beat it on hit rate.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from audience_dagster.activation.recommend import popularity_baseline
from audience_dagster.activation.recommendations import LIVE_PROFILES, fit_type, read_interactions
from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.warehouse.connection import connection, resolve_warehouse
from audience_dagster.warehouse.frames import copy_out

TEST_PURCHASES = """
SELECT DISTINCT e.profile_id::text AS profile_id, item ->> 'product_id' AS item_id
FROM marts.audience_events AS e CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(e.properties -> 'products') = 'array' THEN e.properties -> 'products' ELSE '[]' END
) AS item
WHERE e.event_type = 'purchase' AND e.occurred_at >= %(split)s AND e.occurred_at < %(end)s
  AND item ->> 'product_id' IS NOT NULL
"""


def sample_end(sample: Path | None) -> datetime:
    truth = (sample or load_settings().sample_dir) / "truth"
    manifest = truth / "manifest.json"
    if not manifest.exists():
        raise ConfigError(f"no sample manifest at {manifest}: run `audience demo` (or pass --sample <folder>)")
    window = json.loads(manifest.read_text())["window"]
    return datetime.fromisoformat(window["observed_until"].replace("Z", "+00:00"))


def metrics(top: np.ndarray, truth: list[set[int]]) -> tuple[float, float]:
    """(hit rate, mean recall) of top-k lists (rows) against each row's truth set."""
    hits = [len(truth_set & set(row[row >= 0].tolist())) for row, truth_set in zip(top, truth, strict=True)]
    hit_rate = float(np.mean([h > 0 for h in hits]))
    recall = float(np.mean([h / len(t) for h, t in zip(hits, truth, strict=True)]))
    return hit_rate, recall


def evaluate_recommendations(sample: Path | None = None, test_days: int = 30) -> dict[str, object]:
    k = 10
    end = sample_end(sample)
    split = end - timedelta(days=test_days)
    with connection(resolve_warehouse(load_settings()).url) as conn:
        interactions = read_interactions(conn, split)
        profiles = pd.Index(copy_out(conn, LIVE_PROFILES)["profile_id"])
        test = copy_out(conn, conn.cursor().mogrify(TEST_PURCHASES, {"split": split, "end": end}).decode())
    fitted = fit_type(interactions, profiles, "product")
    if fitted is None:
        raise ConfigError("the sample has no product interactions before the split; generate a larger sample")
    test = test[test["profile_id"].isin(profiles) & test["item_id"].isin(fitted.items)]
    test = test.assign(row=profiles.get_indexer(test["profile_id"]), col=fitted.items.get_indexer(test["item_id"]))
    bought_before = fitted.exclude.tocsr()
    test = test[np.asarray(bought_before[test["row"].to_numpy(), test["col"].to_numpy()]).ravel() == 0]
    truth = test.groupby("row")["col"].agg(set)
    rows = truth.index.to_numpy()
    recs = fitted.model.recommend(fitted.history[rows], bought_before[rows], k)
    baseline = popularity_baseline(fitted.model.popularity_, bought_before[rows], k)
    hit, recall = metrics(recs.items, list(truth))
    pop_hit, pop_recall = metrics(baseline, list(truth))
    warm = np.asarray(fitted.history[rows].getnnz(axis=1)) > 0
    return {
        "split": split.date().isoformat(),
        "products": len(fitted.items),
        "train_interactions": int((interactions["item_type"] == "product").sum()),
        "test_profiles": len(rows),
        "test_profiles_with_history": int(warm.sum()),
        "popularity_recall_at_10": round(pop_recall, 4),
        "hit_rate_at_10": round(hit, 4),
        "recall_at_10": round(recall, 4),
        "popularity_hit_rate_at_10": round(pop_hit, 4),
    }
