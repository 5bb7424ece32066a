"""WTP-based offers: a policy file of tiers and guardrails compiled to one SQL statement
(pure: policy → (sql, params); values are bound parameters, fields come from a whitelist).

Price sensitivity is not observed; it is estimated per profile from discount use, shrunk toward
the population: ``(discounted + k·rate + w·sale) / (orders + k + w·sale)`` over orders whose
discount is known (Shopify's ``total_discounts``; store CSV orders carry none), with ``rate`` the
share of those orders that carried a discount, ``k = sensitivity_prior_orders``, and ``sale`` 1
when the profile's interests include ``discount`` (browses the sale collection), counted as
``w = discount_interest_orders`` discounted orders. A profile with no orders and no sale browsing
gets ``rate``. A profile's tier is the first whose WTP and sensitivity bands hold it. Guardrails
then apply: a discount is capped at ``max_discount_pct``; someone who bought at full price in the
last ``full_price_lookback_days`` gets free shipping instead of a discount; without consent (or
with do-not-track) everyone gets ``full_price``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from audience_dagster.errors import ActivationError

OFFERS = ("full_price", "premium_bundle", "discount", "free_shipping")
BANDS = {
    "wtp_min": ("wtp", ">="),
    "wtp_max": ("wtp", "<"),
    "sensitivity_min": ("sens", ">="),
    "sensitivity_max": ("sens", "<"),
}


@dataclass(frozen=True)
class Tier:
    name: str
    offer: str
    discount_pct: float = 0.0
    bands: tuple[tuple[str, float], ...] = ()  # (band key, bound)


@dataclass(frozen=True)
class PricingPolicy:
    tiers: tuple[Tier, ...]
    max_discount_pct: float
    full_price_lookback_days: int
    require_consent: bool
    valid_days: int
    sensitivity_prior_orders: float
    discount_interest_orders: float = 2.0


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ActivationError(f"{where}: give a number between {low} and {high}, got {value!r}")
    return float(value)


def policy_from_mapping(data: Any, where: str) -> PricingPolicy:
    """A checked policy; :class:`ActivationError` naming the file and tier."""
    if not isinstance(data, dict) or not isinstance(data.get("tiers"), list) or not data["tiers"]:
        raise ActivationError(f"{where}: a pricing policy needs guardrails and a non-empty list of tiers")
    guard = data.get("guardrails") or {}
    max_discount = _number(guard.get("max_discount_pct", 20), f"{where}: max_discount_pct", 0, 90)
    tiers = []
    for i, raw in enumerate(data["tiers"]):
        at = f"{where}: tier {i + 1} ({raw.get('name', '?') if isinstance(raw, dict) else raw!r})"
        if not isinstance(raw, dict):
            raise ActivationError(f"{at}: a tier is a mapping")
        unknown = sorted(set(raw) - {"name", "offer", "discount_pct", *BANDS})
        if unknown:
            raise ActivationError(f"{at}: unknown keys {unknown}; use name, offer, discount_pct, {', '.join(BANDS)}")
        if raw.get("offer") not in OFFERS:
            raise ActivationError(f"{at}: offer must be one of {', '.join(OFFERS)}")
        pct = _number(raw.get("discount_pct", 0), f"{at} discount_pct", 0, 100)
        if (raw["offer"] == "discount") != (pct > 0):
            raise ActivationError(f"{at}: a discount offer needs discount_pct > 0, and only it may have one")
        if pct > max_discount:
            raise ActivationError(
                f"{at}: discount_pct {pct:g} is above the guardrail max_discount_pct {max_discount:g}"
            )
        bands = tuple(
            (key, _number(raw[key], f"{at} {key}", 0, 100 if key.startswith("wtp") else 1))
            for key in BANDS
            if key in raw
        )
        tiers.append(Tier(str(raw.get("name") or f"tier-{i + 1}"), raw["offer"], pct, bands))
    return PricingPolicy(
        tiers=tuple(tiers),
        max_discount_pct=max_discount,
        full_price_lookback_days=int(_number(guard.get("full_price_lookback_days", 30), f"{where}: lookback", 0, 3650)),
        require_consent=bool(guard.get("require_consent", True)),
        valid_days=int(_number(data.get("valid_days", 14), f"{where}: valid_days", 1, 365)),
        sensitivity_prior_orders=_number(data.get("sensitivity_prior_orders", 3), f"{where}: prior", 0, 1000),
        discount_interest_orders=_number(data.get("discount_interest_orders", 2), f"{where}: interest", 0, 1000),
    )


def load_policy(path: Path) -> PricingPolicy:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ActivationError(f"{path}: cannot read the pricing policy: {exc}") from exc
    return policy_from_mapping(data, str(path))


SIGNALS = """
WITH orders AS (
    SELECT e.profile_id, e.occurred_at,
           coalesce(nullif(e.properties ->> 'total_discounts', '')::numeric, 0) > 0 AS discounted
    FROM marts.audience_events AS e
    WHERE e.event_type = 'purchase' AND e.profile_id IS NOT NULL AND e.occurred_at < %(as_of)s
      AND e.properties ? 'total_discounts'
),
rate AS (SELECT coalesce(avg(discounted::int), 0) AS rate FROM orders),
per_profile AS (
    SELECT profile_id, count(*) AS orders, count(*) FILTER (WHERE discounted) AS discounted,
           bool_or(NOT discounted AND occurred_at >= %(as_of)s - make_interval(days => %(lookback)s))
               AS full_price_recent
    FROM orders GROUP BY profile_id
),
signals AS (
    SELECT p.id AS profile_id, coalesce(p.wtp_score, 0) AS wtp,
           (coalesce(o.discounted, 0) + %(prior)s * r.rate + %(interest)s * d.browses_sales)
               / (coalesce(o.orders, 0) + %(prior)s + %(interest)s * d.browses_sales) AS sens,
           coalesce(o.full_price_recent, false) AS full_price_recent,
           (p.gdpr_consent IS TRUE AND p.do_not_track IS NOT TRUE) AS consented
    FROM marts.audience_profiles AS p CROSS JOIN rate AS r LEFT JOIN per_profile AS o ON o.profile_id = p.id
    CROSS JOIN LATERAL (SELECT ('discount' = ANY(coalesce(p.interests, '{}')))::int AS browses_sales) AS d
)"""


def compile_offers(policy: PricingPolicy, as_of: datetime) -> tuple[str, dict[str, object]]:
    """The statement yielding profile_id, offer, discount_pct, reason, wtp_score,
    price_sensitivity, valid_until, computed_at — and its parameters."""
    params: dict[str, object] = {
        "as_of": as_of,
        "lookback": policy.full_price_lookback_days,
        "prior": max(policy.sensitivity_prior_orders, 1e-9),
        "interest": policy.discount_interest_orders,
        "valid_days": policy.valid_days,
        "max_discount": policy.max_discount_pct,
        "require_consent": policy.require_consent,
    }
    whens, tiers = [], []
    for i, tier in enumerate(policy.tiers):
        conditions = []
        for j, (key, bound) in enumerate(tier.bands):
            column, operator = BANDS[key]
            params[f"t{i}_{j}"] = bound
            conditions.append(f"{column} {operator} %(t{i}_{j})s")
        params.update({f"t{i}_name": tier.name, f"t{i}_offer": tier.offer, f"t{i}_pct": tier.discount_pct})
        whens.append(f"WHEN {' AND '.join(conditions) or 'true'} THEN {i}")
        tiers.append(f"({i}, %(t{i}_name)s::text, %(t{i}_offer)s::text, %(t{i}_pct)s::numeric)")
    sql = f"""{SIGNALS},
tiers (tier_no, tier, tier_offer, tier_pct) AS (VALUES {", ".join(tiers)}),
tiered AS (
    SELECT s.*, coalesce(t.tier, 'none') AS tier, coalesce(t.tier_offer, 'full_price') AS tier_offer,
           coalesce(t.tier_pct, 0) AS tier_pct
    FROM signals AS s LEFT JOIN tiers AS t ON t.tier_no = CASE {" ".join(whens)} ELSE -1 END
)
SELECT profile_id,
       CASE WHEN %(require_consent)s AND NOT consented THEN 'full_price'
            WHEN tier_offer = 'discount' AND full_price_recent THEN 'free_shipping'
            ELSE tier_offer END AS offer,
       CASE WHEN (%(require_consent)s AND NOT consented) OR full_price_recent OR tier_offer <> 'discount' THEN 0
            ELSE least(tier_pct, %(max_discount)s) END AS discount_pct,
       CASE WHEN %(require_consent)s AND NOT consented THEN 'no consent or do-not-track: list price'
            WHEN tier_offer = 'discount' AND full_price_recent
                THEN 'tier ' || tier || ', but bought at full price within ' || %(lookback)s || ' days: no discount'
            ELSE 'tier ' || tier || ' (wtp ' || round(wtp) || ', sensitivity ' || round(sens, 2) || ')' END AS reason,
       wtp AS wtp_score, round(sens, 4) AS price_sensitivity,
       %(as_of)s::timestamptz + make_interval(days => %(valid_days)s) AS valid_until,
       %(as_of)s::timestamptz AS computed_at
FROM tiered"""
    return sql, params
