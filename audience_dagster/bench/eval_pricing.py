"""``audience eval pricing``: how the pricing policy's offers line up with the generator's latent
price sensitivity (``truth/people.csv``), per person mapped to their profile as the predictions
evaluation does (the profile with most orders, then most identifiers). The offers are the
policy's statement as of the sample's end with the consent guardrail off (few sample profiles
consent, and consent is independent of sensitivity): the tiers' targeting is what is measured.

Figures: the share of discounts that go to the most price-sensitive quintile of people (random
targeting: 0.2) and to the least sensitive quintile, the lift over random, the mean latent
sensitivity of people offered a discount vs. everyone, and the Spearman correlation of the
estimated with the latent sensitivity among buyers (the estimate only moves with orders).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from audience_dagster.activation.pricing import compile_offers, load_policy
from audience_dagster.bench.eval_predictions import _profile_of
from audience_dagster.bench.eval_recommendations import sample_end
from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.warehouse.connection import connection, resolve_warehouse
from audience_dagster.warehouse.frames import copy_out

OFFERS = """
WITH offers AS ({offers})
SELECT o.profile_id::text AS profile_id, o.offer, o.discount_pct, o.price_sensitivity,
       coalesce(p.total_orders, 0) AS orders, (p.gdpr_consent IS TRUE AND p.do_not_track IS NOT TRUE) AS consented
FROM offers AS o JOIN marts.audience_profiles AS p ON p.id = o.profile_id
"""


def evaluate_pricing(sample: Path | None = None) -> dict[str, object]:
    truth = (sample or load_settings().sample_dir) / "truth"
    if not (truth / "people.csv").exists():
        raise ConfigError(f"no ground truth at {truth}: run `audience demo` (or pass --sample <folder>)")
    people = pd.read_csv(truth / "people.csv", usecols=["person_id", "price_sensitivity"], dtype={"person_id": str})
    people = people.rename(columns={"price_sensitivity": "latent"})
    identifiers = pd.read_csv(truth / "identifiers.csv", dtype=str, keep_default_na=False)
    settings = load_settings()
    # the consent guardrail is off here: few sample profiles consent, and consent says nothing
    # about price sensitivity; what is measured is the tiers' targeting
    policy = replace(load_policy(settings.activation.pricing_policy), require_consent=False)
    with connection(resolve_warehouse(settings).url) as conn:
        owners = _profile_of(conn, identifiers)
        sql, params = compile_offers(policy, sample_end(sample))
        offers = copy_out(conn, conn.cursor().mogrify(OFFERS.format(offers=sql), params).decode())
    if offers.empty:
        raise ConfigError("no profiles in marts.audience_profiles: run `audience demo` first")
    offers = offers.astype({"discount_pct": float, "price_sensitivity": float, "orders": int})
    consented = int((offers["consented"] == "t").sum())
    frame = people.merge(owners, on="person_id").merge(offers, on="profile_id")
    quintile = pd.qcut(frame["latent"].rank(method="first"), 5, labels=False)
    discount = frame["offer"] == "discount"
    given = max(int(discount.sum()), 1)
    top = float((discount & (quintile == 4)).sum() / given)
    bottom = float((discount & (quintile == 0)).sum() / given)
    buyers = frame[frame["orders"] > 0]
    return {
        "people_mapped": len(frame),
        "profiles_with_consent": consented,
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
