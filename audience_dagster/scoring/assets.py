"""The scores as Dagster assets: one statement computes every score, one transaction writes them.

One multi-asset with one asset per score (engagement, WTP, lead, health, lifecycle, RFM), so each
shows its own distribution in the UI and has its own checks, while the profiles table is read
once and written once, plus the table itself (``scoring/profile_scores``, which the
``audience_profiles`` view reads): the same step materialises it, so Dagster orders the view and
its dbt tests after the scores. WTP, lead and health depend on engagement, as the spec implies;
all run again whenever the profiles change (eager automation), as of the run's clock.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import dagster as dg
import pandas as pd
from dagster import AssetExecutionContext

from audience_dagster import markdown
from audience_dagster.clock import RunClock
from audience_dagster.scoring.keys import ENGAGEMENT, HEALTH, LEAD, LIFECYCLE, PROFILE_SCORES, RFM, WTP
from audience_dagster.scoring.warehouse import run_scores
from audience_dagster.transform.keys import EVENTS_KEY, PROFILE_BASE_KEY
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, WarehouseResource

PROFILE_SCORES_SPEC = dg.AssetSpec(
    PROFILE_SCORES,
    deps=[ENGAGEMENT, WTP, LEAD, HEALTH, LIFECYCLE, RFM],
    group_name="scoring",
    kinds={"python", "postgres"},
    description="marts.profile_scores: every score per profile, replaced by the scores step at each run; "
    "the audience_profiles view reads it.",
    automation_condition=dg.AutomationCondition.eager(),
)


def _spec(key: dg.AssetKey, description: str, deps: list[dg.AssetKey]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        description=description,
        deps=[PROFILE_BASE_KEY, *deps],
        group_name="scoring",
        kinds={"python", "pandas", "postgres"},
        automation_condition=dg.AutomationCondition.eager(),
    )


SPECS = [
    _spec(ENGAGEMENT, "The spec's engagement score (recency, active days, depth), 0-100.", [EVENTS_KEY]),
    _spec(WTP, "Willingness to pay from the user-owned wtp_scoring_rules, 0-100, explained.", [ENGAGEMENT]),
    _spec(LEAD, "Sales readiness from documented signals, 0-100, explained.", [ENGAGEMENT, EVENTS_KEY]),
    _spec(HEALTH, "Relationship health vs. the person's own cadence, 0-100, explained.", [ENGAGEMENT, EVENTS_KEY]),
    _spec(LIFECYCLE, "anonymous / visitor / subscriber / customer / advocate.", [ENGAGEMENT]),
    _spec(RFM, "RFM 1-5 among customers (rank-based quintiles) and the spec's segments.", []),
    PROFILE_SCORES_SPEC,
]


HISTOGRAM_SQL = """
SELECT width_bucket({column}, 0, 100, 5) AS bucket, count(*) FROM marts.profile_scores GROUP BY 1 ORDER BY 1
"""
BUCKETS = {1: "0-19", 2: "20-39", 3: "40-59", 4: "60-79", 5: "80-99", 6: "100"}
# the spec's "WTP Distribution" query, over the scored profiles
WTP_DISTRIBUTION_SQL = """
SELECT
    CASE
        WHEN s.wtp_score >= 80 THEN 'Very High (80-100)'
        WHEN s.wtp_score >= 60 THEN 'High (60-79)'
        WHEN s.wtp_score >= 40 THEN 'Medium (40-59)'
        WHEN s.wtp_score >= 20 THEN 'Low (20-39)'
        ELSE 'Very Low (0-19)'
    END AS wtp_tier,
    count(*) AS profile_count,
    round(avg(p.total_revenue), 2) AS avg_revenue,
    count(*) FILTER (WHERE p.total_orders > 0) AS customers
FROM marts.profile_scores s JOIN marts.audience_profile_base p USING (id)
GROUP BY 1
ORDER BY min(s.wtp_score) DESC
"""
COUNTS_SQL = "SELECT {column}, count(*) FROM marts.profile_scores GROUP BY 1 ORDER BY 2 DESC"
RULES_FIRED_SQL = """
SELECT t.rule, count(*) AS profiles, sum(c.points) AS points
FROM marts.score_contributions c JOIN marts.score_terms t ON t.score_type = c.score_type AND t.rule = c.rule
WHERE c.score_type = 'wtp' GROUP BY 1 ORDER BY 2 DESC
"""


def _markdown(header: tuple[str, ...], rows: list[tuple]) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown.table(header, rows))


def _query(cur, sql: str) -> list[tuple]:
    cur.execute(sql)
    return cur.fetchall()


def _histogram(cur, column: str) -> dg.MetadataValue:
    rows = _query(cur, HISTOGRAM_SQL.format(column=column))
    return _markdown(("score", "profiles"), [(BUCKETS[b], n) for b, n in rows])


@dg.multi_asset(specs=SPECS, can_subset=False, name="scores", pool=WAREHOUSE_POOL)
def scores(context: AssetExecutionContext, warehouse: WarehouseResource, clock: RunClock):
    """Compute every score for every profile as of the run's clock in PostgreSQL (one statement
    compiled from the rules, see `audience_dagster.scoring.sql`) and replace `marts.profile_scores`,
    which the `audience_profiles` view shows in the spec's columns."""
    as_of = pd.Timestamp(clock.now)
    with warehouse.connection() as conn:
        figures = run_scores(conn, as_of)
        if figures["rules_table_created"]:
            context.log.info("created marts.wtp_scoring_rules with the spec's nine default rules")
        failed_rules = figures["rules_failed"]
        for message in failed_rules.values():  # each set aside alone; the others scored
            context.log.error(f"{message} (set aside; see marts.wtp_scoring_rules.last_error)")
        with conn.cursor() as cur:
            common = {"dagster/row_count": figures["profiles_scored"], "as_of": as_of.isoformat()}
            yield dg.MaterializeResult(
                asset_key=ENGAGEMENT,
                metadata={
                    **common,
                    **{k: round(float(v), 2) for k, v in figures.items() if k.endswith("seconds")},
                    "histogram": _histogram(cur, "engagement_score"),
                },
            )
            yield dg.MaterializeResult(
                asset_key=WTP,
                metadata={
                    **common,
                    "active_rules": figures["active_rules"],
                    "rules_failed": len(failed_rules),
                    "rules_set_aside": _markdown(("rule id", "why"), sorted(failed_rules.items())),
                    "wtp_distribution": _markdown(
                        ("wtp_tier", "profile_count", "avg_revenue", "customers"), _query(cur, WTP_DISTRIBUTION_SQL)
                    ),
                    "rules_fired": _markdown(("rule", "profiles", "points"), _query(cur, RULES_FIRED_SQL)),
                },
            )
            for key, column in ((LEAD, "lead_score"), (HEALTH, "health_score")):
                yield dg.MaterializeResult(asset_key=key, metadata={**common, "histogram": _histogram(cur, column)})
            yield dg.MaterializeResult(
                asset_key=LIFECYCLE,
                metadata={
                    **common,
                    "stages": _markdown(
                        ("stage", "profiles"), _query(cur, COUNTS_SQL.format(column="lifecycle_stage"))
                    ),
                },
            )
            segments = _query(cur, COUNTS_SQL.format(column="rfm_segment"))
            yield dg.MaterializeResult(
                asset_key=RFM,
                metadata={
                    **common,
                    "customers_scored": sum(n for segment, n in segments if segment is not None),
                    "segments": _markdown(("rfm_segment", "customers"), [r for r in segments if r[0] is not None]),
                },
            )
            yield dg.MaterializeResult(
                asset_key=PROFILE_SCORES,
                metadata={**common, "active_rules": figures["active_rules"], "seconds": round(figures["seconds"], 2)},
            )


def _range_check(key: dg.AssetKey, column: str, low: int, high: int, customers_only: bool = False):
    @dg.asset_check(asset=key, name=f"{column}_in_range", blocking=True)
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        scope = "p.total_orders > 0 AND p.last_order_at IS NOT NULL" if customers_only else "true"
        with warehouse.connection() as conn, conn.cursor() as cur:
            # every profile (every customer, for RFM) has a score, inside the range
            cur.execute(
                f"SELECT count(*) FILTER (WHERE s.{column} IS NULL),"
                f" count(*) FILTER (WHERE s.{column} < %s OR s.{column} > %s)"
                f" FROM marts.audience_profile_base p LEFT JOIN marts.profile_scores s USING (id) WHERE {scope}",
                (low, high),
            )
            missing, outside = cur.fetchone()
        return dg.AssetCheckResult(
            passed=missing == 0 and outside == 0,
            metadata={"missing": missing, "outside_range": outside, "range": f"{low}-{high}"},
        )

    return check


SCORE_CHECKS = [
    _range_check(ENGAGEMENT, "engagement_score", 0, 100),
    _range_check(WTP, "wtp_score", 0, 100),
    _range_check(LEAD, "lead_score", 0, 100),
    _range_check(HEALTH, "health_score", 0, 100),
    _range_check(RFM, "rfm_recency", 1, 5, customers_only=True),
    _range_check(RFM, "rfm_frequency", 1, 5, customers_only=True),
    _range_check(RFM, "rfm_monetary", 1, 5, customers_only=True),
]
