"""The scores as Dagster assets: one pass computes every score, one UPDATE writes them.

One multi-asset with one asset per score (engagement, WTP, lead, health, lifecycle, RFM), so each
shows its own distribution in the UI and has its own checks, while the profiles table is read
once and updated once. WTP, lead and health depend on engagement, as the spec implies; all run
again whenever `audience_profiles` changes (eager automation).
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import time

import dagster as dg
import numpy as np
import pandas as pd
from dagster import AssetExecutionContext

from audience_dagster.scoring.compute import compute_scores
from audience_dagster.scoring.warehouse import (
    ensure_rules_table,
    read_activity,
    read_profiles,
    read_rules,
    write_scores,
)
from audience_dagster.warehouse.resource import WarehouseResource

PROFILES_KEY = dg.AssetKey(["marts", "audience_profiles"])
EVENTS_KEY = dg.AssetKey(["marts", "audience_events"])
ENGAGEMENT = dg.AssetKey(["scoring", "engagement_score"])
WTP = dg.AssetKey(["scoring", "wtp_score"])
LEAD = dg.AssetKey(["scoring", "lead_score"])
HEALTH = dg.AssetKey(["scoring", "health_score"])
LIFECYCLE = dg.AssetKey(["scoring", "lifecycle_stage"])
RFM = dg.AssetKey(["scoring", "rfm"])
WTP_TIERS = (
    (80, "Very High (80-100)"),
    (60, "High (60-79)"),
    (40, "Medium (40-59)"),
    (20, "Low (20-39)"),
    (0, "Very Low (0-19)"),
)


def _spec(key: dg.AssetKey, description: str, deps: list[dg.AssetKey]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        description=description,
        deps=[PROFILES_KEY, *deps],
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
]


def _histogram(values: pd.Series, edges: list[int]) -> dg.MetadataValue:
    counts = pd.cut(values, bins=edges, right=False, include_lowest=True).value_counts(sort=False)
    rows = "\n".join(f"| {interval.left}-{interval.right - 1} | {n} |" for interval, n in counts.items())
    return dg.MetadataValue.md("| score | profiles |\n| --- | --- |\n" + rows)


def _table(counts: pd.Series, label: str) -> dg.MetadataValue:
    rows = "\n".join(f"| {k} | {v} |" for k, v in counts.items())
    return dg.MetadataValue.md(f"| {label} | profiles |\n| --- | --- |\n{rows}")


def _wtp_tiers(scores: pd.DataFrame, profiles: pd.DataFrame) -> dg.MetadataValue:
    """The spec's "WTP Distribution" query, computed from the same columns."""
    tier = np.select([scores["wtp_score"] >= low for low, _ in WTP_TIERS], [name for _, name in WTP_TIERS])
    frame = pd.DataFrame(
        {
            "tier": tier,
            "revenue": pd.to_numeric(profiles["total_revenue"]).fillna(0),
            "customer": profiles["total_orders"].fillna(0) > 0,
        }
    )
    table = frame.groupby("tier").agg(
        profiles=("tier", "size"), avg_revenue=("revenue", "mean"), customers=("customer", "sum")
    )
    rows = "\n".join(
        f"| {name} | {int(table.loc[name, 'profiles'])} | {table.loc[name, 'avg_revenue']:.2f} | "
        f"{int(table.loc[name, 'customers'])} |"
        for _, name in WTP_TIERS
        if name in table.index
    )
    return dg.MetadataValue.md(
        "| wtp_tier | profile_count | avg_revenue | customers |\n| --- | --- | --- | --- |\n" + rows
    )


@dg.multi_asset(specs=SPECS, can_subset=False, name="scores")
def scores(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Read the profiles and their event aggregates, compute every score as of now, write back."""
    as_of = pd.Timestamp.now(tz="UTC")
    started = time.perf_counter()
    with warehouse.connection() as conn:
        if ensure_rules_table(conn):
            context.log.info("created marts.wtp_scoring_rules with the spec's nine default rules")
        rules = read_rules(conn)
        profiles = read_profiles(conn, {rule.field for rule in rules})
        activity = read_activity(conn, as_of)
        read_s = time.perf_counter() - started
        computed = compute_scores(profiles, activity, rules, as_of)
        compute_s = time.perf_counter() - started - read_s
        updated = write_scores(conn, computed, as_of)
    write_s = time.perf_counter() - started - read_s - compute_s
    s = computed.columns
    why = computed.contributions
    common = {"dagster/row_count": updated, "as_of": as_of.isoformat()}
    timings = {
        "read_seconds": round(read_s, 2),
        "compute_seconds": round(compute_s, 2),
        "write_seconds": round(write_s, 2),
    }
    edges = [0, 20, 40, 60, 80, 101]
    yield dg.MaterializeResult(
        asset_key=ENGAGEMENT,
        metadata={
            **common,
            **timings,
            "mean": float(s["engagement_score"].mean()),
            "histogram": _histogram(s["engagement_score"], edges),
        },
    )
    rule_use = why[why["score_type"] == "wtp"].groupby("rule")["points"].agg(["size", "sum"])
    yield dg.MaterializeResult(
        asset_key=WTP,
        metadata={
            **common,
            "active_rules": len(rules),
            "mean": float(s["wtp_score"].mean()),
            "wtp_distribution": _wtp_tiers(s, profiles),
            "rules_fired": _table(rule_use["size"].sort_values(ascending=False), "rule"),
        },
    )
    for key, column in ((LEAD, "lead_score"), (HEALTH, "health_score")):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={**common, "mean": float(s[column].mean()), "histogram": _histogram(s[column], edges)},
        )
    yield dg.MaterializeResult(
        asset_key=LIFECYCLE, metadata={**common, "stages": _table(s["lifecycle_stage"].value_counts(), "stage")}
    )
    yield dg.MaterializeResult(
        asset_key=RFM,
        metadata={
            **common,
            "customers_scored": int(s["rfm_segment"].notna().sum()),
            "segments": _table(s["rfm_segment"].value_counts(), "rfm_segment"),
        },
    )


def _range_check(key: dg.AssetKey, column: str, low: int, high: int, customers_only: bool = False):
    @dg.asset_check(asset=key, name=f"{column}_in_range", blocking=True)
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        scope = "total_orders > 0" if customers_only else "true"
        with warehouse.connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT count(*) FILTER (WHERE {column} IS NULL),"
                f" count(*) FILTER (WHERE {column} < %s OR {column} > %s)"
                f" FROM marts.audience_profiles WHERE {scope}",
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
