"""The identity asset: resolve the identity graph built by dbt into ``identity.identity_map``."""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import time

import dagster as dg
from dagster import AssetExecutionContext

from audience_dagster.identity.identity_map import resolve_warehouse_identities
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, WarehouseResource


@dg.asset(
    key=["identity", "identity_map"],
    group_name="identity",
    kinds={"python", "scipy", "postgres"},
    deps=[
        dg.AssetKey(["intermediate", "int_identity_edges"]),
        dg.AssetKey(["intermediate", "int_identity_identifiers"]),
    ],
    automation_condition=dg.AutomationCondition.eager(),
    pool=WAREHOUSE_POOL,
)
def identity_map(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Which identifiers are one person, under a profile id that survives rebuilds.

    `int_identity_identifiers` / `int_identity_edges` resolved with the default `IdentityRules`
    (blocked junk values, per-type limits in time order, shared devices left unmerged) and the
    recorded manual merges / unmerges, into `identity.identity_map` (identifier → profile id),
    `identity.profiles` (every id ever issued; merged ids point at their survivor),
    `identity.profile_merges` (what merged or split in this rebuild, with the evidence) and
    `identity.dropped_edges` (every link not used, with the reason)."""
    started = time.perf_counter()
    with warehouse.connection() as conn:
        run = resolve_warehouse_identities(conn)
    frame = run.frame
    reasons = run.resolution.dropped_edges["reason"].value_counts()
    counts = run.assignment.counts
    context.log.info(
        f"{len(run.graph.edge_u)} edges, {len(frame)} identifiers -> {counts['profiles']} profiles "
        f"({counts['new_profiles']} new, {counts['merged_profiles']} merged, {counts['split_profiles']} split)"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "edges": len(run.graph.edge_u),
            **{name: int(value) for name, value in counts.items()},
            "manual_operations_applied": run.manual_operations,
            "blocked_identifiers": int(frame["blocked"].sum()),
            "shared_device_identifiers": int(frame["shared_device"].sum()),
            "seconds": round(time.perf_counter() - started, 2),
            "dropped_edges": dg.MetadataValue.md(
                "| reason | edges |\n| --- | --- |\n" + "\n".join(f"| {r} | {n} |" for r, n in reasons.items())
            ),
        }
    )
