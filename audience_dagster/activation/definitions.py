"""Activation in Dagster: one asset per destination, recommendations, next best actions and
price offers, with their checks.

* ``activation/destination/<slug>``: syncs the destination (YAML → ``activation.destinations``,
  then the planned diff delivered batch by batch, :mod:`~audience_dagster.activation.sync`) after
  its segment's membership changes (eager on ``segments/segment_membership``). Metadata: entered,
  exited, removed (erasures), skipped for consent, sent, failed. Check ``no_dead_letters`` fails
  when the sync dead-lettered a batch. A bad YAML file fails its own asset only;
* ``activation/recommendations`` → ``marts.recommendations`` (check: no bought product is
  recommended); ``activation/next_best_actions``; ``activation/price_offers`` (check: every
  offer within the policy's guardrails).
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import hashlib

import dagster as dg
from dagster import AssetExecutionContext

from audience_dagster.activation.destinations_yaml import DestinationDefinition, load_destinations_each
from audience_dagster.activation.marts import build_next_best_actions, build_price_offers
from audience_dagster.activation.pricing import load_policy
from audience_dagster.activation.recommendations import build_recommendations
from audience_dagster.activation.service import batch_size, build_sender
from audience_dagster.activation.sync import run_sync, sync_definitions
from audience_dagster.clock import RunClock
from audience_dagster.config import Settings
from audience_dagster.errors import ActivationError
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, WarehouseResource

PROFILES_KEY = dg.AssetKey(["marts", "audience_profiles"])
EVENTS_KEY = dg.AssetKey(["marts", "audience_events"])
MEMBERSHIP_KEY = dg.AssetKey(["segments", "segment_membership"])
PREDICTIONS_KEY = dg.AssetKey(["predictions", "profile_predictions"])
RECOMMENDATIONS_KEY = dg.AssetKey(["activation", "recommendations"])
ACTIONS_KEY = dg.AssetKey(["activation", "next_best_actions"])
OFFERS_KEY = dg.AssetKey(["activation", "price_offers"])


def destination_key(slug: str) -> dg.AssetKey:
    return dg.AssetKey(["activation", "destination", slug])


def _destination_asset(settings: Settings, slug: str, definition: DestinationDefinition | None, error: str | None):
    description = (
        f"Sync of destination `{slug}` ({definition.kind}: segment `{definition.segment}`, {definition.status})."
        if definition
        else f"Destination `{slug}`: its YAML file is invalid ({error})."
    )

    @dg.asset(
        key=destination_key(slug),
        deps=[MEMBERSHIP_KEY],
        group_name="activation",
        kinds={definition.kind if definition else "yaml", "postgres"},
        description=description,
        pool=WAREHOUSE_POOL,
        automation_condition=dg.AutomationCondition.eager() if definition and definition.status == "active" else None,
        check_specs=[dg.AssetCheckSpec("no_dead_letters", asset=destination_key(slug))],
    )
    def destination(context: AssetExecutionContext, warehouse: WarehouseResource, clock: RunClock):
        if definition is None:
            raise ActivationError(error or f"destination {slug}: invalid definition")
        if definition.status == "paused":
            with warehouse.connection() as conn:
                sync_definitions(conn, [definition])
            context.log.info(f"{slug} is paused (status: paused in its YAML file): nothing sent")
            yield dg.MaterializeResult(metadata={"dagster/row_count": 0, "paused": True})
            yield dg.AssetCheckResult(check_name="no_dead_letters", passed=True, description="paused")
            return
        sender = build_sender(definition, settings.activation)
        with warehouse.connection() as conn:
            sync_definitions(conn, [definition])
            result = run_sync(conn, definition, sender, clock.now, batch_size(definition, settings.activation))
        if result.dead_letters:
            context.log.error(f"{slug}: {result.dead_letters} batch(es) dead-lettered; see activation.dead_letters")
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.sent,
                "sync_id": result.sync_id,
                "resumed": result.resumed,
                "entered": result.entered,
                "exited": result.exited,
                "removed": result.removed,
                "skipped_no_consent": result.skipped_no_consent,
                "batches": result.batches,
                "sent": result.sent,
                "failed": result.failed,
                "dead_letters": result.dead_letters,
                "seconds": round(result.seconds, 3),
            }
        )
        yield dg.AssetCheckResult(
            check_name="no_dead_letters",
            passed=result.dead_letters == 0,
            description=f"{result.dead_letters} batch(es) of sync {result.sync_id} dead-lettered"
            if result.dead_letters
            else "every batch delivered",
            metadata={"dead_letters": result.dead_letters, "failed_changes": result.failed},
        )

    return destination


# the rows this build wrote (an update between fits writes the changed profiles' lists only).
# Not `e.profile_id = ANY(ARRAY(<the written profiles>))`: tried; with 156k rows written in an
# increment at 200k people its plan expected 50 purchase events (an array of unknown length) and
# the statement was still running after 10 minutes when it was cancelled.
BOUGHT_RECOMMENDED = """
SELECT count(*) FROM marts.recommendations AS r
JOIN marts.audience_events AS e ON e.profile_id = r.profile_id AND e.event_type = 'purchase'
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(e.properties -> 'products') = 'array' THEN e.properties -> 'products' ELSE '[]' END
) AS item
WHERE r.item_type = 'product' AND item ->> 'product_id' = r.item_id AND e.occurred_at < r.computed_at
  AND r.computed_at = %(as_of)s
"""


OFFERS_OUTSIDE_GUARDRAILS = """
SELECT count(*) FROM marts.price_offers AS o LEFT JOIN marts.audience_profiles AS p ON p.id = o.profile_id
WHERE o.discount_pct > %(max_discount)s OR o.discount_pct < 0
   OR (o.offer <> 'discount' AND o.discount_pct <> 0)
   OR (%(require_consent)s AND o.offer <> 'full_price' AND (p.gdpr_consent IS NOT TRUE OR p.do_not_track IS TRUE))
"""


def _policy_version(settings: Settings) -> str:
    return hashlib.sha256(settings.activation.pricing_policy.read_bytes()).hexdigest()[:16]


def _profile_assets(settings: Settings) -> list:
    n = settings.activation.recommendations

    @dg.asset(
        key=RECOMMENDATIONS_KEY,
        deps=[EVENTS_KEY, PROFILES_KEY],
        group_name="activation",
        kinds={"scipy", "postgres"},
        pool=WAREHOUSE_POOL,
        automation_condition=dg.AutomationCondition.eager(),
        check_specs=[dg.AssetCheckSpec("no_bought_product_recommended", asset=RECOMMENDATIONS_KEY)],
    )
    def recommendations(warehouse: WarehouseResource, clock: RunClock):
        """`marts.recommendations`: top products (and half as many content items) per profile,
        item-to-item co-occurrence with a popularity fallback; never a product they bought. The
        model is fitted on the training cadence; in between, only the changed profiles' lists."""
        with warehouse.connection() as conn:
            figures = build_recommendations(conn, clock.now, n, settings.training_cron)
            with conn.cursor() as cur:
                cur.execute(BOUGHT_RECOMMENDED, {"as_of": clock.now})
                bought = cur.fetchone()[0]
                cur.execute("SELECT count(*) FROM marts.recommendations")
                total = cur.fetchone()[0]
        figures["rows_written"] = figures.pop("rows")
        yield dg.MaterializeResult(metadata={"dagster/row_count": total, **figures})
        yield dg.AssetCheckResult(
            check_name="no_bought_product_recommended",
            passed=bought == 0,
            description=f"{bought} recommended product(s) already bought",
        )

    @dg.asset(
        key=ACTIONS_KEY,
        deps=[RECOMMENDATIONS_KEY, PROFILES_KEY, MEMBERSHIP_KEY, PREDICTIONS_KEY],
        group_name="activation",
        kinds={"postgres"},
        pool=WAREHOUSE_POOL,
        automation_condition=dg.AutomationCondition.eager(),
    )
    def next_best_actions(warehouse: WarehouseResource, clock: RunClock):
        """`marts.next_best_actions`: one action per profile from documented rules over scores,
        segments, predictions and recommendations (docs/activation.md)."""
        with warehouse.connection() as conn:
            counts = build_next_best_actions(conn, clock.now)
        table = "| action | profiles |\n| --- | --- |\n" + "\n".join(f"| {a} | {c} |" for a, c in counts.items())
        return dg.MaterializeResult(
            metadata={"dagster/row_count": sum(counts.values()), "actions": dg.MetadataValue.md(table)}
        )

    @dg.asset(
        key=OFFERS_KEY,
        deps=[PROFILES_KEY, EVENTS_KEY],
        group_name="activation",
        kinds={"yaml", "postgres"},
        code_version=_policy_version(settings),
        pool=WAREHOUSE_POOL,
        automation_condition=dg.AutomationCondition.eager(),
        check_specs=[dg.AssetCheckSpec("offers_within_guardrails", asset=OFFERS_KEY, blocking=True)],
    )
    def price_offers(warehouse: WarehouseResource, clock: RunClock):
        """`marts.price_offers`: the WTP × price-sensitivity policy tiers with their guardrails
        (maximum discount, none after a recent full-price purchase, consent)."""
        policy = load_policy(settings.activation.pricing_policy)
        with warehouse.connection() as conn:
            figures = build_price_offers(conn, policy, clock.now)
            with conn.cursor() as cur:
                cur.execute(
                    OFFERS_OUTSIDE_GUARDRAILS,
                    {"max_discount": policy.max_discount_pct, "require_consent": policy.require_consent},
                )
                outside = cur.fetchone()[0]
        rows = sum(v for k, v in figures.items() if k.startswith("offers_"))
        yield dg.MaterializeResult(metadata={"dagster/row_count": rows, **figures})
        yield dg.AssetCheckResult(
            check_name="offers_within_guardrails",
            passed=outside == 0,
            description=f"{outside} offer(s) outside the policy's guardrails",
        )

    return [recommendations, next_best_actions, price_offers]


def build_activation_definitions(settings: Settings) -> dg.Definitions:
    """Every destination's asset, the recommendations, actions and offers (resources
    ``warehouse`` and ``clock`` come from the top-level definitions)."""
    good, bad = load_destinations_each(settings.activation.destinations_dir)
    assets = [_destination_asset(settings, d.slug, d, None) for d in good]
    assets += [_destination_asset(settings, slug, None, error) for slug, error in bad.items()]
    return dg.Definitions(assets=[*assets, *_profile_assets(settings)])
