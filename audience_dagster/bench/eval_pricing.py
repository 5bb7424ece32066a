"""``audience eval pricing``: how ``marts.price_offers`` lines up with the generator's latent
price sensitivity (``truth/people.csv``), per person mapped to their profile as the predictions
evaluation does (the profile with most orders, then most identifiers).

Figures: the share of discounts that go to the most price-sensitive quintile of people (random
targeting: 0.2) and to the least sensitive quintile, the lift over random, the mean latent
sensitivity of people offered a discount vs. everyone, and the Spearman correlation of the
estimated with the latent sensitivity among buyers (the estimate only moves with orders).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audience_dagster.bench.eval_predictions import _profile_of
from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.warehouse.connection import connection, resolve_warehouse
from audience_dagster.warehouse.frames import copy_out

OFFERS = """
SELECT o.profile_id::text AS profile_id, o.offer, o.discount_pct, o.price_sensitivity,
       coalesce(p.total_orders, 0) AS orders
FROM marts.price_offers AS o JOIN marts.audience_profiles AS p ON p.id = o.profile_id
"""


def evaluate_pricing(sample: Path | None = None) -> dict[str, object]:
    truth = (sample or load_settings().sample_dir) / "truth"
    if not (truth / "people.csv").exists():
        raise ConfigError(f"no ground truth at {truth}: run `audience demo` (or pass --sample <folder>)")
    people = pd.read_csv(truth / "people.csv", usecols=["person_id", "price_sensitivity"], dtype={"person_id": str})
    people = people.rename(columns={"price_sensitivity": "latent"})
    identifiers = pd.read_csv(truth / "identifiers.csv", dtype=str, keep_default_na=False)
    with connection(resolve_warehouse(load_settings()).url) as conn:
        owners = _profile_of(conn, identifiers)
        offers = copy_out(conn, OFFERS)
    if offers.empty:
        raise ConfigError("marts.price_offers is empty: materialise activation/price_offers (audience demo) first")
    offers = offers.astype({"discount_pct": float, "price_sensitivity": float, "orders": int})
    frame = people.merge(owners, on="person_id").merge(offers, on="profile_id")
    quintile = pd.qcut(frame["latent"].rank(method="first"), 5, labels=False)
    discount = frame["offer"] == "discount"
    given = max(int(discount.sum()), 1)
    top = float((discount & (quintile == 4)).sum() / given)
    bottom = float((discount & (quintile == 0)).sum() / given)
    buyers = frame[frame["orders"] > 0]
    return {
        "people_mapped": len(frame),
        "discounts": int(discount.sum()),
        "discount_share_bottom_quintile": round(bottom, 4),
        "mean_sensitivity_discounted": round(float(frame.loc[discount, "latent"].mean()), 4),
        "mean_sensitivity_all": round(float(frame["latent"].mean()), 4),
        "spearman_estimate_vs_latent_buyers": round(
            float(buyers["price_sensitivity"].corr(buyers["latent"], method="spearman")), 4
        ),
        "discount_share_top_quintile": round(top, 4),
        "random_share": 0.2,
        "lift_over_random": round(top / 0.2, 3),
    }
